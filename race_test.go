package mysqletcd

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// pausePoint lets a test hold a push between two of its steps.
type pausePoint struct {
	reached chan struct{}
	release chan struct{}
	armed   chan struct{} // holds one token while the next push is to pause
}

func newPausePoint() *pausePoint {
	return &pausePoint{reached: make(chan struct{}), release: make(chan struct{}), armed: make(chan struct{}, 1)}
}

// arm makes the next push that reaches the point wait there.
func (p *pausePoint) arm() { p.armed <- struct{}{} }

// hook is installed in a PushTrace.
func (p *pausePoint) hook(keys []string) {
	select {
	case <-p.armed:
		p.reached <- struct{}{}
		<-p.release
	default:
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

const kvSchema = `CREATE TABLE kv (k VARCHAR(32) NOT NULL PRIMARY KEY, v VARCHAR(64) NOT NULL)`

func kvMapping() Mapping { return Mapping{Table: "kv", Key: "{p}/kv/{k}", Value: ColumnValue("v")} }

// naivePush is the hand-written dual write the driver replaces: read the
// row, then Put it. between runs after the read.
func naivePush(t *testing.T, db *sql.DB, etcd *clientv3.Client, key, k string, between func()) {
	t.Helper()
	var v string
	if err := db.QueryRow("SELECT v FROM kv WHERE k = ?", k).Scan(&v); err != nil {
		t.Fatal(err)
	}
	between()
	if _, err := etcd.Put(context.Background(), key, v); err != nil {
		t.Fatal(err)
	}
}

// The seed's story: service A writes a row and reads it back; B writes the
// same row, reads it and pushes; A pushes last. A naive pusher leaves etcd
// with A's stale value for good; the driver's push, held at the same point,
// fails its compare and pushes B's value.
func TestStalePushThatLandsLastLosesToTheFence(t *testing.T) {
	t.Run("naive read-then-put ends stale", func(t *testing.T) {
		e := newEnv(t, kvSchema, kvMapping())
		key := e.prefix + "/kv/key2"
		e.exec("INSERT INTO kv VALUES ('key1', 'valA'), ('key2', 'val_old')")
		naivePush(t, e.plain, e.etcd, key, "key2", func() {
			e.exec("UPDATE kv SET v = 'valB' WHERE k = 'key2'")
			naivePush(t, e.plain, e.etcd, key, "key2", func() {})
		})
		resp, _ := e.etcd.Get(context.Background(), key)
		if got := string(resp.Kvs[0].Value); got != "val_old" {
			t.Fatalf("naive pusher left %q; the race should leave the stale val_old", got)
		}
	})
	t.Run("driver converges", func(t *testing.T) {
		e := newEnv(t, kvSchema, kvMapping())
		pause := newPausePoint()
		dbA, _ := e.open(func(_ *mysql.Config, c *Config) { c.Trace = &PushTrace{RowsRead: pause.hook} })
		dbB, _ := e.open(nil)
		mustExec(t, dbA, "INSERT INTO kv VALUES ('key1', 'valA'), ('key2', 'val_old')")
		e.converged()

		pause.arm()
		mustExec(t, dbA, "UPDATE kv SET v = 'valA2' WHERE k = 'key2'")
		waitFor(t, pause.reached, "A's push to read its row")
		mustExec(t, dbB, "UPDATE kv SET v = 'valB' WHERE k = 'key2'")
		e.flushOnly(1) // B's push lands first
		resp, _ := e.etcd.Get(context.Background(), e.prefix+"/kv/key2")
		if got := string(resp.Kvs[0].Value); got != "valB" {
			t.Fatalf("B's push left %q", got)
		}
		close(pause.release) // A's stale push now tries to land last
		e.converged()
	})
}

// The delete ABA: a push reads "absent" (ModRevision 0), another push puts
// the key, a delete removes it (ModRevision reads 0 again), and the first
// push's stale Put then passes a compare on the data key. The fence, which
// is never deleted, makes that compare fail.
func TestStaleAbsentReaderCannotResurrectADeletedKey(t *testing.T) {
	t.Run("plain ModRevision compare is fooled", func(t *testing.T) {
		e := newEnv(t, kvSchema, kvMapping())
		ctx := context.Background()
		key := e.prefix + "/kv/k1"
		e.exec("INSERT INTO kv VALUES ('k1', 'v1')")
		// Pusher P reads the revision (absent) and the row.
		resp, _ := e.etcd.Get(ctx, key)
		rev := int64(0)
		if len(resp.Kvs) > 0 {
			rev = resp.Kvs[0].ModRevision
		}
		var v string
		e.plain.QueryRow("SELECT v FROM kv WHERE k = 'k1'").Scan(&v)
		// Meanwhile: another push puts it, the row is deleted and pushed.
		e.etcd.Put(ctx, key, "v1")
		e.exec("DELETE FROM kv WHERE k = 'k1'")
		e.etcd.Delete(ctx, key)
		// P's compare on the data key's ModRevision passes again.
		txn, err := e.etcd.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).Then(clientv3.OpPut(key, v)).Commit()
		if err != nil {
			t.Fatal(err)
		}
		if !txn.Succeeded {
			t.Fatal("the plain compare failed; the ABA was expected to pass it")
		}
	})
	t.Run("fence protocol survives", func(t *testing.T) {
		e := newEnv(t, kvSchema, kvMapping())
		pause := newPausePoint()
		dbP, _ := e.open(func(_ *mysql.Config, c *Config) { c.Trace = &PushTrace{RowsRead: pause.hook} })
		dbQ, _ := e.open(nil)
		pause.arm()
		mustExec(t, dbP, "INSERT INTO kv VALUES ('k1', 'v1')")
		waitFor(t, pause.reached, "P's push to read the row") // P read: absent key, row v1
		mustExec(t, dbQ, "UPDATE kv SET v = 'v1' WHERE k = 'k1'")
		e.flushOnly(1) // Q puts the key
		mustExec(t, dbQ, "DELETE FROM kv WHERE k = 'k1'")
		e.flushOnly(1) // Q deletes it: its ModRevision reads 0 again
		close(pause.release)
		e.converged() // P must not bring back k1
		if got := e.etcdState(); len(got) != 0 {
			t.Fatalf("etcd holds %v after the delete", got)
		}
	})
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// flushOnly waits for the i-th connector's pipeline alone.
func (e *env) flushOnly(i int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.conns[i].Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}
