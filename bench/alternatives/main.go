// Command alternatives runs the same workloads, in the same run on the same
// servers, through mysqletcd and through the alternatives it replaces:
//
//   - naive: the seed algorithm written here (per key, per commit: an etcd
//     Get for the revision, a DB read, a Txn If ModRevision == rev Then Put,
//     else again), driven synchronously by the writers after each commit;
//     compared on push throughput under load and on draining a backlog.
//   - dual write: read the row back after the write, Put it; many writers
//     on few rows; compared on stale keys at the end.
//   - binlog CDC: a canal (go-mysql-org/go-mysql) following the row binlog
//     and putting each transaction's rows; compared on propagation latency
//     (commit → watch event, the same writes watched under both prefixes)
//     and on how fast a burst of writes becomes visible.
//
// The private MariaDB runs with log-bin, binlog_format=ROW and a server-id
// (testenv.WithBinlog) for all of them. It exits 1 if mysqletcd's keys end
// stale (the alternatives' stale keys are reported, not failures).
//
//	go run ./alternatives [-d 4s] [-runs 3] [-dsn ... -etcd ...]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
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
	base        = "/mysqletcd-bench/alternatives/"
	driverPfx   = base + "driver/"
	naivePfx    = base + "naive/"
	hotPfx      = base + "hot/"
	dualPfx     = base + "dual/"
	cdcPfx      = base + "cdc/"
	keys        = 20000 // rows of the load tables
	backlog     = 6000  // keys of the drain comparison
	hotRows     = 4
	writers     = 16
	rowsPerTx   = 20 // rows per upsert in the load
	pushWorkers = 4  // the syncer's default
)

type bench struct {
	env   *rig.Env
	plain *sql.DB
	db    *sql.DB
	conn  *mysqletcd.Connector
	cli   *clientv3.Client
	gate  *rig.Gate
	seq   atomic.Int64
	bad   int // mysqletcd keys stale at a check
}

func main() {
	rig.RunChild()
	flags := rig.RegisterFlags()
	d := flag.Duration("d", 4*time.Second, "duration of each load turn")
	runs := flag.Int("runs", 3, "turns of each comparison (the figures are medians)")
	flag.Parse()
	if err := run(flags, *d, *runs); err != nil {
		rig.Fatal(err)
	}
}

func run(flags *rig.Flags, d time.Duration, runs int) error {
	ctx := context.Background()
	env, err := rig.Start(ctx, flags, rig.Options{Binlog: true})
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
	if err := rig.ClearPrefixes(ctx, b.cli, base); err != nil {
		return err
	}
	var ddl []string
	for _, t := range []string{"items", "naive_items", "hot_items", "dual_items"} {
		ddl = append(ddl, rig.ItemsDDL(t)...)
	}
	if err := rig.Exec(ctx, b.plain, ddl...); err != nil {
		return err
	}
	for _, t := range []string{"items", "naive_items"} {
		if err := rig.SeedItems(ctx, b.plain, t, 1, keys+1, 1); err != nil {
			return err
		}
	}
	for _, t := range []string{"hot_items", "dual_items"} {
		if err := rig.SeedItems(ctx, b.plain, t, 1, hotRows+1, 1); err != nil {
			return err
		}
	}
	cfg := env.Config(rig.ItemsMapping("items", driverPfx), rig.ItemsMapping("hot_items", hotPfx))
	cfg.Trace = b.gate.Trace()
	if b.db, b.conn, err = env.Driver(cfg); err != nil {
		return err
	}
	defer b.db.Close()

	if err := b.naive(ctx, d, runs); err != nil {
		return err
	}
	if err := b.dual(ctx, runs); err != nil {
		return err
	}
	if err := b.binlog(ctx, d); err != nil {
		return err
	}
	if b.bad > 0 {
		return fmt.Errorf("%w: %d mysqletcd keys stale", rig.ErrNotConverged, b.bad)
	}
	rig.Note("\nconvergence: mysqletcd's keys equal the database at every check")
	return nil
}

