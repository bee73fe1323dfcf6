package mysqletcd

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// settledGoroutines is the goroutine count once short-lived ones are gone.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 20 {
		time.Sleep(25 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// writeConfig writes e's config as a file for sql.Open.
func writeConfig(t *testing.T, e *env, fencePrefix string, maps []Mapping) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "etcd: {endpoints: [%s]}\nfence-prefix: %s\ntables:\n", strings.Join(e.cfg.Etcd.Endpoints, ", "), fencePrefix)
	for _, m := range maps {
		fmt.Fprintf(&b, "  - {table: %s, key: %q}\n", m.Table, m.Key)
	}
	path := filepath.Join(t.TempDir(), "mysqletcd.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Ten handles opened with one DSN cost what one does: they share the
// schema, the syncer's connections, the etcd client and the push workers.
// Ten configs on one etcd cluster share the etcd client.
func TestHandlesShareOnePipelineAndConfigsShareOneEtcdClient(t *testing.T) {
	e := newEnv(t, usersTable, usersMappings()...)
	maps := []Mapping{{Table: "users", Key: e.prefix + "/users/{id}"}}
	dsn := e.dsn + "&mysqletcd-config=" + writeConfig(t, e, e.prefix+"/_f", maps)
	if !strings.Contains(e.dsn, "?") {
		dsn = e.dsn + "?mysqletcd-config=" + writeConfig(t, e, e.prefix+"/_f", maps)
	}
	e.cfg.Tables = maps

	base := settledGoroutines()
	open := func(dsn string, id int) *sql.DB {
		db, err := sql.Open("mysqletcd", dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxIdleConns(1)
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE email = 'again'", id, fmt.Sprint("n", id))
		return db
	}
	first := open(dsn, 1)
	one := settledGoroutines() - base
	dbs := []*sql.DB{first}
	for i := 2; i <= 10; i++ {
		dbs = append(dbs, open(dsn, i))
	}
	ten := settledGoroutines() - base
	t.Logf("goroutines: 1 handle +%d, 10 handles +%d", one, ten)
	// Each sql.DB has goroutines of its own (its connection opener, and
	// the mysql driver's watcher of its idle connection); the pipeline's
	// (the workers, the etcd client, the syncer's pool) must not multiply.
	if extra := ten - one; extra > 9*3 || extra >= 9*one/2 {
		t.Errorf("9 more handles cost %d goroutines (the first cost %d), want at most %d", extra, one, 9*3)
	}
	firstConn, _ := ConnectorOf(first)
	for i, db := range dbs {
		if c, ok := ConnectorOf(db); !ok || c.pipe != firstConn.pipe {
			t.Fatalf("handle %d has a pipeline of its own", i+1)
		}
	}
	for _, db := range dbs[1:] {
		db.Close()
	}
	mustExec(t, first, "UPDATE users SET email = 'last' WHERE id = 1") // the pipeline still runs
	(&env{t: t, dsn: e.dsn, plain: e.plain, etcd: e.etcd, prefix: e.prefix, cfg: e.cfg}).eventuallyConverged(10 * time.Second)

	// Other configs on the same cluster: one etcd client between them.
	etcdClients.mu.Lock()
	clients := len(etcdClients.byIdent)
	etcdClients.mu.Unlock()
	var others []*sql.DB
	for i := range 5 {
		other := []Mapping{{Table: "users", Key: fmt.Sprintf("%s/other%d/{id}", e.prefix, i)}}
		odsn := strings.Replace(dsn, "mysqletcd-config=", "mysqletcd-config="+writeConfig(t, e, fmt.Sprintf("%s/_f%d", e.prefix, i), other)+"&x=", 1)
		odsn = strings.SplitN(odsn, "&x=", 2)[0]
		others = append(others, open(odsn, 20+i))
	}
	etcdClients.mu.Lock()
	after := len(etcdClients.byIdent)
	etcdClients.mu.Unlock()
	if after != clients {
		t.Errorf("5 more configs on one cluster made %d etcd clients, want 0 more", after-clients)
	}
	for _, db := range others {
		db.Close()
	}
	first.Close()
	if n := settledGoroutines() - base; n > 2 {
		t.Errorf("%d goroutines left after every handle closed", n)
	}
}
