// Command memory measures what mysqletcd allocates per captured key and
// per pushed key (runtime.MemStats deltas; etcd runs in a child process, so
// the counts are the driver's and the bench's own), what a queued key
// holds on the heap, and the process's RSS through a long steady load.
//
// Capture: the same UPDATEs by key through the plain mysql driver and
// through mysqletcd with its pushes held (PushTrace), turn about; the
// difference per statement is the capture's cost. Push: the held keys are
// let go and drained; raw batched Puts of the same keys are the yardstick.
// Soak: paced writes (updates, inserts and deletes) for -soak, RSS sampled
// every -every; etcd must equal the database at the end (else exit 1).
//
//	go run ./memory [-n 10000] [-runs 3] [-soak 2m] [-rate 1000]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/bench/internal/rig"
)

const (
	prefix    = "/mysqletcd-bench/memory/items/"
	rawPrefix = "/mysqletcd-bench/memory/raw/"
	rows      = 20000
)

type bench struct {
	env   *rig.Env
	plain *sql.DB
	db    *sql.DB
	conn  *mysqletcd.Connector
	cli   *clientv3.Client
	gate  *rig.Gate
	seq   atomic.Int64
}

func main() {
	rig.RunChild()
	flags := rig.RegisterFlags()
	n := flag.Int("n", 10000, "keys per capture and push measurement")
	runs := flag.Int("runs", 3, "turns of the capture and push measurements")
	soak := flag.Duration("soak", 2*time.Minute, "duration of the steady load (0: skip)")
	every := flag.Duration("every", 10*time.Second, "RSS sampling interval during the soak")
	rate := flag.Float64("rate", 1000, "writes per second during the soak")
	flag.Parse()
	if err := run(flags, *n, *runs, *soak, *every, *rate); err != nil {
		rig.Fatal(err)
	}
}

