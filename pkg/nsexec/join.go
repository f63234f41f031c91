package nsexec

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/errtext"
	"github.com/nsbox/nsbox/pkg/execpath"
	"github.com/nsbox/nsbox/pkg/ns"
)

// Join is one namespace to enter: an open namespace file of type Type, or
// (Fd -1) the file at Path, opened only if the pidfd join is not taken.
type Join struct {
	Type ns.Type
	Fd   int
	Path string
}

// JoinPlan is what nsenter does after it has opened every file it needs:
// enter the namespaces (util-linux's two passes, so that root enters a user
// namespace last and its unprivileged owner first), change root and
// directory, fork when a pid namespace was entered, set credentials, exec.
type JoinPlan struct {
	Name  string
	Joins []Join // in ns.JoinOrder: user first

	PidFd   int     // -1, or a pidfd to try setns(PidFd, PidMask) with first
	PidMask uintptr // the namespaces the pidfd join covers (all of Joins)

	RootFd, WdFd int    // -1: none (opened before entering anything)
	WdNs         string // -W: a directory looked up after entering

	// Netns, if set, is set up after entering, before the root changes
	// (nsenter --netns). Only Exec does it: a plan that NeedsConstructor
	// cannot have it.
	Netns *Netns

	Fork       bool // fork before exec (a pid namespace was entered)
	DropGroups bool // setgroups(0) before setgid
	Uid, Gid   int  // -1: keep
	KeepCaps   bool

	// FollowFd (-1: none) is /proc/PID of the target, opened before
	// entering anything; FollowUid and FollowGid take the uid and gid from
	// its fstat after entering, so they are the target's ids as the
	// entered user namespace sees them (util-linux -S/-G follow).
	FollowFd             int
	FollowUid, FollowGid bool

	Path string
	Argv []string
	Env  []string
}

// NewJoinPlan returns an empty plan for applet name.
func NewJoinPlan(name string) *JoinPlan {
	return &JoinPlan{Name: name, PidFd: -1, RootFd: -1, WdFd: -1, Uid: -1, Gid: -1, FollowFd: -1}
}

// NeedsConstructor tells whether the plan enters a user or time namespace,
// which a multi-threaded process cannot (setns gives EINVAL and EUSERS).
func (j *JoinPlan) NeedsConstructor() bool {
	for _, x := range j.Joins {
		if x.Type.Flag() == unix.CLONE_NEWUSER || x.Type.Flag() == unix.CLONE_NEWTIME {
			return true
		}
	}
	return false
}

// Exec carries out j in this process, on the locked main thread, and
// execs the program (with Fork: forks it and returns its end as an *Error,
// Code 128+S for a signal only where re-raising is not possible). It
// returns only on failure, or after a forked program ended.
func (j *JoinPlan) Exec() error {
	for _, x := range j.Joins {
		if x.Type.Flag() == unix.CLONE_NEWNS {
			// Never enter a mount namespace with a shared fs_struct: it
			// would move the root and cwd of every thread (MECHANICS §6).
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return fail(err, "unshare(CLONE_FS) failed")
			}
		}
	}
	joined := false
	if j.PidFd >= 0 && j.PidMask != 0 {
		joined = unix.Setns(j.PidFd, int(j.PidMask)) == nil
	}
	if !joined {
		if err := j.twoPass(); err != nil {
			return err
		}
	}
	for _, x := range j.Joins {
		if x.Fd >= 0 {
			unix.Close(x.Fd)
		}
	}
	if j.Netns != nil {
		warn := func(msg string) { fmt.Fprintf(os.Stderr, "%s: %s\n", j.Name, msg) }
		if err := j.Netns.setup(warn); err != nil {
			return err
		}
	}
	if err := j.chroot(); err != nil {
		return err
	}
	if err := j.follow(); err != nil {
		return err
	}
	path, err := execpath.LookPath(j.Path, j.Env)
	if j.Fork {
		return j.forkExec(path, err)
	}
	if err := j.creds(); err != nil {
		return err
	}
	if j.KeepCaps {
		if err := keepCaps(); err != nil {
			return err
		}
	}
	if err == nil {
		err = syscall.Exec(path, j.Argv, j.Env)
	}
	return execError(j.Path, err)
}

