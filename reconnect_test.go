package mysqletcd

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// longTestsEnv names the environment variable that turns on the tests too
// slow for make test.
const longTestsEnv = "MYSQLETCD_LONG_TESTS"

// After the whole cluster was down for a while, the driver's etcd client
// notices within about reconnectBackoff.MaxDelay that it is back. With
// gRPC's default reconnect backoff (up to 120 s) a plain client took 9 s
// after a 30 s outage and 20 s after 150 s; that one is measured beside it
// for comparison. It takes about 35 s, so it runs only with
// MYSQLETCD_LONG_TESTS=1.
func TestEtcdClientReconnectsSoonAfterALongOutage(t *testing.T) {
	if os.Getenv(longTestsEnv) == "" {
		t.Skipf("a 30 s etcd outage; set %s=1 to run it", longTestsEnv)
	}
	const outage = 30 * time.Second
	cluster := startCluster(t, 3)
	driver, err := newEtcdClient(Config{Etcd: EtcdConfig{Endpoints: cluster.Endpoints()}}.withDefaults().Etcd)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close()
	defer plain.Close()
	ctx := context.Background()
	get := func(c *clientv3.Client) error {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := c.Get(cctx, "k")
		return err
	}
	for _, c := range []*clientv3.Client{driver, plain} {
		if err := get(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := cluster.StopAll(); err != nil {
		t.Fatal(err)
	}
	// Both clients keep asking, as the syncer's workers do.
	back := make(chan struct{}) // closed when the cluster is back, at backAt
	var backAt time.Time
	took := make([]time.Duration, 2)
	var wg sync.WaitGroup
	for i, c := range []*clientv3.Client{driver, plain} {
		wg.Go(func() {
			for {
				err := get(c)
				select {
				case <-back:
					if err == nil {
						took[i] = time.Since(backAt)
						return
					}
				default:
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	time.Sleep(outage)
	if err := cluster.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	backAt = time.Now()
	close(back)
	wg.Wait()
	t.Logf("after a %v outage: the driver's client answered %v after the cluster was back, a plain client %v", outage, took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
	if limit := reconnectBackoff.MaxDelay*2 + time.Second; took[0] > limit {
		t.Errorf("the driver's client took %v to reconnect, want under %v", took[0], limit)
	}
}
