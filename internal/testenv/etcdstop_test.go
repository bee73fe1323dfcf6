package testenv

import (
	"context"
	"testing"
	"time"
)

func TestEtcdStopAllAndStartAllKeepData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := startEtcd(t, 3)
	c := e.Client(t)
	putGet(t, c, "/testenv/before", "kept")
	start := time.Now()
	if err := e.StopAll(); err != nil {
		t.Fatal(err)
	}
	for i := range e.Members() {
		if e.Running(i) {
			t.Fatalf("member %d runs after StopAll", i)
		}
	}
	t.Logf("cluster stopped in %v", time.Since(start))
	start = time.Now()
	if err := e.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster back in %v", time.Since(start))
	resp, err := c.Get(ctx, "/testenv/before")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "kept" {
		t.Errorf("after a restart of every member, /testenv/before = %v", resp.Kvs)
	}
	putGet(t, c, "/testenv/after", "1")
}
