package pin

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// What a pin killed at any instant leaves is recognised by pin -d, and
// only that (docs/pin.md, "Killed half-way"):
//
//   - a pin file created and not bound yet: an empty regular file with no
//     permission bits at all, mode 0, as pin (and iproute2) create it
//     (leftoverFile); a file a user made is not like that;
//   - a directory pin creates is made under a temporary name beside it,
//     tempPrefix+BASE+"."+PID, with a marker saying "created" inside, and
//     then renamed into place: a kill leaves no directory, a temporary
//     one holding nothing but the marker (temps, removeTemp), or DIR with its
//     marker;
//   - a marker is written as markerNew and renamed over MarkerName, so
//     that it is never half written; a markerNew left beside is removed;
//   - the self-bind is recorded in the marker before it is attached (see
//     selfBind), so that it is never on DIR unrecorded;
//   - a holder process lives only until its maker has recorded it in the
//     marker (see hold.go).

// tempPrefix begins the name of a directory pin is making.
const tempPrefix = ".nsbox-pin."

// markerNew is the name a marker is written under before it is renamed
// to MarkerName.
const markerNew = MarkerName + ".new"

// leftoverFile reports whether fd is a pin file whose bind a kill
// prevented: an empty regular file of mode 0.
func leftoverFile(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o7777 == 0 && st.Size == 0
}

// Leftover reports whether name, relative to the directory descriptor
// dir (or unix.AT_FDCWD), is a pin file whose bind a kill prevented (see
// leftoverFile), left by pin, mkbridge --new or "ip netns add": what
// Unpin and UnpinNetns remove, and what a new pin may take the place of.
func Leftover(dir int, name string) bool {
	fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return !isNsfs(fd) && leftoverFile(fd)
}

// splitDir returns the parent of dir and its last element, or ok false
// when dir names no element that pin can create under a temporary name
// ("/", ".", "..").
func splitDir(dir string) (parent, base string, ok bool) {
	c := filepath.Clean(dir)
	parent, base = filepath.Dir(c), filepath.Base(c)
	return parent, base, base != "." && base != ".." && base != "/"
}

// makeDir opens dir, creating it when it is missing: under a temporary
// name beside it, with a marker saying pin created it, then renamed into
// place (RENAME_NOREPLACE: a directory made meanwhile by someone else is
// used as it is). created tells whether pin made it.
func makeDir(dir string) (fd int, created bool, err error) {
	fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != unix.ENOENT {
		if err != nil {
			return -1, false, fail(err, "cannot open %s", dir)
		}
		return fd, false, nil
	}
	parent, base, ok := splitDir(dir)
	tmp := tempPrefix + base + "." + strconv.Itoa(os.Getpid())
	if !ok || len(tmp) > 255 {
		// No room for a temporary name: made in place.
		if err := unix.Mkdir(dir, 0o755); err != nil {
			return -1, false, fail(err, "cannot create directory %s", dir)
		}
		return openMade(dir, true)
	}
	pfd, err := unix.Open(parent, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false, fail(err, "cannot create directory %s", dir)
	}
	defer unix.Close(pfd)
	removeTemp(filepath.Join(parent, tmp)) // a killed run's, with this PID
	if err := unix.Mkdirat(pfd, tmp, 0o755); err != nil {
		return -1, false, fail(err, "cannot create directory %s", dir)
	}
	tfd, err := unix.Openat(pfd, tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil {
		err = writeMarkerAt(tfd, marker{Created: true})
		unix.Close(tfd)
	}
	if err == nil {
		err = unix.Renameat2(pfd, tmp, pfd, base, unix.RENAME_NOREPLACE)
	}
	if err != nil {
		removeTemp(filepath.Join(parent, tmp))
		if err == unix.EEXIST {
			return openMade(dir, false)
		}
		return -1, false, fail(err, "cannot create directory %s", dir)
	}
	return openMade(dir, true)
}

func openMade(dir string, created bool) (int, bool, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if created {
			removeMade(dir)
		}
		return -1, false, fail(err, "cannot open %s", dir)
	}
	return fd, created, nil
}

// removeMade removes a directory pin made, with its marker, when nothing
// else is in it.
func removeMade(dir string) {
	if onlyMarker(dir) {
		unix.Unlink(filepath.Join(dir, markerNew))
		unix.Unlink(filepath.Join(dir, MarkerName))
		unix.Rmdir(dir)
	}
}

// onlyMarker reports whether the directory dir holds nothing but a
// marker (or its markerNew).
func onlyMarker(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return false
	}
	for _, n := range names {
		if n != MarkerName && n != markerNew {
			return false
		}
	}
	return true
}

// removeTemp removes the directory path when it is one pin was making:
// a directory holding nothing but a marker. It reports whether it did.
func removeTemp(path string) bool {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || !onlyMarker(path) {
		return false
	}
	unix.Unlink(path + "/" + markerNew)
	unix.Unlink(path + "/" + MarkerName)
	return unix.Rmdir(path) == nil
}

// temps returns the directories beside dir that pin was making as dir
// when it was killed: tempPrefix+BASE+"."+PID, holding nothing but a
// marker.
func temps(dir string) ([]string, error) {
	parent, base, ok := splitDir(dir)
	if !ok {
		return nil, nil
	}
	f, err := os.Open(parent)
	if err != nil {
		return nil, nil // then dir cannot be opened either: that error
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fail(err, "cannot read %s", parent)
	}
	var out []string
	for _, n := range names {
		pid, ok := strings.CutPrefix(n, tempPrefix+base+".")
		if !ok || pid == "" || strings.Trim(pid, "0123456789") != "" {
			continue
		}
		path := filepath.Join(parent, n)
		var st unix.Stat_t
		if unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && onlyMarker(path) {
			out = append(out, path)
		}
	}
	return out, nil
}

// removeDir removes dir, which pin created, when nothing but its marker
// is left in it: renamed to a temporary name first, so that a kill
// leaves either dir with its marker or a temporary directory that the
// next pin -d recognises.
func removeDir(dir string) {
	parent, base, ok := splitDir(dir)
	if !ok || !onlyMarker(dir) {
		unix.Unlink(filepath.Join(dir, MarkerName))
		unix.Rmdir(dir) // kept when it holds files pin did not make
		return
	}
	tmp := filepath.Join(parent, tempPrefix+base+"."+strconv.Itoa(os.Getpid()))
	removeTemp(tmp) // a killed run's, with this PID
	if unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, tmp, unix.RENAME_NOREPLACE) != nil {
		unix.Unlink(filepath.Join(dir, MarkerName))
		unix.Rmdir(dir)
		return
	}
	if !removeTemp(tmp) { // someone put a file in it meanwhile
		unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_NOREPLACE)
	}
}
