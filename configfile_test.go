package mysqletcd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func withEnv(t *testing.T, env map[string]string) {
	t.Helper()
	old := lookupEnv
	lookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	t.Cleanup(func() { lookupEnv = old })
}

func TestConfigTakesValuesFromTheEnvironment(t *testing.T) {
	withEnv(t, map[string]string{
		"ETCD_HOST":     "etcd-1",
		"ETCD_PASSWORD": `p"a:ss #w'rd\`,
		"EMPTY":         "",
	})
	cfg, err := ParseConfig([]byte(`
etcd:
  endpoints: ["${ETCD_HOST}:2379", '${OTHER_HOST:-etcd-2}:2379']
  username: ${ETCD_USER:-app}
  password: "${ETCD_PASSWORD}"
tables:
  - table: users
    key: /app/users/{id}
    where: note <> '$${literal}' AND x = '${EMPTY:-fallback}'
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Etcd.Endpoints, ","); got != "etcd-1:2379,etcd-2:2379" {
		t.Errorf("endpoints = %q", got)
	}
	if cfg.Etcd.Username != "app" || cfg.Etcd.Password != `p"a:ss #w'rd\` {
		t.Errorf("username %q, password %q", cfg.Etcd.Username, cfg.Etcd.Password)
	}
	if w := cfg.Tables[0].Where; w != "note <> '${literal}' AND x = 'fallback'" {
		t.Errorf("where = %q", w)
	}
}

func TestConfigNamesAnUnsetVariableAndItsLine(t *testing.T) {
	withEnv(t, nil)
	_, err := ParseConfig([]byte("etcd:\n  endpoints: [a]\n  password: ${ETCD_PASSWORD}\n"))
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "line 3: ${ETCD_PASSWORD} is not set: export ETCD_PASSWORD, or write ${ETCD_PASSWORD:-default}") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigErrorsPointAtTheFileLineAndField(t *testing.T) {
	withEnv(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "mysqletcd.yaml")
	os.WriteFile(path, []byte(`etcd:
  endpoints: [127.0.0.1:2379]
tables:
  - table: users
    key: /app/users/{id}
  - table: teams
    key: /app/users/{id}
batch-size: 99
`), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	for _, want := range []string{path + ":7: tables[1].key: ", path + ":8: batch-size: is 99"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
	os.WriteFile(path, []byte("etcd:\n  endpoints: [a]\nworkerz: 3\n"), 0o600)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), "line 3: field workerz not found") {
		t.Errorf("LoadConfig = %v, want the file, line and field", err)
	}
}

func TestConfigReadsJSON(t *testing.T) {
	withEnv(t, map[string]string{"EP": "127.0.0.1:2379"})
	path := filepath.Join(t.TempDir(), "mysqletcd.json")
	os.WriteFile(path, []byte(`{
  "etcd": {"endpoints": ["${EP}"], "request-timeout": "2s"},
  "tables": [
    {"table": "users", "key": "/app/users/{id}", "value": "json", "columns": ["id", "name"]},
    {"table": "users", "key": "/app/by-name/{name}", "value": {"column": "email"}}
  ],
  "durable": true
}`), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Etcd.Endpoints[0] != "127.0.0.1:2379" || cfg.Tables[1].Value.Column != "email" || !cfg.Durable || cfg.Etcd.RequestTimeout.Seconds() != 2 {
		t.Errorf("cfg = %+v", cfg)
	}
}
