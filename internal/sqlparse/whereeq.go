package sqlparse

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// appendWhereEq appends the "column = constant" conditions that e, a
// single-table WHERE on table, requires: those reached through AND only, as
// anything under OR or NOT does not pin the row.
func appendWhereEq(out []Assignment, e ast.ExprNode, table *ast.TableName) []Assignment {
	b, ok := unparen(e).(*ast.BinaryOperationExpr)
	if !ok {
		return out
	}
	switch b.Op {
	case opcode.LogicAnd:
		out = appendWhereEq(out, b.L, table)
		return appendWhereEq(out, b.R, table)
	case opcode.EQ:
		if a, ok := columnEquals(b.L, b.R, table); ok {
			return append(out, a)
		}
		if a, ok := columnEquals(b.R, b.L, table); ok {
			return append(out, a)
		}
	}
	return out
}

// columnEquals reads "col = val" when col is a column of table and val a
// literal or a placeholder. NULL is left out: = NULL matches no row.
func columnEquals(col, val ast.ExprNode, table *ast.TableName) (Assignment, bool) {
	c, ok := unparen(col).(*ast.ColumnNameExpr)
	if !ok {
		return Assignment{}, false
	}
	n := c.Name
	if n.Table.O != "" && !strings.EqualFold(n.Table.O, table.Name.O) ||
		n.Schema.O != "" && !strings.EqualFold(n.Schema.O, table.Schema.O) {
		return Assignment{}, false
	}
	v := value(val)
	if v.Kind != Literal && v.Kind != Param {
		return Assignment{}, false
	}
	return Assignment{Table: n.Table.O, Column: n.Name.O, Value: v}, true
}

// unparen strips the parentheses around e.
func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}
