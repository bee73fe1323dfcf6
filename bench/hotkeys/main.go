// Command hotkeys runs 32 writers on 1 and on 16 rows of a mapped table,
// through the plain mysql driver and through mysqletcd as one service (one
// Connector) and as two services (two Connectors, 16 writers each, whose
// syncers contend on the same keys), and reports throughput, compare-and-
// swap retries and pushes per key, and whether etcd equals the database at
// the end. It exits 1 when it does not.
//
// Coalescing keeps at most one push per key in flight per process, and a
// key committed again meanwhile is pushed once more after it: pushes per
// key track the push round trip, not the commit rate.
//
//	go run ./hotkeys [-d 4s] [-rounds 2] [-dsn ... -etcd ...]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/bench/internal/rig"
)

const (
	prefix  = "/mysqletcd-bench/hotkeys/items/"
	writers = 32
)

// service is one app process: a handle and, through mysqletcd, its syncer.
type service struct {
	db   *sql.DB
	conn *mysqletcd.Connector
}

type variant struct {
	name     string
	services []service
}

type result struct {
	commits   int64
	tput      float64
	p50       time.Duration
	pushes    int64 // keys pushed (put, unchanged or deleted)
	conflicts int64
	attempts  int64 // compare-and-swaps tried, per the trace
	stale     int
}

func main() {
	rig.RunChild()
	flags := rig.RegisterFlags()
	d := flag.Duration("d", 4*time.Second, "duration of each turn")
	rounds := flag.Int("rounds", 2, "rounds of turns")
	flag.Parse()
	if err := run(flags, *d, *rounds); err != nil {
		rig.Fatal(err)
	}
}

// swaps counts compare-and-swaps per key through PushTrace.
type swaps struct{ n atomic.Int64 }

func (s *swaps) trace() *mysqletcd.PushTrace {
	return &mysqletcd.PushTrace{Swapped: func(keys []string, _ bool) { s.n.Add(int64(len(keys))) }}
}

