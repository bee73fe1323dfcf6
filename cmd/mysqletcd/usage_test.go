package main

import (
	"strings"
	"testing"
)

func TestUsageErrorsExitWithTwoAndSayWhatToPass(t *testing.T) {
	t.Setenv(EnvDSN, "")
	t.Setenv("MYSQLETCD_CONFIG", "")
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--nope", "sync"}, "flag provided but not defined: -nope"},
		{[]string{"sync", "--nope"}, "flag provided but not defined: -nope\nRun 'mysqletcd sync --help' for usage."},
		{[]string{"verify", "extra"}, `unexpected argument "extra"`},
		{[]string{"verify"}, "no database: pass --dsn 'user:password@tcp(host:3306)/database' or set MYSQLETCD_DSN"},
		{[]string{"watch"}, "pass --dsn"},
		{[]string{"check-config"}, "pass --dsn"},
		{[]string{"sync", "--dsn", "root@tcp(127.0.0.1:1)/db"}, "no config: pass --config /path/to/mysqletcd.yaml, set MYSQLETCD_CONFIG, or add mysqletcd-config=/path/to/mysqletcd.yaml to the DSN"},
		{[]string{"check-config", "--print"}, "no config: pass --config"},
		{[]string{"sync", "--dsn", "not a dsn"}, "--dsn: "},
		{[]string{"sync", "--progress", "fancy"}, `invalid value "fancy" for flag -progress: use auto, bar, plain or none`},
		{[]string{"verify", "--output", "xml"}, "use text or json"},
		{[]string{"verify", "--rate", "-5"}, "--rate -5: pass a number of rows per second"},
		{[]string{"verify", "--samples", "0"}, "--samples 0: pass 1 or more"},
		{[]string{"verify", "--table", ""}, "empty table name"},
		{[]string{"sync", "--fence-grace", "-1m"}, "--fence-grace -1m0s"},
		{[]string{"watch", "--from-rev", "-1"}, "--from-rev -1"},
	} {
		code, stdout, stderr := runArgs(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("mysqletcd %q = %d, stdout %q, stderr %q; want 2 and stderr with %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestHelpListsEveryCommandAndEachCommandHasExamples(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, stdout, _ := runArgs(args...)
		if code != 0 {
			t.Errorf("mysqletcd %q = %d, want 0", args, code)
		}
		for _, c := range commands() {
			if !strings.Contains(stdout, "  "+c.name+" ") || !strings.Contains(stdout, c.summary) {
				t.Errorf("mysqletcd %q does not list %s with its summary:\n%s", args, c.name, stdout)
			}
		}
		if !strings.Contains(stdout, "mysqletcd verify") || !strings.Contains(stdout, "MYSQLETCD_DSN") {
			t.Errorf("mysqletcd %q lacks examples or the environment:\n%s", args, stdout)
		}
	}
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			code, stdout, stderr := runArgs(args...)
			if code != 0 || stderr != "" {
				t.Errorf("mysqletcd %q = %d, stderr %q; want 0 and no stderr", args, code, stderr)
			}
			for _, want := range []string{"Usage:\n  mysqletcd " + c.name, "Examples:\n  ", "Exit status:"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("mysqletcd %q lacks %q:\n%s", args, want, stdout)
				}
			}
		}
	}
	_, stdout, _ := runArgs("sync", "--help")
	for _, flag := range []string{"--dsn DSN", "--config FILE", "--table TABLE", "--dry-run", "--rate N", "--fence-grace TIME", "--samples N", "--progress MODE", "--output FORMAT"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("sync --help lacks %s:\n%s", flag, stdout)
		}
	}
}
