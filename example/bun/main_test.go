package main

import (
	"context"
	"testing"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestWorkloadConverges runs the example as main does, on an empty
// database (NewCreateTable through the driver creates the table), and
// checks etcd against the database after every step.
func TestWorkloadConverges(t *testing.T) {
	ctx := context.Background()
	env := harness.New(t, "mysqletcd.yaml")
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
