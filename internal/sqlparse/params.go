package sqlparse

import (
	"cmp"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// marker stands in the AST for a ? placeholder. The parser leaves
// ParamMarkerExpr.Order at zero (numbering is the planner's job in TiDB), and
// restoring can put placeholders in another order than the text (INTERVAL ?
// DAY + ? becomes DATE_ADD(?, INTERVAL ? DAY)), so a fragment's Params can
// only be known by recording each placeholder as it is written.
type marker struct {
	*test_driver.ParamMarkerExpr
	written *[]int // where Restore records Order
}

// Restore writes the placeholder like ParamMarkerExpr does and records which
// arg it stands for.
func (m *marker) Restore(ctx *format.RestoreCtx) error {
	ctx.WritePlain("?")
	*m.written = append(*m.written, m.Order)
	return nil
}

// GetValue is never nil: restore code takes a nil value for an absent
// argument (TRIM(LEADING ? FROM s) would lose its placeholder).
func (m *marker) GetValue() any { return placeholderValue{} }

// placeholderValue is the value of a placeholder before args are bound.
type placeholderValue struct{}

// Accept visits the marker itself, not the embedded expression, so that the
// replacement survives later walks.
func (m *marker) Accept(v ast.Visitor) (ast.Node, bool) {
	n, _ := v.Enter(m)
	return v.Leave(n)
}

// preparer is the one walk over each parsed statement before it is read.
type preparer struct{ w *worker }

func (preparer) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (p preparer) Leave(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *test_driver.ParamMarkerExpr:
		m := p.w.newMarker()
		*m = marker{ParamMarkerExpr: x, written: &p.w.params}
		p.w.markers = append(p.w.markers, m)
		return m, true
	case *test_driver.ValueExpr:
		if x.Kind() == test_driver.KindBinaryLiteral && x.Type.GetFlag()&mysql.UnsignedFlag != 0 && len(x.GetBytes()) > 0 {
			return hexLiteral{x}, true
		}
		// The parser gives every string literal the connection charset, and
		// restoring would then write an introducer (_UTF8MB4'x') the text did
		// not have, which changes the literal's charset on a connection using
		// another one. Keep only introducers that were written.
		if x.Kind() == test_driver.KindString && x.Type.GetFlag()&mysql.UnderScoreCharsetFlag == 0 {
			x.Type.SetCharset("")
		}
	case *ast.FuncCallExpr:
		// Restore writes the name of an unqualified call bare, as it does
		// for built-in functions; a stored function named `0` or `a-b`
		// would then not parse. Such names are never built-in ones.
		if x.Tp == ast.FuncCallExprTypeKeyword && !plainName(x.FnName.O) {
			x.Tp = ast.FuncCallExprTypeGeneric
		}
	}
	return n, true
}

// plainName reports whether s can be written unquoted and still be read
// back as the same name.
func plainName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$') {
			return false
		}
	}
	return true
}

// newMarker takes a marker from the worker's slab. A full slab is replaced,
// not grown, since the AST points into it; the markers die with the AST at
// the end of the call, so the slab is reused by the next one.
func (w *worker) newMarker() *marker {
	if len(w.slab) == cap(w.slab) {
		w.slab = make([]marker, 0, max(16, 2*cap(w.slab)))
	}
	w.slab = w.slab[:len(w.slab)+1]
	return &w.slab[len(w.slab)-1]
}

// prepare replaces the placeholders of n by markers and readies the AST for
// restoring.
func (w *worker) prepare(n ast.StmtNode) {
	n.Accept(preparer{w})
}

// numberMarkers gives each placeholder its 0-based position in the text.
func (w *worker) numberMarkers() {
	ms := w.markers
	byOffset := func(a, b *marker) int { return cmp.Compare(a.Offset, b.Offset) }
	if !slices.IsSortedFunc(ms, byOffset) {
		slices.SortStableFunc(ms, byOffset)
	}
	// A node the AST references twice would be wrapped twice; both wrappers
	// share the expression and so the number.
	order := -1
	var prev *test_driver.ParamMarkerExpr
	for _, m := range ms {
		if m.ParamMarkerExpr != prev {
			order++
			prev = m.ParamMarkerExpr
		}
		m.Order = order
	}
}

// A marker must fit wherever the parser puts a placeholder.
var _ ast.ParamMarkerExpr = (*marker)(nil)

// markerCounter counts the placeholders of a subtree.
type markerCounter struct{ n int }

func (c *markerCounter) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*marker); ok {
		c.n++
	}
	return n, false
}

func (c *markerCounter) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// hexLiteral restores a hexadecimal literal as 0x..., whatever its written
// form. The parser keeps no trace of the form, and MariaDB tells them apart:
// 0x07 is a number in a numeric comparison, x'07' a string. Read as a
// number, a fragment can only select more rows than the statement, never
// fewer.
type hexLiteral struct{ *test_driver.ValueExpr }

// Restore writes 0x followed by the literal's bytes in hex.
func (h hexLiteral) Restore(ctx *format.RestoreCtx) error {
	ctx.WritePlainf("0x%x", h.GetBytes())
	return nil
}

// Accept visits the wrapper itself, so that the replacement survives later
// walks.
func (h hexLiteral) Accept(v ast.Visitor) (ast.Node, bool) {
	n, _ := v.Enter(h)
	return v.Leave(n)
}
