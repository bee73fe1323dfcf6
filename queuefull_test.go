package mysqletcd

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// With etcd down, the bounded queue neither grows nor drops a key. Writes
// to keys already queued coalesce into them; once distinct keys outnumber
// the queue, the table is marked for a resync instead ("queue-full"). When
// etcd is back, the resync and the queue bring every key in line.
func TestQueueFullCoalescesThenResyncsWithoutGrowing(t *testing.T) {
	const queueSize, batchSize, workers = 16, 4, 2
	cluster := startCluster(t, 1)
	e := newEnv(t, loadSchema, loadMapping())
	useCluster(e, cluster, cluster.Endpoints())
	db, c := e.open(func(_ *mysql.Config, cfg *Config) {
		cfg.QueueSize, cfg.BatchSize, cfg.Workers = queueSize, batchSize, workers
		cfg.Etcd.RequestTimeout = time.Second
	})
	ctx := context.Background()
	for id := 1; id <= 8; id++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO load_items (id, grp, val) VALUES (?, 0, 'a')", id); err != nil {
			t.Fatal(err)
		}
	}
	e.converged()

	// Watch the queue's length while etcd is down.
	var maxQueued int
	var watch sync.WaitGroup
	stopWatch := make(chan struct{})
	watch.Go(func() {
		for {
			maxQueued = max(maxQueued, c.Stats().Queued)
			select {
			case <-stopWatch:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	if err := cluster.StopAll(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()

	// 400 commits to 8 keys: they coalesce, the queue has room.
	for i := range 400 {
		if _, err := db.ExecContext(ctx, "UPDATE load_items SET val = ? WHERE id = ?", i, 1+i%8); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Stats().Fallbacks[reasonQueueFull]; n != 0 {
		t.Errorf("%d queue-full fallbacks for writes to 8 keys with a queue of %d: they should coalesce", n, queueSize)
	}
	// 500 distinct keys: far more than the queue holds.
	for id := 100; id < 600; id++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO load_items (id, grp, val) VALUES (?, 1, 'b')", id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM load_items WHERE id BETWEEN 100 AND 149"); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Fallbacks[reasonQueueFull] == 0 {
		t.Errorf("no queue-full fallback after 500 distinct keys with a queue of %d (stats %+v)", queueSize, st)
	}
	time.Sleep(time.Second) // etcd stays down a little longer: pushes keep failing
	if err := cluster.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	e.converged()
	converged := time.Since(back)
	close(stopWatch)
	watch.Wait()

	st = c.Stats()
	if maxQueued > queueSize {
		t.Errorf("the queue held %d keys, more than its size %d", maxQueued, queueSize)
	}
	if st.Resyncs == 0 {
		t.Errorf("no resync ran (stats %+v)", st)
	}
	t.Logf("etcd down %v: %d queue-full fallbacks, %d resyncs, at most %d keys queued (size %d); converged %v after etcd was back",
		back.Sub(down).Round(time.Millisecond), st.Fallbacks[reasonQueueFull], st.Resyncs, maxQueued, queueSize, converged.Round(time.Millisecond))
}
