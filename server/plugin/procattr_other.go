//go:build !linux

package main

import "syscall"

// childAttr: the plugin ships for Linux only; elsewhere (go test on a laptop) a process group is enough.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
