package mysqletcd

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// writeConfigFile writes e's config as a YAML file and returns its path.
func (e *env) writeConfigFile(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("etcd:\n  endpoints: [" + strings.Join(e.cfg.Etcd.Endpoints, ", ") + "]\n")
	b.WriteString("fence-prefix: " + e.cfg.FencePrefix + "\n")
	b.WriteString("tables:\n")
	for _, m := range e.cfg.Tables {
		b.WriteString("  - table: " + m.Table + "\n    key: " + m.Key + "\n")
		if m.Value.Column != "" {
			b.WriteString("    value: {column: " + m.Value.Column + "}\n")
		} else {
			b.WriteString("    value: json\n")
		}
		if len(m.Columns) > 0 {
			b.WriteString("    columns: [" + strings.Join(m.Columns, ", ") + "]\n")
		}
		if m.Where != "" {
			b.WriteString("    where: " + m.Where + "\n")
		}
	}
	path := filepath.Join(t.TempDir(), "mysqletcd.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSQLOpenWithTheConfigInTheDSN(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	path := e.writeConfigFile(t)
	db, err := sql.Open("mysqletcd", e.dsn+"?"+DSNConfigParam+"="+path+"&parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x')")
	if err := db.Close(); err != nil { // drains
		t.Fatal(err)
	}
	e.converged()
}

func TestSQLOpenWithTheConfigInTheEnvironment(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	t.Setenv(EnvConfig, e.writeConfigFile(t))
	db, err := sql.Open("mysqletcd", e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x')")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e.converged()
}

func TestSQLOpenWithoutAConfigSaysWhereToPutIt(t *testing.T) {
	t.Setenv(EnvConfig, "")
	_, err := sql.Open("mysqletcd", "root@tcp(127.0.0.1:1)/x")
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), DSNConfigParam) || !strings.Contains(err.Error(), EnvConfig) {
		t.Errorf("sql.Open = %v", err)
	}
}

func TestRegisterGivesANamedDriverWithAGoConfig(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	name := "mysqletcd-" + strings.ReplaceAll(e.prefix, "/", "-")
	if err := Register(name, e.cfg); err != nil {
		t.Fatal(err)
	}
	if err := Register(name, e.cfg); err == nil || !strings.Contains(err.Error(), "is taken") {
		t.Errorf("second Register = %v", err)
	}
	db, err := sql.Open(name, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann')")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e.converged()
	if _, err := sql.Open(name, e.dsn+"?"+DSNConfigParam+"=/x.yaml"); err == nil || !strings.Contains(err.Error(), "registered with a Config") {
		t.Errorf("sql.Open with a config file on a registered driver = %v", err)
	}
}

func TestOpenDBKeepsTheConnectorsDialer(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	var dials atomic.Int64
	mc, _ := mysql.ParseDSN(e.dsn)
	mc.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	db := OpenDB(inner, e.cfg)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann')")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e.converged()
	if dials.Load() < 2 { // the app's connection and the re-read pool's
		t.Errorf("the connector's dialer was used %d times", dials.Load())
	}
}

func TestOpenDBReportsABadConfigOnFirstUse(t *testing.T) {
	db := OpenDB(nil, Config{})
	defer db.Close()
	if err := db.Ping(); !errors.Is(err, ErrConfig) {
		t.Errorf("Ping = %v, want ErrConfig", err)
	}
}
