package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// roundTripSchema is the users table of the harness, audit, and kv: a table
// whose only unique key is an integer primary key.
const roundTripSchema = usersSchema + `;
CREATE TABLE kv (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(64) NULL) ENGINE=InnoDB;
CREATE PROCEDURE touch_users() UPDATE users SET age = age + 1`

// roundTripRows are the rows every measured statement starts from.
const roundTripRows = `DELETE FROM users; DELETE FROM audit; DELETE FROM kv;
INSERT INTO users (id, name, email, age) VALUES (1, 'ann', 'a@x', 30), (2, 'bob', 'b@x', 40), (3, 'cat', NULL, 50);
INSERT INTO audit (id, note) VALUES (1, 'x'), (3, 'y');
INSERT INTO kv (id, v) VALUES (1, 'a'), (2, 'b')`

// roundTripForm is one statement form of the capture table, on users
// (mapped by id and by name), kv (mapped by id) and audit (not mapped),
// with what the driver must add to it:
//
//   - reads: SELECTs the driver sends for it (before-, after-image and
//     conflict reads), of which readsWithArgs carry args: on the prepare
//     path each of those is a prepare and an execute. An autocommit
//     statement that reads is also wrapped in START TRANSACTION ... COMMIT.
//   - rcReads, rcReadsWithArgs: the before-images read again after the
//     write under READ COMMITTED (phantoms).
//   - txExtra: what it costs inside a transaction besides its reads.
//   - resync (rcResync: under READ COMMITTED only): it falls back to a
//     table resync, counted in Stats.Fallbacks.
type roundTripForm struct {
	form, query              string
	args                     []any
	reads, readsWithArgs     int
	rcReads, rcReadsWithArgs int
	txExtra                  int
	resync, rcResync         bool
}

