package harness

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill a child process (a server, a helper)
// if the tool that started it dies without running its cleanup (SIGKILL, crash).
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
