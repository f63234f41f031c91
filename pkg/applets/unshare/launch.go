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
	"github.com/nsbox/nsbox/pkg/nsexec"
)

// launch is a plan being carried out, with the files it opened.
type launch struct {
	*plan
	notify  []*os.File      // the pid file and the ready fd, by descriptor
	pidFile *nsexec.PidFile // --pid-file, or nil
	status  *os.File        // --json-status-fd's descriptor, or nil
}

// execute carries out p: it opens the files p names, then runs the stage
// of p's route (see route).
func (p *plan) execute() error {
	status, err := p.openStatus()
	if err != nil {
		return err
	}
	notify, pidFile, err := p.openNotify()
	if err != nil {
		return err
	}
	// The notify files are used by descriptor number only: keep their
	// *os.File alive so that no finalizer closes them meanwhile.
	defer runtime.KeepAlive(pidFile)
	defer runtime.KeepAlive(notify)
	defer runtime.KeepAlive(status)
	l := &launch{plan: p, notify: notify, pidFile: pidFile, status: status}
	r := p.route(nsexec.Constructor)
	s, clone := p.stage(r)
	switch r {
	case inProcess:
		s.NotifyFds, s.PidLink = l.notifyFds(), pidFile.Link()
		return stepError(s.Exec())
	case inPlace:
		return l.inPlace(&s)
	case forkDirect:
		return l.forkDirect(&s)
	}
	return l.forked(&s, clone)
}

// openNotify checks the ready fd and opens the pid file
// (nsexec.OpenPidFile: written whole or not at all). They are written in
// the order returned: the pid file first, so that whoever wakes on the
// ready fd finds the pid file written too.
func (p *plan) openNotify() ([]*os.File, *nsexec.PidFile, error) {
	var ready *os.File
	if p.readyFd >= 0 {
		if _, err := unix.FcntlInt(uintptr(p.readyFd), unix.F_GETFD, 0); err != nil {
			return nil, nil, applet.Errorf("--ready-fd %d: %s", p.readyFd, applet.Strerror(err))
		}
		ready = os.NewFile(uintptr(p.readyFd), "ready-fd")
	}
	var files []*os.File
	var pidFile *nsexec.PidFile
	if p.pidFile != nil {
		f, err := nsexec.OpenPidFile(*p.pidFile)
		if err != nil {
			return nil, nil, applet.Errorf("cannot open %s: %s", *p.pidFile, applet.Strerror(err))
		}
		files, pidFile = append(files, f.File), f
	}
	if ready != nil {
		files = append(files, ready)
	}
	return files, pidFile, nil
}

// notifyFds are the descriptors of the notify files, for a stage.
func (l *launch) notifyFds() []int {
	var fds []int
	for _, f := range l.notify {
		fds = append(fds, int(f.Fd()))
	}
	return fds
}

// stepError turns a failed step of nsexec into the applet's exit: its
// message, and the status the step chose (126 and 127 for exec).
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

