package main

import (
	"context"
	"testing"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestWorkloadConverges runs the example as main does, on an empty
// database (its CREATE TABLE goes through the driver), and checks etcd
// against the database after every step, with the mysql driver's
// server-side prepared statements (its default) and with
// interpolateParams.
func TestWorkloadConverges(t *testing.T) {
	for name, params := range map[string]string{
		"default":           "&parseTime=true",
		"interpolateParams": "&parseTime=true&interpolateParams=true",
	} {
		t.Run(name, func(t *testing.T) {
			env := harness.New(t, "mysqletcd.yaml")
			db, err := open(env.DSN + params)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })

			w := &workload{ctx: context.Background(), db: db}
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
		})
	}
}
