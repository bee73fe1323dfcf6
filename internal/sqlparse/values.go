package sqlparse

import (
	"math"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/charset"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// insertStatement fills st from INSERT or REPLACE.
func insertStatement(n *ast.InsertStmt, st *Statement) {
	st.Kind = Insert
	if n.IsReplace {
		st.Kind = Replace
	}
	st.Ignore = n.IgnoreErr
	if t := insertTarget(n); t != nil {
		st.Tables = []TableName{tableName(t)}
	}
	if len(n.Columns) > 0 {
		st.Columns = make([]string, len(n.Columns))
		for i, c := range n.Columns {
			st.Columns[i] = c.Name.O
		}
	}
	switch sel := n.Select.(type) {
	case nil:
		st.Rows = valueRows(len(n.Lists), func(i int) []ast.ExprNode { return n.Lists[i] })
	case *ast.SelectStmt:
		// VALUES ROW(...), ROW(...) arrives as a VALUES statement.
		if sel.Kind == ast.SelectStmtKindValues {
			st.Rows = valueRows(len(sel.Lists), func(i int) []ast.ExprNode { return sel.Lists[i].Values })
		} else {
			st.Select = true
		}
	default:
		st.Select = true
	}
	st.OnDuplicate = assignments(n.OnDuplicate, nil)
}

// insertTarget is the table INSERT writes; the grammar allows exactly one.
func insertTarget(n *ast.InsertStmt) *ast.TableName {
	if n.Table == nil || n.Table.TableRefs == nil {
		return nil
	}
	ts, ok := n.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil
	}
	t, _ := ts.Source.(*ast.TableName)
	return t
}

// valueRows classifies count rows, all sharing one backing array.
func valueRows(count int, row func(int) []ast.ExprNode) [][]Value {
	if count == 0 {
		return nil
	}
	total := 0
	for i := range count {
		total += len(row(i))
	}
	all := make([]Value, total)
	rows := make([][]Value, count)
	for i := range count {
		exprs := row(i)
		r := all[:len(exprs):len(exprs)]
		all = all[len(exprs):]
		for j, e := range exprs {
			r[j] = value(e)
		}
		rows[i] = r
	}
	return rows
}

// assignments converts SET or ON DUPLICATE KEY UPDATE items. qualifier maps
// a column's written qualifier to the name to report; nil keeps it.
func assignments(list []*ast.Assignment, qualifier func(*ast.ColumnName) string) []Assignment {
	if len(list) == 0 {
		return nil
	}
	out := make([]Assignment, len(list))
	for i, a := range list {
		table := a.Column.Table.O
		if qualifier != nil {
			table = qualifier(a.Column)
		}
		out[i] = Assignment{Table: table, Column: a.Column.Name.O, Value: value(a.Expr)}
	}
	return out
}

// value classifies one INSERT value or assignment right-hand side.
func value(e ast.ExprNode) Value {
	switch x := unparen(e).(type) {
	case *marker:
		return Value{Kind: Param, Param: x.Order}
	case hexLiteral:
		if lit, ok := literal(x.ValueExpr); ok {
			return Value{Kind: Literal, Literal: lit}
		}
	case *test_driver.ValueExpr:
		if x.Kind() == test_driver.KindNull {
			return Value{Kind: Null}
		}
		if lit, ok := literal(x); ok {
			return Value{Kind: Literal, Literal: lit}
		}
	case *ast.DefaultExpr:
		// DEFAULT(col) is an expression: the default of another column.
		if x.Name == nil {
			return Value{Kind: Default}
		}
	case *ast.UnaryOperationExpr:
		if lit, ok := signed(x); ok {
			return Value{Kind: Literal, Literal: lit}
		}
	}
	return Value{Kind: Expr}
}

// literal converts a constant to the Go value Value.Literal documents.
func literal(x *test_driver.ValueExpr) (any, bool) {
	switch x.Kind() {
	case test_driver.KindInt64:
		return x.GetInt64(), true
	case test_driver.KindUint64:
		return x.GetUint64(), true
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return x.GetFloat64(), true
	case test_driver.KindMysqlDecimal:
		// Text keeps the exact value; a float64 would not.
		return x.GetMysqlDecimal().String(), true
	case test_driver.KindString:
		if x.Type.GetCharset() == charset.CharsetBin {
			return []byte(x.GetString()), true
		}
		return x.GetString(), true
	case test_driver.KindBytes, test_driver.KindBinaryLiteral:
		return x.GetBytes(), true
	}
	return nil, false
}

// signed folds a sign in front of a numeric constant (the grammar has no
// negative literals), so that -1 is the Literal int64(-1).
func signed(x *ast.UnaryOperationExpr) (any, bool) {
	if x.Op != opcode.Minus && x.Op != opcode.Plus {
		return nil, false
	}
	var v any
	switch inner := x.V.(type) {
	case *test_driver.ValueExpr:
		switch inner.Kind() {
		case test_driver.KindInt64, test_driver.KindUint64, test_driver.KindFloat32,
			test_driver.KindFloat64, test_driver.KindMysqlDecimal:
			v, _ = literal(inner)
		default:
			// +'1' and -x'01' are conversions, not numbers as written.
			return nil, false
		}
	case *ast.UnaryOperationExpr:
		var ok bool
		if v, ok = signed(inner); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	if x.Op == opcode.Plus {
		return v, true
	}
	switch n := v.(type) {
	case int64:
		if n == math.MinInt64 {
			return nil, false
		}
		return -n, true
	case uint64:
		// Only the magnitude of MinInt64 lexes as unsigned and still fits.
		if n == 1<<63 {
			return int64(math.MinInt64), true
		}
		return nil, false
	case float64:
		return -n, true
	case string: // decimal text
		if len(n) > 0 && n[0] == '-' {
			return n[1:], true
		}
		return "-" + n, true
	}
	return nil, false
}