var roundTripForms = []roundTripForm{
	{form: "INSERT explicit keys", query: "INSERT INTO users (id, name, email) VALUES (?, ?, ?)", args: []any{10, "dan", "d@x"}},
	{form: "INSERT one auto-increment row", query: "INSERT INTO users (name, email) VALUES (?, ?)", args: []any{"dan", "d@x"}},
	{form: "INSERT several auto-increment rows", query: "INSERT INTO users (name) VALUES (?), (?), (?)", args: []any{"x1", "x2", "x3"}},
	{form: "UPDATE by every key column", query: "UPDATE users SET email = ? WHERE id = ? AND name = ?", args: []any{"new", 2, "bob"}},
	{form: "UPDATE by id, name key not pinned", query: "UPDATE users SET email = ? WHERE id = ?", args: []any{"new", 2},
		reads: 1, readsWithArgs: 1, rcReads: 1, rcReadsWithArgs: 1},
	{form: "DELETE by every key column, exact (kv)", query: "DELETE FROM kv WHERE id = ?", args: []any{2}},
	// A DELETE without LIMIT deletes every row its before-image read: the
	// affected-rows count alone tells whether there were phantoms.
	{form: "DELETE by every key column, case-blind name", query: "DELETE FROM users WHERE id = ? AND name = ?", args: []any{2, "bob"},
		reads: 1, readsWithArgs: 1},
	{form: "UPDATE with another WHERE", query: "UPDATE users SET age = ? WHERE email LIKE ?", args: []any{1, "%@x"},
		reads: 1, readsWithArgs: 1, rcReads: 1, rcReadsWithArgs: 1},
	{form: "DELETE with another WHERE", query: "DELETE FROM users WHERE age > ?", args: []any{35},
		reads: 1, readsWithArgs: 1},
	// With a LIMIT, READ COMMITTED looks the imaged rows up again by id:
	// a phantom may have been written in place of one of them.
	{form: "UPDATE ... ORDER BY id LIMIT", query: "UPDATE users SET age = age + 1 ORDER BY id LIMIT 2",
		reads: 1, rcReads: 1, rcReadsWithArgs: 1},
	// An order that may tie: the rows up to the LIMIT, then those that tie
	// with the last of them.
	{form: "UPDATE ... ORDER BY non-unique LIMIT", query: "UPDATE users SET age = age + 1 ORDER BY age LIMIT 1",
		reads: 2, readsWithArgs: 1, rcReads: 1, rcReadsWithArgs: 1},
	{form: "UPDATE ... ORDER BY non-unique LIMIT, tied", query: "UPDATE users SET age = age + 1 ORDER BY deleted_at LIMIT 1",
		reads: 2, readsWithArgs: 1, rcReads: 1, rcReadsWithArgs: 1},
	{form: "UPDATE ... ORDER BY ... LIMIT ?, fewer rows", query: "UPDATE users SET age = age + 1 WHERE age > ? ORDER BY age LIMIT ?", args: []any{45, 5},
		reads: 1, readsWithArgs: 1, rcReads: 1, rcReadsWithArgs: 1},
	{form: "UPDATE ... ORDER BY LIMIT out of its WHERE", query: "UPDATE users SET email = ? WHERE email IS NULL ORDER BY age LIMIT 1", args: []any{"c@x"},
		reads: 2, readsWithArgs: 1, rcReads: 1, rcReadsWithArgs: 1},
	{form: "DELETE ... ORDER BY non-unique LIMIT", query: "DELETE FROM users ORDER BY age DESC LIMIT 1",
		reads: 2, readsWithArgs: 1, rcReads: 1, rcReadsWithArgs: 1},
	{form: "UPDATE that changes a key column (name)", query: "UPDATE users SET name = ? WHERE id = ?", args: []any{"bobby", 2},
		reads: 2, readsWithArgs: 2, rcReads: 1, rcReadsWithArgs: 1},
	{form: "UPDATE that changes the primary key", query: "UPDATE users SET id = ? WHERE id = ?", args: []any{20, 3},
		reads: 2, readsWithArgs: 2, rcReads: 1, rcReadsWithArgs: 1},
	{form: "upsert, PK-only table (kv)", query: "INSERT INTO kv (id, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)", args: []any{2, "z"}},
	{form: "upsert, second unique key (users)", query: "INSERT INTO users (id, name, email) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE email = VALUES(email)", args: []any{2, "bob", "u@x"},
		reads: 1, readsWithArgs: 1},
	{form: "REPLACE, PK-only table (kv)", query: "REPLACE INTO kv (id, v) VALUES (?, ?)", args: []any{2, "r"}},
	{form: "REPLACE, second unique key (users)", query: "REPLACE INTO users (id, name, email) VALUES (?, ?, ?)", args: []any{4, "bob", "r@x"},
		reads: 1, readsWithArgs: 1},
	{form: "INSERT ... SELECT", query: "INSERT INTO users (id, name) SELECT id + 100, CONCAT('s', note) FROM audit", resync: true},
	{form: "multi-table UPDATE", query: "UPDATE users u JOIN audit a ON a.id = u.id SET u.email = a.note",
		reads: 1, rcReads: 1},
	// RowsAffected counts the rows of both tables: under READ COMMITTED
	// each table's imaged rows are looked up again to tell whether the
	// write changed them all.
	{form: "multi-table UPDATE of two mapped tables", query: "UPDATE users u JOIN kv k ON k.id = u.id SET u.age = 1, k.v = 'j'",
		reads: 2, rcReads: 2, rcReadsWithArgs: 2},
	{form: "multi-table DELETE", query: "DELETE u FROM users u JOIN audit a ON a.id = u.id WHERE a.id = ?", args: []any{3},
		reads: 1, readsWithArgs: 1},
	{form: "TRUNCATE", query: "TRUNCATE TABLE users", txExtra: 1, resync: true},
	{form: "LOAD DATA", query: "LOAD DATA LOCAL INFILE '%s' INTO TABLE kv FIELDS TERMINATED BY ',' (id, v)", resync: true},
	{form: "DDL on a mapped table", query: "ALTER TABLE users COMMENT = 'measured'", txExtra: 1, resync: true},
	{form: "CALL", query: "CALL touch_users()", resync: true},
	{form: "text the parser rejects", query: "DELETE FROM users WHERE id = ? RETURNING id", args: []any{1}, resync: true},
	{form: "two statements in one text", query: "UPDATE users SET age = 1 WHERE id = 1; DELETE FROM kv WHERE id = 2", resync: true},
}

