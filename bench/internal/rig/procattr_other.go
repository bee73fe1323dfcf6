//go:build !linux

package rig

import "syscall"

// childAttr: without Pdeathsig, a killed parent leaves the child to notice
// its closed stdin.
func childAttr() *syscall.SysProcAttr { return nil }
