package mysqletcd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Every behaviour here is compared with the plain mysql driver on the same
// database: the driver must not change what the app sees.

const typesSchema = `CREATE TABLE nums (
	id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
	d DECIMAL(10,2) NULL, f DOUBLE NULL, s VARCHAR(10) NULL, b VARBINARY(8) NULL,
	t DATETIME(3) NULL, j JSON NULL
)`

func numsMapping() Mapping { return Mapping{Table: "nums", Key: "{p}/nums/{id}"} }

func TestUint64ArgsWithTheHighBitSet(t *testing.T) {
	e := newEnv(t, typesSchema, numsMapping())
	for _, interpolate := range []bool{false, true} {
		db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.InterpolateParams = interpolate })
		big := uint64(1<<63 + 5)
		if interpolate {
			big++
		}
		mustExec(t, db, "INSERT INTO nums (id, s) VALUES (?, ?)", big, "big")
		var got uint64
		if err := db.QueryRow("SELECT id FROM nums WHERE id = ?", big).Scan(&got); err != nil || got != big {
			t.Fatalf("interpolate=%v: read back %d, %v; want %d", interpolate, got, err, big)
		}
	}
	e.converged()
}

func TestColumnTypesMatchThePlainDriver(t *testing.T) {
	e := newEnv(t, typesSchema, numsMapping())
	db, _ := e.open(nil)
	e.exec(`INSERT INTO nums VALUES (1, 1.50, 2.5, 'x', 0x0102, '2024-01-02 03:04:05.678', '{"a": 1}')`)
	describe := func(db *sql.DB) []string {
		rows, err := db.Query("SELECT * FROM nums")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		types, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ct := range types {
			n, nok := ct.Nullable()
			l, lok := ct.Length()
			p, s, dok := ct.DecimalSize()
			out = append(out, fmt.Sprint(ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), n, nok, l, lok, p, s, dok))
		}
		return out
	}
	if got, want := describe(db), describe(e.plain); !reflect.DeepEqual(got, want) {
		t.Errorf("column types through the driver:\n%v\nplain mysql:\n%v", got, want)
	}
}

func TestNextResultSetWorks(t *testing.T) {
	e := newEnv(t, typesSchema, numsMapping())
	db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.MultiStatements = true })
	rows, err := db.Query("SELECT 1; SELECT 2, 3")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	sets := 0
	for {
		for rows.Next() {
		}
		sets++
		if !rows.NextResultSet() {
			break
		}
	}
	if sets != 2 {
		t.Errorf("result sets = %d, want 2", sets)
	}
}

func TestResultsMatchThePlainDriver(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	type result struct {
		id, n   int64
		idErr   bool
		rowsErr bool
	}
	run := func(db *sql.DB, q string, args ...any) result {
		res, err := db.Exec(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		id, err1 := res.LastInsertId()
		n, err2 := res.RowsAffected()
		return result{id, n, err1 != nil, err2 != nil}
	}
	// The same statements on two tables of the same shape.
	e.exec("CREATE TABLE users2 LIKE users")
	for _, q := range []string{
		"INSERT INTO %s (name) VALUES ('a')",
		"INSERT INTO %s (name) VALUES ('b'), ('c')",
		"INSERT INTO %s (id, name) VALUES (10, 'd') ON DUPLICATE KEY UPDATE email = 'x'",
		"INSERT INTO %s (id, name) VALUES (10, 'd') ON DUPLICATE KEY UPDATE email = 'y'",
		"REPLACE INTO %s (id, name) VALUES (10, 'd')",
		"UPDATE %s SET email = 'z' WHERE id > 1",
		"UPDATE %s SET email = 'z' WHERE id > 1",
		"DELETE FROM %s WHERE id = 2",
	} {
		got := run(db, fmt.Sprintf(q, "users"))
		want := run(e.plain, fmt.Sprintf(q, "users2"))
		if got != want {
			t.Errorf("%s: driver %+v, plain %+v", q, got, want)
		}
	}
	e.converged()
}

func TestCancelledContextAndRollbackKeepTheConnectionUsable(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	db.SetMaxOpenConns(1)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (9, 'z')")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := db.ExecContext(ctx, "UPDATE users SET email = SLEEP(2) WHERE id > 0")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (1, 'a')")
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := tx.ExecContext(ctx2, "INSERT INTO users (id, name) VALUES (2, 'b')"); err == nil {
		t.Fatal("exec with a cancelled context succeeded")
	}
	tx.Rollback()
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (3, 'c')")
	e.converged()
}

func mustExecTx(t *testing.T, tx *sql.Tx, q string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
