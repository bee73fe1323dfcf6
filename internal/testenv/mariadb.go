package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MariaDB is a private mariadbd process with its own datadir, listening on a
// free port on 127.0.0.1. The account root has no password and every
// privilege. Methods are safe for concurrent use.
type MariaDB struct {
	mu            sync.Mutex
	cfg           mariadbConfig
	server        string // path of mariadbd
	dir           *ownedDir
	layout        mariadbLayout
	socketCleanup func()
	port          int
	proc          *child // nil while stopped
	closed        bool
}

// MariaDBOption changes how StartMariaDB runs the server.
type MariaDBOption func(*mariadbConfig)

type mariadbConfig struct {
	binlog    bool
	extraArgs []string
}

// WithBinlog turns on row-based binary logging (--log-bin=mysql-bin
// --binlog-format=ROW --server-id=1), as a binlog reader needs. Without it the
// server runs with --skip-log-bin.
func WithBinlog() MariaDBOption {
	return func(c *mariadbConfig) { c.binlog = true }
}

// WithServerArgs appends flags to the mariadbd command line. mariadbd lets a
// later flag override an earlier one, so these win over the defaults, e.g.
// WithServerArgs("--innodb-buffer-pool-size=512M") for a benchmark.
func WithServerArgs(args ...string) MariaDBOption {
	return func(c *mariadbConfig) { c.extraArgs = append(c.extraArgs, args...) }
}

// StartMariaDB starts a mariadbd on a copy of a cached template datadir and a
// free loopback port, and returns once a client can connect and run SELECT 1.
// ctx bounds the start only. The first call on a machine (or after a MariaDB
// upgrade) also builds the template with mariadb-install-db, which takes a few
// seconds; later starts take a fraction of a second.
//
// The process is killed if the calling process dies; Close stops it and
// removes its files.
func StartMariaDB(ctx context.Context, opts ...MariaDBOption) (*MariaDB, error) {
	var cfg mariadbConfig
	for _, o := range opts {
		o(&cfg)
	}
	b, err := findMariaDB()
	if err != nil {
		return nil, err
	}
	tpl, err := mariadbTemplate(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("prepare mariadb template: %w", err)
	}
	dir, err := newOwnedDir("mysqletcd-mariadb-")
	if err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	m := &MariaDB{
		cfg:    cfg,
		server: b.server,
		dir:    dir,
		layout: mariadbLayout{runDir: dir.path, dataDir: filepath.Join(dir.path, "data")},
	}
	if m.layout.socket, m.socketCleanup, err = socketPath(dir.path); err != nil {
		dir.remove()
		return nil, err
	}
	if err := copyTemplate(tpl, m.layout.dataDir); err != nil {
		m.removeFiles()
		return nil, err
	}
	// The port is free only until someone else takes it; pick another one
	// when mariadbd cannot bind.
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			m.removeFiles()
			return nil, err
		}
		m.port = ports[0]
		err = m.start(ctx)
		if err == nil {
			return m, nil
		}
		if !isAddrInUse(err) || attempt == 5 {
			m.removeFiles()
			return nil, fmt.Errorf("start mariadb: %w", err)
		}
	}
}

// start launches mariadbd on m's datadir and port; m.mu must be held or m
// not yet shared.
func (m *MariaDB) start(ctx context.Context) error {
	probe := m.config("")
	c, err := launchMariaDB(ctx, m.server, m.layout, mariadbArgs(m.layout, m.port, m.cfg), probe)
	if err != nil {
		return err
	}
	m.proc = c
	return nil
}

// config is the go-sql-driver/mysql configuration that DSN formats.
func (m *MariaDB) config(database string) *mysql.Config {
	c := mysql.NewConfig()
	c.User = "root"
	c.Net = "tcp"
	c.Addr = m.Addr()
	c.DBName = database
	return c
}

// Addr is the server's TCP address, "127.0.0.1:PORT".
func (m *MariaDB) Addr() string {
	return "127.0.0.1:" + strconv.Itoa(m.port)
}

