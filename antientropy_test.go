package mysqletcd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// eventuallyConverged waits for etcd to equal the database without any
// flush: what anti-entropy alone must bring about.
func (e *env) eventuallyConverged(within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		want := map[string]map[string]string{}
		for _, m := range e.cfg.Tables {
			e.expect(m, want)
		}
		got := e.etcdState()
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("etcd still differs from the database after %v:\n%s", within, diffStates(got, want))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAntiEntropyFixesWritesThatBypassTheDriver(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.ReconcileEvery = 200 * time.Millisecond
	e.cfg.ElectionTTL = time.Second
	db, c := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann')")
	e.exec("INSERT INTO users (id, name, email) VALUES (2, 'bob', 'b@x')") // behind the driver's back
	e.exec("UPDATE users SET email = 'behind' WHERE id = 1")
	e.eventuallyConverged(10 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for st := c.Stats(); st.AntiEntropyRuns == 0 || !st.AntiEntropyLeader || st.DriftFixed == 0; st = c.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The child half of TestAntiEntropyLeaderDiesAndAnotherTakesOver: a process
// that opens the driver with anti-entropy on and waits to be killed.
func TestAntiEntropyChildProcess(t *testing.T) {
	if os.Getenv("MYSQLETCD_TEST_CHILD") == "" {
		t.Skip("run by TestAntiEntropyLeaderDiesAndAnotherTakesOver")
	}
	var cfg Config
	cfg.Etcd.Endpoints = strings.Split(os.Getenv("MYSQLETCD_TEST_ETCD"), ",")
	cfg.FencePrefix = os.Getenv("MYSQLETCD_TEST_PREFIX") + "/_f"
	cfg.ReconcileEvery = 200 * time.Millisecond
	cfg.ElectionTTL = time.Second
	for _, m := range usersMappings() {
		m.Key = strings.ReplaceAll(m.Key, "{p}", os.Getenv("MYSQLETCD_TEST_PREFIX"))
		cfg.Tables = append(cfg.Tables, m)
	}
	mc, err := mysql.ParseDSN(os.Getenv("MYSQLETCD_TEST_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	db := OpenDB(inner, cfg)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("child ready")
	time.Sleep(time.Minute) // until killed
}

func TestAntiEntropyLeaderDiesAndAnotherTakesOver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes")
	}
	e := newEnv(t, usersSchema, usersMappings()...)
	e.cfg.ReconcileEvery = 200 * time.Millisecond
	e.cfg.ElectionTTL = time.Second
	children := map[string]*exec.Cmd{}
	host, _ := os.Hostname()
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAntiEntropyChildProcess$", "-test.v")
		cmd.Env = append(os.Environ(),
			"MYSQLETCD_TEST_CHILD=1",
			"MYSQLETCD_TEST_DSN="+e.dsn,
			"MYSQLETCD_TEST_ETCD="+strings.Join(e.cfg.Etcd.Endpoints, ","),
			"MYSQLETCD_TEST_PREFIX="+e.prefix)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		children[fmt.Sprintf("%s/%d", host, cmd.Process.Pid)] = cmd
	}
	leader := func(not string) string {
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			id, err := AntiEntropyLeader(context.Background(), e.etcd, e.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if children[id] != nil && id != not {
				return id
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no child process leads anti-entropy (other than %q)", not)
		return ""
	}

	first := leader("")
	e.exec("INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x')")
	e.eventuallyConverged(10 * time.Second)

	if err := children[first].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	children[first].Wait()
	killed := time.Now()
	second := leader(first)
	t.Logf("leader %s killed; %s took over after %v", first, second, time.Since(killed).Round(time.Millisecond))
	e.exec("UPDATE users SET email = 'after' WHERE id = 2")
	e.exec("DELETE FROM users WHERE id = 1")
	e.eventuallyConverged(10 * time.Second)
}
