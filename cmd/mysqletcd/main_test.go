package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

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
