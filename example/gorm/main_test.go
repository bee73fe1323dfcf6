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
// step.
func TestWorkloadConverges(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	dsn := env.DSN + "&parseTime=true"
	if err := migrate(dsn); err != nil {
		t.Fatal(err)
	}
	db, err := open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeGorm(t, db) })

	w := &workload{db: db.WithContext(context.Background())}
	err = w.run(func(step string) {
		env.Converged(step)
		if step == "create" {
			checkCreatedIDs(t, env, w.created)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkCreatedIDs compares the ids GORM reported for new users with the
// database's.
func checkCreatedIDs(t *testing.T, env *harness.Env, created []User) {
	t.Helper()
	if len(created) != 10 {
		t.Fatalf("created %d users, want 10", len(created))
	}
	for _, u := range created {
		var id uint64
		if err := env.Plain.QueryRow("SELECT id FROM users WHERE name = ?", u.Name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if u.ID != id {
			t.Errorf("GORM reported id %d for %s; the database has %d", u.ID, u.Name, id)
		}
	}
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
