package mysqletcd

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// The session's side of durable mode (outbox.go describes the whole).

func (s *session) durable() bool { return s.st.outbox != "" }

// noteOutbox lists, for the outbox, what a capture adds to the open
// transaction: keys it has not recorded yet, and a resync row for each
// table that now resyncs. add is the transaction's own bookkeeping, run
// in between.
func (s *session) noteOutbox(c *capture, add func()) {
	tx := s.tx
	resyncBefore := make(map[*table]bool, len(tx.resync))
	for t := range tx.resync {
		resyncBefore[t] = true
	}
	var fresh []outboxEntry
	for _, it := range c.items {
		if _, known := tx.items[entryKey{it.m, it.key}]; !known && !resyncBefore[it.m.table] {
			fresh = append(fresh, outboxEntry{it.m, it.key})
		}
	}
	add()
	for _, e := range fresh {
		if _, whole := tx.resync[e.m.table]; !whole {
			s.pendingOutbox = append(s.pendingOutbox, e)
		}
	}
	for t := range tx.resync {
		if !resyncBefore[t] {
			for _, m := range t.mappings {
				s.pendingOutbox = append(s.pendingOutbox, outboxEntry{m, ""})
			}
		}
	}
}

// writePendingOutbox writes what noteOutbox listed, inside the open
// transaction. Its error is the statement's: the write ran but its keys are
// not recorded, and the app should roll back.
func (s *session) writePendingOutbox(ctx context.Context) error {
	entries := s.pendingOutbox
	s.pendingOutbox = nil
	if len(entries) == 0 || s.tablesLocked {
		// Under LOCK TABLES the outbox is not locked, and MySQL refuses
		// it (1100): the keys are pushed from memory, as without durable.
		return nil
	}
	return writeOutbox(ctx, s.conn, s.st.outbox, entries)
}

// preRecordResyncs records, before a statement runs, the resyncs of the
// statements that commit on their own (DDL, TRUNCATE) or that run outside
// a transaction and resync (LOAD DATA, CALL, ...): after the statement there
// is no transaction left to write them in. A resync row for a statement
// that then fails costs a harmless resync.
func (s *session) preRecordResyncs(ctx context.Context, p *plan) error {
	if s.tablesLocked {
		return nil // see writePendingOutbox
	}
	var entries []outboxEntry
	for _, sp := range p.stmts {
		if s.inTx() && !sp.implicitCommit && sp.kind != sqlparse.Truncate && p.single {
			continue // recorded inside the transaction
		}
		for _, w := range sp.writes {
			if w.how == captureResync || !p.single {
				for _, m := range w.t.mappings {
					entries = append(entries, outboxEntry{m, ""})
				}
			}
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return writeOutbox(ctx, s.conn, s.st.outbox, entries)
}

// wrapsForOutbox reports whether an autocommit statement that needs no
// images is wrapped in a transaction with its outbox rows.
func (s *session) wrapsForOutbox(p *plan) bool {
	if s.inTx() || s.tablesLocked || !p.single {
		return false
	}
	sp := p.stmts[0]
	if sp.implicitCommit || sp.kind == sqlparse.Truncate || sp.kind == sqlparse.Other {
		return false
	}
	for _, w := range sp.writes {
		if w.how != captureResync {
			return true
		}
	}
	return false
}

// execWrappedForOutbox runs an autocommit write inside START TRANSACTION
// ... COMMIT together with its outbox rows.
func (s *session) execWrappedForOutbox(ctx context.Context, p *plan, args []driver.NamedValue, run func() (driver.Result, error)) (driver.Result, error) {
	if err := execText(ctx, s.conn, "START TRANSACTION"); err != nil {
		return nil, err
	}
	s.tx = &txCapture{}
	rollback := func(err error) (driver.Result, error) {
		s.tx, s.pendingOutbox = nil, nil
		s.endWrapper(ctx, "ROLLBACK")
		return nil, err
	}
	res, err := run()
	if err != nil {
		if !errors.Is(err, driver.ErrSkip) {
			s.keptByFailedWrite(p.stmts[0])
		}
		return rollback(err)
	}
	s.apply(ctx, p, args, res, nil)
	if err := s.writePendingOutbox(ctx); err != nil {
		return rollback(err)
	}
	err = s.endWrapper(ctx, "COMMIT")
	s.commitOpen() // pushed even when COMMIT failed: it may have committed
	if err != nil {
		return nil, err
	}
	return res, nil
}

// wrapQueryForOutbox opens, in durable mode, the transaction around an
// autocommit write sent through Query (MariaDB's RETURNING): the rows'
// close commits it with the outbox rows. Statements that only resync get
// their resync rows written first instead.
func (s *session) wrapQueryForOutbox(ctx context.Context, p *plan) (bool, error) {
	if !s.durable() {
		return false, nil
	}
	if err := s.preRecordResyncs(ctx, p); err != nil {
		return false, err
	}
	if !s.wrapsForOutbox(p) {
		return false, nil
	}
	if err := execText(ctx, s.conn, "START TRANSACTION"); err != nil {
		return false, err
	}
	s.tx = &txCapture{}
	return true, nil
}
