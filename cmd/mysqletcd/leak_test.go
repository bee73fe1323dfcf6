package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestCommandsLeaveNoGoroutinesBehind(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	f.exec("INSERT INTO users VALUES (1, 'ann')")
	f.keys() // the shared servers and the fixture's client run before the baseline
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	for _, args := range [][]string{{"check-config"}, {"sync"}, {"verify"}} {
		if code, _, stderr := f.run(args...); code != 0 {
			t.Fatalf("%s = %d: %s", args[0], code, stderr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- runContext(ctx, []string{"watch", "--dsn", f.dsn, "--config", f.config}, &stdout, &stderr)
	}()
	if !waitFor(func() bool { return strings.Contains(stderr.String(), "watching ") }) {
		t.Fatalf("watch did not start: %s", stderr.String())
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Fatalf("watch = %d: %s", code, stderr.String())
	}
}
