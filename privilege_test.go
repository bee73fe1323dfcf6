package mysqletcd

import (
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The least privilege the driver needs, on top of what the app itself does:
// SELECT on every mapped table in MariaDB, and readwrite on the mappings'
// key prefixes and on the fence prefix in etcd. docs/security.md lists them.

// privilegeSchema has a mapped table with a cascading foreign key to a
// parent the app deletes from, and a view the app writes through.
const privilegeSchema = `CREATE TABLE teams (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL) ENGINE=InnoDB;
CREATE TABLE users (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(64) NOT NULL,
	email VARCHAR(128) NULL,
	age INT NULL,
	deleted_at DATETIME NULL,
	team INT NULL,
	UNIQUE KEY name_uq (name),
	FOREIGN KEY (team) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB;
CREATE VIEW live_users AS SELECT id, name, email FROM users WHERE deleted_at IS NULL`

// dbUser creates a database user with the grants ("{db}" is the test's
// database) and returns the edit that connects as it.
func dbUser(t *testing.T, e *env, grants ...string) func(*mysql.Config, *Config) {
	t.Helper()
	db := testDBName(t, e)
	user := fmt.Sprintf("app_%08x", crc32.ChecksumIEEE([]byte(db)))
	e.exec("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'app-pw'")
	t.Cleanup(func() { e.exec("DROP USER '" + user + "'@'%'") })
	for _, g := range grants {
		e.exec(strings.ReplaceAll(g, "{db}", quoteIdent(db)) + " TO '" + user + "'@'%'")
	}
	return func(mc *mysql.Config, _ *Config) { mc.User, mc.Passwd = user, "app-pw" }
}

func testDBName(t *testing.T, e *env) string {
	mc, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	return mc.DBName
}

// The grants of the app: it writes users, deletes teams, and updates users
// through a view. The driver adds nothing but SELECT on users, which the
// app here has anyway.
var appGrants = []string{
	"GRANT SELECT, INSERT, UPDATE, DELETE ON {db}.users",
	"GRANT SELECT, INSERT, DELETE ON {db}.teams",
	"GRANT SELECT, UPDATE ON {db}.live_users",
}

// leastPrivilegeEtcd starts an etcd with auth on and an etcd user "app"
// whose role may read and write the given prefixes only.
func leastPrivilegeEtcd(t *testing.T, e *env, prefixes ...string) *clientv3.Client {
	t.Helper()
	ec := privateEtcd(t)
	root := enableAuth(t, ec.Client(t), clientv3.Config{Endpoints: ec.Endpoints()})
	addEtcdUser(t, root, "app", "app-pw", prefixes...)
	e.cfg.Etcd = EtcdConfig{Endpoints: ec.Endpoints(), Username: "app", Password: "app-pw"}
	return root
}

// driverPrefixes are the prefixes docs/security.md tells to grant: each
// mapping's key prefix and the fence prefix.
func driverPrefixes(e *env) []string {
	return []string{e.prefix + "/users/", e.prefix + "/by-name/", e.cfg.FencePrefix + "/"}
}

// TestLeastPrivilegeUserAndRoleSuffice runs live writes, a backfill, a
// verify and anti-entropy as a database user with table grants only and an
// etcd user whose role covers the driver's prefixes only. With only table
// grants MariaDB hides foreign-key rules and view definitions; the driver
// then resyncs on every write that may cascade, and says so.
func TestLeastPrivilegeUserAndRoleSuffice(t *testing.T) {
	for _, tt := range []struct {
		name              string
		showView, durable bool
	}{
		{"table grants", false, false},
		{"table grants and SHOW VIEW", true, false},
		{"durable mode", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, privilegeSchema, usersMappings()...)
			e.etcd = leastPrivilegeEtcd(t, e, driverPrefixes(e)...)
			grants := append([]string(nil), appGrants...)
			if tt.showView {
				grants = append(grants, "GRANT SHOW VIEW ON {db}.*")
			}
			if tt.durable {
				e.exec(OutboxDDL("mysqletcd_outbox")) // by an admin: the app may not CREATE
				grants = append(grants, "GRANT SELECT, INSERT, DELETE ON {db}.mysqletcd_outbox")
			}
			asApp := dbUser(t, e, grants...)
			e.exec("INSERT INTO teams VALUES (1, 'red'), (2, 'blue')")
			e.exec("INSERT INTO users (id, name, email, team) VALUES (1, 'ann', 'a@x', 1), (2, 'bob', 'b@x', 2), (3, 'cy', NULL, 1)")

			var log syncBuffer
			db, c := e.open(func(mc *mysql.Config, cfg *Config) {
				asApp(mc, cfg)
				cfg.ReconcileEvery = 200 * time.Millisecond
				cfg.ElectionTTL = time.Second
				cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
				cfg.Durable = tt.durable
			})
			reconcile(t, c, ReconcileOptions{}) // the backfill
			e.converged()

			mustExec(t, db, "INSERT INTO users (id, name, email, team) VALUES (4, 'dan', 'd@x', 2)")
			mustExec(t, db, "UPDATE live_users SET email = 'ann@x' WHERE id = 1")
			mustExec(t, db, "DELETE FROM teams WHERE id = 2") // deletes bob and dan
			mustExec(t, db, "UPDATE users SET deleted_at = NOW() WHERE id = 3")
			e.converged()

			e.exec("INSERT INTO users (id, name, email) VALUES (10, 'zed', 'z@x')") // behind the driver's back
			e.eventuallyConverged(10 * time.Second)
			// Errors under load (a timeout) are retried and harmless; a
			// privilege the driver lacks is not.
			if st := c.Stats(); st.AntiEntropyRuns == 0 || strings.Contains(strings.ToLower(log.String()), "denied") {
				t.Errorf("stats: %+v; log:\n%s", st, log.String())
			}
			if rep := reconcile(t, c, ReconcileOptions{DryRun: true}); rep.Drift() != 0 {
				t.Errorf("verify: %+v", rep.Mappings)
			}
			if tt.durable {
				outboxEmpties(t, e)
			}
			hidden := strings.Contains(log.String(), "cannot see the rules of a foreign key") &&
				strings.Contains(log.String(), "cannot see the definition of a view")
			if hidden == tt.showView {
				t.Errorf("warnings about hidden schema: %v, want %v; log:\n%s", hidden, !tt.showView, log.String())
			}
		})
	}
}

