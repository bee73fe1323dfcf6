package testenv

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func TestDB(t *testing.T) {
	start := time.Now()
	a := DB(t)
	t.Logf("first DB (starts the shared server) took %v", time.Since(start))
	start = time.Now()
	b := DB(t)
	t.Logf("second DB took %v", time.Since(start))

	ca, err := mysql.ParseDSN(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := mysql.ParseDSN(b)
	if err != nil {
		t.Fatal(err)
	}
	if ca.DBName == cb.DBName {
		t.Fatalf("DB returned the same database twice: %s", ca.DBName)
	}
	if !strings.HasPrefix(ca.DBName, "t_testdb_") {
		t.Errorf("database name %q does not start with the test name", ca.DBName)
	}
	for _, dsn := range []string{a, b} {
		db := openDB(t, dsn)
		if _, err := db.Exec("CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
	}
}

func TestDBParallel(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := range 8 {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			dsn := DB(t)
			db := openDB(t, dsn)
			name := queryString(t, db, "SELECT DATABASE()")
			mu.Lock()
			defer mu.Unlock()
			if seen[name] {
				t.Errorf("database %s handed out twice", name)
			}
			seen[name] = true
		})
	}
}

// TestDBExternal points DB at a server given by MYSQL_TEST_DSN, here another
// private server, and checks that the database is made there and dropped at
// the end of the test.
func TestDBExternal(t *testing.T) {
	ext := startMariaDB(t)

	shared.mu.Lock()
	savedMariaDB, savedExternal := shared.mariadb, shared.external
	shared.mariadb, shared.external = nil, nil
	shared.mu.Unlock()
	t.Cleanup(func() {
		shared.mu.Lock()
		shared.mariadb, shared.external = savedMariaDB, savedExternal
		shared.mu.Unlock()
	})
	t.Setenv(ExternalDSNEnv, ext.DSN("ignored")+"?timeout=3s")

	var name string
	t.Run("use", func(t *testing.T) {
		dsn := DB(t)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Addr != ext.Addr() || cfg.Timeout != 3*time.Second {
			t.Errorf("DSN %s does not keep the external server's address and options", dsn)
		}
		name = cfg.DBName
		if got := queryString(t, openDB(t, dsn), "SELECT DATABASE()"); got != name {
			t.Errorf("DATABASE() = %q, want %q", got, name)
		}
	})
	var n int
	err := openDB(t, ext.DSN("")).QueryRow(
		"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still on the external server after its test", name)
	}
}

func TestEtcdEndpoints(t *testing.T) {
	eps := EtcdEndpoints(t)
	if len(eps) != 1 || !strings.HasPrefix(eps[0], "127.0.0.1:") {
		t.Fatalf("EtcdEndpoints = %v", eps)
	}
	if again := EtcdEndpoints(t); again[0] != eps[0] {
		t.Errorf("second call gave %v, first %v: not shared", again, eps)
	}
	putGet(t, EtcdClient(t), "/testenv/shared", "ok")
}

func TestDatabaseName(t *testing.T) {
	for _, tc := range []struct {
		test string
		want string
	}{
		{"TestX", "t_testx_1_ab12"},
		{"TestX/sub case#01", "t_testx_sub_case_01_1_ab12"},
		{strings.Repeat("Long", 30), "t_" + strings.Repeat("long", 30)[:55] + "_1_ab12"},
	} {
		got := databaseName(tc.test, 1, "ab12")
		if got != tc.want {
			t.Errorf("databaseName(%q) = %q, want %q", tc.test, got, tc.want)
		}
		if len(got) > 64 {
			t.Errorf("databaseName(%q) is %d characters long", tc.test, len(got))
		}
	}
}
