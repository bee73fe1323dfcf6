package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// etcdQuota is the backend quota of the etcd the program starts. Each push
// writes a fence besides the data key, and a run writes some millions of
// revisions before the next compaction: etcd's 2 GiB default can fill.
const etcdQuota = 8 << 30

// mariadbArgs size InnoDB for a table of a million rows: testenv's
// defaults (a 64 MB buffer pool, an 8 MB redo log) suit small test tables.
var mariadbArgs = []string{"--innodb-buffer-pool-size=512M", "--innodb-log-file-size=256M"}

// servers is where the benchmark's database and etcd are.
type servers struct {
	DSN      string   `json:"dsn"`
	Etcd     []string `json:"etcd"`
	EtcdPID  int      `json:"etcd_pid"`  // 0 when not known
	MySQLPID int      `json:"mysql_pid"` // 0 when not known

	// own is set when this program started them: it may then replace etcd
	// with a fresh member between runs.
	own     bool
	stop    func() error
	control io.Writer     // the child's stdin, nil for servers not ours
	replies *bufio.Reader // the child's stdout
}

// useServers returns the servers named by -dsn and -etcd.
func useServers(dsn, endpoints string) *servers {
	return &servers{DSN: dsn, Etcd: strings.Split(endpoints, ","), stop: func() error { return nil }}
}

// startServers runs this program again with -serve, which starts a private
// MariaDB and an etcd member, and reads where they listen. etcd runs in
// that other process so that this one's memory and CPU profile are the
// library's alone. The servers stop when this process closes the child's
// stdin, or dies.
func startServers() (*servers, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the servers: %w", err)
	}
	s := &servers{own: true, stop: func() error {
		stdin.Close()
		return cmd.Wait()
	}}
	s.control, s.replies = stdin, bufio.NewReader(stdout)
	line, err := s.replies.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, s)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start the servers: %w", err), s.stop())
	}
	s.EtcdPID = cmd.Process.Pid
	return s, nil
}

// serve is the -serve child: it starts the servers, writes their addresses
// as one JSON line, and keeps them until its stdin closes. Meanwhile it
// takes commands, one a line, and answers each with a line, "ok" and what
// the command returns, or the error:
//
//	profile PATH   start a CPU profile of this process, so of etcd
//	stop           end it
//	fresh-etcd     replace etcd with a new, empty member; returns its endpoints
func serve(ctx context.Context) error {
	db, err := testenv.StartMariaDB(ctx, testenv.WithServerArgs(mariadbArgs...))
	if err != nil {
		return err
	}
	defer db.Close()
	dsn, err := db.CreateDatabase(ctx, "bench")
	if err != nil {
		return err
	}
	c := &child{}
	defer c.close()
	if err := c.freshEtcd(ctx); err != nil {
		return err
	}
	s := servers{DSN: dsn, Etcd: c.etcd.Endpoints()}
	if kids := childPIDs(); len(kids) == 1 {
		s.MySQLPID = kids[0]
	}
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		return err
	}
	return c.serveCommands(ctx, os.Stdin, os.Stdout)
}

// child is the state of the -serve process.
type child struct {
	etcd        *testenv.Etcd
	stopProfile func()
}

func (c *child) freshEtcd(ctx context.Context) error {
	if c.etcd != nil {
		c.etcd.Close()
	}
	var err error
	c.etcd, err = testenv.StartEtcd(ctx, 1, func(cfg *embed.Config) { cfg.QuotaBackendBytes = etcdQuota })
	return err
}

func (c *child) close() {
	if c.stopProfile != nil {
		c.stopProfile()
	}
	if c.etcd != nil {
		c.etcd.Close()
	}
}

func (c *child) serveCommands(ctx context.Context, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		verb, arg, _ := strings.Cut(sc.Text(), " ")
		var result string
		var err error
		switch verb {
		case "profile":
			if c.stopProfile != nil {
				c.stopProfile()
			}
			c.stopProfile, err = startProfile(arg)
		case "stop":
			if c.stopProfile != nil {
				c.stopProfile()
				c.stopProfile = nil
			}
		case "fresh-etcd":
			if err = c.freshEtcd(ctx); err == nil {
				result = strings.Join(c.etcd.Endpoints(), ",")
			}
		default:
			err = fmt.Errorf("unknown command %q", verb)
		}
		if err != nil {
			fmt.Fprintln(out, strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		fmt.Fprintln(out, strings.TrimSpace("ok "+result))
	}
	return sc.Err()
}

// command sends one command to the -serve child and returns its result.
func (s *servers) command(line string) (string, error) {
	if s.control == nil {
		return "", errors.New("the servers are not this program's")
	}
	if _, err := fmt.Fprintln(s.control, line); err != nil {
		return "", err
	}
	reply, err := s.replies.ReadString('\n')
	if err != nil {
		return "", err
	}
	reply = strings.TrimSpace(reply)
	if reply != "ok" && !strings.HasPrefix(reply, "ok ") {
		return "", fmt.Errorf("servers: %s: %s", line, reply)
	}
	return strings.TrimPrefix(strings.TrimPrefix(reply, "ok"), " "), nil
}

func (s *servers) pids() (etcd, mysql string) {
	str := func(pid int) string {
		if pid == 0 {
			return ""
		}
		return strconv.Itoa(pid)
	}
	return str(s.EtcdPID), str(s.MySQLPID)
}
