package mysqletcd

import (
	"strings"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// captureKind is how the driver learns the keys a write changes.
type captureKind int

const (
	// captureResync: the keys cannot be derived; resync the table after
	// commit.
	captureResync captureKind = iota
	// captureValues: the keys are in the statement (INSERT values, or a
	// WHERE that pins every key column); no extra round trip.
	captureValues
	// captureBefore: SELECT the rows the statement will change, FOR UPDATE,
	// in the same transaction, before it runs; and SELECT them again after
	// it when it may change key columns.
	captureBefore
)

// tableWrite is the plan for one statement's writes to one mapped table.
type tableWrite struct {
	t      *table
	how    captureKind
	reason string // for captureResync

	// captureValues: the statement's rows of values, and where each of
	// t.idCols is among them (-1: not given).
	rows  [][]sqlparse.Value
	idIdx []int
	// fallback: for a plan whose keys a WHERE pins, the before-image plan
	// to use when the args do not pin the stored keys exactly (exact.go);
	// deletes: the statement is a DELETE, whose rows are gone afterwards.
	fallback *tableWrite
	deletes  bool
	// conflictsPinned: an upsert or REPLACE whose conflicts the key values
	// pin, so that it needs no conflict read if they are exact.
	conflictsPinned bool
	// plainInsert: INSERT without IGNORE or ON DUPLICATE KEY UPDATE, whose
	// rows all get the AUTO_INCREMENT values handed out.
	plainInsert bool
	// uniqueIdx: for conflicts, where each column of each of t.uniques is
	// among the row's values (-1: not given).
	uniqueIdx [][]int
	// conflicts: INSERT ... ON DUPLICATE KEY UPDATE and REPLACE also change
	// rows found by any unique key; read them first.
	conflicts bool

	// timeDependent: the WHERE calls the clock or RAND(), so rows may
	// start to match between the before-image and the write (phantoms.go).
	timeDependent bool

	// captureBefore: the SELECT of t.idCols with the statement's WHERE,
	// ORDER BY and LIMIT, and the indices of the args it needs.
	before       string
	beforeParams []int
	// window: an ORDER BY ... LIMIT whose order may tie; before then reads
	// the ORDER BY values too, and the window the rows that tie with the
	// last (window.go).
	window *orderWindow
	// limited: the statement has a LIMIT, so it may write only some of
	// the rows its WHERE matches.
	limited bool
	// digestCols: the columns an UPDATE sets. Under weak isolation the
	// before-image is digested, its rows ending with a digest of each,
	// which tells afterwards whether the write changed the row
	// (phantoms.go).
	digestCols     []string
	digested       string
	digestedParams []int
	// rerun: the SELECT of t.idCols from every row the WHERE matches, not
	// locking, and its args; leavesWhere: rows the write changes may no
	// longer match its WHERE afterwards (phantoms.go).
	rerun       string
	rerunParams []int
	leavesWhere bool
	// after: the statement may change key columns; rowIDSet gives, per
	// column of t.rowID, the new value when SET assigns it (nil otherwise).
	after    bool
	rowIDSet []*sqlparse.Value
}

func resyncWrite(t *table, reason string) *tableWrite {
	return &tableWrite{t: t, how: captureResync, reason: reason}
}

// planWrite plans an INSERT, REPLACE, UPDATE or DELETE of table t; ref is
// how a multi-table statement refers to t. Statements whose keys cannot be
// pinned down resync.
func planWrite(t *table, ref string, s sqlparse.Statement) *tableWrite {
	switch {
	case s.Kind == sqlparse.Insert || s.Kind == sqlparse.Replace:
		return planInsert(t, s)
	case s.MultiTable && (ref == "" || s.From == nil):
		return resyncWrite(t, reasonUnsupported)
	}
	return planUpdateDelete(t, ref, s)
}

func planInsert(t *table, s sqlparse.Statement) *tableWrite {
	if s.Select || len(s.Rows) == 0 {
		return resyncWrite(t, reasonUnsupported)
	}
	cols := s.Columns
	if len(cols) == 0 {
		for _, c := range t.columns {
			cols = append(cols, c.name)
		}
	}
	w := &tableWrite{t: t, how: captureValues, rows: s.Rows, idIdx: indicesIn(cols, t.idCols),
		plainInsert: s.Kind == sqlparse.Insert && !s.Ignore && len(s.OnDuplicate) == 0}
	for i, c := range t.idCols {
		if col, _ := t.column(c); col.insertSet {
			w.idIdx[i] = -1 // a trigger decides it: not known from the statement
		}
	}
	for _, row := range s.Rows {
		if len(row) != len(cols) {
			return resyncWrite(t, reasonUnsupported) // the server rejects it anyway
		}
	}
	if len(s.OnDuplicate) > 0 {
		if t.changesIDImplicitly() {
			return resyncWrite(t, reasonUnsupported) // the update moves keys unnamed
		}
		for _, a := range s.OnDuplicate {
			if indexFold(t.idCols, a.Column) >= 0 {
				return resyncWrite(t, reasonUnsupported) // the update may move keys
			}
		}
	}
	if s.Kind == sqlparse.Replace || len(s.OnDuplicate) > 0 {
		w.conflictsPinned = t.conflictsPinnedByKey()
		w.conflicts = !w.conflictsPinned
		for _, u := range t.uniques {
			idx := indicesIn(cols, u)
			for i, c := range u {
				if col, _ := t.column(c); col.insertSet {
					idx[i] = -1 // a trigger decides it
				}
			}
			w.uniqueIdx = append(w.uniqueIdx, idx)
		}
	}
	return w
}

// indicesIn returns, for each name, its index in list, or -1.
func indicesIn(list, names []string) []int {
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = indexFold(list, n)
	}
	return idx
}

