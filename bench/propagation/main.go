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
	"cmp"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
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
	env     *rig.Env
	plain   *sql.DB
	db      *sql.DB
	conn    *mysqletcd.Connector
	cli     *clientv3.Client
	gate    *rig.Gate
	keys    int
	workers int
	seq     atomic.Int64
}

func main() {
	rig.RunChild()
	flags := rig.RegisterFlags()
	step := flag.Duration("step", 5*time.Second, "duration of each paced rate (the ramp's steps take 3/5 of it)")
	runs := flag.Int("runs", 3, "runs of the push-throughput comparison")
	keys := flag.Int("keys", 20000, "distinct rows written (and keys pushed per throughput run)")
	workers := flag.Int("workers", 32, "goroutines issuing the paced writes")
	pushWorkers := flag.Int("push-workers", 0, "the driver's workers option (0: its default, 4)")
	etcdProfile := flag.String("etcdprofile", "", "write a CPU profile of the etcd child during the push-throughput runs to this file")
	flag.Parse()
	if err := run(flags, *step, *runs, *keys, *workers, *pushWorkers, *etcdProfile); err != nil {
		rig.Fatal(err)
	}
}

func run(flags *rig.Flags, step time.Duration, runs, keys, workers, pushWorkers int, etcdProfile string) error {
	ctx := context.Background()
	env, err := rig.Start(ctx, flags, rig.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	b := &bench{env: env, plain: env.Plain(), gate: rig.NewGate(), keys: keys, workers: cmp.Or(pushWorkers, 4)}
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
	cfg.Workers = pushWorkers
	if b.db, b.conn, err = env.Driver(cfg); err != nil {
		return err
	}
	defer b.db.Close()

	if err := b.latency(ctx, step, workers); err != nil {
		return err
	}
	var prof sync.WaitGroup
	if etcdProfile != "" {
		prof.Go(func() {
			if err := env.EtcdProfile(ctx, 20*time.Second, etcdProfile); err != nil {
				fmt.Println("etcd profile:", err)
			}
		})
	}
	if err := b.throughput(ctx, runs); err != nil {
		return err
	}
	prof.Wait()
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
	steps          rig.Steps
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
		"target rate/s", "achieved/s", "samples", "not seen", "p50", "p99", "max", "max queued", "sustained", "keys/batch", "DB read", "CAS")
	for _, r := range results {
		st := r.steps
		t.Row(r.rate, r.achieved, r.n, r.missing, r.p50, r.p99, r.pmax, r.maxQueued, r.sustained,
			fmt.Sprintf("%.1f", float64(st.Keys)/float64(max(st.Swaps, 1))), st.DBRead/time.Duration(max(st.Swaps, 1)), st.Swap/time.Duration(max(st.Swaps, 1)))
	}
	t.Row("floor: raw etcd Put at 1000/s", floor.achieved, floor.n, floor.missing, floor.p50, floor.p99, floor.pmax, "-", "-", "-", "-", "-")
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
	rig.Note("keys/batch, DB read, CAS: per compare-and-swap, from PushTrace (DB read: fences read → rows read; CAS: rows read → swapped)")
	return nil
}

// step writes at rate for d, each write a new token on the next row, and
// times each token from its commit to its watch event.
func (b *bench) step(ctx context.Context, w *rig.Watch, rate float64, d time.Duration, workers int) (stepResult, error) {
	p := rig.NewProbe()
	steps0 := b.gate.Steps()
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
	r := stepResult{rate: rate, achieved: float64(n) / elapsed.Seconds(), n: len(lat), missing: missing, maxQueued: int(maxQueued.Load()), steps: b.gate.Steps().Sub(steps0)}
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
	var steps rig.Steps
	var drain time.Duration
	for r := range runs {
		steps0 := b.gate.Steps()
		t0 := time.Now()
		s, err := b.syncerRun(ctx)
		if err != nil {
			return err
		}
		x, err := rawTxns(ctx, b.cli, rawShape, b.keys, r)
		if err != nil {
			return err
		}
		steps = addSteps(steps, b.gate.Steps().Sub(steps0))
		drain += time.Since(t0)
		syncer, raw, ratios = append(syncer, s), append(raw, x), append(ratios, s/x)
		fmt.Printf("push run %d: syncer %s keys/s, raw %s keys/s\n", r+1, rig.Num(s), rig.Num(x))
	}
	t := rig.NewTable(fmt.Sprintf("Push throughput: a backlog of %d distinct keys (median of %d runs)", b.keys, runs),
		"pusher", "keys/s", "vs raw", "target")
	t.Row(fmt.Sprintf("mysqletcd syncer (%d workers, 60-key batches: fence read, DB read, CAS)", b.workers), rig.Median(syncer), rig.Ratio(rig.Median(ratios)), "≥0.70× "+rig.Verdict(rig.Median(ratios) >= 0.7))
	t.Row("raw etcd Txn of 60 Puts (4 workers)", rig.Median(raw), "1.00×", "")
	t.Flush()
	n := time.Duration(max(steps.Swaps, 1))
	rig.Note("syncer, all runs: %d compare-and-swaps, %.1f keys each; per CAS: DB read %s, CAS %s", steps.Swaps, float64(steps.Keys)/float64(n), rig.Dur(steps.DBRead/n), rig.Dur(steps.Swap/n))
	return b.decompose(ctx, runs)
}

