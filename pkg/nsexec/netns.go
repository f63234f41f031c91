package nsexec

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/errtext"
)

// Netns is what "ip netns exec NAME" sets up once it has entered the
// network namespace NAME (iproute2's netns_switch), for programs that learn
// about the network from files rather than from netlink: a mount namespace
// of their own, in which /sys is a sysfs mounted from the entered network
// namespace (so /sys/class/net lists its links, not the host's) and each
// file of Etc covers the file of that name in /etc (Etc/resolv.conf over
// /etc/resolv.conf).
type Netns struct {
	Name string // the source of the new sysfs mount (ip gives the name)
	Etc  string // the directory of files to bind over /etc's; "": none
}

// setup makes n's mounts, in ip's order, on this thread, which has
// entered the network namespace. warn gets the bind mounts of Etc that
// fail: as with ip, they do not stop the program.
func (n *Netns) setup(warn func(msg string)) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fail(err, "unshare failed")
	}
	// What is mounted here must not reach the mount namespace this one
	// was copied from.
	if err := unix.Mount("", "/", "none", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fail(err, "mount --make-rslave / failed")
	}
	// A sysfs shows the network devices of the namespace that mounted it.
	// The old /sys goes; where it cannot (a mount locked in a user
	// namespace), the new one covers it, and cannot be writable over a
	// read-only one.
	var flags uintptr
	if unix.Unmount("/sys", unix.MNT_DETACH) != nil {
		var st unix.Statfs_t
		if unix.Statfs("/sys", &st) == nil && st.Flags&unix.ST_RDONLY != 0 {
			flags = unix.MS_RDONLY
		}
	}
	if err := unix.Mount(n.Name, "/sys", "sysfs", flags, ""); err != nil {
		return fail(err, "mount of /sys failed")
	}
	if n.Etc == "" {
		return nil
	}
	files, err := os.ReadDir(n.Etc)
	if err != nil {
		return nil // no such directory: nothing to bind, as with ip
	}
	for _, f := range files {
		src, dst := filepath.Join(n.Etc, f.Name()), filepath.Join("/etc", f.Name())
		if err := unix.Mount(src, dst, "none", unix.MS_BIND, ""); err != nil {
			warn(fmt.Sprintf("bind %s -> %s failed: %s", src, dst, errtext.Strerror(err)))
		}
	}
	return nil
}
