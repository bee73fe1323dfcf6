package mysqletcd

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Edge cases of capture, transaction tracking and transparency, each once
// a way to lose a write. They use the shared harness (newEnv, open,
// converged).

func mustConn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func mustConnExec(t *testing.T, conn *sql.Conn, q string, args ...any) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// --- Keys taken from statement text that the server stores differently ---

// kv.k uses the server's default, case-insensitive collation: the WHERE
// names 'KEY2', the row is 'key2'. The values plan captures /kv/KEY2 only;
// once the row is gone no lookup finds the real key, so /kv/key2 stays.
func TestDeleteByKeyInAnotherCaseDeletesTheStoredKey(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO kv VALUES ('key2', 'v')")
	e.converged()
	mustExec(t, db, "DELETE FROM kv WHERE k = ?", "KEY2")
	e.converged()
}

// The same with an integer key written as '7.0' (equal to 7 for the
// server; normalizeNumber leaves it as "7.0").
func TestDeleteByIntegerKeyWrittenAsDecimalTextDeletesTheKey(t *testing.T) {
	e := newEnv(t, typesSchema, numsMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO nums (id, s) VALUES (7, 'x')")
	e.converged()
	mustExec(t, db, "DELETE FROM nums WHERE id = '7.0'")
	e.converged()
}

// REPLACE on a table whose only unique key is the mapping's key takes no
// before-image (conflictsPinnedByKey). 'KEY2' replaces the row 'key2': the
// key /kv/key2 is never pushed again.
func TestReplaceByKeyInAnotherCaseRemovesTheOldKey(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO kv VALUES ('key2', 'v')")
	e.converged()
	mustExec(t, db, "REPLACE INTO kv VALUES (?, ?)", "KEY2", "w")
	e.converged()
}

// An integer key given as 7.6 is stored as 8. The captured key is
// /nums/7.6; the lookup "id IN (7.6)" finds nothing; /nums/8 is never pushed.
func TestInsertOfFractionalIntegerKeyIsCaptured(t *testing.T) {
	e := newEnv(t, typesSchema, numsMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO nums (id, s) VALUES (?, 'x')", 7.6)
	e.converged()
}

// The after-image looks the moved row up by the SET value as written
// (7.6); the server stored 8.
func TestUpdateMovingKeyToFractionalValueIsCaptured(t *testing.T) {
	e := newEnv(t, typesSchema, numsMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO nums (id, s) VALUES (1, 'x')")
	e.converged()
	mustExec(t, db, "UPDATE nums SET id = 7.6 WHERE s = 'x'")
	e.converged()
}

// --- Upsert / REPLACE conflicts whose unique values are not in the text ---

const itemsSchema = `CREATE TABLE items (
	id INT NOT NULL PRIMARY KEY,
	code VARCHAR(16) NOT NULL DEFAULT 'none',
	v VARCHAR(16) NULL,
	UNIQUE KEY code_uq (code)
)`

func itemsMapping() Mapping { return Mapping{Table: "items", Key: "{p}/items/{id}", Value: JSONValue} }

// REPLACE that leaves the unique column to its DEFAULT conflicts with row 1
// and deletes it. conflictQuery cannot tell code's value, returns ok=false,
// and beforeImages silently reads nothing: no before-image, no resync.
func TestReplaceConflictingOnADefaultedUniqueColumnIsCaptured(t *testing.T) {
	e := newEnv(t, itemsSchema, itemsMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO items (id, code, v) VALUES (1, 'none', 'a')")
	e.converged()
	mustExec(t, db, "REPLACE INTO items (id, v) VALUES (2, 'b')")
	e.converged()
}

// The same through ON DUPLICATE KEY UPDATE with the unique value given by
// an expression: row 1 is updated, its key is never pushed.
func TestUpsertConflictingOnAUniqueKeyGivenByAnExpressionIsCaptured(t *testing.T) {
	e := newEnv(t, itemsSchema, itemsMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO items (id, code, v) VALUES (1, 'none', 'a')")
	e.converged()
	mustExec(t, db, "INSERT INTO items (id, code, v) VALUES (2, LOWER('NONE'), 'b') ON DUPLICATE KEY UPDATE v = 'b'")
	e.converged()
}

// A NULL in a nullable unique column conflicts with nothing, but the NULL
// makes conflictQuery give up on every unique key, the primary key included.
func TestUpsertWithNullInANullableUniqueColumnStillReadsThePrimaryKeyConflict(t *testing.T) {
	e := newEnv(t, `CREATE TABLE tags (
		id INT NOT NULL PRIMARY KEY,
		slug VARCHAR(16) NOT NULL,
		code VARCHAR(16) NULL,
		v VARCHAR(16) NULL,
		UNIQUE KEY slug_uq (slug), UNIQUE KEY code_uq (code))`,
		Mapping{Table: "tags", Key: "{p}/tags/{slug}", Value: ColumnValue("v")})
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO tags (id, slug, code, v) VALUES (1, 'old', 'c', 'a')")
	e.converged()
	mustExec(t, db, "INSERT INTO tags (id, slug, code, v) VALUES (1, 'new', NULL, 'b') ON DUPLICATE KEY UPDATE v = VALUES(v)")
	e.converged()
}

// --- Transaction state ---

// CREATE TEMPORARY TABLE does not commit, but the plan calls every DDL an
// implicit commit: the keys are pushed before the real COMMIT (reading the
// old row), and the COMMIT then pushes nothing.
func TestCreateTemporaryTableDoesNotCommitTheTransaction(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "BEGIN")
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1")
	mustConnExec(t, conn, "CREATE TEMPORARY TABLE scratch (x INT)")
	e.flush() // the driver believes the UPDATE committed and pushes it
	mustConnExec(t, conn, "COMMIT")
	e.converged()
}

// TRUNCATE (and REPAIR/CHECK TABLE, which the parser rejects, on any table) commits the open
// transaction; the session does not see it, so a later ROLLBACK forgets
// keys the server already committed.
func TestTruncateOfAnotherTableCommitsTheOpenTransaction(t *testing.T) {
	for _, stmt := range []string{"TRUNCATE TABLE audit", "REPAIR TABLE audit", "CHECK TABLE audit"} {
		t.Run(stmt, func(t *testing.T) {
			e := newEnv(t, usersSchema, usersMappings()...)
			db, _ := e.open(nil)
			mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
			e.converged()
			conn := mustConn(t, db)
			mustConnExec(t, conn, "SET autocommit = 0")
			mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1")
			mustConnExec(t, conn, stmt) // commits the UPDATE
			mustConnExec(t, conn, "ROLLBACK")
			mustConnExec(t, conn, "SET autocommit = 1")
			e.converged()
		})
	}
}

// XA START opens a transaction the session does not track: a write inside
// it is pushed at once (before XA COMMIT, so the push reads the old row),
// and nothing is pushed at XA COMMIT.
func TestWritesInsideAnXATransactionArePushedAfterItCommits(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "XA START 'xa1'")
	// Both mappings' keys pinned: no images, so no wrapper transaction.
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1 AND name = 'ann'")
	e.flush()
	mustConnExec(t, conn, "XA END 'xa1'")
	mustConnExec(t, conn, "XA PREPARE 'xa1'")
	mustConnExec(t, conn, "XA COMMIT 'xa1'")
	e.converged()
}

// Inside XA the wrapper's START TRANSACTION fails: a write that the plain
// driver runs fine returns an error.
func TestAWriteNeedingImagesWorksInsideAnXATransaction(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email, age) VALUES (1, 'ann', 'old', 5)")
	conn := mustConn(t, db)
	mustConnExec(t, conn, "XA START 'xa2'")
	if _, err := conn.ExecContext(context.Background(), "UPDATE users SET email = 'new' WHERE age > 1"); err != nil {
		conn.ExecContext(context.Background(), "XA END 'xa2'")
		conn.ExecContext(context.Background(), "XA ROLLBACK 'xa2'")
		t.Fatalf("UPDATE inside XA: %v (the plain driver runs it)", err)
	}
	mustConnExec(t, conn, "XA END 'xa2'")
	mustConnExec(t, conn, "XA COMMIT 'xa2' ONE PHASE")
	e.converged()
}

// LOCK TABLES in autocommit mode: the wrapper's START TRANSACTION releases
// the app's table locks. Afterwards a table the app did not lock is
// readable, which the server refuses while the locks are held.
func TestAWriteNeedingImagesKeepsTheAppsTableLocks(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email, age) VALUES (1, 'ann', 'old', 5)")
	conn := mustConn(t, db)
	mustConnExec(t, conn, "LOCK TABLES users WRITE")
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE age > 1")
	var n int
	err := conn.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM audit").Scan(&n)
	mustConnExec(t, conn, "UNLOCK TABLES")
	if err == nil {
		t.Fatal("the table locks were released by the driver: reading an unlocked table succeeded")
	}
}

// A failed multi-statement text: BEGIN ran, the INSERT failed, COMMIT never
// ran. apply treats every statement as run, so the session believes the
// transaction ended; the next write is pushed as autocommitted (before it
// commits) and the COMMIT that really ends it pushes nothing.
func TestFailedMultiStatementTextKeepsTheTransactionTracked(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.MultiStatements = true })
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	conn := mustConn(t, db)
	if _, err := conn.ExecContext(context.Background(), "BEGIN; INSERT INTO users (id, name) VALUES (1, 'dup'); COMMIT"); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	// Both mappings' keys pinned: no images, so no wrapper transaction
	// (whose START TRANSACTION would commit the open one).
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1 AND name = 'ann'")
	e.flush()
	mustConnExec(t, conn, "COMMIT")
	e.converged()
}

