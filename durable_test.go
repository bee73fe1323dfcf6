package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func outboxRows(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.plain.QueryRow("SELECT COUNT(*) FROM mysqletcd_outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitOutboxEmpty(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for outboxRows(t, e) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox rows left after the pushes", outboxRows(t, e))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDurableModeRecordsKeysWithTheWriteAndDeletesThemOncePushed(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.Durable = true
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob')") // autocommit: wrapped
	mustExec(t, db, "UPDATE users SET email = 'x' WHERE name = 'bob'")            // a before-image form
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExecTx(t, tx, "UPDATE users SET age = 3 WHERE id = 1")
	mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (3, 'cy')")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, _ = db.Begin()
	mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (4, 'dee')")
	tx.Rollback() // its outbox rows roll back with it
	conn := mustConn(t, db)
	mustConnExec(t, conn, "SET autocommit = 0")
	mustConnExec(t, conn, "DELETE FROM users WHERE id = 2")
	mustConnExec(t, conn, "COMMIT")
	mustConnExec(t, conn, "SET autocommit = 1")
	conn.Close()
	mustExec(t, db, "TRUNCATE TABLE users") // a resync row, written before it runs
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (5, 'eve')")
	e.converged()
	waitOutboxEmpty(t, e)
}

// The write and its outbox rows commit together: a failed outbox write
// fails the statement and rolls the autocommit wrapper back.
func TestDurableModeFailsAWriteWhoseKeysCannotBeRecorded(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.Durable = true
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann')")
	e.exec("DROP TABLE mysqletcd_outbox")
	_, err := db.Exec("UPDATE users SET email = 'lost?' WHERE id = 1")
	if err == nil || !strings.Contains(err.Error(), "outbox") {
		t.Fatalf("err = %v, want the outbox error", err)
	}
	var email sql.NullString
	e.plain.QueryRow("SELECT email FROM users WHERE id = 1").Scan(&email)
	if email.Valid {
		t.Errorf("the write committed without its outbox row: email = %q", email.String)
	}
}

func TestDurableModeTellsHowToCreateAMissingOutbox(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.Durable = true
	e.cfg.OutboxTable = "no_such_db.outbox"
	mc, _ := mysql.ParseDSN(e.dsn)
	inner, _ := mysql.NewConnector(mc)
	c, err := NewConnector(inner, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	if err := db.Ping(); err == nil || !strings.Contains(err.Error(), "outbox") {
		t.Fatalf("Ping = %v, want an error about the outbox table", err)
	}
}

// The child half of TestDurableModeLosesNothingToSIGKILL: it writes in a
// loop, with pushes slowed down so that some keys are always committed and
// not yet pushed when it is killed.
func TestDurableWriterChildProcess(t *testing.T) {
	if os.Getenv("MYSQLETCD_TEST_WRITER") == "" {
		t.Skip("run by TestDurableModeLosesNothingToSIGKILL")
	}
	cfg := childConfig()
	cfg.Durable = os.Getenv("MYSQLETCD_TEST_WRITER") == "durable"
	cfg.Trace = &PushTrace{RowsRead: func([]string) { time.Sleep(300 * time.Millisecond) }}
	mc, _ := mysql.ParseDSN(os.Getenv("MYSQLETCD_TEST_DSN"))
	inner, _ := mysql.NewConnector(mc)
	db := OpenDB(inner, cfg)
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	for i := 0; ; i++ {
		id := 1 + r.IntN(30)
		switch r.IntN(3) {
		case 0:
			db.Exec("UPDATE users SET age = ? WHERE id = ?", i, id)
		case 1:
			db.Exec("UPDATE users SET email = ? WHERE name = ?", fmt.Sprint("e", i), fmt.Sprint("n", id))
		case 2:
			tx, err := db.Begin()
			if err != nil {
				continue
			}
			tx.Exec("UPDATE users SET age = ? WHERE id = ?", i, id)
			tx.Exec("UPDATE users SET email = ? WHERE id = ?", fmt.Sprint("t", i), 1+r.IntN(30))
			tx.Commit()
		}
	}
}

// childConfig is the config a child process builds from its environment.
func childConfig() Config {
	var cfg Config
	cfg.Etcd.Endpoints = strings.Split(os.Getenv("MYSQLETCD_TEST_ETCD"), ",")
	cfg.FencePrefix = os.Getenv("MYSQLETCD_TEST_PREFIX") + "/_f"
	for _, m := range usersMappings() {
		m.Key = strings.ReplaceAll(m.Key, "{p}", os.Getenv("MYSQLETCD_TEST_PREFIX"))
		cfg.Tables = append(cfg.Tables, m)
	}
	return cfg
}

func TestDurableModeLosesNothingToSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills writer processes")
	}
	for _, mode := range []string{"durable", "memory"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, usersSchema, usersMappings()...)
			for i := 1; i <= 30; i++ {
				e.exec("INSERT INTO users (id, name) VALUES (?, ?)", i, fmt.Sprint("n", i))
			}
			e.cfg.Durable = true // creates the outbox table in both modes
			e.cfg.OutboxSweepAfter = 500 * time.Millisecond
			_, c := e.open(nil)
			if _, err := c.Reconcile(context.Background(), ReconcileOptions{}); err != nil {
				t.Fatal(err)
			}
			c.Close()
			r := rand.New(rand.NewPCG(7, 7))
			for round := range 6 {
				cmd := exec.Command(os.Args[0], "-test.run=^TestDurableWriterChildProcess$")
				cmd.Env = append(os.Environ(),
					"MYSQLETCD_TEST_WRITER="+mode,
					"MYSQLETCD_TEST_DSN="+e.dsn,
					"MYSQLETCD_TEST_ETCD="+strings.Join(e.cfg.Etcd.Endpoints, ","),
					"MYSQLETCD_TEST_PREFIX="+e.prefix)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(300+r.IntN(700)) * time.Millisecond)
				cmd.Process.Kill() // SIGKILL
				cmd.Wait()
				t.Logf("round %d: writer killed", round)
			}
			// A fresh process opens the driver and writes nothing.
			start := time.Now()
			_, fresh := e.open(nil)
			if _, err := fresh.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			if mode == "durable" {
				e.eventuallyConverged(15 * time.Second)
				t.Logf("etcd back in line %v after the fresh process opened", time.Since(start).Round(time.Millisecond))
				if st := fresh.Stats(); st.Reconciles != 0 || st.Swept == 0 {
					t.Errorf("stats: %+v; want sweeps and no reconcile", st)
				}
				return
			}
			time.Sleep(3 * time.Second)
			want := map[string]map[string]string{}
			for _, m := range e.cfg.Tables {
				e.expect(m, want)
			}
			diff := diffStates(e.etcdState(), want)
			if diff == "" {
				t.Fatalf("without durable mode the killed writers lost nothing: the test cannot tell the modes apart")
			}
			t.Logf("without durable mode, keys lost to SIGKILL:\n%s", diff)
		})
	}
}

