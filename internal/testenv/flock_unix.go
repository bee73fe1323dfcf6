//go:build unix

package testenv

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path, creating the file if
// needed, and blocks until it has it. The kernel drops the lock when the
// process dies, however it dies.
func lockFile(path string) (unlock func(), err error) {
	unlock, _, err = flockFile(path, syscall.LOCK_EX)
	return unlock, err
}

// tryLockFile is lockFile without the wait: ok is false if another open file
// holds the lock.
func tryLockFile(path string) (unlock func(), ok bool, err error) {
	return flockFile(path, syscall.LOCK_EX|syscall.LOCK_NB)
}

func flockFile(path string, how int) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EWOULDBLOCK {
		f.Close()
		return nil, false, nil
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, true, nil
}
