package main

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestWorkloadConverges runs the example as main does (tables created with
// the plain driver first) and checks etcd against the database after every
// step: with the mysql driver's server-side prepared statements (its
// default), with interpolateParams, and with GORM's own prepared
// statement cache.
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
			dsn := env.DSN + tc.dsnParams
			if err := migrate(dsn); err != nil {
				t.Fatal(err)
			}
			db, err := open(dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeGorm(t, db) })

			w := &workload{db: db.Session(&tc.session).WithContext(context.Background())}
			err = w.run(func(step string) {
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

// TestAutoMigrateThroughTheDriver creates the table the natural way: GORM's
// AutoMigrate through the mysqletcd driver, on a database that does not
// have the mapped table yet.
func TestAutoMigrateThroughTheDriver(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	db, err := open(env.DSN + "&parseTime=true")
	if err == nil {
		t.Cleanup(func() { closeGorm(t, db) })
		err = db.AutoMigrate(&User{})
	}
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

func closeGorm(t *testing.T, db *gorm.DB) {
	sqlDB, err := db.DB()
	if err == nil {
		err = sqlDB.Close()
	}
	if err != nil {
		t.Error(err)
	}
}
