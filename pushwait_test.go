package mysqletcd

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func waitQuickly(w *PushWaiter) error {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	return w.Wait(ctx)
}

func TestPushWaiterWaitsForThePushAfterTheOneInFlight(t *testing.T) {
	m := &mapping{}
	q := newQueue(10)
	ctx := context.Background()
	q.add([]item{{m: m, key: "a"}})
	_, first := q.take(ctx, 10) // a push of a is in flight
	_, w := WithPushWaiter(ctx)
	q.add([]item{{m: m, key: "a"}}, w) // committed again meanwhile
	q.done(m, first, true)
	if err := waitQuickly(w); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait after the earlier push = %v, want it still waiting", err)
	}
	_, again := q.take(ctx, 10)
	q.done(m, again, true)
	if err := waitQuickly(w); err != nil {
		t.Fatalf("Wait after the later push = %v", err)
	}
}

func TestPushWaiterOfAQueuedKeyWaitsForItsNextPush(t *testing.T) {
	m := &mapping{}
	q := newQueue(10)
	ctx := context.Background()
	outerCtx, outer := WithPushWaiter(ctx)
	_, w := WithPushWaiter(outerCtx)
	q.add([]item{{m: m, key: "a"}, {m: m, key: "b"}})
	q.add([]item{{m: m, key: "a"}}, w) // a is queued, not yet taken
	q.add([]item{{m: m, key: "a"}}, w) // twice: one push serves both
	_, batch := q.take(ctx, 10)
	if err := waitQuickly(outer); err == nil {
		t.Fatal("the enclosing waiter did not wait for the inner one's key")
	}
	q.done(m, batch, true)
	if err := waitQuickly(w); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if err := waitQuickly(outer); err != nil {
		t.Fatalf("enclosing Wait = %v", err)
	}
}

func TestPushWaiterLearnsThatAClosedQueueDidNotPush(t *testing.T) {
	m := &mapping{}
	q := newQueue(10)
	ctx := context.Background()
	_, w := WithPushWaiter(ctx)
	q.add([]item{{m: m, key: "a"}, {m: m, key: "b"}}, w)
	_, batch := q.take(ctx, 1) // a in flight, b queued
	q.close()
	q.done(m, batch, false) // the push of a ended with the syncer
	if err := waitQuickly(w); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait = %v, want ErrClosed", err)
	}
}

// etcdValue reads a key's value; nil when absent.
func etcdValue(t *testing.T, cli *clientv3.Client, key string) []byte {
	t.Helper()
	resp, err := cli.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	return resp.Kvs[0].Value
}

func TestPushWaiterSeesEachWayOfCommitting(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	ctx := context.Background()
	email := func(name string) string { return string(etcdValue(t, e.etcd, e.prefix+"/by-name/"+name)) }
	cases := []struct {
		name  string
		write func(t *testing.T, wctx context.Context, email string)
	}{
		{"autocommit ExecContext", func(t *testing.T, wctx context.Context, email string) {
			if _, err := db.ExecContext(wctx, "UPDATE users SET email = ? WHERE name = 'ann'", email); err != nil {
				t.Fatal(err)
			}
		}},
		{"BeginTx with the waiter", func(t *testing.T, wctx context.Context, email string) {
			tx, err := db.BeginTx(wctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustExecTx(t, tx, "UPDATE users SET email = ? WHERE name = 'ann'", email)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}},
		{"only the statement in the transaction has the waiter", func(t *testing.T, wctx context.Context, email string) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(wctx, "UPDATE users SET email = ? WHERE name = 'ann'", email); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}},
		{"text BEGIN, COMMIT with the waiter", func(t *testing.T, wctx context.Context, email string) {
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, q := range []string{"BEGIN", "UPDATE users SET email = '" + email + "' WHERE name = 'ann'"} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := conn.ExecContext(wctx, "COMMIT"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a before-image write in a wrapper transaction", func(t *testing.T, wctx context.Context, email string) {
			if _, err := db.ExecContext(wctx, "UPDATE users SET email = ? WHERE id = 1", email); err != nil {
				t.Fatal(err)
			}
		}},
	}
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a0')")
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := fmt.Sprintf("a%d", i+1)
			wctx, w := WithPushWaiter(ctx)
			c.write(t, wctx, want)
			waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := w.Wait(waitCtx); err != nil {
				t.Fatal(err)
			}
			if got := email("ann"); got != want {
				t.Fatalf("right after Wait, etcd holds %q, want %q", got, want)
			}
		})
	}
	e.converged()
}

