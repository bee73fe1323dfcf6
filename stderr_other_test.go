//go:build !linux

package mysqletcd

import "testing"

// captureStderr is a no-op where the test cannot redirect file descriptor 2.
func captureStderr(*testing.T) func() string { return func() string { return "" } }
