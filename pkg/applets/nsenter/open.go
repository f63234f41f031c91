package nsenter

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/nsfs"
)

// joinSet is the namespaces to enter, by type: nil where there is none.
type joinSet [ns.NTypes]*nsexec.Join

// open carries out what p asks for in the caller's namespaces, in
// util-linux's order: it finds the target and the namespaces --dir, --all,
// -N and --user-parent add, opens every file the join needs (nothing is
// entered before all are open), reads what it takes from the target and,
// for -c, joins the target's cgroup. The JoinPlan it returns does the
// rest. name is the applet's, for the messages.
func (p *Plan) open(name string) (*nsexec.JoinPlan, error) {
	pidfd, err := p.targetPidfd()
	if err != nil {
		return nil, err
	}
	var want joinSet
	for _, j := range p.Joins {
		want[j.Type] = &nsexec.Join{Type: j.Type, Fd: -1, Path: j.Path}
		if j.ByID {
			if want[j.Type].Fd, err = openNsID(j.NsID); err != nil {
				return nil, err
			}
		}
	}
	pinned, err := p.addJoins(&want, pidfd)
	if err != nil {
		return nil, err
	}
	jp := nsexec.NewJoinPlan(name)
	for _, t := range ns.JoinOrder {
		if w := want[t]; w != nil {
			jp.Joins = append(jp.Joins, *w)
			jp.Fork = jp.Fork || t == ns.Pid && !p.NoFork
		}
	}
	if err := p.openJoins(jp, pidfd); err != nil {
		return nil, err
	}
	if err := p.openRest(jp, want[ns.User] != nil); err != nil {
		return nil, err
	}
	// -a on a target that shares every namespace with the caller, or
	// --dir on a handle that pins only the caller's own, leaves nothing to
	// enter: the program runs, as with util-linux's -a (which enters them
	// again). Otherwise there must be something to enter, also with -r
	// and -w (util-linux 2.41+).
	if len(jp.Joins) == 0 && p.All == nil && !pinned {
		return nil, applet.Errorf("no namespace specified")
	}
	// The mounts of --netns are made in Go, after the joins; the C stage
	// that enters user and time namespaces execs the program itself.
	if p.Netns != nil && jp.NeedsConstructor() {
		return nil, applet.Errorf("--netns cannot be combined with entering a user or time namespace")
	}
	// With -t PID:INODE, everything under /proc/PID was opened while the
	// pidfd's process was alive, so PID was still that process's.
	if p.TargetInode != 0 && unix.PidfdSendSignal(pidfd, 0, nil, 0) != nil {
		return nil, applet.Errorf("failed to obtain a valid file descriptor for PID %d: %s", p.Target, applet.Strerror(unix.ESRCH))
	}
	if p.Cgroup != nil {
		if err := joinCgroup(p.Cgroup); err != nil {
			return nil, err
		}
	}
	jp.Netns = p.Netns
	if len(p.Argv) > 0 {
		jp.Path, jp.Argv = p.Argv[0], p.Argv
	} else {
		jp.Path = idmap.Shell()
		jp.Argv = []string{"-" + filepath.Base(jp.Path)}
	}
	return jp, nil
}

// openRest opens the directories of -r and -w, /proc/PID for -S and -G
// follow, reads the target's environment (-e) and checks that -c has a
// target, in util-linux's order. user: a user namespace is entered.
func (p *Plan) openRest(jp *nsexec.JoinPlan, user bool) (err error) {
	if jp.RootFd, err = p.Root.openDir(); err != nil {
		return err
	}
	if jp.WdFd, err = p.Wd.openDir(); err != nil {
		return err
	}
	jp.WdNs = p.WdNs
	if err := p.setCredentials(jp, user); err != nil {
		return err
	}
	if jp.Env, err = p.environ(); err != nil {
		return err
	}
	if p.Cgroup != nil && p.Cgroup.NoTarget != "" {
		return applet.Errorf("%s", p.Cgroup.NoTarget)
	}
	return nil
}

// targetPidfd opens a pidfd of the target: -1 without a target or when
// the kernel gives none (the files under /proc/PID then say what is
// missing). With -t PID:INODE the pidfd must be one and have that inode
// (a pidfs file, Linux 6.9+): util-linux 2.43's guard against a PID that
// another process took over.
func (p *Plan) targetPidfd() (int, error) {
	if p.Target == 0 {
		return -1, nil
	}
	pidfd, err := unix.PidfdOpen(p.Target, 0)
	if p.TargetInode == 0 {
		if err != nil {
			return -1, nil
		}
		return pidfd, nil
	}
	var sfs unix.Statfs_t
	var st unix.Stat_t
	switch {
	case err != nil:
	case unix.Fstatfs(pidfd, &sfs) != nil || sfs.Type != pidfsMagic:
		err = unix.ENOTSUP
	case unix.Fstat(pidfd, &st) != nil || st.Ino != p.TargetInode:
		err = unix.ESRCH
	}
	if err != nil {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
		return -1, applet.Errorf("failed to obtain a valid file descriptor for PID %d: %s", p.Target, applet.Strerror(err))
	}
	return pidfd, nil
}

