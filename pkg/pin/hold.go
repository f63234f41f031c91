package pin

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/reexec"
)

// Held handles (Batch.Hold) keep namespaces alive without a mount, for
// callers that cannot mount in their mount namespace (an unprivileged user
// pinning a rootless container): a holder process keeps the namespace files
// open, and DIR/<type> is a symbolic link to /proc/HOLDER/fd/N, which
// open(2), nsenter --TYPE=DIR/<type> and nsbox nsenter --dir DIR follow to
// the namespace (the kernel lets the holder's user open its descriptors).
// The marker records the holder's PID and start time, so that UnpinDir
// stops that process and no other. The holder is this binary re-executed
// into the "hold" stage: the C constructor (a few pages of memory) or, in a
// build without it, Hold. Every main finds it through pkg/reexec, so a
// standalone pin built without cgo holds too.

// StageHold is the internal stage of a holder process.
const StageHold = "hold"

func init() { reexec.Register(StageHold, Hold) }

// Hold is the holder's stage: it waits for its maker to say, with a byte
// on stdin, that it has recorded the holder in the marker, then keeps the
// descriptors it inherited open until it is killed. End of file first
// means the maker died before: it exits, leaving nothing unrecorded.
func Hold() int {
	var b [1]byte
	n, err := unix.Read(0, b[:])
	for err == unix.EINTR {
		n, err = unix.Read(0, b[:])
	}
	if n != 1 || unix.Dup3(1, 0, 0) != nil {
		return 1
	}
	for {
		unix.Pause()
	}
}

// holder identifies a holder process: its PID and start time (clock ticks
// after boot, /proc/PID/stat field 22), which a recycled PID does not have.
type holder struct {
	PID   int
	Start uint64
}

// startTime reads the start time of pid; ok is false when there is no such
// process.
func startTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, false
	}
	st, err := strconv.ParseUint(f[19], 10, 64) // field 22 of the whole line
	return st, err == nil
}

// alive reports whether h is still the process it was.
func (h holder) alive() bool {
	st, ok := startTime(h.PID)
	return ok && st == h.Start
}

// hold makes the handle: the directory (created if missing; it must not be
// a handle already), the holder process with the opened namespace files,
// the marker naming it, a link per namespace; then it tells the holder it
// is recorded. Until then the holder dies with its maker (see Hold), so
// that a kill never leaves a holder that no marker names.
func (b *Batch) hold(res *Result, u *undo, srcs []source) error {
	for _, s := range srcs {
		if s.netns || s.path != "" {
			return &Error{Op: "cannot hold " + s.t.String(), Err: unix.EINVAL, Hint: "a held pin lives in a <dir> handle only"}
		}
	}
	dir := b.Dir
	fd, created, err := makeDir(dir)
	if err != nil {
		return err
	}
	u.closeAfter(fd)
	if created {
		res.Created = dir
		u.push(func() { removeMade(dir) })
	} else if _, had, err := readMarkerAt(fd); err != nil || had || len(pinsAt(fd)) > 0 {
		if err != nil {
			return fail(err, "cannot read %s", filepath.Join(dir, MarkerName))
		}
		return &Error{Op: dir, Err: ErrAlreadyPin, Hint: "it is a pin directory already; release it first (pin -d)"}
	}
	for _, s := range srcs {
		var st unix.Stat_t
		if unix.Fstatat(fd, s.t.String(), &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return fail(unix.EEXIST, "cannot create %s", filepath.Join(dir, s.t.String()))
		}
	}

	h, recorded, err := startHolder(srcs)
	if err != nil {
		return err
	}
	u.closeAfter(recorded)
	u.push(func() {
		unix.Kill(h.PID, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(h.PID, &ws, 0, nil)
	})
	if err := writeMarkerAt(fd, marker{Created: created, Holder: h}); err != nil {
		return fail(err, "cannot write %s", filepath.Join(dir, MarkerName))
	}
	if !created { // else removeMade removes it
		u.push(func() { unix.Unlinkat(fd, MarkerName, 0) })
	}
	for i, s := range srcs {
		target := fmt.Sprintf("/proc/%d/fd/%d", h.PID, 3+i)
		if err := unix.Symlinkat(target, fd, s.t.String()); err != nil {
			return fail(err, "cannot create %s", filepath.Join(dir, s.t.String()))
		}
		name := s.t.String()
		u.push(func() { unix.Unlinkat(fd, name, 0) })
		res.Pins = append(res.Pins, Pinned{Type: s.t, Ino: s.ino, Path: filepath.Join(dir, name)})
	}
	if _, err := unix.Write(recorded, []byte{'\n'}); err != nil {
		return fail(unix.ESRCH, "the holder process %d went away", h.PID)
	}
	res.Holder = h.PID
	return nil
}

// startHolder starts the holder with the namespace files as descriptors
// 3, 4, ...: in a session of its own, in "/", with /dev/null for stdout
// and stderr and, for stdin, a pipe whose other end it returns: the
// holder stays once a byte comes through, and exits at end of file.
func startHolder(srcs []source) (h holder, recorded int, err error) {
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		return holder{}, -1, fail(err, "cannot open /dev/null")
	}
	defer null.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return holder{}, -1, fail(err, "cannot start the holder process")
	}
	defer unix.Close(p[0])
	files := []uintptr{uintptr(p[0]), null.Fd(), null.Fd()}
	for _, s := range srcs {
		files = append(files, uintptr(s.fd))
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, nsexec.EnvPrefix) {
			env = append(env, e)
		}
	}
	env = append(env, nsexec.EnvStage+"="+StageHold, nsexec.EnvPrefix+"NAME=pin")
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"pin"}, &syscall.ProcAttr{
		Dir: "/", Env: env, Files: files, Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		unix.Close(p[1])
		return holder{}, -1, fail(err, "cannot start the holder process")
	}
	st, ok := startTime(pid)
	if !ok {
		unix.Close(p[1])
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil)
		return holder{}, -1, fail(unix.ESRCH, "the holder process %d went away", pid)
	}
	return holder{PID: pid, Start: st}, p[1], nil
}

// releaseHolder stops the holder of a handle (when it is still that
// process) and removes the links to its descriptors.
func releaseHolder(dirfd int, dir string, h holder) error {
	if h.alive() {
		if err := unix.Kill(h.PID, unix.SIGKILL); err != nil && err != unix.ESRCH {
			return fail(err, "cannot stop the holder process %d", h.PID)
		}
	}
	prefix := fmt.Sprintf("/proc/%d/fd/", h.PID)
	for _, n := range Names() {
		buf := make([]byte, 64)
		k, err := unix.Readlinkat(dirfd, n, buf)
		if err != nil || !strings.HasPrefix(string(buf[:k]), prefix) {
			continue
		}
		if err := unix.Unlinkat(dirfd, n, 0); err != nil && err != unix.ENOENT {
			return fail(err, "cannot remove %s", filepath.Join(dir, n))
		}
	}
	return nil
}
