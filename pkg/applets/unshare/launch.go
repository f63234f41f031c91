package unshare

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/execpath"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
)

type pinReq struct {
	typ  ns.Type
	path string
}

// launch chooses where the plan runs:
//   - no user namespace, no fork: in this process (nsexec.Plan.Exec);
//   - a user namespace without fork: re-exec into the C constructor, which
//     unshares it while single-threaded and keeps the PID;
//   - --fork (or -U in a build without the constructor): a child cloned
//     into the namespaces runs the plan's stage; this process writes the
//     maps, pins the namespaces and passes on the child's status.
type launch struct {
	plan           *nsexec.Plan
	flags          uintptr
	fork, forward  bool
	uidMap, gidMap *idmap.Single
	ranges         *rangeMaps // written from outside (root, or a helper)
	pins           []pinReq
	notify         []*os.File
	owner          *[2]uint32 // --owner uid, gid
}

func (l *launch) run() error {
	// The notify files are used by descriptor number only: keep their
	// *os.File alive so that no finalizer closes them meanwhile.
	defer runtime.KeepAlive(l.notify)
	user := l.flags&unix.CLONE_NEWUSER != 0
	switch {
	case !l.fork && !user:
		return l.inProcess()
	case !l.fork && nsexec.Constructor:
		return l.inPlace()
	}
	return l.forked()
}

// pinsFor turns the requests into plan pins: pid and time name the
// namespace children get (util-linux binds *_for_children).
func (l *launch) pinsFor() []nsexec.Pin {
	var pins []nsexec.Pin
	for _, r := range l.pins {
		pins = append(pins, nsexec.Pin{File: r.typ.ChildFile(), Path: r.path})
	}
	return pins
}

func (l *launch) notifyFds() []int {
	var fds []int
	for _, f := range l.notify {
		fds = append(fds, int(f.Fd()))
	}
	return fds
}

func stepError(err error) error {
	var e *nsexec.Error
	if errors.As(err, &e) {
		if e.Msg == "" && e.Err == nil {
			return &applet.Exit{Code: e.Code}
		}
		return &applet.Exit{Code: e.Code, Msg: applet.Message(e)}
	}
	return err
}

func (l *launch) inProcess() error {
	p := l.plan
	p.Unshare = l.flags
	p.Pins = l.pinsFor()
	p.NotifyFds = l.notifyFds()
	return stepError(p.Exec())
}

// inPlace re-executes this binary with the plan for the C constructor.
func (l *launch) inPlace() error {
	p := l.plan
	p.Unshare = l.flags
	p.UIDMap, p.GIDMap = l.uidMap, l.gidMap
	p.Pins = l.pinsFor()
	for _, f := range l.notify {
		if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
			return applet.Errorf("fcntl failed: %s", applet.Strerror(err))
		}
	}
	p.NotifyFds = l.notifyFds()
	setgroups := p.Setgroups
	if !l.ranges.empty() {
		p.Setgroups = "" // the helper writes it, before the gid map
	}
	env := p.Environ("self")
	if !l.ranges.empty() {
		helper, start, err := l.ranges.startHelper(p.Name, setgroups)
		if err != nil {
			return err
		}
		unix.FcntlInt(uintptr(start), unix.F_SETFD, 0)
		env = append(env, nsexec.EnvPrefix+"MAPHELPER="+strconv.Itoa(helper), nsexec.EnvPrefix+"MAPSYNC="+strconv.Itoa(start))
	}
	if l.owner != nil {
		// The stage takes the owner's ids after forking its pin helper
		// and before unsharing, as util-linux does.
		env = append(env, nsexec.EnvPrefix+"OWNER="+strconv.FormatUint(uint64(l.owner[0]), 10)+" "+strconv.FormatUint(uint64(l.owner[1]), 10))
	}
	argv := append([]string{"unshare"}, p.Argv...)
	err := syscall.Exec("/proc/self/exe", argv, env)
	return applet.Errorf("cannot re-execute /proc/self/exe: %s", applet.Strerror(err))
}

