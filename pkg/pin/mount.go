package pin

import (
	"bufio"
	"fmt"
	"github.com/nsbox/nsbox/pkg/nsfs"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// PrepareNetnsDir makes NetnsDir what "ip netns add" makes it before its
// first pin: the directory (0755), a shared mount point (bound onto itself
// when it is not a mount point, recursively, then made MS_SHARED|MS_REC).
// Shared, so that a pin and its later removal reach the mount namespaces
// made after it (those of "ip netns exec", say). It is not undone: like
// iproute2, nsbox leaves NetnsDir in place for the next pin.
func PrepareNetnsDir() error {
	var u undo
	return prepareNetnsDir(&u)
}

// prepareNetnsDir is iproute2's netns_add preamble, recording in u how to
// take back what it created.
func prepareNetnsDir(u *undo) error {
	dir := NetnsDir
	if err := unix.Mkdir(dir, 0o755); err == nil {
		u.push(func() { unix.Rmdir(dir) }) // fails, harmlessly, when not empty
	} else if err != unix.EEXIST {
		return fail(err, "cannot create directory %s", dir)
	}
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == unix.EINVAL { // not a mount point yet
		if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fail(err, "cannot bind %s onto itself", dir)
		}
		u.push(func() {
			if dirEmpty(dir) { // unless someone else pinned there meanwhile
				unix.Unmount(dir, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
			}
		})
		err = unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	}
	if err != nil {
		return fail(err, "cannot make %s a shared mount", dir)
	}
	return nil
}

func dirEmpty(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) == 0
}

// mountIdent identifies the mount a directory descriptor is on: the
// kernel's unique mount ID where it has one (Linux 6.8, never reused),
// else the ordinary mount ID; and the directory's device and inode.
type mountIdent struct {
	Unique   bool
	ID       uint64
	Dev, Ino uint64
}

func (m mountIdent) String() string {
	kind := "id"
	if m.Unique {
		kind = "unique"
	}
	return fmt.Sprintf("%s %d %d %d", kind, m.ID, m.Dev, m.Ino)
}

// mountID returns the identity of the mount fd is on, and whether fd is
// the root of that mount (a mount point), when the kernel says.
func mountID(fd int) (mountIdent, error) {
	id, _, err := mountIdentRoot(fd)
	return id, err
}

func mountIdentRoot(fd int) (mountIdent, bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, unix.STATX_INO|unix.STATX_MNT_ID_UNIQUE, &stx); err != nil {
		return mountIdent{}, false, err
	}
	m := mountIdent{ID: stx.Mnt_id, Unique: stx.Mask&unix.STATX_MNT_ID_UNIQUE != 0,
		Dev: unix.Mkdev(stx.Dev_major, stx.Dev_minor), Ino: stx.Ino}
	if !m.Unique && stx.Mask&unix.STATX_MNT_ID == 0 {
		return mountIdent{}, false, unix.ENOSYS
	}
	root := stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	return m, root, nil
}

// mountInfoOf returns the /proc/self/mountinfo entry of the mount fd is on.
func mountInfoOf(fd int) (nsfs.Mount, bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID, &stx); err != nil {
		return nsfs.Mount{}, false, err
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return nsfs.Mount{}, false, unix.ENOSYS
	}
	root := stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nsfs.Mount{}, false, err
	}
	defer f.Close()
	m, ok, err := findMount(f, stx.Mnt_id)
	if err != nil {
		return nsfs.Mount{}, false, err
	}
	if !ok {
		return nsfs.Mount{}, false, fmt.Errorf("mount %d not in /proc/self/mountinfo", stx.Mnt_id)
	}
	return m, root, nil
}

// privateMountPoint reports whether the directory fd is a mount point whose
// mount is not shared: where a mount-namespace pin can go as it is.
func privateMountPoint(fd int) (bool, error) {
	m, root, err := mountInfoOf(fd)
	if err != nil {
		return false, err
	}
	return root && !m.Shared(), nil
}

// sharedMount reports whether the mount fd is on is shared.
func sharedMount(fd int) (bool, error) {
	m, _, err := mountInfoOf(fd)
	return m.Shared(), err
}

// findMount returns the mountinfo entry with mount ID id.
func findMount(r io.Reader, id uint64) (nsfs.Mount, bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	want := strconv.FormatUint(id, 10) + " "
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, want) {
			continue
		}
		m, err := nsfs.ParseMountLine(line)
		if err != nil {
			return m, false, fmt.Errorf("malformed mountinfo line %q", line)
		}
		return m, true, nil
	}
	return nsfs.Mount{}, false, sc.Err()
}