// pidfsMagic is the file system of pidfds since Linux 6.9 (PIDFS_MAGIC),
// whose inode numbers are never reused.
const pidfsMagic = 0x50494446

// addJoins adds to want the namespaces of --dir, --all, -N and
// --user-parent; -N takes the socket through the target's pidfd (-1:
// none). pinned tells whether --dir's directory pins any namespace, the
// caller's own included.
func (p *Plan) addJoins(want *joinSet, pidfd int) (pinned bool, err error) {
	if p.Dir != "" {
		if pinned, err = addDir(want, p.Dir); err != nil {
			return false, err
		}
	}
	if p.All != nil {
		if err := addAll(want, p.All); err != nil {
			return false, err
		}
	}
	if s := p.NetSocket; s != nil {
		if s.NoTarget != "" {
			return false, applet.Errorf("%s", s.NoTarget)
		}
		fd, err := netnsOfSocket(p.Target, pidfd, s.FD)
		if err != nil {
			return false, err
		}
		want[ns.Net] = &nsexec.Join{Type: ns.Net, Fd: fd}
	}
	if p.UserParent {
		if err := addUserParent(want, p.Target); err != nil {
			return false, err
		}
	}
	return pinned, nil
}

// openJoins opens the namespace files of jp, or lets one setns on the
// pidfd enter them all when every one is the target's own (no files, no
// socket): the kernel orders them. Exec takes the pidfd (user and time go
// through the constructor, which enters file by file), and opens the
// files only if it fails.
func (p *Plan) openJoins(jp *nsexec.JoinPlan, pidfd int) error {
	own := pidfd >= 0 && len(jp.Joins) > 0 && p.Dir == "" && p.NetSocket == nil && !p.UserParent && !jp.NeedsConstructor()
	for _, j := range p.Joins {
		own = own && j.FromTarget
	}
	if own {
		jp.PidFd = pidfd
		for _, x := range jp.Joins {
			jp.PidMask |= x.Type.Flag()
		}
		if p.TargetInode == 0 {
			return nil
		}
		// A checked target: the files Exec would fall back on are
		// opened now, while the pidfd vouches for them (see open).
	}
	for i, x := range jp.Joins {
		if x.Fd >= 0 {
			continue
		}
		fd, err := openNsFile(x.Path)
		if err != nil {
			return err
		}
		jp.Joins[i].Fd = fd
	}
	return nil
}

// openNsFile opens a namespace file to enter without blocking or acting on
// it: a FIFO or a device is refused unopened (nsfs.OpenOperand); a
// regular file or a directory is opened, and setns refuses it in
// util-linux's words.
func openNsFile(path string) (int, error) {
	fd, err := nsfs.OpenOperand(path)
	switch {
	case errors.Is(err, nsfs.ErrNotNamespace):
		return -1, applet.Errorf("%s: not a namespace file", path)
	case err != nil:
		return -1, applet.Errorf("cannot open %s: %s", path, applet.Strerror(err))
	}
	return fd, nil
}

// setCredentials: root in an entered user namespace, unless told
// otherwise; then -S and -G, whose "follow" opens /proc/PID now and reads
// its ids after entering (see FollowFd).
func (p *Plan) setCredentials(jp *nsexec.JoinPlan, user bool) error {
	if user && !p.Preserve {
		jp.DropGroups, jp.Uid, jp.Gid = true, 0, 0
	}
	if p.Follow != nil {
		fd, err := p.Follow.openDir()
		if err != nil {
			return err
		}
		jp.FollowFd, jp.FollowUid, jp.FollowGid = fd, p.FollowUid, p.FollowGid
	}
	if p.Uid >= 0 {
		jp.Uid = p.Uid
	}
	if p.Gid >= 0 {
		jp.Gid = p.Gid
	}
	jp.DropGroups = jp.DropGroups || p.Gid >= 0 || p.FollowGid
	jp.KeepCaps = p.KeepCaps && user
	return nil
}

// environ is the program's environment: the caller's, or with -e the
// target's.
func (p *Plan) environ() ([]string, error) {
	if p.Environ == nil {
		return os.Environ(), nil
	}
	if p.Environ.NoTarget != "" {
		return nil, applet.Errorf("%s", p.Environ.NoTarget)
	}
	b, err := os.ReadFile(p.Environ.Path)
	if err != nil {
		return nil, applet.Errorf("cannot read %s: %s", p.Environ.Path, applet.Strerror(err))
	}
	var env []string
	for _, kv := range bytes.Split(b, []byte{0}) {
		if len(kv) > 0 {
			env = append(env, string(kv))
		}
	}
	return env, nil
}

