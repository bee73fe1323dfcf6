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

	// captureBefore: the SELECT of t.idCols with the statement's WHERE,
	// ORDER BY and LIMIT, and the indices of the args it needs.
	before       string
	beforeParams []int
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
			w.uniqueIdx = append(w.uniqueIdx, indicesIn(cols, u))
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
	w := &tableWrite{t: t, how: captureBefore, after: setsID}
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
	w.before, w.beforeParams = beforeImageQuery(t, ref, s)
	return w
}

// beforeImageQuery selects t's id columns from the rows the statement
// writes: "[WITH ...] SELECT <id columns> FROM <its tables> [WHERE ...]
// [ORDER BY ... LIMIT ...] FOR UPDATE", and the args it needs, in order.
func beforeImageQuery(t *table, ref string, s sqlparse.Statement) (string, []int) {
	var b strings.Builder
	var params []int
	fragment := func(prefix string, f *sqlparse.Fragment) {
		if f != nil {
			b.WriteString(prefix)
			b.WriteString(f.SQL)
			params = append(params, f.Params...)
		}
	}
	fragment("", s.With)
	if s.With != nil {
		b.WriteByte(' ')
	}
	b.WriteString("SELECT ")
	if s.MultiTable {
		b.WriteString(t.selectCols(ref, t.idCols))
	} else {
		b.WriteString(t.selectCols("", t.idCols))
	}
	b.WriteString(" FROM ")
	if s.From != nil { // the joins, or a PARTITION (...) list
		fragment("", s.From)
	} else {
		b.WriteString(quoteTable(t.schema, t.name))
	}
	order, limit := s.OrderBy, s.Limit
	if limit != nil && !t.orderIsTotal(s.OrderColumns) {
		// Without an order that ties never break, LIMIT may pick other
		// rows in the SELECT than in the write: read every row the WHERE
		// matches instead (more rows, never fewer).
		order, limit = nil, nil
	}
	fragment(" WHERE ", s.Where)
	fragment(" ORDER BY ", order)
	fragment(" LIMIT ", limit)
	b.WriteString(" FOR UPDATE")
	return b.String(), params
}

// selectCols is the select list of columns, qualified with ref when it is
// set ("t" or "db.t"). Temporal columns are read as text, so that keys and
// values do not depend on the connection's parseTime and loc.
func (t *table) selectCols(ref string, names []string) string {
	var q string
	if ref != "" {
		for _, part := range strings.Split(ref, ".") {
			q += quoteIdent(part) + "."
		}
	}
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
