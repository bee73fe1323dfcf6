package mysqletcd

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.etcd.io/etcd/server/v3/embed"
	"golang.org/x/crypto/bcrypt"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func secret(t *testing.T, kind string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return kind + "-secret-" + hex.EncodeToString(b)
}

// TestPasswordsAppearInNoLogErrorOrPrintout opens the driver with a DSN
// password and an etcd password that are distinctive strings, in every way
// that fails or logs (wrong port, wrong password, malformed DSNs, etcd
// unreachable, etcd refusing the credentials), and looks for them in every
// log record, everything written to stderr, every error and every printed
// config and Stats.
func TestPasswordsAppearInNoLogErrorOrPrintout(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	dbSecret, etcdSecret := secret(t, "dsn"), secret(t, "etcd")
	var logs syncBuffer
	textLog := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	jsonLog := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stderr := captureStderr(t)

	var mu sync.Mutex
	var texts []string // error texts and printouts
	add := func(text string) {
		mu.Lock()
		texts = append(texts, text)
		mu.Unlock()
	}
	note := func(what string, err error) {
		if err != nil {
			add(what + ": " + err.Error())
		}
	}
	cfg := e.cfg
	cfg.Logger = textLog
	cfg.OnError = func(err error) { note("OnError", err) }
	cfg.Etcd.Username, cfg.Etcd.Password = "root", etcdSecret
	cfg.Etcd.DialTimeout, cfg.Etcd.RequestTimeout = 300*time.Millisecond, 100*time.Millisecond
	cfg.DrainTimeout = 200 * time.Millisecond
	unreachable := cfg
	unreachable.Etcd.Endpoints = []string{"127.0.0.1:1"} // nothing listens there
	noAuth := cfg
	noAuth.Etcd.Endpoints = testenv.EtcdEndpoints(t) // auth is off: it ignores the credentials
	withAuth, refused, authEtcd := cfg, cfg, startEtcdWithAuth(t, etcdSecret)
	withAuth.Etcd.Endpoints = authEtcd.Endpoints()
	refused.Etcd.Endpoints, refused.Etcd.Username = authEtcd.Endpoints(), "app" // app's password is another
	withAuth.Etcd.DialTimeout, refused.Etcd.DialTimeout = 5*time.Second, 5*time.Second

	mc, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	wrongPort, wrongPassword := mc.Clone(), mc.Clone()
	wrongPort.Passwd, wrongPort.Addr = dbSecret, "127.0.0.1:1"
	wrongPassword.Passwd = dbSecret
	use := func(what, driverName, dsn string) {
		db, err := sql.Open(driverName, dsn)
		note(what+": open", err)
		if err != nil {
			return
		}
		note(what+": ping", db.Ping())
		_, err = db.Exec("INSERT INTO users (name) VALUES (?)", "u"+hex.EncodeToString([]byte(what))[:20])
		note(what+": exec", err)
		if c, ok := ConnectorOf(db); ok {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			note(what+": flush", c.Flush(ctx))
			cancel()
			add(fmt.Sprintf("%s: stats %+v", what, c.Stats()))
		}
		note(what+": close", db.Close())
	}
	for i, c := range []Config{unreachable, noAuth, withAuth, refused} {
		name := fmt.Sprintf("mysqletcd-secrets-%d%s", i, strings.ReplaceAll(e.prefix, "/", "-"))
		if err := Register(name, c); err != nil {
			t.Fatal(err)
		}
		use(name+" wrong port", name, wrongPort.FormatDSN())
		use(name+" wrong password", name, wrongPassword.FormatDSN())
		use(name+" right DSN", name, e.dsn)
		for _, dsn := range []string{
			"root:" + dbSecret + "@tcp(127.0.0.1:1/x",
			"root:" + dbSecret + "@tcp(127.0.0.1:1)x",
			"root:" + dbSecret + "@tcp(127.0.0.1:1)/x?parseTime=maybe",
			"root:" + dbSecret + "@tcp(127.0.0.1:1)/x?mysqletcd-nope=1",
			"root:" + dbSecret + "@tcp(127.0.0.1:1)/x?" + DSNConfigParam + "=%zz",
		} {
			use(name+" malformed", name, dsn)
			_, _, err := ParseDSN(dsn)
			note("ParseDSN", err)
		}
	}
	_, err = NewEtcdClient(unreachable.Etcd)
	note("NewEtcdClient", err)
	_, err = NewEtcdClient(refused.Etcd)
	note("NewEtcdClient", err)

	// Pushes that fail while etcd is down log sync errors.
	withAuth.Logger = textLog
	db, c := e.open(func(_ *mysql.Config, cfg *Config) { *cfg = withAuth })
	mustExec(t, db, "INSERT INTO users (name) VALUES ('before')")
	e.flush()
	if err := authEtcd.StopMember(0); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO users (name) VALUES ('during')")
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Errors == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	add(fmt.Sprintf("stats %+v", c.Stats()))
	note("close while etcd is down", db.Close())

	add(fmt.Sprintf("%v|%+v|%#v|%v|%#v|%s", cfg, cfg, cfg, cfg.Etcd, cfg.Etcd, cfg.Etcd))
	textLog.Info("config", "config", cfg, "etcd", cfg.Etcd)
	jsonLog.Info("config", "config", cfg, "etcd", cfg.Etcd)

	mu.Lock()
	printed := strings.Join(texts, "\n")
	mu.Unlock()
	all := map[string]string{"log records": logs.String(), "stderr": stderr(), "errors and printouts": printed}
	for where, text := range all {
		for _, s := range []string{dbSecret, etcdSecret} {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("a password appears in the %s: ...%s...", where, text[max(0, i-200):min(len(text), i+len(s)+50)])
			}
		}
	}
	// The test looked where secrets would be: failures were logged and returned.
	for _, want := range []string{"sync error", "Access denied", "connection refused", "authentication failed", redacted} {
		if !strings.Contains(all["log records"]+all["errors and printouts"], want) {
			t.Errorf("nothing says %q: the test did not exercise that path\n%s", want, all["errors and printouts"])
		}
	}
}

// startEtcdWithAuth starts a private etcd with auth on: user root has
// password rootPassword, user app another one.
func startEtcdWithAuth(t *testing.T, rootPassword string) *testenv.Etcd {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	etcd, err := testenv.StartEtcd(ctx, 1, func(c *embed.Config) { c.BcryptCost = uint(bcrypt.MinCost) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { etcd.Close() })
	cli := etcd.Client(t)
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", rootPassword); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "app", "another-password"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return etcd
}

func TestTheMySQLDriversMessagesGoToTheLogger(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	var logs syncBuffer
	cfg := e.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	name := "mysqletcd-mysqllog" + strings.ReplaceAll(e.prefix, "/", "-")
	if err := Register(name, cfg); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(name, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var id int64
	if err := db.QueryRow("SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	e.exec("KILL ?", id) // the idle connection breaks: mysql logs it when it next checks it
	time.Sleep(50 * time.Millisecond)
	mustExec(t, db, "INSERT INTO users (name) VALUES ('ann')")
	if got := logs.String(); !strings.Contains(got, "mysql driver") || !strings.Contains(got, "level=ERROR") {
		t.Fatalf("the mysql driver's message did not reach Config.Logger; logged:\n%s", got)
	}
}