// outboxEmpties waits for the pushed keys' outbox rows to be deleted.
func outboxEmpties(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := e.plain.QueryRow("SELECT COUNT(*) FROM mysqletcd_outbox").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows left in the outbox", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A missing database grant or etcd permission fails the open, naming what
// is missing and the grant that fixes it.
func TestMissingGrantsFailTheOpenNamingThem(t *testing.T) {
	t.Run("SELECT on a mapped table", func(t *testing.T) {
		e := newEnv(t, privilegeSchema, usersMappings()...)
		asApp := dbUser(t, e, "GRANT INSERT, UPDATE, DELETE ON {db}.users")
		db, _ := e.open(asApp)
		err := db.Ping()
		wantErr(t, err, ErrSchema, "tables[0].table: the database user may not read", "SELECT command denied",
			"GRANT SELECT ON `"+testDBName(t, e)+"`.`users` TO the user")
	})
	t.Run("any privilege on a mapped table", func(t *testing.T) {
		// MariaDB hides the table: it reads as missing, which waits for the
		// table with a warning, or fails the open with Strict.
		e := newEnv(t, privilegeSchema, usersMappings()...)
		asApp := dbUser(t, e, "GRANT SELECT ON {db}.teams")
		var log syncBuffer
		db, _ := e.open(func(mc *mysql.Config, cfg *Config) {
			asApp(mc, cfg)
			cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
		})
		if err := db.Ping(); err != nil || !strings.Contains(log.String(), "or the database user has no privilege on it") {
			t.Errorf("ping: %v; log:\n%s", err, log.String())
		}
		strict, _ := e.open(func(mc *mysql.Config, cfg *Config) { asApp(mc, cfg); cfg.Strict = true })
		wantErr(t, strict.Ping(), ErrSchema, "does not exist, or the database user has no privilege on it", "GRANT SELECT ON")
	})

	e := newEnv(t, privilegeSchema, usersMappings()...)
	fences := e.cfg.FencePrefix + "/"
	for _, tt := range []struct {
		name        string
		prefixes    []string
		antiEntropy bool
		want        []string
	}{
		{"the fence prefix", []string{e.prefix + "/users/", e.prefix + "/by-name/"}, false,
			[]string{"may not read and write " + fences + "fence" + e.prefix + "/users/",
				"etcdctl role grant-permission <role> --prefix=true readwrite " + fences}},
		{"a mapping's prefix", []string{e.prefix + "/users/", fences}, false,
			[]string{"may not read and write " + e.prefix + "/by-name/",
				"etcdctl role grant-permission <role> --prefix=true readwrite " + e.prefix + "/by-name/"}},
		{"the election, with anti-entropy on", []string{e.prefix + "/users/", e.prefix + "/by-name/",
			fences + "fence/", fences + "epoch/", fences + "gc-mark/"}, true,
			[]string{"may not read and write " + fences + "reconciler/", "readwrite " + fences}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			leastPrivilegeEtcd(t, e, tt.prefixes...)
			db, _ := e.open(func(_ *mysql.Config, cfg *Config) {
				if tt.antiEntropy {
					cfg.ReconcileEvery = time.Minute
				}
			})
			wantErr(t, db.Ping(), ErrEtcdAccess, append(tt.want, `etcd user "app"`, "permission denied")...)
		})
	}
	t.Run("read-only on the fence prefix", func(t *testing.T) {
		root := leastPrivilegeEtcd(t, e, e.prefix+"/users/", e.prefix+"/by-name/")
		if _, err := root.RoleGrantPermission(t.Context(), "app-role", fences, clientv3.GetPrefixRangeEnd(fences), clientv3.PermissionType(clientv3.PermRead)); err != nil {
			t.Fatal(err)
		}
		db, _ := e.open(nil)
		wantErr(t, db.Ping(), ErrEtcdAccess, "may not read and write "+fences, "readwrite "+fences)
	})
}

