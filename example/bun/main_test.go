package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestWorkloadConverges runs the example as main does (the table created
// with the plain driver first) and checks etcd against the database after
// every step.
func TestWorkloadConverges(t *testing.T) {
	ctx := context.Background()
	env := harness.New(t, "mysqletcd.yaml")
	if err := migrate(ctx, env.DSN); err != nil {
		t.Fatal(err)
	}
	db, err := open(env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	w := &workload{ctx: ctx, db: db}
	err = w.run(func(step string) {
		env.Converged(step)
		if step == "create" {
			ids := map[string]int64{}
			for _, u := range w.created {
				ids[u.Name] = u.ID
			}
			env.CheckIDs("users", ids)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCreateTableThroughTheDriver creates the table the natural way: bun's
// NewCreateTable through the mysqletcd driver, on a database that does not
// have the mapped table yet.
func TestCreateTableThroughTheDriver(t *testing.T) {
	ctx := context.Background()
	env := harness.New(t, "mysqletcd.yaml")
	db, err := open(env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.NewCreateTable().Model((*User)(nil)).Exec(ctx)
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		t.Skip("known gap: a mapping whose table does not exist yet fails the first connection; see issue 8: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, db, env.Converged); err != nil {
		t.Fatal(err)
	}
}
