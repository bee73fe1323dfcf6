package mysqletcd

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// privateEtcd starts an etcd of the test's own, for tests that change its
// security settings; it stops when the test ends. It hashes passwords with
// bcrypt's least cost: an authentication costs 100 ms under the race
// detector otherwise.
func privateEtcd(t *testing.T, configure ...func(*embed.Config)) *testenv.Etcd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fastBcrypt := func(c *embed.Config) { c.BcryptCost = 4 }
	ec, err := testenv.StartEtcd(ctx, 1, append([]func(*embed.Config){fastBcrypt}, configure...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Close() })
	return ec
}

// etcdClient returns a client that is closed when the test ends.
func etcdClient(t *testing.T, cfg clientv3.Config) *clientv3.Client {
	t.Helper()
	cfg.DialTimeout = 5 * time.Second
	cfg.Logger = zap.NewNop()
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func generateCerts(t *testing.T, client string) *testenv.Certs {
	t.Helper()
	certs, err := testenv.GenerateCerts(t.TempDir(), client)
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

// enableAuth turns on auth with a root user and returns root's client.
func enableAuth(t *testing.T, admin *clientv3.Client, cfg clientv3.Config) *clientv3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := testenv.EnableAuth(ctx, admin, "root-pw"); err != nil {
		t.Fatal(err)
	}
	cfg.Username, cfg.Password = "root", "root-pw"
	return etcdClient(t, cfg)
}

// addEtcdUser creates a user (no password: it authenticates by its client
// certificate) whose role may read and write the given prefixes only.
func addEtcdUser(t *testing.T, root *clientv3.Client, user, password string, prefixes ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	role := user + "-role"
	if _, err := root.RoleAdd(ctx, role); err != nil {
		t.Fatal(err)
	}
	for _, p := range prefixes {
		if _, err := root.RoleGrantPermission(ctx, role, p, clientv3.GetPrefixRangeEnd(p), clientv3.PermissionType(clientv3.PermReadWrite)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.UserAddWithOptions(ctx, user, password, &clientv3.UserAddOptions{NoPassword: password == ""}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.UserGrantRole(ctx, user, role); err != nil {
		t.Fatal(err)
	}
}

// TestEtcdOverTLSWithClientCertificatesConverges runs the driver against an
// etcd that serves TLS and wants client certificates, with the certificate
// given as files in the YAML config and as Config.Etcd.TLSConfig.
func TestEtcdOverTLSWithClientCertificatesConverges(t *testing.T) {
	certs := generateCerts(t, "app")
	ec := privateEtcd(t, certs.ClientCertAuth)
	tlsConfig, err := certs.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, usersSchema, usersMappings()...)
	e.etcd = etcdClient(t, clientv3.Config{Endpoints: ec.Endpoints(), TLS: tlsConfig})

	yaml := "etcd:\n  endpoints: [" + ec.Endpoint(0) + "]\n  tls:\n    ca: " + certs.CA +
		"\n    cert: " + certs.ClientCert + "\n    key: " + certs.ClientKey + "\ntables: [{table: x, key: '/x/{id}'}]\n"
	fromFiles, err := ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.Etcd = fromFiles.Etcd
	files, _ := e.open(nil)
	inGo, _ := e.open(func(_ *mysql.Config, c *Config) {
		c.Etcd = EtcdConfig{Endpoints: []string{"https://" + ec.Endpoint(0)}, TLSConfig: tlsConfig}
	})
	mustExec(t, files, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x')")
	mustExec(t, inGo, "INSERT INTO users (id, name, email) VALUES (3, 'cy', 'c@x')")
	mustExec(t, inGo, "UPDATE users SET email = 'ann@x' WHERE id = 1")
	mustExec(t, files, "DELETE FROM users WHERE id = 2")
	e.converged()
	if n := len(e.etcdState()); n != 4 {
		t.Errorf("%d keys in etcd, want 4", n)
	}
}

// A TLS mistake fails the first use of the handle, at once and with the
// cause and the fix, instead of leaving every push to time out.
func TestEtcdTLSMistakesFailTheOpenWithTheCause(t *testing.T) {
	certs := generateCerts(t, "app")
	other := generateCerts(t, "app")
	ec := privateEtcd(t, certs.ClientCertAuth)
	e := newEnv(t, usersSchema, usersMappings()...)
	tests := []struct {
		name      string
		endpoints []string
		tls       *TLSFiles
		want      []string
		password  bool // etcd's client then authenticates while it connects
	}{
		{"CA that did not sign etcd's certificate", ec.Endpoints(), &TLSFiles{CA: other.CA, Cert: certs.ClientCert, Key: certs.ClientKey},
			[]string{"certificate signed by unknown authority", "check etcd.tls.ca"}, false},
		{"CA that did not sign etcd's certificate, with a password", ec.Endpoints(), &TLSFiles{CA: other.CA, Cert: certs.ClientCert, Key: certs.ClientKey},
			[]string{"certificate signed by unknown authority", "check etcd.tls.ca"}, true},
		{"no client certificate", ec.Endpoints(), &TLSFiles{CA: certs.CA},
			[]string{"etcd refused the client certificate", "certificate required", "etcd.tls.cert"}, false},
		{"client certificate of another authority", ec.Endpoints(), &TLSFiles{CA: certs.CA, Cert: other.ClientCert, Key: other.ClientKey},
			[]string{"etcd refused the client certificate", "unknown certificate authority"}, false},
		{"no TLS", ec.Endpoints(), nil,
			[]string{"etcd serves TLS there", "set etcd.tls"}, false},
		{"TLS to an etcd without it", testenv.EtcdEndpoints(t), &TLSFiles{CA: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey},
			[]string{"etcd does not speak TLS there", "remove etcd.tls"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := e.open(func(_ *mysql.Config, c *Config) {
				c.Etcd = EtcdConfig{Endpoints: tt.endpoints, TLS: tt.tls, DialTimeout: 10 * time.Second}
				if tt.password {
					c.Etcd.Username, c.Etcd.Password, c.Etcd.DialTimeout = "app", "pw", time.Second
				}
			})
			start := time.Now()
			_, err := db.Exec("INSERT INTO users (id, name) VALUES (1, 'ann')")
			took := time.Since(start)
			if !errors.Is(err, ErrEtcdAccess) {
				t.Fatalf("insert: %v, want ErrEtcdAccess", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if took > 5*time.Second {
				t.Errorf("the open took %v: it should not wait out the dial timeout", took)
			}
			var n int
			if err := e.plain.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 0 {
				t.Errorf("rows: %d, %v: the insert must not run", n, err)
			}
		})
	}
}

// TestEtcdPasswordAuthConverges uses an etcd user with a password, and
// shows that a wrong password, or none, fails the open naming etcd auth.
func TestEtcdPasswordAuthConverges(t *testing.T) {
	ec := privateEtcd(t)
	e := newEnv(t, usersSchema, usersMappings()...)
	root := enableAuth(t, ec.Client(t), clientv3.Config{Endpoints: ec.Endpoints()})
	addEtcdUser(t, root, "app", "app-pw", e.prefix+"/")
	e.etcd = root
	e.cfg.Etcd = EtcdConfig{Endpoints: ec.Endpoints(), Username: "app", Password: "app-pw"}

	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x')")
	mustExec(t, db, "DELETE FROM users WHERE id = 2")
	e.converged()

	for _, tt := range []struct {
		user, password string
		want           []string
	}{
		{"app", "wrong", []string{`etcd auth as user "app"`, "authentication failed", "check etcd.username and etcd.password"}},
		{"nobody", "x", []string{`etcd auth as user "nobody"`, "authentication failed"}},
		{"", "", []string{"etcd has auth on and the driver gives no user", "set etcd.username and etcd.password"}},
	} {
		db, _ := e.open(func(_ *mysql.Config, c *Config) { c.Etcd.Username, c.Etcd.Password = tt.user, tt.password })
		err := db.Ping()
		if !errors.Is(err, ErrEtcdAccess) {
			t.Fatalf("user %q, password %q: ping: %v, want ErrEtcdAccess", tt.user, tt.password, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
		if strings.Contains(err.Error(), tt.password) && tt.password != "" {
			t.Errorf("error %q shows the password", err)
		}
	}
}

// With client certificates and auth on, etcd takes the certificate's
// common name as the user: no password in the config.
func TestEtcdClientCertificateNamesTheUser(t *testing.T) {
	certs := generateCerts(t, "app")
	ec := privateEtcd(t, certs.ClientCertAuth)
	tlsConfig, err := certs.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, usersSchema, usersMappings()...)
	cfg := clientv3.Config{Endpoints: ec.Endpoints(), TLS: tlsConfig}
	root := enableAuth(t, etcdClient(t, cfg), cfg)
	addEtcdUser(t, root, "app", "", e.prefix+"/")
	e.etcd = root
	e.cfg.Etcd = EtcdConfig{Endpoints: ec.Endpoints(), TLS: &TLSFiles{CA: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey}}
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x')")
	e.converged()
}

// syncBuffer is a log destination for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An etcd that does not answer is no access error: the open goes on at
// once, writes commit, and the pushes wait for etcd.
func TestEtcdDownAtOpenDoesNotFailTheOpen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	e := newEnv(t, usersSchema, usersMappings()...)
	var log syncBuffer
	db, _ := e.open(func(_ *mysql.Config, c *Config) {
		c.Etcd = EtcdConfig{Endpoints: []string{down}, DialTimeout: 10 * time.Second}
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
		c.DrainTimeout = 10 * time.Millisecond
	})
	start := time.Now()
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann')")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the first write took %v with etcd down", took)
	}
	if !strings.Contains(log.String(), "etcd does not answer") || !strings.Contains(log.String(), "connection refused") {
		t.Errorf("log:\n%s", log.String())
	}
}
