package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOwnedDirSweep(t *testing.T) {
	const prefix = "mysqletcd-sweeptest-"
	live, err := newOwnedDir(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer live.remove()

	// An abandoned directory: its owner file exists but nobody holds it.
	dead, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dead)
	if err := os.WriteFile(filepath.Join(dead, ownerFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory between creation and locking must survive.
	young, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(young)

	next, err := newOwnedDir(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.remove(); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]bool{live.path: true, dead: false, young: true, next.path: false} {
		_, err := os.Stat(dir)
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", dir, got, want)
		}
	}
}