// upsert writes rowsPerTx consecutive rows (from the next in the cycle)
// in one statement and returns their ids.
func (b *bench) upsert(ctx context.Context, db *sql.DB, table string) ([]int64, error) {
	first := (b.seq.Add(rowsPerTx) - rowsPerTx) % keys
	var q strings.Builder
	q.WriteString("INSERT INTO " + table + " (id, grp, val, n) VALUES ")
	args := make([]any, 0, 2*rowsPerTx)
	ids := make([]int64, 0, rowsPerTx)
	for i := range int64(rowsPerTx) {
		id := (first+i)%keys + 1
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?, 0, ?, 0)")
		args = append(args, id, "u"+strconv.FormatInt(b.seq.Load(), 10))
		ids = append(ids, id)
	}
	q.WriteString(" ON DUPLICATE KEY UPDATE val = VALUES(val), n = n + 1")
	_, err := db.ExecContext(ctx, q.String(), args...)
	return ids, err
}

// naive compares push throughput with the seed algorithm: under load (the
// writers push synchronously after each commit; mysqletcd's writers only
// commit, and the figure includes draining what is queued when they stop),
// and draining a backlog with the same number of pushers.
func (b *bench) naive(ctx context.Context, d time.Duration, runs int) error {
	var loadM, loadN, drainM, drainN, commitM, commitN []float64
	for r := range runs {
		m, cm, err := b.loadDriver(ctx, d)
		if err != nil {
			return err
		}
		n, cn, err := b.loadNaive(ctx, d)
		if err != nil {
			return err
		}
		dm, err := b.drainDriver(ctx)
		if err != nil {
			return err
		}
		dn, err := b.drainNaive(ctx)
		if err != nil {
			return err
		}
		loadM, loadN, drainM, drainN = append(loadM, m), append(loadN, n), append(drainM, dm), append(drainN, dn)
		commitM, commitN = append(commitM, cm), append(commitN, cn)
		fmt.Printf("naive run %d: under load mysqletcd %s keys/s, naive %s; backlog mysqletcd %s keys/s, naive %s\n",
			r+1, rig.Num(m), rig.Num(n), rig.Num(dm), rig.Num(dn))
	}
	if err := b.check(ctx, "items", driverPfx); err != nil {
		return err
	}
	t := rig.NewTable(fmt.Sprintf("(a) Push throughput vs the naive seed algorithm (keys made visible per second, median of %d runs)", runs),
		"workload", "mysqletcd", "naive", "ratio", "target")
	ratio := rig.Median(loadM) / rig.Median(loadN)
	t.Row(fmt.Sprintf("under load: %d writers, %d-row upserts for %s (commits/s: %s vs %s)", writers, rowsPerTx, d, rig.Num(rig.Median(commitM)), rig.Num(rig.Median(commitN))),
		rig.Median(loadM), rig.Median(loadN), rig.Ratio(ratio), "≥5× "+rig.Verdict(ratio >= 5))
	ratio = rig.Median(drainM) / rig.Median(drainN)
	t.Row(fmt.Sprintf("backlog of %d distinct keys, %d pushers each", backlog, pushWorkers), rig.Median(drainM), rig.Median(drainN), rig.Ratio(ratio), "≥5× "+rig.Verdict(ratio >= 5))
	t.Flush()
	return nil
}