func wantErr(t *testing.T, err, is error, says ...string) {
	t.Helper()
	if !errors.Is(err, is) {
		t.Fatalf("error %v, want %v", err, is)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

// MariaDB hides check constraints, and so the json_valid check that makes
// a LONGTEXT column JSON, from a user with table grants only: the driver
// must still embed the column's JSON, as it does for a privileged user.
func TestLeastPrivilegeKeepsJSONColumnsEmbedded(t *testing.T) {
	e := newEnv(t, `CREATE TABLE docs (id INT NOT NULL PRIMARY KEY, doc JSON NULL, note LONGTEXT NULL) ENGINE=InnoDB`,
		Mapping{Table: "docs", Key: "{p}/docs/{id}"})
	db, _ := e.open(dbUser(t, e, "GRANT SELECT, INSERT ON {db}.docs"))
	mustExec(t, db, `INSERT INTO docs VALUES (1, '{"a": [1, 2]}', '{"not": "json"}')`)
	e.flush()
	resp, err := e.etcd.Get(t.Context(), e.prefix+"/docs/1")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get: %v, %v", resp, err)
	}
	if got, want := string(resp.Kvs[0].Value), `{"id":1,"doc":{"a":[1,2]},"note":"{\"not\": \"json\"}"}`; got != want {
		t.Errorf("value %s, want %s", got, want)
	}
}
