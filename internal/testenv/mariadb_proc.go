package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

const (
	// mariadbReadyTimeout bounds how long a start may take even when the
	// caller's context has no deadline: a healthy start takes well under a
	// second, crash recovery after Kill a few.
	mariadbReadyTimeout = 30 * time.Second
	mariadbPollEvery    = 20 * time.Millisecond
	// mariadbStopGrace is how long a clean shutdown may take before SIGKILL.
	mariadbStopGrace = 60 * time.Second
)

// innodbArgs keep the datadir small and the start fast. mariadb-install-db
// gets them too, so the files in the template already have these sizes and
// the server never has to resize them at start.
var innodbArgs = []string{
	"--innodb-buffer-pool-size=64M",
	"--innodb-log-file-size=8M",
	// The temporary tablespace is written out in full at every start.
	"--innodb-temp-data-file-path=ibtmp1:4M:autoextend",
	"--innodb-buffer-pool-dump-at-shutdown=OFF",
	"--innodb-buffer-pool-load-at-startup=OFF",
}

// mariadbLayout is where one server keeps its files.
type mariadbLayout struct {
	runDir  string // pid file, logs; usually also the socket
	dataDir string
	socket  string
}

func (l mariadbLayout) errorLog() string  { return filepath.Join(l.runDir, "error.log") }
func (l mariadbLayout) outputLog() string { return filepath.Join(l.runDir, "mariadbd.out") }

// mariadbArgs is the mariadbd command line. port 0 turns TCP off, which the
// template's one-off boot uses since it only talks over the socket.
func mariadbArgs(l mariadbLayout, port int, cfg mariadbConfig) []string {
	args := []string{"--no-defaults"} // must come first to keep /etc/mysql out
	if os.Geteuid() == 0 {
		// mariadbd refuses to run as root unless told to.
		args = append(args, "--user=root")
	}
	args = append(args,
		"--datadir="+l.dataDir,
		"--socket="+l.socket,
		"--pid-file="+filepath.Join(l.runDir, "mysqld.pid"),
		"--log-error="+l.errorLog(),
		// A private tmpdir: servers sharing /tmp can collide on the names
		// of their internal temporary tables ("Error on delete of
		// '/tmp/#sql-temptable-...'").
		"--tmpdir="+l.runDir,
		// Without it every TCP connect does a reverse DNS lookup, and accounts
		// would be matched by host name instead of by 127.0.0.1.
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--innodb-flush-log-at-trx-commit=2",
		"--max-connections=500",
	)
	if port == 0 {
		args = append(args, "--skip-networking")
	} else {
		args = append(args, "--port="+strconv.Itoa(port), "--bind-address=127.0.0.1")
	}
	args = append(args, innodbArgs...)
	if cfg.binlog {
		args = append(args, "--log-bin=mysql-bin", "--binlog-format=ROW", "--server-id=1")
	} else {
		args = append(args, "--skip-log-bin")
	}
	return append(args, cfg.extraArgs...)
}

// launchMariaDB starts mariadbd with args and waits until probe can run
// SELECT 1. On failure the process is killed and the error carries the new
// part of the error log; a taken port makes the error match isAddrInUse.
func launchMariaDB(ctx context.Context, server string, l mariadbLayout, args []string, probe *mysql.Config) (*child, error) {
	logStart := fileSize(l.errorLog())
	out, err := os.OpenFile(l.outputLog(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open mariadbd output log: %w", err)
	}
	cmd := exec.Command(server, args...)
	cmd.Dir = l.runDir
	cmd.Stdout, cmd.Stderr = out, out
	c, err := startChild(cmd)
	out.Close() // the child has its own copy
	if err != nil {
		return nil, err
	}
	bindFailed := func() bool { return isBindFailure(logTail(l.errorLog(), logStart)) }
	if err := waitMariaDBReady(ctx, c, probe, bindFailed); err != nil {
		c.stop(syscall.SIGKILL, 10*time.Second)
		tail := logTail(l.errorLog(), logStart) + logTail(l.outputLog(), 0)
		if isBindFailure(tail) {
			err = fmt.Errorf("%w (%w)", err, syscall.EADDRINUSE)
		}
		return nil, fmt.Errorf("%w\nmariadbd error log (%s):\n%s", err, l.errorLog(), tail)
	}
	return c, nil
}

func isBindFailure(log string) bool {
	return strings.Contains(log, "Address already in use") || strings.Contains(log, "Bind on TCP/IP port")
}

// waitMariaDBReady polls until a fresh connection runs SELECT 1. It gives up
// early when bindFailed reports that the port was taken: mariadbd then still
// takes seconds to exit.
func waitMariaDBReady(ctx context.Context, c *child, probe *mysql.Config, bindFailed func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, mariadbReadyTimeout)
	defer cancel()
	probe = probe.Clone()
	probe.Timeout = time.Second
	connector, err := mysql.NewConnector(probe)
	if err != nil {
		return fmt.Errorf("mariadb probe connector: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxIdleConns(0) // every attempt must prove that a new connection works

	tick := time.NewTicker(mariadbPollEvery)
	defer tick.Stop()
	var lastErr error
	for {
		if c.exited() {
			return fmt.Errorf("mariadbd exited during start: %v", c.err)
		}
		if bindFailed() {
			return errors.New("mariadbd could not bind its port")
		}
		// Short attempts, because whoever took the port may accept the
		// connection and never answer.
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		var one int
		lastErr = db.QueryRowContext(attemptCtx, "SELECT 1").Scan(&one)
		cancelAttempt()
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mariadbd not ready: %w (last error: %v)", ctx.Err(), lastErr)
		case <-c.done:
		case <-tick.C:
		}
	}
}

// fileSize returns the size of path, or 0 if it cannot be read.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// logTail returns up to the last 4 KiB of path written after offset.
func logTail(path string, offset int64) string {
	const limit = 4 << 10
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if size := fileSize(path); size-offset > limit {
		offset = size - limit
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, limit))
	return string(b)
}