// conflictsPinnedByKey reports whether the only unique key is one that
// holds every mapping's key columns: then the row an upsert or REPLACE
// changes has the key its values give, and no read is needed.
func (t *table) conflictsPinnedByKey() bool {
	if len(t.uniques) != 1 {
		return false
	}
	for _, m := range t.mappings {
		for _, c := range m.keyCols {
			if indexFold(t.uniques[0], c) < 0 {
				return false
			}
		}
	}
	return true
}

func planUpdateDelete(t *table, ref string, s sqlparse.Statement) *tableWrite {
	var sets []sqlparse.Assignment // the assignments to t
	for _, a := range s.Set {
		if !s.MultiTable || a.Table == "" || strings.EqualFold(a.Table, t.name) {
			sets = append(sets, a)
		}
	}
	setsID := false
	for _, a := range sets {
		if indexFold(t.idCols, a.Column) >= 0 {
			setsID = true
		}
	}
	if s.Kind == sqlparse.Update && t.changesIDImplicitly() {
		setsID = true // ON UPDATE CURRENT_TIMESTAMP, GENERATED: keys move unnamed
	}
	w := planBefore(t, ref, s, sets, setsID)
	if s.MultiTable || w.how != captureBefore {
		return w
	}
	pinned := planFromWhere(t, s, setsID)
	if pinned == nil {
		return w
	}
	pinned.fallback, pinned.deletes = w, s.Kind == sqlparse.Delete
	return pinned
}

// planBefore plans the before-image of an UPDATE or DELETE, and for an
// UPDATE that sets key columns, the after-image of the rows it moves.
func planBefore(t *table, ref string, s sqlparse.Statement, sets []sqlparse.Assignment, setsID bool) *tableWrite {
	w := &tableWrite{t: t, how: captureBefore, after: setsID, timeDependent: dependsOnTime(s)}
	for _, c := range t.rowID {
		if col, _ := t.column(c); setsID && col.implicit {
			return resyncWrite(t, reasonUnsupported) // the new row id is the server's
		}
	}
	if setsID {
		w.rowIDSet = make([]*sqlparse.Value, len(t.rowID))
		for _, a := range sets {
			i := indexFold(t.rowID, a.Column)
			if i < 0 {
				continue
			}
			switch a.Value.Kind {
			case sqlparse.Literal, sqlparse.Param:
				v := a.Value
				w.rowIDSet[i] = &v
			default:
				// The row's new identity cannot be computed here.
				return resyncWrite(t, reasonUnsupported)
			}
		}
	}
	w.planReads(ref, s, sets)
	return w
}

