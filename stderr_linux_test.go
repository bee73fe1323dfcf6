package mysqletcd

import (
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// captureStderr sends what the process writes to file descriptor 2 (from
// any logger, ours or a library's) to a file until the returned function is
// called; that function returns what was written, and writes it on to the
// real stderr too.
func captureStderr(t *testing.T) func() string {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved, err := unix.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup3(int(f.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var out string
	restore := func() string {
		once.Do(func() {
			unix.Dup3(saved, 2, 0)
			unix.Close(saved)
			b, _ := os.ReadFile(f.Name())
			f.Close()
			os.Stderr.Write(b)
			out = string(b)
		})
		return out
	}
	t.Cleanup(func() { restore() })
	return restore
}
