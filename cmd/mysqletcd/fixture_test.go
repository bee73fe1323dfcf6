package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// fixture is one test's database, etcd key prefix and config file.
type fixture struct {
	t      *testing.T
	dsn    string // no password, no config parameter
	db     *sql.DB
	etcd   *clientv3.Client
	prefix string // every key of the test lives under it
	config string // path of the config file
}

var fixtureSeq atomic.Int64

// usersSchema is the table most tests map.
const usersSchema = "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL)"

// usersMapping maps users to {p}/users/{id}, a JSON value.
const usersMapping = `
  - table: users
    key: "{p}/users/{id}"
    value: json
`

// newFixture creates a database with schema and a config with mappings
// (YAML list items, "{p}" standing for the test's prefix). The driver's
// fence keys go under {p}/_f.
func newFixture(t *testing.T, schema, mappings string) *fixture {
	t.Helper()
	f := &fixture{t: t, dsn: testenv.DB(t), etcd: testenv.EtcdClient(t)}
	f.prefix = fmt.Sprintf("/clitest/%d-%d", time.Now().UnixNano()%1e9, fixtureSeq.Add(1))
	db, err := sql.Open("mysql", f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	if schema != "" {
		f.exec(schema)
	}
	f.config = f.writeConfig("mysqletcd.yaml", mappings, "")
	return f
}

// writeConfig writes a config file for the fixture's etcd and prefix;
// etcdExtra is added to the etcd section.
func (f *fixture) writeConfig(name, mappings, etcdExtra string) string {
	f.t.Helper()
	text := fmt.Sprintf("etcd:\n  endpoints: [%s]\n%sfence-prefix: \"{p}/_f\"\ntables:%s",
		strings.Join(testenv.EtcdEndpoints(f.t), ", "), etcdExtra, mappings)
	path := filepath.Join(f.t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "{p}", f.prefix)), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return path
}

func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Exec(query, args...); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

// run runs a command with the fixture's --dsn and --config after args.
func (f *fixture) run(args ...string) (code int, stdout, stderr string) {
	f.t.Helper()
	return runArgs(append(args, "--dsn", f.dsn, "--config", f.config)...)
}

// runArgs runs the command line as main would, without signal handling.
func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runContext(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// keys returns the fixture's data keys in etcd (not the fence keys) and
// their values.
func (f *fixture) keys() map[string]string {
	f.t.Helper()
	resp, err := f.etcd.Get(context.Background(), f.prefix+"/", clientv3.WithPrefix())
	if err != nil {
		f.t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range resp.Kvs {
		if k := string(kv.Key); !strings.HasPrefix(k, f.prefix+"/_f/") {
			got[k] = string(kv.Value)
		}
	}
	return got
}

func (f *fixture) put(key, value string) {
	f.t.Helper()
	if _, err := f.etcd.Put(context.Background(), key, value); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) delete(key string) {
	f.t.Helper()
	if _, err := f.etcd.Delete(context.Background(), key); err != nil {
		f.t.Fatal(err)
	}
}

// lockedBuffer is a bytes.Buffer that a running command and a test can
// use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until cond holds, for up to 20 seconds, and says whether
// it did.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
