package mysqletcd

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// More edge cases of transaction tracking, key exactness and the push's
// re-read. They use the shared harness (newEnv, open, converged).

// --- Transaction state ---

// MariaDB's anonymous block BEGIN NOT ATOMIC ... END starts no
// transaction; the parser rejects it and its first keyword reads as BEGIN.
// The session then holds the block's own writes, and every later
// autocommit write, for a COMMIT that never comes.
func TestAnonymousBlockDoesNotStartATransaction(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old'), (2, 'bob', 'old')")
	e.converged()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "BEGIN NOT ATOMIC UPDATE users SET email = 'block' WHERE id = 1; END")
	e.converged()
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 2 AND name = 'bob'")
	e.converged()
}

// MariaDB's CREATE OR REPLACE TABLE (and CREATE TRIGGER, CREATE FUNCTION,
// DROP TRIGGER, ...) commits the open transaction; the parser rejects these
// texts, and the fallback does not take them for DDL.
func TestUnparsedDDLCommitsTheOpenTransaction(t *testing.T) {
	for _, stmt := range []string{
		"CREATE OR REPLACE TABLE scratch (a INT)",
		"CREATE FUNCTION f_one() RETURNS INT RETURN 1",
		"DROP TRIGGER IF EXISTS no_such_trigger",
	} {
		t.Run(strings.Fields(stmt)[0]+" "+strings.Fields(stmt)[1]+" "+strings.Fields(stmt)[2], func(t *testing.T) {
			e := newEnv(t, usersSchema, usersMappings()...)
			db, _ := e.open(nil)
			mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
			e.converged()
			conn := mustConn(t, db)
			mustConnExec(t, conn, "BEGIN")
			mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1")
			mustConnExec(t, conn, stmt) // commits the UPDATE
			mustConnExec(t, conn, "ROLLBACK")
			e.converged()
		})
	}
}

// A multi-statement text that turns autocommit off and then fails: the
// session never learns that autocommit is off. After the app's ROLLBACK it
// takes the next write for an autocommit one and pushes it at once
// (reading the old row); the COMMIT that ends it pushes nothing.
func TestFailedMultiStatementTextThatTurnsAutocommitOffIsFollowed(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.MultiStatements = true })
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	conn := mustConn(t, db)
	if _, err := conn.ExecContext(context.Background(), "SET autocommit = 0; INSERT INTO users (id, name) VALUES (1, 'dup')"); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	mustConnExec(t, conn, "ROLLBACK")
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1 AND name = 'ann'")
	e.flush()
	mustConnExec(t, conn, "COMMIT")
	mustConnExec(t, conn, "SET autocommit = 1")
	e.converged()
}

// A multi-statement text is planned under the default database it starts
// in: after "USE app;" its write to app.users is looked up in the other
// database and passes through.
func TestMultiStatementTextThatSwitchesDatabaseCapturesItsWrites(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	other := testenvDB(t)
	db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.MultiStatements = true })
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	var app string
	if err := db.QueryRow("SELECT DATABASE()").Scan(&app); err != nil {
		t.Fatal(err)
	}
	conn := mustConn(t, db)
	mustConnExec(t, conn, "USE `"+other+"`")
	mustConnExec(t, conn, "USE `"+app+"`; UPDATE users SET email = 'new' WHERE id = 1")
	e.converged()
}

// An SQL-level PREPARE of a DELETE from a parent table names no mapped
// table; its EXECUTE cascades into the mapped child.
func TestSQLPreparedDeleteOfAParentCascadesIntoTheMappedChild(t *testing.T) {
	e := newEnv(t, `CREATE TABLE parents (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB;
		CREATE TABLE kids (id INT NOT NULL PRIMARY KEY, parent INT NOT NULL,
			FOREIGN KEY (parent) REFERENCES parents (id) ON DELETE CASCADE) ENGINE=InnoDB`,
		Mapping{Table: "kids", Key: "{p}/kids/{id}", Value: JSONValue})
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO parents VALUES (1)")
	mustExec(t, db, "INSERT INTO kids VALUES (10, 1)")
	e.converged()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "PREPARE del FROM 'DELETE FROM parents WHERE id = ?'")
	mustConnExec(t, conn, "SET @i = 1")
	mustConnExec(t, conn, "EXECUTE del USING @i")
	e.converged()
}