// planReads plans the before-image "SELECT <id columns> ... FOR UPDATE"
// with the statement's tables, WHERE, ORDER BY and LIMIT, and what the
// phantom checks read after the write (phantoms.go).
func (w *tableWrite) planReads(ref string, s sqlparse.Statement, sets []sqlparse.Assignment) {
	t := w.t
	if !s.MultiTable {
		ref = "" // the clauses name the table itself
	}
	w.deletes = s.Kind == sqlparse.Delete
	w.leavesWhere = w.deletes || writesWhatWhereReads(t, s)
	w.limited = s.Limit != nil
	if s.Kind == sqlparse.Update && (w.limited || w.leavesWhere) {
		for _, a := range sets {
			if _, ok := t.column(a.Column); ok && indexFold(w.digestCols, a.Column) < 0 {
				w.digestCols = append(w.digestCols, a.Column)
			}
		}
	}
	ids := &sqlparse.Fragment{SQL: t.selectCols(ref, t.idCols)}
	w.rerun, w.rerunParams = rowsQuery{t: t, ref: ref, s: s, list: []*sqlparse.Fragment{ids}}.build()
	q := rowsQuery{t: t, ref: ref, s: s, lock: true}
	switch {
	case !w.limited:
		q.order = s.OrderBy
	case t.orderIsTotal(s.OrderColumns):
		q.order, q.limit = s.OrderBy, s.Limit
	default:
		// Ties leave the server free to pick any of the tied rows: the
		// window reads them all (window.go). Where it cannot, read every
		// row the WHERE matches (more rows, never fewer).
		w.window = newOrderWindow(t, s)
	}
	w.before, w.beforeParams = w.imageQuery(q, false)
	if len(w.digestCols) > 0 {
		w.digested, w.digestedParams = w.imageQuery(q, true)
	}
}

// imageQuery builds the before-image from q (its tables, WHERE, ORDER BY
// and LIMIT), with the digests or without; with a window, it plans the
// window's tie read alike.
func (w *tableWrite) imageQuery(q rowsQuery, digested bool) (string, []int) {
	if w.window != nil {
		q = w.window.plan(w, q, digested)
	} else {
		q.list = w.imageList(q.ref, nil, digested)
	}
	return q.build()
}

// imageRead is the before-image a session reads: digested under weak
// isolation, for the phantom checks.
func (w *tableWrite) imageRead(weak bool) (query string, params []int, digested bool) {
	if weak && w.digested != "" {
		return w.digested, w.digestedParams, true
	}
	return w.before, w.beforeParams, false
}

// writesWhatWhereReads reports whether an UPDATE may write a column that
// its WHERE (or its joins, or its WITH) reads, so that a row it changes
// may stop matching: a SET column, or one the server changes on its own,
// named in that text. It answers yes when it cannot tell: a "*" or a
// NATURAL join (columns not named), or another target table, whose
// columns the server may change unnamed.
func writesWhatWhereReads(t *table, s sqlparse.Statement) bool {
	var text string
	for _, f := range []*sqlparse.Fragment{s.Where, s.From, s.With} {
		if f != nil {
			text += strings.ToLower(f.SQL) + " "
		}
	}
	if strings.Contains(text, "*") || strings.Contains(text, "natural") || len(s.Tables) > 1 {
		return true
	}
	named := func(col string) bool { return strings.Contains(text, strings.ToLower(quoteIdent(col))) }
	for _, a := range s.Set {
		if named(a.Column) {
			return true
		}
	}
	for _, c := range t.columns {
		if c.implicit && named(c.name) {
			return true
		}
	}
	return false
}