// decompose times each etcd request of a push on its own, in the push's
// shape, turn about with raw Puts: where the syncer's etcd time goes.
func (b *bench) decompose(ctx context.Context, runs int) error {
	rates := make([][]float64, len(shapes))
	for r := range runs {
		for i, sh := range shapes {
			x, err := rawTxns(ctx, b.cli, sh, b.keys, r)
			if err != nil {
				return fmt.Errorf("%s: %w", sh.name, err)
			}
			rates[i] = append(rates[i], x)
		}
	}
	t := rig.NewTable(fmt.Sprintf("etcd requests of a push, each alone (60 keys a Txn, 4 goroutines, %d keys, median of %d runs)", b.keys, runs),
		"request", "keys/s", "vs raw")
	for i, sh := range shapes {
		t.Row(sh.name, rig.Median(rates[i]), rig.Ratio(rig.Median(rates[i])/rig.Median(rates[0])))
	}
	t.Flush()
	return nil
}

func addSteps(a, b rig.Steps) rig.Steps {
	return rig.Steps{Swaps: a.Swaps + b.Swaps, Keys: a.Keys + b.Keys, DBRead: a.DBRead + b.DBRead, Swap: a.Swap + b.Swap}
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

// A shape is an etcd Txn built for ids lo+1..hi, the way one push (or a
// raw writer) would build it for a batch.
type shape struct {
	name string
	txn  func(cli *clientv3.Client, ctx context.Context, lo, hi int64, run int) clientv3.Txn
}

func rawPut(id int64, run int) clientv3.Op {
	return clientv3.OpPut(rawPrefix+strconv.FormatInt(id, 10), rig.ItemJSON(id, "p"+strconv.Itoa(run)+strconv.FormatInt(id, 10), int64(run)))
}

func fence(id int64) string { return rawPrefix + "fence/" + strconv.FormatInt(id, 10) }

// always is a compare as costly as the push's fence compare that holds.
func always(key string) clientv3.Cmp {
	return clientv3.Compare(clientv3.ModRevision(key), "<", math.MaxInt64)
}

func gets(lo, hi int64) []clientv3.Op {
	ops := []clientv3.Op{clientv3.OpGet(rawPrefix+"epoch", clientv3.WithKeysOnly())}
	for id := lo + 1; id <= hi; id++ {
		ops = append(ops, clientv3.OpGet(fence(id), clientv3.WithKeysOnly()), clientv3.OpGet(rawPrefix+strconv.FormatInt(id, 10)))
	}
	return ops
}

var (
	rawShape = shape{"raw: Txn of 60 Puts", func(cli *clientv3.Client, ctx context.Context, lo, hi int64, run int) clientv3.Txn {
		var ops []clientv3.Op
		for id := lo + 1; id <= hi; id++ {
			ops = append(ops, rawPut(id, run))
		}
		return cli.Txn(ctx).Then(ops...)
	}}
	// The push's three requests, shaped alike but against keys of their own.
	shapes = []shape{
		rawShape,
		{"the push's fence read: Txn of 1+2×60 Gets", func(cli *clientv3.Client, ctx context.Context, lo, hi int64, _ int) clientv3.Txn {
			return cli.Txn(ctx).Then(gets(lo, hi)...)
		}},
		{"the push's CAS as sent: 61 compares, 60 fence + 60 data Puts, Else 121 Gets", func(cli *clientv3.Client, ctx context.Context, lo, hi int64, run int) clientv3.Txn {
			cmps := []clientv3.Cmp{always(rawPrefix + "epoch")}
			var ops []clientv3.Op
			for id := lo + 1; id <= hi; id++ {
				cmps = append(cmps, always(fence(id)))
				ops = append(ops, clientv3.OpPut(fence(id), ""), rawPut(id, run))
			}
			return cli.Txn(ctx).If(cmps...).Then(ops...).Else(gets(lo, hi)...)
		}},
		{"the same CAS without the Else branch", func(cli *clientv3.Client, ctx context.Context, lo, hi int64, run int) clientv3.Txn {
			cmps := []clientv3.Cmp{always(rawPrefix + "epoch")}
			var ops []clientv3.Op
			for id := lo + 1; id <= hi; id++ {
				cmps = append(cmps, always(fence(id)))
				ops = append(ops, clientv3.OpPut(fence(id), ""), rawPut(id, run))
			}
			return cli.Txn(ctx).If(cmps...).Then(ops...)
		}},
		{"a CAS that puts only the data keys: 61 compares, 60 Puts", func(cli *clientv3.Client, ctx context.Context, lo, hi int64, run int) clientv3.Txn {
			cmps := []clientv3.Cmp{always(rawPrefix + "epoch")}
			var ops []clientv3.Op
			for id := lo + 1; id <= hi; id++ {
				cmps = append(cmps, always(fence(id)))
				ops = append(ops, rawPut(id, run))
			}
			return cli.Txn(ctx).If(cmps...).Then(ops...)
		}},
	}
)

// rawTxns sends n keys' worth of one shape, 60 keys a Txn, from 4
// goroutines, and returns keys/s.
func rawTxns(ctx context.Context, cli *clientv3.Client, sh shape, n, run int) (float64, error) {
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
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := sh.txn(cli, tctx, lo, min(hi, int64(n)), run).Commit()
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
