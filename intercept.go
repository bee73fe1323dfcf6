package mysqletcd

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/ngrok/sqlmw"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// session intercepts one connection. sqlmw calls it for every statement,
// transaction and result of that connection, and database/sql never uses a
// connection from two goroutines at once, so it needs no lock.
//
// It follows the server's transaction state (API transactions, text BEGIN
// and COMMIT, autocommit, implicit commits), collects the keys the open
// transaction changes, and hands them to the syncer when it commits.
type session struct {
	sqlmw.NullInterceptor
	st         *state
	conn       driver.Conn // the mysql connection, for before- and after-images
	schema     string      // the connection's default database
	autocommit bool
	tx         *txCapture // non-nil while a transaction is open
	// skipsArgs: the connection does not interpolate args at all
	// (interpolateParams=false, learnt by the probe at connect), so mysql
	// answers every Exec with args with ErrSkip, without executing it. A
	// statement-level ErrSkip (a '?' inside a string literal) says nothing
	// about the next statement and never sets it.
	skipsArgs bool
	// foundRows: the connection has clientFoundRows=true, so RowsAffected
	// counts the rows an UPDATE matched, not those it changed.
	foundRows    bool
	autoInc      autoIncrement
	xa           bool                // inside XA START ... XA COMMIT
	tablesLocked bool                // LOCK TABLES holds locks
	prepared     map[string][]*table // SQL-level PREPARE name -> tables its text names
	prepSchemas  preparedSchemas     // prepared statement -> default schema then
	isolation    string              // the session's transaction isolation level
	isolationVar string              // the name this server gives it
	// nextIsolationWeak: SET TRANSACTION ISOLATION LEVEL (for the next
	// transaction only) ran; taken as weak until that transaction begins.
	nextIsolationWeak bool
	// pendingOutbox: durable mode's outbox rows for the statement that
	// just ran, written before the next one.
	pendingOutbox []outboxEntry
	waiter        *PushWaiter // of the call being served (pushwait.go)
}

// txCapture is what an open transaction has changed so far.
type txCapture struct {
	items     map[entryKey]item
	resync    map[*table]string // table -> reason
	isolation string            // set when BeginTx asked for a level
	waiters   []*PushWaiter     // of the calls that wrote in it
}

func (s *session) inTx() bool { return s.tx != nil || !s.autocommit || s.xa }

// ConnectorConnect opens the mysql connection and reads its session state.
func (s *session) ConnectorConnect(ctx context.Context, c driver.Connector) (driver.Conn, error) {
	conn, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	s.conn = conn
	s.foundRows = countsMatchedRows(conn)
	if err := s.readSessionVars(ctx, true); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// ConnBeginTx opens an API transaction.
func (s *session) ConnBeginTx(ctx context.Context, conn driver.ConnBeginTx, opts driver.TxOptions) (context.Context, driver.Tx, error) {
	s.noteWaiter(ctx)
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return ctx, nil, err
	}
	s.commitOpen()         // a transaction left open by autocommit=0 commits implicitly
	s.tablesLocked = false // START TRANSACTION releases LOCK TABLES
	s.tx = &txCapture{isolation: isolationOf(opts)}
	if s.nextIsolationWeak && s.tx.isolation == "" {
		s.tx.isolation = "READ COMMITTED"
	}
	s.nextIsolationWeak = false
	return ctx, tx, nil
}

// TxCommit commits and hands the transaction's keys to the syncer. A failed
// COMMIT may still have committed (the connection broke on the reply), so
// the keys are pushed either way: pushing an unchanged key is harmless.
func (s *session) TxCommit(ctx context.Context, tx driver.Tx) error {
	s.noteWaiter(ctx) // BeginTx's context: sqlmw keeps it for the transaction
	err := tx.Commit()
	s.commitOpen()
	return err
}

// TxRollback rolls back and forgets the transaction's keys.
func (s *session) TxRollback(ctx context.Context, tx driver.Tx) error {
	err := tx.Rollback()
	s.tx = nil
	return err
}

