package main

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestWorkloadConverges runs the example as main does, on an empty
// database (AutoMigrate through the driver creates the table), and checks
// etcd against the database after every step: with the mysql driver's
// server-side prepared statements (its default), with interpolateParams,
// and with GORM's own prepared statement cache.
func TestWorkloadConverges(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dsnParams string
		session   gorm.Session
	}{
		{name: "default", dsnParams: "&parseTime=true"},
		{name: "interpolateParams", dsnParams: "&parseTime=true&interpolateParams=true"},
		{name: "PrepareStmt", dsnParams: "&parseTime=true", session: gorm.Session{PrepareStmt: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := harness.New(t, "mysqletcd.yaml")
			db := openForTest(t, env.DSN+tc.dsnParams)
			w := &workload{db: db.Session(&tc.session).WithContext(context.Background())}
			err := w.run(func(step string) {
				env.Converged(step)
				if step == "create" {
					env.CheckIDs("users", createdIDs(t, w.created))
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// createdIDs is what GORM reported for the users of the create step.
func createdIDs(t *testing.T, created []User) map[string]int64 {
	if len(created) != 10 {
		t.Fatalf("created %d users, want 10", len(created))
	}
	ids := map[string]int64{}
	for _, u := range created {
		ids[u.Name] = int64(u.ID)
	}
	return ids
}

// openForTest opens GORM as main does, closed when the test ends.
func openForTest(t *testing.T, dsn string) *gorm.DB {
	t.Helper()
	db, err := open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.Close()
		}
		if err != nil {
			t.Error(err)
		}
	})
	return db
}
