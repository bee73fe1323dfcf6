package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The mapping's keys sit right under the prefix, beside the fence prefix
// {p}/_f, so the watch sees the driver's fence and epoch keys and must
// leave them out.
const flatMapping = `
  - table: users
    key: "{p}/{id}"
    value: {column: name}
`

func TestWatchPrintsPutsAndDeletesButNotTheDriversOwnKeys(t *testing.T) {
	f := newFixture(t, "CREATE TABLE users (id INT PRIMARY KEY, name VARBINARY(255) NOT NULL)", flatMapping)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- runContext(ctx, []string{"watch", "--dsn", f.dsn, "--config", f.config}, &stdout, &stderr)
	}()
	if !waitFor(func() bool { return strings.Contains(stderr.String(), "watching "+f.prefix+"/ from revision ") }) {
		t.Fatalf("watch did not start: %s", stderr.String())
	}

	f.exec("INSERT INTO users VALUES (1, 'ann'), (2, ?)", "line\nbreak\x00\xff"+strings.Repeat("x", 100))
	if code, _, errOut := f.run("sync", "--progress", "none"); code != 0 {
		t.Fatalf("sync = %d: %s", code, errOut)
	}
	f.exec("DELETE FROM users WHERE id = 1")
	if code, _, errOut := f.run("sync", "--progress", "none"); code != 0 {
		t.Fatalf("sync = %d: %s", code, errOut)
	}
	p := regexp.QuoteMeta(f.prefix)
	want := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^PUT    ` + p + `/1 rev=\d+ ann$`),
		regexp.MustCompile(`(?m)^PUT    ` + p + `/2 rev=\d+ line\\nbreak\\x00\\xffx{45}… \(112 bytes\)$`),
		regexp.MustCompile(`(?m)^DELETE ` + p + `/1 rev=\d+$`),
	}
	printed := waitFor(func() bool {
		for _, re := range want {
			if !re.MatchString(stdout.String()) {
				return false
			}
		}
		return true
	})
	if !printed {
		t.Fatalf("watch did not print two PUTs and a DELETE:\n%s", stdout.String())
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Errorf("watch exited %d after its context ended, want 0; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "/_f") || strings.Count(out, "\n") != 3 {
		t.Errorf("watch printed other lines than the three changes (fence or epoch keys?):\n%s", out)
	}
}

func TestWatchFromRevReplaysHistory(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	resp, err := f.etcd.Put(context.Background(), f.prefix+"/users/5", "five")
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Header.Revision
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- runContext(ctx, []string{"watch", "--table", "users", "--from-rev", strconv.FormatInt(rev, 10),
			"--dsn", f.dsn, "--config", f.config}, &stdout, &stderr)
	}()
	line := "PUT    " + f.prefix + "/users/5 rev=" + strconv.FormatInt(rev, 10) + " five\n"
	if !waitFor(func() bool { return strings.Contains(stdout.String(), line) }) {
		t.Fatalf("watch --from-rev did not replay %q:\n%s", line, stdout.String())
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Errorf("watch exited %d, want 0: %s", code, stderr.String())
	}
}

func TestWatchFromACompactedRevisionFailsNamingTheOldestKept(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	ctx := context.Background()
	if _, err := f.etcd.Put(ctx, f.prefix+"/users/1", "a"); err != nil {
		t.Fatal(err)
	}
	resp, err := f.etcd.Put(ctx, f.prefix+"/users/1", "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.etcd.Compact(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := f.run("watch", "--from-rev", "1")
	want := "revision 1 has been compacted; etcd keeps history from revision " + strconv.FormatInt(resp.Header.Revision, 10) +
		": pass --from-rev " + strconv.FormatInt(resp.Header.Revision, 10) + " or later"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("watch --from-rev 1 after compaction = %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}
