package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestSyncBackfillsRowsIntoEmptyEtcdAndPrintsTheSummary(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	f.exec("INSERT INTO users VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')")

	code, stdout, stderr := f.run("sync", "--progress", "plain", "--progress-interval", "1ns")
	if code != 0 {
		t.Fatalf("sync = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := map[string]string{
		f.prefix + "/users/1": `{"id":1,"name":"ann"}`,
		f.prefix + "/users/2": `{"id":2,"name":"bob"}`,
		f.prefix + "/users/3": `{"id":3,"name":"cy"}`,
	}
	if got := f.keys(); !equalMaps(got, want) {
		t.Errorf("etcd after sync = %v, want %v", got, want)
	}
	table := regexp.MustCompile(`(?m)^TABLE +KEY +ROWS +KEYS +PUT +DELETED +UNCHANGED +FENCES\n` +
		`t_\w+\.users +` + regexp.QuoteMeta(f.prefix+"/users/{id}") + ` +3 +\d+ +3 +0 +0 +0\n` +
		`TOTAL +3 +\d+ +3 +0 +0 +0\n`)
	if !table.MatchString(stdout) {
		t.Errorf("sync summary lacks the per-mapping and total counts:\n%s", stdout)
	}
	if !regexp.MustCompile(`synced 1 mapping in [0-9.]+m?s: 3 rows scanned, 3 keys put, 0 deleted, 0 unchanged, 0 fences collected`).MatchString(stdout) {
		t.Errorf("sync summary lacks its last line:\n%s", stdout)
	}
	plain := regexp.MustCompile(`(?m)^mysqletcd sync: t_\w+\.users ` + regexp.QuoteMeta(f.prefix+"/users/{id}") + `: rows 3/3 \(100%\), [0-9.]+ rows/s$`)
	if !plain.MatchString(stderr) || strings.Contains(stderr, "\r") {
		t.Errorf("sync --progress plain printed no plain progress line:\n%q", stderr)
	}

	// Nothing differs now: a second run puts nothing.
	code, stdout, _ = f.run("sync", "--progress", "none")
	if code != 0 || !strings.Contains(stdout, "0 keys put, 0 deleted, 3 unchanged") {
		t.Errorf("second sync = %d:\n%s", code, stdout)
	}
}

func TestSyncDryRunWritesNothingAndReportsWhatItWouldDo(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	f.exec("INSERT INTO users VALUES (1, 'ann'), (2, 'bob')")
	f.put(f.prefix+"/users/7", "orphan")

	code, stdout, stderr := f.run("sync", "--dry-run", "--progress", "none")
	if code != 0 {
		t.Fatalf("sync --dry-run = %d: %s", code, stderr)
	}
	if got, want := f.keys(), map[string]string{f.prefix + "/users/7": "orphan"}; !equalMaps(got, want) {
		t.Errorf("etcd after a dry run = %v, want it untouched: %v", got, want)
	}
	for _, want := range []string{
		"missing  " + f.prefix + "/users/1",
		"missing  " + f.prefix + "/users/2",
		"orphan   " + f.prefix + "/users/7",
		"dry run, nothing written: 2 keys would be put, 1 deleted",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("sync --dry-run output lacks %q:\n%s", want, stdout)
		}
	}
	if stderr != "" {
		t.Errorf("sync --progress none wrote to stderr: %q", stderr)
	}
}

func TestSyncReportsJSON(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	f.exec("INSERT INTO users VALUES (1, 'ann')")
	code, stdout, stderr := f.run("sync", "--output", "json", "--table", "users")
	if code != 0 {
		t.Fatalf("sync --output json = %d: %s", code, stderr)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("sync --output json printed no JSON report: %v\n%s", err, stdout)
	}
	if rep.DryRun || len(rep.Mappings) != 1 || rep.Total.Put != 1 || rep.Total.RowsScanned != 1 || rep.Mappings[0].Key != f.prefix+"/users/{id}" {
		t.Errorf("sync JSON report = %+v", rep)
	}
}

func TestSyncOfAnUnmappedTableFailsNamingTheMappedOnes(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	code, _, stderr := f.run("sync", "--table", "orders", "--progress", "none")
	if code != 1 || !strings.Contains(stderr, `no mapping for table "orders"`) || !strings.Contains(stderr, ".users") {
		t.Errorf("sync --table orders = %d, stderr %q; want 1 naming the mapped tables", code, stderr)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