// --- Texts that pass through although they write ---

// With multiStatements, a text whose first statement is a SELECT is taken
// for a read and passed through whole.
func TestMultiStatementTextStartingWithSelectCapturesItsWrites(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.MultiStatements = true })
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	mustExec(t, db, "SELECT 1; UPDATE users SET email = 'new' WHERE id = 1")
	e.converged()
}

// SQL-level PREPARE names the mapped table but writes nothing; EXECUTE
// writes it and names no table.
func TestSQLPrepareAndExecuteOfAWriteIsCaptured(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "PREPARE upd FROM 'UPDATE users SET email = ? WHERE id = ?'")
	mustConnExec(t, conn, "SET @m = 'new', @i = 1")
	mustConnExec(t, conn, "EXECUTE upd USING @m, @i")
	e.converged()
}

// ON DELETE CASCADE removes rows of a mapped child table that the statement
// does not name.
func TestCascadingDeleteOfAMappedChildTableIsCaptured(t *testing.T) {
	e := newEnv(t, `CREATE TABLE parents (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB;
		CREATE TABLE kids (id INT NOT NULL PRIMARY KEY, parent INT NOT NULL,
			FOREIGN KEY (parent) REFERENCES parents (id) ON DELETE CASCADE) ENGINE=InnoDB`,
		Mapping{Table: "kids", Key: "{p}/kids/{id}", Value: JSONValue})
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO parents VALUES (1)")
	mustExec(t, db, "INSERT INTO kids VALUES (10, 1)")
	e.converged()
	mustExec(t, db, "DELETE FROM parents WHERE id = 1")
	e.converged()
}

