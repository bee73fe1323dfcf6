package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestVerifyListsExactlyTheDriftedKeysUntilSyncFixesThem(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	f.exec("INSERT INTO users VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')")
	if code, _, stderr := f.run("sync", "--progress", "none"); code != 0 {
		t.Fatalf("sync = %d: %s", code, stderr)
	}
	code, stdout, stderr := f.run("verify")
	if code != 0 || !strings.Contains(stdout, "in sync: 3 rows, 3 keys; 1 mapping checked in ") {
		t.Fatalf("verify after sync = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	f.put(f.prefix+"/users/1", `{"id":1,"name":"old"}`)  // stale
	f.put(f.prefix+"/users/9", `{"id":9,"name":"gone"}`) // orphan
	f.delete(f.prefix + "/users/3")                      // missing

	code, stdout, stderr = f.run("verify")
	if code != 1 {
		t.Fatalf("verify after corrupting etcd = %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	listed := regexp.MustCompile(`(?m)^  (missing|stale|orphan) +(\S+)$`).FindAllStringSubmatch(stdout, -1)
	var got []string
	for _, m := range listed {
		got = append(got, m[1]+" "+m[2])
	}
	slices.Sort(got)
	want := []string{"missing " + f.prefix + "/users/3", "orphan " + f.prefix + "/users/9", "stale " + f.prefix + "/users/1"}
	if !slices.Equal(got, want) {
		t.Errorf("verify listed %q, want exactly %q:\n%s", got, want, stdout)
	}
	counts := regexp.MustCompile(`(?m)^TOTAL +3 +3 +1 +1 +1 +1$`)
	if !counts.MatchString(stdout) || !strings.Contains(stdout, "3 keys differ from the database") {
		t.Errorf("verify lacks the counts (3 rows, 3 keys, 1 missing, 1 stale, 1 orphan, 1 in sync):\n%s", stdout)
	}

	code, stdout, _ = f.run("verify", "--output", "json")
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 {
		t.Fatalf("verify --output json = %d, %v:\n%s", code, err, stdout)
	}
	if !rep.DryRun || rep.Drift != 3 || rep.Total.Missing != 1 || rep.Total.Stale != 1 || rep.Total.Orphans != 1 || len(rep.Mappings[0].Samples) != 3 {
		t.Errorf("verify JSON report = %+v", rep)
	}

	code, stdout, _ = f.run("verify", "--samples", "1")
	if code != 1 || !strings.Contains(stdout, "  ... and 2 more (--samples lists more)") {
		t.Errorf("verify --samples 1 = %d:\n%s", code, stdout)
	}

	if code, stdout, stderr := f.run("sync"); code != 0 || !strings.Contains(stdout, "2 keys put, 1 deleted, 1 unchanged") {
		t.Fatalf("sync of the drift = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := f.run("verify"); code != 0 {
		t.Errorf("verify after sync = %d, want 0:\n%s", code, stdout)
	}
}
