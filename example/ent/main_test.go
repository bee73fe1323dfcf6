package main

import (
	"context"
	"testing"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestWorkloadConverges runs the example as main does, on an empty
// database (client.Schema.Create through the driver creates the table),
// and checks etcd against the database after every step.
func TestWorkloadConverges(t *testing.T) {
	ctx := context.Background()
	env := harness.New(t, "mysqletcd.yaml")
	client, err := open(env.DSN + "&parseTime=true")
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