// A statement prepared under one default database keeps writing that
// database's table after USE; the plan is looked up under the new one.
func TestPreparedStatementAfterUSEIsCaptured(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	other := testenvDB(t)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	conn := mustConn(t, db)
	stmt, err := conn.PrepareContext(context.Background(), "UPDATE users SET email = ? WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	mustConnExec(t, conn, "USE `"+other+"`")
	if _, err := stmt.Exec("new", 1); err != nil {
		t.Fatal(err)
	}
	e.converged()
}

// --- Transparency ---

// The wrapper's COMMIT runs after the app's statement. Warnings still
// describe the app's statement; ROW_COUNT() does not (docs/design.md says
// so: use Result.RowsAffected).
func TestWarningsAfterAWrappedWriteMatchThePlainDriver(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	e.exec("CREATE TABLE users2 LIKE users")
	setup := "INSERT INTO %s (id, name, age) VALUES (1, 'a', 5), (2, 'b', 6)"
	mustExec(t, db, strings.ReplaceAll(setup, "%s", "users"))
	e.exec(strings.ReplaceAll(setup, "%s", "users2"))
	probe := func(db *sql.DB, table string) (warnings int64) {
		conn := mustConn(t, db)
		defer conn.Close()
		ctx := context.Background()
		mustConnExec(t, conn, "SET SESSION sql_mode = ''")
		mustConnExec(t, conn, "UPDATE "+table+" SET age = 'x7' WHERE age > 1")
		if err := conn.QueryRowContext(ctx, "SELECT @@warning_count").Scan(&warnings); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got, want := probe(db, "users"), probe(e.plain, "users2"); got != want {
		t.Errorf("after UPDATE: driver warnings=%d, plain warnings=%d", got, want)
	}
}

// expiringCtx is a context whose deadline passes at the first Err check
// made after the UPDATE has reached the server (seen through a READ
// UNCOMMITTED read), i.e. between the write and the wrapper's COMMIT: the
// window a real deadline can hit.
type expiringCtx struct {
	context.Context
	mu      sync.Mutex
	done    chan struct{}
	expired bool
	check   func() bool
}

func (c *expiringCtx) Done() <-chan struct{} { return c.done }

func (c *expiringCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.expired && c.check() {
		c.expired = true
		close(c.done)
	}
	if c.expired {
		return context.DeadlineExceeded
	}
	return nil
}

// The wrapper sends COMMIT with the app's context. When the context ends
// just before it, the mysql driver refuses the COMMIT without touching the
// connection, which goes back to the pool inside the wrapper's transaction:
// the app's next autocommit writes on it are never committed.
func TestADeadlineBeforeTheWrappersCommitLeavesNoOpenTransaction(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	db.SetMaxOpenConns(1)
	mustExec(t, db, "INSERT INTO users (id, name, email, age) VALUES (1, 'ann', 'old', 5)")
	ctx := context.Background()
	spy := mustConn(t, e.plain)
	mustConnExec(t, spy, "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
	ec := &expiringCtx{Context: ctx, done: make(chan struct{}), check: func() bool {
		var email sql.NullString
		if err := spy.QueryRowContext(ctx, "SELECT email FROM users WHERE id = 1").Scan(&email); err != nil {
			t.Error(err)
			return false
		}
		return email.String == "new"
	}}
	_, err := db.ExecContext(ec, "UPDATE users SET email = 'new' WHERE age > 1")
	t.Logf("UPDATE returned %v", err)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (2, 'bob')")
	var n int
	if err := e.plain.QueryRow("SELECT COUNT(*) FROM users WHERE id = 2").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("an autocommit INSERT that returned success is not committed (the connection is still inside the driver's transaction)")
	}
}

// --- More statement forms ---

// A hex literal is a number in a numeric comparison (0x07 = 7), but the
// captured key is the bytes' text and the push's lookup sends the bytes as a
// string, which compares as 0: /nums/7 is never pushed.
func TestUpdateByIntegerKeyWrittenAsHexLiteralIsCaptured(t *testing.T) {
	e := newEnv(t, typesSchema, numsMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO nums (id, s) VALUES (7, 'x')")
	e.converged()
	mustExec(t, db, "UPDATE nums SET s = 'y' WHERE id = 0x07")
	e.converged()
}

// On a non-transactional table a failing multi-row INSERT keeps the rows
// before the failing one; a failed statement is taken to change nothing.
func TestFailedInsertIntoANonTransactionalTableCapturesTheRowsItKept(t *testing.T) {
	e := newEnv(t, `CREATE TABLE mkv (k VARCHAR(32) NOT NULL PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=MyISAM`,
		Mapping{Table: "mkv", Key: "{p}/mkv/{k}", Value: ColumnValue("v")})
	db, _ := e.open(nil)
	if _, err := db.Exec("INSERT INTO mkv VALUES ('a', '1'), ('b', '2'), ('a', '3')"); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	var n int
	e.plain.QueryRow("SELECT COUNT(*) FROM mkv").Scan(&n)
	t.Logf("rows kept: %d", n)
	e.converged()
}

// --- The push's database re-read ---

// The syncer's own pool is opened on the app's mysql connector, DSN system
// variables included. With autocommit=0 in the DSN its re-reads run inside a
// transaction that is never ended, so a pooled connection keeps reading its
// first REPEATABLE READ snapshot: the push succeeds with a stale row.
func TestPushReReadsAreFreshWhenTheDSNTurnsAutocommitOff(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	db, _ := e.open(func(mc *mysql.Config, cfg *Config) {
		mc.Params = map[string]string{"autocommit": "0"}
		cfg.Workers = 1
	})
	conn := mustConn(t, db)
	for _, v := range []string{"v1", "v2", "v3"} {
		mustConnExec(t, conn, "REPLACE INTO kv VALUES ('k', ?)", v)
		mustConnExec(t, conn, "COMMIT")
		e.flush()
	}
	e.converged()
}

// With READ-UNCOMMITTED in the DSN a re-read can see a write that is later
// rolled back; the rollback pushes nothing, so etcd keeps a value the
// database never committed.
func TestPushReReadsIgnoreUncommittedWritesWhenTheDSNSetsReadUncommitted(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	db, c := e.open(func(mc *mysql.Config, _ *Config) {
		mc.Params = map[string]string{"tx_isolation": "'READ-UNCOMMITTED'"}
	})
	mustExec(t, db, "INSERT INTO kv VALUES ('k', 'committed')")
	e.converged()
	tx, err := e.plain.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE kv SET v = 'uncommitted' WHERE k = 'k'"); err != nil {
		t.Fatal(err)
	}
	// A resync (the anti-entropy pass, safe beside live writers) reads the
	// row while the plain transaction is open.
	if err := c.Resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	e.converged()
}

// --- Queue ---

// A push whose lookup finds a row under another key (the statement said
// 'KEY1', the row is 'key1') releases its batch (queue.done) before it
// queues that key (syncer.enqueue). In between the syncer looks idle: Flush
// returns, and Close stops the workers, before /kv/key1 is pushed.
func TestFlushWaitsForTheKeysAPushFindsUnderAnotherName(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	db, c := e.open(nil)
	mustExec(t, db, "INSERT INTO kv VALUES ('key1', 'v0')")
	e.converged()
	ctx := context.Background()
	for i := 1; i <= 1500; i++ {
		v := "v" + itoa(i)
		mustExec(t, db, "UPDATE kv SET v = ? WHERE k = 'KEY1'", v)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		resp, err := e.etcd.Get(ctx, e.prefix+"/kv/key1")
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 0 || string(resp.Kvs[0].Value) != v {
			t.Fatalf("round %d: Flush returned before /kv/key1 was pushed (etcd holds %v)", i, resp.Kvs)
		}
	}
}

// UNLOCK TABLES commits when tables were locked (the documented pattern
// with autocommit=0); the session does not see it.
func TestUnlockTablesCommitsTheOpenTransaction(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "SET autocommit = 0")
	mustConnExec(t, conn, "LOCK TABLES users WRITE")
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1")
	mustConnExec(t, conn, "UNLOCK TABLES") // commits
	mustConnExec(t, conn, "ROLLBACK")
	mustConnExec(t, conn, "SET autocommit = 1")
	e.converged()
}

// The before-image and the UPDATE must pick the same rows when the WHERE
// reads another table that changed since the transaction's snapshot.
func TestUpdateWhoseWhereReadsAnotherTableInAnOldSnapshotIsCaptured(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old'), (2, 'bob', 'old')")
	e.exec("INSERT INTO audit (id, note) VALUES (1, 'x')")
	e.converged()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT")
	e.exec("INSERT INTO audit (id, note) VALUES (2, 'x')")
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id IN (SELECT id FROM audit)")
	mustConnExec(t, conn, "COMMIT")
	e.converged()
}

// The syncer scans with the app's DSN: with parseTime=true a DATETIME key
// column arrives as a time.Time, whose text drops trailing zeros, so the row
// '2024-01-02 03:04:05.600' gets the key .../05.6 from this process and
// .../05.600 from a process without parseTime.
func TestDatetimeKeyDoesNotDependOnTheDSNsParseTime(t *testing.T) {
	e := newEnv(t, `CREATE TABLE ev (ts DATETIME(3) NOT NULL PRIMARY KEY, v VARCHAR(16) NOT NULL)`,
		Mapping{Table: "ev", Key: "{p}/ev/{ts}", Value: ColumnValue("v")})
	db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.ParseTime = true })
	mustExec(t, db, "INSERT INTO ev VALUES ('2024-01-02 03:04:05.600', 'a')")
	e.converged()
}