func run(flags *rig.Flags, n, runs int, soak, every time.Duration, rate float64) error {
	ctx := context.Background()
	env, err := rig.Start(ctx, flags, rig.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	b := &bench{env: env, plain: env.Plain(), gate: rig.NewGate()}
	defer b.plain.Close()
	if b.cli, err = env.Etcd(); err != nil {
		return err
	}
	defer b.cli.Close()
	if err := rig.ClearPrefixes(ctx, b.cli, prefix, rawPrefix); err != nil {
		return err
	}
	if err := rig.Exec(ctx, b.plain, append(rig.ItemsDDL("items"), rig.ItemsDDL("plain_items")...)...); err != nil {
		return err
	}
	if err := rig.SeedItems(ctx, b.plain, "plain_items", 1, 101, 1); err != nil {
		return err
	}
	if err := rig.SeedItems(ctx, b.plain, "items", 1, rows+1, 1); err != nil {
		return err
	}
	cfg := env.Config(rig.ItemsMapping("items", prefix))
	cfg.Trace = b.gate.Trace()
	if b.db, b.conn, err = env.Driver(cfg); err != nil {
		return err
	}
	defer b.db.Close()
	if err := b.conn.Resync(ctx); err != nil { // every row in etcd, so the soak's check covers all
		return err
	}
	if err := b.allocs(ctx, n, runs); err != nil {
		return err
	}
	if soak > 0 {
		return b.soak(ctx, soak, every, rate)
	}
	return nil
}

// mem is a MemStats delta.
type mem struct{ bytes, allocs float64 }

func measure(f func() error) (mem, error) {
	var a, z runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	err := f()
	runtime.ReadMemStats(&z)
	return mem{float64(z.TotalAlloc - a.TotalAlloc), float64(z.Mallocs - a.Mallocs)}, err
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// updates runs n UPDATEs by key of distinct rows through db from 4
// goroutines.
func (b *bench) updates(ctx context.Context, db *sql.DB, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				tok := "m" + strconv.FormatInt(b.seq.Add(1), 10)
				if _, err := db.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", tok, (i-1)%rows+1); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// perStatement is the allocations per call of op through the plain driver
// and through mysqletcd, turn about.
func (b *bench) perStatement(ctx context.Context, n, runs int, op func(db *sql.DB, i int) error) (plain, driver mem, err error) {
	var pb, pa, db, da []float64
	for range runs {
		for k, h := range []*sql.DB{b.plain, b.db} {
			m, err := measure(func() error {
				for i := range n {
					if err := op(h, i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return mem{}, mem{}, err
			}
			if k == 0 {
				pb, pa = append(pb, m.bytes/float64(n)), append(pa, m.allocs/float64(n))
			} else {
				db, da = append(db, m.bytes/float64(n)), append(da, m.allocs/float64(n))
			}
		}
	}
	return mem{rig.Median(pb), rig.Median(pa)}, mem{rig.Median(db), rig.Median(da)}, nil
}

func (b *bench) allocs(ctx context.Context, n, runs int) error {
	read := func(db *sql.DB, i int) error {
		var v string
		return db.QueryRowContext(ctx, "SELECT val FROM items WHERE id = ?", i%rows+1).Scan(&v)
	}
	unmapped := func(db *sql.DB, i int) error {
		_, err := db.ExecContext(ctx, "UPDATE plain_items SET n = n + 1 WHERE id = ?", i%100+1)
		return err
	}
	rp, rd, err := b.perStatement(ctx, n/4, runs, read)
	if err != nil {
		return err
	}
	up, ud, err := b.perStatement(ctx, n/4, runs, unmapped)
	if err != nil {
		return err
	}
	var capB, capA, heldB, pushB, pushA, rawB, rawA, plainB, plainA []float64
	for r := range runs {
		pm, err := measure(func() error { return b.updates(ctx, b.plain, n) })
		if err != nil {
			return err
		}
		base := heapAfterGC()
		b.gate.Close()
		dm, err := measure(func() error { return b.updates(ctx, b.db, n) })
		if err != nil {
			b.gate.Open()
			return err
		}
		held := float64(int64(heapAfterGC())-int64(base)) / float64(b.conn.Stats().Queued)
		before := b.conn.Stats()
		push, err := measure(func() error {
			b.gate.Open()
			fctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			defer cancel()
			return b.conn.Flush(fctx)
		})
		if err != nil {
			return err
		}
		after := b.conn.Stats()
		pushed := float64(after.Puts + after.Unchanged + after.Deletes - before.Puts - before.Unchanged - before.Deletes)
		raw, err := measure(func() error { return b.rawPuts(ctx, n, r) })
		if err != nil {
			return err
		}
		fn := float64(n)
		plainB, plainA = append(plainB, pm.bytes/fn), append(plainA, pm.allocs/fn)
		capB, capA = append(capB, (dm.bytes-pm.bytes)/fn), append(capA, (dm.allocs-pm.allocs)/fn)
		heldB = append(heldB, held)
		pushB, pushA = append(pushB, push.bytes/pushed), append(pushA, push.allocs/pushed)
		rawB, rawA = append(rawB, raw.bytes/fn), append(rawA, raw.allocs/fn)
		fmt.Printf("run %d: capture %.0f B/key, push %.0f B/key\n", r+1, (dm.bytes-pm.bytes)/fn, push.bytes/pushed)
	}
	t := rig.NewTable(fmt.Sprintf("Allocations (runtime.MemStats deltas, %d keys per run, median of %d runs)", n, runs),
		"what", "bytes/key", "allocs/key")
	t.Row("point SELECT by PK through the plain mysql driver", rp.bytes, rp.allocs)
	t.Row("point SELECT by PK: mysqletcd minus mysql", rd.bytes-rp.bytes, rd.allocs-rp.allocs)
	t.Row("unmapped UPDATE by PK through the plain mysql driver", up.bytes, up.allocs)
	t.Row("unmapped UPDATE by PK: mysqletcd minus mysql", ud.bytes-up.bytes, ud.allocs-up.allocs)
	t.Row("UPDATE by key through the plain mysql driver (per statement)", rig.Median(plainB), rig.Median(plainA))
	t.Row("capture: mysqletcd minus mysql, per statement (one key each)", rig.Median(capB), rig.Median(capA))
	t.Row("push: syncer draining the captured keys, per key", rig.Median(pushB), rig.Median(pushA))
	t.Row("raw batched etcd Puts (Txn of 60), per key", rig.Median(rawB), rig.Median(rawA))
	t.Row("heap held per queued key (after GC)", rig.Median(heldB), "-")
	t.Flush()
	return nil
}

// rawPuts puts n keys in Txns of 60 from 4 goroutines.
func (b *bench) rawPuts(ctx context.Context, n, run int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range 4 {
		wg.Go(func() {
			for lo := next.Add(60) - 60; lo < int64(n); lo = next.Add(60) - 60 {
				ops := make([]clientv3.Op, 0, 60)
				for id := lo + 1; id <= min(lo+60, int64(n)); id++ {
					ops = append(ops, clientv3.OpPut(rawPrefix+strconv.FormatInt(id, 10), rig.ItemJSON(id, "m"+strconv.Itoa(run), int64(run))))
				}
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := b.cli.Txn(tctx).Then(ops...).Commit()
				cancel()
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// soak writes at rate for d: 70% updates by key, 15% inserts, 15%
// deletes (of rows it inserted), sampling memory every interval.
func (b *bench) soak(ctx context.Context, d, every time.Duration, rate float64) error {
	t := rig.NewTable(fmt.Sprintf("Soak: %s writes/s for %s (70%% UPDATE by key, 15%% INSERT, 15%% DELETE), 16 writers", rig.Num(rate), d),
		"elapsed", "writes", "RSS", "heap in use", "goroutines", "queued", "etcd child RSS")
	var inserted atomic.Int64
	deleted := atomic.Int64{}
	var writes atomic.Int64
	sample := func(el time.Duration) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		t.Row(el.Round(time.Second), writes.Load(), mib(rss(os.Getpid())), mib(m.HeapInuse), runtime.NumGoroutine(), b.conn.Stats().Queued, mib(rss(b.env.EtcdPID)))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	sample(0)
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample(time.Since(start))
			}
		}
	})
	_, _, err := rig.Paced(ctx, rate, d, 16, func(ctx context.Context, i int64) error {
		tok := "s" + strconv.FormatInt(b.seq.Add(1), 10)
		var err error
		switch x := rand.IntN(100); {
		case x < 15:
			id := 1_000_000 + inserted.Add(1)
			_, err = b.db.ExecContext(ctx, "INSERT INTO items (id, grp, val, n) VALUES (?, 0, ?, 0)", id, tok)
		case x < 30 && deleted.Load() < inserted.Load()-100:
			id := 1_000_000 + deleted.Add(1)
			_, err = b.db.ExecContext(ctx, "DELETE FROM items WHERE id = ?", id)
		default:
			_, err = b.db.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", tok, 1+rand.IntN(rows))
		}
		writes.Add(1)
		return err
	})
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	sample(time.Since(start))
	t.Flush()
	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := b.conn.Flush(fctx); err != nil {
		return err
	}
	stale, n, err := rig.Compare(ctx, b.plain, b.cli, "items", prefix)
	if err != nil {
		return err
	}
	rig.Note("convergence after the soak: %d of %d keys differ from their rows", stale, n)
	if stale > 0 {
		return fmt.Errorf("%w: %d keys", rig.ErrNotConverged, stale)
	}
	return nil
}

// rss is a process's resident set in bytes (Linux), 0 when unknown.
func rss(pid int) uint64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