func (b *bench) loadDriver(ctx context.Context, d time.Duration) (keysPerSec, commitsPerSec float64, err error) {
	before := pushed(b.conn.Stats())
	start := time.Now()
	n, _, elapsed, err := rig.Closed(ctx, d, writers, func(ctx context.Context, _ int, _ int64) error {
		_, err := b.upsert(ctx, b.db, "items")
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if err := b.flush(ctx); err != nil {
		return 0, 0, err
	}
	total := time.Since(start)
	return float64(pushed(b.conn.Stats())-before) / total.Seconds(), float64(n) / elapsed.Seconds(), nil
}

func (b *bench) loadNaive(ctx context.Context, d time.Duration) (keysPerSec, commitsPerSec float64, err error) {
	var pushes atomic.Int64
	n, _, elapsed, err := rig.Closed(ctx, d, writers, func(ctx context.Context, _ int, _ int64) error {
		ids, err := b.upsert(ctx, b.plain, "naive_items")
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := naivePush(ctx, b.cli, b.plain, "naive_items", naivePfx, id); err != nil {
				return err
			}
			pushes.Add(1)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return float64(pushes.Load()) / elapsed.Seconds(), float64(n) / elapsed.Seconds(), nil
}

// drainDriver holds the pushes, writes every row once, and times the drain.
func (b *bench) drainDriver(ctx context.Context) (float64, error) {
	b.seq.Store(0) // rows 1..backlog
	b.gate.Close()
	for range backlog / rowsPerTx {
		if _, err := b.upsert(ctx, b.db, "items"); err != nil {
			b.gate.Open()
			return 0, err
		}
	}
	before := pushed(b.conn.Stats())
	start := time.Now()
	b.gate.Open()
	if err := b.flush(ctx); err != nil {
		return 0, err
	}
	return float64(pushed(b.conn.Stats())-before) / time.Since(start).Seconds(), nil
}

// drainNaive writes every row once, then pushes every key with pushWorkers
// goroutines.
func (b *bench) drainNaive(ctx context.Context) (float64, error) {
	b.seq.Store(0) // the same rows as the driver's backlog, in the naive table
	for range backlog / rowsPerTx {
		if _, err := b.upsert(ctx, b.plain, "naive_items"); err != nil {
			return 0, err
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, pushWorkers)
	start := time.Now()
	for w := range pushWorkers {
		wg.Go(func() {
			for id := next.Add(1); id <= backlog; id = next.Add(1) {
				if _, err := naivePush(ctx, b.cli, b.plain, "naive_items", naivePfx, id); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return float64(backlog) / time.Since(start).Seconds(), nil
}

// dual runs many writers on few rows: the dual write (write, read back,
// Put) and mysqletcd, and counts keys left stale.
func (b *bench) dual(ctx context.Context, runs int) error {
	rounds := 5 * runs
	staleDual, staleDriver := 0, 0
	var tputDual, tputDriver []float64
	for r := range rounds {
		n, _, el, err := rig.Closed(ctx, time.Second, 2*writers, func(ctx context.Context, _ int, i int64) error {
			id := i%hotRows + 1
			tok := "d" + strconv.FormatInt(b.seq.Add(1), 10)
			if _, err := b.plain.ExecContext(ctx, "UPDATE dual_items SET val = ?, n = n + 1 WHERE id = ?", tok, id); err != nil {
				return err
			}
			return dualWrite(ctx, b.cli, b.plain, "dual_items", dualPfx, id)
		})
		if err != nil {
			return err
		}
		tputDual = append(tputDual, float64(n)/el.Seconds())
		s, _, err := rig.Compare(ctx, b.plain, b.cli, "dual_items", dualPfx)
		if err != nil {
			return err
		}
		staleDual += s
		n, _, el, err = rig.Closed(ctx, time.Second, 2*writers, func(ctx context.Context, _ int, i int64) error {
			tok := "d" + strconv.FormatInt(b.seq.Add(1), 10)
			_, err := b.db.ExecContext(ctx, "UPDATE hot_items SET val = ?, n = n + 1 WHERE id = ?", tok, i%hotRows+1)
			return err
		})
		if err != nil {
			return err
		}
		tputDriver = append(tputDriver, float64(n)/el.Seconds())
		if err := b.flush(ctx); err != nil {
			return err
		}
		before := b.bad
		if err := b.check(ctx, "hot_items", hotPfx); err != nil {
			return err
		}
		staleDriver += b.bad - before
		fmt.Printf("dual round %d: stale dual %d, mysqletcd %d\n", r+1, s, b.bad-before)
	}
	t := rig.NewTable(fmt.Sprintf("(b) Dual write (write, read back, Put) vs mysqletcd: %d writers on %d rows, %d rounds of 1s", 2*writers, hotRows, rounds),
		"variant", "writes/s (median)", "stale keys at round ends", "of")
	t.Row("dual write", rig.Median(tputDual), staleDual, rounds*hotRows)
	t.Row("mysqletcd", rig.Median(tputDriver), staleDriver, rounds*hotRows)
	t.Flush()
	return nil
}

// binlog compares mysqletcd with the binlog CDC pusher on the same writes.
func (b *bench) binlog(ctx context.Context, d time.Duration) error {
	h, err := startCDC(b.env.DSN, b.cli, "items", cdcPfx)
	if err != nil {
		return err
	}
	defer h.close()
	wDriver, err := rig.WatchPrefix(ctx, b.cli, driverPfx)
	if err != nil {
		return err
	}
	defer wDriver.Stop()
	wCDC, err := rig.WatchPrefix(ctx, b.cli, cdcPfx)
	if err != nil {
		return err
	}
	defer wCDC.Stop()
	t := rig.NewTable("(c) Binlog CDC (canal) vs mysqletcd: commit returned → watch event, the same writes (UPDATE by key through mysqletcd)",
		"rate/s", "pusher", "samples", "not seen", "p50", "p99", "max")
	var p50 [2]time.Duration
	for _, rate := range []float64{100, 1000} {
		p := rig.NewProbe()
		_, _, err := rig.Paced(ctx, rate, d, 32, func(ctx context.Context, _ int64) error {
			s := b.seq.Add(1)
			tok := "c" + strconv.FormatInt(s, 10)
			if _, err := b.db.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", tok, s%keys+1); err != nil {
				return err
			}
			p.Committed(tok, time.Now())
			return nil
		})
		if err != nil {
			return err
		}
		if err := b.flush(ctx); err != nil {
			return err
		}
		if err := waitSeen(ctx, h, p, wCDC); err != nil {
			return err
		}
		for i, w := range []*rig.Watch{wDriver, wCDC} {
			lat, missing, _ := rig.Latencies(p, w)
			q50 := rig.Quantile(lat, 0.5)
			t.Row(rate, []string{"mysqletcd", "binlog CDC"}[i], len(lat), missing, q50, rig.Quantile(lat, 0.99), rig.Quantile(lat, 1))
			if rate == 1000 {
				p50[i] = q50
			}
		}
	}
	t.Flush()
	rig.Note("target: mysqletcd p50 below binlog CDC's at 1000/s (%s vs %s): %s", rig.Dur(p50[0]), rig.Dur(p50[1]), rig.Verdict(p50[0] < p50[1]))

	// A burst: every row once, in upserts of rowsPerTx rows from 16
	// writers; how soon is all of it visible under each prefix?
	p := rig.NewProbe()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for lo := next.Add(rowsPerTx) - rowsPerTx; lo < keys; lo = next.Add(rowsPerTx) - rowsPerTx {
				tok := "burst" + strconv.FormatInt(lo, 10) + "."
				var q strings.Builder
				q.WriteString("INSERT INTO items (id, grp, val, n) VALUES ")
				for i := range int64(rowsPerTx) {
					if i > 0 {
						q.WriteByte(',')
					}
					fmt.Fprintf(&q, "(%d, 0, '%s%d', 0)", lo+i+1, tok, i)
				}
				q.WriteString(" ON DUPLICATE KEY UPDATE val = VALUES(val), n = n + 1")
				if _, err := b.db.ExecContext(ctx, q.String()); err != nil {
					errs[w] = err
					return
				}
				for i := range int64(rowsPerTx) {
					p.Committed(tok+strconv.FormatInt(i, 10), start) // latency = time since the burst began
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
	writeTime := time.Since(start)
	if err := b.flush(ctx); err != nil {
		return err
	}
	if err := waitSeen(ctx, h, p, wCDC); err != nil {
		return err
	}
	t = rig.NewTable(fmt.Sprintf("(c) Burst: %d rows in %d-row upserts from %d writers (written in %s); time until all are visible", keys, rowsPerTx, writers, rig.Dur(writeTime)),
		"pusher", "visible", "all visible after", "keys/s")
	for i, w := range []*rig.Watch{wDriver, wCDC} {
		lat, missing, _ := rig.Latencies(p, w)
		last := rig.Quantile(lat, 1)
		t.Row([]string{"mysqletcd", "binlog CDC"}[i], fmt.Sprintf("%d/%d", len(lat), len(lat)+missing), last, float64(len(lat))/last.Seconds())
	}
	t.Flush()
	if err := h.Err(); err != nil {
		rig.Note("binlog CDC error: %v", err)
	}
	stale, _, err := rig.Compare(ctx, b.plain, b.cli, "items", cdcPfx)
	if err != nil {
		return err
	}
	rig.Note("binlog CDC: %d transactions, %d row images, %d etcd Txns; keys differing from their rows: %d",
		h.txns.Load(), h.rows.Load(), h.puts.Load(), stale)
	return b.check(ctx, "items", driverPfx)
}

// waitSeen waits (up to 30s) until the CDC has caught up with every token
// of p, or its error.
func waitSeen(ctx context.Context, h *cdc, p *rig.Probe, w *rig.Watch) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if h.Err() != nil {
			return nil
		}
		if _, missing, _ := rig.Latencies(p, w); missing == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func (b *bench) flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := b.conn.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// check counts mysqletcd's stale keys of a table.
func (b *bench) check(ctx context.Context, table, prefix string) error {
	stale, _, err := rig.Compare(ctx, b.plain, b.cli, table, prefix)
	if err != nil {
		return err
	}
	b.bad += stale
	return nil
}

func pushed(s mysqletcd.Stats) int64 { return s.Puts + s.Unchanged + s.Deletes }