// TestPushWaitersOnHotKeysReadTheirWrites runs many writers on a few rows,
// each waiting for its own commit and then reading etcd: etcd must hold
// that commit's counter or a later one. Pushes are slowed between their
// row read and their compare-and-swap, so that commits often land while
// their key is in flight: the waiter must wait for the push after.
func TestPushWaitersOnHotKeysReadTheirWrites(t *testing.T) {
	e := newEnv(t, `CREATE TABLE counters (id INT PRIMARY KEY, n BIGINT NOT NULL, who VARCHAR(32))`,
		Mapping{Table: "counters", Key: "{p}/counters/{id}", Value: JSONValue})
	for id := 1; id <= 3; id++ {
		e.exec("INSERT INTO counters VALUES (?, 0, '')", id)
	}
	db, _ := e.open(func(_ *mysql.Config, cfg *Config) {
		cfg.Trace = &PushTrace{RowsRead: func([]string) { time.Sleep(2 * time.Millisecond) }}
	})
	db.SetMaxOpenConns(20)
	const writers, rounds = 12, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for g := range writers {
		wg.Go(func() {
			for r := range rounds {
				id := 1 + (g+r)%3
				if err := writeAndReadBack(db, e, id, fmt.Sprintf("g%d-%d", g, r)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	e.converged()
}

// writeAndReadBack increments a counter in a transaction, waits for its
// push and checks that etcd shows that increment or a later one.
func writeAndReadBack(db *sql.DB, e *env, id int, who string) error {
	ctx, w := WithPushWaiter(context.Background())
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var n int64
	if _, err := tx.ExecContext(ctx, "UPDATE counters SET n = n + 1, who = ? WHERE id = ?", who, id); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.QueryRowContext(ctx, "SELECT n FROM counters WHERE id = ?", id).Scan(&n); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Wait(waitCtx); err != nil {
		return fmt.Errorf("%s: Wait: %w", who, err)
	}
	resp, err := e.etcd.Get(context.Background(), fmt.Sprintf("%s/counters/%d", e.prefix, id))
	if err != nil {
		return err
	}
	if len(resp.Kvs) == 0 {
		return fmt.Errorf("%s: counter %d absent from etcd after Wait", who, id)
	}
	var got struct{ N int64 }
	if err := json.Unmarshal(resp.Kvs[0].Value, &got); err != nil {
		return err
	}
	if got.N < n {
		return fmt.Errorf("%s: after Wait etcd holds counter %d = %d, older than the commit's %d", who, id, got.N, n)
	}
	return nil
}

func TestPushWaiterEndsWithItsContextWhileEtcdIsDownAndTheCommitStands(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	ctx := context.Background()
	etcd, err := testenv.StartEtcd(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	cli := etcd.Client(t)
	db, c := e.open(func(_ *mysql.Config, cfg *Config) {
		cfg.Etcd.Endpoints = etcd.Endpoints()
		cfg.Etcd.RequestTimeout = 300 * time.Millisecond
		cfg.OnError = func(error) {}
	})
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a0')")
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := etcd.StopMember(0); err != nil {
		t.Fatal(err)
	}

	wctx, w := WithPushWaiter(ctx)
	if _, err := db.ExecContext(wctx, "UPDATE users SET email = 'a1' WHERE id = 1"); err != nil {
		t.Fatalf("the commit failed while etcd was down: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := w.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with etcd down = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Wait took %v past its 500ms deadline", d)
	}
	var email string
	if err := e.plain.QueryRow("SELECT email FROM users WHERE id = 1").Scan(&email); err != nil || email != "a1" {
		t.Fatalf("the database holds %q (%v), want the committed a1", email, err)
	}

	if err := etcd.StartMember(ctx, 0); err != nil {
		t.Fatal(err)
	}
	long, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	defer cancel2()
	if err := w.Wait(long); err != nil {
		t.Fatalf("Wait once etcd is back = %v", err)
	}
	if got := string(etcdValue(t, cli, e.prefix+"/by-name/ann")); got != "a1" {
		t.Fatalf("after Wait etcd holds %q, want a1", got)
	}
}

func TestPushWaiterWaitsForTheResyncThatReplacesItsKeys(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(func(_ *mysql.Config, cfg *Config) { cfg.MaxTxKeys = 3 })
	ctx, w := WithPushWaiter(context.Background())
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ { // 10 keys: the transaction resyncs users instead
		mustExecTx(t, tx, "INSERT INTO users (id, name) VALUES (?, ?)", i, "u"+itoa(i))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Wait(waitCtx); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Fallbacks[reasonTxTooLarge]; got == 0 {
		t.Fatalf("no tx-too-large fallback: the test does not test the resync (stats %+v)", c.Stats())
	}
	for i := 1; i <= 5; i++ {
		if etcdValue(t, e.etcd, e.prefix+"/users/"+itoa(i)) == nil {
			t.Errorf("right after Wait, users/%d is absent from etcd", i)
		}
	}
	e.converged()
}

func TestPushWaiterOfAConnectorClosedBeforeItsPushSaysSo(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(func(_ *mysql.Config, cfg *Config) {
		cfg.Etcd.Endpoints = []string{"127.0.0.1:1"} // nothing listens there
		cfg.Etcd.RequestTimeout = 100 * time.Millisecond
		cfg.DrainTimeout = 200 * time.Millisecond
		cfg.OnError = func(error) {}
	})
	ctx, w := WithPushWaiter(context.Background())
	if _, err := db.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (1, 'ann')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	waitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Wait(waitCtx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait = %v, want ErrClosed", err)
	}
}

func TestPushWaiterWithoutWritesReturnsAtOnce(t *testing.T) {
	_, w := WithPushWaiter(context.Background())
	if err := waitQuickly(w); err != nil {
		t.Fatal(err)
	}
}

func TestConnectorOfReachesTheConnectorBehindAHandle(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	name := "mysqletcd-connectorof" + strings.ReplaceAll(e.prefix, "/", "-")
	if err := Register(name, e.cfg); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(name, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann')")
	c, ok := ConnectorOf(db)
	if !ok {
		t.Fatal("ConnectorOf(sql.Open handle) found no Connector")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if etcdValue(t, e.etcd, e.prefix+"/users/1") == nil {
		t.Fatal("after ConnectorOf(db).Flush, users/1 is absent")
	}
	if c.Stats().KeysCaptured != 2 {
		t.Errorf("Stats through ConnectorOf: %+v", c.Stats())
	}
	if _, ok := ConnectorOf(e.plain); ok {
		t.Error("ConnectorOf(a plain mysql handle) found a Connector")
	}
	if _, ok := ConnectorOf(OpenDB(nil, Config{})); ok {
		t.Error("ConnectorOf(a handle with a bad config) found a Connector")
	}
	_, opened := e.open(nil)
	if got, ok := ConnectorOf(sql.OpenDB(opened)); !ok || got != opened {
		t.Error("ConnectorOf(sql.OpenDB(connector)) did not find that connector")
	}
}
