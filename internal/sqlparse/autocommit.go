package sqlparse

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// setStatement fills st from SET: SetAutocommit when it sets the session's
// autocommit, Other for every other variable.
func setStatement(n *ast.SetStmt, st *Statement) {
	for _, v := range n.Variables {
		// SET GLOBAL autocommit only affects later sessions.
		if !v.IsSystem || v.IsGlobal || v.IsInstance || !strings.EqualFold(v.Name, "autocommit") {
			continue
		}
		// Assignments apply left to right: the last one wins.
		st.Kind = SetAutocommit
		on, known := booleanValue(v.Value)
		st.Autocommit, st.AutocommitUnknown = on, !known
	}
}

// booleanValue reads the constants MySQL accepts for a boolean system
// variable: 0, 1, ON, OFF, TRUE, FALSE (as keywords, names or strings).
func booleanValue(e ast.ExprNode) (on, known bool) {
	switch x := e.(type) {
	case *test_driver.ValueExpr:
		switch x.Kind() {
		case test_driver.KindInt64:
			switch x.GetInt64() {
			case 0:
				return false, true
			case 1:
				return true, true
			}
		case test_driver.KindUint64:
			switch x.GetUint64() {
			case 0:
				return false, true
			case 1:
				return true, true
			}
		case test_driver.KindString:
			return booleanWord(x.GetString())
		}
	case *ast.ColumnNameExpr:
		// OFF is not a keyword and parses as a column name.
		if x.Name.Table.O == "" {
			return booleanWord(x.Name.Name.O)
		}
	}
	return false, false
}

func booleanWord(s string) (on, known bool) {
	switch {
	case strings.EqualFold(s, "on"), strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "off"), strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}
