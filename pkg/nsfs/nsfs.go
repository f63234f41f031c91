// Package nsfs finds Linux namespaces and asks the kernel about them: the
// namespace files of processes under /proc, namespace files held open by
// processes (nsfs file descriptors, and the network namespaces of their
// sockets), nsfs bind mounts (pins) listed in mountinfo, the nsfs ioctls
// (NS_GET_USERNS, NS_GET_PARENT, NS_GET_NSTYPE, NS_GET_OWNER_UID) and the
// network namespace ids of RTM_GETNSID.
//
// All namespace files live on one nsfs device, so a namespace is named by its
// inode number alone (what lsns prints as NS).
//
// Namespaces and processes come and go while a scan runs. Nothing here
// reports that as an error: a process that vanished, a file that is no
// longer a namespace, a pin that was unmounted between reading mountinfo and
// opening it are skipped. Every file opened to be asked an ioctl is checked
// first (fstatfs is NSFS_MAGIC, and the inode is the one expected), so an
// ioctl never reaches a file that is not the namespace we meant
// (MECHANICS.md §9: util-linux prints "Unsupported ioctl NS_GET_NSTYPE"
// there).
//
// The package has no command-line code; the lsns applet is its main user.
package nsfs

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Type is a namespace type, in lsns's order (mnt net pid uts ipc user
// cgroup time), which is also the order lsns reads them in.
type Type int

// The namespace types.
const (
	Mnt Type = iota
	Net
	Pid
	Uts
	Ipc
	User
	Cgroup
	Time
	NTypes // the number of types
)

var typeNames = [NTypes]string{"mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"}

var typeFlags = [NTypes]int{
	unix.CLONE_NEWNS, unix.CLONE_NEWNET, unix.CLONE_NEWPID, unix.CLONE_NEWUTS,
	unix.CLONE_NEWIPC, unix.CLONE_NEWUSER, unix.CLONE_NEWCGROUP, unix.CLONE_NEWTIME,
}

// String is the type's name as /proc/PID/ns names it ("mnt", "net", ...).
func (t Type) String() string {
	if t < 0 || t >= NTypes {
		return "Type(" + strconv.Itoa(int(t)) + ")"
	}
	return typeNames[t]
}

// CloneFlag is the type's CLONE_NEW* flag.
func (t Type) CloneFlag() int { return typeFlags[t] }

// TypeByName returns the type called name ("mnt", "net", ...; exact, lower
// case, as lsns -t takes it).
func TypeByName(name string) (Type, bool) {
	for t, n := range typeNames {
		if n == name {
			return Type(t), true
		}
	}
	return 0, false
}

// TypeByFlag returns the type whose CLONE_NEW* flag is flag (what
// NS_GET_NSTYPE answers).
func TypeByFlag(flag int) (Type, bool) {
	for t, f := range typeFlags {
		if f == flag {
			return Type(t), true
		}
	}
	return 0, false
}

// ParseLink parses the text of a namespace symlink or an nsfs mount root:
// "net:[4026531840]" gives Net and 4026531840. Anything else (a path, a
// "socket:[N]", an unknown type) gives false.
func ParseLink(s string) (Type, uint64, bool) {
	for t, n := range typeNames {
		if len(s) > len(n)+3 && s[:len(n)] == n && s[len(n)] == ':' && s[len(n)+1] == '[' && s[len(s)-1] == ']' {
			ino, ok := parseUint(s[len(n)+2 : len(s)-1])
			if !ok {
				return 0, 0, false
			}
			return Type(t), ino, true
		}
	}
	return 0, 0, false
}

// parseUint parses a plain decimal number (digits only, no sign); the
// scan calls it on []byte names without converting them.
func parseUint[T string | []byte](s T) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