// Port is the server's TCP port on 127.0.0.1. It stays the same across
// Restart.
func (m *MariaDB) Port() int { return m.port }

// DataDir is the server's datadir.
func (m *MariaDB) DataDir() string { return m.layout.dataDir }

// Socket is the path of the server's Unix socket.
func (m *MariaDB) Socket() string { return m.layout.socket }

// ErrorLog is the path of the server's error log, which every start appends
// to.
func (m *MariaDB) ErrorLog() string { return m.layout.errorLog() }

// DSN returns a go-sql-driver/mysql DSN for user root over TCP, such as
// "root@tcp(127.0.0.1:PORT)/database". It has no query parameters, so add
// options with "?". An empty database connects without a default database.
func (m *MariaDB) DSN(database string) string {
	return m.config(database).FormatDSN()
}

// CreateDatabase creates the database name, which must not exist yet, and
// returns its DSN.
func (m *MariaDB) CreateDatabase(ctx context.Context, name string) (dsn string, err error) {
	if err := createDatabase(ctx, m.config(""), name); err != nil {
		return "", err
	}
	return m.DSN(name), nil
}

// createDatabase runs CREATE DATABASE name on the server that admin reaches.
func createDatabase(ctx context.Context, admin *mysql.Config, name string) error {
	db, err := openConfig(admin)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// openConfig opens a pool for cfg with a short connect timeout, so a dead
// server fails fast instead of hanging a test.
func openConfig(cfg *mysql.Config) (*sql.DB, error) {
	cfg = cfg.Clone()
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql connector for %s: %w", cfg.Addr, err)
	}
	return sql.OpenDB(connector), nil
}

// Running reports whether the server process is up.
func (m *MariaDB) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc != nil && !m.proc.exited()
}

// Stop shuts the server down cleanly (SIGTERM) and waits for it, killing it
// if it takes more than a minute. It returns an error if the server had to be
// killed or exited with a failure status, including after crashing on its
// own. Stopping a stopped server does nothing.
func (m *MariaDB) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopLocked()
}

func (m *MariaDB) stopLocked() error {
	if m.proc == nil {
		return nil
	}
	c := m.proc
	m.proc = nil
	if err := c.stop(syscall.SIGTERM, mariadbStopGrace); err != nil {
		return err
	}
	if c.err != nil {
		return fmt.Errorf("mariadbd exited with %w\n%s", c.err, logTail(m.layout.errorLog(), 0))
	}
	return nil
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
// Restart then goes through InnoDB crash recovery.
func (m *MariaDB) Kill() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return nil
	}
	c := m.proc
	m.proc = nil
	return c.stop(syscall.SIGKILL, 30*time.Second)
}

// Restart stops the server cleanly if it runs and starts it again on the same
// datadir and port, waiting until it accepts connections; it also brings back
// a server that was killed or crashed. Connections made before are broken,
// so pooled ones fail once (go-sql-driver/mysql logs "closing bad idle
// connection" and retries). If another process took the port meanwhile,
// Restart retries for a few seconds and then fails.
func (m *MariaDB) Restart(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("restart mariadb: closed")
	}
	if m.proc != nil && m.proc.exited() {
		// It crashed on its own; bringing it back is what Restart is for.
		m.proc = nil
	}
	if err := m.stopLocked(); err != nil {
		return fmt.Errorf("restart mariadb: %w", err)
	}
	var err error
	for range 20 {
		if err = m.start(ctx); err == nil || !isAddrInUse(err) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart mariadb: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("restart mariadb: %w", err)
	}
	return nil
}

// Close stops the server and removes its datadir and other files. It is safe
// to call more than once.
func (m *MariaDB) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	err := m.stopLocked()
	if rmErr := m.removeFiles(); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	if err != nil {
		return fmt.Errorf("close mariadb: %w", err)
	}
	return nil
}

func (m *MariaDB) removeFiles() error {
	if m.socketCleanup != nil {
		m.socketCleanup()
	}
	return m.dir.remove()
}
