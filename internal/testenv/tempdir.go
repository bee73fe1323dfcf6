package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ownerFile is the file in an ownedDir that its owner keeps locked.
const ownerFile = ".owner.lock"

// ownedDir is a temporary directory that its process holds a lock in for as
// long as it uses it. The kernel drops the lock when the process dies, even
// by SIGKILL or a `go test -timeout` panic, so the next process to create an
// ownedDir with the same prefix can tell an abandoned directory from a live
// one and remove it.
type ownedDir struct {
	path   string
	unlock func()
}

// newOwnedDir removes abandoned directories named prefix* in os.TempDir(),
// then creates and locks a new one.
func newOwnedDir(prefix string) (*ownedDir, error) {
	sweepOwnedDirs(prefix)
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	// Lock the file under another name and only then give it its name: a
	// sweeper that finds ownerFile always finds it locked. (Created under
	// its own name, a sweeper could lock it in the moment between its
	// creation and its lock, and remove the new directory.)
	pending := filepath.Join(dir, ownerFile+".new")
	unlock, ok, err := tryLockFile(pending)
	if err == nil && !ok {
		err = errors.New("locked by another process")
	}
	if err == nil {
		if err = os.Rename(pending, filepath.Join(dir, ownerFile)); err != nil {
			unlock()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lock temp dir %s: %w", dir, err)
	}
	return &ownedDir{path: dir, unlock: unlock}, nil
}

// remove deletes the directory and gives up the lock.
func (d *ownedDir) remove() error {
	err := os.RemoveAll(d.path)
	d.unlock()
	if err != nil {
		return fmt.Errorf("remove %s: %w", d.path, err)
	}
	return nil
}

// sweepOwnedDirs removes the directories named prefix* in os.TempDir() whose
// owner is gone. Errors are ignored: sweeping only saves disk space.
func sweepOwnedDirs(prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, dir := range dirs {
		lock := filepath.Join(dir, ownerFile)
		if _, err := os.Stat(lock); err != nil {
			// Either created a moment ago and not locked yet, or not made by
			// newOwnedDir at all: only remove it once it is clearly stale.
			if st, err := os.Stat(dir); err != nil || !st.IsDir() || time.Since(st.ModTime()) < time.Hour {
				continue
			}
			os.RemoveAll(dir)
			continue
		}
		unlock, ok, err := tryLockFile(lock)
		if err != nil || !ok {
			continue
		}
		os.RemoveAll(dir)
		unlock()
	}
}
