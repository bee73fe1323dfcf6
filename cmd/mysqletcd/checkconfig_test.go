package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mysqletcd/mysqletcd"
)

func TestCheckConfigPrintsEachMappingWithItsSampleKey(t *testing.T) {
	f := newFixture(t, "", `
  - table: users
    key: "{p}/users/{id}"
    value: json
    columns: [id, name]
    where: name <> ''
  - table: orders
    key: "{p}/orders/{no}"
    value: {column: item}
`)
	f.exec("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL, email VARCHAR(64))")
	f.exec("CREATE TABLE orders (no INT PRIMARY KEY, item VARCHAR(32))")
	f.exec("INSERT INTO users VALUES (2, 'bob', 'b@x'), (1, 'ann', 'a@x')")

	code, stdout, stderr := f.run("check-config")
	if code != 0 {
		t.Fatalf("check-config = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"config:    " + f.config + "\n",
		"key template:  " + f.prefix + "/users/{id}\n  key columns:   id\n  value:         json object of id, name\n  where:         name <> ''\n",
		"  sample key:    " + f.prefix + "/users/1\n  sample value:  {\"id\":1,\"name\":\"ann\"}\n",
		"key template:  " + f.prefix + "/orders/{no}\n  key columns:   no\n  value:         raw bytes of column item\n  where:         (none)\n  sample:        (table is empty)\n",
		"ok: 2 mappings checked against the schema and etcd",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check-config output lacks %q:\n%s", want, stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^etcd: +\S+ \(revision \d+\)$`).MatchString(stdout) {
		t.Errorf("check-config does not show etcd's revision:\n%s", stdout)
	}
}

func TestCheckConfigFailsNamingAMissingColumnAndTheFix(t *testing.T) {
	f := newFixture(t, usersSchema, `
  - table: users
    key: "{p}/users/{id}"
    columns: [id, nickname]
`)
	code, stdout, stderr := f.run("check-config")
	want := `tables[0].columns: column "nickname" of ` // ... does not exist: use some of id, name
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "does not exist: use some of id, name") {
		t.Errorf("check-config = %d, stderr %q; want 1 and %q", code, stderr, want)
	}
	if stdout != "" {
		t.Errorf("a failed check-config printed %q", stdout)
	}
}

func TestCheckConfigReportsEveryInvalidField(t *testing.T) {
	f := newFixture(t, usersSchema, `
  - table: users
    key: "{p}/_f/users/{id}"
  - table: ""
    key: "{p}/other/{id}"
`)
	code, _, stderr := f.run("check-config")
	for _, want := range []string{"tables[0].key", "under fence-prefix", "tables[1].table: is empty: name the table"} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("check-config = %d, stderr %q; want 1 and %q", code, stderr, want)
		}
	}
}

func TestCheckConfigPrintShowsDefaultsAndMasksTheEtcdPassword(t *testing.T) {
	f := newFixture(t, usersSchema, usersMapping)
	const password = "etcd-Pa55word"
	f.config = f.writeConfig("with-auth.yaml", usersMapping, "  username: app\n  password: "+password+"\n")

	// --print needs no database.
	code, stdout, stderr := runArgs("check-config", "--print", "--config", f.config)
	if code != 0 {
		t.Fatalf("check-config --print = %d: %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, password) {
		t.Fatalf("check-config --print shows the etcd password:\n%s", stdout)
	}
	for _, want := range []string{"username: app\n", `password: '***'`, "request-timeout: 5s\n", "workers: 4\n", "value: json\n", "fence-prefix: " + f.prefix + "/_f\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check-config --print lacks %q:\n%s", want, stdout)
		}
	}
	cfg, err := mysqletcd.ParseConfig([]byte(stdout))
	if err != nil {
		t.Fatalf("the printed config does not parse: %v\n%s", err, stdout)
	}
	if cfg.Etcd.Password != masked || cfg.Workers != 4 || len(cfg.Tables) != 1 || cfg.Tables[0].Value != mysqletcd.JSONValue || cfg.Tables[0].Key != f.prefix+"/users/{id}" {
		t.Errorf("the printed config reads back as %+v", cfg)
	}
}
