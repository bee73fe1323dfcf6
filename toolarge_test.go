package mysqletcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const blobsSchema = `CREATE TABLE blobs (id INT NOT NULL PRIMARY KEY, body MEDIUMTEXT NOT NULL)`

func blobsMapping() Mapping {
	return Mapping{Table: "blobs", Key: "{p}/blobs/{id}", Value: ColumnValue("body")}
}

// smallRequests makes etcd refuse requests over 64 KiB, as
// --max-request-bytes=65536 does; its gRPC server then refuses messages
// over 64 KiB + 512 KiB.
func smallRequests(c *embed.Config) { c.MaxRequestBytes = 64 << 10 }

// errorLog collects what a connector reports through OnError and its logger.
type errorLog struct {
	mu       sync.Mutex
	reported []error
	logged   bytes.Buffer
}

func (l *errorLog) install(_ *mysql.Config, cfg *Config) {
	cfg.OnError = func(err error) {
		l.mu.Lock()
		l.reported = append(l.reported, err)
		l.mu.Unlock()
	}
	cfg.Logger = slog.New(slog.NewTextHandler(l, nil))
}

func (l *errorLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logged.Write(p)
}

func (l *errorLog) errors() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.reported...)
}

func (l *errorLog) log() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logged.String()
}

// convergedExcept is e.converged for every key but the given ones, which
// must hold the given values (absent: "").
func (e *env) convergedExcept(except map[string]string) {
	e.t.Helper()
	e.flush()
	want := map[string]map[string]string{}
	for _, m := range e.cfg.Tables {
		e.expect(m, want)
	}
	got := e.etcdState()
	for k, v := range except {
		g, ok := got[k]
		switch {
		case v == "" && ok:
			e.t.Errorf("%s = %v, want it absent", k, g)
		case v != "" && !reflect.DeepEqual(g, map[string]string{"": v}):
			e.t.Errorf("%s = %v, want it to keep %q", k, g, v)
		}
		delete(got, k)
		delete(want, k)
	}
	if !reflect.DeepEqual(got, want) {
		e.t.Fatalf("etcd differs from the database:\n%s", diffStates(got, want))
	}
}

// A row whose value alone is over etcd's request limit cannot be pushed.
// The push reports it, naming the table and the key, counts it, leaves the
// key's previous value, and goes on: the other keys of its batch and later
// batches still converge, and a later write that fits is pushed. In durable
// mode its outbox rows are satisfied, not left for a sweeper to fail again.
func TestValueTooLargeForEtcdIsReportedAndTheRestConverges(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testValueTooLarge(t, false) })
	t.Run("durable", func(t *testing.T) { testValueTooLarge(t, true) })
}

func testValueTooLarge(t *testing.T, durable bool) {
	cluster := startCluster(t, 1, smallRequests)
	e := newEnv(t, blobsSchema, blobsMapping())
	useCluster(e, cluster, cluster.Endpoints())
	e.cfg.Durable = durable
	e.cfg.OutboxSweepAfter = time.Minute // only the pushes delete outbox rows here
	var log errorLog
	db, c := e.open(log.install)
	ctx := context.Background()

	for id := 1; id <= 30; id++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO blobs VALUES (?, ?)", id, fmt.Sprint("small-", id)); err != nil {
			t.Fatal(err)
		}
	}
	e.converged()

	// One transaction, so one batch: 29 small changes and one row of 200 KiB.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 30; id++ {
		body := fmt.Sprint("changed-", id)
		if id == 7 {
			body = strings.Repeat("x", 200<<10)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE blobs SET body = ? WHERE id = ?", body, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// A later batch, and a new row that is too large from the start.
	for id := 31; id <= 40; id++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO blobs VALUES (?, ?)", id, fmt.Sprint("later-", id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO blobs VALUES (41, ?)", strings.Repeat("y", 100<<10)); err != nil {
		t.Fatal(err)
	}
	key7, key41 := e.prefix+"/blobs/7", e.prefix+"/blobs/41"
	e.convergedExcept(map[string]string{key7: "small-7", key41: ""})
	if durable {
		waitOutboxEmpty(t, e)
	}

	st := c.Stats()
	if st.TooLarge != 2 {
		t.Errorf("Stats().TooLarge = %d, want 2 (stats %+v)", st.TooLarge, st)
	}
	var tooLarge []error
	for _, err := range log.errors() {
		if errors.Is(err, ErrValueTooLarge) {
			tooLarge = append(tooLarge, err)
		}
	}
	if len(tooLarge) != 2 {
		t.Fatalf("OnError got %d ErrValueTooLarge errors, want 2: %v", len(tooLarge), log.errors())
	}
	table := testenvDBName(e) + ".blobs"
	for _, key := range []string{key7, key41} {
		named := false
		for _, err := range tooLarge {
			msg := err.Error()
			named = named || strings.Contains(msg, table) && strings.Contains(msg, key+":")
		}
		if !named {
			t.Errorf("no error names table %s and key %s: %v", table, key, tooLarge)
		}
		if !strings.Contains(log.log(), key) {
			t.Errorf("the logger was not told about %s:\n%s", key, log.log())
		}
	}
	t.Logf("reported: %v", tooLarge[0])

	// Rows that fit again are pushed as usual.
	if _, err := db.ExecContext(ctx, "UPDATE blobs SET body = 'fits again' WHERE id IN (7, 41)"); err != nil {
		t.Fatal(err)
	}
	e.converged()
}

// A batch whose keys each fit but together are over the limits is halved
// until its parts fit: 60 keys of 40 KiB (2.4 MB) are over the client's
// 2 MiB send limit, their halves over the server's gRPC limit, and the
// quarters over --max-request-bytes. Every key arrives; none is given up.
func TestBatchOverTheRequestLimitIsSplitUntilItFits(t *testing.T) {
	cluster := startCluster(t, 1, smallRequests)
	e := newEnv(t, blobsSchema, blobsMapping())
	useCluster(e, cluster, cluster.Endpoints())
	db, c := e.open(nil)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 60; id++ {
		if _, err := tx.ExecContext(ctx, "INSERT INTO blobs VALUES (?, ?)", id, strings.Repeat(fmt.Sprint(id%10), 40<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	e.converged()
	if st := c.Stats(); st.TooLarge != 0 || st.Puts != 60 {
		t.Errorf("stats %+v, want 60 puts and nothing too large", st)
	}
}

func TestIsTooLarge(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{rpctypes.ErrRequestTooLarge, true},
		{fmt.Errorf("compare-and-swap: %w", rpctypes.Error(rpctypes.ErrGRPCRequestTooLarge)), true},
		{status.Error(codes.ResourceExhausted, "trying to send message larger than max (2457768 vs. 2097152)"), true},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (1228891 vs. 590336)"), true},
		{rpctypes.ErrNoSpace, false},
		{rpctypes.ErrTooManyRequests, false},
		{status.Error(codes.Unavailable, "connection refused"), false},
		{context.DeadlineExceeded, false},
		{nil, false},
	} {
		if got := isTooLarge(tc.err); got != tc.want {
			t.Errorf("isTooLarge(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// testenvDBName is the name of e's database.
func testenvDBName(e *env) string {
	mc, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	return mc.DBName
}
