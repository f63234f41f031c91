// Package nsenter is the nsenter applet: run a program in the namespaces of
// another process or of pinned namespace files, with util-linux nsenter's
// options, join order, messages and exit codes, plus --dir to enter every
// namespace pinned in a directory handle (see pin).
//
// The command line becomes a Plan (plan.go), decided from the arguments
// alone; open (open.go) opens everything the Plan names while still in the
// caller's namespaces and hands the rest, entering and executing, to
// pkg/nsexec as a JoinPlan.
package nsenter

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/nsexec"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "nsenter",
		Summary: "run a program in the namespaces of other processes",
		Usage:   usage,
		Run:     run,
	})
}

const usage = `
Usage:
 nsenter [options] [<program> [<argument>...]]

Run a program with namespaces of other processes.

Options:
 -a, --all                     enter all namespaces
 -t, --target <pid>[:<inode>]  target process to get namespaces from
 -m, --mount[=<file>|=:<nsid>] enter mount namespace
 -u, --uts[=<file>|=:<nsid>]   enter UTS namespace (hostname etc)
 -i, --ipc[=<file>|=:<nsid>]   enter System V IPC namespace
 -n, --net[=<file>|=:<nsid>]   enter network namespace
 -N, --net-socket <fd>         enter socket's network namespace (use with --target)
 -p, --pid[=<file>|=:<nsid>]   enter pid namespace
 -C, --cgroup[=<file>|=:<nsid>] enter cgroup namespace
 -U, --user[=<file>|=:<nsid>]  enter user namespace
     --user-parent             enter parent user namespace
 -T, --time[=<file>|=:<nsid>]  enter time namespace
 -S, --setuid[=<uid>]          set uid in entered namespace ("follow": the target's)
 -G, --setgid[=<gid>]          set gid in entered namespace ("follow": the target's)
     --preserve-credentials    do not touch uids or gids
     --keep-caps               retain capabilities granted in user namespaces
 -r, --root[=<dir>]            set the root directory
 -w, --wd[=<dir>]              set the working directory
 -W, --wdns <dir>              set the working directory in namespace
 -e, --env                     inherit environment variables from target process
 -F, --no-fork                 do not fork before exec'ing <program>
 -c, --join-cgroup             join the cgroup of the target process (cgroup v2)
 -Z, --follow-context          set SELinux context according to --target PID

nsbox extras:
     --dir <dir>               enter every namespace pinned in <dir> (a pin handle)
     --netns <name>            enter /run/netns/<name> as "ip netns exec" does:
                               a private /sys and /etc/netns/<name> over /etc

 -h, --help                    display this help
 -V, --version                 display version

For more details see nsenter(1) and docs/nsenter.md.
`

func run(e *applet.Env) error {
	p, done, err := parse(e)
	if err != nil || done {
		return err
	}
	jp, err := p.open(e.Name)
	if err != nil {
		return err
	}
	return enter(jp)
}

// enter carries out jp: in this process, or for a user or time namespace
// in the C constructor of a re-executed nsbox.
func enter(jp *nsexec.JoinPlan) error {
	if jp.NeedsConstructor() {
		if !nsexec.Constructor {
			return applet.Errorf("entering user and time namespaces needs the cgo build (a multi-threaded process gets setns: user=EINVAL, time=EUSERS)")
		}
		return constructor(jp)
	}
	err := jp.Exec()
	var ex *nsexec.Exited
	var se *nsexec.Error
	switch {
	case errors.As(err, &ex):
		if ex.Signal != 0 {
			return &applet.Signaled{Sig: ex.Signal}
		}
		return &applet.Exit{Code: ex.Code}
	case errors.As(err, &se):
		return &applet.Exit{Code: se.Code, Msg: applet.Message(se)}
	}
	return err
}

// constructor re-executes nsbox with the open descriptors for the C stage,
// which enters user and time namespaces while single-threaded.
func constructor(jp *nsexec.JoinPlan) error {
	fds := []int{jp.RootFd, jp.WdFd, jp.FollowFd}
	for _, x := range jp.Joins {
		fds = append(fds, x.Fd)
	}
	for _, fd := range fds {
		if fd >= 0 {
			unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
		}
	}
	argv := append([]string{"nsenter"}, jp.Argv...)
	err := syscall.Exec("/proc/self/exe", argv, jp.Environ())
	return applet.Errorf("cannot re-execute /proc/self/exe: %s", applet.Strerror(err))
}
