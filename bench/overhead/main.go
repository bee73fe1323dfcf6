// Command overhead measures what mysqletcd costs the app: reads, a write to
// an unmapped table, and writes to a mapped table as the app sees them
// (statement or commit latency, and throughput with 1 and 16 writers),
// through the plain mysql driver, mysqletcd, and mysqletcd with durable:
// true, on the same servers in one run.
//
// The variants take turns in rounds (mysql, mysqletcd, durable; then
// mysqletcd, durable, mysql; ...), each turn a fixed number of operations,
// so that machine noise falls on all of them alike; the tables give the
// median over the rounds of each turn's median latency, and the median of
// the per-round ratios to mysql. After each turn the driver's queue is
// flushed (untimed), so a turn does not pay for an earlier turn's pushes.
//
//	go run ./overhead [-rounds 5] [-scale 1] [-dsn ... -etcd ...]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/bench/internal/rig"
)

const (
	prefix = "/mysqletcd-bench/overhead/items/"
	rows   = 10000 // seeded rows; groups of 4 for the non-key UPDATE
	group  = 4
)

// A variant is one way of opening the database.
type variant struct {
	name string
	db   *sql.DB
	conn *mysqletcd.Connector // nil for plain mysql
	held bool                 // its pushes wait (rig.Gate): no flush
}

// A workload is one case at one concurrency.
type workload struct {
	name    string
	target  float64 // the target ratio; 0: none
	writers int
	ops     int // per turn
	prepare func(ctx context.Context, n int) error
	op      func(ctx context.Context, db *sql.DB, rng *rand.Rand) error
}

// sample is one turn of one variant.
type sample struct {
	p50, p99 time.Duration
	tput     float64
}

func main() {
	rig.RunChild()
	flags := rig.RegisterFlags()
	rounds := flag.Int("rounds", 5, "rounds of turns (the figures are medians over them)")
	scale := flag.Float64("scale", 1, "operations per turn, relative to the defaults")
	only := flag.String("only", "", "run only cases whose name contains this")
	flag.Parse()
	if err := run(flags, *rounds, *scale, *only); err != nil {
		rig.Fatal(err)
	}
}