// With parseTime=true and loc set, a DATETIME value is shifted to UTC from
// the DSN's zone; without parseTime it is taken as UTC. Two services with
// different DSNs write different values for one row.
func TestDatetimeValueDoesNotDependOnTheDSNsLoc(t *testing.T) {
	e := newEnv(t, `CREATE TABLE evs (id INT NOT NULL PRIMARY KEY, ts DATETIME NOT NULL, n INT NOT NULL)`,
		Mapping{Table: "evs", Key: "{p}/evs/{id}", Value: JSONValue})
	dbA, _ := e.open(nil)
	dbB, _ := e.open(func(mc *mysql.Config, _ *Config) {
		mc.ParseTime = true
		mc.Loc = time.FixedZone("UTC+1", 3600)
	})
	read := func() string {
		e.flush()
		resp, err := e.etcd.Get(context.Background(), e.prefix+"/evs/1")
		if err != nil || len(resp.Kvs) == 0 {
			t.Fatalf("get: %v", err)
		}
		var v struct{ Ts string }
		if err := json.Unmarshal(resp.Kvs[0].Value, &v); err != nil {
			t.Fatal(err)
		}
		return v.Ts
	}
	mustExec(t, dbA, "INSERT INTO evs VALUES (1, '2024-01-02 03:04:05', 0)")
	a := read()
	mustExec(t, dbB, "UPDATE evs SET n = 1 WHERE id = 1")
	b := read()
	if a != b {
		t.Fatalf("ts of one DATETIME value: %q from one process, %q from the other", a, b)
	}
}

// Under NO_AUTO_VALUE_ON_ZERO an explicit 0 is stored as 0, but valueAt
// takes it for "server's choice": the ids are computed from LastInsertId
// as consecutive, and the row stored as 0 is never pushed.
func TestMultiRowInsertWithExplicitZeroUnderNoAutoValueOnZeroIsCaptured(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	conn := mustConn(t, db)
	mustConnExec(t, conn, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
	mustConnExec(t, conn, "INSERT INTO users (id, name) VALUES (0, 'zero'), (NULL, 'next')")
	e.converged()
}