// MariaDB's RETURNING sends a write through Query: in autocommit, durable
// mode wraps it too, and the rows' close commits it with its outbox rows.
func TestDurableModeWrapsAWriteSentThroughQuery(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.Durable = true
	e.cfg.Trace = &PushTrace{RowsRead: func([]string) { time.Sleep(300 * time.Millisecond) }}
	db, _ := e.open(nil)
	rows, err := db.Query("INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob') RETURNING id")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Close(); err != nil || n != 2 {
		t.Fatalf("rows: %d, close: %v", n, err)
	}
	if got := outboxRows(t, e); got < 2 {
		t.Errorf("%d outbox rows right after the commit, want the 4 keys' rows (pushes are slowed)", got)
	}
	rows, err = db.Query("DELETE FROM users WHERE id = 2 RETURNING name")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	e.converged()
	waitOutboxEmpty(t, e)
}

// A push waiter given only to the statements of a durable transaction
// waits for their keys.
func TestDurableModeTransactionKeysReachTheirWaiter(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.Durable = true
	e.cfg.Trace = &PushTrace{RowsRead: func([]string) { time.Sleep(200 * time.Millisecond) }}
	db, _ := e.open(nil)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, w := WithPushWaiter(ctx)
	if _, err := tx.ExecContext(wctx, "INSERT INTO users (id, name) VALUES (1, 'ann')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.Wait(wait); err != nil {
		t.Fatal(err)
	}
	if resp, err := e.etcd.Get(ctx, e.prefix+"/users/1"); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("after Wait: %v, %v", resp, err)
	}
}

// Under LOCK TABLES the outbox is not locked: durable mode must not make
// the app's statements fail; their keys are pushed from memory.
func TestDurableModeUnderLockTablesDoesNotFailTheApp(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.Durable = true
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob')")
	conn := mustConn(t, db)
	defer conn.Close()
	mustConnExec(t, conn, "LOCK TABLES users WRITE")
	mustConnExec(t, conn, "UPDATE users SET email = 'x' WHERE name = 'ann'")
	mustConnExec(t, conn, "UPDATE users SET email = 'y' WHERE id = 2")
	mustConnExec(t, conn, "DELETE FROM users WHERE id = 2")
	mustConnExec(t, conn, "UNLOCK TABLES")
	e.converged()
}
