// Package harness gives each example's test what the example needs from
// the outside: a fresh database on the test binary's private MariaDB, the
// test binary's in-process etcd, the example's own config file pointed at
// them, and a check that etcd equals the database.
//
// A test package that uses it runs its tests through testenv:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package harness

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"gopkg.in/yaml.v3"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/example/internal/check"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// convergeTimeout bounds the wait for etcd to catch up with the database.
const convergeTimeout = 30 * time.Second

// Env is one test's database and etcd, and the example's config rewritten
// for them.
type Env struct {
	t testing.TB
	// DSN opens the database through the "mysqletcd" driver: its
	// mysqletcd-config parameter names the rewritten config file.
	DSN string
	// PlainDSN is the same database without the parameter, for the plain
	// mysql driver and for a mysql.Config.
	PlainDSN string
	// Config is the rewritten config: every key and the fence prefix under
	// a prefix of the test's own, the shared etcd's endpoints.
	Config mysqletcd.Config
	// Plain is the database through the plain mysql driver.
	Plain *sql.DB
	// Etcd is a client of the shared etcd.
	Etcd *clientv3.Client

	connectors []*mysqletcd.Connector
	verifier   *mysqletcd.Connector
}

var prefixSeq atomic.Int64

// New creates a fresh database and writes the example's config file
// (configFile, such as "mysqletcd.yaml") to a temporary file with its keys
// under a prefix of the test's own and the shared etcd's endpoints.
func New(t testing.TB, configFile string) *Env {
	t.Helper()
	e := &Env{t: t, PlainDSN: testenv.DB(t), Etcd: testenv.EtcdClient(t)}
	prefix := fmt.Sprintf("/t/%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), prefixSeq.Add(1))
	path, err := rewriteConfig(configFile, t.TempDir(), prefix, testenv.EtcdEndpoints(t))
	if err != nil {
		t.Fatal(err)
	}
	if e.Config, err = mysqletcd.LoadConfig(path); err != nil {
		t.Fatal(err)
	}
	e.DSN = WithConfig(e.PlainDSN, path)
	if e.Plain, err = sql.Open("mysql", e.PlainDSN); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Plain.Close() })
	return e
}

// WithConfig adds the mysqletcd-config parameter to a DSN, escaped so that
// the mysql driver's own DSN parser (which ORMs call too) accepts it.
func WithConfig(dsn, configPath string) string {
	return WithParams(dsn, mysqletcd.DSNConfigParam+"="+url.QueryEscape(configPath))
}

// WithParams adds parameters ("a=1&b=2") to a DSN.
func WithParams(dsn, params string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + params
	}
	return dsn + "?" + params
}

// rewriteConfig writes configFile to dir with every key and the fence
// prefix under prefix and the etcd endpoints replaced, leaving every other
// setting as the example has it, and returns the new file's path.
func rewriteConfig(configFile, dir, prefix string, endpoints []string) (string, error) {
	text, err := os.ReadFile(configFile)
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", configFile, err)
	}
	etcd, _ := doc["etcd"].(map[string]any)
	if etcd == nil {
		etcd = map[string]any{}
		doc["etcd"] = etcd
	}
	etcd["endpoints"] = endpoints
	doc["fence-prefix"] = prefix + "/_mysqletcd"
	tables, _ := doc["tables"].([]any)
	for _, t := range tables {
		if m, ok := t.(map[string]any); ok {
			m["key"] = prefix + fmt.Sprint(m["key"])
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, filepath.Base(configFile))
	return path, os.WriteFile(path, out, 0o600)
}

// Exec runs statements with the plain driver, behind the driver's back.
func (e *Env) Exec(query string, args ...any) {
	e.t.Helper()
	if _, err := e.Plain.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// Connector returns a new Connector of the env's config over the plain
// mysql connector, closed when the test ends; Converged flushes it.
func (e *Env) Connector() *mysqletcd.Connector {
	e.t.Helper()
	c := e.newConnector()
	e.connectors = append(e.connectors, c)
	return c
}

func (e *Env) newConnector() *mysqletcd.Connector {
	e.t.Helper()
	mc, err := mysql.ParseDSN(e.PlainDSN)
	if err != nil {
		e.t.Fatal(err)
	}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := mysqletcd.NewConnector(inner, e.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// Converged waits until etcd equals the database, as the independent
// check package sees them, and then asserts that a Reconcile dry run of a
// connector of its own finds no drift either. step names what ran before,
// for the failure message. Connectors from Connector are flushed first;
// handles opened by name (sql.Open("mysqletcd", ...)) are waited for.
func (e *Env) Converged(step string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), convergeTimeout)
	defer cancel()
	for _, c := range e.connectors {
		if err := c.Flush(ctx); err != nil {
			e.t.Fatalf("after %s: flush: %v (stats %+v)", step, err, c.Stats())
		}
	}
	start := time.Now()
	defer func() {
		if waited := time.Since(start); waited > time.Second {
			e.t.Logf("after %s: etcd caught up in %v", step, waited.Round(time.Millisecond))
		}
	}()
	var diff []string
	for deadline := time.Now().Add(convergeTimeout); ; {
		var err error
		if diff, err = check.Diff(context.Background(), e.Plain, e.Etcd, e.Config); err != nil {
			e.t.Fatalf("after %s: %v", step, err)
		}
		if len(diff) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(diff) > 0 {
		if len(diff) > 20 {
			diff = append(diff[:20], fmt.Sprintf("... %d more", len(diff)-20))
		}
		e.t.Fatalf("after %s: etcd differs from the database:\n%s", step, strings.Join(diff, "\n"))
	}
	e.noDrift(step)
}

// noDrift asserts that the driver's own reconcile, run by a connector
// that made none of the writes, agrees.
func (e *Env) noDrift(step string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), convergeTimeout)
	defer cancel()
	if e.verifier == nil {
		e.verifier = e.newConnector()
	}
	report, err := e.verifier.Reconcile(ctx, mysqletcd.ReconcileOptions{DryRun: true, FenceGrace: -1})
	if err != nil {
		e.t.Fatalf("after %s: reconcile dry run: %v", step, err)
	}
	if n := report.Drift(); n != 0 {
		e.t.Fatalf("after %s: the check found etcd equal to the database, but a reconcile dry run finds %d keys of drift: %+v", step, n, report.Mappings)
	}
}

// CheckIDs compares the ids an ORM reported for new rows, by the rows'
// unique name column, with the ids the database holds.
func (e *Env) CheckIDs(table string, ids map[string]int64) {
	e.t.Helper()
	for name, id := range ids {
		var got int64
		if err := e.Plain.QueryRow("SELECT id FROM "+table+" WHERE name = ?", name).Scan(&got); err != nil {
			e.t.Fatalf("%s %s: %v", table, name, err)
		}
		if got != id {
			e.t.Errorf("%s %s: reported id %d, the database has %d", table, name, id, got)
		}
	}
}
