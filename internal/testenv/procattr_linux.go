package testenv

import "syscall"

// childSysProcAttr makes the kernel SIGKILL the child when the thread that
// started it dies, so a test binary that crashes or is killed by `go test
// -timeout` leaves no server behind.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
