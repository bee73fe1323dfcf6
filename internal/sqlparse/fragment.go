package sqlparse

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

// restoreFlags give MySQL text that MariaDB accepts too: single-quoted
// strings with backslashes escaped (both servers treat \ as an escape by
// default), back-quoted names.
const restoreFlags = format.RestoreStringSingleQuotes |
	format.RestoreStringEscapeBackslash |
	format.RestoreKeyWordUppercase |
	format.RestoreNameBackQuotes

// restorer is any AST part that can write itself as SQL.
type restorer interface {
	Restore(ctx *format.RestoreCtx) error
}

// errLostPlaceholder is wrapped by the error for a fragment whose restored
// text would lack some of its placeholders.
var errLostPlaceholder = errors.New("restored text loses a placeholder")

// fragment restores node (through r when that writes it differently) and
// records the args of the placeholders it writes.
func (w *worker) fragment(what string, node ast.Node, r restorer) (*Fragment, error) {
	w.buf.Reset()
	w.params = w.params[:0]
	w.ctx = format.RestoreCtx{Flags: restoreFlags, In: &w.buf}
	if err := r.Restore(&w.ctx); err != nil {
		return nil, fmt.Errorf("restore %s: %w", what, err)
	}
	// Restore code that skips a part it believes empty would change what
	// the fragment selects; better no fragment than a wrong one.
	if len(w.markers) > 0 {
		var c markerCounter
		node.Accept(&c)
		if len(w.params) < c.n {
			return nil, fmt.Errorf("restore %s: %w", what, errLostPlaceholder)
		}
	}
	f := &Fragment{SQL: w.buf.String()}
	if len(w.params) > 0 {
		f.Params = slices.Clone(w.params)
	}
	return f, nil
}

// orderItems restores ORDER BY items without the keywords.
type orderItems struct{ *ast.OrderByClause }

func (o orderItems) Restore(ctx *format.RestoreCtx) error {
	for i, item := range o.Items {
		if i > 0 {
			ctx.WritePlain(", ")
		}
		if err := item.Restore(ctx); err != nil {
			return err
		}
	}
	return nil
}

// limitValues restores LIMIT as "count" or "offset, count" without the
// keyword; OFFSET o would put the args in another order than the text.
type limitValues struct{ *ast.Limit }

func (l limitValues) Restore(ctx *format.RestoreCtx) error {
	if l.Offset != nil {
		if err := l.Offset.Restore(ctx); err != nil {
			return err
		}
		ctx.WritePlain(", ")
	}
	return l.Count.Restore(ctx)
}

// rewriteAlias makes the WHERE and ORDER BY of a single-table statement name
// its table instead of its alias, so that they can follow FROM <table>.
func rewriteAlias(alias string, table *ast.TableName, where ast.ExprNode, order *ast.OrderByClause) {
	v := aliasRewriter{alias: alias, table: table}
	if where != nil {
		where.Accept(&v)
	}
	if order != nil {
		order.Accept(&v)
	}
}

// aliasRewriter replaces the qualifier alias by the table name in column
// references, leaving alone subqueries that declare the alias or the table
// name themselves: there the name means another table, or would after the
// rewrite, and a stale qualifier fails loudly where a captured one would not.
type aliasRewriter struct {
	alias string
	table *ast.TableName
}

func (v *aliasRewriter) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectStmt:
		if x.From != nil && v.shadowed(x.From) {
			return n, true
		}
	case *ast.ColumnName:
		if x.Schema.O == "" && strings.EqualFold(x.Table.O, v.alias) {
			x.Schema = v.table.Schema
			x.Table = v.table.Name
		}
	}
	return n, false
}

func (v *aliasRewriter) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (v *aliasRewriter) shadowed(from *ast.TableRefsClause) bool {
	for _, s := range sources(from, nil) {
		if strings.EqualFold(s.name, v.alias) || strings.EqualFold(s.name, v.table.Name.O) {
			return true
		}
	}
	return false
}
