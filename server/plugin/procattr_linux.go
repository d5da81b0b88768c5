package main

import "syscall"

// childAttr puts the child in its own process group (so Stop reaches everything it started) and has
// the kernel send it SIGTERM if the plugin process dies without stopping it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
