package testenv

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestProxyAddsLatencyAndStopsCleanly(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	e := startEtcd(t, 1)
	p, err := StartProxy(e.Endpoint(0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{p.Addr()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	putGet(t, c, "/testenv/proxy", "fast")

	const delay = 100 * time.Millisecond
	p.SetDelay(delay)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := c.Put(ctx, "/testenv/proxy", "slow"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 2*delay {
		t.Errorf("put through a %v proxy took %v, want at least %v", delay, took, 2*delay)
	} else {
		t.Logf("put through a %v proxy took %v", delay, took)
	}

	p.SetDelay(0)
	putGet(t, c, "/testenv/proxy", "fast again")
	c.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	e.Close()
	verifyNoLeaks(t, ignore, 10*time.Second)
}
