package rig

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// The etcd server runs in a child process (this same program, started again
// with childEnv set), so that the CPU profile, the allocation counts and
// the RSS of the measured process hold the driver's work only, and etcd's
// garbage collector does not pause the writers being timed.
const childEnv = "MYSQLETCD_BENCH_ETCD_CHILD"

// RunChild serves etcd and exits when this process is the etcd child;
// otherwise it returns at once. Programs call it first in main.
func RunChild() {
	if os.Getenv(childEnv) == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	// pprof on the client port, for EtcdProfile.
	e, err := testenv.StartEtcd(ctx, 1, func(c *embed.Config) { c.EnablePprof = true })
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd child:", err)
		os.Exit(2)
	}
	json.NewEncoder(os.Stdout).Encode(e.Endpoints())
	io.Copy(io.Discard, os.Stdin) // until the parent closes it or dies
	e.Close()
	os.Exit(0)
}

type etcdChild struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	endpoints []string
	pid       int
}

func startEtcdChild(ctx context.Context) (*etcdChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start etcd child: %w", err)
	}
	c := &etcdChild{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid}
	line := make(chan []byte, 1)
	go func() {
		b, _ := bufio.NewReader(stdout).ReadBytes('\n')
		line <- b
	}()
	select {
	case b := <-line:
		if err := json.Unmarshal(b, &c.endpoints); err != nil || len(c.endpoints) == 0 {
			c.close()
			return nil, fmt.Errorf("etcd child did not start (%q)", b)
		}
	case <-ctx.Done():
		c.close()
		return nil, ctx.Err()
	}
	return c, nil
}

// close asks the child to stop and kills it if it takes too long.
func (c *etcdChild) close() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// EtcdProfile writes a CPU profile of the etcd child over the next d to
// path (go tool pprof reads it). Only for the private etcd.
func (e *Env) EtcdProfile(ctx context.Context, d time.Duration, path string) error {
	if e.EtcdPID == 0 {
		return fmt.Errorf("etcd profile: only for the private etcd")
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", e.Endpoints[0], int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	_, err = io.Copy(out, resp.Body)
	return err
}
