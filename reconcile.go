package mysqletcd

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ReconcileOptions tune a Connector.Reconcile run. The zero value
// reconciles every mapping, fixes what differs, collects fences older than
// ten minutes and does not limit its rate.
type ReconcileOptions struct {
	// Tables limits the run to the mappings of these tables, named as in
	// the config ("users" or "app.users"). Empty: every mapping.
	Tables []string
	// DryRun reports the drift and writes nothing to etcd.
	DryRun bool
	// RowsPerSecond caps the table scan so that a backfill does not starve
	// the database. 0: no cap.
	RowsPerSecond float64
	// Samples is how many differing keys each mapping's report lists.
	// 0: 10.
	Samples int
	// FenceGrace is how long a fence of an absent key must have gone
	// unchanged before the run collects it. 0: 10 minutes; negative: no
	// collection. A run learns a revision's age from a mark an earlier run
	// left, so the first run on a cluster collects nothing.
	FenceGrace time.Duration
	// Progress, when set, is called after every page of rows or keys.
	Progress func(ReconcileProgress)
}

// ReconcileProgress is how far a Reconcile run has got in one mapping.
type ReconcileProgress struct {
	Table     string // "schema.table"
	Key       string // the mapping's key template
	Phase     string // "rows", then "keys", then "fences"
	Rows      int64  // rows scanned so far
	RowsTotal int64  // rows in the table when the scan began
	Keys      int64  // etcd keys scanned so far
	Elapsed   time.Duration
}

// ReconcileReport is what a Reconcile run found and did.
type ReconcileReport struct {
	Mappings []MappingReport
	DryRun   bool
	Elapsed  time.Duration
}

// Drift is the number of keys that differed from the database, over every
// mapping.
func (r *ReconcileReport) Drift() int64 {
	var n int64
	for _, m := range r.Mappings {
		n += m.Drift()
	}
	return n
}

// MappingReport is one mapping's part of a ReconcileReport. Put and
// Deleted count the keys handed to the push pipeline; a push re-reads the
// row, so a concurrent write can make it write something else or nothing.
type MappingReport struct {
	Table string // "schema.table"
	Key   string // the mapping's key template

	RowsScanned int64 // rows of the table read
	KeysScanned int64 // keys of the mapping found in etcd

	Missing int64 // rows whose key is absent from etcd
	Stale   int64 // keys whose value differs from the row's
	Orphans int64 // keys with no row, or whose row the where: filter excludes

	Put       int64 // keys written (Missing + Stale), 0 in a dry run
	Deleted   int64 // keys deleted (Orphans), 0 in a dry run
	Unchanged int64 // keys that were already right

	FencesCollected int64 // fences of absent keys removed

	Samples []Drift // the first differing keys
}

// Drift is the number of the mapping's keys that differed.
func (m MappingReport) Drift() int64 { return m.Missing + m.Stale + m.Orphans }

// Drift is one key that differed from the database.
type Drift struct {
	Key  string
	Kind DriftKind
}

// DriftKind says how a key differed.
type DriftKind string

// The kinds of drift.
const (
	DriftMissing DriftKind = "missing" // the row exists, its key does not
	DriftStale   DriftKind = "stale"   // the key holds another value than the row gives
	DriftOrphan  DriftKind = "orphan"  // the key exists, no matching row does
)

// Reconcile compares the mapped tables with etcd and pushes every
// difference — missing, stale and orphan keys — through the same fenced
// compare-and-swap as live writes, so it is safe beside live writers in any
// number of processes. It pages through each table by its unique key and
// through each key prefix with bounded memory, then collects old fences of
// absent keys. It returns when the differences it found have been pushed.
// With DryRun it only reports.
func (c *Connector) Reconcile(ctx context.Context, opts ReconcileOptions) (*ReconcileReport, error) {
	st, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	return st.sync.reconcile(ctx, opts, true)
}

// reconcile runs the passes; wait says to wait for the pushes they queued.
func (s *syncer) reconcile(ctx context.Context, opts ReconcileOptions, wait bool) (*ReconcileReport, error) {
	if !s.awaitEtcd(ctx) {
		return nil, fmt.Errorf("mysqletcd: reconcile: waiting to connect to etcd: %w", ctx.Err())
	}
	if s.reloadSchema != nil {
		s.reloadSchema(ctx) // DDL made behind the driver's back
	}
	maps, err := s.selectMappings(opts.Tables)
	if err != nil {
		return nil, err
	}
	if opts.Samples == 0 {
		opts.Samples = 10
	}
	if opts.FenceGrace == 0 {
		opts.FenceGrace = 10 * time.Minute
	}
	start := time.Now()
	rep := &ReconcileReport{DryRun: opts.DryRun}
	for _, m := range maps {
		p := &pass{s: s, m: m, opts: &opts, start: time.Now(), pace: pacer{rate: opts.RowsPerSecond}}
		p.rep.Table, p.rep.Key = m.table.qualified(), m.cfg.Key
		err := p.run(ctx)
		s.metrics.drift(m, p.rep)
		rep.Mappings = append(rep.Mappings, p.rep)
		if err != nil {
			rep.Elapsed = time.Since(start)
			return rep, fmt.Errorf("mysqletcd: reconcile %s: %w", m, err)
		}
	}
	if wait && !opts.DryRun {
		if err := s.flush(ctx); err != nil {
			rep.Elapsed = time.Since(start)
			return rep, fmt.Errorf("mysqletcd: reconcile: waiting for the pushes: %w", err)
		}
	}
	rep.Elapsed = time.Since(start)
	s.stats.reconciles.Add(1)
	return rep, nil
}

// selectMappings picks the mappings of the named tables, all of them when
// none is named.
func (s *syncer) selectMappings(tables []string) ([]*mapping, error) {
	if len(tables) == 0 {
		return s.working(), nil
	}
	var out []*mapping
	for _, name := range tables {
		found := false
		for _, m := range s.working() {
			if strings.EqualFold(name, m.table.name) || strings.EqualFold(name, m.table.qualified()) ||
				strings.EqualFold(name, m.cfg.Table) {
				out = appendMapping(out, m)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: no mapping for table %q; mapped tables: %s", ErrConfig, name, s.mappedTables())
		}
	}
	return out, nil
}

func (s *syncer) mappedTables() string {
	var names []string
	for _, m := range s.working() {
		names = append(names, m.table.qualified())
	}
	return strings.Join(names, ", ")
}

// resync is a reconcile pass over one mapping that reports nothing: what a
// table-level write (TRUNCATE, LOAD DATA, a full queue ...) falls back to.
// ws wait for the keys it queues.
func (s *syncer) resync(ctx context.Context, m *mapping, ws ...*PushWaiter) error {
	opts := ReconcileOptions{FenceGrace: -1}
	p := &pass{s: s, m: m, opts: &opts, start: time.Now(), waiters: ws}
	return p.run(ctx)
}

// resyncDurably resyncs m and, when outbox rows wait for the resync, waits
// until the keys it queued are pushed: only then may the rows go.
func (s *syncer) resyncDurably(ctx context.Context, m *mapping, outboxRows bool, ws ...*PushWaiter) error {
	if !outboxRows {
		return s.resync(ctx, m, ws...)
	}
	own := &PushWaiter{}
	if err := s.resync(ctx, m, append(ws, own)...); err != nil {
		return err
	}
	return own.Wait(ctx)
}
