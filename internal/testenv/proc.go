package testenv

import (
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// child is a running server process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	err  error         // Wait's result; read only after done is closed
}

// startChild starts cmd with childSysProcAttr.
//
// Pdeathsig fires when the OS thread that forked the child exits, not when the
// process does. The Go runtime may retire an idle thread (a goroutine that
// exits while locked to its thread takes the thread with it), which would kill
// the child at a random moment. So the child is started from a goroutine that
// stays locked to its thread, waiting, for the child's whole life.
func startChild(cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = childSysProcAttr()
	c := &child{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.err = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return c, nil
}

// exited reports whether the process has ended, without blocking.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to grace for the process to end, then kills it.
// It returns an error if the process had to be killed.
func (c *child) stop(sig syscall.Signal, grace time.Duration) error {
	if c.exited() {
		return nil
	}
	c.cmd.Process.Signal(sig)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-t.C:
	}
	c.cmd.Process.Kill()
	<-c.done
	return fmt.Errorf("%s did not exit within %v of %v and was killed", c.cmd.Path, grace, sig)
}
