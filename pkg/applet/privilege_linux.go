package applet

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Caps is a set of capabilities: bit n is capability n
// (linux/capability.h).
type Caps uint64

// The capabilities the Privileged applets keep.
const (
	CapSetgid   Caps = 1 << 6
	CapSetuid   Caps = 1 << 7
	CapNetAdmin Caps = 1 << 12
	CapSysAdmin Caps = 1 << 21
	CapSetfcap  Caps = 1 << 31
)

// CapError is a failed step of DropToCaller or SetCaps: Op is "prctl",
// "setresgid", "setresuid", or "" for capset.
type CapError struct {
	Op  string
	Err error
}

func (e *CapError) Error() string {
	if e.Op == "" {
		return Strerror(e.Err)
	}
	return e.Op + ": " + Strerror(e.Err)
}

func (e *CapError) Unwrap() error { return e.Err }

// ErrCgoFileCaps: a cgo build installed with file capabilities cannot cut
// them on its other threads.
var ErrCgoFileCaps error = &Exit{Code: 1, Msg: "refusing to run with file capabilities: this build uses cgo and cannot drop them on every thread; install the CGO_ENABLED=0 build (make install-setcap)"}

// DropToCaller is the first step of a Privileged applet that acts for its
// caller: every id becomes the caller's (uid, gid: the real ones) on
// every thread, and only the calling thread, which must be locked
// (runtime.LockOSThread), keeps perm in its permitted set, with nothing
// effective. The Go runtime's other threads keep nothing; a thread it
// makes later is cloned from one of them (a locked thread never clones:
// the runtime asks its template thread).
//
// Set-user-ID root: PR_SET_KEEPCAPS on this thread (it is per thread),
// then setresgid and setresuid, which package syscall applies to every
// thread, so that the others lose every capability; then this thread's
// sets are cut to perm. Installed with file capabilities (the ids are the
// caller's already), nothing changes ids; the permitted set of every
// thread is cut to perm in one all-threads capset, which only a build
// without cgo can do (Go's AllThreadsSyscall): the cgo build returns
// ErrCgoFileCaps rather than leave the capabilities on its other threads.
func DropToCaller(uid, gid int, perm Caps) error {
	if os.Geteuid() == uid && os.Getegid() == gid {
		return CutAllThreads(perm)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return &CapError{Op: "prctl", Err: err}
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return &CapError{Op: "setresgid", Err: err}
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return &CapError{Op: "setresuid", Err: err}
	}
	return SetCaps(perm, 0)
}

// CutAllThreads sets the permitted set of every thread to perm, with
// nothing effective, in one all-threads capset: for a process installed
// with file capabilities, whose threads all hold the same sets (a
// set-user-ID process after DropToCaller holds them on one thread only,
// and capset would fail on the others: use SetCaps). The cgo build
// cannot (ErrCgoFileCaps).
func CutAllThreads(perm Caps) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := capData(perm, 0)
	_, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	if e == syscall.ENOTSUP {
		return ErrCgoFileCaps
	}
	if e != 0 {
		return &CapError{Err: e}
	}
	return nil
}

// SetCaps sets the calling thread's permitted set to perm and its
// effective set to eff (which must lie in perm). A capability left out
// of perm cannot come back.
func SetCaps(perm, eff Caps) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := capData(perm, eff)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return &CapError{Err: err}
	}
	return nil
}

func capData(perm, eff Caps) [2]unix.CapUserData {
	return [2]unix.CapUserData{
		{Permitted: uint32(perm), Effective: uint32(eff)},
		{Permitted: uint32(perm >> 32), Effective: uint32(eff >> 32)},
	}
}
