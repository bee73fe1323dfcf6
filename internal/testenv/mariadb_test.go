package testenv

import (
	"context"
	"database/sql"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func startMariaDB(t *testing.T, opts ...MariaDBOption) *MariaDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	m, err := StartMariaDB(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mariadb started on %s in %v", m.Addr(), time.Since(start))
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryString(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	var s string
	if err := db.QueryRow(query).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

func TestMariaDBLifecycle(t *testing.T) {
	ctx := context.Background()
	m := startMariaDB(t)

	if got, want := m.DSN("x"), "root@tcp("+m.Addr()+")/x"; got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
	if v := queryString(t, openDB(t, m.DSN("")), "SELECT VERSION()"); !strings.Contains(v, "MariaDB") {
		t.Errorf("VERSION() = %q, want a MariaDB version", v)
	}

	dsn, err := m.CreateDatabase(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateDatabase(ctx, "app"); err == nil {
		t.Error("CreateDatabase of an existing database succeeded")
	}
	db := openDB(t, dsn)
	// Restart breaks pooled connections; do not keep any, so the driver has
	// no dead idle connection to complain about.
	db.SetMaxIdleConns(0)
	if got := queryString(t, db, "SELECT DATABASE()"); got != "app" {
		t.Errorf("DATABASE() = %q, want app", got)
	}
	if got := queryString(t, db, "SELECT @@character_set_server"); got != "utf8mb4" {
		t.Errorf("character_set_server = %q, want utf8mb4", got)
	}
	if got := queryString(t, db, "SELECT @@log_bin"); got != "0" {
		t.Errorf("log_bin = %q, want 0", got)
	}
	for _, q := range []string{
		"CREATE TABLE kv (k VARCHAR(20) PRIMARY KEY, v TEXT) ENGINE=InnoDB",
		"INSERT INTO kv VALUES ('clean', 'ü€😀')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	port := m.Port()
	start := time.Now()
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("clean shutdown in %v", time.Since(start))
	start = time.Now()
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("start of a stopped server in %v", time.Since(start))
	if m.Port() != port {
		t.Errorf("port changed from %d to %d", port, m.Port())
	}
	if got := queryString(t, db, "SELECT v FROM kv WHERE k = 'clean'"); got != "ü€😀" {
		t.Errorf("after restart: v = %q", got)
	}

	if _, err := db.Exec("INSERT INTO kv VALUES ('crash', 'x')"); err != nil {
		t.Fatal(err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if m.Running() {
		t.Error("Running after Kill")
	}
	if err := db.Ping(); err == nil {
		t.Error("Ping succeeded after Kill")
	}
	start = time.Now()
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart after kill in %v", time.Since(start))
	// innodb_flush_log_at_trx_commit=2 writes the log at commit and only a
	// machine crash loses it, so a killed server keeps the row.
	if got := queryString(t, db, "SELECT COUNT(*) FROM kv"); got != "2" {
		t.Errorf("after kill and restart: %s rows, want 2", got)
	}

	// A server that dies by itself: Stop reports it, Restart recovers it.
	m.mu.Lock()
	m.proc.cmd.Process.Signal(syscall.SIGKILL)
	<-m.proc.done
	m.mu.Unlock()
	if m.Running() {
		t.Error("Running after the process died")
	}
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM kv"); got != "2" {
		t.Errorf("after crash and restart: %s rows, want 2", got)
	}

	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	dir := m.DataDir()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("datadir %s still there after Close: %v", dir, err)
	}
}

func TestMariaDBBinlog(t *testing.T) {
	m := startMariaDB(t, WithBinlog(), WithServerArgs("--max-connections=50"))
	db := openDB(t, m.DSN(""))
	for q, want := range map[string]string{
		"SELECT @@log_bin":         "1",
		"SELECT @@binlog_format":   "ROW",
		"SELECT @@server_id":       "1",
		"SELECT @@max_connections": "50",
	} {
		if got := queryString(t, db, q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	if _, err := db.Exec("SHOW BINARY LOGS"); err != nil {
		t.Error(err)
	}
}

// TestMariaDBParallelStarts checks that servers started at the same time get
// their own ports and datadirs.
func TestMariaDBParallelStarts(t *testing.T) {
	const n = 3
	ms := make(chan *MariaDB, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			m, err := StartMariaDB(context.Background())
			if err != nil {
				errs <- err
				return
			}
			ms <- m
		}()
	}
	seen := map[int]bool{}
	for range n {
		select {
		case err := <-errs:
			t.Error(err)
		case m := <-ms:
			t.Cleanup(func() { m.Close() })
			if seen[m.Port()] {
				t.Errorf("port %d used twice", m.Port())
			}
			seen[m.Port()] = true
			if _, err := m.CreateDatabase(context.Background(), "same_name"); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestMariaDBNoLeaks(t *testing.T) {
	defer verifyNoLeaks(t, goleak.IgnoreCurrent(), 10*time.Second)
	m, err := StartMariaDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Error(err)
	}
	db.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMariaDBPortTaken checks that a port taken by someone else is reported
// as such (StartMariaDB relies on it to pick another port) and that Restart
// gets the port back once it is free again.
func TestMariaDBPortTaken(t *testing.T) {
	m := startMariaDB(t)
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	s := time.Now()
	err = m.start(context.Background()) // one attempt, without Restart's retries
	t.Logf("start on a taken port failed after %v", time.Since(s))
	m.mu.Unlock()
	if !isAddrInUse(err) {
		t.Errorf("start on a taken port: %v, want an address-in-use error", err)
	}
	l.Close()
	if err := m.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
}
