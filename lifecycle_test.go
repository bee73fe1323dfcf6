package mysqletcd

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.uber.org/goleak"
)

func TestCloseDrainsTheQueueAndStopsItsGoroutines(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.etcdState() // start the shared servers before taking the goroutine baseline
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	db, _ := e.open(nil)
	for i := 1; i <= 200; i++ {
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, ?)", i, "u"+itoa(i))
	}
	if err := db.Close(); err != nil { // no Flush: Close must drain
		t.Fatal(err)
	}
	if got := len(e.etcdState()); got != 400 {
		t.Fatalf("etcd holds %d keys after Close, want 400", got)
	}
}

func TestCommitsSucceedWhileEtcdIsUnreachable(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	var reported atomic.Int64
	db, c := e.open(func(_ *mysql.Config, cfg *Config) {
		cfg.Etcd.Endpoints = []string{"127.0.0.1:1"} // nothing listens there
		cfg.Etcd.RequestTimeout = 200 * time.Millisecond
		cfg.DrainTimeout = 300 * time.Millisecond
		cfg.OnError = func(error) { reported.Add(1) }
	})
	start := time.Now()
	for i := 1; i <= 20; i++ {
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, ?)", i, "u"+itoa(i))
		mustExec(t, db, "UPDATE users SET email = 'x' WHERE id = ?", i)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("40 commits took %v with etcd down", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush = %v, want the deadline", err)
	}
	if reported.Load() == 0 {
		t.Error("no sync error reached OnError")
	}
	if err := db.Close(); err == nil {
		t.Error("Close did not report the keys it could not push")
	}
}
