package netsetup

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// linkPrefixes returns the global addresses of link index in the caller's
// network namespace: an RTM_GETADDR dump that the kernel filters by
// interface (NETLINK_GET_STRICT_CHK). netlink's AddrList dumps every
// address of the namespace and filters afterwards, and the host ends of
// 500 containers have 500 link-local addresses: the cost would grow with
// the bridge.
func linkPrefixes(index int) ([]netip.Prefix, error) {
	// nlmsghdr + ifaddrmsg {family, prefixlen, flags, scope, index}
	req := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfAddrmsg)
	binary.NativeEndian.PutUint32(req[unix.SizeofNlMsghdr+4:], uint32(index))
	var out []netip.Prefix
	err := strictDump(req, unix.RTM_GETADDR, func() { out = nil }, func(typ uint16, data []byte) {
		if a, ok := parseAddr(data, index); ok && typ == unix.RTM_NEWADDR && a.Scope == unix.RT_SCOPE_UNIVERSE {
			if p, ok := prefixOf(a.IPNet); ok {
				out = append(out, p)
			}
		}
	})
	return out, err
}

// strictDump sends req (a netlink header, filled in here as a dump of
// type typ, then the request's body) on a new NETLINK_ROUTE socket of the
// caller's network namespace with strict checking (the kernel filters by
// what the body names), and calls each with the type and body of every
// message of the reply. A dump the kernel interrupted (NLM_F_DUMP_INTR)
// is made again, after reset, up to ten times.
func strictDump(req []byte, typ uint16, reset func(), each func(typ uint16, data []byte)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_GET_STRICT_CHK, 1); err != nil {
		return err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], typ)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	for attempt := 0; ; attempt++ {
		reset()
		ne.PutUint32(req[8:], uint32(attempt+1))
		intr, err := dumpOnce(fd, req, uint32(attempt+1), each)
		if err != nil || !intr || attempt == 9 {
			return err
		}
	}
}

func dumpOnce(fd int, req []byte, seq uint32, each func(uint16, []byte)) (interrupted bool, err error) {
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return false, err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			if m.Header.Flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return interrupted, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
						return false, unix.Errno(-e)
					}
				}
				return interrupted, nil
			default:
				each(m.Header.Type, m.Data)
			}
		}
	}
}