func run(flags *rig.Flags, rounds int, scale float64, only string) error {
	ctx := context.Background()
	env, err := rig.Start(ctx, flags, rig.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	plain := env.Plain()
	defer plain.Close()
	if err := setup(ctx, env, plain); err != nil {
		return err
	}
	cfg := env.Config(rig.ItemsMapping("items", prefix))
	mem, memConn, err := env.Driver(cfg)
	if err != nil {
		return err
	}
	defer mem.Close()
	// The same driver with every push held after its fence read: the
	// statement path alone, without the pushes competing for the cores.
	gate := rig.NewGate()
	gate.Close()
	hcfg := cfg
	hcfg.Trace = gate.Trace()
	held, heldConn, err := env.Driver(hcfg)
	if err != nil {
		return err
	}
	defer held.Close()
	cfg.Durable = true
	dur, durConn, err := env.Driver(cfg)
	if err != nil {
		return err
	}
	defer dur.Close()
	variants := []variant{{"mysql", plain, nil, false}, {"mysqletcd", mem, memConn, false}, {"pushes held", held, heldConn, true}, {"durable", dur, durConn, false}}

	loads := workloads(plain, scale)
	if only != "" {
		loads = slices.DeleteFunc(loads, func(w workload) bool { return !strings.Contains(w.name, only) })
	}
	results := make([][][]sample, len(loads)) // [workload][variant][round]
	for i := range results {
		results[i] = make([][]sample, len(variants))
	}
	start := time.Now()
	for r := range rounds {
		for wi, w := range loads {
			for k := range variants {
				vi := (k + r) % len(variants) // rotate who goes first
				s, err := turn(ctx, w, variants[vi])
				if err != nil {
					return fmt.Errorf("%s, %s: %w", w.name, variants[vi].name, err)
				}
				results[wi][vi] = append(results[wi][vi], s)
			}
		}
		fmt.Printf("round %d/%d done (%s)\n", r+1, rounds, time.Since(start).Round(time.Second))
	}
	report(loads, variants, results)
	gate.Open()
	for _, v := range variants[1:] {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := v.conn.Flush(fctx)
		cancel()
		if err != nil {
			return fmt.Errorf("flush %s: %w", v.name, err)
		}
		st := v.conn.Stats()
		rig.Note("%s: %d keys captured, %d puts, %d unchanged, %d deletes, %d conflicts, %d errors, fallbacks %v",
			v.name, st.KeysCaptured, st.Puts, st.Unchanged, st.Deletes, st.Conflicts, st.Errors, st.Fallbacks)
	}
	return nil
}

func setup(ctx context.Context, env *rig.Env, plain *sql.DB) error {
	cli, err := env.Etcd()
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := rig.ClearPrefixes(ctx, cli, prefix); err != nil {
		return err
	}
	stmts := append(rig.ItemsDDL("items"), rig.ItemsDDL("plain_items")...)
	if err := rig.Exec(ctx, plain, stmts...); err != nil {
		return err
	}
	if err := rig.SeedItems(ctx, plain, "items", 1, rows+1, group); err != nil {
		return err
	}
	return rig.SeedItems(ctx, plain, "plain_items", 1, rows+1, group)
}

// turn runs one workload's operations through one variant.
func turn(ctx context.Context, w workload, v variant) (sample, error) {
	if w.prepare != nil {
		if err := w.prepare(ctx, w.ops); err != nil {
			return sample{}, err
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	lats := make([][]time.Duration, w.writers)
	errs := make([]error, w.writers)
	start := time.Now()
	for k := range w.writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(k), uint64(time.Now().UnixNano())))
			for next.Add(1) <= int64(w.ops) {
				t := time.Now()
				if err := w.op(ctx, v.db, rng); err != nil {
					errs[k] = err
					return
				}
				lats[k] = append(lats[k], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return sample{}, err
		}
	}
	if v.conn != nil && !v.held {
		fctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := v.conn.Flush(fctx)
		cancel()
		if err != nil {
			return sample{}, fmt.Errorf("flush: %w", err)
		}
	}
	all := slices.Concat(lats...)
	return sample{
		p50:  rig.Quantile(all, 0.5),
		p99:  rig.Quantile(all, 0.99),
		tput: float64(len(all)) / elapsed.Seconds(),
	}, nil
}

// Inserted ids start above the seeded ones.
const idBase = 1_000_000

var nextID atomic.Int64

func workloads(plain *sql.DB, scale float64) []workload {
	n := func(base int) int { return max(16, int(float64(base)*scale)) }
	randID := func(rng *rand.Rand) int64 { return 1 + rng.Int64N(rows) }
	pointSelect := func(ctx context.Context, db *sql.DB, rng *rand.Rand) error {
		var val string
		return db.QueryRowContext(ctx, "SELECT val FROM items WHERE id = ?", randID(rng)).Scan(&val)
	}
	rangeSelect := func(ctx context.Context, db *sql.DB, rng *rand.Rand) error {
		lo := 1 + rng.Int64N(rows-100)
		rs, err := db.QueryContext(ctx, "SELECT id, val, n FROM items WHERE id BETWEEN ? AND ?", lo, lo+99)
		if err != nil {
			return err
		}
		var it rig.Item
		k := 0
		for rs.Next() {
			if err := rs.Scan(&it.ID, &it.Val, &it.N); err != nil {
				rs.Close()
				return err
			}
			k++
		}
		if err := rs.Close(); err != nil {
			return err
		}
		if k != 100 {
			return fmt.Errorf("range read %d rows", k)
		}
		return nil
	}
	unmapped := func(ctx context.Context, db *sql.DB, rng *rand.Rand) error {
		_, err := db.ExecContext(ctx, "UPDATE plain_items SET n = n + 1 WHERE id = ?", randID(rng))
		return err
	}
	insert := func(ctx context.Context, db *sql.DB, rng *rand.Rand) error {
		id := idBase + nextID.Add(1)
		_, err := db.ExecContext(ctx, "INSERT INTO items (id, grp, val, n) VALUES (?, ?, ?, 0)", id, id/group, token(rng))
		return err
	}
	updateKey := func(ctx context.Context, db *sql.DB, rng *rand.Rand) error {
		_, err := db.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", token(rng), randID(rng))
		return err
	}
	updateWhere := func(ctx context.Context, db *sql.DB, rng *rand.Rand) error {
		_, err := db.ExecContext(ctx, "UPDATE items SET val = ? WHERE grp = ?", token(rng), rng.Int64N(rows/group))
		return err
	}
	deletes := make(chan int64, 1<<16)
	prepareDelete := func(ctx context.Context, k int) error {
		from := idBase + nextID.Add(int64(k)) - int64(k) + 1
		if err := rig.SeedItems(ctx, plain, "items", int(from), int(from)+k, group); err != nil {
			return err
		}
		for id := from; id < from+int64(k); id++ {
			deletes <- id
		}
		return nil
	}
	del := func(ctx context.Context, db *sql.DB, _ *rand.Rand) error {
		_, err := db.ExecContext(ctx, "DELETE FROM items WHERE id = ?", <-deletes)
		return err
	}
	tx5 := func(ctx context.Context, db *sql.DB, rng *rand.Rand) error {
		ids := make([]int64, 5)
		for i := range ids {
			ids[i] = randID(rng)
		}
		slices.Sort(ids) // one lock order: no deadlocks between writers
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", token(rng), id); err != nil {
				tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	}
	var out []workload
	add := func(name string, target float64, base1, base16 int, prepare func(context.Context, int) error, op func(context.Context, *sql.DB, *rand.Rand) error) {
		out = append(out,
			workload{name: name, target: target, writers: 1, ops: n(base1), prepare: prepare, op: op},
			workload{name: name, target: target, writers: 16, ops: n(base16), prepare: prepare, op: op})
	}
	add("point SELECT by PK", 1.03, 2000, 6000, nil, pointSelect)
	add("range SELECT, 100 rows", 1.03, 500, 1500, nil, rangeSelect)
	add("unmapped UPDATE by PK", 1.05, 600, 2000, nil, unmapped)
	add("mapped INSERT", 1.10, 400, 1600, nil, insert)
	add("mapped UPDATE by key", 1.10, 400, 1600, nil, updateKey)
	add("mapped UPDATE by non-key WHERE (4 rows)", 0, 300, 1000, nil, updateWhere)
	add("mapped DELETE by key", 1.10, 400, 1600, prepareDelete, del)
	add("mapped 5-statement transaction", 1.10, 120, 480, nil, tx5)
	return out
}

func token(rng *rand.Rand) string { return fmt.Sprintf("v%016x", rng.Uint64()) }

func report(loads []workload, variants []variant, results [][][]sample) {
	cols := []string{"case", "writers"}
	for i, v := range variants {
		cols = append(cols, v.name+" p50")
		if i > 0 {
			cols = append(cols, "ratio")
		}
	}
	cols = append(cols, "target", "mysqletcd")
	t := rig.NewTable("Latency as the app sees it (median over rounds of each turn's p50; ratio: median of per-round ratios to mysql)", cols...)
	for wi, w := range loads {
		base := results[wi][0]
		cells := []any{w.name, w.writers}
		var ratios []float64
		for vi := range variants {
			var p50s, rs []float64
			for r, s := range results[wi][vi] {
				p50s = append(p50s, float64(s.p50))
				rs = append(rs, float64(s.p50)/float64(base[r].p50))
			}
			cells = append(cells, time.Duration(rig.Median(p50s)))
			if vi > 0 {
				cells = append(cells, rig.Ratio(rig.Median(rs)))
				ratios = append(ratios, rig.Median(rs))
			}
		}
		if w.target > 0 {
			cells = append(cells, fmt.Sprintf("≤%.2f×", w.target), rig.Verdict(ratios[0] <= w.target))
		} else {
			cells = append(cells, "-", "-")
		}
		t.Row(cells...)
	}
	t.Flush()
	rig.Note("pushes held: mysqletcd with every push waiting (PushTrace) during the turns: the statement path alone, without the pushes' etcd and database work on the same two cores")

	cols = []string{"case", "writers"}
	for i, v := range variants {
		cols = append(cols, v.name)
		if i > 0 {
			cols = append(cols, "ratio")
		}
	}
	for _, v := range variants {
		cols = append(cols, v.name+" p99")
	}
	t = rig.NewTable("Throughput (operations/s, median over rounds; ratio: median of per-round mysql/variant, >1 is slower)", cols...)
	for wi, w := range loads {
		base := results[wi][0]
		cells := []any{w.name, w.writers}
		var p99 []any
		for vi := range variants {
			var tp, rs, tail []float64
			for r, s := range results[wi][vi] {
				tp = append(tp, s.tput)
				rs = append(rs, base[r].tput/s.tput)
				tail = append(tail, float64(s.p99))
			}
			cells = append(cells, rig.Median(tp))
			if vi > 0 {
				cells = append(cells, rig.Ratio(rig.Median(rs)))
			}
			p99 = append(p99, time.Duration(rig.Median(tail)))
		}
		t.Row(append(cells, p99...)...)
	}
	t.Flush()
}
