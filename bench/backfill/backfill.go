package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/mysqletcd/mysqletcd"
)

const (
	itemsKey       = "/bench/items/{id}"
	fencePrefix    = "/bench/_fence" // the library's fences and epoch
	fencePrefixRaw = "/bench/_fenc2" // as long as fencePrefix
)

// benchConfig is the driver config of the benchmark: one mapping, keys and
// fences under /bench/ so that clearing that prefix empties the etcd of
// everything the program wrote.
func benchConfig(endpoints []string, workers, batch int, timeout time.Duration) mysqletcd.Config {
	return mysqletcd.Config{
		Etcd:        mysqletcd.EtcdConfig{Endpoints: endpoints, RequestTimeout: timeout},
		Tables:      []mysqletcd.Mapping{{Table: "items", Key: itemsKey, Value: mysqletcd.JSONValue}},
		FencePrefix: fencePrefix,
		Workers:     workers,
		BatchSize:   batch,
	}
}

// backfillResult is one run of the reconciler on an empty etcd, then of its
// dry run.
type backfillResult struct {
	fill, verify phase
	steps        steps
	pushes       *pushTimes
	stats        mysqletcd.Stats
}

// backfill opens a fresh Connector, reconciles the empty etcd from the
// table, then verifies with a dry run that nothing differs. profile and
// etcdProfile, when set, are where the CPU profiles of this process and of
// etcd during the backfill go.
func (b *bench) backfill(ctx context.Context, profile, etcdProfile string) (backfillResult, error) {
	res := backfillResult{pushes: &pushTimes{}}
	cfg := benchConfig(b.srv.Etcd, b.workers, b.batch, b.timeout)
	cfg.Trace = res.pushes.trace()
	conn, err := b.connector(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	// A push whose compare-and-swap timed out but was applied finds its
	// keys right when it retries: they count as unchanged, not put.
	pushed := func() int64 { st := conn.Stats(); return st.Puts + st.Unchanged }
	res.steps.pushed = pushed
	opts := mysqletcd.ReconcileOptions{Progress: res.steps.progress}
	var rep *mysqletcd.ReconcileReport
	res.fill, err = b.meter.measure("backfill", "backfill", b.rows, pushed, func() error {
		stopProfiles, err := b.startProfiles(profile, etcdProfile)
		if err != nil {
			return err
		}
		rep, err = conn.Reconcile(ctx, opts)
		return errors.Join(err, stopProfiles())
	})
	if err != nil {
		return res, err
	}
	res.stats = conn.Stats()
	if m := rep.Mappings[0]; m.Put != b.rows || m.Missing != b.rows {
		return res, fmt.Errorf("backfill put %d keys (%d missing) of %d rows", m.Put, m.Missing, b.rows)
	}
	var check *mysqletcd.ReconcileReport
	res.verify, err = b.meter.measure("verify (dry run)", "verify", b.rows, nil, func() error {
		check, err = conn.Reconcile(ctx, mysqletcd.ReconcileOptions{DryRun: true})
		return err
	})
	if err != nil {
		return res, err
	}
	if d := check.Drift(); d != 0 {
		return res, fmt.Errorf("verify after the backfill: %d keys differ, e.g. %v", d, check.Mappings[0].Samples)
	}
	return res, nil
}

// connector opens a Connector on the benchmark's database and binds it to
// the schema, so that the timed part starts with the syncer running. It
// also checks that the raw writers' values are the mapping's, byte for byte.
func (b *bench) connector(ctx context.Context, cfg mysqletcd.Config) (*mysqletcd.Connector, error) {
	mc, err := mysql.ParseDSN(b.srv.DSN)
	if err != nil {
		return nil, err
	}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, err
	}
	conn, err := mysqletcd.NewConnector(inner, cfg)
	if err != nil {
		return nil, err
	}
	checks, err := conn.Check(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if got, want := checks[0].SampleValue, makeItem(1).value(); !bytes.Equal(got, want) {
		conn.Close()
		return nil, fmt.Errorf("the mapping renders row 1 as %s, the raw writers as %s", got, want)
	}
	return conn, nil
}

// startProfiles starts the CPU profiles of this process and of the -serve
// child, each when its path is set.
func (b *bench) startProfiles(path, etcdPath string) (stop func() error, err error) {
	stopSelf, err := startProfile(path)
	if err != nil {
		return nil, err
	}
	if etcdPath == "" {
		return func() error { stopSelf(); return nil }, nil
	}
	abs, err := filepath.Abs(etcdPath)
	if err == nil {
		_, err = b.srv.command("profile " + abs)
	}
	if err != nil {
		stopSelf()
		return nil, fmt.Errorf("profile etcd: %w", err)
	}
	return func() error {
		stopSelf()
		_, err := b.srv.command("stop")
		return err
	}, nil
}

func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// steps records when a Reconcile run last reported a page of its table
// scan and of its key scan, and how many keys had been pushed when the
// table scan ended; the run returns once every push has landed.
type steps struct {
	pushed            func() int64
	start, rows, keys time.Time
	rowsPushed        int64
}

// scanRate is keys pushed per second until the table scan ended, before the
// key scan began.
func (s *steps) scanRate() float64 {
	if s.rows.IsZero() {
		return 0
	}
	return float64(s.rowsPushed) / s.rows.Sub(s.start).Seconds()
}

func (s *steps) progress(p mysqletcd.ReconcileProgress) {
	now := time.Now()
	if s.start.IsZero() {
		s.start = now.Add(-p.Elapsed)
	}
	switch p.Phase {
	case "rows":
		s.rows = now
		s.rowsPushed = s.pushed()
	case "keys":
		s.keys = now
	}
}

// pushTimes adds up, through the PushTrace hooks, how long the pushes
// spent reading rows from the database and in their compare-and-swap Txn.
type pushTimes struct {
	mu        sync.Mutex
	since     map[*string]time.Time // by the push's key slice
	dbRead    time.Duration
	swap      time.Duration
	pushes    int64
	conflicts int64
}

func (t *pushTimes) trace() *mysqletcd.PushTrace {
	t.since = map[*string]time.Time{}
	mark := func(keys []string, f func(time.Duration)) {
		now := time.Now()
		t.mu.Lock()
		defer t.mu.Unlock()
		if start, ok := t.since[&keys[0]]; ok {
			f(now.Sub(start))
		}
		t.since[&keys[0]] = now
	}
	return &mysqletcd.PushTrace{
		FencesRead: func(keys []string) { mark(keys, func(time.Duration) {}) },
		RowsRead:   func(keys []string) { mark(keys, func(d time.Duration) { t.dbRead += d }) },
		Swapped: func(keys []string, ok bool) {
			mark(keys, func(d time.Duration) {
				t.swap += d
				t.pushes++
				if !ok {
					t.conflicts++
				}
			})
			t.mu.Lock()
			delete(t.since, &keys[0])
			t.mu.Unlock()
		},
	}
}
