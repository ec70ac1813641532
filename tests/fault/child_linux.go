package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the server if this tool dies without
// running its cleanup (SIGKILL, crash).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
