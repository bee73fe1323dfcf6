package mysqletcd

import (
	"errors"
	"strings"
	"testing"
)

func TestMappingsAreCheckedAgainstTheLiveSchema(t *testing.T) {
	const schema = `CREATE TABLE users (
		id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL, nick VARCHAR(20) NULL,
		team INT NOT NULL, UNIQUE KEY (name), UNIQUE KEY (nick))`
	tests := []struct {
		name string
		m    Mapping
		want string
	}{
		{"unknown table, strict", Mapping{Table: "people", Key: "{p}/u/{id}"}, `tables[0].table: table t_`},
		{"unknown key column", Mapping{Table: "users", Key: "{p}/u/{uid}"}, `tables[0].key: column "uid" of `},
		{"nullable key column", Mapping{Table: "users", Key: "{p}/u/{nick}"}, `tables[0].key: column "nick" of `},
		{"key that is not unique", Mapping{Table: "users", Key: "{p}/u/{team}"}, "tables[0].key: columns team of "},
		{"unknown value column", Mapping{Table: "users", Key: "{p}/u/{id}", Value: ColumnValue("mail")}, `tables[0].value.column: column "mail"`},
		{"unknown listed column", Mapping{Table: "users", Key: "{p}/u/{id}", Columns: []string{"id", "mail"}}, `tables[0].columns: column "mail"`},
		{"broken where", Mapping{Table: "users", Key: "{p}/u/{id}", Where: "deleted_at IS NULL"}, `tables[0].where: "deleted_at IS NULL" does not work`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, schema, tt.m)
			e.cfg.Strict = true
			db, _ := e.open(nil)
			err := db.Ping()
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Ping = %v, want ErrSchema containing %q", err, tt.want)
			}
		})
	}
	t.Run("a key that holds a unique key among other columns is fine", func(t *testing.T) {
		e := newEnv(t, schema, Mapping{Table: "users", Key: "{p}/team/{team}/u/{id}"})
		db, _ := e.open(nil)
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, "INSERT INTO users (id, name, team) VALUES (1, 'a', 7)")
		mustExec(t, db, "UPDATE users SET team = 8 WHERE id = 1")
		e.converged()
	})
}
