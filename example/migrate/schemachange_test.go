package main

import (
	"context"
	"testing"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/example/internal/harness"
)

// TestAddColumnMigrationThroughTheDriver applies a migration that adds a
// column to a table whose JSON mapping has no columns: list (all columns),
// then writes rows: their values must hold the new column.
func TestAddColumnMigrationThroughTheDriver(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	plain := openPlain(t, harness.WithParams(env.PlainDSN, "multiStatements=true"))
	if err := up(plain, 1); err != nil {
		t.Fatal(err)
	}
	db := openDriver(t, env.DSN+"&multiStatements=true")
	if err := up(db, 0); err != nil {
		t.Fatal(err)
	}
	env.Converged("migration that adds a column")
}

// TestDropColumnThroughTheDriver drops a column of a table whose JSON
// mapping has no columns: list, through the driver, then updates a row:
// the row's value must follow, without the column.
func TestDropColumnThroughTheDriver(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	plain := openPlain(t, harness.WithParams(env.PlainDSN, "multiStatements=true"))
	if err := up(plain, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Connector().Reconcile(context.Background(), mysqletcd.ReconcileOptions{}); err != nil { // backfill
		t.Fatal(err)
	}
	db := openDriver(t, env.DSN)
	for _, q := range []string{
		"ALTER TABLE users DROP COLUMN nickname",
		"UPDATE users SET age = age + 1 WHERE name = 'ann'",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	env.Converged("drop column")
}
