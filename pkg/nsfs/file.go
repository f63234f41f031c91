package nsfs

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/ns"
)

// Error is an error of this package with a constant text (a string type,
// so that the package has no init work: every applet of the multi-call
// binary pays for package init at start).
type Error string

func (e Error) Error() string { return string(e) }

// ErrNotNamespace is returned for an opened file that is not on nsfs: a pin
// unmounted between mountinfo and open leaves the plain file underneath.
const ErrNotNamespace Error = "not a namespace file"

// ErrChanged is returned when an opened namespace file is not the namespace
// (inode) that was expected: a pin replaced, a process gone and its PID
// reused.
const ErrChanged Error = "not the expected namespace"

// File is an open namespace file that was checked to be one.
type File struct {
	fd  int
	ino uint64
}

// Open opens path and checks that it is a namespace file, and, when ino is
// not 0, that it is namespace ino. On a mismatch the file is closed and the
// error is ErrNotNamespace or ErrChanged; other errors are the open's
// (ENOENT, ESRCH, EACCES when the file or its process is gone or not ours).
// Opening never blocks and never acts on what it finds (see OpenAt).
func Open(path string, ino uint64) (*File, error) {
	return OpenAt(unix.AT_FDCWD, path, ino)
}

// OpenAt is Open relative to the directory dirfd. path is opened O_PATH
// first, which opens nothing: a FIFO is not waited on, a device's driver
// is not called. Only once fstatfs has said nsfs is it opened for reading,
// through /proc/self/fd: the same inode, without a second lookup of path.
func OpenAt(dirfd int, path string, ino uint64) (*File, error) {
	fd, err := openRead(dirfd, path, func(isNsfs bool, _ uint32) bool { return isNsfs })
	if err != nil {
		return nil, err
	}
	return NewFile(fd, ino)
}

// OpenOperand opens a file named to setns, as nsenter --net=FILE does: a
// namespace file, and also a regular file or a directory (which setns then
// refuses with EINVAL, in util-linux's words), is opened for reading;
// anything else (a FIFO, a device, a socket) is never opened for reading,
// and the error is ErrNotNamespace.
func OpenOperand(path string) (int, error) {
	return openRead(unix.AT_FDCWD, path, func(isNsfs bool, mode uint32) bool {
		return isNsfs || mode == unix.S_IFREG || mode == unix.S_IFDIR
	})
}

// openRead opens path O_PATH, asks ok whether the file may be opened for
// reading (it is on nsfs; its type), and if so opens it O_RDONLY through
// its /proc/self/fd link. Where /proc is not mounted, path is opened
// again with O_NONBLOCK and must be the same inode. Otherwise the error is
// ErrNotNamespace.
func openRead(dirfd int, path string, ok func(isNsfs bool, mode uint32) bool) (int, error) {
	pfd, err := unix.Openat(dirfd, path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	var sfs unix.Statfs_t
	var st unix.Stat_t
	if err := unix.Fstatfs(pfd, &sfs); err != nil {
		return -1, err
	}
	if err := unix.Fstat(pfd, &st); err != nil {
		return -1, err
	}
	if !ok(sfs.Type == unix.NSFS_MAGIC, st.Mode&unix.S_IFMT) {
		return -1, ErrNotNamespace
	}
	const flags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), flags, 0)
	if err == nil || err != unix.ENOENT {
		return fd, err
	}
	if fd, err = unix.Openat(dirfd, path, flags|unix.O_NONBLOCK, 0); err != nil {
		return -1, err
	}
	var again unix.Stat_t
	if err := unix.Fstat(fd, &again); err != nil || again.Dev != st.Dev || again.Ino != st.Ino {
		unix.Close(fd)
		return -1, ErrChanged
	}
	return fd, nil
}

// NewFile takes over fd (closed on any error) after the checks Open does.
func NewFile(fd int, ino uint64) (*File, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if sfs.Type != unix.NSFS_MAGIC {
		unix.Close(fd)
		return nil, ErrNotNamespace
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if ino != 0 && st.Ino != ino {
		unix.Close(fd)
		return nil, ErrChanged
	}
	return &File{fd: fd, ino: st.Ino}, nil
}

// Ino is the namespace's inode number, its identity.
func (f *File) Ino() uint64 { return f.ino }

// Fd is the open file descriptor (for setns, or RTM_GETNSID's NETNSA_FD).
func (f *File) Fd() int { return f.fd }

// Close closes the file.
func (f *File) Close() error {
	if f == nil || f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}

// Type asks the kernel the namespace's type (NS_GET_NSTYPE).
func (f *File) Type() (ns.Type, error) {
	flag, err := unix.IoctlRetInt(f.fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return 0, err
	}
	t, ok := ns.ByFlag(uintptr(flag))
	if !ok {
		return 0, unix.EINVAL
	}
	return t, nil
}

// Owner opens the user namespace that owns this one (NS_GET_USERNS; for a
// user namespace, its parent). EPERM means it is outside the caller's
// reach, e.g. the initial user namespace has none.
func (f *File) Owner() (*File, error) { return f.related(unix.NS_GET_USERNS) }

// Parent opens the parent namespace of a pid or user namespace
// (NS_GET_PARENT). EPERM for the initial one or one outside the caller's
// reach, EINVAL for the other types.
func (f *File) Parent() (*File, error) { return f.related(unix.NS_GET_PARENT) }

func (f *File) related(req uint) (*File, error) {
	fd, err := unix.IoctlRetInt(f.fd, req)
	if err != nil {
		return nil, err
	}
	return NewFile(fd, 0)
}

// OwnerUID is the uid that created a user namespace (NS_GET_OWNER_UID;
// EINVAL for the other types).
func (f *File) OwnerUID() (uint32, error) {
	return unix.IoctlGetUint32(f.fd, unix.NS_GET_OWNER_UID)
}

// Related returns the inode numbers of the parent (pid and user namespaces
// only) and the owner of the namespace of type t that f is, 0 where there is
// none or the kernel says EPERM (ENOSYS too: some emulators), as lsns
// prints PNS and ONS. Other errors are returned with what was found.
func (f *File) Related(t ns.Type) (parent, owner uint64, err error) {
	if t == ns.Pid || t == ns.User {
		p, perr := f.Parent()
		switch {
		case perr == nil:
			parent = p.ino
			p.Close()
		case perr != unix.EPERM && perr != unix.ENOSYS:
			err = perr
		}
	}
	o, oerr := f.Owner()
	switch {
	case oerr == nil:
		owner = o.ino
		o.Close()
	case oerr != unix.EPERM && oerr != unix.ENOSYS && err == nil:
		err = oerr
	}
	return parent, owner, err
}
