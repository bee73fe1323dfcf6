package mysqletcd

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// execWithImages runs a write whose keys come from reading rows: the rows it
// will change, read FOR UPDATE before it, and where it may move keys, the
// same rows read again after it. An autocommit write is wrapped in a
// transaction so that nothing changes between the reads and the write.
func (s *session) execWithImages(ctx context.Context, sp stmtPlan, args []driver.NamedValue, run func() (driver.Result, error)) (driver.Result, error) {
	// LOCK TABLES already keeps others out, and START TRANSACTION would
	// release its locks.
	wrap := !s.inTx() && !s.tablesLocked
	if wrap {
		if err := execText(ctx, s.conn, "START TRANSACTION"); err != nil {
			return nil, err
		}
	}
	abort := func(err error) (driver.Result, error) {
		if wrap {
			s.endWrapper(ctx, "ROLLBACK")
		} else {
			s.afterError(ctx, err)
		}
		return nil, err
	}
	var caught capture
	before := make([][][]any, len(sp.writes))
	for i, w := range sp.writes {
		imgs, unknown, err := s.beforeImages(ctx, w, args)
		if rejectedQuery(err) {
			// The server refused the driver's own SELECT (a form it does
			// not take): the app's statement still runs, its table resyncs.
			imgs, unknown, err = nil, true, nil
		}
		if err != nil {
			return abort(err)
		}
		if unknown {
			caught.resync(w.t, reasonUnsupported)
		}
		before[i] = imgs
	}
	if s.st.beforeImageRead != nil {
		s.st.beforeImageRead()
	}
	res, err := run()
	if errors.Is(err, driver.ErrSkip) {
		return abort(err) // not executed: database/sql prepares it
	}
	if err != nil {
		s.keptByFailedWrite(sp)
		return abort(err)
	}
	for i, w := range sp.writes {
		caught.addImages(w.t, before[i])
		if err := s.afterImages(ctx, w, args, res, before[i], &caught); err != nil {
			return abort(err)
		}
	}
	if err := s.phantoms(ctx, sp, args, res, before, &caught); err != nil {
		return abort(err)
	}
	if wrap {
		if s.durable() {
			if err := writeOutbox(ctx, s.conn, s.st.outbox, outboxEntries(&caught)); err != nil {
				return abort(err)
			}
		}
		// The app's statement has run: its COMMIT must not be skipped
		// because the app's context ended meanwhile, or the connection
		// would go back to the pool inside the wrapper's transaction.
		err = s.endWrapper(ctx, "COMMIT")
		// Pushed even when COMMIT failed: it may have committed, and a
		// push of an unchanged key is harmless.
		s.enqueueCapture(&caught)
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	s.record(&caught)
	if err := s.writePendingOutbox(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// rejectedQuery reports the errors with which a server refuses a query's
// text (syntax, unknown column, unsupported locking form) rather than its
// execution.
func rejectedQuery(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1064, 1054, 1149, 1221, 1235, 1248, 1327:
		return true
	}
	return false
}

// endWrapper ends the transaction the driver opened around an autocommit
// write, even when the app's context has ended. When that fails, the
// connection's state is unknown: it is closed, so that database/sql
// discards it (IsValid) and the server rolls back whatever is open.
func (s *session) endWrapper(ctx context.Context, stmt string) error {
	err := execText(context.WithoutCancel(ctx), s.conn, stmt)
	if err != nil {
		s.conn.Close()
	}
	return err
}

// beforeImages reads the id columns of the rows a write will change.
// unknown is true when some rows it may change cannot be read (an upsert's
// unique key given by an expression): the table then resyncs.
func (s *session) beforeImages(ctx context.Context, w *tableWrite, args []driver.NamedValue) (imgs [][]any, unknown bool, err error) {
	switch {
	case w.how == captureBefore && w.window != nil:
		imgs, unknown, err = w.window.images(ctx, s.conn, w, args, s.phantomsPossible([]*tableWrite{w}))
	case w.how == captureBefore:
		query, params, _ := w.imageRead(s.phantomsPossible([]*tableWrite{w}))
		imgs, err = queryRows(ctx, s.conn, query, pickArgs(args, params))
	case w.conflicts:
		query, qargs, ok := w.conflictQuery(args, s.autoInc)
		if query != "" {
			imgs, err = queryRows(ctx, s.conn, query, qargs)
		}
		unknown = !ok
	}
	return imgs, unknown, err
}

// afterImages adds the keys a write leaves: its values for inserts, the
// moved rows for updates that change key columns.
func (s *session) afterImages(ctx context.Context, w *tableWrite, args []driver.NamedValue, res driver.Result, before [][]any, c *capture) error {
	switch {
	case w.how == captureValues:
		imgs, ok := w.valueImages(args, res, s.autoInc)
		if !ok {
			c.resync(w.t, reasonUnsupported)
			return nil
		}
		c.addImages(w.t, imgs)
	case w.how == captureBefore && w.after && len(before) > 0:
		if !w.exactMoves(args) {
			c.resync(w.t, reasonUnsupported) // the new row ids are not what SET says
			return nil
		}
		query, qargs := w.afterQuery(args, before)
		imgs, err := queryRows(ctx, s.conn, query, qargs)
		if err != nil {
			return err
		}
		c.addImages(w.t, imgs)
	case w.how == captureResync:
		c.resync(w.t, w.reason)
	}
	return nil
}

// conflictQuery selects the rows that an upsert or REPLACE may change: those
// that share any unique key with a row of values. ok is false when a
// unique key's value is not in the statement (an expression, a default):
// the query then covers the other keys, and the caller resyncs the table.
func (w *tableWrite) conflictQuery(args []driver.NamedValue, ai autoIncrement) (query string, qargs []driver.NamedValue, ok bool) {
	t := w.t
	ok = true
	var conds []string
	for _, row := range w.rows {
	keys:
		for u, idx := range w.uniqueIdx {
			vals := make([]any, len(idx))
			for i, j := range idx {
				v, known, auto := w.valueAt(row, j, t.uniques[u][i], args, ai)
				switch {
				case auto:
					continue keys // a new AUTO_INCREMENT value conflicts with nothing
				case known && v == nil, j >= 0 && row[j].Kind == sqlparse.Null:
					continue keys // NULL conflicts with nothing
				case !known:
					ok = false
					continue keys
				}
				vals[i] = v
			}
			parts := make([]string, len(idx))
			for i := range idx {
				parts[i] = quoteIdent(t.uniques[u][i]) + " = ?"
				qargs = append(qargs, driver.NamedValue{Ordinal: len(qargs) + 1, Value: vals[i]})
			}
			conds = append(conds, "("+strings.Join(parts, " AND ")+")")
		}
	}
	if len(conds) == 0 {
		return "", nil, ok
	}
	return "SELECT " + t.selectCols("", t.idCols) + " FROM " + quoteTable(t.schema, t.name) +
		" WHERE " + strings.Join(conds, " OR ") + " FOR UPDATE", qargs, ok
}

// valueImages are the id column values of the rows an INSERT or REPLACE
// names, or that a WHERE pins. ok is false when a mapping's key column is
// not known. AUTO_INCREMENT values come from LastInsertId: for one row, or
// for a plain multi-row INSERT where the server hands out consecutive ids
// (innodb_autoinc_lock_mode 0 or 1), every row leaving the id to it.
func (w *tableWrite) valueImages(args []driver.NamedValue, res driver.Result, ai autoIncrement) (imgs [][]any, ok bool) {
	t := w.t
	var autoAt []int // images whose AUTO_INCREMENT key column the server chose
	autoCol := -1
	for _, row := range w.rows {
		img := make([]any, len(t.idCols))
		for i, c := range t.idCols {
			v, known, auto := w.valueAt(row, w.idIdx[i], c, args, ai)
			switch {
			case auto && t.isKeyCol(c):
				autoAt, autoCol = append(autoAt, len(imgs)), i
			case known && t.isKeyCol(c):
				if col, _ := t.column(c); !exactStored(col, v) {
					return nil, false // stored otherwise (7.6 as 8): resync
				}
				img[i] = v
			case known:
				img[i] = v
			case t.isKeyCol(c):
				return nil, false
			}
		}
		imgs = append(imgs, img)
	}
	if len(autoAt) == 0 {
		return imgs, true
	}
	if res == nil || len(autoAt) > 1 && (!w.plainInsert || len(autoAt) != len(imgs) || !ai.consecutive()) {
		return nil, false
	}
	first, err := res.LastInsertId()
	if err != nil {
		return nil, false
	}
	for k, j := range autoAt {
		imgs[j][autoCol] = first + int64(k)*ai.increment
	}
	return imgs, true
}

// autoIncrement is how a session's server hands out AUTO_INCREMENT values.
type autoIncrement struct {
	lockMode     int64 // @@innodb_autoinc_lock_mode: 2 interleaves concurrent inserts
	increment    int64 // @@auto_increment_increment
	noAutoOnZero bool  // sql_mode NO_AUTO_VALUE_ON_ZERO: an explicit 0 is stored as 0
}

func (ai autoIncrement) consecutive() bool { return ai.lockMode < 2 && ai.increment > 0 }

// valueAt is the value of column c in a row of values (j: its index, -1 when
// not given): known when it is a constant or an arg, auto when it is left
// to AUTO_INCREMENT.
func (w *tableWrite) valueAt(row []sqlparse.Value, j int, c string, args []driver.NamedValue, ai autoIncrement) (v any, known, auto bool) {
	isAuto := strings.EqualFold(c, w.t.autoInc)
	if j < 0 {
		return nil, false, isAuto
	}
	if k := row[j].Kind; k == sqlparse.Null || k == sqlparse.Default {
		return nil, false, isAuto
	}
	v, known = argValue(row[j], args)
	if !known {
		return nil, false, false
	}
	if isAuto && (v == nil || isZero(v) && !ai.noAutoOnZero) {
		return nil, false, true
	}
	return v, true, false
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case int64:
		return v == 0
	case uint64:
		return v == 0
	case string:
		return v == "0"
	case []byte:
		return string(v) == "0"
	}
	return false
}

// exactMoves reports whether the row id values SET gives are stored as
// given, so that the moved rows can be read by them.
func (w *tableWrite) exactMoves(args []driver.NamedValue) bool {
	for j, set := range w.rowIDSet {
		if set == nil {
			continue
		}
		v, ok := argValue(*set, args)
		col, _ := w.t.column(w.t.rowID[j])
		if !ok || !exactStored(col, v) || !lookupable(col, v) {
			return false
		}
	}
	return true
}

// afterQuery selects the rows an UPDATE moved, by their new row identity.
func (w *tableWrite) afterQuery(args []driver.NamedValue, before [][]any) (string, []driver.NamedValue) {
	t := w.t
	var qargs []driver.NamedValue
	for _, img := range before {
		for j, c := range t.rowID {
			v := img[indexFold(t.idCols, c)]
			if set := w.rowIDSet[j]; set != nil {
				if given, ok := argValue(*set, args); ok {
					v = given
				}
			}
			qargs = append(qargs, driver.NamedValue{Ordinal: len(qargs) + 1, Value: v})
		}
	}
	tuple := placeholders(len(t.rowID))
	list := strings.TrimSuffix(strings.Repeat(tuple+",", len(before)), ",")
	lhs := quoteIdents(t.rowID)
	if len(t.rowID) > 1 {
		lhs = "(" + lhs + ")"
	}
	return "SELECT " + t.selectCols("", t.idCols) + " FROM " + quoteTable(t.schema, t.name) + " WHERE " + lhs + " IN (" + list + ")", qargs
}

func (t *table) isKeyCol(c string) bool {
	for _, m := range t.mappings {
		if indexFold(m.keyCols, c) >= 0 {
			return true
		}
	}
	return false
}

func pickArgs(args []driver.NamedValue, idx []int) []driver.NamedValue {
	out := make([]driver.NamedValue, 0, len(idx))
	for _, i := range idx {
		if i < len(args) {
			out = append(out, driver.NamedValue{Ordinal: len(out) + 1, Value: args[i].Value})
		}
	}
	return out
}

// execText runs a statement without args on the mysql connection.
func execText(ctx context.Context, conn driver.Conn, query string) error {
	_, err := conn.(driver.ExecerContext).ExecContext(ctx, query, nil)
	return err
}

// errSkipped is what queryRow returns for a query with args on a
// connection that does not interpolate them, when asked not to prepare.
var errSkipped = errors.New("mysqletcd: connection does not interpolate args")

// queryRows runs a query on the mysql connection and reads all its rows,
// preparing it when the connection does not interpolate args.
func queryRows(ctx context.Context, conn driver.Conn, query string, args []driver.NamedValue) ([][]any, error) {
	return readRows(ctx, conn, query, args, true)
}

func readRows(ctx context.Context, conn driver.Conn, query string, args []driver.NamedValue, prepare bool) ([][]any, error) {
	rows, err := conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	if errors.Is(err, driver.ErrSkip) && !prepare {
		return nil, errSkipped
	}
	if errors.Is(err, driver.ErrSkip) {
		var stmt driver.Stmt
		if stmt, err = conn.(driver.ConnPrepareContext).PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		defer stmt.Close()
		rows, err = stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(dest); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		row := make([]any, len(dest))
		for i, v := range dest {
			if b, ok := v.([]byte); ok {
				v = append([]byte(nil), b...) // the driver reuses its buffer
			}
			row[i] = v
		}
		out = append(out, row)
	}
}

// queryRow is queryRows for a query that returns one row.
// It does not prepare: a query with args on a connection that does not
// interpolate them returns errSkipped.
func queryRow(ctx context.Context, conn driver.Conn, query string, args []driver.NamedValue) ([]any, error) {
	rows, err := readRows(ctx, conn, query, args, false)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("mysqletcd: no row from " + query)
	}
	return rows[0], nil
}
