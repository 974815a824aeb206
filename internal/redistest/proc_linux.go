package redistest

import "syscall"

// sysProcAttr makes the kernel kill the server when the test binary dies
// without running its cleanups (a panic, -timeout), so that no server
// outlives its test. Pdeathsig fires when the thread that started the
// child exits, not the process (golang/go#27505); Go only ends threads
// that a goroutine left locked with runtime.LockOSThread, which the
// tests that start servers do not do.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
