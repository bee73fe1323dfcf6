package mysqletcd

import (
	"strings"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// rowsQuery builds a SELECT over the rows an UPDATE or DELETE writes:
// "[WITH ...] SELECT <list> FROM <its tables> [WHERE (<where>) [AND
// <and>...]] [ORDER BY ...] [LIMIT ...] [FOR UPDATE]". The fragments'
// Params name the statement's args, or (negative) values the driver
// supplies (window.go).
type rowsQuery struct {
	t     *table
	ref   string // how a multi-table statement names t
	s     sqlparse.Statement
	list  []*sqlparse.Fragment
	and   []*sqlparse.Fragment // conditions besides the WHERE
	order *sqlparse.Fragment
	limit *sqlparse.Fragment
	lock  bool
}

// build writes the query and lists its args, in order.
func (q rowsQuery) build() (string, []int) {
	var b strings.Builder
	var params []int
	fragment := func(prefix string, f *sqlparse.Fragment) {
		if f != nil {
			b.WriteString(prefix)
			b.WriteString(f.SQL)
			params = append(params, f.Params...)
		}
	}
	fragment("", q.s.With)
	if q.s.With != nil {
		b.WriteByte(' ')
	}
	b.WriteString("SELECT ")
	for i, f := range q.list {
		if i > 0 {
			b.WriteString(", ")
		}
		fragment("", f)
	}
	b.WriteString(" FROM ")
	if q.s.From != nil { // the joins, or a PARTITION (...) list
		fragment("", q.s.From)
	} else {
		b.WriteString(quoteTable(q.t.schema, q.t.name))
	}
	q.where(fragment)
	fragment(" ORDER BY ", q.order)
	fragment(" LIMIT ", q.limit)
	if q.lock {
		b.WriteString(" FOR UPDATE")
	}
	return b.String(), params
}

// where writes the WHERE clause: the statement's, and the extra
// conditions.
func (q rowsQuery) where(fragment func(string, *sqlparse.Fragment)) {
	if len(q.and) == 0 {
		fragment(" WHERE ", q.s.Where)
		return
	}
	prefix := " WHERE "
	if q.s.Where != nil {
		fragment(" WHERE (", q.s.Where)
		prefix = ") AND "
	}
	for _, f := range q.and {
		fragment(prefix, f)
		prefix = " AND "
	}
}

// imageList is the select list of a before-image: t's id columns, the
// given ORDER BY keys, then, when digested, a digest of each column the
// UPDATE sets.
func (w *tableWrite) imageList(ref string, keys []*sqlparse.Fragment, digested bool) []*sqlparse.Fragment {
	list := []*sqlparse.Fragment{{SQL: w.t.selectCols(ref, w.t.idCols)}}
	list = append(list, keys...)
	if digested {
		list = append(list, &sqlparse.Fragment{SQL: digests(ref, w.digestCols)})
	}
	return list
}

// digests is the select list of a digest per column: MD5 of its value's
// bytes, NULL for NULL. Rows whose digests differ hold different values;
// equal digests prove nothing, which only costs a resync (phantoms.go).
func digests(ref string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "MD5(CAST(" + qualify(ref) + quoteIdent(c) + " AS BINARY))"
	}
	return strings.Join(out, ", ")
}
