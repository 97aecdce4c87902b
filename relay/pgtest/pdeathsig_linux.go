package pgtest

import "syscall"

// setParentDeathSignal kills the server with the test process that started
// it, so a test binary that crashes leaves no PostgreSQL running.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
