package mysqletcd

import (
	"context"
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// orderWindow is the before-image of UPDATE or DELETE ... ORDER BY ...
// LIMIT n whose order may tie. The write takes the first n rows in that
// order, and among rows that tie, whichever the server meets first: the
// driver cannot know which. So it reads the first n rows FOR UPDATE, with
// their ORDER BY values, as the write would; when n come back, it reads,
// FOR UPDATE too, every row that ties with the last of them, and captures
// both: more rows than the write takes, never fewer.
//
// Reading one row more than the LIMIT instead, to learn whether the last
// row ties, would save the second read when it does not, but a different
// LIMIT can make the server choose another plan: measured on MariaDB 10.11,
// a 200-row queue read ORDER BY prio LIMIT 1 through the prio index, and
// LIMIT 2 by scanning (and so locking) the whole table. The tie read
// compares the ORDER BY values for equality, which an index on them serves.
type orderWindow struct {
	keys []orderKey
	// count is the LIMIT written as a number; countArg the arg of a LIMIT
	// ?, or -1.
	count    uint64
	countArg int
	// tie reads the rows that tie with row n (argTieValue(i) stands for
	// its i-th ORDER BY value); tieDigested with the digests of the
	// columns the UPDATE sets, as the digested before-image.
	tie, tieDigested             string
	tieParams, tieDigestedParams []int
}

// argTieValue is the param of the tie read that takes row n's i-th ORDER
// BY value: negative, so as not to be taken for one of the statement's
// args.
func argTieValue(i int) int { return -1 - i }

// orderKey is one ORDER BY item as the window reads it and compares it
// back: the tie read's condition is "<compare> <=> <bind>", bind taking
// the value read.
type orderKey struct {
	read, compare *sqlparse.Fragment
	bind          string
	// bindBytes: the value is bound as bytes (a binary string), not as
	// text in the connection's character set.
	bindBytes bool
}

// volatileOrderWords make an ORDER BY whose values may differ between the
// driver's read and the write: the window cannot predict its rows.
var volatileOrderWords = []string{
	"RAND", "UUID", "UUID_SHORT", "SYS_GUID", "NOW", "SYSDATE", "CURRENT_TIMESTAMP", "CURRENT_TIME",
	"CURRENT_DATE", "CURTIME", "CURDATE", "LOCALTIME", "LOCALTIMESTAMP", "UTC_TIMESTAMP", "UTC_TIME",
	"UTC_DATE", "UNIX_TIMESTAMP", "NEXTVAL", "LASTVAL", "NEXT", "LAST_INSERT_ID", "ROW_COUNT",
	"FOUND_ROWS", "SELECT",
}

// newOrderWindow plans the window of a statement with ORDER BY and LIMIT;
// nil when it cannot: no ORDER BY, an order that may change between the
// reads and the write, or a LIMIT that is not a number or one arg.
func newOrderWindow(t *table, s sqlparse.Statement) *orderWindow {
	if len(s.OrderItems) == 0 || s.Limit == nil || strings.Contains(s.OrderBy.SQL, "@") {
		return nil
	}
	for _, word := range volatileOrderWords {
		if hasWord(s.OrderBy.SQL, word) {
			return nil
		}
	}
	win := &orderWindow{countArg: -1}
	switch {
	case s.Limit.SQL == "?" && len(s.Limit.Params) == 1:
		win.countArg = s.Limit.Params[0]
	default:
		n, err := strconv.ParseUint(s.Limit.SQL, 10, 64)
		if err != nil {
			return nil // "offset, count": not for UPDATE or DELETE
		}
		win.count = n
	}
	for _, it := range s.OrderItems {
		win.keys = append(win.keys, newOrderKey(t, it))
	}
	return win
}

// newOrderKey reads a plain column so that its values compare back
// exactly: TIMESTAMP as seconds since the epoch (a local time may name two
// instants), FLOAT as DOUBLE (its text is rounded), text as the bytes the
// column stores, compared back in the column's character set and
// collation (the connection's character set may not hold every
// character). An expression is read as it is.
func newOrderKey(t *table, it sqlparse.OrderItem) orderKey {
	k := orderKey{read: it.Expr, compare: it.Expr, bind: "?"}
	c, ok := t.column(it.Column)
	wrap := func(before, after string) *sqlparse.Fragment {
		return &sqlparse.Fragment{SQL: before + it.Expr.SQL + after, Params: it.Expr.Params}
	}
	switch {
	case it.Column == "" || !ok:
	case c.dataType == "timestamp":
		k.read = wrap("UNIX_TIMESTAMP(", ")")
		k.compare = k.read
	case c.dataType == "float" || c.dataType == "double":
		k.read = wrap("(", ") + 0e0")
		k.compare = k.read
	case c.textual() && plainName(c.collation):
		k.read = wrap("CAST(", " AS BINARY)")
		charset, _, _ := strings.Cut(c.collation, "_")
		// CAST: on the prepare path bytes arrive as text in the
		// connection's character set, which CAST AS BINARY gives back.
		k.bind = "CONVERT(CAST(? AS BINARY) USING " + charset + ") COLLATE " + c.collation
		k.bindBytes = true
	default:
		k.bindBytes = c.binary || c.dataType == "bit"
	}
	return k
}

// plainName reports a collation name that can go into SQL as it is.
func plainName(name string) bool {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return strings.Contains(name, "_")
}

// plan builds the window's reads from the statement's before-image q
// (its tables and WHERE), with the digests or without, and returns the
// first: q with the ORDER BY values after the id columns, and the
// statement's ORDER BY and LIMIT.
func (win *orderWindow) plan(w *tableWrite, q rowsQuery, digested bool) rowsQuery {
	keys := make([]*sqlparse.Fragment, len(win.keys))
	for i, k := range win.keys {
		keys[i] = k.read
	}
	q.list = w.imageList(q.ref, keys, digested)
	tie := q
	for i, k := range win.keys {
		tie.and = append(tie.and, &sqlparse.Fragment{
			SQL:    k.compare.SQL + " <=> " + k.bind,
			Params: append(append([]int(nil), k.compare.Params...), argTieValue(i)),
		})
	}
	if digested {
		win.tieDigested, win.tieDigestedParams = tie.build()
	} else {
		win.tie, win.tieParams = tie.build()
	}
	q.order, q.limit = q.s.OrderBy, q.s.Limit
	return q
}

// limit is the statement's LIMIT n; ok is false when its arg is not a
// count.
func (win *orderWindow) limit(args []driver.NamedValue) (n uint64, ok bool) {
	if win.countArg < 0 {
		return win.count, true
	}
	if win.countArg >= len(args) {
		return 0, false
	}
	switch v := args[win.countArg].Value.(type) {
	case int64:
		return uint64(v), v >= 0
	case uint64:
		return v, true
	}
	return 0, false
}

// images reads the rows the write takes, FOR UPDATE, digested under weak
// isolation. unknown is true when the window cannot tell them all (an
// ORDER BY value it cannot compare back): the table then resyncs.
func (win *orderWindow) images(ctx context.Context, conn driver.Conn, w *tableWrite, args []driver.NamedValue, weak bool) (imgs [][]any, unknown bool, err error) {
	query, params, digested := w.imageRead(weak)
	rows, err := queryRows(ctx, conn, query, pickArgs(args, params))
	if err != nil || len(rows) == 0 {
		return rows, false, err
	}
	if n, ok := win.limit(args); ok && uint64(len(rows)) < n {
		return rows, false, nil // every row the WHERE matches
	}
	tieArgs, ok := win.tieValues(win.values(w, rows[len(rows)-1]))
	if !ok {
		return rows, true, nil
	}
	tie, tieParams := win.tie, win.tieParams
	if digested {
		tie, tieParams = win.tieDigested, win.tieDigestedParams
	}
	ties, err := queryRows(ctx, conn, tie, bindArgs(args, tieParams, tieArgs))
	if err != nil {
		return nil, false, err
	}
	return appendNewRows(w.t, rows, ties), false, nil
}

// values are the ORDER BY values of an image row, which follow the id
// columns.
func (win *orderWindow) values(w *tableWrite, row []any) []any {
	at := len(w.t.idCols)
	return row[at : at+len(win.keys)]
}

// tieValues are the args that compare the tie read's keys with row n's
// values. An expression's text is bound as text, so that it ties under the
// expression's collation; it comes back in the connection's character set
// and goes out in it. ok is false for a value that cannot be bound
// exactly (a FLOAT expression, whose text is rounded).
func (win *orderWindow) tieValues(vals []any) ([]any, bool) {
	out := make([]any, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case float32:
			return nil, false
		case []byte:
			if win.keys[i].bindBytes {
				out[i] = v
			} else {
				out[i] = string(v)
			}
		default:
			out[i] = v
		}
	}
	return out, true
}