// direct tells whether --fork can go the way util-linux goes: this process
// unshares (it has the main thread to itself) and forks the program, with
// no stage in between. Steps that must run in the child (proc mounts,
// binfmt, the init, a chroot before the PATH search), a user namespace, a
// parent-death signal (Go's fork checks getppid, which is 0 across a pid
// namespace) and pins or notification (the program must not start before
// they exist) take the child stage.
func (l *launch) direct() bool {
	p := l.plan
	return l.flags&unix.CLONE_NEWUSER == 0 && p.ProcDir == "" && p.BinfmtDir == "" && !p.Init &&
		p.Root == "" && p.Pdeathsig == 0 && len(l.pins) == 0 && len(l.notify) == 0 && p.Setgroups == ""
}

// forkDirect: unshare here, fork and exec the program, supervise it.
func (l *launch) forkDirect() error {
	p := l.plan
	p.Unshare = l.flags
	if err := p.Enter(); err != nil {
		return stepError(err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(sigs)
	attr := &syscall.ProcAttr{Dir: p.Wd, Env: p.Env, Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{}}
	if p.Uid >= 0 || p.Gid >= 0 {
		cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: p.Gid < 0}
		if p.Uid >= 0 {
			cred.Uid = uint32(p.Uid)
		}
		if p.Gid >= 0 {
			cred.Gid = uint32(p.Gid)
		}
		attr.Sys.Credential = cred
	}
	path, err := execpath.LookPath(p.Path, p.Env)
	var pid int
	if err == nil {
		pid, err = syscall.ForkExec(path, p.Argv, attr)
	}
	if err != nil {
		code := 126
		if errors.Is(err, unix.ENOENT) {
			code = 127
		}
		return &applet.Exit{Code: code, Msg: "failed to execute " + p.Path + ": " + applet.Strerror(err)}
	}
	return l.supervise(pid, sigs)
}

// supervise passes signals on (with --forward-signals) while it waits for
// the child, then ends as the child ended. SIGINT and SIGTERM do not end
// this process meanwhile (util-linux blocks them).
func (l *launch) supervise(pid int, sigs chan os.Signal) error {
	go func() {
		for s := range sigs {
			if l.forward {
				unix.Kill(pid, s.(syscall.Signal))
			}
		}
	}()
	return wait(pid)
}

// forked clones the child stage into the new namespaces and supervises it.
func (l *launch) forked() error {
	if l.direct() {
		return l.forkDirect()
	}
	p := l.plan
	user := l.flags&unix.CLONE_NEWUSER != 0
	clone := l.flags &^ unix.CLONE_NEWTIME
	p.Unshare = l.flags & unix.CLONE_NEWTIME // created by the child, before its offsets
	needReady := len(l.pins) > 0 || len(l.notify) > 0

	var sync, ready [2]int
	if err := unix.Pipe2(sync[:], unix.O_CLOEXEC); err != nil {
		return applet.Errorf("pipe failed: %s", applet.Strerror(err))
	}
	defer unix.Close(sync[1])
	p.SyncFd = sync[0]
	if needReady {
		if err := unix.Pipe2(ready[:], unix.O_CLOEXEC); err != nil {
			unix.Close(sync[0])
			return applet.Errorf("pipe failed: %s", applet.Strerror(err))
		}
		defer unix.Close(ready[0])
		p.ReadyFd = ready[1]
	}
	if user {
		p.ClearAmbient = true
	}
	// With a user namespace this process writes setgroups, with the maps;
	// the child must not write it again (deny after a gid map: EPERM).
	setgroups := p.Setgroups
	if user {
		p.Setgroups = ""
	}
	// The child's ends are inherited at their own numbers, so that the
	// caller's other descriptors reach the program unchanged.
	inherit := []int{p.SyncFd}
	if needReady {
		inherit = append(inherit, p.ReadyFd)
	}
	for _, fd := range inherit {
		unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	}
	for _, f := range l.notify {
		unix.FcntlInt(f.Fd(), unix.F_SETFD, unix.FD_CLOEXEC)
	}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(sigs)

	attr := &syscall.ProcAttr{
		Env:   p.Environ("child"),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Cloneflags: clone},
	}
	if user {
		attr.Sys.AmbientCaps = allCaps()
	}
	argv := append([]string{"unshare"}, p.Argv...)
	pid, err := l.spawn(argv, attr)
	for _, fd := range inherit {
		unix.Close(fd)
	}
	if err != nil {
		var exit *applet.Exit
		if errors.As(err, &exit) {
			return err
		}
		return applet.Errorf("unshare failed: %s", applet.Strerror(err))
	}
	abort := func(err error) error {
		unix.Kill(pid, unix.SIGKILL)
		wait(pid)
		return err
	}
	if user && !l.ranges.empty() {
		if err := l.ranges.write(pid, setgroups); err != nil {
			return abort(err)
		}
	} else if user && (l.uidMap != nil || l.gidMap != nil || setgroups != "") {
		if err := idmap.Write(pid, l.uidMap, l.gidMap, setgroups); err != nil {
			return abort(applet.Errorf("%s", applet.Message(err)))
		}
	}
	if _, err := unix.Write(sync[1], []byte{1}); err != nil {
		return abort(applet.Errorf("cannot release the child: %s", applet.Strerror(err)))
	}
	if needReady {
		var b [1]byte
		if n, _ := readRetry(ready[0], b[:]); n == 1 {
			if err := nsexec.BindPins(pid, l.pinsFor(), -1); err != nil {
				return abort(stepError(err))
			}
			if err := nsexec.Notify(l.notifyFds(), pid); err != nil {
				return abort(stepError(err))
			}
			unix.Write(sync[1], []byte{1})
		}
	}
	unix.Close(sync[1])
	return l.supervise(pid, sigs)
}

