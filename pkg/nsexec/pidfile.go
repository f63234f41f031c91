package nsexec

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// A pid file (unshare --pid-file) is written whole or not at all: whoever
// reads it takes what it finds for a PID, and a kill at any instant must
// leave either no file or a whole line. So the line is written into an
// unnamed file (O_TMPFILE) of the file's directory, which is then linked
// under the file's name: an unlink of the file there, then the link, so
// that a kill in between leaves no file. No temporary name ever exists
// for a kill to leave behind (the undo, rm FILE, could not know it). The
// directory is opened once, at the start, and everything is done through
// its descriptor: a name looked up again could lead elsewhere, and after
// a new mount namespace the path would be another mount (linkat: EXDEV).
// A directory that cannot hold an unnamed file (a filesystem without
// O_TMPFILE, or one the caller may not create files in), or a file there
// that the caller could not replace (another user's, in a sticky
// directory), gets the file opened at the start and written in place.
// The C constructor's executor (nsexec.c, link_pid_file) links the same
// way: keep the two in step.

// PidFile is a pid file opened by OpenPidFile: the PID line goes to File;
// with Dir set, File has no name yet and is linked as Name's base name in
// Dir once written.
type PidFile struct {
	File *os.File
	Dir  *os.File
	Name string
}

// OpenPidFile opens the pid file path, for Notify. A name that exists
// must be a regular file (a symbolic link is refused, as O_NOFOLLOW
// would).
func OpenPidFile(path string) (*PidFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return nil, &os.PathError{Op: "open", Path: path, Err: unix.EISDIR}
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	d := os.NewFile(uintptr(dfd), dir)
	var st unix.Stat_t
	exists := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	if exists && st.Mode&unix.S_IFMT != unix.S_IFREG {
		d.Close()
		e := unix.EISDIR
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			e = unix.ELOOP // what O_NOFOLLOW says of a link; others are refused alike
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: e}
	}
	if !exists || mayUnlink(dfd, &st) {
		fd, err := unix.Openat(dfd, ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err == nil {
			return &PidFile{File: os.NewFile(uintptr(fd), path), Dir: d, Name: path}, nil
		}
	}
	fd, err := unix.Openat(dfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	d.Close()
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &PidFile{File: os.NewFile(uintptr(fd), path), Name: path}, nil
}

// mayUnlink tells whether this process may remove the file st from the
// directory dfd as far as a sticky directory (/tmp) has a say: not
// another user's file in another user's sticky directory (root may).
func mayUnlink(dfd int, st *unix.Stat_t) bool {
	var d unix.Stat_t
	euid := uint32(os.Geteuid())
	if unix.Fstat(dfd, &d) != nil || d.Mode&unix.S_ISVTX == 0 {
		return true
	}
	return euid == 0 || st.Uid == euid || d.Uid == euid
}

// Link is what a stage needs to name f once written: the directory's
// descriptor and the name, or Dir -1 when f is named already.
func (f *PidFile) Link() PidLink {
	if f == nil || f.Dir == nil {
		return PidLink{Dir: -1}
	}
	return PidLink{Dir: int(f.Dir.Fd()), Name: f.Name}
}

// PidLink names the unnamed pid file that is the first of a plan's
// NotifyFds: it is linked as Name's base name in the directory Dir once
// the PID is written. Dir -1: no link.
type PidLink struct {
	Dir  int
	Name string
}

// link gives fd, written, its name (see the comment at the top); the
// directory's descriptor is closed.
func (l PidLink) link(fd int) error {
	defer unix.Close(l.Dir)
	base := filepath.Base(l.Name)
	src := "/proc/self/fd/" + strconv.Itoa(fd)
	for {
		err := unix.Linkat(unix.AT_FDCWD, src, l.Dir, base, unix.AT_SYMLINK_FOLLOW)
		if err != unix.EEXIST {
			return err
		}
		if err := unix.Unlinkat(l.Dir, base, 0); err != nil && err != unix.ENOENT {
			return err
		}
	}
}
