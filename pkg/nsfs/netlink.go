package nsfs

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// NSIDUnassigned is the id RTM_GETNSID gives a network namespace that has
// none in the caller's (lsns prints "unassigned").
const NSIDUnassigned = unix.NETNSA_NSID_NOT_ASSIGNED

// Route is a NETLINK_ROUTE socket for RTM_GETNSID, opened once and asked
// once per network namespace. It is raw x/sys/unix, not a netlink library:
// one request and one reply per question need no more, and the library's
// packages would cost every applet of the binary their init.
type Route struct {
	fd  int
	seq uint32
	buf []byte
}

// OpenRoute opens the socket.
func OpenRoute() (*Route, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	return &Route{fd: fd, buf: make([]byte, 4096)}, nil
}

// Close closes the socket.
func (r *Route) Close() error {
	if r == nil || r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

const errNoNSID Error = "no NETNSA_NSID in the RTM_GETNSID reply"

// NSIDOn is NSID asked on sock, a NETLINK_ROUTE socket the caller opened
// and keeps (in another network namespace, say): the id that socket's
// namespace has for the one open as nsfd.
func NSIDOn(sock, nsfd int) (int32, error) {
	r := Route{fd: sock, buf: make([]byte, 4096)}
	return r.NSID(nsfd)
}

// NSID asks the id of the network namespace open as nsfd, as seen from the
// caller's network namespace: a number, or NSIDUnassigned.
func (r *Route) NSID(nsfd int) (int32, error) {
	r.seq++
	// nlmsghdr (16) + rtgenmsg (1, padded to 4) + rtattr NETNSA_FD (4 + 4)
	req := make([]byte, 28)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.RTM_GETNSID)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], r.seq)
	req[16] = unix.AF_UNSPEC
	ne.PutUint16(req[20:], 8)
	ne.PutUint16(req[22:], unix.NETNSA_FD)
	ne.PutUint32(req[24:], uint32(int32(nsfd)))
	if err := unix.Sendto(r.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	for {
		n, _, err := unix.Recvfrom(r.fd, r.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		id, done, err := parseNSIDReply(r.buf[:n], r.seq)
		if done {
			return id, err
		}
	}
}

// parseNSIDReply reads one datagram; done is false when it holds nothing
// for request seq (a stale reply).
func parseNSIDReply(b []byte, seq uint32) (id int32, done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(ne.Uint32(b[0:]))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return 0, true, errNoNSID
		}
		typ := ne.Uint16(b[4:])
		mseq := ne.Uint32(b[8:])
		msg := b[unix.NLMSG_HDRLEN:l]
		b = b[min(nlmAlign(l), len(b)):]
		if mseq != seq {
			continue
		}
		switch typ {
		case unix.NLMSG_ERROR:
			if len(msg) >= 4 {
				if e := int32(ne.Uint32(msg)); e < 0 {
					return 0, true, unix.Errno(-e)
				}
			}
			return 0, true, errNoNSID
		case unix.RTM_NEWNSID:
			attrs := msg[min(4, len(msg)):] // rtgenmsg, padded
			for len(attrs) >= 4 {
				al := int(ne.Uint16(attrs[0:]))
				at := ne.Uint16(attrs[2:])
				if al < 4 || al > len(attrs) {
					break
				}
				if at == unix.NETNSA_NSID && al >= 8 {
					return int32(ne.Uint32(attrs[4:])), true, nil
				}
				attrs = attrs[min(nlmAlign(al), len(attrs)):]
			}
			return 0, true, errNoNSID
		}
	}
	return 0, false, nil
}

func nlmAlign(n int) int { return (n + 3) &^ 3 }

// Sockets finds the network namespaces of sockets that processes hold,
// through pidfd_getfd(2) and SIOCGSKNS (kernel 5.6). It keeps one pidfd
// per process it was asked about; Close releases them.
type Sockets struct {
	pidfds map[int]int
}

// Netns opens the network namespace of socket fd of process pid, after
// checking that the fd is still socket sockIno (fds are reused).
func (s *Sockets) Netns(pid, fd int, sockIno uint64) (*File, error) {
	if s.pidfds == nil {
		s.pidfds = map[int]int{}
	}
	pidfd, ok := s.pidfds[pid]
	if !ok {
		var err error
		pidfd, err = unix.PidfdOpen(pid, 0)
		if err != nil {
			pidfd = -1
		}
		s.pidfds[pid] = pidfd
	}
	if pidfd < 0 {
		return nil, unix.ESRCH
	}
	sk, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(sk)
	var st unix.Stat_t
	if err := unix.Fstat(sk, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || st.Ino != sockIno {
		return nil, ErrChanged
	}
	nsfd, err := unix.IoctlRetInt(sk, unix.SIOCGSKNS)
	if err != nil {
		return nil, err
	}
	return NewFile(nsfd, 0)
}

// Close closes the pidfds.
func (s *Sockets) Close() {
	for _, fd := range s.pidfds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	s.pidfds = nil
}
