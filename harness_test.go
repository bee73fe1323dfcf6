package mysqletcd

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one test's database, etcd prefix and mappings.
type env struct {
	t      testing.TB
	dsn    string
	plain  *sql.DB // the plain mysql driver, for setup and checks
	etcd   *clientv3.Client
	prefix string // every mapping's keys live under it
	cfg    Config
	conns  []*Connector
}

var envSeq atomic.Int64

// newEnv creates a fresh database with the given schema, and a config whose
// keys live under a prefix of the test's own. Mapping keys in the config
// use "{p}" for that prefix.
func newEnv(t testing.TB, schema string, mappings ...Mapping) *env {
	t.Helper()
	e := &env{t: t, dsn: testenv.DB(t), etcd: testenv.EtcdClient(t)}
	e.prefix = fmt.Sprintf("/test/%d-%d", time.Now().UnixNano()%1e9, envSeq.Add(1))
	mc, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	mc.MultiStatements = true
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	e.plain = sql.OpenDB(inner)
	t.Cleanup(func() { e.plain.Close() })
	if _, err := e.plain.Exec(schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	for i := range mappings {
		mappings[i].Key = strings.ReplaceAll(mappings[i].Key, "{p}", e.prefix)
	}
	e.cfg = Config{
		Etcd:         EtcdConfig{Endpoints: testenv.EtcdEndpoints(t), RequestTimeout: 5 * time.Second},
		Tables:       mappings,
		FencePrefix:  e.prefix + "/_f",
		DrainTimeout: 20 * time.Second,
	}
	return e
}

// open opens a handle through the driver; edit may change the mysql config
// (interpolateParams, ...) and the driver config.
func (e *env) open(edit func(*mysql.Config, *Config)) (*sql.DB, *Connector) {
	e.t.Helper()
	mc, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := e.cfg
	if edit != nil {
		edit(mc, &cfg)
	}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := NewConnector(inner, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	db := sql.OpenDB(c)
	e.conns = append(e.conns, c)
	e.t.Cleanup(func() { db.Close() })
	return db, c
}

// exec runs statements on the plain driver (behind the driver's back).
func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	if _, err := e.plain.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// flush waits for every connector's pipeline.
func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range e.conns {
		if err := c.Flush(ctx); err != nil {
			e.t.Fatalf("flush: %v (stats %+v)", err, c.Stats())
		}
	}
}

// converged flushes, then checks that etcd under the prefix holds exactly
// what the mappings compute from the database, computed here independently
// of the driver's own code.
func (e *env) converged() {
	e.t.Helper()
	e.flush()
	want := map[string]map[string]string{}
	for _, m := range e.cfg.Tables {
		e.expect(m, want)
	}
	got := e.etcdState()
	if !reflect.DeepEqual(got, want) {
		e.t.Fatalf("etcd differs from the database:\n%s", diffStates(got, want))
	}
}

// expect adds the keys and values mapping m gives for the database's rows.
func (e *env) expect(m Mapping, want map[string]map[string]string) {
	e.t.Helper()
	query := "SELECT * FROM " + m.Table
	if m.Where != "" {
		query += " WHERE " + m.Where
	}
	rows, err := e.plain.Query(query)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		row := map[string]*string{}
		for i, c := range cols {
			if vals[i] != nil {
				s := string(vals[i])
				row[c] = &s
			} else {
				row[c] = nil
			}
		}
		key := m.Key
		for c, v := range row {
			if v != nil {
				key = strings.ReplaceAll(key, "{"+c+"}", url.PathEscape(*v))
			}
		}
		value := map[string]string{}
		switch {
		case m.Value.Column != "":
			if v := row[m.Value.Column]; v != nil {
				value[""] = *v
			} else {
				value[""] = ""
			}
		default:
			fields := m.Columns
			if len(fields) == 0 {
				fields = cols
			}
			for _, c := range fields {
				if v := row[c]; v != nil {
					value[c] = *v
				} else {
					value[c] = "<nil>"
				}
			}
		}
		want[key] = value
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
}

// etcdState reads every data key under the prefix (not the fences).
func (e *env) etcdState() map[string]map[string]string {
	e.t.Helper()
	resp, err := e.etcd.Get(context.Background(), e.prefix+"/", clientv3.WithPrefix())
	if err != nil {
		e.t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, kv := range resp.Kvs {
		key := string(kv.Key)
		if strings.HasPrefix(key, e.cfg.FencePrefix+"/") {
			continue
		}
		got[key] = e.decode(key, kv.Value)
	}
	return got
}

// decode turns a stored value into the form expect builds.
func (e *env) decode(key string, v []byte) map[string]string {
	for _, m := range e.cfg.Tables {
		if m.Value.Column != "" && strings.HasPrefix(key, m.Key[:strings.IndexByte(m.Key, '{')]) {
			return map[string]string{"": string(v)}
		}
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(string(v)))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return map[string]string{"!invalid json": string(v)}
	}
	out := map[string]string{}
	for k, x := range obj {
		out[k] = fmt.Sprint(x)
	}
	return out
}

func diffStates(got, want map[string]map[string]string) string {
	var lines []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("missing %s = %v", k, w))
		case !reflect.DeepEqual(g, w):
			lines = append(lines, fmt.Sprintf("stale   %s = %v, want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("orphan  %s = %v", k, g))
		}
	}
	sort.Strings(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("... %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}

// usersSchema is the table most tests use: an auto-increment key, a unique
// name, a soft-delete column.
const usersSchema = `CREATE TABLE users (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(64) NOT NULL,
	email VARCHAR(128) NULL,
	age INT NULL,
	deleted_at DATETIME NULL,
	UNIQUE KEY name_uq (name)
) ENGINE=InnoDB;
CREATE TABLE audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, note TEXT)`

// usersMappings maps users twice: by id (JSON, live rows only) and by name
// (the email column).
func usersMappings() []Mapping {
	return []Mapping{
		{Table: "users", Key: "{p}/users/{id}", Value: JSONValue, Columns: []string{"id", "name", "email", "age"}, Where: "deleted_at IS NULL"},
		{Table: "users", Key: "{p}/by-name/{name}", Value: ColumnValue("email")},
	}
}

// testenvDB creates one more database on the shared server and returns its
// name.
func testenvDB(t testing.TB) string {
	mc, err := mysql.ParseDSN(testenv.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	return mc.DBName
}