// openDir opens the directory s names: -1 for no s.
func (s *Source) openDir() (int, error) {
	if s == nil {
		return -1, nil
	}
	if s.NoTarget != "" {
		return -1, applet.Errorf("%s", s.NoTarget)
	}
	fd, err := unix.Open(s.Path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, applet.Errorf("cannot open %s: %s", s.Path, applet.Strerror(err))
	}
	return fd, nil
}

// addDir adds every namespace pinned in dir that the caller is not in and
// want has no file for (setns on one's own user namespace fails: EINVAL,
// which util-linux's -a avoids so). pinned tells whether dir pins any.
func addDir(want *joinSet, dir string) (pinned bool, err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, applet.Errorf("cannot open %s: %s", dir, applet.Strerror(err))
	}
	unix.Close(fd)
	for _, t := range ns.JoinOrder {
		p := filepath.Join(dir, t.String())
		if !isNsfs(p) {
			continue
		}
		pinned = true
		if want[t] == nil && differs(p, t) {
			want[t] = &nsexec.Join{Type: t, Fd: -1, Path: p}
		}
	}
	return pinned, nil
}

// addAll adds every namespace of the target (all.Path is its /proc/PID/ns)
// that the caller is not in and want has no file for.
func addAll(want *joinSet, all *Source) error {
	if all.NoTarget != "" {
		return applet.Errorf("%s", all.NoTarget)
	}
	for _, t := range ns.JoinOrder {
		if want[t] != nil {
			continue
		}
		var self, tgt unix.Stat_t
		if unix.Stat("/proc/self/ns/"+t.String(), &self) != nil {
			continue // a namespace type this kernel lacks
		}
		p := all.Path + "/" + t.String()
		if err := unix.Stat(p, &tgt); err != nil {
			return applet.Errorf("stat of %s failed: %s", p, applet.Strerror(err))
		}
		// Entering a namespace one is already in changes nothing, but
		// needs privilege the owner of a rootless container lacks;
		// util-linux skips only the user namespace.
		if self.Ino == tgt.Ino && self.Dev == tgt.Dev {
			continue
		}
		want[t] = &nsexec.Join{Type: t, Fd: -1, Path: p}
	}
	return nil
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
func netnsOfSocket(pid, pidfd int, fd int) (int, error) {
	if pidfd < 0 {
		var err error
		if pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
			return -1, applet.Errorf("failed to pidfd_open() for %d: %s", pid, applet.Strerror(err))
		}
		defer unix.Close(pidfd)
	}
	sock, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, applet.Errorf("pidfd_getfd(%d) failed: %s", fd, applet.Strerror(err))
	}
	defer unix.Close(sock)
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(sock), unix.SIOCGSKNS, 0)
	if errno != 0 {
		return -1, applet.Errorf("ioctl(SIOCGSKNS) failed: %s", applet.Strerror(errno))
	}
	return int(r), nil
}

// addUserParent: --user-parent enters the parent of the user namespace
// to enter, or the owner of any other namespace to enter, or else the
// parent of the target's user namespace.
func addUserParent(want *joinSet, pid int) error {
	var from *nsexec.Join
	req := uintptr(unix.NS_GET_USERNS)
	if u := want[ns.User]; u != nil {
		from, req = u, unix.NS_GET_PARENT
	} else {
		for _, t := range ns.JoinOrder {
			if w := want[t]; w != nil {
				from = w
				break
			}
		}
	}
	if from == nil && pid != 0 {
		from, req = &nsexec.Join{Path: fmt.Sprintf("/proc/%d/ns/user", pid), Fd: -1}, unix.NS_GET_PARENT
	}
	if from == nil {
		return applet.Errorf("no namespace specified for --user-parent")
	}
	fd := from.Fd
	if fd < 0 {
		var err error
		if fd, err = openNsFile(from.Path); err != nil {
			return err
		}
		defer unix.Close(fd)
	}
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, 0)
	if errno != 0 {
		return applet.Errorf("failed to get the parent user namespace: %s", applet.Strerror(errno))
	}
	want[ns.User] = &nsexec.Join{Type: ns.User, Fd: int(r)}
	return nil
}

// joinCgroup moves this process into the cgroup v2 of the target, whose
// /proc/PID/cgroup src names.
func joinCgroup(src *Source) error {
	if src.NoTarget != "" {
		return applet.Errorf("%s", src.NoTarget)
	}
	b, err := os.ReadFile(src.Path)
	if err != nil {
		return applet.Errorf("cannot read %s: %s", src.Path, applet.Strerror(err))
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
