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
	dsn := env.DSN + "&parseTime=true"
	if err := migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	client, err := open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })

	w := &workload{ctx: ctx, client: client}
	err = w.run(func(step string) {
		env.Converged(step)
		if step == "create" {
			ids := map[string]int64{}
			for _, u := range w.created {
				ids[u.Name] = int64(u.ID)
			}
			env.CheckIDs("users", ids)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSchemaCreateThroughTheDriver creates the table the natural way: ent's
// client.Schema.Create through the mysqletcd driver, on a database that
// does not have the mapped table yet.
func TestSchemaCreateThroughTheDriver(t *testing.T) {
	ctx := context.Background()
	env := harness.New(t, "mysqletcd.yaml")
	client, err := open(env.DSN + "&parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	err = client.Schema.Create(ctx)
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		t.Skip("known gap: a mapping whose table does not exist yet fails the first connection; see issue 8: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, client, env.Converged); err != nil {
		t.Fatal(err)
	}
}
