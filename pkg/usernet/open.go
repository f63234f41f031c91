package usernet

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/idmap"
)

// Read opens Path as Open does and parses it.
func Read() ([]Rule, error) {
	f, err := Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Open opens Path for reading, refusing it unless every component of the
// path, from /, is reached without a symbolic link (each opened relative
// to the one before, with O_NOFOLLOW), owned by root and writable by
// nobody else (no group or other write bit: an ACL that grants write
// shows in the group bits), and the file is a regular file. Missing, it
// is an *Error wrapping ENOENT.
func Open() (*os.File, error) {
	dir, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Msg: "cannot open /: " + err.Error()}
	}
	if err := checkRoot("/", dir, unix.S_IFDIR); err != nil {
		unix.Close(dir)
		return nil, err
	}
	parts := strings.Split(strings.TrimPrefix(Path, "/"), "/")
	path := ""
	for i, name := range parts {
		path += "/" + name
		last := i == len(parts)-1
		flags, kind := unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(unix.S_IFDIR)
		if last {
			flags, kind = unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, unix.S_IFREG
		}
		fd, err := unix.Openat(dir, name, flags, 0)
		var st unix.Stat_t
		isLink := err != nil && unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
		unix.Close(dir)
		switch {
		case isLink:
			return nil, &Error{Msg: fmt.Sprintf("refused: %s is a symbolic link", path)}
		case err == unix.ENOTDIR && !last:
			return nil, &Error{Msg: fmt.Sprintf("refused: %s is not a directory", path)}
		case err != nil:
			return nil, &PathError{Path: path, Err: err}
		}
		if err := checkRoot(path, fd, kind); err != nil {
			unix.Close(fd)
			return nil, err
		}
		dir = fd
	}
	return os.NewFile(uintptr(dir), Path), nil
}

// PathError is a component of Path that could not be opened.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return "cannot open " + e.Path + ": " + e.Err.Error() }
func (e *PathError) Unwrap() error { return e.Err }

// checkRoot refuses fd (opened as path) unless it is of kind (S_IFDIR,
// S_IFREG), owned by root and not writable by group or others.
func checkRoot(path string, fd int, kind uint32) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &PathError{Path: path, Err: err}
	}
	switch {
	case st.Mode&unix.S_IFMT != kind && kind == unix.S_IFREG:
		return &Error{Msg: fmt.Sprintf("refused: %s is not a regular file", path)}
	case st.Mode&unix.S_IFMT != kind:
		return &Error{Msg: fmt.Sprintf("refused: %s is not a directory", path)}
	case st.Uid != 0:
		return &Error{Msg: fmt.Sprintf("refused: %s is owned by uid %d, not root", path, st.Uid)}
	case st.Mode&0o022 != 0:
		return &Error{Msg: fmt.Sprintf("refused: %s is writable by group or others (mode %04o)", path, st.Mode&0o7777)}
	}
	return nil
}

// CallerOf is the caller with real ids uid and gid and the supplementary
// groups groups, named as /etc/passwd names uid.
func CallerOf(uid, gid uint32, groups []uint32) Caller {
	c := Caller{UID: uid, GIDs: append([]uint32{gid}, groups...)}
	if e, ok := idmap.UserByID(uid); ok {
		c.Name = e.Name
	}
	return c
}

// GroupID resolves a group name through /etc/group.
func GroupID(name string) (uint32, bool) {
	e, ok := idmap.GroupByName(name)
	return e.ID, ok
}