func execError(path string, err error) error {
	code := 126
	if errors.Is(err, unix.ENOENT) {
		code = 127
	}
	return &Error{Code: code, Msg: "failed to execute " + path, Err: errtext.Errno(err)}
}

// twoPass enters every namespace but user, ignoring errors, then all that
// are left, user first, failing on the first error: util-linux's order.
func (j *JoinPlan) twoPass() error {
	for i, x := range j.Joins {
		if x.Fd >= 0 {
			continue
		}
		fd, err := unix.Open(x.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(err, "cannot open %s", x.Path)
		}
		j.Joins[i].Fd = fd
	}
	done := make([]bool, len(j.Joins))
	for pass := 0; pass < 2; pass++ {
		for i, x := range j.Joins {
			if done[i] || (pass == 0 && x.Type.Flag() == unix.CLONE_NEWUSER) {
				continue
			}
			if err := unix.Setns(x.Fd, int(x.Type.Flag())); err != nil {
				if pass == 1 {
					return fail(err, "reassociate to namespace 'ns/%s' failed", x.Type.String())
				}
				continue
			}
			done[i] = true
		}
	}
	return nil
}

// chroot: -r (root opened before entering), then -w or -W, as util-linux
// (and with its messages).
func (j *JoinPlan) chroot() error {
	wd := j.WdFd
	if j.RootFd >= 0 && wd < 0 && j.WdNs == "" {
		fd, err := unix.Open(".", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(err, "cannot open current working directory")
		}
		wd = fd
	}
	if j.RootFd >= 0 {
		if err := unix.Fchdir(j.RootFd); err != nil {
			return fail(err, "change directory by root file descriptor failed")
		}
		if err := unix.Chroot("."); err != nil {
			return fail(err, "chroot failed")
		}
		if err := unix.Chdir("/"); err != nil {
			return fail(err, "cannot change directory to /")
		}
		unix.Close(j.RootFd)
	}
	if j.WdNs != "" {
		// O_PATH: fchdir needs no more, and a FIFO is not waited on.
		fd, err := unix.Open(j.WdNs, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(err, "cannot open current working directory")
		}
		wd = fd
	}
	if wd >= 0 {
		if err := unix.Fchdir(wd); err != nil {
			return fail(err, "change directory by working directory file descriptor failed")
		}
		unix.Close(wd)
	}
	return nil
}

// follow: -S/-G follow take the target's ids from an fstat made after
// entering, in the entered user namespace's terms.
func (j *JoinPlan) follow() error {
	if j.FollowFd < 0 {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(j.FollowFd, &st); err != nil {
		return fail(err, "can not get process stat")
	}
	unix.Close(j.FollowFd)
	if j.FollowUid {
		j.Uid = int(st.Uid)
	}
	if j.FollowGid {
		j.Gid = int(st.Gid)
	}
	return nil
}

// creds: with a user namespace entered and without
// --preserve-credentials, util-linux becomes root there (or -S/-G). A user
// namespace whose setgroups is "deny" (every rootless container made with
// unshare -r) cannot drop groups: that step is skipped, as there is
// nothing it could change.
func (j *JoinPlan) creds() error {
	if j.DropGroups {
		if err := unix.Setgroups(nil); err != nil {
			if !(err == unix.EPERM && setgroupsDenied()) {
				return fail(err, "setgroups failed (--preserve-credentials keeps the caller's groups)")
			}
		}
	}
	if j.Gid >= 0 {
		if err := unix.Setgid(j.Gid); err != nil {
			return fail(err, "setgid failed")
		}
	}
	if j.Uid >= 0 {
		if err := unix.Setuid(j.Uid); err != nil {
			return fail(err, "setuid failed")
		}
	}
	return nil
}

func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}

