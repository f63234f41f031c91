package pin

import (
	"bufio"
	"fmt"
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
func mountInfoOf(fd int) (mountEntry, bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID, &stx); err != nil {
		return mountEntry{}, false, err
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return mountEntry{}, false, unix.ENOSYS
	}
	root := stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return mountEntry{}, false, err
	}
	defer f.Close()
	m, ok, err := findMount(f, stx.Mnt_id)
	if err != nil {
		return mountEntry{}, false, err
	}
	if !ok {
		return mountEntry{}, false, fmt.Errorf("mount %d not in /proc/self/mountinfo", stx.Mnt_id)
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
	return root && !m.Shared, nil
}

// sharedMount reports whether the mount fd is on is shared.
func sharedMount(fd int) (bool, error) {
	m, _, err := mountInfoOf(fd)
	return m.Shared, err
}

// mountEntry is what pin needs from a line of mountinfo (proc(5)).
type mountEntry struct {
	ID       uint64
	Point    string
	Optional []string // "shared:N", "master:N", "propagate_from:N", "unbindable"
	FSType   string
	Shared   bool
}

// findMount returns the mountinfo entry with mount ID id.
func findMount(r io.Reader, id uint64) (mountEntry, bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	want := strconv.FormatUint(id, 10) + " "
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, want) {
			continue
		}
		m, err := parseMountLine(line)
		return m, err == nil, err
	}
	return mountEntry{}, false, sc.Err()
}

// parseMountLine parses one mountinfo line:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func parseMountLine(line string) (mountEntry, error) {
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 7 || sep < 0 || sep+1 >= len(f) {
		return mountEntry{}, fmt.Errorf("malformed mountinfo line %q", line)
	}
	id, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return mountEntry{}, fmt.Errorf("malformed mountinfo line %q", line)
	}
	m := mountEntry{ID: id, Point: unescape(f[4]), Optional: f[6:sep], FSType: f[sep+1]}
	for _, o := range m.Optional {
		if strings.HasPrefix(o, "shared:") {
			m.Shared = true
		}
	}
	return m, nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
