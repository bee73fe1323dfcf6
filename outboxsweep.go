package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// outboxDeleter deletes, in batches, the outbox rows whose keys a push has
// brought into etcd. A row it fails to delete is pushed again by a sweeper
// later, which is harmless.
func (s *syncer) outboxDeleter() {
	var pending []int64
	for {
		if len(pending) == 0 {
			select {
			case ids := <-s.outboxDone:
				pending = append(pending, ids...)
			case <-s.ctx.Done():
				return
			}
		}
		// Gather what else comes within a few milliseconds, then delete.
		gather := time.NewTimer(5 * time.Millisecond)
	gathering:
		for len(pending) < 1000 {
			select {
			case ids := <-s.outboxDone:
				pending = append(pending, ids...)
			case <-gather.C:
				break gathering
			case <-s.ctx.Done():
				break gathering
			}
		}
		gather.Stop()
		s.deleteOutbox(context.WithoutCancel(s.ctx), pending)
		pending = pending[:0]
		if s.ctx.Err() != nil {
			return
		}
	}
}

// pushedOutbox hands the ids of outbox rows a push satisfied to the deleter.
func (s *syncer) pushedOutbox(ids []int64) {
	if len(ids) == 0 {
		return
	}
	select {
	case s.outboxDone <- ids:
	case <-s.ctx.Done():
	}
}

// deleteOutbox deletes outbox rows by id.
func (s *syncer) deleteOutbox(ctx context.Context, ids []int64) {
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		if err := deleteIDs(ctx, s.db, s.outbox, chunk, s.cfg.Etcd.RequestTimeout); err != nil && ctx.Err() == nil {
			s.report(fmt.Errorf("durable: delete %d pushed keys from the outbox (a sweeper pushes them again): %w", len(chunk), err))
		}
	}
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func deleteIDs(ctx context.Context, db execer, table string, ids []int64, timeout time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := db.ExecContext(ctx, "DELETE FROM "+table+" WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", args...)
	return err
}

// outboxSweeper claims the outbox rows older than OutboxSweepAfter (those of
// a process that died between commit and push, or of pushes that are
// failing), pushes them and deletes them, until the syncer closes. Any
// number of processes may sweep: SKIP LOCKED gives each its own rows.
func (s *syncer) outboxSweeper() {
	if !s.awaitEtcd(s.ctx) {
		return
	}
	for attempt := 0; ; {
		n, err := s.sweepOnce(s.ctx)
		s.measureOutbox(s.ctx)
		if s.ctx.Err() != nil {
			return
		}
		wait := s.cfg.OutboxSweepEvery
		switch {
		case err != nil:
			attempt++
			s.stats.errors.Add(1)
			s.report(fmt.Errorf("durable: outbox sweep: %w", err))
			wait = backoff(attempt, errorBackoff)
		case n == sweepBatch:
			attempt, wait = 0, 0 // more is waiting
		default:
			attempt = 0
		}
		if sleepCtx(s.ctx, wait) != nil {
			return
		}
	}
}

const sweepBatch = 500

// sweepOnce claims up to sweepBatch old rows of this process's mappings in
// one transaction, pushes their keys (and resyncs for resync rows), deletes
// them and commits. It returns how many rows it claimed.
func (s *syncer) sweepOnce(ctx context.Context) (int, error) {
	byKey := map[string]*mapping{}
	templates := make([]any, 0, len(s.working())+2)
	for _, m := range s.working() {
		byKey[m.cfg.Key] = m
		templates = append(templates, m.cfg.Key)
	}
	if len(templates) == 0 {
		return 0, nil // no mapping works yet
	}
	// READ COMMITTED: the claim locks the rows it reads and no gaps, so the
	// app's outbox INSERTs never wait for a sweep.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	args := append(templates, s.cfg.OutboxSweepAfter.Microseconds())
	rows, err := tx.QueryContext(ctx, "SELECT id, mapping, etcd_key FROM "+s.outbox+
		" WHERE mapping IN ("+strings.TrimSuffix(strings.Repeat("?,", len(templates)), ",")+")"+
		" AND created_at < NOW(6) - INTERVAL ? MICROSECOND ORDER BY id LIMIT "+itoa(sweepBatch)+" FOR UPDATE SKIP LOCKED", args...)
	if err != nil {
		return 0, err
	}
	var ids []int64
	keys := map[*mapping][]string{}
	seen := map[entryKey]bool{} // a key committed several times has several rows
	resyncs := map[*mapping]bool{}
	for rows.Next() {
		var id int64
		var tmpl, key string
		if err := rows.Scan(&id, &tmpl, &key); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
		m := byKey[tmpl]
		switch {
		case key == "":
			resyncs[m] = true
		case !seen[entryKey{m, key}]:
			seen[entryKey{m, key}] = true
			keys[m] = append(keys[m], key)
		}
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, tx.Commit()
	}
	pushCtx := context.WithValue(ctx, sweepingKey{}, true)
	for m := range resyncs {
		if err := s.resyncDurably(pushCtx, m, true); err != nil {
			return 0, err
		}
		delete(keys, m) // the resync covered them
	}
	for m, list := range keys {
		if err := s.pushKeys(pushCtx, m, list); err != nil {
			return 0, err
		}
	}
	if err := deleteIDs(ctx, tx, s.outbox, ids, s.cfg.Etcd.RequestTimeout); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	s.stats.swept.Add(int64(len(ids)))
	return len(ids), nil
}

// sweepingKey marks a push made by the sweeper: the sweeper deletes the
// outbox rows it claimed itself.
type sweepingKey struct{}

// pushKeys pushes keys of m in batches, synchronously, bounded by a few
// request timeouts so that a sweep does not hold its claims for ever while
// etcd is down.
func (s *syncer) pushKeys(ctx context.Context, m *mapping, keys []string) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.cfg.Etcd.RequestTimeout)
	defer cancel()
	for start := 0; start < len(keys); start += s.cfg.BatchSize {
		var batch []item
		for _, k := range keys[start:min(start+s.cfg.BatchSize, len(keys))] {
			if it, ok := m.itemOf(k); ok {
				batch = append(batch, it)
			}
		}
		if len(batch) == 0 {
			continue
		}
		others, err := s.push(ctx, m, batch)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			s.enqueue(others)
		}
	}
	return nil
}

// measureOutbox sets the outbox backlog gauge: the rows waiting in the
// outbox table, of any process.
func (s *syncer) measureOutbox(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.outbox).Scan(&n); err == nil {
		s.setOutboxBacklog(int(n))
	}
}
