package sqlparse

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
)

// parseOne parses sql and requires exactly one statement.
func parseOne(t testing.TB, sql string) Statement {
	t.Helper()
	stmts, err := Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	if len(stmts) != 1 {
		t.Fatalf("Parse(%q) = %d statements, want 1", sql, len(stmts))
	}
	return stmts[0]
}

// placeholderOffsets returns the byte offset of every ? placeholder of sql
// as the parser sees them, in textual order.
func placeholderOffsets(t testing.TB, sql string) []int {
	t.Helper()
	w := &worker{p: parser.New()}
	nodes, _, err := w.p.ParseSQL(sql)
	if alt, ok := withoutWork(sql); err != nil && ok {
		nodes, _, err = w.p.ParseSQL(alt)
	}
	if err != nil {
		t.Fatalf("parse %q: %v", sql, err)
	}
	for _, n := range nodes {
		w.prepare(n)
	}
	w.numberMarkers()
	var offsets []int
	for _, m := range w.markers {
		if len(offsets) == 0 || offsets[len(offsets)-1] != m.Offset {
			offsets = append(offsets, m.Offset)
		}
	}
	return offsets
}

// argValue is the distinct number that stands for arg i when placeholders
// are replaced by values.
func argValue(i int) string { return strconv.Itoa(900000 + i) }

// substitute replaces the placeholders at offsets by their argValue.
func substitute(t testing.TB, sql string, offsets []int) string {
	t.Helper()
	var b strings.Builder
	last := 0
	for i, off := range offsets {
		if sql[off] != '?' {
			t.Fatalf("placeholder %d of %q at %d is %q", i, sql, off, sql[off])
		}
		b.WriteString(sql[last:off])
		b.WriteString(argValue(i))
		last = off + 1
	}
	b.WriteString(sql[last:])
	return b.String()
}

// bind replaces the ? of a fragment by the argValue of the args its Params
// name, as a driver binding the statement's args would.
func bind(t testing.TB, f *Fragment) string {
	t.Helper()
	if f == nil {
		return ""
	}
	parts := strings.Split(f.SQL, "?")
	if len(parts)-1 != len(f.Params) {
		t.Fatalf("fragment %q has %d ? but Params %v", f.SQL, len(parts)-1, f.Params)
	}
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(p)
		if i < len(f.Params) {
			b.WriteString(argValue(f.Params[i]))
		}
	}
	return b.String()
}

// selectFor builds the locking read the fragments of an UPDATE or DELETE
// are meant for, with the args its placeholders take.
func selectFor(st Statement) (string, []int) {
	var b strings.Builder
	var args []int
	add := func(prefix string, f *Fragment) {
		if f != nil {
			b.WriteString(prefix)
			b.WriteString(f.SQL)
			args = append(args, f.Params...)
		}
	}
	add("", st.With)
	if st.With != nil {
		b.WriteString(" ")
	}
	b.WriteString("SELECT 1 FROM ")
	if st.From != nil {
		add("", st.From)
	} else {
		b.WriteString(quoteTable(st.Tables[0]))
	}
	add(" WHERE ", st.Where)
	add(" ORDER BY ", st.OrderBy)
	add(" LIMIT ", st.Limit)
	b.WriteString(" FOR UPDATE")
	return b.String(), args
}

func quoteTable(t TableName) string {
	q := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
	if t.Schema == "" {
		return q(t.Name)
	}
	return q(t.Schema) + "." + q(t.Name)
}

// checkSelectFor requires the fragments of st to make a valid locking read
// whose placeholders are the fragments' ones.
func checkSelectFor(t testing.TB, st Statement) {
	t.Helper()
	if len(st.Tables) == 0 && st.From == nil {
		return
	}
	sel, args := selectFor(st)
	stmts, err := Parse(sel)
	if err != nil {
		t.Errorf("fragments make an invalid SELECT %q: %v", sel, err)
		return
	}
	if len(stmts) != 1 || stmts[0].Kind != Other {
		t.Errorf("fragments make %q, not one SELECT", sel)
		return
	}
	if got := len(placeholderOffsets(t, sel)); got != len(args) {
		t.Errorf("SELECT %q has %d placeholders, fragments name %d args", sel, got, len(args))
	}
}

// checkParamsBind requires that binding the args a fragment's Params name
// gives the fragment restored from the statement with its args inlined: the
// Params are then the right args in the right order.
func checkParamsBind(t testing.TB, sql string) {
	t.Helper()
	if !strings.Contains(sql, "?") {
		return
	}
	offsets := placeholderOffsets(t, sql)
	if len(offsets) == 0 {
		return
	}
	withArgs := substitute(t, sql, offsets)
	got, err := Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	want, err := Parse(withArgs)
	if err != nil {
		t.Fatalf("Parse(%q): %v", withArgs, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%q and %q parse to %d and %d statements", sql, withArgs, len(got), len(want))
	}
	for i := range got {
		pairs := []struct {
			name      string
			got, want *Fragment
		}{
			{"With", got[i].With, want[i].With},
			{"From", got[i].From, want[i].From},
			{"Where", got[i].Where, want[i].Where},
			{"OrderBy", got[i].OrderBy, want[i].OrderBy},
			{"Limit", got[i].Limit, want[i].Limit},
		}
		for _, p := range pairs {
			if (p.got == nil) != (p.want == nil) {
				t.Errorf("%q: %s is %v with placeholders, %v with args", sql, p.name, p.got, p.want)
				continue
			}
			if b := bind(t, p.got); p.want != nil && b != p.want.SQL {
				t.Errorf("%q: %s %q with Params %v binds to %q, want %q", sql, p.name, p.got.SQL, p.got.Params, b, p.want.SQL)
			}
		}
		checkValueParams(t, sql, got[i], want[i])
	}
}

// checkValueParams requires each Param value to be where its arg's number
// appears once inlined.
func checkValueParams(t testing.TB, sql string, got, want Statement) {
	t.Helper()
	check := func(what string, g, w Value) {
		if g.Kind != Param {
			return
		}
		if lit := fmt.Sprint(w.Literal); w.Kind != Literal || lit != argValue(g.Param) {
			t.Errorf("%q: %s is arg %d, but inlining args gives %+v", sql, what, g.Param, w)
		}
	}
	for r := range got.Rows {
		for c := range got.Rows[r] {
			check(fmt.Sprintf("row %d value %d", r, c), got.Rows[r][c], want.Rows[r][c])
		}
	}
	for i := range got.Set {
		check("SET "+got.Set[i].Column, got.Set[i].Value, want.Set[i].Value)
	}
	for i := range got.OnDuplicate {
		check("ON DUPLICATE "+got.OnDuplicate[i].Column, got.OnDuplicate[i].Value, want.OnDuplicate[i].Value)
	}
}

func tableStrings(tables []TableName) []string {
	out := make([]string, len(tables))
	for i, tn := range tables {
		out[i] = tn.Name
		if tn.Schema != "" {
			out[i] = tn.Schema + "." + tn.Name
		}
	}
	return out
}

func kinds(stmts []Statement) []Kind {
	out := make([]Kind, len(stmts))
	for i, s := range stmts {
		out[i] = s.Kind
	}
	return out
}
