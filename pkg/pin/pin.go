// Package pin keeps namespaces alive without a process. A pin is a bind
// mount of a process's /proc/PID/ns/TYPE file onto an ordinary file: the
// namespace lives as long as the mount does, and nsenter --TYPE=FILE (or
// setns on the opened file) enters it. The package makes pins, releases
// them, and knows the three places they live:
//
//   - a file of the caller's choosing (Pin), as util-linux unshare --net=FILE;
//   - a directory handle, DIR/<type> for each pinned type (PinDir), the
//     natural handle of a container that has no process yet;
//   - /run/netns/NAME (PinNetns), made exactly as iproute2's "ip netns add"
//     makes it, so that "ip netns exec", "ip -n" and "ip netns del" work.
//
// Releasing (Unpin, UnpinDir, UnpinNetns) detaches an nsfs mount only after
// checking that the file really is one (NSFS_MAGIC), and never unmounts
// anything else but the self-bind that PinDir itself made.
//
// Two kernel rules govern mount-namespace pins (fs/namespace.c): only the
// file of a mount namespace newer than the caller's can be bound (so a
// process cannot pin its own), and a bind that would propagate to peer
// mounts fails with EINVAL for mount-namespace files. A mount-namespace pin
// therefore needs a parent mount that is not shared; PinDir makes the
// directory a private mount point itself when it is not one (bind it onto
// itself, make it private: the recipe of unshare(1)), records that in a
// marker file, and UnpinDir undoes exactly that.
//
// Every operation that makes several pins (Batch) is all or nothing: when a
// step fails, what the batch made (files, mounts, directories, the marker)
// is removed in reverse order before the error is returned.
//
// The package uses golang.org/x/sys/unix and the standard library only, and
// needs CAP_SYS_ADMIN over the caller's mount namespace (root, or root of a
// user namespace that owns it) to mount; opening /proc/PID/ns/* needs
// ptrace-read access to PID.
package pin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/ns"
)

// NetnsDir is where named network namespaces live (iproute2's
// NETNS_RUN_DIR).
var NetnsDir = "/run/netns"

// MarkerName is the file in a directory handle that records what PinDir
// made there: whether it created the directory, and the identity of the
// private self-bind it mounted on it.
const MarkerName = ".nsbox-pin"

// Sentinel errors, found with errors.Is.
var (
	ErrNotPin     = errors.New("not a namespace pin")
	ErrAlreadyPin = errors.New("already a namespace pin")
	ErrNotHandle  = errors.New("not a pin directory")
	ErrOwnMount   = errors.New("a mount namespace cannot pin itself")
	ErrNoPlace    = errors.New("no file or directory to pin it on")

	errOwnMount  = errors.New("it is pin's own mount namespace")
	errHoldsPins = errors.New("it holds pins already and is not a private mount point")
)

// Error is a failed step: Op names it ("mount /proc/7/ns/net on /x failed",
// "cannot create /x"), Err says why (an errno or one of the sentinels), and
// Hint, when not empty, explains a kernel rule behind Err.
type Error struct {
	Op   string
	Err  error
	Hint string
}

func (e *Error) Error() string {
	s := e.Op + ": " + e.Err.Error()
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func fail(err error, format string, args ...any) *Error {
	return &Error{Op: fmt.Sprintf(format, args...), Err: err}
}

// Names lists the file names of a directory handle, one per namespace type,
// in ns.JoinOrder: user cgroup ipc uts net pid mnt time.
func Names() []string {
	out := make([]string, len(ns.JoinOrder))
	for i, t := range ns.JoinOrder {
		out[i] = t.String()
	}
	return out
}

// ValidNetnsName reports whether name is acceptable under NetnsDir, by
// iproute2's rules: not empty, no "/", not "." or "..", at most NAME_MAX
// bytes.
func ValidNetnsName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsRune(name, '/') &&
		!strings.ContainsRune(name, 0) && len(name) <= 255
}

