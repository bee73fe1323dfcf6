package main

import (
	"strings"
	"testing"
)

func TestMigrateCreatesTheOutboxTable(t *testing.T) {
	f := newFixture(t, usersSchema, `
  - table: users
    key: "{p}/users/{id}"
`)
	code, stdout, stderr := f.run("migrate", "--print")
	if code != 0 || !strings.Contains(stdout, "CREATE TABLE IF NOT EXISTS `mysqletcd_outbox`") {
		t.Fatalf("migrate --print = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = f.run("migrate")
	if code != 0 || !strings.Contains(stdout, "outbox table mysqletcd_outbox is in place") {
		t.Fatalf("migrate = %d\n%s%s", code, stdout, stderr)
	}
	f.exec("INSERT INTO mysqletcd_outbox (mapping, etcd_key) VALUES ('k', 'v')") // it exists
	if code, _, stderr := f.run("migrate"); code != 0 {
		t.Fatalf("a second migrate = %d: %s", code, stderr)
	}
}
