package main

import (
	"flag"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// invocation is one run of the command: its output streams, environment,
// the connection flags given before the command name, and the secrets that
// must not reach the output.
type invocation struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	global         connFlags

	mu      sync.Mutex
	secrets []string
}

func newInvocation(stdout, stderr io.Writer) *invocation {
	return &invocation{stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
}

// parseGlobal reads the connection flags that come before the command name,
// as in "mysqletcd --dsn ... verify", and returns the rest of the arguments.
func (inv *invocation) parseGlobal(args []string) ([]string, error) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		return args, nil
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return args, nil
	}
	fs := flag.NewFlagSet("mysqletcd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	inv.global.define(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// hide adds a secret that redact cuts out of messages.
func (inv *invocation) hide(secret string) {
	if secret == "" {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.secrets = append(inv.secrets, secret)
}

// hideDSNPassword hides the password of a DSN, even one that does not parse.
func (inv *invocation) hideDSNPassword(dsn string) { inv.hide(dsnPassword(dsn)) }

// redact cuts every hidden secret out of a message.
func (inv *invocation) redact(msg string) string {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return redactSecrets(msg, inv.secrets)
}

// redactingWriter passes writes on with the invocation's secrets cut out.
// Each write must hold whole lines, as a log handler's do.
type redactingWriter struct {
	inv *invocation
	w   io.Writer
}

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.inv.redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
