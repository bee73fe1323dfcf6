// Command propagation measures how long a committed write takes to reach
// an etcd watcher of the mapped prefix through mysqletcd (commit returned →
// watch event) at paced write rates: 100/s, 1000/s, and rising rates up to
// the highest one the driver sustains; and how fast the syncer pushes a
// backlog of distinct keys compared with raw batched etcd Puts of the same
// shape, in the same run on the same servers.
//
//	go run ./propagation [-step 5s] [-runs 3] [-keys 20000] [-dsn ... -etcd ...]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/bench/internal/rig"
)

const (
	prefix    = "/mysqletcd-bench/propagation/items/"
	rawPrefix = "/mysqletcd-bench/propagation/raw/"
)

type bench struct {
	env   *rig.Env
	plain *sql.DB
	db    *sql.DB
	conn  *mysqletcd.Connector
	cli   *clientv3.Client
	gate  *rig.Gate
	keys  int
	seq   atomic.Int64
}

func main() {
	rig.RunChild()
	flags := rig.RegisterFlags()
	step := flag.Duration("step", 5*time.Second, "duration of each paced rate (the ramp's steps take 3/5 of it)")
	runs := flag.Int("runs", 3, "runs of the push-throughput comparison")
	keys := flag.Int("keys", 20000, "distinct rows written (and keys pushed per throughput run)")
	workers := flag.Int("workers", 32, "goroutines issuing the paced writes")
	flag.Parse()
	if err := run(flags, *step, *runs, *keys, *workers); err != nil {
		rig.Fatal(err)
	}
}