// want is the number of statements the driver must add in a mode, and
// whether it must resync.
func (f roundTripForm) want(m roundTripMode, interpolate bool) (extra int64, resync bool) {
	extra = int64(f.reads)
	if !interpolate {
		extra += int64(f.readsWithArgs)
	}
	if m.inTx {
		extra += int64(f.txExtra)
	} else if f.reads > 0 {
		extra += 2 // START TRANSACTION and COMMIT around the statement
	}
	if m.readCommitted {
		extra += int64(f.rcReads)
		if !interpolate {
			extra += int64(f.rcReadsWithArgs)
		}
	}
	return extra, f.resync || m.readCommitted && f.rcResync
}

// roundTripMode is how the statement runs: on its own or in a BeginTx
// transaction, under the server's default REPEATABLE READ or under READ
// COMMITTED (set for the session).
type roundTripMode struct {
	name                string
	inTx, readCommitted bool
}

var roundTripModes = []roundTripMode{
	{"autocommit", false, false},
	{"BeginTx", true, false},
	{"autocommit RC", false, true},
	{"BeginTx RC", true, true},
}

// fallbackTotal is the number of table resyncs the connector has asked for.
func fallbackTotal(c *Connector) int64 {
	var n int64
	for _, v := range c.Stats().Fallbacks {
		n += v
	}
	return n
}

// roundTripCounter reads how many statements the server ran for one
// connection: Questions (every statement a client sent, prepared executes
// included) plus Com_stmt_prepare (prepares, which Questions leaves out).
func roundTripCounter(ctx context.Context, conn *sql.Conn) (int64, error) {
	rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS WHERE Variable_name IN ('Questions', 'Com_stmt_prepare')")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, rows.Err()
}

// countRoundTrips runs fn between two reads of the counter and returns the
// statements the server ran for it (the second read counts itself: it is
// taken off).
func countRoundTrips(ctx context.Context, conn *sql.Conn, fn func() error) (int64, error) {
	before, err := roundTripCounter(ctx, conn)
	if err != nil {
		return 0, err
	}
	if err := fn(); err != nil {
		return 0, err
	}
	after, err := roundTripCounter(ctx, conn)
	if err != nil {
		return 0, err
	}
	return after - before - 1, nil
}

