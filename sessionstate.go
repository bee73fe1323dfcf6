package mysqletcd

import (
	"context"
	"database/sql/driver"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// apply follows a statement's effect on the session once it has run: the
// transaction state it leaves, and the keys of its writes (those that need
// no images). err is the statement's error; a failed statement changes no
// rows of a transactional table, but some still commit (COMMIT itself,
// DDL's implicit commit).
func (s *session) apply(ctx context.Context, p *plan, args []driver.NamedValue, res driver.Result, err error) {
	defer s.reloadAfterDDL(ctx, p, err)
	for _, sp := range p.stmts {
		s.implicitCommit(ctx, sp)
		if err != nil {
			if sp.kind == sqlparse.Commit || sp.xaOp == "COMMIT" {
				s.commitOpen() // it may have committed: pushing is harmless
			}
			s.keptByFailedWrite(sp)
			continue
		}
		s.follow(ctx, sp)
		var c capture
		for _, w := range sp.writes {
			if err := s.afterImages(ctx, w, args, res, nil, &c); err != nil {
				c.resync(w.t, reasonUnsupported)
			}
		}
		if sp.executes != "" {
			s.executed(sp.executes, &c)
		}
		if sp.implicitCommit || sp.kind == sqlparse.Truncate {
			s.enqueueCapture(&c) // committed on its own
		} else {
			s.record(&c)
		}
	}
}

// follow updates the transaction state for a statement that succeeded.
func (s *session) follow(ctx context.Context, sp stmtPlan) {
	switch sp.kind {
	case sqlparse.Begin:
		s.tx, s.tablesLocked = &txCapture{}, false
	case sqlparse.Commit:
		s.commitOpen()
		if sp.chain {
			s.tx = &txCapture{}
		}
	case sqlparse.Rollback:
		s.tx = nil
		if sp.chain {
			s.tx = &txCapture{}
		}
	case sqlparse.SetAutocommit:
		s.setAutocommit(ctx, sp)
	case sqlparse.Use:
		s.schema = sp.useSchema
	case sqlparse.LockTables:
		s.tablesLocked = true
	case sqlparse.UnlockTables:
		s.tablesLocked = false
	}
	switch sp.xaOp {
	case "START":
		s.tx, s.xa = &txCapture{}, true
	case "COMMIT":
		s.commitOpen()
		s.xa = false
	case "ROLLBACK":
		s.tx, s.xa = nil, false
	}
	if sp.prepares != "" {
		s.prepare(sp)
	}
	if sp.rereadVars {
		_ = s.readSessionVars(ctx, false)
	}
	s.followIsolation(sp)
}

// followIsolation follows SET TRANSACTION ISOLATION LEVEL READ
// [UN]COMMITTED, which sets only the next transaction's level: a later BEGIN
// takes it up (and until then, conservatively, the session's). SET SESSION
// changes are read back with the other session variables.
func (s *session) followIsolation(sp stmtPlan) {
	if sp.nextWeakIsolation {
		s.nextIsolationWeak = true
	}
	if sp.kind == sqlparse.Begin && s.nextIsolationWeak {
		s.tx.isolation, s.nextIsolationWeak = "READ COMMITTED", false
	}
}

// implicitCommit commits the open transaction before a statement that
// ends it (DDL, LOCK TABLES, TRUNCATE, a second BEGIN, ...). Where the
// server can say whether a transaction is still open (MariaDB's
// @@in_transaction), it decides: CREATE TEMPORARY TABLE, for one, does not
// commit.
func (s *session) implicitCommit(ctx context.Context, sp stmtPlan) {
	switch {
	case !sp.implicitCommit || !s.inTx():
		return
	case sp.kind == sqlparse.Begin:
		s.commitOpen()
		return
	case sp.kind == sqlparse.UnlockTables && !s.tablesLocked:
		return // commits only a transaction LOCK TABLES began
	}
	if open, known := s.serverInTx(ctx); known {
		if !open {
			s.commitOpen()
		}
		return
	}
	if !sp.temporary {
		s.commitOpen()
	}
}

// serverInTx asks the server whether a transaction is open; known is false
// where it cannot tell (MySQL has no @@in_transaction).
func (s *session) serverInTx(ctx context.Context) (open, known bool) {
	vals, err := queryRow(context.WithoutCancel(ctx), s.conn, "SELECT @@in_transaction", nil)
	if err != nil {
		return false, false
	}
	return string(rawBytes(vals[0])) != "0", true
}

// keptByFailedWrite resyncs the non-transactional tables a failed write
// names: MyISAM keeps the rows written before the error.
func (s *session) keptByFailedWrite(sp stmtPlan) {
	var c capture
	for _, w := range sp.writes {
		if !w.t.transactional {
			c.resync(w.t, reasonUnsupported)
		}
	}
	s.enqueueCapture(&c)
}

// prepare remembers the mapped tables an SQL-level PREPARE names, for its
// EXECUTE.
func (s *session) prepare(sp stmtPlan) {
	if s.prepared == nil {
		s.prepared = map[string][]*table{}
	}
	s.prepared[sp.prepares] = sp.prepTables
}

// executed captures an SQL-level EXECUTE: its prepared text's tables
// resync; an unknown name (prepared from a variable, or before this
// connection was watched) resyncs every mapped table.
func (s *session) executed(name string, c *capture) {
	tables, ok := s.prepared[name]
	if !ok {
		tables = s.st.cat.Load().tableList
	}
	for _, t := range tables {
		c.resync(t, reasonUnsupported)
	}
}

// afterFailedText follows the session after a multi-statement text failed
// part way: the server says whether a transaction is still open. The
// text's tables resync now (what ran before the failure may have
// committed) and again when an open transaction ends.
func (s *session) afterFailedText(ctx context.Context, p *plan) {
	var c capture
	for _, sp := range p.stmts {
		for _, w := range sp.writes {
			c.resync(w.t, reasonUnsupported)
		}
	}
	open, known := s.serverInTx(ctx)
	if !known {
		s.apply(ctx, p, nil, nil, nil) // MySQL: take every statement as run
		return
	}
	_ = s.readSessionVars(context.WithoutCancel(ctx), false) // SET autocommit, USE, SET sql_mode may have run
	if !open {
		s.commitOpen()
		s.xa = false
	} else if s.tx == nil {
		s.tx = &txCapture{}
	}
	s.enqueueCapture(&c)
	s.record(&c)
}

// reloadAfterDDL reads the schema again after DDL that may have changed a
// mapped table or created one a mapping waits for.
func (s *session) reloadAfterDDL(ctx context.Context, p *plan, err error) {
	if err != nil && p.single {
		return // failed DDL changes nothing
	}
	for _, sp := range p.stmts {
		if sp.kind == sqlparse.DDL && !sp.temporary {
			s.st.reload(ctx)
			return
		}
	}
}
