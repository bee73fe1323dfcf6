package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// jobsSchema is a job queue whose priority ties, and is NULL for some jobs.
const jobsSchema = `CREATE TABLE jobs (id INT NOT NULL PRIMARY KEY, prio INT NULL, owner VARCHAR(16) NULL, KEY prio_idx (prio))`

func jobsMapping() Mapping { return Mapping{Table: "jobs", Key: "{p}/jobs/{id}", Value: JSONValue} }

// jobRows are ten jobs: two without a priority, then priorities 1, 1, 1,
// 2, 2, 3, 3, 3.
const jobRows = `INSERT INTO jobs (id, prio) VALUES (1, NULL), (2, NULL), (3, 1), (4, 1), (5, 1), (6, 2), (7, 2), (8, 3), (9, 3), (10, 3)`

// A job queue claims and deletes jobs n at a time in priority order, the
// LIMIT falling inside groups of ties (NULLs included) in both directions:
// after each statement etcd holds what the table holds.
func TestOrderByLimitWithTiesConverges(t *testing.T) {
	for _, dir := range []string{"ASC", "DESC"} {
		for _, limit := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s LIMIT %d", dir, limit), func(t *testing.T) {
				e := newEnv(t, jobsSchema, jobsMapping())
				db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.InterpolateParams = limit == 1 })
				mustExec(t, db, jobRows)
				e.converged()
				claim := "UPDATE jobs SET owner = ? WHERE owner IS NULL ORDER BY prio " + dir + " LIMIT ?"
				for i := 1; ; i++ {
					if n := execCount(t, db, claim, fmt.Sprintf("w%d", i), limit); n == 0 {
						break
					}
					e.converged()
				}
				for execCount(t, db, "DELETE FROM jobs ORDER BY prio "+dir+", owner "+dir+" LIMIT "+itoa(limit)) > 0 {
					e.converged()
				}
				e.converged()
			})
		}
	}
}

// execCount runs a statement through db and returns the rows it changed.
func execCount(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The server may take any of the rows that tie with the last one within
// the LIMIT: the capture holds all of them, whether the order is a column,
// an expression, or text under a case-blind collation.
func TestOrderByLimitCapturesEveryRowThatTiesAtTheLimit(t *testing.T) {
	for _, c := range []struct {
		name, order string
		tied        int64 // rows the capture must hold
	}{
		{"column", "prio", 3},
		{"column descending", "prio DESC", 3},
		{"expression", "COALESCE(prio, 9) + 0", 3},
		{"NULLs first", "note", 2},
		{"case-blind text", "name", 2},
		{"two items", "prio, name", 2},
		{"TIMESTAMP", "ts", 3},
		{"FLOAT", "f", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, `CREATE TABLE q (id INT NOT NULL PRIMARY KEY, prio INT NOT NULL, name VARCHAR(8) COLLATE utf8mb4_general_ci NOT NULL, note VARCHAR(8) NULL,
				ts TIMESTAMP(6) NOT NULL DEFAULT '2024-03-31 02:30:00.5', f FLOAT NOT NULL DEFAULT 3.3333333)`,
				Mapping{Table: "q", Key: "{p}/q/{id}", Value: ColumnValue("note")})
			db, conn := e.open(nil)
			last := 2 // the fourth row sorts after the three that tie
			if c.name == "column descending" {
				last = 0
			}
			mustExec(t, db, "INSERT INTO q (id, prio, name, note) VALUES (1, 1, 'a', NULL), (2, 1, 'A', NULL), (3, 1, 'b', 'x')")
			mustExec(t, db, "INSERT INTO q VALUES (4, ?, 'c', 'y', '2025-01-01', 4.5)", last)
			e.converged()
			before := conn.Stats().KeysCaptured
			mustExec(t, db, "UPDATE q SET note = 'taken' WHERE id > 0 ORDER BY "+c.order+" LIMIT 1")
			e.flush()
			if got := conn.Stats().KeysCaptured - before; got < c.tied {
				t.Errorf("captured %d keys, want the %d rows that tie", got, c.tied)
			}
			if n := conn.Stats().Fallbacks[reasonUnsupported]; n != 0 {
				t.Errorf("%d table resyncs, want none", n)
			}
			e.converged()
		})
	}
}

// A LIMIT given as an arg on the prepare path (interpolateParams=false),
// and a LIMIT larger than the rows that match.
func TestOrderByLimitArgOnThePreparePath(t *testing.T) {
	e := newEnv(t, jobsSchema, jobsMapping())
	db, _ := e.open(nil)
	mustExec(t, db, jobRows)
	e.converged()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExecTx(t, tx, "UPDATE jobs SET owner = ? WHERE owner IS NULL ORDER BY prio DESC LIMIT ?", "a", 2)
	mustExecTx(t, tx, "UPDATE jobs SET owner = ? WHERE prio > ? ORDER BY prio LIMIT ?", "b", 1, 100)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	e.converged()
}

// The rows that tie are found whatever the connection's character set: a
// latin1 connection reads 'a😀' as 'a?', which matches no row. On the
// prepare path bytes arrive as text in that character set.
func TestOrderByLimitTiesDoNotDependOnTheDSNsCharset(t *testing.T) {
	for _, interpolate := range []bool{false, true} {
		t.Run(fmt.Sprintf("interpolateParams=%v", interpolate), func(t *testing.T) {
			e := newEnv(t, `CREATE TABLE q (id INT NOT NULL PRIMARY KEY, name VARCHAR(8) COLLATE utf8mb4_general_ci NOT NULL, note VARCHAR(8) NULL)`,
				Mapping{Table: "q", Key: "{p}/q/{id}", Value: JSONValue})
			e.exec("INSERT INTO q VALUES (1, 'a😀', NULL), (2, 'A😀', NULL), (3, 'zz', NULL)")
			db, c := e.open(func(mc *mysql.Config, _ *Config) {
				mc.Collation, mc.InterpolateParams = "latin1_swedish_ci", interpolate
			})
			if err := c.Resync(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.converged()
			before := c.Stats().KeysCaptured
			mustExec(t, db, "UPDATE q SET note = 'taken' ORDER BY name LIMIT 1")
			e.flush()
			if got := c.Stats().KeysCaptured - before; got < 2 {
				t.Errorf("captured %d keys, want the 2 rows that tie", got)
			}
			e.converged()
		})
	}
}
