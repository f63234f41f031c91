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

import "github.com/nsbox/nsbox/pkg/ns"

// ParseLink parses the text of a namespace symlink or an nsfs mount root:
// "net:[4026531840]" gives ns.Net and 4026531840. Anything else (a path, a
// "socket:[N]", an unknown type) gives false.
func ParseLink(s string) (ns.Type, uint64, bool) { return parseLink(s) }

// parseLink is ParseLink for a string or, without converting it, a []byte.
func parseLink[T string | []byte](s T) (ns.Type, uint64, bool) {
	for t := range ns.NTypes {
		n := t.String()
		if len(s) > len(n)+3 && string(s[:len(n)]) == n && s[len(n)] == ':' && s[len(n)+1] == '[' && s[len(s)-1] == ']' {
			ino, ok := parseUint(s[len(n)+2 : len(s)-1])
			if !ok {
				return 0, 0, false
			}
			return t, ino, true
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