func run(flags *rig.Flags, d time.Duration, rounds int) error {
	ctx := context.Background()
	env, err := rig.Start(ctx, flags, rig.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	plain := env.Plain()
	defer plain.Close()
	cli, err := env.Etcd()
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := rig.ClearPrefixes(ctx, cli, prefix); err != nil {
		return err
	}
	if err := rig.Exec(ctx, plain, rig.ItemsDDL("items")...); err != nil {
		return err
	}
	if err := rig.SeedItems(ctx, plain, "items", 1, 17, 1); err != nil {
		return err
	}
	sw := &swaps{}
	open := func() (service, error) {
		cfg := env.Config(rig.ItemsMapping("items", prefix))
		cfg.Trace = sw.trace()
		db, conn, err := env.Driver(cfg)
		return service{db, conn}, err
	}
	var svcs []service
	for range 3 {
		s, err := open()
		if err != nil {
			return err
		}
		defer s.db.Close()
		svcs = append(svcs, s)
	}
	// Every row starts in etcd, so that the compare after a turn on one key
	// holds the other fifteen too.
	if err := svcs[0].conn.Resync(ctx); err != nil {
		return err
	}
	variants := []variant{
		{"mysql", []service{{db: plain}}},
		{"mysqletcd, 1 service", svcs[:1]},
		{"mysqletcd, 2 services", svcs[1:]},
	}
	type cell struct{ keys, variant int }
	res := map[cell][]result{}
	failed := 0
	for r := range rounds {
		for _, keys := range []int{1, 16} {
			for k := range variants {
				vi := (k + r) % len(variants)
				x, err := turn(ctx, variants[vi], keys, d, sw, plain, cli)
				if err != nil {
					return err
				}
				if x.stale > 0 {
					failed++
				}
				res[cell{keys, vi}] = append(res[cell{keys, vi}], x)
				fmt.Printf("%d keys, %s: %s commits/s, %d pushes, %d conflicts, stale %d\n", keys, variants[vi].name, rig.Num(x.tput), x.pushes, x.conflicts, x.stale)
			}
		}
	}
	t := rig.NewTable(fmt.Sprintf("Hot keys: %d writers, %s per turn, median of %d rounds", writers, d, rounds),
		"keys", "variant", "commits/s", "vs mysql", "p50", "pushes/key", "pushes/commit", "pushes/key/s", "CAS tries/key", "conflicts/key", "stale keys at end")
	for _, keys := range []int{1, 16} {
		base := rig.Median(tputs(res[cell{keys, 0}]))
		for vi, v := range variants {
			rs := res[cell{keys, vi}]
			row := []any{keys, v.name, rig.Median(tputs(rs)), rig.Ratio(base / rig.Median(tputs(rs))), time.Duration(med(rs, func(x result) float64 { return float64(x.p50) }))}
			if vi == 0 {
				row = append(row, "-", "-", "-", "-", "-", "-")
			} else {
				row = append(row,
					med(rs, func(x result) float64 { return float64(x.pushes) / float64(keys) }),
					fmt.Sprintf("%.3f", med(rs, func(x result) float64 { return float64(x.pushes) / float64(x.commits) })),
					med(rs, func(x result) float64 { return float64(x.pushes) / float64(keys) / d.Seconds() }),
					med(rs, func(x result) float64 { return float64(x.attempts) / float64(keys) }),
					med(rs, func(x result) float64 { return float64(x.conflicts) / float64(keys) }),
					sum(rs, func(x result) int { return x.stale }))
			}
			t.Row(row...)
		}
	}
	t.Flush()
	rig.Note("vs mysql: mysql commits/s ÷ variant commits/s (>1 is slower). Pushes count keys pushed (put, unchanged, deleted), from Stats; CAS tries from PushTrace.Swapped; conflicts from Stats().Conflicts.")
	if failed > 0 {
		return fmt.Errorf("%w: %d turns ended with stale keys", rig.ErrNotConverged, failed)
	}
	rig.Note("convergence: etcd equals the database after every turn")
	return nil
}

func tputs(rs []result) []float64 {
	var out []float64
	for _, r := range rs {
		out = append(out, r.tput)
	}
	return out
}

func med(rs []result, f func(result) float64) float64 {
	var xs []float64
	for _, r := range rs {
		xs = append(xs, f(r))
	}
	return rig.Median(xs)
}

func sum(rs []result, f func(result) int) int {
	n := 0
	for _, r := range rs {
		n += f(r)
	}
	return n
}

// turn runs the writers for d, split evenly over the variant's services,
// then flushes and compares etcd with the database.
func turn(ctx context.Context, v variant, keys int, d time.Duration, sw *swaps, plain *sql.DB, cli *clientv3.Client) (result, error) {
	before := stats(v)
	attempts := sw.n.Load()
	var seq atomic.Int64
	n, lats, elapsed, err := rig.Closed(ctx, d, writers, func(ctx context.Context, w int, _ int64) error {
		s := v.services[w%len(v.services)]
		tok := "h" + strconv.FormatInt(seq.Add(1), 10)
		_, err := s.db.ExecContext(ctx, "UPDATE items SET val = ?, n = n + 1 WHERE id = ?", tok, 1+rand.IntN(keys))
		return err
	})
	if err != nil {
		return result{}, err
	}
	for _, s := range v.services {
		if s.conn == nil {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := s.conn.Flush(fctx)
		cancel()
		if err != nil {
			return result{}, fmt.Errorf("flush: %w", err)
		}
	}
	after := stats(v)
	r := result{
		commits:   n,
		tput:      float64(n) / elapsed.Seconds(),
		p50:       rig.Quantile(lats, 0.5),
		pushes:    after.Puts + after.Unchanged + after.Deletes - before.Puts - before.Unchanged - before.Deletes,
		conflicts: after.Conflicts - before.Conflicts,
		attempts:  sw.n.Load() - attempts,
	}
	if v.services[0].conn != nil {
		r.stale, _, err = rig.Compare(ctx, plain, cli, "items", prefix)
		if err != nil {
			return result{}, err
		}
	}
	return r, nil
}

func stats(v variant) mysqletcd.Stats {
	var t mysqletcd.Stats
	for _, s := range v.services {
		if s.conn == nil {
			continue
		}
		st := s.conn.Stats()
		t.Puts += st.Puts
		t.Unchanged += st.Unchanged
		t.Deletes += st.Deletes
		t.Conflicts += st.Conflicts
	}
	return t
}