// ConnExecContext runs a statement through the capture plan.
func (s *session) ConnExecContext(ctx context.Context, conn driver.ExecerContext, query string, args []driver.NamedValue) (driver.Result, error) {
	s.noteWaiter(ctx)
	p := s.st.plan(s.schema, query)
	if p.passThrough || (len(args) > 0 && s.skipsArgs) {
		// With skipsArgs the mysql driver answers ErrSkip without
		// executing; database/sql then prepares, and StmtExecContext runs.
		res, err := conn.ExecContext(ctx, query, args)
		if err != nil {
			s.afterError(ctx, err)
		}
		return res, err
	}
	return s.execPlanned(ctx, p, args, func() (driver.Result, error) { return conn.ExecContext(ctx, query, args) })
}

// ConnPrepareContext prepares a statement and remembers the default
// schema: the server binds the statement's unqualified tables to it.
func (s *session) ConnPrepareContext(ctx context.Context, conn driver.ConnPrepareContext, query string) (context.Context, driver.Stmt, error) {
	stmt, err := conn.PrepareContext(ctx, query)
	if err == nil {
		s.prepSchemas.remember(stmt, query, s.schema)
	}
	return ctx, stmt, err
}

// StmtClose closes a prepared statement and forgets its schema.
func (s *session) StmtClose(ctx context.Context, stmt driver.Stmt) error {
	s.prepSchemas.forget(stmt)
	return stmt.Close()
}

// stmtSchema is the default schema a prepared statement was prepared in,
// or the session's when the statement is unknown.
func (s *session) stmtSchema(stmt any, query string) string {
	if schema, ok := s.prepSchemas.schemaOf(stmt, query); ok {
		return schema
	}
	return s.schema
}

// StmtExecContext runs a prepared statement through the capture plan.
func (s *session) StmtExecContext(ctx context.Context, stmt driver.StmtExecContext, query string, args []driver.NamedValue) (driver.Result, error) {
	s.noteWaiter(ctx)
	p := s.st.plan(s.stmtSchema(stmt, query), query)
	if p.passThrough {
		res, err := stmt.ExecContext(ctx, args)
		if err != nil {
			s.afterError(ctx, err)
		}
		return res, err
	}
	return s.execPlanned(ctx, p, args, func() (driver.Result, error) { return stmt.ExecContext(ctx, args) })
}

// ConnQueryContext runs a query; a write sent through Query (MariaDB's
// RETURNING) is captured like an Exec, its keys recorded when the rows close.
func (s *session) ConnQueryContext(ctx context.Context, conn driver.QueryerContext, query string, args []driver.NamedValue) (context.Context, driver.Rows, error) {
	s.noteWaiter(ctx)
	p := s.st.plan(s.schema, query)
	if p.passThrough {
		rows, err := conn.QueryContext(ctx, query, args)
		if err != nil {
			s.afterError(ctx, err)
		}
		return ctx, rows, err
	}
	return s.queryPlanned(ctx, p, args, func() (driver.Rows, error) { return conn.QueryContext(ctx, query, args) })
}

// StmtQueryContext is ConnQueryContext for prepared statements.
func (s *session) StmtQueryContext(ctx context.Context, stmt driver.StmtQueryContext, query string, args []driver.NamedValue) (context.Context, driver.Rows, error) {
	s.noteWaiter(ctx)
	p := s.st.plan(s.stmtSchema(stmt, query), query)
	if p.passThrough {
		rows, err := stmt.QueryContext(ctx, args)
		if err != nil {
			s.afterError(ctx, err)
		}
		return ctx, rows, err
	}
	return s.queryPlanned(ctx, p, args, func() (driver.Rows, error) { return stmt.QueryContext(ctx, args) })
}