// An UPDATE through an updatable view changes the mapped table the view
// reads, which the text never names.
func TestWriteThroughAnUpdatableViewIsCaptured(t *testing.T) {
	e := newEnv(t, usersSchema+`; CREATE VIEW people AS SELECT id, name, email FROM users`, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	mustExec(t, db, "UPDATE people SET email = 'new' WHERE id = 1")
	e.converged()
}

// A deadlock rolls back the whole transaction, and the app's next
// statements autocommit. When the deadlock hits a statement the driver
// passes through (here a SELECT ... FOR UPDATE), the session still holds
// the transaction open: the next autocommit write is kept for it, and the
// app's ROLLBACK (its usual answer to the error) drops a committed write.
func TestDeadlockOnAPassedThroughStatementEndsTheTrackedTransaction(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old'), (2, 'bob', 'old')")
	e.converged()
	ctx := context.Background()
	conn := mustConn(t, db)
	other := mustConn(t, e.plain)
	mustConnExec(t, conn, "BEGIN")
	mustConnExec(t, conn, "UPDATE users SET email = 'tx' WHERE id = 1 AND name = 'ann'")
	// The other transaction is the heavier one, so InnoDB picks conn's as
	// the victim.
	mustConnExec(t, other, "BEGIN")
	mustConnExec(t, other, "UPDATE users SET age = 1 WHERE id = 2")
	for range 20 {
		mustConnExec(t, other, "INSERT INTO audit (note) VALUES ('x')")
	}
	blocked := make(chan error, 1)
	go func() {
		var id int
		blocked <- other.QueryRowContext(ctx, "SELECT id FROM users WHERE id = 1 FOR UPDATE").Scan(&id)
	}()
	time.Sleep(300 * time.Millisecond) // other now waits for conn's row lock
	var id int
	err := conn.QueryRowContext(ctx, "SELECT id FROM users WHERE id = 2 FOR UPDATE").Scan(&id)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1213 {
		t.Fatalf("want a deadlock (1213) for conn, got %v", err)
	}
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	mustConnExec(t, other, "ROLLBACK")
	// The server rolled conn's transaction back: this write autocommits.
	mustConnExec(t, conn, "UPDATE users SET email = 'new' WHERE id = 1 AND name = 'ann'")
	mustConnExec(t, conn, "ROLLBACK")
	e.converged()
}

// UPDATE ... ORDER BY <non-unique> LIMIT 1 (a job queue's "claim the next
// job") locks the one row it picks. The before-image must not lock every
// row the WHERE matches, or the app waits for (and times out on) a row the
// plain driver never touches.
func TestUpdateWithOrderByLimitLocksNoMoreRowsThanThePlainDriver(t *testing.T) {
	e := newEnv(t, `CREATE TABLE jobs (id INT NOT NULL PRIMARY KEY, prio INT NOT NULL, owner VARCHAR(16) NULL, KEY prio_idx (prio))`,
		Mapping{Table: "jobs", Key: "{p}/jobs/{id}"})
	db, _ := e.open(nil)
	for i := 1; i <= 200; i++ {
		e.exec("INSERT INTO jobs VALUES (?, ?, NULL)", i, i)
	}
	ctx := context.Background()
	holder := mustConn(t, e.plain)
	mustConnExec(t, holder, "BEGIN")
	mustConnExec(t, holder, "SELECT id FROM jobs WHERE id = 150 FOR UPDATE") // another worker's job
	defer mustConnExec(t, holder, "ROLLBACK")
	claim := "UPDATE jobs SET owner = 'me' WHERE owner IS NULL ORDER BY prio LIMIT 1"
	run := func(db *sql.DB) error {
		conn := mustConn(t, db)
		defer conn.Close()
		mustConnExec(t, conn, "SET SESSION innodb_lock_wait_timeout = 1")
		mustConnExec(t, conn, "BEGIN")
		defer conn.ExecContext(ctx, "ROLLBACK")
		_, err := conn.ExecContext(ctx, claim)
		return err
	}
	if err := run(e.plain); err != nil {
		t.Fatalf("plain driver: %v", err)
	}
	if err := run(db); err != nil {
		t.Fatalf("through the driver: %v (the plain driver claims the job at once)", err)
	}
}

// START TRANSACTION releases LOCK TABLES' locks, an API transaction's as
// well as a text one's. The session still believes the tables locked, so
// a later autocommit write needing images is not wrapped: its before-image
// locks nothing, and a row that starts to match before the write runs is
// written without being read.
func TestAnAPITransactionReleasesTableLocksForTheWrapper(t *testing.T) {
	e := newEnv(t, `CREATE TABLE jobs (id INT NOT NULL PRIMARY KEY, grp INT NOT NULL, v VARCHAR(8) NOT NULL)`,
		Mapping{Table: "jobs", Key: "{p}/jobs/{id}", Value: ColumnValue("v")})
	db, c := e.open(nil)
	mustExec(t, db, "INSERT INTO jobs VALUES (1, 1, 'old'), (2, 0, 'old')")
	e.converged()
	ctx := context.Background()
	conn := mustConn(t, db)
	mustConnExec(t, conn, "LOCK TABLES jobs WRITE")
	tx, err := conn.BeginTx(ctx, nil) // releases the table locks
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	other := mustConn(t, e.plain)
	mustConnExec(t, other, "SET SESSION innodb_lock_wait_timeout = 1")
	once := false
	c.pipe.st.beforeImageRead = func() {
		if !once {
			once = true
			// Blocked by the before-image's locks when it holds them.
			other.ExecContext(ctx, "UPDATE jobs SET grp = 1 WHERE id = 2")
		}
	}
	defer func() { c.pipe.st.beforeImageRead = nil }()
	mustConnExec(t, conn, "UPDATE jobs SET v = 'new' WHERE grp = 1")
	e.converged()
}

// --- Keys taken from statement text ---

const bkvSchema = `CREATE TABLE bkv (k VARCHAR(32) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, v VARCHAR(64) NOT NULL)`

func bkvMapping() Mapping { return Mapping{Table: "bkv", Key: "{p}/bkv/{k}", Value: ColumnValue("v")} }

// utf8mb4_bin is a PAD SPACE collation: 'a' matches the stored 'a '. The
// key text 'a' is taken as exact, so the stored row's key /bkv/a%20 is
// never pushed again once the row is gone.
func TestDeleteByKeyUnderAPadSpaceBinaryCollationDeletesTheStoredKey(t *testing.T) {
	e := newEnv(t, bkvSchema, bkvMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO bkv VALUES ('a ', 'v')")
	e.converged()
	mustExec(t, db, "DELETE FROM bkv WHERE k = ?", "a")
	e.converged()
}

// The same through REPLACE, whose conflict read is skipped for exact keys.
func TestReplaceUnderAPadSpaceBinaryCollationRemovesTheOldKey(t *testing.T) {
	e := newEnv(t, bkvSchema, bkvMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO bkv VALUES ('a ', 'v')")
	e.converged()
	mustExec(t, db, "REPLACE INTO bkv VALUES (?, ?)", "a", "w")
	e.converged()
}

// YEAR is an integer type for the key rules, but the server reads 24 as
// 2024: DELETE ... WHERE y = 24 deletes the row 2024.
func TestDeleteByTwoDigitYearKeyDeletesTheStoredKey(t *testing.T) {
	e := newEnv(t, `CREATE TABLE yr (y YEAR NOT NULL PRIMARY KEY, v VARCHAR(16) NOT NULL)`,
		Mapping{Table: "yr", Key: "{p}/yr/{y}", Value: ColumnValue("v")})
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO yr VALUES (2024, 'a')")
	e.converged()
	mustExec(t, db, "DELETE FROM yr WHERE y = 24")
	e.converged()
}

// INSERT IGNORE stores an out-of-range value clipped (-5 as 0 in an
// unsigned column) and an overlong string truncated; the key is taken from
// the values as written, and the lookup finds no row under it.
func TestInsertIgnoreOfAKeyTheServerAdjustsIsCaptured(t *testing.T) {
	t.Run("out of range", func(t *testing.T) {
		e := newEnv(t, typesSchema, numsMapping())
		db, _ := e.open(nil)
		mustExec(t, db, "INSERT IGNORE INTO nums (id, s) VALUES (-5, 'x')")
		e.converged()
	})
	t.Run("too long", func(t *testing.T) {
		e := newEnv(t, kvSchema, kvMapping())
		db, _ := e.open(nil)
		mustExec(t, db, "INSERT IGNORE INTO kv VALUES (?, 'v')", strings.Repeat("k", 40))
		e.converged()
	})
}

// A key column the server changes on every UPDATE (ON UPDATE
// CURRENT_TIMESTAMP) moves although SET does not name it: no after-image
// is read, and the row's new key is never pushed.
func TestUpdateThatMovesAnOnUpdateTimestampKeyIsCaptured(t *testing.T) {
	e := newEnv(t, `CREATE TABLE vers (id INT NOT NULL PRIMARY KEY,
		ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		v VARCHAR(16) NOT NULL)`,
		Mapping{Table: "vers", Key: "{p}/vers/{id}/{ts}", Value: ColumnValue("v")})
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO vers VALUES (1, '2020-01-01 00:00:00', 'a')")
	e.converged()
	mustExec(t, db, "UPDATE vers SET v = 'b' WHERE id = 1")
	e.converged()
}

// --- The push's re-read ---

// TIMESTAMP key columns: before-images are read as text in the app
// session's time zone, the push looks keys up in UTC. With time_zone
// '+01:00' in the DSN the before-image key is an hour off: the push finds
// no row for it, and the row's real key keeps its old value.
func TestTimestampKeyDoesNotDependOnTheSessionTimeZone(t *testing.T) {
	e := newEnv(t, `CREATE TABLE ev (ts TIMESTAMP NOT NULL PRIMARY KEY, v VARCHAR(16) NOT NULL)`,
		Mapping{Table: "ev", Key: "{p}/ev/{ts}", Value: ColumnValue("v")})
	db, _ := e.open(func(mc *mysql.Config, _ *Config) {
		mc.Params = map[string]string{"time_zone": "'+01:00'"}
	})
	mustExec(t, db, "INSERT INTO ev VALUES ('2024-01-02 04:04:05', 'a')")
	e.converged()
	mustExec(t, db, "UPDATE ev SET v = 'b' WHERE v = 'a'")
	e.converged()
}

// The syncer's pool talks in the app DSN's character set: with a latin1
// connection collation a value 'é' reaches etcd as the single byte 0xE9, not as
// UTF-8, and services with different DSNs write different values.
func TestValuesDoNotDependOnTheDSNsCharset(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	e.exec("INSERT INTO kv VALUES ('k', 'é')")
	_, c := e.open(func(mc *mysql.Config, _ *Config) {
		mc.Collation = "latin1_swedish_ci"
	})
	if err := c.Resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.converged()
}

// A unique key added by a migration through the driver after it opened:
// REPLACE conflicting on it deletes another row, which the driver knows
// because the DDL reloaded the schema.
func TestUniqueKeyAddedAfterOpenIsSeenByReplace(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO kv VALUES ('a', 'x')")
	e.converged()
	mustExec(t, db, "ALTER TABLE kv ADD UNIQUE KEY v_uq (v)")
	mustExec(t, db, "REPLACE INTO kv VALUES ('b', 'x')") // replaces row 'a'
	e.converged()
}

// The same migration made by another tool is not seen until the schema is
// read again: the next Reconcile (or anti-entropy run) reads it and fixes
// what the driver missed.
func TestUniqueKeyAddedBehindTheDriverIsSeenByTheNextReconcile(t *testing.T) {
	e := newEnv(t, kvSchema, kvMapping())
	db, c := e.open(nil)
	mustExec(t, db, "INSERT INTO kv VALUES ('a', 'x')")
	e.converged()
	e.exec("ALTER TABLE kv ADD UNIQUE KEY v_uq (v)")
	mustExec(t, db, "REPLACE INTO kv VALUES ('b', 'x')")
	if _, err := c.Reconcile(context.Background(), ReconcileOptions{}); err != nil {
		t.Fatal(err)
	}
	e.converged()
	mustExec(t, db, "REPLACE INTO kv VALUES ('c', 'x')") // known now
	e.converged()
}

// --- Table resync ---

// Keyset paging orders an ENUM column by its index but compares "(kind,
// id) > (?, ?)" as text: with ENUM('z', 'a') the rows of 'a' sort after
// those of 'z', yet 'a' < 'z', so a page that ends inside 'z' skips them.
func TestResyncPagesAnEnumKeyWithoutSkippingRows(t *testing.T) {
	e := newEnv(t, `CREATE TABLE tagged (kind ENUM('z', 'a') NOT NULL, id INT NOT NULL, v VARCHAR(8) NOT NULL, PRIMARY KEY (kind, id))`,
		Mapping{Table: "tagged", Key: "{p}/tagged/{kind}/{id}", Value: ColumnValue("v")})
	var b strings.Builder
	b.WriteString("INSERT INTO tagged VALUES ")
	for i := 1; i <= 510; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		kind := "z"
		if i > 500 {
			kind = "a"
		}
		b.WriteString("('" + kind + "', " + itoa(i) + ", 'v')")
	}
	e.exec(b.String()) // written before the driver: the resync backfills it
	_, c := e.open(nil)
	if err := c.Resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.converged()
}

// The same text prepared under two default databases on one connection is
// two statements: each is planned for the tables of the database it was
// prepared in, not for the one the text was last prepared in.
func TestTwoStatementsWithOneTextPreparedUnderDifferentDatabasesAreCaptured(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	other := testenvDB(t)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'old')")
	e.converged()
	var app string
	if err := db.QueryRow("SELECT DATABASE()").Scan(&app); err != nil {
		t.Fatal(err)
	}
	e.exec("CREATE TABLE `" + other + "`.users LIKE `" + app + "`.users")
	ctx := context.Background()
	conn := mustConn(t, db)
	const text = "UPDATE users SET email = ? WHERE id = ?"
	mine, err := conn.PrepareContext(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	mustConnExec(t, conn, "USE `"+other+"`")
	theirs, err := conn.PrepareContext(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	if _, err := mine.ExecContext(ctx, "new", 1); err != nil {
		t.Fatal(err)
	}
	e.converged()
}
