package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// withPassword is the fixture's DSN for user and password.
func (f *fixture) withPassword(user, password string) string {
	f.t.Helper()
	mc, err := mysql.ParseDSN(f.dsn)
	if err != nil {
		f.t.Fatal(err)
	}
	mc.User, mc.Passwd = user, password
	return mc.FormatDSN()
}

func TestTheDSNPasswordIsNeverPrinted(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	const wrong = "Wr0ngPassw0rd"
	dsn := f.withPassword("root", wrong)
	for _, args := range [][]string{
		{"sync", "--dsn", dsn},
		{"verify", "--dsn", dsn, "--output", "json"},
		{"watch", "--dsn", dsn},
		{"check-config", "--dsn", dsn},
		{"--dsn", dsn, "verify"},
	} {
		code, stdout, stderr := runArgs(append(args, "--config", f.config)...)
		if code != 1 || !strings.Contains(stderr, "Access denied") {
			t.Errorf("mysqletcd %s with a wrong password = %d, stderr %q; want 1 and the server's error", args[0], code, stderr)
		}
		if strings.Contains(stdout+stderr, wrong) {
			t.Errorf("mysqletcd %s printed the password:\n%s%s", args[0], stdout, stderr)
		}
	}

	for _, bad := range []string{
		"root:" + wrong + "@tcp(127.0.0.1:1)/db?timeout=banana",
		"root:" + wrong + "@tcp(127.0.0.1:1)/db?mysqletcd-bogus=1",
		"root:" + wrong + "@tcp(127.0.0.1:1",
	} {
		for _, args := range [][]string{{"verify", "--dsn", bad}, {"--dsn", bad, "verify"}, {"--dsn=" + bad, "verify"}} {
			code, stdout, stderr := runArgs(append(args, "--config", f.config)...)
			if code != 2 || !strings.Contains(stderr, "--dsn") {
				t.Errorf("mysqletcd %q = %d, stderr %q; want 2 and a --dsn error", args, code, stderr)
			}
			if strings.Contains(stdout+stderr, wrong) {
				t.Errorf("mysqletcd %q printed the password:\n%s%s", args, stdout, stderr)
			}
		}
	}
}

func TestAMisplacedDSNIsEchoedWithoutItsPassword(t *testing.T) {
	const pw = "Misplaced-pw"
	code, stdout, stderr := runArgs("verify", "app:"+pw+"@tcp(db:3306)/app")
	if code != 2 || !strings.Contains(stderr, `unexpected argument "app:***@tcp(db:3306)/app"`) || strings.Contains(stdout+stderr, pw) {
		t.Errorf("verify <dsn> = %d, stderr %q; want 2 and the DSN masked", code, stderr)
	}
}

func TestCommandsWorkWithAPasswordAndShowItMasked(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	user := fmt.Sprintf("cli%d", fixtureSeq.Add(1))
	const password = "Pa55-w0rd-cli"
	mc, _ := mysql.ParseDSN(f.dsn)
	f.exec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, password))
	t.Cleanup(func() { f.db.ExecContext(context.Background(), fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	f.exec(fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", mc.DBName, user))
	f.exec("INSERT INTO users VALUES (1, 'ann')")
	f.dsn = f.withPassword(user, password)

	for _, args := range [][]string{{"check-config"}, {"sync", "--progress", "plain", "--progress-interval", "1ns"}, {"verify", "--output", "json"}} {
		code, stdout, stderr := f.run(args...)
		if code != 0 {
			t.Errorf("mysqletcd %s with a password = %d: %s", args[0], code, stderr)
		}
		if strings.Contains(stdout+stderr, password) {
			t.Errorf("mysqletcd %s printed the password:\n%s%s", args[0], stdout, stderr)
		}
		if args[0] == "check-config" && !strings.Contains(stdout, "database:  "+user+":***@tcp(") {
			t.Errorf("check-config does not show the DSN masked:\n%s", stdout)
		}
	}
}
