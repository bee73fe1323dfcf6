package main

import (
	"database/sql"
	"testing"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestMigrateUpThroughTheDriver applies every migration through the
// driver, as main does, on an empty database: the first creates the mapped
// table, the next write rows and add a column.
func TestMigrateUpThroughTheDriver(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	db := openDriver(t, env.DSN+"&multiStatements=true")
	if err := up(db, 0); err != nil {
		t.Fatal(err)
	}
	env.Converged("migrate up")
}

// TestDataMigrationsThroughTheDriver starts from a table made before the
// app used the driver (migration 1, with the plain driver), then applies
// the seed migration through the driver: rows written by a multi-statement
// migration reach etcd.
func TestDataMigrationsThroughTheDriver(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	plain := openPlain(t, harness.WithParams(env.PlainDSN, "multiStatements=true"))
	if err := up(plain, 1); err != nil {
		t.Fatal(err)
	}
	db := openDriver(t, env.DSN+"&multiStatements=true")
	if err := up(db, 2); err != nil {
		t.Fatal(err)
	}
	env.Converged("seed migration")
}

func openDriver(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysqletcd", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPlain(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
