package sqlparse

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// updateStatement fills st from single- or multi-table UPDATE.
func (w *worker) updateStatement(n *ast.UpdateStmt, st *Statement) error {
	st.Kind = Update
	st.Ignore = n.IgnoreErr
	srcs := sources(n.TableRefs, n.With)
	st.MultiTable = n.MultipleTable || len(srcs) != 1 || n.With != nil
	if len(srcs) == 1 {
		st.Tables = singleTarget(srcs[0])
	} else {
		st.Tables = updateTargets(srcs, n.List)
	}
	st.Set = assignments(n.List, func(c *ast.ColumnName) string {
		if c.Table.O == "" {
			return ""
		}
		if s, ok := resolve(srcs, c.Schema.O, c.Table.O); ok && s.alias != "" && s.table != nil {
			return s.table.Name.O
		}
		return c.Table.O
	})
	return w.dmlFragments(st, srcs, dmlClauses{refs: n.TableRefs, with: n.With, where: n.Where, order: n.Order, limit: n.Limit})
}

// deleteStatement fills st from single- or multi-table DELETE.
func (w *worker) deleteStatement(n *ast.DeleteStmt, st *Statement) error {
	st.Kind = Delete
	st.Ignore = n.IgnoreErr
	srcs := sources(n.TableRefs, n.With)
	st.MultiTable = n.IsMultiTable || len(srcs) != 1 || n.With != nil
	if n.IsMultiTable {
		st.Tables = deleteTargets(srcs, n.Tables)
	} else if len(srcs) == 1 {
		st.Tables = singleTarget(srcs[0])
	}
	return w.dmlFragments(st, srcs, dmlClauses{refs: n.TableRefs, with: n.With, where: n.Where, order: n.Order, limit: n.Limit})
}

// singleTarget is the table of a single-table statement; none for a CTE.
func singleTarget(s source) []TableName {
	if s.table == nil {
		return nil
	}
	return []TableName{tableName(s.table)}
}

// dmlClauses are the parts of UPDATE and DELETE that become fragments.
type dmlClauses struct {
	refs  *ast.TableRefsClause
	with  *ast.WithClause
	where ast.ExprNode
	order *ast.OrderByClause
	limit *ast.Limit
}

// dmlFragments restores the clauses that select the rows UPDATE or DELETE
// touches.
func (w *worker) dmlFragments(st *Statement, srcs []source, c dmlClauses) error {
	var err error
	// The fragments become a locking read (SELECT ... FOR UPDATE), but a
	// locking clause does not reach into subqueries, which would read an
	// older snapshot than the write does: lock them too.
	lockSubqueries(c.where)
	if c.refs != nil {
		lockSubqueries(c.refs)
	}
	if c.with != nil {
		if st.With, err = w.fragment("with", c.with, c.with); err != nil {
			return err
		}
		// WithClause writes a separator for the statement that follows.
		st.With.SQL = trimSpaceRight(st.With.SQL)
	}
	switch {
	case st.MultiTable:
		if st.From, err = w.fragment("from", c.refs, c.refs); err != nil {
			return err
		}
	case len(srcs) == 1 && srcs[0].table != nil:
		t := srcs[0].table
		if srcs[0].alias != "" {
			rewriteAlias(srcs[0].alias, t, c.where, c.order)
		}
		st.WhereEq = appendWhereEq(nil, c.where, t)
		// PARTITION (...) narrows the rows: the table name alone would
		// select too many.
		if len(t.PartitionNames) > 0 {
			if st.From, err = w.fragment("from", t, t); err != nil {
				return err
			}
		}
	}
	if c.where != nil {
		if st.Where, err = w.fragment("where", c.where, c.where); err != nil {
			return err
		}
	}
	if c.order != nil && len(c.order.Items) > 0 {
		if st.OrderBy, err = w.fragment("order by", c.order, orderItems{c.order}); err != nil {
			return err
		}
		st.OrderColumns = orderColumns(c.order)
		if st.OrderItems, err = w.orderItems(c.order); err != nil {
			return err
		}
	}
	if c.limit != nil && c.limit.Count != nil {
		if st.Limit, err = w.fragment("limit", c.limit, limitValues{c.limit}); err != nil {
			return err
		}
	}
	return nil
}

func trimSpaceRight(s string) string {
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// orderColumns lists the ORDER BY items when all are plain columns.
func orderColumns(order *ast.OrderByClause) []string {
	cols := make([]string, 0, len(order.Items))
	for _, it := range order.Items {
		c, ok := unparen(it.Expr).(*ast.ColumnNameExpr)
		if !ok {
			return nil
		}
		cols = append(cols, c.Name.Name.O)
	}
	return cols
}

// orderItems restores each ORDER BY item's expression on its own.
func (w *worker) orderItems(order *ast.OrderByClause) ([]OrderItem, error) {
	items := make([]OrderItem, len(order.Items))
	for i, it := range order.Items {
		f, err := w.fragment("order by item", it.Expr, it.Expr)
		if err != nil {
			return nil, err
		}
		items[i].Expr = f
		if c, ok := unparen(it.Expr).(*ast.ColumnNameExpr); ok {
			items[i].Column = c.Name.Name.O
		}
	}
	return items, nil
}

// lockSubqueries gives every SELECT under n a FOR UPDATE clause, except the
// members of a UNION, where MariaDB rejects it.
func lockSubqueries(n ast.Node) {
	if n != nil {
		n.Accept(&subqueryLocker{})
	}
}

type subqueryLocker struct{ inSetOpr int }

func (l *subqueryLocker) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SetOprStmt:
		l.inSetOpr++
	case *ast.SelectStmt:
		if l.inSetOpr == 0 && x.LockInfo == nil {
			x.LockInfo = &ast.SelectLockInfo{LockType: ast.SelectLockForUpdate}
		}
	}
	return n, false
}

func (l *subqueryLocker) Leave(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.SetOprStmt); ok {
		l.inSetOpr--
	}
	return n, true
}