// spawn clones the child stage. With --owner the clone is made by a thread
// that has taken the owner's ids (credentials are per thread in the kernel;
// a child gets its cloning thread's), so that the new user namespace
// belongs to the owner while this process keeps its privilege to write
// the maps and bind the pins. The thread is never given back to the
// runtime: its goroutine ends locked, which ends the thread.
func (l *launch) spawn(argv []string, attr *syscall.ProcAttr) (int, error) {
	if l.owner == nil {
		return syscall.ForkExec("/proc/self/exe", argv, attr)
	}
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked
		uid, gid := uintptr(l.owner[0]), uintptr(l.owner[1])
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			done <- result{err: applet.Errorf("setgroups failed: %s", applet.Strerror(e))}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, gid, gid, gid); e != 0 {
			done <- result{err: applet.Errorf("setgid() failed: %s", applet.Strerror(e))}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uid, uid, uid); e != 0 {
			done <- result{err: applet.Errorf("setuid() failed: %s", applet.Strerror(e))}
			return
		}
		pid, err := syscall.ForkExec("/proc/self/exe", argv, attr)
		done <- result{pid, err}
	}()
	r := <-done
	return r.pid, r.err
}

// wait waits for pid and turns its end into this applet's exit.
func wait(pid int) error {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return applet.Errorf("waitpid failed: %s", applet.Strerror(err))
		}
		break
	}
	switch {
	case ws.Exited():
		if ws.ExitStatus() == 0 {
			return nil
		}
		return &applet.Exit{Code: ws.ExitStatus()}
	case ws.Signaled():
		return &applet.Signaled{Sig: int(ws.Signal())}
	}
	return &applet.Exit{Code: 1}
}

func readRetry(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// allCaps lists every capability the kernel knows. The child stage is
// exec'ed before its uid is mapped, so it keeps its capabilities only as
// ambient ones (and drops them again before the program runs). A new user
// namespace starts with a full bounding set, whatever the caller's, so
// every capability can be raised there (PR_CAPBSET_READ says EINVAL past
// the last one).
func allCaps() []uintptr {
	var caps []uintptr
	for c := 0; c < 64; c++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err != nil {
			break
		}
		caps = append(caps, uintptr(c))
	}
	return caps
}
