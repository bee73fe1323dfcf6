package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/XSAM/otelsql"
	"github.com/go-sql-driver/mysql"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/example/internal/harness"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestOpenByNameTracesAndConverges opens otelsql over the driver by name,
// as main does, on an empty database: every step's writes reach etcd, and
// the spans are recorded.
func TestOpenByNameTracesAndConverges(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	spans := tracetest.NewSpanRecorder()
	db, err := open(env.DSN, otelsql.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	if err := run(context.Background(), db, env.Converged); err != nil {
		t.Fatal(err)
	}
	checkSpans(t, spans)
}

// TestOpenDBOverConnectorTracesAndConverges opens otelsql over a mysqletcd
// Connector (with interpolateParams, so that writes with arguments take
// the text path): the writes reach etcd, the spans are recorded, and the
// handle's Close reaches the Connector.
func TestOpenDBOverConnectorTracesAndConverges(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	mc, err := mysql.ParseDSN(env.PlainDSN)
	if err != nil {
		t.Fatal(err)
	}
	mc.InterpolateParams = true
	spans := tracetest.NewSpanRecorder()
	db, conn, err := openConnector(mc, env.Config, otelsql.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	if err != nil {
		t.Fatal(err)
	}

	err = run(context.Background(), db, func(step string) {
		if err := conn.Flush(context.Background()); err != nil {
			t.Fatalf("after %s: flush: %v", step, err)
		}
		env.Converged(step)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkSpans(t, spans)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Check(context.Background()); !errors.Is(err, mysqletcd.ErrClosed) {
		t.Errorf("after the handle's Close, the Connector answers %v, want %v", err, mysqletcd.ErrClosed)
	}
}

// checkSpans wants a span for each kind of call the workload makes, and
// the statements in their attributes.
func checkSpans(t *testing.T, spans *tracetest.SpanRecorder) {
	t.Helper()
	names := map[string]int{}
	statements := 0
	for _, s := range spans.Ended() {
		names[s.Name()]++
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.Emit(), "INSERT INTO users") {
				statements++
			}
		}
	}
	for _, want := range []string{"sql.conn.begin_tx", "sql.tx.commit", "sql.tx.rollback", "sql.conn.prepare", "sql.stmt.exec", "sql.conn.query"} {
		if names[want] == 0 {
			t.Errorf("no %s span; spans: %v", want, names)
		}
	}
	if names["sql.conn.exec"]+names["sql.stmt.exec"] < 40 {
		t.Errorf("%d exec spans, want one for each of the workload's writes; spans: %v", names["sql.conn.exec"]+names["sql.stmt.exec"], names)
	}
	if statements == 0 {
		t.Errorf("no span carries an INSERT INTO users statement")
	}
}