// inPlace re-executes this binary with the stage s for the C constructor.
func (l *launch) inPlace(s *nsexec.Plan) error {
	for _, f := range l.files() {
		if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
			return applet.Errorf("fcntl failed: %s", applet.Strerror(err))
		}
	}
	s.NotifyFds, s.PidLink = l.notifyFds(), l.pidFile.Link()
	env := s.Environ("self")
	helper := 0
	if !l.ranges.empty() {
		var start int
		var err error
		if helper, start, err = l.ranges.startHelper(s.Name, l.steps.Setgroups); err != nil {
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
	argv := append([]string{"unshare"}, s.Argv...)
	err := syscall.Exec("/proc/self/exe", argv, env)
	if helper > 0 {
		unix.Kill(helper, unix.SIGKILL)
		wait(helper)
	}
	return applet.Errorf("cannot re-execute /proc/self/exe: %s", applet.Strerror(err))
}

// forkDirect: unshare here, fork and exec the program, supervise it.
func (l *launch) forkDirect(s *nsexec.Plan) error {
	if err := s.Enter(); err != nil {
		return stepError(err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(sigs)
	attr := &syscall.ProcAttr{Dir: s.Wd, Env: s.Env, Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{}}
	if s.Uid >= 0 || s.Gid >= 0 {
		cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: s.Gid < 0}
		if s.Uid >= 0 {
			cred.Uid = uint32(s.Uid)
		}
		if s.Gid >= 0 {
			cred.Gid = uint32(s.Gid)
		}
		attr.Sys.Credential = cred
	}
	path, err := execpath.LookPath(s.Path, s.Env)
	var pid int
	if err == nil {
		pid, err = syscall.ForkExec(path, s.Argv, attr)
	}
	if err != nil {
		code := 126
		if errors.Is(err, unix.ENOENT) {
			code = 127
		}
		return &applet.Exit{Code: code, Msg: "failed to execute " + s.Path + ": " + applet.Strerror(err)}
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

// forked clones the child stage s into the namespaces clone names, makes
// what this process makes for it (maps, pins, the PID told), and
// supervises it.
func (l *launch) forked(s *nsexec.Plan, clone uintptr) error {
	syncW, readyR, err := stagePipes(s, len(l.pins) > 0 || l.notifies())
	if err != nil {
		return err
	}
	if readyR >= 0 {
		defer unix.Close(readyR)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(sigs)
	pid, done, err := l.startStage(s, clone)
	defer done() // after the child was waited for, below
	if err == nil {
		if err = l.release(pid, syncW, readyR); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			wait(pid)
		}
	}
	unix.Close(syncW)
	if err != nil {
		return err
	}
	return l.tellExit(l.supervise(pid, sigs))
}

// stagePipes makes the pipes of the child stage s: the child waits on
// sync before it starts and, with ready, says there when its namespaces
// exist, then waits on sync again while they are pinned. It returns this
// process's ends (readyR -1 without ready).
func stagePipes(s *nsexec.Plan, withReady bool) (syncW, readyR int, err error) {
	var sync, ready [2]int
	if err := unix.Pipe2(sync[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, applet.Errorf("pipe failed: %s", applet.Strerror(err))
	}
	s.SyncFd = sync[0]
	if !withReady {
		return sync[1], -1, nil
	}
	if err := unix.Pipe2(ready[:], unix.O_CLOEXEC); err != nil {
		unix.Close(sync[0])
		unix.Close(sync[1])
		return -1, -1, applet.Errorf("pipe failed: %s", applet.Strerror(err))
	}
	s.ReadyFd = ready[1]
	return sync[1], ready[0], nil
}

// startStage starts the child stage. Its ends of the pipes are inherited
// at their own numbers, so that the caller's other descriptors reach the
// program unchanged; the notify files are this process's alone. Call done
// once the child has been waited for (see spawn).
func (l *launch) startStage(s *nsexec.Plan, clone uintptr) (pid int, done func(), err error) {
	inherit := []int{s.SyncFd}
	if s.ReadyFd >= 0 {
		inherit = append(inherit, s.ReadyFd)
	}
	for _, fd := range inherit {
		unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	}
	for _, f := range l.files() {
		unix.FcntlInt(f.Fd(), unix.F_SETFD, unix.FD_CLOEXEC)
	}
	attr := &syscall.ProcAttr{
		Env:   s.Environ("child"),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Cloneflags: clone},
	}
	if l.unshare&unix.CLONE_NEWUSER != 0 {
		attr.Sys.AmbientCaps = allCaps()
	}
	pid, done, err = l.spawn(append([]string{"unshare"}, s.Argv...), attr)
	for _, fd := range inherit {
		unix.Close(fd)
	}
	if err != nil {
		var exit *applet.Exit
		if errors.As(err, &exit) {
			return 0, done, err
		}
		return 0, done, applet.Errorf("unshare failed: %s", applet.Strerror(err))
	}
	return pid, done, nil
}

// release writes the child's maps and lets it go on; with a ready pipe
// (ready >= 0), it waits until the child's namespaces exist, pins them,
// tells the PID, and lets the child run the program. The child is left
// waiting on a failure (the caller kills it).
func (l *launch) release(pid, sync, ready int) error {
	if err := l.writeMaps(pid); err != nil {
		return err
	}
	if _, err := unix.Write(sync, []byte{1}); err != nil {
		return applet.Errorf("cannot release the child: %s", applet.Strerror(err))
	}
	if ready < 0 {
		return nil
	}
	var b [1]byte
	if n, _ := readRetry(ready, b[:]); n == 1 {
		if err := nsexec.BindPins(pid, l.pins, -1); err != nil {
			return stepError(err)
		}
		if err := nsexec.Notify(l.notifyFds(), pid, l.pidFile.Link()); err != nil {
			return stepError(err)
		}
		if err := l.tellStarted(pid); err != nil {
			return err
		}
		unix.Write(sync, []byte{1})
	}
	return nil
}

// writeMaps writes the maps and setgroups of a forked child's new user
// namespace.
func (l *launch) writeMaps(pid int) error {
	if l.unshare&unix.CLONE_NEWUSER == 0 {
		return nil
	}
	setgroups := l.steps.Setgroups
	if !l.ranges.empty() {
		return l.ranges.write(pid, setgroups)
	}
	if l.uidMap != nil || l.gidMap != nil || setgroups != "" {
		if err := idmap.Write(pid, l.uidMap, l.gidMap, setgroups); err != nil {
			return applet.Errorf("%s", applet.Message(err))
		}
	}
	return nil
}

// spawn clones the child stage. With --owner the clone is made by a thread
// that has taken the owner's ids (credentials are per thread in the kernel;
// a child gets its cloning thread's), so that the new user namespace
// belongs to the owner while this process keeps its privilege to write
// the maps and bind the pins. That thread is never given back to the
// runtime, and it lives until the child has been waited for: the kernel
// sends a child's parent-death signal (--kill-child) when the thread that
// cloned it ends, not the process. Call done when the child is reaped,
// once; the goroutine then ends locked, which ends the thread.
func (l *launch) spawn(argv []string, attr *syscall.ProcAttr) (pid int, done func(), err error) {
	if l.owner == nil {
		pid, err = syscall.ForkExec("/proc/self/exe", argv, attr)
		return pid, func() {}, err
	}
	type result struct {
		pid int
		err error
	}
	started, reaped := make(chan result, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked
		uid, gid := uintptr(l.owner[0]), uintptr(l.owner[1])
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			started <- result{err: applet.Errorf("setgroups failed: %s", applet.Strerror(e))}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, gid, gid, gid); e != 0 {
			started <- result{err: applet.Errorf("setgid() failed: %s", applet.Strerror(e))}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uid, uid, uid); e != 0 {
			started <- result{err: applet.Errorf("setuid() failed: %s", applet.Strerror(e))}
			return
		}
		pid, err := syscall.ForkExec("/proc/self/exe", argv, attr)
		started <- result{pid, err}
		if err == nil {
			<-reaped
		}
	}()
	r := <-started
	return r.pid, func() { close(reaped) }, r.err
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
