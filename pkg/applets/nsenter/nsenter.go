// Package nsenter is the nsenter applet: run a program in the namespaces of
// another process or of pinned namespace files, with util-linux nsenter's
// options, join order, messages and exit codes, plus --dir to enter every
// namespace pinned in a directory handle (see pin).
package nsenter

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/nsfs"
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
 -a, --all              enter all namespaces
 -t, --target <pid>     target process to get namespaces from
 -m, --mount[=<file>]   enter mount namespace
 -u, --uts[=<file>]     enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]     enter System V IPC namespace
 -n, --net[=<file>]     enter network namespace
 -N, --net-socket <fd>  enter socket's network namespace (use with --target)
 -p, --pid[=<file>]     enter pid namespace
 -C, --cgroup[=<file>]  enter cgroup namespace
 -U, --user[=<file>]    enter user namespace
     --user-parent      enter parent user namespace
 -T, --time[=<file>]    enter time namespace
 -S, --setuid[=<uid>]   set uid in entered namespace ("follow": the target's)
 -G, --setgid[=<gid>]   set gid in entered namespace ("follow": the target's)
     --preserve-credentials do not touch uids or gids
     --keep-caps        retain capabilities granted in user namespaces
 -r, --root[=<dir>]     set the root directory
 -w, --wd[=<dir>]       set the working directory
 -W, --wdns <dir>       set the working directory in namespace
 -e, --env              inherit environment variables from target process
 -F, --no-fork          do not fork before exec'ing <program>
 -c, --join-cgroup      join the cgroup of the target process (cgroup v2)
 -Z, --follow-context   set SELinux context according to --target PID

nsbox extras:
     --dir <dir>        enter every namespace pinned in <dir> (a pin handle)

 -h, --help             display this help
 -V, --version          display version

For more details see nsenter(1) and docs/nsenter.md.
`

const noFile = applet.NoFile

// target is one namespace to enter and where its file comes from.
type target struct {
	typ  ns.Type
	path string // file to open ("" when fd is already open)
	fd   int
}

func run(e *applet.Env) error {
	fs := applet.NewFlags(e)
	opts := applet.NamespaceFlags(fs, []string{"mount", "uts", "ipc", "net", "pid", "cgroup", "user", "time"}, true)
	all := fs.BoolP("all", "a", false, "")
	fs.StringP("target", "t", "", "")
	netSocket := fs.StringP("net-socket", "N", "", "")
	userParent := fs.Bool("user-parent", false, "")
	setuid := fs.StringP("setuid", "S", "", "")
	setgid := fs.StringP("setgid", "G", "", "")
	preserve := fs.Bool("preserve-credentials", false, "")
	keepCaps := fs.Bool("keep-caps", false, "")
	root := fs.StringP("root", "r", "", "")
	wd := fs.StringP("wd", "w", "", "")
	for _, n := range []string{"root", "wd"} {
		f := fs.Lookup(n)
		f.NoOptDefVal = noFile
		f.Annotations = map[string][]string{applet.OptionalShort: nil}
	}
	wdns := fs.StringP("wdns", "W", "", "")
	envOpt := fs.BoolP("env", "e", false, "")
	noFork := fs.BoolP("no-fork", "F", false, "")
	joinCgroup := fs.BoolP("join-cgroup", "c", false, "")
	fs.BoolP("follow-context", "Z", false, "")
	dir := fs.String("dir", "", "")

	pid := 0
	applet.Check(fs, "target", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if errors.Is(err, strconv.ErrRange) {
			return applet.Errorf("failed to parse PID argument '%s': %s", v, applet.Strerror(syscall.ERANGE))
		}
		if err != nil {
			return applet.Errorf("failed to parse PID argument '%s': %s", v, applet.Strerror(syscall.EINVAL))
		}
		if n <= 0 {
			return applet.Errorf("failed to parse PID argument '%s': %s", v, applet.Strerror(syscall.ERANGE))
		}
		pid = int(n)
		return nil
	})
	applet.Check(fs, "net-socket", func(v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return applet.Errorf("failed to parse file descriptor: '%s'", v)
		}
		return nil
	})
	for _, c := range []struct{ name, what string }{{"setuid", "uid"}, {"setgid", "gid"}} {
		applet.Check(fs, c.name, func(v string) error {
			if _, ok := idmap.ParseID(v); !ok && v != "follow" {
				return applet.Errorf("failed to parse %s: '%s'", c.what, v)
			}
			return nil
		})
	}
	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	if fs.Changed("wd") && fs.Changed("wdns") {
		return applet.Errorf("mutually exclusive arguments: --wdns --wd")
	}

	procPath := func(name string) string { return fmt.Sprintf("/proc/%d/%s", pid, name) }
	// The namespaces to enter, in util-linux's order (user first).
	want := map[uintptr]*target{}
	for _, o := range opts {
		if !fs.Changed(o.Long) {
			continue
		}
		switch {
		case o.Val != noFile:
			want[o.Type.Flag()] = &target{typ: o.Type, path: o.Val, fd: -1}
		case pid != 0:
			want[o.Type.Flag()] = &target{typ: o.Type, path: procPath("ns/" + o.Type.String()), fd: -1}
		case *dir != "":
			want[o.Type.Flag()] = &target{typ: o.Type, path: filepath.Join(*dir, o.Type.String()), fd: -1}
		default:
			return applet.Errorf("neither filename nor target pid supplied for ns/%s", o.Type.String())
		}
	}
	if *dir != "" {
		fd, err := unix.Open(*dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return applet.Errorf("cannot open %s: %s", *dir, applet.Strerror(err))
		}
		unix.Close(fd)
		for _, t := range ns.JoinOrder {
			p := filepath.Join(*dir, t.String())
			if _, ok := want[t.Flag()]; ok || !isNsfs(p) {
				continue
			}
			if !differs(p, t) {
				continue
			}
			want[t.Flag()] = &target{typ: t, path: p, fd: -1}
		}
	}
	if *all {
		if pid == 0 {
			return applet.Errorf("no target PID specified for --all")
		}
		for _, t := range ns.JoinOrder {
			if _, ok := want[t.Flag()]; ok {
				continue
			}
			var self, tgt unix.Stat_t
			if unix.Stat("/proc/self/ns/"+t.String(), &self) != nil {
				continue // a namespace type this kernel lacks
			}
			p := procPath("ns/" + t.String())
			if err := unix.Stat(p, &tgt); err != nil {
				return applet.Errorf("stat of %s failed: %s", p, applet.Strerror(err))
			}
			// Entering a namespace one is already in changes nothing, but
			// needs privilege the owner of a rootless container lacks;
			// util-linux skips only the user namespace.
			if self.Ino == tgt.Ino && self.Dev == tgt.Dev {
				continue
			}
			want[t.Flag()] = &target{typ: t, path: p, fd: -1}
		}
	}

	// Everything is opened before anything is entered.
	// Without a pidfd (the target is gone, or an old kernel) the files
	// under /proc/PID are opened one by one, and say what is missing.
	var pidfd = -1
	var pidfdErr error
	if pid != 0 {
		pidfd, pidfdErr = unix.PidfdOpen(pid, 0)
	}
	if fs.Changed("net-socket") {
		if pid == 0 {
			return applet.Errorf("--net-socket requires --target")
		}
		fd, err := netnsOfSocket(pid, pidfd, pidfdErr, *netSocket)
		if err != nil {
			return err
		}
		netT := ns.Net
		want[netT.Flag()] = &target{typ: netT, fd: fd}
	}
	if *userParent {
		if err := userParentTarget(want, pid); err != nil {
			return err
		}
	}
	// -a on a target that shares every namespace with the caller leaves
	// nothing to enter: the program runs, as with util-linux (which enters
	// them again).
	if len(want) == 0 && !*all && !fs.Changed("root") && !fs.Changed("wd") {
		return applet.Errorf("no namespace specified")
	}
	jp := nsexec.NewJoinPlan(e.Name)
	for _, t := range ns.JoinOrder {
		if w, ok := want[t.Flag()]; ok {
			jp.Joins = append(jp.Joins, nsexec.Join{Type: t, Fd: w.fd, Path: w.path})
			if t.Flag() == unix.CLONE_NEWPID && !*noFork {
				jp.Fork = true
			}
		}
	}
	// One setns on the pidfd enters them all when every one is the
	// target's own (no files, no socket): the kernel orders them. The Go
	// half takes it (user and time go through the constructor, which
	// enters file by file), and opens the files only if it fails.
	if pidfd >= 0 && len(jp.Joins) > 0 && *dir == "" && !fs.Changed("net-socket") && !*userParent && !jp.NeedsConstructor() {
		own := true
		for _, o := range opts {
			if fs.Changed(o.Long) && o.Val != noFile {
				own = false
			}
		}
		if own {
			jp.PidFd = pidfd
			for _, x := range jp.Joins {
				jp.PidMask |= x.Type.Flag()
			}
		}
	}
	if jp.PidFd < 0 {
		for i, x := range jp.Joins {
			if x.Fd >= 0 {
				continue
			}
			fd, err := unix.Open(x.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return applet.Errorf("cannot open %s: %s", x.Path, applet.Strerror(err))
			}
			jp.Joins[i].Fd = fd
		}
	}
	openDir := func(opt, val, def string) (int, error) {
		path := val
		if val == noFile {
			if pid == 0 {
				return -1, applet.Errorf("neither filename nor target pid supplied for %s", opt)
			}
			path = procPath(def)
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, applet.Errorf("cannot open %s: %s", path, applet.Strerror(err))
		}
		return fd, nil
	}
	if fs.Changed("root") {
		if jp.RootFd, err = openDir("root", *root, "root"); err != nil {
			return err
		}
	}
	if fs.Changed("wd") {
		if jp.WdFd, err = openDir("cwd", *wd, "cwd"); err != nil {
			return err
		}
	}
	jp.WdNs = *wdns

	// Credentials: root in an entered user namespace, unless told otherwise.
	user := want[unix.CLONE_NEWUSER] != nil
	if user && !*preserve {
		jp.DropGroups, jp.Uid, jp.Gid = true, 0, 0
	}
	for _, c := range []struct {
		set  bool
		val  string
		dst  *int
		what string
	}{{fs.Changed("setuid"), *setuid, &jp.Uid, "uid"}, {fs.Changed("setgid"), *setgid, &jp.Gid, "gid"}} {
		if !c.set {
			continue
		}
		if c.val == "follow" {
			if pid == 0 {
				return applet.Errorf("--set%s follow requires --target", c.what)
			}
			// Opened now, looked at after entering (see FollowFd).
			if jp.FollowFd < 0 {
				fd, err := unix.Open(procPath(""), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				if err != nil {
					return applet.Errorf("cannot open %s: %s", procPath(""), applet.Strerror(err))
				}
				jp.FollowFd = fd
			}
			if c.what == "uid" {
				jp.FollowUid = true
			} else {
				jp.FollowGid = true
			}
		} else {
			id, _ := idmap.ParseID(c.val)
			*c.dst = int(id)
		}
		if c.what == "gid" {
			jp.DropGroups = true
		}
	}
	jp.KeepCaps = *keepCaps && user

	jp.Env = os.Environ()
	if *envOpt {
		if pid == 0 {
			return applet.Errorf("--env requires --target")
		}
		b, err := os.ReadFile(procPath("environ"))
		if err != nil {
			return applet.Errorf("cannot read %s: %s", procPath("environ"), applet.Strerror(err))
		}
		jp.Env = nil
		for _, kv := range bytes.Split(b, []byte{0}) {
			if len(kv) > 0 {
				jp.Env = append(jp.Env, string(kv))
			}
		}
	}
	if *joinCgroup {
		if pid == 0 {
			return applet.Errorf("--join-cgroup requires --target")
		}
		if err := joinCgroupOf(pid); err != nil {
			return err
		}
	}
	if len(rest) > 0 {
		jp.Path, jp.Argv = rest[0], rest
	} else {
		jp.Path = idmap.Shell()
		jp.Argv = []string{"-" + filepath.Base(jp.Path)}
	}

	if jp.NeedsConstructor() {
		if !nsexec.Constructor {
			return applet.Errorf("entering user and time namespaces needs the cgo build (a multi-threaded process gets setns: user=EINVAL, time=EUSERS)")
		}
		return constructor(jp)
	}
	err = jp.Exec()
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

// differs tells whether the namespace file p names another namespace than
// this process's own of that type.
func differs(p string, t ns.Type) bool {
	var a, b unix.Stat_t
	if unix.Stat(p, &a) != nil || unix.Stat("/proc/self/ns/"+t.String(), &b) != nil {
		return true
	}
	return a.Ino != b.Ino || a.Dev != b.Dev
}

func isNsfs(p string) bool {
	var sfs unix.Statfs_t
	return unix.Statfs(p, &sfs) == nil && sfs.Type == unix.NSFS_MAGIC
}

// netnsOfSocket: the network namespace of the target's socket fd, through
// pidfd_getfd and SIOCGSKNS.
func netnsOfSocket(pid, pidfd int, pidfdErr error, fdArg string) (int, error) {
	n, _ := strconv.Atoi(fdArg)
	if pidfd < 0 {
		return -1, applet.Errorf("failed to pidfd_open() for %d: %s", pid, applet.Strerror(pidfdErr))
	}
	sock, err := unix.PidfdGetfd(pidfd, n, 0)
	if err != nil {
		return -1, applet.Errorf("pidfd_getfd(%d) failed: %s", n, applet.Strerror(err))
	}
	defer unix.Close(sock)
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(sock), unix.SIOCGSKNS, 0)
	if errno != 0 {
		return -1, applet.Errorf("ioctl(SIOCGSKNS) failed: %s", applet.Strerror(errno))
	}
	return int(r), nil
}

// userParentTarget: --user-parent enters the parent of the user namespace
// to enter, or the owner of any other namespace to enter, or else the
// parent of the target's user namespace.
func userParentTarget(want map[uintptr]*target, pid int) error {
	var from *target
	req := uintptr(unix.NS_GET_USERNS)
	if u := want[unix.CLONE_NEWUSER]; u != nil {
		from, req = u, unix.NS_GET_PARENT
	} else {
		for _, t := range ns.JoinOrder {
			if w := want[t.Flag()]; w != nil {
				from = w
				break
			}
		}
	}
	if from == nil && pid != 0 {
		from, req = &target{path: fmt.Sprintf("/proc/%d/ns/user", pid), fd: -1}, unix.NS_GET_PARENT
	}
	if from == nil {
		return applet.Errorf("no namespace specified for --user-parent")
	}
	fd := from.fd
	if fd < 0 {
		var err error
		if fd, err = unix.Open(from.path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return applet.Errorf("cannot open %s: %s", from.path, applet.Strerror(err))
		}
		defer unix.Close(fd)
	}
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, 0)
	if errno != 0 {
		return applet.Errorf("failed to get the parent user namespace: %s", applet.Strerror(errno))
	}
	userT := ns.User
	want[userT.Flag()] = &target{typ: userT, fd: int(r)}
	return nil
}

// joinCgroupOf moves this process into the cgroup v2 of pid.
func joinCgroupOf(pid int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return applet.Errorf("cannot read /proc/%d/cgroup: %s", pid, applet.Strerror(err))
	}
	rel := ""
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			rel = p
		}
	}
	mnt := cgroup2Mount()
	if rel == "" || mnt == "" {
		return applet.Errorf("--join-cgroup: the host has no cgroup v2 hierarchy")
	}
	procs := filepath.Join(mnt, rel, "cgroup.procs")
	if err := idmap.WriteFile(procs, strconv.Itoa(os.Getpid())); err != nil {
		return applet.Errorf("cannot join cgroup %s: %s", filepath.Join(mnt, rel), applet.Strerror(err))
	}
	return nil
}

func cgroup2Mount() string {
	mounts, err := nsfs.ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			return m.MountPoint
		}
	}
	return ""
}
