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
