package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// writeStep is one statement of the capture suite, with its args.
type writeStep struct {
	name  string
	query string
	args  []any
}

// captureSteps run in order on the users table; after each one etcd must
// equal what the mappings compute from the database.
var captureSteps = []writeStep{
	{"insert one row", "INSERT INTO users (id, name, email, age) VALUES (?, ?, ?, ?)", []any{1, "ann", "ann@x", 30}},
	{"insert many rows", "INSERT INTO users (id, name, email) VALUES (2, 'bob', 'bob@x'), (3, 'cid', 'cid@x'), (4, 'dan', NULL)", nil},
	{"insert auto-increment row", "INSERT INTO users (name, email) VALUES (?, ?)", []any{"eve", "eve@x"}},
	{"upsert on the primary key", "INSERT INTO users (id, name, email) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE email = VALUES(email)", []any{1, "ann", "ann2@x"}},
	{"upsert on another unique key", "INSERT INTO users (name, email) VALUES (?, ?) ON DUPLICATE KEY UPDATE email = VALUES(email), age = 99", []any{"bob", "bob2@x"}},
	{"replace one row", "REPLACE INTO users (id, name, email) VALUES (?, ?, ?)", []any{3, "cid", "cid3@x"}},
	{"replace deleting a row of another key", "REPLACE INTO users (id, name, email) VALUES (?, ?, ?)", []any{6, "dan", "dan6@x"}},
	{"update by key", "UPDATE users SET email = ? WHERE id = ?", []any{"ann3@x", 1}},
	{"update by other columns", "UPDATE users SET age = COALESCE(age, 0) + 1 WHERE age IS NULL OR age > ?", []any{50}},
	{"update with order by and limit", "UPDATE users SET email = 'ord' ORDER BY id DESC LIMIT 2", nil},
	{"update that changes the primary key", "UPDATE users SET id = ? WHERE id = ?", []any{100, 1}},
	{"update that changes another mapping's key", "UPDATE users SET name = CONCAT(name, '-x') WHERE id = ?", []any{2}},
	{"update that leaves the filter", "UPDATE users SET deleted_at = NOW() WHERE id = ?", []any{3}},
	{"update that enters the filter again", "UPDATE users SET deleted_at = NULL WHERE id = ?", []any{3}},
	{"delete by key", "DELETE FROM users WHERE id = ?", []any{100}},
	{"delete with order by and limit", "DELETE FROM users WHERE age > ? ORDER BY id LIMIT 1", []any{0}},
	{"write to an unmapped table", "INSERT INTO audit (note) VALUES (?)", []any{"x"}},
	{"insert from a select (table resync)", "INSERT INTO users (id, name) SELECT id + 1000, CONCAT(name, '-copy') FROM users WHERE id < 4", nil},
	{"delete everything", "DELETE FROM users", nil},
}

// runners are the ways an app sends a write.
var runners = []struct {
	name string
	run  func(ctx context.Context, db *sql.DB, q string, args []any) error
}{
	{"autocommit", func(ctx context.Context, db *sql.DB, q string, args []any) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}},
	{"BeginTx", func(ctx context.Context, db *sql.DB, q string, args []any) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}},
	{"text BEGIN", func(ctx context.Context, db *sql.DB, q string, args []any) error {
		return onConn(ctx, db, "BEGIN", q, args, "COMMIT")
	}},
	{"text START TRANSACTION", func(ctx context.Context, db *sql.DB, q string, args []any) error {
		return onConn(ctx, db, "START TRANSACTION", q, args, "COMMIT")
	}},
	{"prepared", func(ctx context.Context, db *sql.DB, q string, args []any) error {
		stmt, err := db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer stmt.Close()
		_, err = stmt.ExecContext(ctx, args...)
		return err
	}},
}

func onConn(ctx context.Context, db *sql.DB, begin, q string, args []any, end string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, q, args...); err != nil {
		conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, end)
	return err
}

func TestEveryWriteFormConvergesThroughEveryAPI(t *testing.T) {
	for _, interpolate := range []bool{false, true} {
		for _, r := range runners {
			t.Run(fmt.Sprintf("%s/interpolateParams=%v", r.name, interpolate), func(t *testing.T) {
				e := newEnv(t, usersSchema, usersMappings()...)
				db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.InterpolateParams = interpolate })
				ctx := context.Background()
				for _, step := range captureSteps {
					if err := r.run(ctx, db, step.query, step.args); err != nil {
						t.Fatalf("%s: %v", step.name, err)
					}
					e.converged()
				}
			})
		}
	}
}

func TestRollbackPushesNothing(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(nil)
	ctx := context.Background()
	if _, err := db.Exec("INSERT INTO users (id, name) VALUES (1, 'ann')"); err != nil {
		t.Fatal(err)
	}
	e.converged()
	before := c.Stats().KeysCaptured

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE users SET email = 'x' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO users (id, name) VALUES (2, 'bob')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := onConn(ctx, db, "BEGIN", "DELETE FROM users WHERE id = ?", []any{1}, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	e.converged()
	if got := c.Stats().KeysCaptured; got != before {
		t.Errorf("rolled back transactions captured %d keys", got-before)
	}
}

func TestUnmappedTablesAndReadsPassThrough(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(nil)
	for _, q := range []string{
		"INSERT INTO audit (note) VALUES ('a')",
		"UPDATE audit SET note = 'b'",
		"SELECT * FROM users",
		"SELECT * FROM users WHERE id = 1 FOR UPDATE",
		"DELETE FROM audit",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	e.flush()
	if st := c.Stats(); st.KeysCaptured != 0 || len(st.Fallbacks) != 0 {
		t.Errorf("stats = %+v, want nothing captured", st)
	}
}

func TestStatementsWithoutDerivableKeysResyncTheTable(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(nil)
	e.exec("INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob')") // behind the driver's back
	for _, q := range []string{
		"INSERT INTO users (id, name) SELECT id + 10, CONCAT(name, '2') FROM users",
		"TRUNCATE TABLE users",
		"UPDATE users u JOIN audit a ON a.id = u.id SET u.email = a.note", // several tables
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		e.converged()
	}
	st := c.Stats()
	if st.Fallbacks[reasonUnsupported] == 0 || st.Fallbacks[reasonTableLevel] == 0 || st.Resyncs == 0 {
		t.Errorf("stats = %+v, want unsupported and table-level fallbacks counted", st)
	}
}

func TestMultiRowAutoIncrementInsertsGetTheirKeysWithoutResync(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(nil)
	ctx := context.Background()
	mustExec(t, db, "INSERT INTO users (name, email) VALUES ('a', 'a@x'), ('b', 'b@x'), ('c', NULL)")
	e.converged()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION auto_increment_increment = 5"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	mustExec(t, db, "INSERT INTO users (name) VALUES (?), (?)", "d", "e")
	e.converged()
	if st := c.Stats(); len(st.Fallbacks) != 0 {
		t.Errorf("stats = %+v, want no fallback", st)
	}
}