func run(flags *rig.Flags, step time.Duration, runs, keys, workers int) error {
	ctx := context.Background()
	env, err := rig.Start(ctx, flags, rig.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	b := &bench{env: env, plain: env.Plain(), gate: rig.NewGate(), keys: keys}
	defer b.plain.Close()
	if b.cli, err = env.Etcd(); err != nil {
		return err
	}
	defer b.cli.Close()
	if err := rig.ClearPrefixes(ctx, b.cli, prefix, rawPrefix); err != nil {
		return err
	}
	if err := rig.Exec(ctx, b.plain, rig.ItemsDDL("items")...); err != nil {
		return err
	}
	if err := rig.SeedItems(ctx, b.plain, "items", 1, keys+1, 1); err != nil {
		return err
	}
	cfg := env.Config(rig.ItemsMapping("items", prefix))
	cfg.Trace = b.gate.Trace()
	if b.db, b.conn, err = env.Driver(cfg); err != nil {
		return err
	}
	defer b.db.Close()

	if err := b.latency(ctx, step, workers); err != nil {
		return err
	}
	if err := b.throughput(ctx, runs); err != nil {
		return err
	}
	stale, rows, err := rig.Compare(ctx, b.plain, b.cli, "items", prefix)
	if err != nil {
		return err
	}
	rig.Note("\nconvergence: %d of %d keys differ from their rows", stale, rows)
	if stale > 0 {
		return fmt.Errorf("%w: %d keys", rig.ErrNotConverged, stale)
	}
	return nil
}

// stepResult is one paced rate.
type stepResult struct {
	rate, achieved float64
	n, missing     int
	p50, p99, pmax time.Duration
	maxQueued      int
	sustained      bool
}

// latency runs the paced steps and prints their table.
func (b *bench) latency(ctx context.Context, step time.Duration, workers int) error {
	w, err := rig.WatchPrefix(ctx, b.cli, prefix)
	if err != nil {
		return err
	}
	defer w.Stop()
	var results []stepResult
	for _, rate := range []float64{100, 1000} {
		r, err := b.step(ctx, w, rate, step, workers)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	// The ramp: rising rates until one is not sustained.
	for _, rate := range []float64{2000, 3000, 4000, 6000, 8000, 12000, 16000, 24000} {
		r, err := b.step(ctx, w, rate, step*3/5, workers)
		if err != nil {
			return err
		}
		results = append(results, r)
		if !r.sustained {
			break
		}
	}
	best := -1
	for i, r := range results {
		if r.sustained && (best < 0 || r.achieved > results[best].achieved) {
			best = i
		}
	}
	floor, err := b.floor(ctx, 1000, step, workers)
	if err != nil {
		return err
	}
	t := rig.NewTable("Propagation: commit returned → watch event on the mapped prefix",
		"target rate/s", "achieved/s", "samples", "not seen", "p50", "p99", "max", "max queued", "sustained")
	for _, r := range results {
		t.Row(r.rate, r.achieved, r.n, r.missing, r.p50, r.p99, r.pmax, r.maxQueued, r.sustained)
	}
	t.Row("floor: raw etcd Put at 1000/s", floor.achieved, floor.n, floor.missing, floor.p50, floor.p99, floor.pmax, "-", "-")
	t.Flush()
	rig.Note("floor: Put sent → watch event for plain Puts of the same values; the push's own floor is three such round trips (fence read, DB read, CAS) after the commit")
	k := results[1]
	rig.Note("target at 1k writes/s: p50 ≤ 2ms (%s: %s), p99 ≤ 20ms (%s: %s)",
		rig.Dur(k.p50), rig.Verdict(k.p50 <= 2*time.Millisecond), rig.Dur(k.p99), rig.Verdict(k.p99 <= 20*time.Millisecond))
	if best >= 0 {
		rig.Note("max sustained rate: %s writes/s (p50 %s, p99 %s)", rig.Num(results[best].achieved), rig.Dur(results[best].p50), rig.Dur(results[best].p99))
	} else {
		rig.Note("max sustained rate: none of the rates tried")
	}
	rig.Note("sustained: achieved ≥ 95%% of the target rate, p99 ≤ 100ms, and at most 1%% of the writes not seen")
	return nil
}

// step writes at rate for d, each write a new token on the next row, and
// times each token from its commit to its watch event.
func (b *bench) step(ctx context.Context, w *rig.Watch, rate float64, d time.Duration, workers int) (stepResult, error) {
	p := rig.NewProbe()
	var maxQueued atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if q := int64(b.conn.Stats().Queued); q > maxQueued.Load() {
					maxQueued.Store(q)
				}
			}
		}
	})
	n, elapsed, err := rig.Paced(ctx, rate, d, workers, func(ctx context.Context, _ int64) error {
		s := b.seq.Add(1)
		tok := "t" + strconv.FormatInt(s, 10)
		id := s%int64(b.keys) + 1
		if _, err := b.db.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", tok, id); err != nil {
			return err
		}
		p.Committed(tok, time.Now())
		return nil
	})
	close(stop)
	sampler.Wait()
	if err != nil {
		return stepResult{}, err
	}
	if err := b.settle(ctx, p, w); err != nil {
		return stepResult{}, err
	}
	lat, missing, _ := rig.Latencies(p, w)
	r := stepResult{rate: rate, achieved: float64(n) / elapsed.Seconds(), n: len(lat), missing: missing, maxQueued: int(maxQueued.Load())}
	r.p50, r.p99, r.pmax = rig.Quantile(lat, 0.5), rig.Quantile(lat, 0.99), rig.Quantile(lat, 1)
	r.sustained = r.achieved >= 0.95*rate && r.p99 <= 100*time.Millisecond && float64(missing) <= 0.01*float64(n)
	fmt.Printf("rate %s/s: achieved %s/s, p50 %s, p99 %s\n", rig.Num(rate), rig.Num(r.achieved), rig.Dur(r.p50), rig.Dur(r.p99))
	return r, nil
}

