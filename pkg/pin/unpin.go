package pin

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxStack bounds how many pins stacked on one file Unpin detaches.
const maxStack = 64

// Kind is what Inspect found at a path.
type Kind int

const (
	KindPin Kind = iota + 1 // a namespace pin (a mounted nsfs file)
	KindDir                 // a directory handle
)

// Inspect tells whether path is something Unpin or UnpinDir releases: a pin
// (a final symbolic link is not followed) or a pin file a kill left
// unbound (KindPin); a directory that holds a marker or pins named after
// namespace types, or that pin was making when it was killed (KindDir).
// Anything else is refused with ErrNotPin or ErrNotHandle (in an *Error
// naming path).
func Inspect(path string) (Kind, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		if t, _ := temps(path); len(t) > 0 {
			return KindDir, nil
		}
	}
	if err != nil {
		return 0, fail(err, "cannot open %s", path)
	}
	defer unix.Close(fd)
	if isNsfs(fd) || leftoverFile(fd) {
		return KindPin, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, &Error{Op: path, Err: ErrNotPin}
	}
	dirfd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fail(err, "cannot open %s", path)
	}
	defer unix.Close(dirfd)
	_, hasMarker, err := readMarkerAt(dirfd)
	if err != nil {
		return 0, fail(err, "cannot read %s", filepath.Join(path, MarkerName))
	}
	if !hasMarker && !hasMarkerNew(dirfd) && len(pinsAt(dirfd)) == 0 {
		return 0, &Error{Op: path, Err: ErrNotHandle}
	}
	return KindDir, nil
}

// hasMarkerNew reports whether dirfd holds a marker being written
// (markerNew): a kill before its first marker was in place.
func hasMarkerNew(dirfd int) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, markerNew, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// pinsAt returns the entries of dirfd named after a namespace type that are
// pins.
func pinsAt(dirfd int) []string {
	var out []string
	for _, n := range Names() {
		fd, err := unix.Openat(dirfd, n, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if isNsfs(fd) {
			out = append(out, n)
		}
		unix.Close(fd)
	}
	return out
}

// Unpin releases the pin at path the way "ip netns del" does, after
// checking it is one: the nsfs mount is detached (MNT_DETACH; with pins
// stacked on the file, each of them), then the file is removed, which also
// detaches copies of the mount that propagated to other mount namespaces.
// A pin file a kill left unbound (an empty regular file of mode 0, as pin
// and iproute2 create it) is removed. A path that is neither is refused
// with ErrNotPin and left alone.
func Unpin(path string) error {
	return unpinAt(unix.AT_FDCWD, path, path)
}

// UnpinNetns releases NetnsDir/name, as "ip netns del name" does.
func UnpinNetns(name string) error {
	if !ValidNetnsName(name) {
		return fail(unix.EINVAL, "invalid netns name '%s'", name)
	}
	return Unpin(filepath.Join(NetnsDir, name))
}

func unpinAt(at int, name, path string) error {
	for i := 0; ; i++ {
		fd, err := unix.Openat(at, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(err, "cannot open %s", path)
		}
		if !isNsfs(fd) {
			left := leftoverFile(fd)
			unix.Close(fd)
			if i == 0 && !left {
				return &Error{Op: path, Err: ErrNotPin}
			}
			break
		}
		if i == maxStack {
			unix.Close(fd)
			return fail(unix.EBUSY, "cannot unmount %s: more than %d pins stacked", path, maxStack)
		}
		// Through the descriptor: exactly the mount that was checked.
		err = unix.Unmount(procFd(fd), unix.MNT_DETACH)
		unix.Close(fd)
		if err != nil {
			return fail(err, "cannot unmount %s", path)
		}
	}
	if err := unix.Unlinkat(at, name, 0); err != nil && err != unix.ENOENT {
		return fail(err, "cannot remove %s", path)
	}
	return nil
}

// UnpinDir releases a directory handle: the pins in it named after
// namespace types; with a marker, also the holder it names, leftover empty
// files of those names, the private self-bind pin made (only while DIR's
// top mount is still that mount), the marker, and DIR itself when pin
// created it and it is empty now. Other files, and other mounts, are left
// alone. It removes the directories pin was making as DIR when it was
// killed (see leftover.go) first. A directory with neither a marker nor
// pins is refused with ErrNotHandle.
func UnpinDir(dir string) error {
	t, err := temps(dir)
	if err != nil {
		return err
	}
	for _, p := range t {
		removeTemp(p)
	}
	dirfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT && len(t) > 0 {
		return nil
	}
	if err != nil {
		return fail(err, "cannot open %s", dir)
	}
	defer func() {
		if dirfd >= 0 {
			unix.Close(dirfd)
		}
	}()
	m, hasMarker, err := readMarkerAt(dirfd)
	if err != nil {
		return fail(err, "cannot read %s", filepath.Join(dir, MarkerName))
	}
	hasMarker = hasMarker || hasMarkerNew(dirfd)
	pins := pinsAt(dirfd)
	if !hasMarker && len(pins) == 0 {
		return &Error{Op: dir, Err: ErrNotHandle}
	}
	for _, n := range pins {
		if err := unpinAt(dirfd, n, filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	if !hasMarker {
		return nil
	}
	if err := releaseMarked(dirfd, dir, m); err != nil {
		return err
	}
	unix.Close(dirfd)
	dirfd = -1
	// By path: after the unmount, dir names the directory beneath, which
	// is the same directory.
	if err := unix.Unlink(filepath.Join(dir, markerNew)); err != nil && err != unix.ENOENT {
		return fail(err, "cannot remove %s", filepath.Join(dir, markerNew))
	}
	if m.Created {
		removeDir(dir)
	} else if err := unix.Unlink(filepath.Join(dir, MarkerName)); err != nil && err != unix.ENOENT {
		return fail(err, "cannot remove %s", filepath.Join(dir, MarkerName))
	}
	return nil
}

// releaseMarked releases what the marker m of the directory dirfd
// records: the holder and its links, the files of pins whose mounts are
// gone, the self-bind.
func releaseMarked(dirfd int, dir string, m marker) error {
	if m.Holder.PID != 0 {
		if err := releaseHolder(dirfd, dir, m.Holder); err != nil {
			return err
		}
	}
	// Files pin made whose mounts are gone already (unmounted by hand,
	// or a kill between creating a file and binding onto it).
	for _, n := range Names() {
		var st unix.Stat_t
		if unix.Fstatat(dirfd, n, &st, unix.AT_SYMLINK_NOFOLLOW) == nil &&
			st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0 {
			if err := unix.Unlinkat(dirfd, n, 0); err != nil && err != unix.ENOENT {
				return fail(err, "cannot remove %s", filepath.Join(dir, n))
			}
		}
	}
	if m.Bind.ID != 0 {
		cur, root, err := mountIdentRoot(dirfd)
		if err == nil && root && cur == m.Bind {
			if err := unix.Unmount(procFd(dirfd), unix.MNT_DETACH); err != nil {
				return fail(err, "cannot unmount %s", dir)
			}
		}
	}
	return nil
}
