package mysqletcd

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// txStep is one statement on a pinned connection; after the whole script
// etcd must equal the database.
type txScript struct {
	name  string
	stmts []string
}

var txScripts = []txScript{
	{"autocommit off then COMMIT", []string{
		"SET autocommit = 0", "INSERT INTO users (id, name) VALUES (1, 'a')", "UPDATE users SET email = 'x' WHERE name = 'a'", "COMMIT", "SET autocommit = 1"}},
	{"autocommit off then ROLLBACK", []string{
		"SET autocommit = 0", "INSERT INTO users (id, name) VALUES (2, 'b')", "ROLLBACK", "SET autocommit = 1"}},
	{"SET autocommit = 1 commits", []string{
		"SET @@session.autocommit = OFF", "INSERT INTO users (id, name) VALUES (3, 'c')", "SET autocommit = 1"}},
	{"COMMIT AND CHAIN keeps a transaction open", []string{
		"BEGIN", "INSERT INTO users (id, name) VALUES (4, 'd')", "COMMIT AND CHAIN", "UPDATE users SET email = 'y' WHERE id = 4", "ROLLBACK"}},
	{"ROLLBACK AND CHAIN", []string{
		"START TRANSACTION", "INSERT INTO users (id, name) VALUES (5, 'e')", "ROLLBACK AND CHAIN", "INSERT INTO users (id, name) VALUES (6, 'f')", "COMMIT"}},
	{"savepoints", []string{
		"BEGIN", "INSERT INTO users (id, name) VALUES (7, 'g')", "SAVEPOINT s1", "UPDATE users SET email = 'z' WHERE id = 7",
		"INSERT INTO users (id, name) VALUES (8, 'h')", "ROLLBACK TO SAVEPOINT s1", "RELEASE SAVEPOINT s1", "COMMIT"}},
	{"DDL commits implicitly", []string{
		"BEGIN", "INSERT INTO users (id, name) VALUES (9, 'i')", "CREATE TABLE IF NOT EXISTS other (id INT PRIMARY KEY)", "ROLLBACK"}},
	{"a second BEGIN commits the first", []string{
		"BEGIN", "INSERT INTO users (id, name) VALUES (10, 'j')", "BEGIN", "UPDATE users SET email = 'w' WHERE id = 10", "ROLLBACK"}},
	{"LOCK TABLES commits implicitly", []string{
		"BEGIN", "UPDATE users SET age = 1 WHERE id < 5", "LOCK TABLES users WRITE", "UPDATE users SET age = 2 WHERE id = 1", "UNLOCK TABLES"}},
	{"BEGIN WORK and COMMIT WORK", []string{
		"BEGIN WORK", "DELETE FROM users WHERE id = 1", "COMMIT WORK"}},
	{"ROLLBACK WORK", []string{
		"START TRANSACTION READ WRITE", "DELETE FROM users WHERE id = 2", "ROLLBACK WORK"}},
	{"comments, backquotes, case, hints", []string{
		"/* app */ begin", "/* req=1 */ UPDATE /*+ NO_RANGE_OPTIMIZATION(users) */ `users` SET `EMAIL` = 'c?' WHERE `ID` = 3 -- trailing",
		"# hash comment\nDelete From users Where name = 'j'", "Commit"}},
}

func TestTransactionShapesOnAConnection(t *testing.T) {
	for _, interpolate := range []bool{false, true} {
		e := newEnv(t, usersSchema, usersMappings()...)
		db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.InterpolateParams = interpolate })
		ctx := context.Background()
		for _, sc := range txScripts {
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range sc.stmts {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %s: %v", sc.name, q, err)
				}
			}
			conn.Close()
			e.converged()
		}
	}
}

func TestCommitTextInsideAnAPITransaction(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (1, 'a')")
	mustExecTx(t, tx, "COMMIT")
	mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (2, 'b')") // autocommits on the server
	tx.Rollback()                                                     // rolls back nothing
	e.converged()
}

func TestMultiStatementTexts(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(func(mc *mysql.Config, _ *Config) { mc.MultiStatements = true })
	for _, q := range []string{
		"INSERT INTO users (id, name) VALUES (1, 'a'); INSERT INTO users (id, name) VALUES (2, 'b')",
		"BEGIN; UPDATE users SET email = 'x' WHERE id = 1; COMMIT",
		"BEGIN; UPDATE users SET email = 'y' WHERE id = 2; ROLLBACK",
		"UPDATE users SET age = 3; DELETE FROM users WHERE id = 2",
	} {
		mustExec(t, db, q)
		e.converged()
	}
}

func TestContextCancelledMidTransactionLosesNothing(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'a')")
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	mustExecTx(t, tx, "UPDATE users SET email = 'gone' WHERE name = 'a'")
	cancel() // database/sql rolls the transaction back
	if err := tx.Commit(); err == nil {
		t.Fatal("commit after cancel succeeded")
	}
	mustExec(t, db, "UPDATE users SET email = 'kept' WHERE name = 'a'")
	e.converged()
}
