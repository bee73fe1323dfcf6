package mysqletcd

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestWritesThroughQueryConverge(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	for _, q := range []string{
		"INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x')",
		"INSERT INTO users (id, name, email) VALUES (2, 'bob', 'b@x') RETURNING id, name", // MariaDB
		"DELETE FROM users WHERE id = 1 RETURNING id",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
		}
		rows.Close()
		e.converged()
	}
}

func TestAFullQueueResyncsInsteadOfDropping(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(func(_ *mysql.Config, cfg *Config) { cfg.QueueSize = 4 })
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (?, ?)", i, "u"+itoa(i))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	e.converged()
	if c.Stats().Fallbacks[reasonQueueFull] == 0 {
		t.Errorf("stats = %+v, want a queue-full fallback", c.Stats())
	}
}

func TestALargeTransactionResyncsInsteadOfGrowing(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(func(_ *mysql.Config, cfg *Config) { cfg.MaxTxKeys = 10 })
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (?, ?)", i, "u"+itoa(i))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	e.converged()
	if st := c.Stats(); st.Fallbacks[reasonTxTooLarge] == 0 || st.KeysCaptured > 10 {
		t.Errorf("stats = %+v, want a tx-too-large fallback and at most 10 keys", st)
	}
}

func TestResyncRemovesOrphansAndFixesStaleKeys(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	_, c := e.open(nil)
	e.exec("INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x'), (3, 'cid', NULL)")
	ctx := context.Background()
	e.etcd.Put(ctx, e.prefix+"/users/99", `{"id":99}`)       // orphan
	e.etcd.Put(ctx, e.prefix+"/users/1", `{"id":1}`)         // stale
	e.etcd.Put(ctx, e.prefix+"/by-name/zed", "z@x")          // orphan of the other mapping
	e.etcd.Put(ctx, e.prefix+"/users/not-a-number/x", "foo") // not this mapping's shape: left alone
	if err := c.Resync(ctx); err != nil {
		t.Fatal(err)
	}
	e.etcd.Delete(ctx, e.prefix+"/users/not-a-number/x")
	e.converged()
}

func TestCallResyncsEveryMappedTable(t *testing.T) {
	e := newEnv(t, usersSchema+`;
		CREATE PROCEDURE rename_all(IN suffix VARCHAR(8)) UPDATE users SET name = CONCAT(name, suffix)`, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob')")
	e.converged()
	mustExec(t, db, "CALL rename_all(?)", "-x")
	e.converged()
}

func TestDropTableDeletesItsKeys(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob')")
	e.converged()
	mustExec(t, db, "DROP TABLE users")
	e.flush()
	if got := e.etcdState(); len(got) != 0 {
		t.Fatalf("etcd still holds %v after DROP TABLE", got)
	}
}

func TestLoadDataResyncsTheTable(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(nil)
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte("1,ann,a@x\n2,bob,b@x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mysql.RegisterLocalFile(path)
	defer mysql.DeregisterLocalFile(path)
	mustExec(t, db, "LOAD DATA LOCAL INFILE '"+path+"' INTO TABLE users FIELDS TERMINATED BY ',' (id, name, email)")
	e.converged()
	if c.Stats().Fallbacks[reasonTableLevel] == 0 {
		t.Errorf("stats = %+v, want a table-level resync", c.Stats())
	}
}

func TestAlterAndRenameOfAMappedTableResyncIt(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x')")
	e.converged()
	e.exec("UPDATE users SET email = 'behind' WHERE id = 1") // not through the driver
	mustExec(t, db, "ALTER TABLE users ADD COLUMN extra INT NULL")
	e.converged() // the resync after the DDL also fixed the write behind its back
	mustExec(t, db, "RENAME TABLE users TO users_old")
	e.flush()
	if got := e.etcdState(); len(got) != 0 {
		t.Fatalf("etcd holds %d keys after the table was renamed away", len(got))
	}
	mustExec(t, db, "RENAME TABLE users_old TO users")
	e.converged()
	if c.Stats().Fallbacks[reasonTableLevel] < 3 {
		t.Errorf("stats = %+v, want a table-level resync per DDL", c.Stats())
	}
}
