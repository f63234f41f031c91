package netsetup

import (
	"os"

	"golang.org/x/sys/unix"
)

// LockPath is the directory whose flock serialises bridge creation: the
// network namespace's own list of interfaces, so that no lock file is
// left behind. Every mkbridge of one network namespace (sharing a sysfs
// mount) sees the same inode.
var LockPath = "/sys/class/net"

// fallbackLock is used when LockPath cannot be opened (no sysfs).
const fallbackLock = "/run/nsbox/mkbridge.lock"

type flock struct{ fd int }

// lock takes the allocation lock, waiting for it.
func lock() (*flock, error) {
	fd, err := unix.Open(LockPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err := os.MkdirAll("/run/nsbox", 0o755); err != nil {
			return nil, &Error{Op: "lock " + fallbackLock, Err: err}
		}
		fd, err = unix.Open(fallbackLock, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, &Error{Op: "lock " + fallbackLock, Err: err}
		}
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "lock " + LockPath, Err: err}
	}
	return &flock{fd: fd}, nil
}

// unlock releases the lock (closing the file drops it).
func (l *flock) unlock() {
	if l != nil && l.fd >= 0 {
		unix.Close(l.fd)
		l.fd = -1
	}
}
