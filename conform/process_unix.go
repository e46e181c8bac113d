//go:build unix

package conform

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the adapter in a group of its own, so a kill
// reaches what sh -c started too.
func setProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
