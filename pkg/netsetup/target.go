package netsetup

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsfs"
)

// NetnsDir is where named network namespaces live (iproute2's
// NETNS_RUN_DIR); a target that is a bare name is looked up there.
var NetnsDir = "/run/netns"

// Target is an open network namespace that is not the caller's own.
type Target struct {
	f    *nsfs.File
	Name string // how the user named it: "PID 123", a path
	// inside, when OpenInside made it, is the netlink handle in the
	// namespace that every step inside uses, instead of one opened then.
	inside *handle
	// unfinished: NewNetns made the namespace and marked it, and no
	// set-up of it has finished yet (see newMark).
	unfinished bool
}

// Fd is the namespace's open file descriptor.
func (t *Target) Fd() int { return t.f.Fd() }

// Ino is the namespace's inode number, its identity.
func (t *Target) Ino() uint64 { return t.f.Ino() }

// Close closes the namespace file (and the handle of OpenInside).
func (t *Target) Close() error {
	if t == nil {
		return nil
	}
	if t.inside != nil {
		t.inside.Close()
		t.inside = nil
	}
	return t.f.Close()
}

// OpenInside opens, now, the netlink handle inside the namespace that
// the set-up or tear-down of t will use. Joining the namespace to open it
// (setns) needs CAP_SYS_ADMIN in the caller's user namespace and in the
// target's, where no netlink message needs it: a privileged caller opens
// the handle first, then drops CAP_SYS_ADMIN, then sends its messages.
func (t *Target) OpenInside() error {
	if t.inside != nil {
		return nil
	}
	h, err := t.open()
	if err != nil {
		return err
	}
	t.inside = h
	return nil
}

// IsPID reports whether spec names a process: a decimal number.
func IsPID(spec string) bool {
	if spec == "" {
		return false
	}
	for _, c := range spec {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// TargetPath is the file a target spec names: /proc/PID/ns/net for a PID,
// the path itself when it holds a '/', else NetnsDir/NAME.
func TargetPath(spec string) string {
	switch {
	case IsPID(spec):
		return "/proc/" + spec + "/ns/net"
	case strings.ContainsRune(spec, '/'):
		return spec
	}
	return filepath.Join(NetnsDir, spec)
}

// OpenTarget opens the network namespace spec names (see TargetPath) and
// checks that it is one, and not the caller's own.
func OpenTarget(spec string) (*Target, error) {
	if spec == "" || spec == "." || spec == ".." {
		return nil, &Error{Op: fmt.Sprintf("'%s'", spec), Err: Text("not a PID, network namespace file or /run/netns name")}
	}
	if IsPID(spec) {
		if n, err := strconv.ParseInt(spec, 10, 32); err != nil || n <= 0 {
			return nil, &Error{Op: "PID " + spec, Err: Text("not a valid PID")}
		}
	}
	path := TargetPath(spec)
	f, err := nsfs.Open(path, 0)
	if err != nil {
		if errors.Is(err, nsfs.ErrNotNamespace) {
			return nil, &Error{Op: path, Err: ErrNotNetns}
		}
		if IsPID(spec) && errors.Is(err, unix.ENOENT) {
			err = unix.ESRCH
		}
		return nil, &Error{Op: "cannot open " + path, Err: err}
	}
	return NewTarget(f, path)
}

// NewTarget takes over f (closed on error), opened as name, after checking
// that it is a network namespace and not the caller's own.
func NewTarget(f *nsfs.File, name string) (*Target, error) {
	if t, err := f.Type(); err != nil || t != ns.Net {
		f.Close()
		return nil, &Error{Op: name, Err: ErrNotNetns}
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err == nil && st.Ino == f.Ino() {
		f.Close()
		return nil, &Error{Op: name, Err: ErrOwnNetns}
	}
	return &Target{f: f, Name: name}, nil
}

// Text is an error with a constant text (a string type: no package init
// work, which every applet of the multi-call binary would pay).
type Text string

func (e Text) Error() string { return string(e) }

// Errors of the target checks.
const (
	ErrNotNetns Text = "not a network namespace"
	ErrOwnNetns Text = "is mkbridge's own network namespace (the host side), not a container's"
)

// Error is a failure with the step or object it concerns.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// handle returns the netlink handle inside t: the one of OpenInside, or
// one opened now; done releases it (closes the one opened now).
func (t *Target) handle() (h *handle, done func(), err error) {
	if t.inside != nil {
		return t.inside, func() {}, nil
	}
	if h, err = t.open(); err != nil {
		return nil, nil, err
	}
	return h, func() { h.Close() }, nil
}

// open opens a netlink handle in t's network namespace, as
// netlink.NewHandleAt does (a socket made by a thread that has joined the
// namespace, which then returns), but reports a refused setns as the
// "netlink in PATH: strerror" the applet prints: NewHandleAt's own message
// names a descriptor number and hides the errno.
func (t *Target) open() (*handle, error) {
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, &Error{Op: "netlink in " + t.Name, Err: err}
	}
	defer unix.Close(orig)
	if err := unix.Setns(t.Fd(), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, &Error{Op: "netlink in " + t.Name, Err: err}
	}
	h, err := newHandle()
	if e := unix.Setns(orig, unix.CLONE_NEWNET); e != nil {
		// The thread stays where it is: it cannot be given back to the
		// runtime in another namespace. Cannot happen (it came from there).
		panic("netsetup: cannot return to the caller's network namespace: " + e.Error())
	}
	runtime.UnlockOSThread()
	if err != nil {
		return nil, &Error{Op: "netlink in " + t.Name, Err: err}
	}
	return h, nil
}
