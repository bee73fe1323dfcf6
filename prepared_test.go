package mysqletcd

import (
	"database/sql/driver"
	"testing"
)

// fakeStmt stands in for the mysql statement: a pointer.
type fakeStmt struct{ driver.Stmt }

// parentStmt has the shape sqlmw gives the statement on execution.
type parentStmt struct{ driver.Stmt }

// otherWrapper embeds the statement under another name.
type otherWrapper struct{ Inner driver.Stmt }

// funcStmt is not comparable: it cannot key a map.
type funcStmt func()

func (funcStmt) Close() error                               { return nil }
func (funcStmt) NumInput() int                              { return 0 }
func (funcStmt) Exec([]driver.Value) (driver.Result, error) { return nil, nil }
func (funcStmt) Query([]driver.Value) (driver.Rows, error)  { return nil, nil }

func TestPreparedSchemasFollowEachStatement(t *testing.T) {
	var p preparedSchemas
	mine, theirs := &fakeStmt{}, &fakeStmt{}
	p.remember(mine, "UPDATE t SET v = 1", "app")
	p.remember(theirs, "UPDATE t SET v = 1", "other")
	for _, c := range []struct {
		name string
		stmt any
		want string
	}{
		{"the statement itself", mine, "app"},
		{"wrapped as sqlmw does", parentStmt{mine}, "app"},
		{"the other statement, wrapped", parentStmt{theirs}, "other"},
		{"an unknown shape: the text's last schema", otherWrapper{mine}, "other"},
		{"nil: the text's last schema", nil, "other"},
		{"a statement that cannot key a map", parentStmt{funcStmt(func() {})}, "other"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, ok := p.schemaOf(c.stmt, "UPDATE t SET v = 1"); !ok || got != c.want {
				t.Errorf("schemaOf = %q, %v; want %q", got, ok, c.want)
			}
		})
	}
	if _, ok := p.schemaOf(parentStmt{mine}, "another text"); !ok {
		t.Error("a known statement is found whatever the text")
	}
	if _, ok := p.schemaOf(otherWrapper{mine}, "another text"); ok {
		t.Error("an unknown statement with an unknown text is found")
	}
}

func TestPreparedSchemasForgetClosedStatements(t *testing.T) {
	var p preparedSchemas
	for range 3 * maxPrepared {
		s := &fakeStmt{}
		p.remember(s, "UPDATE t SET v = 1", "app")
		p.forget(s)
	}
	if len(p.byStmt) != 0 {
		t.Errorf("%d closed statements still remembered", len(p.byStmt))
	}
	p.remember(funcStmt(func() {}), "UPDATE t SET v = 2", "app") // must not panic
	p.forget(funcStmt(func() {}))
	p.forget(nil)
}

func TestPreparedSchemasAreBounded(t *testing.T) {
	var p preparedSchemas
	for range 3 * maxPrepared {
		p.remember(&fakeStmt{}, "UPDATE t SET v = 1", "app")
	}
	if len(p.byStmt) > maxPrepared {
		t.Errorf("%d statements remembered, bound %d", len(p.byStmt), maxPrepared)
	}
}
