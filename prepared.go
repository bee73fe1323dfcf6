package mysqletcd

import (
	"database/sql/driver"
	"reflect"
)

// maxPrepared bounds what a session remembers of its prepared statements.
// Statements are forgotten when they close, so only an app that leaks
// open statements reaches it; the memory then starts over, and statements
// prepared before fall back to the schema their text was last prepared in.
const maxPrepared = 1000

// preparedSchemas remembers the default schema each prepared statement of
// one connection was prepared in: the server bound the statement's
// unqualified tables to it, whatever USE runs later. One text prepared
// under two databases is two statements with two schemas.
type preparedSchemas struct {
	byStmt map[driver.Stmt]string
	// byText is the schema each text was last prepared in, for a statement
	// that byStmt cannot name.
	byText map[string]string
}

// remember records the schema stmt (the mysql statement) was prepared in.
func (p *preparedSchemas) remember(stmt driver.Stmt, text, schema string) {
	if p.byText == nil || len(p.byText) >= maxPrepared {
		p.byText = map[string]string{}
	}
	p.byText[text] = schema
	if !usableKey(stmt) {
		return
	}
	if p.byStmt == nil || len(p.byStmt) >= maxPrepared {
		p.byStmt = map[driver.Stmt]string{}
	}
	p.byStmt[stmt] = schema
}

// forget drops a statement that is closing.
func (p *preparedSchemas) forget(stmt driver.Stmt) {
	if usableKey(stmt) {
		delete(p.byStmt, stmt)
	}
}

// schemaOf is the schema stmt was prepared in. stmt is what sqlmw hands
// the interceptor on execution: the mysql statement, or a wrapper around
// it. ok is false when neither the statement nor its text is known.
func (p *preparedSchemas) schemaOf(stmt any, text string) (schema string, ok bool) {
	outer, _ := stmt.(driver.Stmt)
	for _, s := range []driver.Stmt{outer, innerStmt(stmt)} {
		if usableKey(s) {
			if schema, ok := p.byStmt[s]; ok {
				return schema, true
			}
		}
	}
	schema, ok = p.byText[text]
	return schema, ok
}

// innerStmt unwraps the statement sqlmw passes to StmtExecContext and
// StmtQueryContext: an unexported struct that embeds the driver's
// statement as its exported field Stmt. It returns nil when stmt has
// another shape.
func innerStmt(stmt any) driver.Stmt {
	v := reflect.ValueOf(stmt)
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return nil
	}
	f, ok := v.Type().FieldByName("Stmt")
	if !ok || !f.Anonymous || !f.IsExported() || f.Type != reflect.TypeFor[driver.Stmt]() {
		return nil
	}
	inner, _ := v.FieldByIndex(f.Index).Interface().(driver.Stmt)
	return inner
}

// usableKey reports whether stmt can key a map without panicking: set,
// and comparable down to what its interface fields hold (the mysql
// statement is a pointer).
func usableKey(stmt driver.Stmt) bool {
	return stmt != nil && reflect.ValueOf(stmt).Comparable()
}
