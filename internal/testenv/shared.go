package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ExternalDSNEnv names the environment variable that points DB at an existing
// MySQL or MariaDB server instead of the private one, e.g.
// "root:secret@tcp(db.test:3306)/". Its account must be allowed to create and
// drop databases.
const ExternalDSNEnv = "MYSQL_TEST_DSN"

// sharedStartTimeout bounds the lazy start of a shared server, which on a
// cold machine includes building the MariaDB template.
const sharedStartTimeout = 2 * time.Minute

// shared holds the servers that one test binary shares between its tests.
var shared struct {
	mu       sync.Mutex
	inMain   bool
	mariadb  *MariaDB
	external *mysql.Config // parsed ExternalDSNEnv, once looked at
	dbErr    error         // sticky: a failed start is not retried by every test
	etcd     *Etcd
	etcdErr  error
	seq      int
	binary   string // random tag for names on a server other binaries share
}

// Main runs the tests of a package that uses DB or EtcdEndpoints, then stops
// the shared servers and exits with the tests' status:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Main calls os.Exit, so deferred calls in TestMain do not run.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()

	code := m.Run()
	if err := stopShared(); err != nil {
		// The servers are gone either way; a failed clean shutdown is worth
		// seeing but is not a test failure.
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
	}
	os.Exit(code)
}

func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var errs []error
	if shared.mariadb != nil {
		errs = append(errs, shared.mariadb.Close())
		shared.mariadb = nil
	}
	if shared.etcd != nil {
		errs = append(errs, shared.etcd.Close())
		shared.etcd = nil
	}
	shared.dbErr = errors.New("testenv: shared servers already stopped")
	shared.etcdErr = shared.dbErr
	return errors.Join(errs...)
}

// requireMain fails tb unless the test binary runs through Main, which is
// what stops the shared servers and removes their files.
func requireMain(tb testing.TB) {
	tb.Helper()
	if !shared.inMain {
		tb.Fatal("testenv: the package's TestMain must call testenv.Main(m)")
	}
}

// DB creates a database with a fresh, unique name and returns its DSN, in
// the form of MariaDB.DSN. The database lives on the test binary's shared
// MariaDB, started on first use, or on the server named by MYSQL_TEST_DSN if
// that is set; there it is dropped when tb ends. Parallel tests may call DB.
func DB(tb testing.TB) string {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	requireMain(tb)
	admin, err := sharedAdminLocked()
	if err != nil {
		tb.Fatal(err)
	}
	shared.seq++
	name := databaseName(tb.Name(), shared.seq, shared.binary)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := createDatabase(ctx, admin, name); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	if shared.external != nil {
		tb.Cleanup(func() { dropDatabase(tb, admin, name) })
	}
	cfg := admin.Clone()
	cfg.DBName = name
	return cfg.FormatDSN()
}

// sharedAdminLocked returns a connection configuration without a database
// for the server DB uses, starting the shared MariaDB if needed.
func sharedAdminLocked() (*mysql.Config, error) {
	if shared.dbErr != nil {
		return nil, shared.dbErr
	}
	if shared.binary == "" {
		tag := make([]byte, 3)
		rand.Read(tag)
		shared.binary = hex.EncodeToString(tag)
	}
	if shared.external != nil {
		return shared.external, nil
	}
	if shared.mariadb != nil {
		return shared.mariadb.config(""), nil
	}
	if dsn := os.Getenv(ExternalDSNEnv); dsn != "" {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			shared.dbErr = fmt.Errorf("testenv: parse %s: %w", ExternalDSNEnv, err)
			return nil, shared.dbErr
		}
		cfg.DBName = ""
		shared.external = cfg
		return cfg, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	m, err := StartMariaDB(ctx)
	if err != nil {
		shared.dbErr = fmt.Errorf("testenv: shared mariadb: %w", err)
		return nil, shared.dbErr
	}
	shared.mariadb = m
	return m.config(""), nil
}

func dropDatabase(tb testing.TB, admin *mysql.Config, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := openConfig(admin)
	if err != nil {
		tb.Errorf("testenv: drop database %s: %v", name, err)
		return
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)); err != nil {
		tb.Errorf("testenv: drop database %s: %v", name, err)
	}
}

var nonIdentChars = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName derives a database name from the test name, so a leftover
// database on a shared server says where it came from, and makes it unique
// with a per-binary counter and, for servers that several test binaries
// may share, a random tag. MySQL allows 64 characters.
func databaseName(test string, seq int, binary string) string {
	base := strings.Trim(nonIdentChars.ReplaceAllString(strings.ToLower(test), "_"), "_")
	suffix := "_" + strconv.Itoa(seq) + "_" + binary
	if room := 64 - len("t_") - len(suffix); len(base) > room {
		base = base[:room]
	}
	return "t_" + base + suffix
}

// EtcdEndpoints returns the client endpoints of the test binary's shared
// single-member etcd, started on first use. Tests share its keyspace, so
// each should keep to its own key prefix.
func EtcdEndpoints(tb testing.TB) []string {
	tb.Helper()
	return sharedEtcd(tb).Endpoints()
}

// EtcdClient returns a client of the shared etcd that is closed when tb
// ends.
func EtcdClient(tb testing.TB) *clientv3.Client {
	tb.Helper()
	return sharedEtcd(tb).Client(tb)
}

func sharedEtcd(tb testing.TB) *Etcd {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	requireMain(tb)
	if shared.etcdErr != nil {
		tb.Fatal(shared.etcdErr)
	}
	if shared.etcd == nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
		defer cancel()
		e, err := StartEtcd(ctx, 1)
		if err != nil {
			shared.etcdErr = fmt.Errorf("testenv: shared etcd: %w", err)
			tb.Fatal(shared.etcdErr)
		}
		shared.etcd = e
	}
	return shared.etcd
}