// Pin binds the namespace of type t of process pid onto path, creating
// path (it may also be an existing empty regular file). With forChildren,
// pid and time pin pid_for_children and time_for_children: the namespace
// the process's next children get, which differs from its own after it
// unshared one of them. A mount-namespace pin needs path's mount to be
// non-shared (see PinDir, which arranges that).
func Pin(pid int, t ns.Type, path string, forChildren bool) error {
	_, err := (&Batch{PID: pid, ForChildren: forChildren, Targets: []Target{{Type: t, Path: path}}}).Do()
	return err
}

// PinDir pins the namespaces of pid of the given types (every type the
// kernel has when types is empty; then a mount namespace that is the
// caller's own is skipped) into dir/<type>, creating dir if it is missing.
// When a mount namespace is pinned and dir is not a non-shared mount point,
// dir is bound onto itself and made private first (Result.Prepared).
func PinDir(pid int, dir string, types []ns.Type, forChildren bool) (*Result, error) {
	b := &Batch{PID: pid, ForChildren: forChildren, Dir: dir}
	all := len(types) == 0
	if all {
		types = ns.JoinOrder[:]
	}
	for _, t := range types {
		b.Targets = append(b.Targets, Target{Type: t, Optional: all})
	}
	return b.Do()
}

// PinNetns pins the network namespace of pid as NetnsDir/name the way
// "ip netns add" does: NetnsDir is created (0755) and made a shared mount
// point (bound onto itself first if it is not a mount point), name is
// created with O_EXCL, and the namespace file is bound onto it.
func PinNetns(pid int, name string) error {
	_, err := (&Batch{PID: pid, Netns: name}).Do()
	return err
}

// Target is one pin of a Batch: the namespace of Type onto Path, or onto
// Batch.Dir/<Type> when Path is empty.
type Target struct {
	Type ns.Type
	Path string
	// Optional targets are skipped (Result.Skipped) instead of failing
	// the batch when the kernel lacks the type, or when it is a mount
	// namespace that is the caller's own, which the kernel refuses to pin:
	// what "every namespace" means.
	Optional bool
}

// Batch pins several namespaces of one process in one step: all of them or,
// after a failure, none (what was made is undone).
type Batch struct {
	PID         int
	ForChildren bool     // pid and time: pin *_for_children
	Dir         string   // the directory handle for Targets without a Path
	Targets     []Target // in the order they are pinned
	Netns       string   // also pin the network namespace as NetnsDir/Netns
	// Hold keeps the namespaces alive with a holder process instead of
	// mounts (see hold.go): Dir handles only, no privilege needed.
	Hold bool
}

// Result is what a Batch did.
type Result struct {
	Pins     []Pinned // in the order they were made
	Prepared string   // Dir, when the batch made it a private mount point
	Created  string   // Dir, when the batch created it
	Skipped  []Skip
	Holder   int // the holder process of a held handle
}

// Pinned is one pin a Batch made: the namespace (its type and inode
// number) and the file that holds it.
type Pinned struct {
	Type ns.Type
	Ino  uint64
	Path string
}

// Skip is a target a Batch left out, and why.
type Skip struct {
	Type   ns.Type
	Reason error // ErrOwnMount, or the error opening a type the kernel lacks
}

// source is an opened namespace file of the target process.
type source struct {
	t     ns.Type
	file  string // under /proc/PID/ns
	path  string // where to pin it; "" = Dir/<t.String()>
	netns bool   // the NetnsDir pin
	fd    int
	ino   uint64 // the namespace's inode number
}

// Do makes the pins. On failure nothing it made is left behind.
func (b *Batch) Do() (*Result, error) {
	if b.PID <= 0 {
		return nil, fail(unix.ESRCH, "invalid PID %d", b.PID)
	}
	if b.Netns != "" && !ValidNetnsName(b.Netns) {
		return nil, fail(unix.EINVAL, "invalid netns name '%s'", b.Netns)
	}
	res := &Result{}
	var u undo
	var srcs []source
	err := b.do(res, &u, &srcs)
	if err != nil {
		u.run() // before the descriptors the steps use are closed
	}
	u.close()
	for _, s := range srcs {
		unix.Close(s.fd)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (b *Batch) do(res *Result, u *undo, srcs *[]source) error {
	// Open every namespace file first: a bad PID or type fails before
	// anything is created.
	if err := b.open(res, srcs); err != nil {
		return err
	}
	if b.Hold {
		return b.hold(res, u, *srcs)
	}
	needDir, needPrivate, needNetns := false, false, false
	for _, s := range *srcs {
		switch {
		case s.netns:
			needNetns = true
		case s.path == "":
			needDir = true
			needPrivate = needPrivate || s.t.Flag() == unix.CLONE_NEWNS
		}
	}
	dirfd := -1
	if needDir {
		fd, err := b.prepareDir(res, u, needPrivate)
		if err != nil {
			return err
		}
		dirfd = fd
	}
	if needNetns {
		if err := prepareNetnsDir(u); err != nil {
			return err
		}
	}
	for _, s := range *srcs {
		at, name, path := unix.AT_FDCWD, s.path, s.path
		if path == "" {
			at, name, path = dirfd, s.t.String(), filepath.Join(b.Dir, s.t.String())
		}
		if err := bind(b.PID, s, at, name, path, s.netns, u); err != nil {
			return err
		}
		res.Pins = append(res.Pins, Pinned{Type: s.t, Ino: s.ino, Path: path})
	}
	return nil
}

// open opens /proc/PID/ns/FILE for every target, and for the netns.
func (b *Batch) open(res *Result, srcs *[]source) error {
	var own *unix.Stat_t
	procPath := "/proc/" + strconv.Itoa(b.PID)
	procfd, perr := unix.Open(procPath, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if perr == nil {
		defer unix.Close(procfd)
	}
	add := func(t ns.Type, path string, netns, optional bool) error {
		file := t.String()
		if b.ForChildren {
			file = t.ChildFile()
		}
		nsPath := procPath + "/ns/" + file
		if perr != nil {
			return fail(perr, "cannot open %s", nsPath)
		}
		fd, err := unix.Openat(procfd, "ns/"+file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			if optional && err == unix.ENOENT && !kernelHas(file) {
				res.Skipped = append(res.Skipped, Skip{Type: t, Reason: fail(err, "cannot open %s", nsPath)})
				return nil
			}
			e := fail(err, "cannot open %s", nsPath)
			if err == unix.ENOENT && file == "pid_for_children" && alive(procfd) {
				// The kernel shows pid_for_children only once the new pid
				// namespace has its first process (its child reaper).
				e.Hint = "the pid namespace its children get has no process yet"
			}
			return e
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return fail(err, "cannot stat %s", nsPath)
		}
		if t.Flag() == unix.CLONE_NEWNS {
			if own == nil {
				own = &unix.Stat_t{}
				if err := unix.Stat("/proc/self/ns/mnt", own); err != nil {
					unix.Close(fd)
					return fail(err, "cannot stat /proc/self/ns/mnt")
				}
			}
			if st.Dev == own.Dev && st.Ino == own.Ino {
				unix.Close(fd)
				if optional {
					res.Skipped = append(res.Skipped, Skip{Type: t, Reason: ErrOwnMount})
					return nil
				}
				return &Error{Op: fmt.Sprintf("cannot pin the mount namespace of PID %d", b.PID),
					Err: errOwnMount, Hint: ErrOwnMount.Error()}
			}
		}
		*srcs = append(*srcs, source{t: t, file: file, path: path, netns: netns, fd: fd, ino: st.Ino})
		return nil
	}
	for _, tg := range b.Targets {
		if tg.Path == "" && b.Dir == "" {
			return &Error{Op: fmt.Sprintf("cannot pin the %s namespace", tg.Type.String()), Err: ErrNoPlace}
		}
		if err := add(tg.Type, tg.Path, false, tg.Optional); err != nil {
			return err
		}
	}
	if b.Netns != "" {
		net := ns.Net
		if err := add(net, filepath.Join(NetnsDir, b.Netns), true, false); err != nil {
			return err
		}
	}
	return nil
}

// alive reports whether the process of the /proc/PID descriptor procfd
// still has namespaces (it has not exited).
func alive(procfd int) bool {
	fd, err := unix.Openat(procfd, "ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	return err == nil
}

// kernelHas reports whether this kernel has the namespace file file.
func kernelHas(file string) bool {
	var st unix.Stat_t
	return unix.Lstat("/proc/self/ns/"+file, &st) == nil
}

// prepareDir creates b.Dir if needed (makeDir), makes it a private mount
// point when private is set and it is not a non-shared mount point
// already, writes the marker, and returns a descriptor of the (top-most)
// directory.
func (b *Batch) prepareDir(res *Result, u *undo, private bool) (int, error) {
	dir := b.Dir
	dirfd, created, err := makeDir(dir)
	if err != nil {
		return -1, err
	}
	u.closeAfter(dirfd)
	if created {
		res.Created = dir
		u.push(func() { removeMade(dir) })
	}
	return b.prepareMarked(res, u, dirfd, private)
}

// prepareMarked is prepareDir on the directory dirfd: the self-bind when
// private needs one, and the marker. It returns the descriptor to use
// from now on: dirfd, or the self-bind's root.
func (b *Batch) prepareMarked(res *Result, u *undo, dirfd int, private bool) (int, error) {
	dir := b.Dir
	old, hadMarker, err := readMarkerAt(dirfd)
	if err != nil {
		return -1, fail(err, "cannot read %s", filepath.Join(dir, MarkerName))
	}
	m := old
	if private {
		ok, err := privateMountPoint(dirfd)
		if err != nil {
			return -1, fail(err, "cannot read the mount of %s", dir)
		}
		if !ok {
			// A bind of dir onto itself would hide the pins already in
			// it (they stay on the mount beneath).
			if held := pinsAt(dirfd); len(held) > 0 {
				return -1, &Error{Op: fmt.Sprintf("cannot pin a mount namespace into %s", dir), Err: errHoldsPins,
					Hint: "a mount-namespace pin needs a private mount point, and making one now would hide them; release them first, or use another directory"}
			}
			fd, err := selfBind(dirfd, dir, m, old, hadMarker, u)
			if err == nil {
				res.Prepared = dir
			}
			return fd, err
		}
	}
	if !hadMarker {
		if err := writeMarkerAt(dirfd, m); err != nil {
			return -1, fail(err, "cannot write %s", filepath.Join(dir, MarkerName))
		}
		u.push(func() { unix.Unlinkat(dirfd, MarkerName, 0) })
	}
	return dirfd, nil
}

// selfBind binds the directory dirfd onto itself and makes the new mount
// private, recording it in the marker (m, which replaces old) before it
// is attached: open_tree makes the bind detached, the marker gets its
// identity, move_mount attaches it. A kill before the move leaves a marker
// naming a mount that is not there, which pin -d leaves alone; the
// detached mount goes with the process. It returns a descriptor of the
// new mount's root, which the pins go into.
func selfBind(dirfd int, dir string, m, old marker, hadMarker bool, u *undo) (int, error) {
	tree, err := unix.OpenTree(dirfd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, fail(err, "cannot bind %s onto itself", dir)
	}
	u.closeAfter(tree)
	if m.Bind, err = mountID(tree); err != nil {
		return -1, fail(err, "cannot read the mount of %s", dir)
	}
	if err := writeMarkerAt(dirfd, m); err != nil {
		return -1, fail(err, "cannot write %s", filepath.Join(dir, MarkerName))
	}
	if hadMarker {
		u.push(func() { writeMarkerAt(dirfd, old) })
	} else {
		u.push(func() { unix.Unlinkat(dirfd, MarkerName, 0) })
	}
	if err := unix.MoveMount(tree, "", dirfd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return -1, fail(err, "cannot bind %s onto itself", dir)
	}
	u.push(func() { unix.Unmount(procFd(tree), unix.MNT_DETACH) })
	if err := unix.Mount("none", procFd(tree), "", unix.MS_PRIVATE, ""); err != nil {
		return tree, fail(err, "cannot make %s a private mount", dir)
	}
	return tree, nil
}

// bind creates the pin file name (relative to the directory descriptor
// at, or AT_FDCWD) and binds s onto it. strict refuses an existing empty
// file (iproute2's O_EXCL), which is otherwise reused.
func bind(pid int, s source, at int, name, path string, strict bool, u *undo) error {
	created := true
	fd, err := unix.Openat(at, name, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.EEXIST {
		created = false
		fd, err = existing(at, name, path, strict)
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return fail(err, "cannot create %s", path)
	}
	defer unix.Close(fd)
	if created {
		u.push(func() { unix.Unlinkat(at, name, 0) })
	}
	if err := unix.Mount(procFd(s.fd), procFd(fd), "", unix.MS_BIND, ""); err != nil {
		e := fail(err, "mount /proc/%d/ns/%s on %s failed", pid, s.file, path)
		if err == unix.EINVAL && s.t.Flag() == unix.CLONE_NEWNS {
			e.Hint = mountHint(fd)
		}
		return e
	}
	u.push(func() {
		if p, err := unix.Openat(at, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err == nil {
			if isNsfs(p) {
				unix.Unmount(procFd(p), unix.MNT_DETACH)
			}
			unix.Close(p)
		}
	})
	return nil
}

// existing opens an existing pin file candidate: an empty regular file is
// fine (unless strict), a pin is refused with ErrAlreadyPin, anything else
// with EEXIST.
func existing(at int, name, path string, strict bool) (int, error) {
	fd, err := unix.Openat(at, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fail(unix.EEXIST, "cannot create %s", path)
	}
	if isNsfs(fd) {
		unix.Close(fd)
		return -1, &Error{Op: path, Err: ErrAlreadyPin}
	}
	var st unix.Stat_t
	if strict || unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != 0 {
		unix.Close(fd)
		return -1, fail(unix.EEXIST, "cannot create %s", path)
	}
	return fd, nil
}

// mountHint explains an EINVAL from binding a mount-namespace file onto
// the file fd.
func mountHint(fd int) string {
	if shared, err := sharedMount(fd); err == nil && shared {
		return "the mount holding the file is shared: a mount-namespace pin needs a private one; pin into a DIR, which pin makes private"
	}
	return "only a mount namespace newer than pin's own can be pinned"
}

// IsPin reports whether path (not following a final symbolic link) is a
// namespace pin: a mounted nsfs file.
func IsPin(path string) (bool, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	return isNsfs(fd), nil
}

func isNsfs(fd int) bool {
	var sfs unix.Statfs_t
	return unix.Fstatfs(fd, &sfs) == nil && sfs.Type == unix.NSFS_MAGIC
}

func procFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// undo is a stack of steps that reverse what was done, and the
// descriptors they use, closed after them.
type undo struct {
	steps []func()
	fds   []int
}

// closeAfter has fd closed once the batch is over, after any undo.
func (u *undo) closeAfter(fd int) { u.fds = append(u.fds, fd) }

// close closes the descriptors of closeAfter.
func (u *undo) close() {
	for _, fd := range u.fds {
		unix.Close(fd)
	}
	u.fds = nil
}

func (u *undo) push(f func()) { u.steps = append(u.steps, f) }

// run undoes every step, last first.
func (u *undo) run() {
	for i := len(u.steps) - 1; i >= 0; i-- {
		u.steps[i]()
	}
	u.steps = nil
}
