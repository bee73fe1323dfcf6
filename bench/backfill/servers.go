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

	// own is set when this program started them: it may then compact and
	// defragment etcd between runs.
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
// takes commands, one a line, and answers each with a line: "profile PATH"
// starts a CPU profile of the process (so of etcd), "stop" ends it.
func serve(ctx context.Context) error {
	db, err := testenv.StartMariaDB(ctx, testenv.WithServerArgs(mariadbArgs...))
	if err != nil {
		return err
	}
	defer db.Close()
	etcd, err := testenv.StartEtcd(ctx, 1, func(c *embed.Config) { c.QuotaBackendBytes = etcdQuota })
	if err != nil {
		return err
	}
	defer etcd.Close()
	dsn, err := db.CreateDatabase(ctx, "bench")
	if err != nil {
		return err
	}
	s := servers{DSN: dsn, Etcd: etcd.Endpoints()}
	if kids := childPIDs(); len(kids) == 1 {
		s.MySQLPID = kids[0]
	}
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		return err
	}
	return serveCommands(os.Stdin, os.Stdout)
}

func serveCommands(in io.Reader, out io.Writer) error {
	stop := func() {}
	defer func() { stop() }()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		verb, arg, _ := strings.Cut(sc.Text(), " ")
		var err error
		switch verb {
		case "profile":
			stop()
			stop, err = startProfile(arg)
		case "stop":
			stop()
			stop = func() {}
		default:
			err = fmt.Errorf("unknown command %q", verb)
		}
		reply := "ok"
		if err != nil {
			reply = err.Error()
		}
		fmt.Fprintln(out, reply)
	}
	return sc.Err()
}

// command sends one command to the -serve child and waits for its answer.
func (s *servers) command(line string) error {
	if s.control == nil {
		return errors.New("the servers are not this program's")
	}
	if _, err := fmt.Fprintln(s.control, line); err != nil {
		return err
	}
	reply, err := s.replies.ReadString('\n')
	if err != nil {
		return err
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return fmt.Errorf("servers: %s: %s", line, reply)
	}
	return nil
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
