package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// A READ COMMITTED transaction updates "all new jobs"; between its
// before-image and its UPDATE another transaction inserts and commits a new
// job (READ COMMITTED takes no gap locks, so nothing stops it). The UPDATE
// changes the phantom too; its key must be pushed.
func TestReadCommittedPhantomsAreCaptured(t *testing.T) {
	for _, moves := range []bool{false, true} {
		t.Run(fmt.Sprintf("SET moves the row out of the WHERE=%v", moves), func(t *testing.T) {
			e := newEnv(t, `CREATE TABLE jobs (id INT NOT NULL PRIMARY KEY, status VARCHAR(8) NOT NULL, note VARCHAR(8) NULL, KEY (status))`,
				Mapping{Table: "jobs", Key: "{p}/jobs/{id}"})
			db, c := e.open(func(mc *mysql.Config, _ *Config) { mc.InterpolateParams = true })
			other, _ := e.open(nil) // another service, also through the driver
			mustExec(t, db, "INSERT INTO jobs VALUES (1, 'new', NULL), (2, 'done', NULL)")
			e.converged()
			ctx := context.Background()
			tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
			if err != nil {
				t.Fatal(err)
			}
			once := false
			c.pipe.st.beforeImageRead = func() {
				if !once {
					once = true
					mustExec(t, other, "INSERT INTO jobs VALUES (3, 'new', NULL)") // the phantom
					e.flushOnly(1)
				}
			}
			defer func() { c.pipe.st.beforeImageRead = nil }()
			update := "UPDATE jobs SET note = 'seen' WHERE status = 'new'"
			if moves {
				update = "UPDATE jobs SET status = 'done' WHERE status = 'new'"
			}
			mustExecTx(t, tx, update)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			e.converged()
		})
	}
}

// readCommittedWrite runs write in a READ COMMITTED transaction through a
// driver handle (clientFoundRows as given) while, between its before-image
// and the write, another service commits phantom (unless it is empty). It
// returns the table resyncs the write asked for.
func readCommittedWrite(t *testing.T, e *env, foundRows bool, setup, phantom, write string) int64 {
	t.Helper()
	db, c := e.open(func(mc *mysql.Config, _ *Config) { mc.ClientFoundRows = foundRows })
	other, _ := e.open(nil) // another service, also through the driver
	mustExec(t, db, setup)
	e.converged()
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		t.Fatal(err)
	}
	if phantom != "" {
		once := false
		c.pipe.st.beforeImageRead = func() {
			if !once {
				once = true
				mustExec(t, other, phantom)
				e.flushOnly(1)
			}
		}
		defer func() { c.pipe.st.beforeImageRead = nil }()
	}
	before := fallbackTotal(c)
	mustExecTx(t, tx, write)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	e.converged()
	return fallbackTotal(c) - before
}

// The UPDATE's SET moves the phantom out of its WHERE, so reading the WHERE
// again does not find it; and a row the before-image read, already as the
// SET leaves it, is matched but not changed, so the changed-rows count
// does not exceed what the before-image read either. The write's key must
// be pushed all the same, with clientFoundRows or without.
func TestReadCommittedPhantomMovedOutOfTheWhereIsCaptured(t *testing.T) {
	const (
		setup   = "INSERT INTO jobs VALUES (1, 'new', NULL), (2, 'done', 'keep')"
		phantom = "INSERT INTO jobs VALUES (3, 'new', NULL)"
		write   = "UPDATE jobs SET status = 'done' WHERE status = 'new' OR note = 'keep'"
	)
	for _, foundRows := range []bool{false, true} {
		t.Run(fmt.Sprintf("clientFoundRows=%v", foundRows), func(t *testing.T) {
			e := newEnv(t, `CREATE TABLE jobs (id INT NOT NULL PRIMARY KEY, status VARCHAR(8) NOT NULL, note VARCHAR(8) NULL, KEY (status))`,
				Mapping{Table: "jobs", Key: "{p}/jobs/{id}"})
			if resyncs := readCommittedWrite(t, e, foundRows, setup, phantom, write); resyncs == 0 {
				t.Error("the phantom went unnoticed (no table resync)")
			}
		})
	}
}

// Without a phantom, the same writes tell from their count (and, unless
// clientFoundRows counts every row they read, from looking their rows up
// again) that they changed no row they did not read: no table resync.
func TestReadCommittedWriteWithoutAPhantomDoesNotResync(t *testing.T) {
	for _, c := range []struct{ name, setup, write string }{
		{"every row changes", "INSERT INTO jobs VALUES (1, 'new', NULL), (2, 'new', 'keep')",
			"UPDATE jobs SET status = 'done' WHERE status = 'new' OR note = 'keep'"},
		{"a row stays as it was", "INSERT INTO jobs VALUES (1, 'new', NULL), (2, 'done', 'keep')",
			"UPDATE jobs SET status = 'done' WHERE status = 'new' OR note = 'keep'"},
		{"claim the next job", "INSERT INTO jobs VALUES (1, 'new', NULL), (2, 'new', NULL)",
			"UPDATE jobs SET status = 'mine' WHERE status = 'new' ORDER BY note LIMIT 1"},
		{"delete the next job", "INSERT INTO jobs VALUES (1, 'new', NULL), (2, 'new', NULL)",
			"DELETE FROM jobs WHERE status = 'new' ORDER BY note LIMIT 1"},
	} {
		for _, foundRows := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, clientFoundRows=%v", c.name, foundRows), func(t *testing.T) {
				e := newEnv(t, `CREATE TABLE jobs (id INT NOT NULL PRIMARY KEY, status VARCHAR(8) NOT NULL, note VARCHAR(8) NULL, KEY (status))`,
					Mapping{Table: "jobs", Key: "{p}/jobs/{id}"})
				if resyncs := readCommittedWrite(t, e, foundRows, c.setup, "", c.write); resyncs != 0 {
					t.Errorf("%d table resyncs without a phantom", resyncs)
				}
			})
		}
	}
}

// A phantom that sorts before the row the before-image read is taken by
// the LIMIT in its place: the changed-rows count is the same, and the
// imaged row is left as it was. Whether the write then moves the phantom
// out of its WHERE, leaves it there, or deletes it, its key is pushed.
func TestReadCommittedPhantomTakenByALimitIsCaptured(t *testing.T) {
	for _, order := range []string{"prio", "id"} {
		for _, write := range []string{
			"UPDATE jobs SET owner = 'me' WHERE owner IS NULL ORDER BY %s LIMIT 1",
			"UPDATE jobs SET note = 'seen' WHERE owner IS NULL ORDER BY %s LIMIT 1",
			"DELETE FROM jobs WHERE owner IS NULL ORDER BY %s LIMIT 1",
		} {
			write := fmt.Sprintf(write, order)
			t.Run(write, func(t *testing.T) {
				e := newEnv(t, `CREATE TABLE jobs (id INT NOT NULL PRIMARY KEY, prio INT NOT NULL, owner VARCHAR(8) NULL, note VARCHAR(8) NULL, KEY (prio))`,
					Mapping{Table: "jobs", Key: "{p}/jobs/{id}"})
				readCommittedWrite(t, e, false, "INSERT INTO jobs VALUES (5, 5, NULL, NULL)", "INSERT INTO jobs VALUES (2, 1, NULL, NULL)", write)
			})
		}
	}
}
