package sqlparse

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	// The parser needs a driver for literal values; test_driver is the
	// dependency-free one shipped with it.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// worker owns a parser and the scratch state of one Parse call. A
// *parser.Parser is not safe for concurrent use and returns statements in a
// slice it reuses, so a worker leaves the pool only for one whole call.
type worker struct {
	p       *parser.Parser
	markers []*marker // every placeholder of the text, in textual order once numbered
	slab    []marker  // storage for markers
	params  []int     // placeholders written by the fragment being restored
	buf     bytes.Buffer
	ctx     format.RestoreCtx
}

var workers = sync.Pool{New: func() any { return &worker{p: parser.New()} }}

// errParserPanic is wrapped by the error Parse returns when the underlying
// parser panics on some input.
var errParserPanic = errors.New("parser panic")

// Parse parses one statement text (which may hold several statements separated by ';')
// and returns one Statement per statement. It is safe for concurrent use.
//
// Placeholder indices (Value.Param, Fragment.Params) count the ? of the whole
// text, so that they index the args passed with it. A text without any
// statement (empty, only comments) gives none. Statements the parser does
// not know give an error, which wraps the parser's.
func Parse(sql string) (stmts []Statement, err error) {
	w := workers.Get().(*worker)
	defer func() {
		if r := recover(); r != nil {
			// A parser that panicked may be in any state: let it go rather
			// than pool it.
			stmts, err = nil, fmt.Errorf("parse sql: %w: %v", errParserPanic, r)
			return
		}
		w.release()
		workers.Put(w)
	}()
	return w.parse(sql)
}

func (w *worker) parse(sql string) ([]Statement, error) {
	nodes, _, err := w.p.ParseSQL(sql)
	if err != nil {
		switch alt, ok := withoutWork(sql); {
		case ok:
			if nodes, _, err = w.p.ParseSQL(alt); err != nil {
				return nil, fmt.Errorf("parse sql: %w", err)
			}
		case isXA(sql):
			return []Statement{{Kind: XA}}, nil
		case isStartTransaction(sql):
			return []Statement{{Kind: Begin}}, nil
		default:
			return nil, fmt.Errorf("parse sql: %w", err)
		}
	}
	if len(nodes) == 0 {
		return nil, nil
	}
	for _, n := range nodes {
		w.prepare(n)
	}
	w.numberMarkers()
	stmts := make([]Statement, len(nodes))
	for i, n := range nodes {
		if err := w.statement(n, &stmts[i]); err != nil {
			return nil, err
		}
	}
	return stmts, nil
}

// release drops every reference into the last AST so that a pooled worker
// does not keep it alive.
func (w *worker) release() {
	clear(w.markers)
	w.markers = w.markers[:0]
	clear(w.slab)
	w.slab = w.slab[:0]
	w.params = w.params[:0]
	w.buf.Reset()
	w.ctx = format.RestoreCtx{}
}

// statement fills st from one parsed statement.
func (w *worker) statement(node ast.StmtNode, st *Statement) error {
	switch n := node.(type) {
	case *ast.InsertStmt:
		insertStatement(n, st)
	case *ast.UpdateStmt:
		return w.updateStatement(n, st)
	case *ast.DeleteStmt:
		return w.deleteStatement(n, st)
	case *ast.BeginStmt:
		st.Kind = Begin
	case *ast.CommitStmt:
		st.Kind = Commit
		st.Chain = n.CompletionType == ast.CompletionTypeChain
	case *ast.RollbackStmt:
		st.Kind = Rollback
		if n.SavepointName != "" {
			st.Kind = RollbackTo
			st.SavepointName = n.SavepointName
		}
		st.Chain = n.CompletionType == ast.CompletionTypeChain
	case *ast.SavepointStmt:
		st.Kind = Savepoint
		st.SavepointName = n.Name
	case *ast.ReleaseSavepointStmt:
		st.Kind = Release
		st.SavepointName = n.Name
	case *ast.SetStmt:
		setStatement(n, st)
	case *ast.TruncateTableStmt:
		st.Kind = Truncate
		st.Tables = []TableName{tableName(n.Table)}
	case *ast.LoadDataStmt:
		st.Kind = LoadData
		st.Tables = []TableName{tableName(n.Table)}
	case *ast.CallStmt:
		st.Kind = Call
	case *ast.LockTablesStmt:
		st.Kind = LockTables
		st.Tables = make([]TableName, 0, len(n.TableLocks))
		for _, l := range n.TableLocks {
			st.Tables = appendTable(st.Tables, tableName(l.Table))
		}
	case *ast.UnlockTablesStmt:
		st.Kind = UnlockTables
	case *ast.UseStmt:
		st.Kind = Use
		st.UseSchema = n.DBName
	default:
		if commitsImplicitly(node) {
			st.Kind = DDL
			st.Tables = ddlTables(node)
		}
	}
	return nil
}

// commitsImplicitly reports whether node is DDL in the wide sense MySQL uses
// for implicit commits: schema changes, but also account management and the
// administrative statements that end the current transaction. Whoever tracks
// transactions must see all of them alike.
func commitsImplicitly(node ast.StmtNode) bool {
	switch node.(type) {
	case ast.DDLNode,
		*ast.ProcedureInfo, *ast.DropProcedureStmt,
		*ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt, *ast.RenameUserStmt,
		*ast.GrantStmt, *ast.GrantProxyStmt, *ast.GrantRoleStmt,
		*ast.RevokeStmt, *ast.RevokeRoleStmt, *ast.SetPwdStmt,
		*ast.AnalyzeTableStmt, *ast.FlushStmt:
		return true
	}
	return false
}
