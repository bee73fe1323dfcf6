package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// mariadbBinaries are the MariaDB programs found on this machine.
type mariadbBinaries struct {
	server    string // mariadbd
	installDB string // mariadb-install-db
	version   string // full output of `mariadbd --version`
}

var (
	binariesOnce sync.Once
	binaries     mariadbBinaries
	binariesErr  error
)

// findMariaDB locates mariadbd and mariadb-install-db once per process.
// mariadbd lives in /usr/sbin, which is often missing from PATH for non-login
// shells and CI runners, hence the fixed fallbacks.
func findMariaDB() (mariadbBinaries, error) {
	binariesOnce.Do(func() {
		var b mariadbBinaries
		b.server, binariesErr = lookProgram("mariadbd", "/usr/sbin/mariadbd", "/usr/libexec/mariadbd", "/usr/local/mysql/bin/mariadbd")
		if binariesErr != nil {
			return
		}
		b.installDB, binariesErr = lookProgram("mariadb-install-db", "/usr/bin/mariadb-install-db", "/usr/local/mysql/scripts/mariadb-install-db")
		if binariesErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, b.server, "--version").CombinedOutput()
		if err != nil {
			binariesErr = fmt.Errorf("run %s --version: %w: %s", b.server, err, out)
			return
		}
		b.version = strings.TrimSpace(string(out))
		binaries = b
	})
	return binaries, binariesErr
}

// lookProgram returns the first of name (searched in PATH) and fallbacks that
// is an executable file.
func lookProgram(name string, fallbacks ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, p := range fallbacks {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("find %s: not in PATH nor at %s (install the mariadb-server package): %w",
		name, strings.Join(fallbacks, ", "), exec.ErrNotFound)
}

// shortVersion extracts "10.11.19-MariaDB-0+deb12u1" from `mariadbd --version`.
func (b mariadbBinaries) shortVersion() string {
	f := strings.Fields(b.version)
	for i, w := range f {
		if w == "Ver" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return "unknown"
}