// floor times plain etcd Puts of the same values at rate, from the moment
// each Put is sent to its watch event: what one etcd write costs a watcher
// on these servers, without the database or the protocol.
func (b *bench) floor(ctx context.Context, rate float64, d time.Duration, workers int) (stepResult, error) {
	w, err := rig.WatchPrefix(ctx, b.cli, rawPrefix)
	if err != nil {
		return stepResult{}, err
	}
	defer w.Stop()
	p := rig.NewProbe()
	n, elapsed, err := rig.Paced(ctx, rate, d, workers, func(ctx context.Context, _ int64) error {
		s := b.seq.Add(1)
		tok := "f" + strconv.FormatInt(s, 10)
		id := s%int64(b.keys) + 1
		p.Committed(tok, time.Now())
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := b.cli.Put(tctx, rawPrefix+strconv.FormatInt(id, 10), rig.ItemJSON(id, tok, s))
		return err
	})
	if err != nil {
		return stepResult{}, err
	}
	time.Sleep(300 * time.Millisecond)
	lat, missing, _ := rig.Latencies(p, w)
	r := stepResult{rate: rate, achieved: float64(n) / elapsed.Seconds(), n: len(lat), missing: missing}
	r.p50, r.p99, r.pmax = rig.Quantile(lat, 0.5), rig.Quantile(lat, 0.99), rig.Quantile(lat, 1)
	return r, nil
}

// settle flushes the driver and waits briefly for the last events.
func (b *bench) settle(ctx context.Context, p *rig.Probe, w *rig.Watch) error {
	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := b.conn.Flush(fctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// throughput compares the syncer draining a backlog of distinct keys with
// raw batched Puts of the same keys and value sizes, turn about.
func (b *bench) throughput(ctx context.Context, runs int) error {
	var syncer, raw, ratios []float64
	for r := range runs {
		s, err := b.syncerRun(ctx)
		if err != nil {
			return err
		}
		x, err := rawPuts(ctx, b.cli, b.keys, r)
		if err != nil {
			return err
		}
		syncer, raw, ratios = append(syncer, s), append(raw, x), append(ratios, s/x)
		fmt.Printf("push run %d: syncer %s keys/s, raw %s keys/s\n", r+1, rig.Num(s), rig.Num(x))
	}
	t := rig.NewTable(fmt.Sprintf("Push throughput: a backlog of %d distinct keys (median of %d runs)", b.keys, runs),
		"pusher", "keys/s", "vs raw", "target")
	t.Row("mysqletcd syncer (4 workers, 60-key batches: fence read, DB read, CAS)", rig.Median(syncer), rig.Ratio(rig.Median(ratios)), "≥0.70× "+rig.Verdict(rig.Median(ratios) >= 0.7))
	t.Row("raw etcd Txn of 60 Puts (4 workers)", rig.Median(raw), "1.00×", "")
	t.Flush()
	return nil
}

// syncerRun holds the pushes, updates every row once through the driver,
// then lets the pushes go and times the drain.
func (b *bench) syncerRun(ctx context.Context) (float64, error) {
	before := b.conn.Stats()
	b.gate.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for {
				s := next.Add(1)
				if s > int64(b.keys) {
					return
				}
				tok := "p" + strconv.FormatInt(b.seq.Add(1), 10)
				if _, err := b.db.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", tok, s); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.gate.Open()
		return 0, err
	}
	start := time.Now()
	b.gate.Open()
	fctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := b.conn.Flush(fctx); err != nil {
		return 0, fmt.Errorf("flush: %w", err)
	}
	elapsed := time.Since(start)
	after := b.conn.Stats()
	pushed := (after.Puts + after.Unchanged + after.Deletes) - (before.Puts + before.Unchanged + before.Deletes)
	return float64(pushed) / elapsed.Seconds(), nil
}

// rawPuts writes n keys in Txns of 60 Puts from 4 goroutines, with values
// of the size the mapping gives.
func rawPuts(ctx context.Context, cli *clientv3.Client, n, run int) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for {
				hi := next.Add(60)
				lo := hi - 60
				if lo >= int64(n) {
					return
				}
				ops := make([]clientv3.Op, 0, 60)
				for id := lo + 1; id <= min(hi, int64(n)); id++ {
					v := rig.ItemJSON(id, "p"+strconv.Itoa(run)+strconv.FormatInt(id, 10), int64(run))
					ops = append(ops, clientv3.OpPut(rawPrefix+strconv.FormatInt(id, 10), v))
				}
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := cli.Txn(tctx).Then(ops...).Commit()
				cancel()
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), firstErr
}
