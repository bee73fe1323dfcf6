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
// every step, with the mysql driver's server-side prepared statements (its
// default) and with interpolateParams.
func TestWorkloadConverges(t *testing.T) {
	for name, params := range map[string]string{
		"default":           "&parseTime=true",
		"interpolateParams": "&parseTime=true&interpolateParams=true",
	} {
		t.Run(name, func(t *testing.T) {
			env := harness.New(t, "mysqletcd.yaml")
			dsn := env.DSN + params
			if err := migrate(dsn); err != nil {
				t.Fatal(err)
			}
			db, err := open(dsn)
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

// TestCreateTableThroughTheDriver creates the table the natural way: its
// CREATE TABLE through the mysqletcd driver, on a database that does not
// have the mapped table yet.
func TestCreateTableThroughTheDriver(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	db, err := open(env.DSN + "&parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(schema)
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		t.Skip("known gap: a mapping whose table does not exist yet fails the first connection; see issue 8: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), db, env.Converged); err != nil {
		t.Fatal(err)
	}
}
