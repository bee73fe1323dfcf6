package main

import (
	"strings"
	"testing"
)

func TestConnectionFlagsFallBackToTheEnvironment(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	f.exec("INSERT INTO users VALUES (1, 'ann')")

	t.Setenv(EnvDSN, f.dsn)
	t.Setenv("MYSQLETCD_CONFIG", f.config)
	if code, stdout, stderr := runArgs("sync", "--progress", "none"); code != 0 || !strings.Contains(stdout, "1 key put") {
		t.Fatalf("sync with MYSQLETCD_DSN and MYSQLETCD_CONFIG = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// The DSN names the config; it wins over MYSQLETCD_CONFIG, as in the driver.
	t.Setenv("MYSQLETCD_CONFIG", "/nonexistent/mysqletcd.yaml")
	t.Setenv(EnvDSN, f.dsn+"?mysqletcd-config="+f.config)
	if code, _, stderr := runArgs("verify", "--progress", "none"); code != 0 {
		t.Errorf("verify with mysqletcd-config in the DSN = %d: %s", code, stderr)
	}

	// Flags win over the environment, before or after the command.
	t.Setenv(EnvDSN, "nobody:x@tcp(127.0.0.1:1)/nothing")
	if code, _, stderr := runArgs("verify", "--dsn", f.dsn, "--config", f.config, "--progress", "none"); code != 0 {
		t.Errorf("verify --dsn --config = %d: %s", code, stderr)
	}
	if code, _, stderr := runArgs("--dsn", f.dsn, "--config", f.config, "verify", "--progress", "none"); code != 0 {
		t.Errorf("mysqletcd --dsn --config verify = %d: %s", code, stderr)
	}

	// A config named by the environment that does not exist fails clearly.
	t.Setenv(EnvDSN, f.dsn)
	if code, _, stderr := runArgs("verify"); code != 1 || !strings.Contains(stderr, "/nonexistent/mysqletcd.yaml") {
		t.Errorf("verify with a missing config file = %d, stderr %q; want 1 naming the file", code, stderr)
	}
}