// forkExec starts the program in the entered pid namespace and passes on
// how it ended; a stopped child stops this process too (util-linux's
// continue_as_child).
func (j *JoinPlan) forkExec(path string, lookErr error) error {
	if lookErr != nil {
		return execError(j.Path, lookErr)
	}
	attr := &syscall.ProcAttr{Env: j.Env, Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{}}
	if j.Uid >= 0 || j.Gid >= 0 || j.DropGroups {
		cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: !j.DropGroups}
		if j.Uid >= 0 {
			cred.Uid = uint32(j.Uid)
		}
		if j.Gid >= 0 {
			cred.Gid = uint32(j.Gid)
		}
		attr.Sys.Credential = cred
	}
	pid, err := syscall.ForkExec(path, j.Argv, attr)
	if errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.EAGAIN) {
		// ForkExec does not say whether the fork or the exec failed. The
		// program was found and is executable (LookPath), and these are
		// what fork gives: a pid namespace whose init has exited
		// (ENOMEM), the process limit (EAGAIN). util-linux forks first.
		return fail(err, "fork failed")
	}
	if err != nil {
		return execError(j.Path, err)
	}
	return WaitMirror(pid)
}

// Exited is how a waited-for program ended: its exit status, or the
// signal that killed it.
type Exited struct {
	Code   int
	Signal int
}

func (e *Exited) Error() string {
	if e.Signal != 0 {
		return "killed by signal " + strconv.Itoa(e.Signal)
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// WaitMirror waits for pid; when it stops, this process stops too and
// continues it when continued. It returns nil for exit 0, else *Exited.
func WaitMirror(pid int) error {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WUNTRACED, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fail(err, "waitpid failed")
		}
		switch {
		case ws.Stopped():
			unix.Kill(os.Getpid(), unix.SIGSTOP)
			unix.Kill(pid, unix.SIGCONT)
			continue
		case ws.Exited():
			if ws.ExitStatus() == 0 {
				return nil
			}
			return &Exited{Code: ws.ExitStatus()}
		case ws.Signaled():
			return &Exited{Signal: int(ws.Signal())}
		}
		return &Exited{Code: 1}
	}
}

// Environ describes j to the C constructor's "join" stage.
func (j *JoinPlan) Environ() []string {
	env := make([]string, 0, len(j.Env)+12)
	for _, e := range j.Env {
		if !strings.HasPrefix(e, EnvPrefix) {
			env = append(env, e)
		}
	}
	set := func(k, v string) { env = append(env, EnvPrefix+k+"="+v) }
	env = append(env, EnvStage+"=join")
	set("NAME", j.Name)
	var joins []string
	for _, x := range j.Joins {
		joins = append(joins, fmt.Sprintf("%d:%d:%s", x.Type.Flag(), x.Fd, x.Type.String()))
	}
	set("JOIN", strings.Join(joins, ","))
	if j.RootFd >= 0 {
		set("ROOTFD", strconv.Itoa(j.RootFd))
	}
	if j.WdFd >= 0 {
		set("WDFD", strconv.Itoa(j.WdFd))
	}
	if j.WdNs != "" {
		set("WDNS", j.WdNs)
	}
	if j.Fork {
		set("FORK", "1")
	}
	if j.DropGroups {
		set("DROPGROUPS", "1")
	}
	if j.Uid >= 0 {
		set("UID", strconv.Itoa(j.Uid))
	}
	if j.Gid >= 0 {
		set("GID", strconv.Itoa(j.Gid))
	}
	if j.KeepCaps {
		set("KEEPCAPS", "1")
	}
	if j.FollowFd >= 0 {
		// fd:uid:gid, the last two 1 to follow that id.
		b := map[bool]int{false: 0, true: 1}
		set("FOLLOW", fmt.Sprintf("%d:%d:%d", j.FollowFd, b[j.FollowUid], b[j.FollowGid]))
	}
	set("EXEC", j.Path)
	return env
}
