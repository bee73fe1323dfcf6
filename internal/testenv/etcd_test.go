package testenv

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
)

func startEtcd(t *testing.T, members int) *Etcd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	e, err := StartEtcd(ctx, members)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd with %d member(s) ready in %v at %v", members, time.Since(start), e.Endpoints())
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

func putGet(t *testing.T, c *clientv3.Client, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, key, value); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	resp, err := c.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != value {
		t.Fatalf("get %s = %v, want %q", key, resp.Kvs, value)
	}
}

func TestEtcdSingleMember(t *testing.T) {
	e := startEtcd(t, 1)
	if got := e.Leader(); got != 0 {
		t.Errorf("Leader() = %d, want 0", got)
	}
	c := e.Client(t)
	putGet(t, c, "/testenv/a", "1")

	// Auto-compaction is what keeps a long benchmark's etcd from growing
	// without bound; make sure it is on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Status(ctx, e.Endpoint(0))
	if err != nil {
		t.Fatal(err)
	}
	if st.Header.Revision < 2 {
		t.Errorf("revision %d after a put", st.Header.Revision)
	}
}

func TestEtcdCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := startEtcd(t, 3)
	c := e.Client(t)
	putGet(t, c, "/testenv/before", "0")

	for round, down := range []struct {
		name string
		stop func(int) error
	}{
		{"killed", e.KillMember},
		{"stopped", e.StopMember},
	} {
		leader, err := e.WaitLeader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := down.stop(leader); err != nil {
			t.Fatal(err)
		}
		stopped := time.Since(start)
		if e.Running(leader) {
			t.Fatalf("member %d still running after it was %s", leader, down.name)
		}
		newLeader, err := e.WaitLeader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("leader %d %s in %v; member %d leads %v after the call", leader, down.name, stopped, newLeader, time.Since(start))
		if newLeader == leader {
			t.Fatalf("member %d %s but still leads", leader, down.name)
		}
		key, value := fmt.Sprintf("/testenv/%s", down.name), fmt.Sprint(round)
		putGet(t, c, key, value)

		start = time.Now()
		if err := e.StartMember(ctx, leader); err != nil {
			t.Fatal(err)
		}
		t.Logf("member %d rejoined in %v", leader, time.Since(start))

		// The restarted member must serve the write it missed; a
		// linearizable read through it alone proves it caught up.
		one, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint(leader)}, DialTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := one.Get(ctx, key)
		one.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != value {
			t.Errorf("restarted member %d has %v for %s", leader, resp.Kvs, key)
		}
	}
	putGet(t, c, "/testenv/after", "3")
}

func TestEtcdRejectsBadSize(t *testing.T) {
	if _, err := StartEtcd(context.Background(), 0); err == nil {
		t.Error("StartEtcd with 0 members succeeded")
	}
}

// TestEtcdNoLeaks checks that Close leaves no goroutine running. With more
// than one member, a few net/http goroutines of peer connections between the
// members outlive Close: etcd's peer listener re-arms a 5-second read
// deadline that net/http's abort of a pending read relies on, so the server
// end of a finished request can sit out that timeout (this is also why a
// member's shutdown takes a second). They end by themselves, so the check
// waits for them rather than ignoring them.
func TestEtcdNoLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	defer verifyNoLeaks(t, ignore, 10*time.Second)
	for _, n := range []int{1, 3} {
		e, err := StartEtcd(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.NewClient()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := c.Put(ctx, "k", fmt.Sprint(n)); err != nil {
			t.Error(err)
		}
		cancel()
		c.Close()
		root := e.root.path
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(root); !os.IsNotExist(err) {
			t.Errorf("etcd dir %s still there after Close: %v", root, err)
		}
	}
}

// verifyNoLeaks fails t if goroutines not matched by ignore are still running
// after within.
func verifyNoLeaks(t *testing.T, ignore goleak.Option, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		err := goleak.Find(ignore)
		if err == nil {
			t.Logf("all goroutines ended %v after the check began", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > within {
			t.Fatalf("goroutines still running after %v: %v", within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
