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
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_GET_STRICT_CHK, 1); err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		out, intr, err := dumpAddrs(fd, uint32(attempt+1), index)
		if err != nil || !intr || attempt == 9 {
			return out, err
		}
	}
}

func dumpAddrs(fd int, seq uint32, index int) (out []netip.Prefix, interrupted bool, err error) {
	// nlmsghdr + ifaddrmsg {family, prefixlen, flags, scope, index}
	req := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfAddrmsg)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.RTM_GETADDR)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	ne.PutUint32(req[unix.SizeofNlMsghdr+4:], uint32(index))
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, false, err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, false, err
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
				return out, interrupted, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(ne.Uint32(m.Data)); e != 0 {
						return nil, false, unix.Errno(-e)
					}
				}
				return out, interrupted, nil
			case unix.RTM_NEWADDR:
				if len(m.Data) < unix.SizeofIfAddrmsg {
					continue
				}
				bits, scope, idx := int(m.Data[1]), m.Data[3], int(ne.Uint32(m.Data[4:]))
				if idx != index || scope != unix.RT_SCOPE_UNIVERSE {
					continue
				}
				a := map[uint16][]byte{}
				parseAttrs(m.Data[unix.SizeofIfAddrmsg:], a)
				raw := a[unix.IFA_LOCAL]
				if raw == nil {
					raw = a[unix.IFA_ADDRESS]
				}
				if ip, ok := netip.AddrFromSlice(raw); ok {
					out = append(out, netip.PrefixFrom(ip.Unmap(), bits))
				}
			}
		}
	}
}