// execPlanned runs a statement that writes mapped tables or controls the
// transaction.
func (s *session) execPlanned(ctx context.Context, p *plan, args []driver.NamedValue, run func() (driver.Result, error)) (driver.Result, error) {
	p = p.forArgs(args)
	images := p.single && p.stmts[0].kind != sqlparse.Other && len(p.stmts[0].writes) > 0 && needsImages(p.stmts[0].writes)
	if s.durable() {
		if err := s.preRecordResyncs(ctx, p); err != nil {
			return nil, err
		}
		if !images && s.wrapsForOutbox(p) {
			return s.execWrappedForOutbox(ctx, p, args, run)
		}
	}
	if !images {
		res, err := run()
		if errors.Is(err, driver.ErrSkip) {
			// Not executed (mysql could not interpolate this statement):
			// database/sql prepares it, and StmtExecContext captures it.
			return nil, err
		}
		switch {
		case err != nil && !p.single:
			s.afterFailedText(ctx, p)
		case err != nil:
			s.afterError(ctx, err)
			s.apply(ctx, p, args, res, err)
		default:
			s.apply(ctx, p, args, res, nil)
			if werr := s.writePendingOutbox(ctx); werr != nil {
				return nil, werr
			}
		}
		return res, err
	}
	return s.execWithImages(ctx, p.stmts[0], args, run)
}

// queryPlanned is execPlanned for writes sent through Query: keys that need
// no images are captured; others resync their tables. The capture is
// recorded when the rows close: an autocommit write sent through Query (as
// with RETURNING) commits only once the server has sent its last row.
func (s *session) queryPlanned(ctx context.Context, p *plan, args []driver.NamedValue, run func() (driver.Rows, error)) (context.Context, driver.Rows, error) {
	p = p.forArgs(args)
	if p.single && needsImages(p.stmts[0].writes) {
		p = resyncPlan(p)
	}
	wrapped, err := s.wrapQueryForOutbox(ctx, p)
	if err != nil {
		return ctx, nil, err
	}
	rows, err := run()
	if err != nil && wrapped {
		s.tx, s.pendingOutbox = nil, nil
		s.endWrapper(ctx, "ROLLBACK")
	}
	if errors.Is(err, driver.ErrSkip) {
		return ctx, nil, err
	}
	if err != nil {
		s.afterError(ctx, err)
		if p.single {
			s.apply(ctx, p, args, resultOfRows{}, err)
		} else {
			s.afterFailedText(ctx, p)
		}
		return ctx, nil, err
	}
	return context.WithValue(ctx, pendingQueryKey{}, &pendingQuery{p, args, wrapped}), rows, nil
}

// pendingQuery is a write sent through Query, applied when its rows close.
// wrapped: durable mode opened a transaction around it, which the close
// commits with its outbox rows.
type pendingQuery struct {
	p       *plan
	args    []driver.NamedValue
	wrapped bool
}

type pendingQueryKey struct{}

// RowsClose closes the rows and applies a pending write's capture.
func (s *session) RowsClose(ctx context.Context, rows driver.Rows) error {
	s.noteWaiter(ctx)
	err := rows.Close()
	pq, ok := ctx.Value(pendingQueryKey{}).(*pendingQuery)
	if !ok {
		return err
	}
	if err != nil && pq.wrapped {
		s.tx, s.pendingOutbox = nil, nil
		s.endWrapper(ctx, "ROLLBACK")
		return err
	}
	s.apply(ctx, pq.p, pq.args, resultOfRows{}, nil)
	werr := s.writePendingOutbox(ctx)
	if pq.wrapped {
		if werr != nil {
			s.tx = nil
			s.endWrapper(ctx, "ROLLBACK")
			return werr
		}
		werr = s.endWrapper(ctx, "COMMIT")
		s.commitOpen() // pushed even when COMMIT failed: it may have committed
	}
	if werr != nil && err == nil {
		err = werr
	}
	return err
}

// resultOfRows stands in for the driver.Result a Query does not give.
type resultOfRows struct{}

func (resultOfRows) LastInsertId() (int64, error) { return 0, errNoResult }
func (resultOfRows) RowsAffected() (int64, error) { return 0, errNoResult }

var errNoResult = errors.New("no result for a query")

func resyncPlan(p *plan) *plan {
	sp := p.stmts[0]
	writes := make([]*tableWrite, len(sp.writes))
	for i, w := range sp.writes {
		writes[i] = resyncWrite(w.t, reasonUnsupported)
	}
	sp.writes = writes
	return &plan{single: true, stmts: []stmtPlan{sp}}
}

func needsImages(writes []*tableWrite) bool {
	for _, w := range writes {
		if w.how == captureBefore || w.conflicts {
			return true
		}
	}
	return false
}
