package testenv

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
)

// templateMarker is written into a template datadir as its last step; a
// directory without it (say, half removed by a /tmp cleaner) is rebuilt.
const templateMarker = "testenv-template-complete"

// templateFormat names how the template is laid out; changing it retires the
// templates built by older code.
const templateFormat = "sparse-v1"

// templateSetupSQL runs on the template's one boot, as root@localhost over
// the socket. root@'%' admits every client address, so a DSN works whether
// the server sees the client as 127.0.0.1 or some other loopback address.
var templateSetupSQL = []string{
	"CREATE USER IF NOT EXISTS 'root'@'%'",
	"GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION",
}

// hostAccountsSQL lists the accounts that mariadb-install-db creates for the
// machine's host name; --skip-name-resolve ignores them and logs a warning at
// every start, so the template drops them.
const hostAccountsSQL = "SELECT User, Host FROM mysql.user WHERE Host NOT IN ('localhost', '127.0.0.1', '::1', '%')"

// mariadbTemplate returns a datadir initialised by mariadb-install-db, built
// once per machine and mariadbd version under os.TempDir() and reused by
// every later server, which only has to copy it.
func mariadbTemplate(ctx context.Context, b mariadbBinaries) (string, error) {
	base := filepath.Join(os.TempDir(), "mysqletcd-testenv")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("create template cache dir: %w", err)
	}
	dir := filepath.Join(base, "mariadb-"+safeName(b.shortVersion())+"-"+templateKey(b))
	if templateComplete(dir) {
		return dir, nil
	}

	// The lock keeps parallel test binaries from all running the slow
	// install; the rename below keeps a reader from ever seeing half a
	// template even where there is no lock.
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if templateComplete(dir) {
		return dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("remove incomplete template: %w", err)
	}
	// Build dirs left by a process that died while holding the lock.
	buildPrefix := "." + filepath.Base(dir) + ".build-"
	if stale, err := filepath.Glob(filepath.Join(base, buildPrefix+"*")); err == nil {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}

	work, err := os.MkdirTemp(base, buildPrefix)
	if err != nil {
		return "", fmt.Errorf("create template build dir: %w", err)
	}
	defer os.RemoveAll(work)
	dataDir := filepath.Join(work, "data")
	if err := installMariaDB(ctx, b, work, dataDir); err != nil {
		return "", err
	}
	if err := setupTemplate(ctx, b, work, dataDir); err != nil {
		return "", err
	}
	// The sparse copy is what every server copies from; holes in it are
	// read without touching the disk.
	sparse := filepath.Join(work, "template")
	if err := copyTree(dataDir, sparse); err != nil {
		return "", fmt.Errorf("copy template: %w", err)
	}
	if err := os.WriteFile(filepath.Join(sparse, templateMarker), []byte(b.version+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("mark template complete: %w", err)
	}
	if err := os.Rename(sparse, dir); err != nil {
		return "", fmt.Errorf("publish template: %w", err)
	}
	return dir, nil
}

// installArgs are the mariadb-install-db flags; every flag it does not know
// is handed to the bootstrap mariadbd.
func installArgs(b mariadbBinaries, dataDir string) []string {
	args := []string{
		"--no-defaults",
		"--auth-root-authentication-method=normal", // root without a password
		"--skip-test-db",
		"--skip-name-resolve", // no DNS lookup of the host name during install
		"--datadir=" + dataDir,
		"--skip-log-bin",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	return append(args, innodbArgs...)
}

// templateKey changes whenever anything that shapes the template does, so
// an upgrade of MariaDB or of this file gets a new template.
func templateKey(b mariadbBinaries) string {
	h := sha256.New()
	fmt.Fprintln(h, b.server, b.installDB, b.version)
	fmt.Fprintln(h, strings.Join(installArgs(b, ""), " "))
	fmt.Fprintln(h, strings.Join(templateSetupSQL, ";"), hostAccountsSQL, templateFormat)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func templateComplete(dir string) bool {
	for _, name := range []string{templateMarker, "ibdata1", "ib_logfile0", "mysql"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

func installMariaDB(ctx context.Context, b mariadbBinaries, work, dataDir string) error {
	cmd := exec.CommandContext(ctx, b.installDB, installArgs(b, dataDir)...)
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %w\n%s", err, out)
	}
	return nil
}

// setupTemplate boots the fresh datadir once, without TCP, to adjust the
// accounts, then shuts it down cleanly so copies start without recovery.
func setupTemplate(ctx context.Context, b mariadbBinaries, work, dataDir string) error {
	sock, cleanup, err := socketPath(work)
	if err != nil {
		return err
	}
	defer cleanup()
	l := mariadbLayout{runDir: work, dataDir: dataDir, socket: sock}
	probe := mysql.NewConfig()
	probe.User, probe.Net, probe.Addr = "root", "unix", sock
	c, err := launchMariaDB(ctx, b.server, l, mariadbArgs(l, 0, mariadbConfig{}), probe)
	if err != nil {
		return fmt.Errorf("boot template: %w", err)
	}
	err = runTemplateSetup(ctx, probe)
	if stopErr := c.stop(syscall.SIGTERM, mariadbStopGrace); stopErr != nil && err == nil {
		err = stopErr
	}
	if err == nil && c.err != nil {
		err = fmt.Errorf("template mariadbd exited with %w\n%s", c.err, logTail(l.errorLog(), 0))
	}
	return err
}

func runTemplateSetup(ctx context.Context, cfg *mysql.Config) error {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("template connector: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	stmts := append([]string(nil), templateSetupSQL...)
	rows, err := db.QueryContext(ctx, hostAccountsSQL)
	if err != nil {
		return fmt.Errorf("list host-name accounts: %w", err)
	}
	for rows.Next() {
		var user, host string
		if err := rows.Scan(&user, &host); err != nil {
			rows.Close()
			return fmt.Errorf("list host-name accounts: %w", err)
		}
		stmts = append(stmts, "DROP USER "+quoteString(user)+"@"+quoteString(host))
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("list host-name accounts: %w", err)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("template setup %q: %w", s, err)
		}
	}
	return nil
}

// copyTemplate fills dst, which must not exist, with a copy of the template.
func copyTemplate(tpl, dst string) error {
	if err := copyTree(tpl, dst); err != nil {
		return fmt.Errorf("copy mariadb template: %w", err)
	}
	if err := os.Remove(filepath.Join(dst, templateMarker)); err != nil {
		return fmt.Errorf("copy mariadb template: %w", err)
	}
	return nil
}

// socketPath returns dir/mysqld.sock, or a socket in a fresh short directory
// under /tmp when that path is too long for a Unix socket (108 bytes on
// Linux, which a long TMPDIR can exceed). cleanup removes that directory.
func socketPath(dir string) (path string, cleanup func(), err error) {
	path = filepath.Join(dir, "mysqld.sock")
	if len(path) < 100 {
		return path, func() {}, nil
	}
	short, err := os.MkdirTemp("/tmp", "mdb")
	if err != nil {
		return "", nil, fmt.Errorf("create socket dir: %w", err)
	}
	return filepath.Join(short, "mysqld.sock"), func() { os.RemoveAll(short) }, nil
}