// bindArgs gives a driver read its args: each param names a statement arg
// (>= 0), or a tie value (argTieValue(i)).
func bindArgs(args []driver.NamedValue, params []int, tie []any) []driver.NamedValue {
	out := make([]driver.NamedValue, 0, len(params))
	for _, p := range params {
		var v any
		switch {
		case p >= len(args):
			continue
		case p >= 0:
			v = args[p].Value
		case -1-p < len(tie):
			v = tie[-1-p]
		}
		out = append(out, driver.NamedValue{Ordinal: len(out) + 1, Value: v})
	}
	return out
}

// appendNewRows appends to rows the rows of more that it lacks, by row id.
func appendNewRows(t *table, rows, more [][]any) [][]any {
	seen := make(map[string]bool, len(rows))
	for _, r := range rows {
		seen[t.rowKey(r)] = true
	}
	for _, r := range more {
		if k := t.rowKey(r); !seen[k] {
			seen[k] = true
			rows = append(rows, r)
		}
	}
	return rows
}

// rowKey identifies an image row (id columns first) by its row id.
func (t *table) rowKey(row []any) string {
	var b strings.Builder
	for _, c := range t.rowID {
		col, _ := t.column(c)
		b.WriteString(keyText(col, row[indexFold(t.idCols, c)]))
		b.WriteByte(0)
	}
	return b.String()
}