// qualify is "ref." quoted, or nothing for an empty ref.
func qualify(ref string) string {
	var q string
	if ref != "" {
		for _, part := range strings.Split(ref, ".") {
			q += quoteIdent(part) + "."
		}
	}
	return q
}

// selectCols is the select list of columns, qualified with ref when it is
// set ("t" or "db.t"). Temporal columns are read as text, so that keys and
// values do not depend on the connection's parseTime and loc.
func (t *table) selectCols(ref string, names []string) string {
	q := qualify(ref)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = q + quoteIdent(n)
		c, _ := t.column(n)
		switch {
		case c.dataType == "timestamp":
			// In UTC, as the syncer's connections read it, whatever the
			// app session's time zone.
			out[i] = "CAST(CONVERT_TZ(" + out[i] + ", @@session.time_zone, '+00:00') AS CHAR)"
		case c.temporal():
			out[i] = "CAST(" + out[i] + " AS CHAR)"
		case c.textual():
			// UTF-8 bytes, whatever the connection's character set.
			out[i] = "CAST(CONVERT(" + out[i] + " USING utf8mb4) AS BINARY)"
		}
	}
	return strings.Join(out, ", ")
}

// planFromWhere returns a values plan when the WHERE pins every key column
// of every mapping with "col = constant" and SET leaves them alone.
func planFromWhere(t *table, s sqlparse.Statement, setsID bool) *tableWrite {
	if setsID || len(s.WhereEq) == 0 {
		return nil
	}
	img := make([]sqlparse.Value, len(t.idCols))
	for i, c := range t.idCols {
		img[i] = sqlparse.Value{Kind: sqlparse.Expr}
		for _, eq := range s.WhereEq {
			if strings.EqualFold(eq.Column, c) && (eq.Value.Kind == sqlparse.Literal || eq.Value.Kind == sqlparse.Param) {
				img[i] = eq.Value
			}
		}
	}
	for _, m := range t.mappings {
		for _, c := range m.keyCols {
			if img[indexFold(t.idCols, c)].Kind == sqlparse.Expr {
				return nil
			}
		}
	}
	return &tableWrite{t: t, how: captureValues, rows: [][]sqlparse.Value{img}, idIdx: indicesIn(t.idCols, t.idCols)}
}

// orderIsTotal reports whether ordering by cols leaves no ties: they hold
// every column of a unique NOT NULL key.
func (t *table) orderIsTotal(cols []string) bool {
	return len(cols) > 0 && t.notNullUnique(cols) != nil
}

// changesIDImplicitly reports an id column the server changes on UPDATE
// without the statement naming it.
func (t *table) changesIDImplicitly() bool {
	for _, n := range t.idCols {
		if c, _ := t.column(n); c.implicit {
			return true
		}
	}
	return false
}

// timeFunctions give another value to the write than to its before-image,
// which runs a moment earlier.
var timeFunctions = []string{
	"now(", "current_timestamp", "sysdate(", "curdate(", "current_date", "curtime(", "current_time",
	"localtime", "utc_timestamp", "utc_date", "utc_time", "unix_timestamp()", "rand(", "uuid(",
}

// dependsOnTime reports whether which rows a write reaches depends on when
// it runs: its WHERE (or joins, or WITH) calls the clock or RAND(). A row
// may then start to match between the before-image and the write, as a
// phantom does, and the same checks catch it.
func dependsOnTime(s sqlparse.Statement) bool {
	for _, f := range []*sqlparse.Fragment{s.Where, s.From, s.With} {
		if f == nil {
			continue
		}
		text := strings.ToLower(f.SQL)
		for _, fn := range timeFunctions {
			if strings.Contains(text, fn) {
				return true
			}
		}
	}
	return false
}
