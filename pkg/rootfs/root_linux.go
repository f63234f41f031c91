package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/errtext"
	"github.com/nsbox/nsbox/pkg/nsfs"
)

// Error is a failure of this package: What failed (a step, an option as
// given, a path), the errno or sentinel, and Why, an explanation that
// follows the strerror text.
type Error struct {
	What string
	Err  error
	Why  string
}

func (e *Error) Error() string {
	s := e.What + ": " + errtext.Strerror(e.Err)
	if e.Why != "" {
		s += ": " + e.Why
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinels of Error.Err.
var (
	ErrEscapes  = errors.New("destination escapes the new root")
	ErrFileOnto = errors.New("cannot mount a file on a directory")
	ErrDirOnto  = errors.New("cannot mount a directory on a file")
	ErrIsRoot   = errors.New("destination is the new root itself")
)

// beneath: never leave the new root, by "..", an absolute symbolic link or
// a /proc magic link.
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS

// Root is the new root directory, opened once as an O_PATH descriptor:
// its facts, every mount point (resolved beneath it), the bind of it onto
// itself and the root switch all go through that descriptor, so that
// renaming a directory on the path it was named by changes nothing.
type Root struct {
	// Path names the new root in messages only: where the directory was
	// when it was opened (its /proc/self/fd link), else the name as given,
	// made absolute. It is never looked up.
	Path string
	fd   int
	id   fileID
}

// fileID tells a directory apart from every other in the mount table:
// the mount it is seen through and its inode.
type fileID struct{ mnt, dev, ino uint64 }

func idOf(st *unix.Statx_t) fileID {
	return fileID{mnt: st.Mnt_id, dev: uint64(unix.Mkdev(st.Dev_major, st.Dev_minor)), ino: st.Ino}
}

// OpenRoot opens the directory name (symbolic links followed, as the
// caller named it) as the new root. This is the one lookup of name.
func OpenRoot(name string) (*Root, error) {
	fd, err := openRetry(unix.AT_FDCWD, name, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC})
	if err != nil {
		return nil, &Error{What: name, Err: err}
	}
	r := &Root{Path: name, fd: fd}
	if p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && path.IsAbs(p) {
		r.Path = p
	} else if abs, err := filepath.Abs(name); err == nil {
		r.Path = abs
	}
	st, err := statxFd(fd)
	if err != nil {
		unix.Close(fd)
		return nil, &Error{What: name, Err: err}
	}
	r.id = idOf(&st)
	return r, nil
}

// Close closes the root's descriptor.
func (r *Root) Close() error { return unix.Close(r.fd) }

func openRetry(dirfd int, name string, how *unix.OpenHow) (int, error) {
	for {
		fd, err := unix.Openat2(dirfd, name, how)
		if err != nil && (err == unix.EAGAIN || err == unix.EINTR) {
			continue
		}
		return fd, err
	}
}

// isRoot reports whether fd is the new root itself: the same directory
// through the same mount (a bind of the root elsewhere in it is not).
func (r *Root) isRoot(fd int) bool {
	st, err := statxFd(fd)
	return err == nil && idOf(&st) == r.id
}

func (r *Root) open(rel string, flags uint64) (int, error) {
	return openRetry(r.fd, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC | flags, Resolve: beneath})
}

func components(target string) []string {
	t := strings.Trim(target, "/")
	if t == "" {
		return nil
	}
	return strings.Split(t, "/")
}

// walk resolves target's components one prefix at a time beneath the root
// and returns the descriptor of the deepest one that exists and how many
// components that is. An escape is reported with the prefix that
// leads out; ENOENT ends the walk without error.
func (r *Root) walk(what, target string) (fd, n int, err error) {
	fd, err = r.open(".", 0)
	if err != nil {
		return -1, 0, &Error{What: what, Err: err}
	}
	comps := components(target)
	for i := range comps {
		p := "/" + path.Join(comps[:i+1]...)
		nfd, err := r.open(p[1:], 0)
		if err == unix.ENOENT {
			return fd, i, nil
		}
		if err != nil {
			unix.Close(fd)
			return -1, 0, r.lookupError(what, p, err)
		}
		unix.Close(fd)
		fd = nfd
	}
	if len(comps) > 0 && r.isRoot(fd) {
		unix.Close(fd)
		return -1, 0, r.rootError(what, target)
	}
	return fd, len(comps), nil
}

