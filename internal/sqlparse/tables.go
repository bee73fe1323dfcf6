package sqlparse

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// tableName converts a parsed table name, keeping the written case.
func tableName(t *ast.TableName) TableName {
	return TableName{Schema: t.Schema.O, Name: t.Name.O}
}

// sameTable compares names the way MySQL does on a case-insensitive file
// system; a statement naming one table in two cases is not worth telling apart.
func sameTable(a, b TableName) bool {
	return strings.EqualFold(a.Schema, b.Schema) && strings.EqualFold(a.Name, b.Name)
}

// appendTable appends t unless tables already holds it (under the same
// Ref: a self-join may write one table through two aliases).
func appendTable(tables []TableName, t TableName) []TableName {
	for _, have := range tables {
		if sameTable(have, t) && strings.EqualFold(have.Ref, t.Ref) {
			return tables
		}
	}
	return append(tables, t)
}

// targetName is a written table with the name the statement refers to it by.
func targetName(s source) TableName {
	tn := tableName(s.table)
	switch {
	case s.alias != "":
		tn.Ref = s.alias
	case tn.Schema != "":
		tn.Ref = tn.Schema + "." + tn.Name
	default:
		tn.Ref = tn.Name
	}
	return tn
}

// source is one item of a FROM clause: a table, a CTE or a derived table.
type source struct {
	table *ast.TableName // nil for a derived table or a CTE
	alias string
	name  string // what the statement calls it: the alias, else the table name
}

// sources lists the items of table references in textual order; names in
// ctes are CTEs, not tables.
func sources(refs *ast.TableRefsClause, ctes *ast.WithClause) []source {
	if refs == nil || refs.TableRefs == nil {
		return nil
	}
	return appendSources(nil, refs.TableRefs, ctes)
}

func appendSources(out []source, n ast.ResultSetNode, ctes *ast.WithClause) []source {
	switch x := n.(type) {
	case *ast.Join:
		out = appendSources(out, x.Left, ctes)
		if x.Right != nil {
			out = appendSources(out, x.Right, ctes)
		}
	case *ast.TableSource:
		if j, ok := x.Source.(*ast.Join); ok {
			// A parenthesised join: its tables are sources of this one.
			return appendSources(out, j, ctes)
		}
		s := source{alias: x.AsName.O, name: x.AsName.O}
		if t, ok := x.Source.(*ast.TableName); ok {
			if s.name == "" {
				s.name = t.Name.O
			}
			if !isCTE(t, ctes) {
				s.table = t
			}
		}
		out = append(out, s)
	case *ast.TableName:
		s := source{name: x.Name.O}
		if !isCTE(x, ctes) {
			s.table = x
		}
		out = append(out, s)
	}
	return out
}

// isCTE reports whether t names one of the CTEs of with.
func isCTE(t *ast.TableName, with *ast.WithClause) bool {
	if with == nil || t.Schema.O != "" {
		return false
	}
	for _, c := range with.CTEs {
		if strings.EqualFold(c.Name.O, t.Name.O) {
			return true
		}
	}
	return false
}

// resolve finds the source a qualifier (alias, table or schema.table) names.
// An alias hides the name of its table, as in MySQL.
func resolve(srcs []source, schema, name string) (source, bool) {
	for _, s := range srcs {
		if schema == "" && s.alias != "" && strings.EqualFold(s.alias, name) {
			return s, true
		}
	}
	for _, s := range srcs {
		if s.alias != "" || s.table == nil && schema != "" {
			continue
		}
		if strings.EqualFold(s.name, name) && (schema == "" || strings.EqualFold(s.table.Schema.O, schema)) {
			return s, true
		}
	}
	return source{}, false
}

// target is the table a qualifier of a multi-table statement writes; ok is
// false for CTEs and derived tables, which are not written.
func target(srcs []source, schema, name string) (TableName, bool) {
	s, found := resolve(srcs, schema, name)
	if !found {
		// MySQL rejects the statement; report what it names.
		return TableName{Schema: schema, Name: name}, true
	}
	if s.table == nil {
		return TableName{}, false
	}
	return targetName(s), true
}

// allTables lists the real tables among srcs.
func allTables(srcs []source) []TableName {
	var out []TableName
	for _, s := range srcs {
		if s.table != nil {
			out = appendTable(out, targetName(s))
		}
	}
	return out
}

// updateTargets lists the tables whose columns a multi-table UPDATE sets.
func updateTargets(srcs []source, list []*ast.Assignment) []TableName {
	var out []TableName
	for _, a := range list {
		c := a.Column
		if c.Table.O == "" {
			// Only the server's catalog knows which table holds the column.
			for _, t := range allTables(srcs) {
				out = appendTable(out, t)
			}
			continue
		}
		if t, ok := target(srcs, c.Schema.O, c.Table.O); ok {
			out = appendTable(out, t)
		}
	}
	return out
}

// deleteTargets lists the tables a multi-table DELETE names before FROM (or
// after FROM in the USING form).
func deleteTargets(srcs []source, list *ast.DeleteTableList) []TableName {
	if list == nil {
		return nil
	}
	out := make([]TableName, 0, len(list.Tables))
	for _, t := range list.Tables {
		if tn, ok := target(srcs, t.Schema.O, t.Name.O); ok {
			out = appendTable(out, tn)
		}
	}
	return out
}

// ddlTables lists the tables a DDL statement creates, changes or drops.
func ddlTables(node ast.StmtNode) []TableName {
	var out []TableName
	switch n := node.(type) {
	case *ast.CreateTableStmt:
		// Not the LIKE source, the SELECT's tables or foreign key parents.
		out = append(out, tableName(n.Table))
	case *ast.AlterTableStmt:
		out = append(out, tableName(n.Table))
		for _, spec := range n.Specs {
			// RENAME TO and EXCHANGE PARTITION ... WITH TABLE name a second table.
			if spec.NewTable != nil {
				out = appendTable(out, tableName(spec.NewTable))
			}
		}
	case *ast.CreateViewStmt:
		out = append(out, tableName(n.ViewName))
	case *ast.CreateIndexStmt:
		out = append(out, tableName(n.Table))
	case *ast.DropIndexStmt:
		out = append(out, tableName(n.Table))
	case ast.DDLNode:
		v := tableCollector{tables: out}
		node.Accept(&v)
		out = v.tables
	}
	// Procedures, accounts and administrative statements write no table.
	return out
}

// tableCollector gathers the table names of a statement outside its queries.
type tableCollector struct{ tables []TableName }

func (c *tableCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.SubqueryExpr, *ast.ReferenceDef:
		return n, true
	case *ast.TableName:
		c.tables = appendTable(c.tables, tableName(x))
	}
	return n, false
}

func (c *tableCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }
