//go:build !linux

package testenv

import "syscall"

// childSysProcAttr has no parent-death signal to offer outside Linux; Close
// and Main are then the only things that stop a child.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