// rootError refuses a mount point that resolves to the new root itself
// (a symbolic link "tmp -> ."): a mount there would cover the whole root.
func (r *Root) rootError(what, target string) error {
	return &Error{What: what, Err: ErrIsRoot, Why: target + " leads back to " + r.Path}
}

func (r *Root) lookupError(what, p string, err error) error {
	switch err {
	case unix.EXDEV:
		return &Error{What: what, Err: ErrEscapes, Why: p + " is a symbolic link out of " + r.Path}
	case unix.ENOTDIR:
		p = path.Dir(p)
	}
	return &Error{What: what + ": " + p + " in " + r.Path, Err: err}
}

func isDir(fd int) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// mountPoint returns the descriptor of step s's mount point, made (with
// its missing parents, mode 0755) unless s.IfExists; -1 and no error when
// an IfExists mount point is missing.
func (r *Root) mountPoint(s Step) (int, error) {
	fd, n, err := r.walk(s.Name, s.Target)
	if err != nil {
		return -1, err
	}
	comps := components(s.Target)
	if n == len(comps) {
		return fd, r.checkType(s, fd)
	}
	if s.IfExists {
		unix.Close(fd)
		return -1, nil
	}
	for i := n; i < len(comps); i++ {
		p := "/" + path.Join(comps[:i+1]...)
		var err error
		if i == len(comps)-1 && s.File {
			var f int
			f, err = unix.Openat(fd, comps[i], unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
			if err == nil {
				unix.Close(f)
			}
		} else {
			err = unix.Mkdirat(fd, comps[i], 0o755)
		}
		unix.Close(fd)
		if err != nil && err != unix.EEXIST {
			return -1, &Error{What: s.Name + ": cannot create " + p + " in " + r.Path, Err: err}
		}
		if fd, err = r.open(p[1:], 0); err != nil {
			return -1, r.lookupError(s.Name, p, err)
		}
	}
	if r.isRoot(fd) {
		unix.Close(fd)
		return -1, r.rootError(s.Name, s.Target)
	}
	return fd, r.checkType(s, fd)
}

// checkType closes fd and fails when the mount point's type does not fit
// the mount: a file for a device node or a bound file, else a directory.
func (r *Root) checkType(s Step, fd int) error {
	dir, err := isDir(fd)
	if err != nil {
		unix.Close(fd)
		return &Error{What: s.Name, Err: err}
	}
	switch {
	case s.Op == OpSymlink:
		unix.Close(fd)
		return &Error{What: s.Name + ": " + s.Target + " in " + r.Path, Err: unix.EEXIST}
	case s.File && dir:
		unix.Close(fd)
		return &Error{What: s.Name, Err: ErrFileOnto, Why: s.Target + " is a directory in " + r.Path}
	case !s.File && !dir:
		unix.Close(fd)
		return &Error{What: s.Name, Err: ErrDirOnto, Why: s.Target + " is not a directory in " + r.Path}
	}
	return nil
}

// Check validates steps against the new root before anything is mounted,
// and records in each bind step whether its source is a file. It fails on
// a bind source that is missing, a destination that is the root itself
// (by name, or resolving to it) or leaves it ("..", a symbolic link out of
// it), a mount point under a file,
// and a mount point of the wrong type (a directory bound onto a file or
// the reverse). Mount points under an earlier mount of the plan are
// checked only when they are made.
func (r *Root) Check(steps []Step) error {
	for i := range steps {
		s := &steps[i]
		if s.Skip {
			continue
		}
		if s.Op == OpBind && s.User {
			// the source decides the mount point's type
			fi, err := os.Stat(s.Source)
			if err != nil {
				return &Error{What: s.Name + ": cannot access " + s.Source, Err: errtext.Errno(err)}
			}
			s.File = !fi.IsDir()
		}
		if s.Target == "/" {
			return &Error{What: s.Name, Err: ErrIsRoot}
		}
		if Covered(steps, i) {
			continue
		}
		fd, n, err := r.walk(s.Name, s.Target)
		if err != nil {
			return err
		}
		if n == len(components(s.Target)) && s.Op != OpSymlink {
			if err := r.checkType(*s, fd); err != nil {
				return err
			}
		}
		unix.Close(fd)
	}
	return nil
}

// Say receives what Apply tells: notes (a planned mount replaced or left
// out) and, when verbose, each mount as it is made.
type Say struct {
	Note    func(string)
	Verbose func(string)
}

func (s Say) note(m string) {
	if s.Note != nil {
		s.Note(m)
	}
}

func (s Say) verbose(m string) {
	if s.Verbose != nil {
		s.Verbose(m)
	}
}

// Apply performs steps in the new root, in order, and stops at the first
// failure.
func (r *Root) Apply(steps []Step, say Say) error {
	for _, s := range steps {
		if s.Skip {
			say.note(s.Note)
			continue
		}
		err := r.apply(s, say)
		if errors.Is(err, unix.EPERM) && s.Fallback != nil {
			fb := *s.Fallback
			if err := r.apply(fb, say); err != nil {
				return err
			}
			say.note(fb.Note)
			continue
		}
		if err != nil {
			return err
		}
		if s.Note != "" {
			say.note(s.Note)
		}
	}
	return nil
}

func (r *Root) apply(s Step, say Say) error {
	if s.Op == OpSymlink {
		dir, base := path.Split(s.Target)
		pfd, err := r.mountPoint(Step{Name: s.Name, Target: path.Clean(dir)})
		if err != nil {
			return err
		}
		defer unix.Close(pfd)
		if err := unix.Symlinkat(s.Source, pfd, base); err != nil {
			return &Error{What: s.Name + ": cannot make the symbolic link " + s.Target + " in " + r.Path, Err: err}
		}
		say.verbose("link " + s.String())
		return nil
	}
	fd, err := r.mountPoint(s)
	if err != nil {
		return err
	}
	if fd < 0 {
		say.note(fmt.Sprintf("%s is left out: %s does not exist in the new root and is not created there", s.Name, s.Target))
		return nil
	}
	defer unix.Close(fd)
	switch s.Op {
	case OpFS:
		err = mountFS(s, fd)
	case OpBind:
		err = bind(s, fd)
	}
	if err != nil {
		return err
	}
	say.verbose("mounted " + s.String())
	return nil
}

// mountFS makes a new instance of s.FSType and attaches it at fd. The
// kernel's own message (fsopen's log) is added to a failure.
func mountFS(s Step, fd int) error {
	what := fmt.Sprintf("mount %s on %s", s.FSType, s.Target)
	fsfd, err := unix.Fsopen(s.FSType, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return &Error{What: what, Err: err}
	}
	defer unix.Close(fsfd)
	fail := func(err error) error { return &Error{What: what, Err: err, Why: fsLog(fsfd)} }
	if err := unix.FsconfigSetString(fsfd, "source", s.Source); err != nil {
		return fail(err)
	}
	for _, o := range s.Opts {
		k, v, ok := strings.Cut(o, "=")
		if ok {
			err = unix.FsconfigSetString(fsfd, k, v)
		} else {
			err = unix.FsconfigSetFlag(fsfd, k)
		}
		if err != nil {
			return fail(err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fail(err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, int(s.Attr))
	if err != nil {
		return fail(err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return &Error{What: what, Err: err}
	}
	return nil
}

// fsLog reads the messages the kernel left on an fsopen descriptor
// ("e proc: Unknown parameter 'x'"), without the severity letters.
func fsLog(fsfd int) string {
	var msgs []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fsfd, buf)
		if err != nil || n <= 0 {
			break
		}
		m := strings.TrimSpace(string(buf[:n]))
		if len(m) > 2 && m[1] == ' ' {
			m = m[2:]
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

// bind clones the mount tree at s.Source (recursively: a user namespace
// may not bind a mount without the mounts locked on it), makes it
// read-only throughout when asked, and attaches it at fd.
func bind(s Step, fd int) error {
	what := fmt.Sprintf("bind %s on %s", s.Source, s.Target)
	tfd, err := unix.OpenTree(unix.AT_FDCWD, s.Source, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return &Error{What: what, Err: err}
	}
	defer unix.Close(tfd)
	if s.Attr != 0 {
		if err := unix.MountSetattr(tfd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: s.Attr}); err != nil {
			return &Error{What: what, Err: err}
		}
	}
	if err := unix.MoveMount(tfd, "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return &Error{What: what, Err: err}
	}
	return nil
}

// ReadOnly makes the new root's own mount read-only (not the mounts on
// it: /proc, /dev, /tmp and /run stay as they are).
func (r *Root) ReadOnly() error {
	if err := unix.MountSetattr(r.fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return &Error{What: "remount " + r.Path + " read-only", Err: err}
	}
	return nil
}

// SetPropagation makes every mount of the namespace private or slave
// (flag is unix.MS_PRIVATE or unix.MS_SLAVE), so that nothing pivot
// mounts reaches another namespace, and pivot_root does not refuse a
// shared new root.
func SetPropagation(flag uintptr) error {
	if err := unix.Mount("", "/", "", flag|unix.MS_REC, ""); err != nil {
		return &Error{What: "make / " + propName(flag), Err: err}
	}
	return nil
}

func propName(flag uintptr) string {
	if flag == unix.MS_SLAVE {
		return "rslave"
	}
	return "rprivate"
}

func statx(dirfd int, p string, flags int) (unix.Statx_t, error) {
	var st unix.Statx_t
	err := unix.Statx(dirfd, p, flags|unix.AT_STATX_SYNC_AS_STAT, unix.STATX_INO|unix.STATX_MNT_ID, &st)
	return st, err
}

func statxFd(fd int) (unix.Statx_t, error) { return statx(fd, "", unix.AT_EMPTY_PATH) }

// isMountRoot reports whether st is the root of a mount, ENOTSUP where
// the kernel does not say.
func isMountRoot(st *unix.Statx_t) (bool, error) {
	if st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return false, unix.ENOTSUP
	}
	return st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// BindSelf makes the new root a mount point, as pivot_root needs, by
// binding it (recursively) onto itself, through its descriptor:
// open_tree clones the tree the descriptor is in, move_mount attaches the
// clone where the descriptor is, and the root is the clone's from then
// on. It does nothing when the new root is a mount point already, and
// reports whether it bound.
func (r *Root) BindSelf() (bool, error) {
	st, err := statxFd(r.fd)
	if err == nil {
		var ok bool
		if ok, err = isMountRoot(&st); ok {
			return false, nil
		}
	}
	if err != nil {
		return false, &Error{What: r.Path, Err: err}
	}
	what := "bind " + r.Path + " on itself"
	tfd, err := unix.OpenTree(r.fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
	if err != nil {
		return false, &Error{What: what, Err: err}
	}
	if err := unix.MoveMount(tfd, "", r.fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		unix.Close(tfd)
		return false, &Error{What: what, Err: err}
	}
	if st, err = statxFd(tfd); err != nil {
		unix.Close(tfd)
		return false, &Error{What: what, Err: err}
	}
	unix.Close(r.fd)
	r.fd, r.id = tfd, idOf(&st)
	return true, nil
}

// Facts reads what Decide and Explain judge for the new root: statx of /
// and of the root's descriptor, and their mounts in
// /proc/self/mountinfo, found by mount id. What it cannot read it
// reports as the harmless case.
func (r *Root) Facts() RootFacts {
	f := RootFacts{RootIsMount: true, RootHasParent: true, NewIsMount: true}
	root, rerr := statx(unix.AT_FDCWD, "/", 0)
	nw, nerr := statxFd(r.fd)
	if rerr == nil {
		if ok, err := isMountRoot(&root); err == nil {
			f.RootIsMount = ok
		}
	}
	if nerr == nil {
		if ok, err := isMountRoot(&nw); err == nil {
			f.NewIsMount = ok
		}
	}
	if rerr == nil && nerr == nil {
		f.NewIsRoot = root.Dev_major == nw.Dev_major && root.Dev_minor == nw.Dev_minor && root.Ino == nw.Ino
	}
	mounts, err := nsfs.ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		return f
	}
	byID := map[int]nsfs.Mount{}
	for _, m := range mounts {
		byID[m.ID] = m
	}
	if rerr == nil && root.Mask&unix.STATX_MNT_ID != 0 {
		if m, ok := byID[int(root.Mnt_id)]; ok {
			f.RootHasParent = m.ParentID != m.ID
			f.RootFSType = m.FSType
		}
	}
	if nerr == nil && nw.Mask&unix.STATX_MNT_ID != 0 {
		if m, ok := byID[int(nw.Mnt_id)]; ok {
			f.NewShared = m.Shared()
			if p, ok := byID[m.ParentID]; ok && p.ID != m.ID {
				f.ParentShared = p.Shared()
			}
		}
	}
	return f
}

// Switch makes the new root the root and the working directory, by
// method m, from the root's descriptor: fchdir to it, then
// pivot_root(".", "."), MS_MOVE of "." or chroot("."), none of which
// looks a name up. With PivotRoot the old root is made a slave (so that
// its unmount cannot propagate anywhere) and detached lazily: nothing of
// it is left in the mount table. A pivot_root failure says which kernel
// condition failed (Explain).
func (r *Root) Switch(m Method, f RootFacts) error {
	if err := unix.Fchdir(r.fd); err != nil {
		return &Error{What: "chdir " + r.Path, Err: err}
	}
	switch m {
	case PivotRoot:
		if err := unix.PivotRoot(".", "."); err != nil {
			return &Error{What: "pivot_root " + r.Path, Err: err, Why: Explain(err, f)}
		}
		if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			return &Error{What: "make the old root rslave", Err: err}
		}
		if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
			return &Error{What: "detach the old root", Err: err}
		}
	case MoveChroot:
		if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
			return &Error{What: "move " + r.Path + " onto /", Err: err}
		}
		if err := unix.Chroot("."); err != nil {
			return &Error{What: "chroot " + r.Path, Err: err}
		}
	case Chroot:
		if err := unix.Chroot("."); err != nil {
			return &Error{What: "chroot " + r.Path, Err: err}
		}
	}
	if err := unix.Chdir("/"); err != nil {
		return &Error{What: "chdir /", Err: err}
	}
	return nil
}

// RetryMove reports whether a failed pivot_root should be retried as
// MS_MOVE + chroot: EINVAL, where /proc/self/mountinfo could not say what
// the current root is (no /proc, early in an initramfs) and it is a ramfs
// or tmpfs, as the initramfs rootfs is.
func RetryMove(err error, f RootFacts) bool {
	if !errors.Is(err, unix.EINVAL) || f.RootFSType != "" || !f.RootIsMount {
		return false
	}
	var sfs unix.Statfs_t
	if unix.Statfs("/", &sfs) != nil {
		return false
	}
	return sfs.Type == unix.RAMFS_MAGIC || sfs.Type == unix.TMPFS_MAGIC
}

// GatherNsFacts reads what InitialMountNS judges. The error is that of
// /proc/self/ns/mnt, without which nothing can be told.
func GatherNsFacts() (NsFacts, error) {
	var f NsFacts
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &st); err != nil {
		return f, &Error{What: "/proc/self/ns/mnt", Err: err}
	}
	f.SelfMnt = st.Ino
	if unix.Stat("/proc/1/ns/pid", &st) == nil {
		f.Pid1Pid = st.Ino
	}
	if unix.Stat("/proc/1/ns/mnt", &st) == nil {
		f.Pid1Mnt = st.Ino
	}
	return f, nil
}

// GatherFacts asks the kernel which of the caller's pid, network and IPC
// namespaces its user namespace may mount proc, sysfs and mqueue for: the
// owner of each must be the caller's user namespace or one of its
// descendants (NS_GET_USERNS fails with EPERM for an owner outside). A
// namespace file that cannot be opened counts as mountable: the mount
// itself will tell.
func GatherFacts() Facts {
	return Facts{
		PidOwned: mountable("/proc/self/ns/pid"),
		NetOwned: mountable("/proc/self/ns/net"),
		IPCOwned: mountable("/proc/self/ns/ipc"),
	}
}

func mountable(p string) bool {
	f, err := nsfs.Open(p, 0)
	if err != nil {
		return true
	}
	defer f.Close()
	o, err := f.Owner()
	if err != nil {
		return !errors.Is(err, unix.EPERM)
	}
	o.Close()
	return true
}
