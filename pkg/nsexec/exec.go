package nsexec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/errtext"
	"github.com/nsbox/nsbox/pkg/execpath"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/initproc"
)

// The main goroutine stays on the main thread: namespaces are per thread,
// timens_offsets belongs to the thread-group leader, and a parent-death
// signal is tied to the thread that forked.
func init() { runtime.LockOSThread() }

// Error is a failed step: Msg names the step, Err says why, Code is the
// exit status the applet should end with.
type Error struct {
	Code int
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func fail(err error, format string, args ...any) error {
	return &Error{Code: 1, Msg: fmt.Sprintf(format, args...), Err: errtext.Errno(err)}
}

// Exec carries out p in this process, on the locked main thread, and execs
// the program (or runs it under the minimal init and returns its status as
// an *Error with the status as Code and no message). It returns only on
// failure.
func (p *Plan) Exec() error {
	if err := p.prepare(); err != nil {
		return err
	}
	var origMnt = -1
	if p.Unshare&unix.CLONE_NEWNS != 0 && len(p.Pins) > 0 {
		fd, err := unix.Open("/proc/self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(err, "cannot open /proc/self/ns/mnt")
		}
		origMnt = fd
		defer unix.Close(fd)
	}
	if err := p.enter(); err != nil {
		return err
	}
	if err := p.syncPoint(origMnt); err != nil {
		return err
	}
	return p.finish()
}

// Enter carries out in this process the steps util-linux's parent takes
// before it forks: unshare, id maps, time offsets, propagation, and the
// host name. The caller then starts the program itself.
func (p *Plan) Enter() error {
	if err := p.enter(); err != nil {
		return err
	}
	if p.SetHostname {
		if err := unix.Sethostname([]byte(p.Hostname)); err != nil {
			return fail(err, "sethostname failed")
		}
		p.SetHostname = false
	}
	return nil
}

// enter: unshare, id maps, then time offsets and propagation.
func (p *Plan) enter() error {
	if p.Unshare != 0 {
		if err := unix.Unshare(int(p.Unshare)); err != nil {
			return fail(err, "unshare failed")
		}
	}
	if p.UIDMap != nil || p.GIDMap != nil || p.Setgroups != "" {
		if err := idmap.Write(0, p.UIDMap, p.GIDMap, p.Setgroups); err != nil {
			return &Error{Code: 1, Err: err}
		}
	}
	return p.nsSetup()
}

// prepare is the child stage's start: the parent-death signal, then the
// wait for the parent (maps written). EOF means the parent gave up.
func (p *Plan) prepare() error {
	if p.Pdeathsig != 0 {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(p.Pdeathsig), 0, 0, 0); err != nil {
			return fail(err, "prctl failed")
		}
	}
	if p.SyncFd >= 0 {
		if !waitByte(p.SyncFd) {
			return &Error{Code: 1}
		}
	}
	return nil
}

func waitByte(fd int) bool {
	var b [1]byte
	for {
		n, err := unix.Read(fd, b[:])
		if err == unix.EINTR {
			continue
		}
		return n == 1
	}
}

// nsSetup: time offsets and mount propagation, the namespace-level steps
// that must precede pinning.
func (p *Plan) nsSetup() error {
	if p.TimeOffsets {
		data := fmt.Sprintf("monotonic %d 0\nboottime %d 0\n", p.Monotonic, p.Boottime)
		if err := idmap.WriteFile("/proc/self/timens_offsets", data); err != nil {
			return fail(err, "failed to write to /proc/self/timens_offsets")
		}
	}
	if p.Propagation != 0 {
		if err := unix.Mount("none", "/", "", unix.MS_REC|p.Propagation, ""); err != nil {
			return fail(err, "cannot change root filesystem propagation")
		}
	}
	return nil
}

// syncPoint: in the child stage, tell the parent the namespaces exist and
// wait while it pins them; in-process, pin and notify here.
func (p *Plan) syncPoint(origMnt int) error {
	if p.ReadyFd >= 0 {
		unix.Write(p.ReadyFd, []byte{1})
		unix.Close(p.ReadyFd)
		if !waitByte(p.SyncFd) {
			return &Error{Code: 1}
		}
	}
	if p.SyncFd >= 0 {
		unix.Close(p.SyncFd)
	}
	if len(p.Pins) > 0 {
		if err := BindPins(os.Getpid(), p.Pins, origMnt); err != nil {
			return err
		}
	}
	if err := Notify(p.NotifyFds, os.Getpid(), p.PidLink); err != nil {
		return err
	}
	if p.StatusFd >= 0 {
		return WriteStatus(p.StatusFd, os.Getpid(), p.Unshare)
	}
	return nil
}

// Notify writes "pid\n" to each fd and closes it; with link.Dir >= 0, the
// first is an unnamed pid file, then linked under its name (PidLink).
func Notify(fds []int, pid int, link PidLink) error {
	msg := []byte(strconv.Itoa(pid) + "\n")
	for i, fd := range fds {
		n, err := unix.Write(fd, msg)
		if err == nil && n != len(msg) {
			err = unix.EIO
		}
		if err == nil && i == 0 && link.Dir >= 0 {
			if err = link.link(fd); err != nil {
				unix.Close(fd)
				return fail(err, "cannot write %s", link.Name)
			}
		}
		unix.Close(fd)
		if err != nil {
			return fail(err, "cannot write the PID to file descriptor %d", fd)
		}
	}
	return nil
}

