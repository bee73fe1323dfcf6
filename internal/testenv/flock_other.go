//go:build !unix

package testenv

// lockFile is a no-op where flock is missing; the atomic rename of the
// template directory still keeps racing processes from seeing a partial one.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }

// tryLockFile never succeeds where flock is missing, so no directory is ever
// taken for abandoned.
func tryLockFile(string) (unlock func(), ok bool, err error) { return nil, false, nil }
