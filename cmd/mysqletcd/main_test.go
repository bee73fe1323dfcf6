package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsageErrorsExitWithTwo(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "Usage:") {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and the usage", args, code, errOut.String())
		}
	}
	var out bytes.Buffer
	if code := run([]string{"--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "mysqletcd demo") {
		t.Errorf("--help = %d, %q", code, out.String())
	}
}

func TestDemoShowsTheNaiveWriteStaleAndTheDriverConsistent(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"demo"}, &out, &errOut); code != 0 {
		t.Fatalf("demo exited %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"naive dual write (read row, Put):  DB key2=valB  etcd key2=valA  -> STALE",
		"mysqletcd driver (fenced CAS):     DB key2=valB  etcd key2=valB  -> consistent",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
}
