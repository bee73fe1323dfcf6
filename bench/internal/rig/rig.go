// Package rig is what the bench programs share: the servers they measure
// against (a private mariadbd and an etcd in a child process, or the ones
// named by -dsn and -etcd), the handles they open on them, and the tables
// they print.
//
// Every program measures its variants side by side on the same servers in
// one run, so that a ratio holds on a noisy machine even when the absolute
// figures do not.
package rig

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// Flags are the options every program takes.
type Flags struct {
	DSN         string
	Etcd        string
	Interpolate bool
	CPUProfile  string
	MemProfile  string
}

// RegisterFlags adds the common options to the default flag set.
func RegisterFlags() *Flags {
	f := &Flags{}
	flag.StringVar(&f.DSN, "dsn", "", "go-sql-driver/mysql DSN of a database the program may create and drop its tables in (default: start a private mariadbd)")
	flag.StringVar(&f.Etcd, "etcd", "", "comma-separated etcd endpoints; the program deletes its own prefixes there (default: start a private etcd in a child process)")
	flag.BoolVar(&f.Interpolate, "interpolate", true, "add interpolateParams=true to the DSN (both drivers get the same DSN)")
	flag.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile of this process (the driver side; etcd runs in a child process) to this file")
	flag.StringVar(&f.MemProfile, "memprofile", "", "write an allocation profile of this process to this file at the end")
	return f
}

// Options say what a program needs from its servers.
type Options struct {
	// Binlog asks for row-based binary logging (a binlog reader needs it).
	Binlog bool
}

// Env is a database and an etcd to measure against.
type Env struct {
	DSN       string // go-sql-driver/mysql DSN of the database
	Endpoints []string
	EtcdPID   int // the child process running etcd; 0 when -etcd was given

	closers []func()
}

// Start brings up (or connects to) the servers. Call Close when done.
func Start(ctx context.Context, f *Flags, opt Options) (*Env, error) {
	e := &Env{}
	if f.CPUProfile != "" {
		out, err := os.Create(f.CPUProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			return nil, err
		}
		e.closers = append(e.closers, func() { pprof.StopCPUProfile(); out.Close() })
	}
	if f.MemProfile != "" {
		runtime.MemProfileRate = 4096
		e.closers = append(e.closers, func() { writeProfile(f.MemProfile, "allocs") })
	}
	if err := e.startDB(ctx, f, opt); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.startEtcd(ctx, f); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func writeProfile(path, name string) {
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer out.Close()
	if err := pprof.Lookup(name).WriteTo(out, 0); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
	}
}

func (e *Env) startDB(ctx context.Context, f *Flags, opt Options) error {
	dsn := f.DSN
	if dsn == "" {
		var opts []testenv.MariaDBOption
		if opt.Binlog {
			opts = append(opts, testenv.WithBinlog())
		}
		db, err := testenv.StartMariaDB(ctx, opts...)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, func() { db.Close() })
		if dsn, err = db.CreateDatabase(ctx, "bench"); err != nil {
			return err
		}
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("-dsn: %w", err)
	}
	if f.Interpolate {
		cfg.InterpolateParams = true
	}
	e.DSN = cfg.FormatDSN()
	if opt.Binlog && f.DSN != "" {
		return checkBinlog(ctx, e.DSN)
	}
	return nil
}

func checkBinlog(ctx context.Context, dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var on int
	var format string
	if err := db.QueryRowContext(ctx, "SELECT @@log_bin, @@binlog_format").Scan(&on, &format); err != nil {
		return err
	}
	if on != 1 || !strings.EqualFold(format, "ROW") {
		return fmt.Errorf("-dsn: the server needs log_bin=ON and binlog_format=ROW (has %d, %s)", on, format)
	}
	return nil
}

func (e *Env) startEtcd(ctx context.Context, f *Flags) error {
	if f.Etcd != "" {
		e.Endpoints = strings.Split(f.Etcd, ",")
		return nil
	}
	child, err := startEtcdChild(ctx)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, child.close)
	e.Endpoints, e.EtcdPID = child.endpoints, child.pid
	return nil
}

// Close stops what Start started, in reverse order.
func (e *Env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// Plain opens the database through the plain mysql driver, with a pool
// that keeps enough idle connections for the programs' writers.
func (e *Env) Plain() *sql.DB {
	db, err := sql.Open("mysql", e.DSN)
	if err != nil {
		panic(err) // the DSN was parsed in Start
	}
	sizePool(db)
	return db
}

func sizePool(db *sql.DB) {
	db.SetMaxIdleConns(128)
	db.SetConnMaxLifetime(0)
}

// Config is a mysqletcd config for these servers and mappings. Sync errors
// are logged at warning level to stderr.
func (e *Env) Config(mappings ...mysqletcd.Mapping) mysqletcd.Config {
	return mysqletcd.Config{
		Etcd:   mysqletcd.EtcdConfig{Endpoints: e.Endpoints},
		Tables: mappings,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// Driver opens the database through mysqletcd with cfg.
func (e *Env) Driver(cfg mysqletcd.Config) (*sql.DB, *mysqletcd.Connector, error) {
	mc, err := mysql.ParseDSN(e.DSN)
	if err != nil {
		return nil, nil, err
	}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, nil, err
	}
	conn, err := mysqletcd.NewConnector(inner, cfg)
	if err != nil {
		return nil, nil, err
	}
	db := sql.OpenDB(conn)
	sizePool(db)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, conn, nil
}

// Etcd returns a new etcd client; the caller closes it.
func (e *Env) Etcd() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: e.Endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}

// Exec runs statements through db, stopping at the first error.
func Exec(ctx context.Context, db *sql.DB, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s: %w", s, err)
		}
	}
	return nil
}

// ErrNotConverged is what a program's correctness check returns.
var ErrNotConverged = errors.New("etcd did not converge to the database")

// Fatal prints err and exits: 1 for a correctness failure, 2 otherwise
// (setup failed). Only ErrNotConverged is a correctness failure; the
// programs never fail on slow figures.
func Fatal(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	if errors.Is(err, ErrNotConverged) {
		os.Exit(1)
	}
	os.Exit(2)
}