// runOnce runs a statement on a pinned connection, in autocommit or in a
// BeginTx transaction that it commits.
func runOnce(ctx context.Context, conn *sql.Conn, inTx bool, query string, args []any) error {
	if !inTx {
		_, err := conn.ExecContext(ctx, query, args...)
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// TestRoundTripsPerForm measures, for each statement form of the capture
// table, the statements the server runs for the app's one statement
// through the driver and through the plain mysql driver, in autocommit and
// in a BeginTx transaction (BEGIN, the statement and COMMIT counted), with
// interpolated args and on the prepare path. The difference must be the
// expected number of extra round trips, so that a form that starts costing
// more fails here.
//
//	go test -run '^TestRoundTripsPerForm$' -v .
func TestRoundTripsPerForm(t *testing.T) {
	e := newEnv(t, roundTripSchema, append(usersMappings(), Mapping{Table: "kv", Key: "{p}/kv/{id}", Value: ColumnValue("v")})...)
	ctx := context.Background()
	csv := filepath.Join(t.TempDir(), "kv.csv")
	if err := os.WriteFile(csv, []byte("5,e\n6,f\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mysql.RegisterLocalFile(csv)
	defer mysql.DeregisterLocalFile(csv)
	for _, interpolate := range []bool{true, false} {
		path := "interpolateParams=true"
		if !interpolate {
			path = "interpolateParams=false (prepare path)"
		}
		t.Run(map[bool]string{true: "interpolate", false: "prepare"}[interpolate], func(t *testing.T) {
			setup := func(mc *mysql.Config, _ *Config) { mc.InterpolateParams, mc.MultiStatements = interpolate, true }
			driverDB, connector := e.open(setup)
			mc, err := mysql.ParseDSN(e.dsn)
			if err != nil {
				t.Fatal(err)
			}
			setup(mc, nil)
			inner, err := mysql.NewConnector(mc)
			if err != nil {
				t.Fatal(err)
			}
			plainDB := sql.OpenDB(inner)
			defer plainDB.Close()
			conns := map[string]*sql.Conn{}
			opened := map[string]int64{}
			for side, db := range map[string]*sql.DB{"plain": plainDB, "driver": driverDB} {
				c, err := db.Conn(ctx) // the handle's first connection
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				conns[side] = c
				n, err := roundTripCounter(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				opened[side] = n - 1 // what opening it ran, less the SHOW
				// The counter's own cost is taken off exactly: nothing
				// between two reads counts 0.
				if n, err := countRoundTrips(ctx, c, func() error { return nil }); err != nil || n != 0 {
					t.Fatalf("%s: an empty window counts %d (%v), want 0", side, n, err)
				}
			}
			// Opening a connection reads the session state, isolation level
			// included, in one statement (two on MySQL 8, whose isolation
			// variable has the other name).
			wantOpen := int64(1)
			if _, err := plainDB.ExecContext(ctx, "SELECT @@tx_isolation"); err != nil {
				wantOpen = 2
			}
			if got := opened["driver"] - opened["plain"]; got != wantOpen {
				t.Errorf("%s: opening a connection ran %d statements more than the plain driver, want %d", path, got, wantOpen)
			}
			t.Logf("%s: opening a connection: plain %d, driver %d statements", path, opened["plain"], opened["driver"])
			type result struct{ plain, driver, extra int64 }
			results := make([][]result, len(roundTripForms))
			for i := range results {
				results[i] = make([]result, len(roundTripModes))
			}
			for j, m := range roundTripModes {
				level := "REPEATABLE READ"
				if m.readCommitted {
					level = "READ COMMITTED"
				}
				for _, c := range conns {
					if _, err := c.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL "+level); err != nil {
						t.Fatal(err)
					}
				}
				for i, f := range roundTripForms {
					query := f.query
					if strings.Contains(query, "%s") {
						query = fmt.Sprintf(query, csv)
					}
					fallbacks := fallbackTotal(connector)
					counts := map[string]int64{}
					for _, side := range []string{"plain", "driver"} {
						e.exec(roundTripRows)
						n, err := countRoundTrips(ctx, conns[side], func() error {
							return runOnce(ctx, conns[side], m.inTx, query, f.args)
						})
						if err != nil {
							t.Fatalf("%s (%s, %s): %v", query, side, m.name, err)
						}
						counts[side] = n
					}
					r := result{counts["plain"], counts["driver"], counts["driver"] - counts["plain"]}
					results[i][j] = r
					want, wantResync := f.want(m, interpolate)
					if r.extra != want {
						t.Errorf("%s: %s (%s): the driver ran %d statements more than the plain driver, want %d",
							path, f.form, m.name, r.extra, want)
					}
					if resynced := fallbackTotal(connector) > fallbacks; resynced != wantResync {
						t.Errorf("%s: %s (%s): resynced the table: %v, want %v", path, f.form, m.name, resynced, wantResync)
					}
				}
			}
			head := fmt.Sprintf("%-44s", "form (plain / driver / extra)")
			for _, m := range roundTripModes {
				head += fmt.Sprintf(" | %-15s", m.name)
			}
			lines := []string{path, strings.TrimRight(head, " ")}
			for i, f := range roundTripForms {
				line := fmt.Sprintf("%-44s", f.form)
				for _, r := range results[i] {
					line += fmt.Sprintf(" | %2d %2d %+3d      ", r.plain, r.driver, r.extra)
				}
				if f.resync {
					line += " resync"
				} else if f.rcResync {
					line += " resync (RC)"
				}
				lines = append(lines, strings.TrimRight(line, " "))
			}
			t.Logf("statements the server ran for one app statement:\n%s", strings.Join(lines, "\n"))
		})
	}
	e.flush()
}
