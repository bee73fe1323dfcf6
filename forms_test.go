package mysqletcd

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// formSteps are further statement forms; each must converge, and those
// marked exact must not fall back to a table resync.
var formSteps = []struct {
	query string
	args  []any
	exact bool
}{
	{"INSERT INTO users SET id = ?, name = ?, email = ?", []any{1, "a", "a@x"}, true},
	{"INSERT IGNORE INTO users (id, name) VALUES (1, 'dup'), (2, 'b'), (3, 'a')", nil, true},
	{"INSERT INTO users (id, name) VALUES (4, 'd'), (5, 'e')", nil, true},
	{"INSERT INTO users (id, name, email) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), email = VALUES(email)", []any{6, "a", "a2@x"}, false},
	{"INSERT INTO users (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)", []any{2, "b2"}, false},
	{"REPLACE INTO users SET id = 7, name = 'b2', email = 'r@x'", nil, true},
	{"REPLACE INTO users (id, name) SELECT id + 100, CONCAT(name, '+') FROM users WHERE id < 3", nil, false},
	{"UPDATE users SET email = 'sub' WHERE id IN (SELECT id FROM audit)", nil, true},
	{"UPDATE users SET age = 7 WHERE id IN (SELECT id FROM (SELECT id FROM audit WHERE id < 5) AS small)", nil, true},
	{"UPDATE users SET id = id + 1000 WHERE id > 100", nil, false},
	{"DELETE FROM users WHERE email IS NULL ORDER BY name LIMIT 1", nil, true},
	{"UPDATE users u SET u.email = 'alias' WHERE u.id = 1", nil, true},
	{"DELETE FROM users WHERE age = 7 AND id IN (SELECT id FROM audit)", nil, true},
	{"UPDATE %s.users SET email = 'qualified' WHERE id = 7", nil, true},
	{"DELETE FROM users WHERE name = ? OR email = '?'", []any{"b2"}, true},
	{"INSERT IGNORE INTO users (id, name) VALUES (1, 'm1'), (3, 'm3'), (4, 'm4')", nil, true},
	{"UPDATE users u JOIN audit a ON a.id = u.id SET u.email = a.note", nil, true},
	{"UPDATE users u, audit a SET u.name = CONCAT(u.name, '!'), a.note = 'n' WHERE u.id = a.id AND a.id > ?", []any{0}, true},
	{"UPDATE users a JOIN users b ON b.id = a.id + 1 SET b.age = 5", nil, true},
	{"DELETE u FROM users u JOIN audit a ON a.id = u.id WHERE a.id = 3", nil, true},
	{"DELETE FROM users USING users JOIN audit ON audit.id = users.id", nil, true},
}

func TestMoreStatementFormsConverge(t *testing.T) {
	for _, interpolate := range []bool{false, true} {
		t.Run(fmt.Sprintf("interpolateParams=%v", interpolate), func(t *testing.T) { moreStatementForms(t, interpolate) })
	}
}

func moreStatementForms(t *testing.T, interpolate bool) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(func(mc *mysql.Config, _ *Config) { mc.InterpolateParams = interpolate })
	ctx := context.Background()
	var schema string
	if err := db.QueryRow("SELECT DATABASE()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO audit (id, note) VALUES (1, 'x'), (3, 'y')")
	for _, f := range formSteps {
		q := f.query
		if strings.Contains(q, "%s") {
			q = fmt.Sprintf(q, schema)
		}
		before := c.Stats().Fallbacks
		if _, err := db.ExecContext(ctx, q, f.args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		e.converged()
		if after := c.Stats().Fallbacks; f.exact && fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: fell back to a resync: %v", q, after)
		}
	}
}

func TestAnotherDatabasesTableIsMappedByItsQualifiedName(t *testing.T) {
	e := newEnv(t, usersSchema)
	other := testenvDB(t)
	e.exec("CREATE TABLE " + other + ".users LIKE users")
	e.cfg.Tables = []Mapping{{Table: other + ".users", Key: e.prefix + "/other/{id}", Columns: []string{"id", "name"}}}
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO "+other+".users (id, name) VALUES (1, 'a')")
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'not mapped')")
	mustExec(t, db, "UPDATE `"+other+"`.`users` SET name = 'b' WHERE id = 1")
	e.converged()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"USE " + other, "DELETE FROM users WHERE id = 1"} { // now the mapped one
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	e.converged()
}