// BindPins bind-mounts /proc/PID/ns/FILE onto each pin's path; on failure it
// detaches the pins it made. With mntFd >= 0 the mounts are made from that
// mount namespace, on a thread of their own that is then discarded.
func BindPins(pid int, pins []Pin, mntFd int) error {
	if mntFd < 0 {
		return bindPins(pid, pins)
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- fail(err, "unshare(CLONE_FS) failed")
			return
		}
		if err := unix.Setns(mntFd, unix.CLONE_NEWNS); err != nil {
			done <- fail(err, "reassociate to the original mount namespace failed")
			return
		}
		done <- bindPins(pid, pins)
	}()
	return <-done
}

func bindPins(pid int, pins []Pin) error {
	for i, pin := range pins {
		src := fmt.Sprintf("/proc/%d/ns/%s", pid, pin.File)
		if err := unix.Mount(src, pin.Path, "", unix.MS_BIND, ""); err != nil {
			for _, done := range pins[:i] {
				unix.Unmount(done.Path, unix.MNT_DETACH)
			}
			return fail(err, "mount %s on %s failed", src, pin.Path)
		}
	}
	return nil
}

// finish: everything after the sync point, then exec (or init).
func (p *Plan) finish() error {
	if p.SetHostname {
		if err := unix.Sethostname([]byte(p.Hostname)); err != nil {
			return fail(err, "sethostname failed")
		}
	}
	if p.Root != "" {
		if err := unix.Chroot(p.Root); err != nil {
			return fail(err, "cannot change root directory to '%s'", p.Root)
		}
		wd := p.Wd
		if wd == "" {
			wd = "/"
		}
		if err := unix.Chdir(wd); err != nil {
			return fail(err, "cannot chdir to '%s'", wd)
		}
	} else if p.Wd != "" {
		if err := unix.Chdir(p.Wd); err != nil {
			return fail(err, "cannot chdir to '%s'", p.Wd)
		}
	}
	if p.ProcDir != "" {
		if p.Root == "" && p.Propagation != unix.MS_PRIVATE {
			if err := unix.Mount("none", p.ProcDir, "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil && err != unix.EINVAL {
				return fail(err, "cannot change %s filesystem propagation", p.ProcDir)
			}
		}
		if err := unix.Mount("proc", p.ProcDir, "proc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, ""); err != nil {
			return fail(err, "mount %s failed", p.ProcDir)
		}
	}
	if p.BinfmtDir != "" {
		if err := unix.Mount("binfmt_misc", p.BinfmtDir, "binfmt_misc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, ""); err != nil {
			return fail(err, "mount %s failed", p.BinfmtDir)
		}
		if p.Interp != "" {
			reg := filepath.Join(p.BinfmtDir, "register")
			if err := idmap.WriteFile(reg, p.Interp); err != nil {
				return fail(err, "cannot register interpreter in %s", reg)
			}
		}
	}
	if p.Gid >= 0 {
		if err := unix.Setgroups(nil); err != nil {
			return fail(err, "setgroups failed")
		}
		if err := unix.Setgid(p.Gid); err != nil {
			return fail(err, "setgid failed")
		}
	}
	if p.Uid >= 0 {
		if err := unix.Setuid(p.Uid); err != nil {
			return fail(err, "setuid failed")
		}
	}
	if p.KeepCaps {
		if err := keepCaps(); err != nil {
			return err
		}
	} else if p.ClearAmbient {
		clearRaisedCaps()
	}
	if p.Init {
		code := initproc.Run(p.Name, p.Path, p.Argv, p.Env)
		return &Error{Code: code}
	}
	return p.execProgram()
}

// execProgram is execvp with the program's own environment: PATH is looked
// up in p.Env (glibc's default when unset), after any chroot.
func (p *Plan) execProgram() error {
	path, err := execpath.LookPath(p.Path, p.Env)
	if err == nil {
		err = syscall.Exec(path, p.Argv, p.Env)
	}
	code := 126
	if errors.Is(err, unix.ENOENT) {
		code = 127
	}
	return &Error{Code: code, Msg: "failed to execute " + p.Path, Err: errtext.Errno(err)}
}

// clearRaisedCaps undoes what was raised for the stage (ambient and
// inheritable sets), so the program gets capabilities by the usual rules.
func clearRaisedCaps() {
	unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) == nil {
		data[0].Inheritable, data[1].Inheritable = 0, 0
		unix.Capset(&hdr, &data[0])
	}
}

// keepCaps makes every permitted capability inheritable and ambient, so a
// program with a non-zero uid keeps them (util-linux --keep-caps).
func keepCaps() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fail(err, "capget failed")
	}
	data[0].Inheritable = data[0].Permitted
	data[1].Inheritable = data[1].Permitted
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fail(err, "capset failed")
	}
	for c := 0; c < 64; c++ {
		if data[c/32].Permitted&(1<<(uint(c)%32)) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			return fail(err, "cannot raise ambient capability %d", c)
		}
	}
	return nil
}
