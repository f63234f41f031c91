package applet

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sigaction is the kernel's struct sigaction for rt_sigaction(2) on Linux.
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// reraise makes this process die of sig, as util-linux does when the
// program it waited for was killed: the Go runtime's handler is replaced
// by the default action, the signal is unblocked and sent to this thread.
// It returns only if sig's default action does not kill (Run then exits
// 128+sig).
func reraise(sig int) {
	if sig <= 0 || sig >= 65 {
		return
	}
	if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
		unix.Kill(unix.Getpid(), unix.Signal(sig))
		return
	}
	act := sigaction{handler: 0} // SIG_DFL
	syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	var set uint64 = 1 << (uint(sig) - 1)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), unix.Signal(sig))
}
