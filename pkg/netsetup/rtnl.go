package netsetup

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/nsbox/nsbox/pkg/nsfs"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The rtnetlink requests this package sends, built from the library's
// message parts (nl) on a socket of its own per network namespace, and
// the one parser of what it reads back. netlink.Handle has a method for
// each of them, but its link lookups decode every kind of link the
// library knows (bonds, vxlan, CAN, VF info...), its setters look a link
// up by name when they are given no index, and its routes encode and
// decode every encapsulation (MPLS, SEG6, BPF): calling any of them links
// all of that into every applet of the binary (docs/performance.md, Size).

// handle is a NETLINK_ROUTE socket in one network namespace: the one of
// the thread that opened it.
type handle struct {
	sockets map[int]*nl.SocketHandle
}

// errLinkNotFound is a lookup of a link that does not exist.
const errLinkNotFound Text = "Link not found"

// newHandle opens a socket in the calling thread's network namespace.
func newHandle() (*handle, error) {
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	return &handle{sockets: map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: s}}}, nil
}

// Close closes the socket.
func (h *handle) Close() {
	for _, s := range h.sockets {
		s.Close()
	}
	h.sockets = nil
}

// request is a request of type typ on h's socket with the data given.
func (h *handle) request(typ, flags int, data ...nl.NetlinkRequestData) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(typ, flags)
	req.Sockets = h.sockets
	for _, d := range data {
		req.AddData(d)
	}
	return req
}

// do sends a request and waits for the kernel's answer.
func (h *handle) do(typ int, data ...nl.NetlinkRequestData) error {
	_, err := h.request(typ, unix.NLM_F_ACK, data...).Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// dump sends a dump request and calls each with every message of type
// res of the reply. An interrupted dump (NLM_F_DUMP_INTR) is made again,
// after reset, up to ten times.
func (h *handle) dump(typ int, res uint16, reset func(), each func(m []byte), data ...nl.NetlinkRequestData) error {
	var err error
	for i := 0; i < 10; i++ {
		reset()
		err = h.request(typ, unix.NLM_F_DUMP, data...).ExecuteIter(unix.NETLINK_ROUTE, res, func(m []byte) bool {
			each(m)
			return true
		})
		if !errors.Is(err, nl.ErrDumpInterrupted) {
			return err
		}
	}
	return err
}

// ifinfo is an ifinfomsg for the link index.
func ifinfo(family, index int) *nl.IfInfomsg {
	msg := nl.NewIfInfomsg(family)
	msg.Index = int32(index)
	return msg
}

// setLink changes the link index with one RTM_SETLINK carrying attr.
func (h *handle) setLink(index int, attr *nl.RtAttr) error {
	return h.do(unix.RTM_SETLINK, ifinfo(unix.AF_UNSPEC, index), attr)
}

// setFlags sets the link's flags of mask to those of flags.
func (h *handle) setFlags(typ, index int, mask, flags uint32) error {
	msg := ifinfo(unix.AF_UNSPEC, index)
	msg.Change, msg.Flags = mask, flags
	return h.do(typ, msg)
}

func (h *handle) linkSetUp(index int) error {
	return h.setFlags(unix.RTM_NEWLINK, index, unix.IFF_UP, unix.IFF_UP)
}

func (h *handle) linkSetDown(index int) error {
	return h.setFlags(unix.RTM_NEWLINK, index, unix.IFF_UP, 0)
}

func (h *handle) setPromiscOn(index int) error {
	return h.setFlags(unix.RTM_SETLINK, index, unix.IFF_PROMISC, unix.IFF_PROMISC)
}

func (h *handle) linkSetAlias(index int, alias string) error {
	return h.setLink(index, nl.NewRtAttr(unix.IFLA_IFALIAS, []byte(alias)))
}

func (h *handle) linkSetName(index int, name string) error {
	return h.setLink(index, nl.NewRtAttr(unix.IFLA_IFNAME, []byte(name)))
}

func (h *handle) linkSetMaster(index, master int) error {
	return h.setLink(index, nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(master))))
}

func (h *handle) linkSetGroup(index int, group uint32) error {
	return h.setLink(index, nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(group)))
}

// linkSetIP6AddrGenMode sets the link's IPv6 address generation mode
// (IN6_ADDR_GEN_MODE_NONE: no link-local address).
func (h *handle) linkSetIP6AddrGenMode(index int, mode uint8) error {
	spec := nl.NewRtAttr(unix.IFLA_AF_SPEC, nil)
	spec.AddRtAttr(unix.AF_INET6, nil).AddRtAttr(unix.IFLA_INET6_ADDR_GEN_MODE, []byte{mode})
	return h.setLink(index, spec)
}

// linkSetBrport turns the bridge port option attr (IFLA_BRPORT_*) of the
// link on.
func (h *handle) linkSetBrport(index, attr int) error {
	pi := nl.NewRtAttr(unix.IFLA_PROTINFO|unix.NLA_F_NESTED, nil)
	pi.AddRtAttr(attr, []byte{1})
	return h.do(unix.RTM_SETLINK, ifinfo(unix.AF_BRIDGE, index), pi)
}

// linkAltName adds (RTM_NEWLINKPROP) or removes (RTM_DELLINKPROP) an
// alternative name of the link.
func (h *handle) linkAltName(typ, index int, name string) error {
	pl := nl.NewRtAttr(unix.IFLA_PROP_LIST|unix.NLA_F_NESTED, nil)
	pl.AddRtAttr(unix.IFLA_ALT_IFNAME, []byte(name))
	return h.do(typ, ifinfo(unix.AF_UNSPEC, index), pl)
}

func (h *handle) linkAddAltName(index int, name string) error {
	return h.linkAltName(unix.RTM_NEWLINKPROP, index, name)
}

func (h *handle) linkDelAltName(index int, name string) error {
	return h.linkAltName(unix.RTM_DELLINKPROP, index, name)
}

func (h *handle) linkDel(index int) error {
	return h.do(unix.RTM_DELLINK, ifinfo(unix.AF_UNSPEC, index))
}

// link is what this package reads of a network interface.
type link struct {
	Index, MasterIndex int
	ParentIndex        int // IFLA_LINK: a veth's peer's index
	NetNsID            int // IFLA_LINK_NETNSID: the peer's namespace; -1: none
	Name, Alias, Kind  string
	AltNames           []string
	RawFlags, Group    uint32
	HardwareAddr       net.HardwareAddr
}

// Type is the link's kind, as netlink names it: "device" for one without
// (lo, a physical interface).
func (l *link) Type() string {
	switch l.Kind {
	case "":
		return "device"
	case "tun":
		return "tuntap"
	}
	return l.Kind
}

func (l *link) up() bool { return l.RawFlags&unix.IFF_UP != 0 }

// parseLink reads an RTM_NEWLINK message.
func parseLink(m []byte) *link {
	if len(m) < unix.SizeofIfInfomsg {
		return nil
	}
	ne := binary.NativeEndian
	l := &link{Index: int(int32(ne.Uint32(m[4:]))), RawFlags: ne.Uint32(m[8:]), NetNsID: -1}
	u32 := func(v []byte) int {
		if len(v) < 4 {
			return 0
		}
		return int(int32(ne.Uint32(v)))
	}
	eachAttr(m[unix.SizeofIfInfomsg:], func(t uint16, v []byte) {
		switch t {
		case unix.IFLA_IFNAME:
			l.Name = cstr(v)
		case unix.IFLA_IFALIAS:
			l.Alias = cstr(v)
		case unix.IFLA_ADDRESS:
			if strings.Trim(string(v), "\x00") != "" { // all zeros (lo): none
				l.HardwareAddr = append(net.HardwareAddr(nil), v...)
			}
		case unix.IFLA_MASTER:
			l.MasterIndex = u32(v)
		case unix.IFLA_LINK:
			l.ParentIndex = u32(v)
		case unix.IFLA_LINK_NETNSID:
			l.NetNsID = u32(v)
		case unix.IFLA_GROUP:
			l.Group = uint32(u32(v))
		case unix.IFLA_LINKINFO:
			eachAttr(v, func(t uint16, v []byte) {
				if t == unix.IFLA_INFO_KIND {
					l.Kind = cstr(v)
				}
			})
		case unix.IFLA_PROP_LIST:
			eachAttr(v, func(t uint16, v []byte) {
				if t == unix.IFLA_ALT_IFNAME {
					l.AltNames = append(l.AltNames, cstr(v))
				}
			})
		}
	})
	return l
}

// skipStats asks a link request to leave out the statistics.
func skipStats() *nl.RtAttr {
	return nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(rtextFilterSkipStats))
}

// getLink is one RTM_GETLINK: the link of index, or of name (an
// alternative name too) when index is 0.
func (h *handle) getLink(index int, name string) (*link, error) {
	req := h.request(unix.RTM_GETLINK, unix.NLM_F_ACK, ifinfo(unix.AF_UNSPEC, index), skipStats())
	if name != "" {
		typ := unix.IFLA_IFNAME
		if len(name) > unix.IFNAMSIZ-1 {
			typ = unix.IFLA_ALT_IFNAME
		}
		req.AddData(nl.NewRtAttr(typ, nl.ZeroTerminated(name)))
	}
	msgs, err := req.Execute(unix.NETLINK_ROUTE, 0)
	switch {
	case errors.Is(err, unix.ENODEV):
		return nil, errLinkNotFound
	case err != nil:
		return nil, err
	case len(msgs) != 1:
		return nil, errLinkNotFound
	}
	if l := parseLink(msgs[0]); l != nil {
		return l, nil
	}
	return nil, errLinkNotFound
}

func (h *handle) linkByName(name string) (*link, error) { return h.getLink(0, name) }

func (h *handle) linkByIndex(index int) (*link, error) { return h.getLink(index, "") }

// linkList lists the links of h's namespace.
func (h *handle) linkList() ([]*link, error) {
	var out []*link
	err := h.dump(unix.RTM_GETLINK, unix.RTM_NEWLINK, func() { out = nil }, func(m []byte) {
		if l := parseLink(m); l != nil {
			out = append(out, l)
		}
	}, nl.NewIfInfomsg(unix.AF_UNSPEC), skipStats())
	return out, err
}

// netNsID is the id that h's namespace has for the namespace of the file
// descriptor fd (RTM_GETNSID); -1 (nsfs.NSIDUnassigned): none.
func (h *handle) netNsID(fd int) (int, error) {
	id, err := nsfs.NSIDOn(h.sockets[unix.NETLINK_ROUTE].Socket.GetFd(), fd)
	return int(id), err
}

// addr is an address of a link as the kernel has it.
type addr struct {
	IPNet *net.IPNet
	Scope uint8
	Flags uint32 // IFA_F_*
}

// addrMsg is an RTM_NEWADDR or RTM_DELADDR of p on the link index: as
// "ip address" sends it (IFA_LOCAL and IFA_ADDRESS both p's address, the
// broadcast address of an IPv4 subnet).
func (h *handle) addrMsg(typ, flags, index int, p netip.Prefix, ifaFlags uint32) *nl.NetlinkRequest {
	family := unix.AF_INET
	if p.Addr().Is6() {
		family = unix.AF_INET6
	}
	msg := nl.NewIfAddrmsg(family)
	msg.Index, msg.Prefixlen = uint32(index), uint8(p.Bits())
	ip := p.Addr().AsSlice()
	req := h.request(typ, flags|unix.NLM_F_ACK, msg, nl.NewRtAttr(unix.IFA_LOCAL, ip), nl.NewRtAttr(unix.IFA_ADDRESS, ip))
	switch {
	case ifaFlags > 0xff:
		req.AddData(nl.NewRtAttr(unix.IFA_FLAGS, nl.Uint32Attr(ifaFlags)))
	case ifaFlags != 0:
		msg.IfAddrmsg.Flags = uint8(ifaFlags)
	}
	if family == unix.AF_INET && p.Bits() < 31 {
		mask := net.CIDRMask(p.Bits(), 32)
		brd := make([]byte, 4)
		for i := range brd {
			brd[i] = ip[i] | ^mask[i]
		}
		req.AddData(nl.NewRtAttr(unix.IFA_BROADCAST, brd))
	}
	return req
}

// addrFlags is the flags p is added with: IPv6 without duplicate address
// detection (usable at once) unless dad.
func addrFlags(p netip.Prefix, dad bool) uint32 {
	if p.Addr().Is6() && !dad {
		return unix.IFA_F_NODAD
	}
	return 0
}

func (h *handle) addrAdd(index int, p netip.Prefix, dad bool) error {
	_, err := h.addrMsg(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, index, p, addrFlags(p, dad)).Execute(unix.NETLINK_ROUTE, 0)
	return err
}

func (h *handle) addrDel(index int, p netip.Prefix) error {
	_, err := h.addrMsg(unix.RTM_DELADDR, 0, index, p, addrFlags(p, false)).Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// addrList lists the addresses of the link index.
func (h *handle) addrList(index int) ([]addr, error) {
	var out []addr
	err := h.dump(unix.RTM_GETADDR, unix.RTM_NEWADDR, func() { out = nil }, func(m []byte) {
		if a, ok := parseAddr(m, index); ok {
			out = append(out, a)
		}
	}, nl.NewIfAddrmsg(unix.AF_UNSPEC))
	return out, err
}

// parseAddr reads an RTM_NEWADDR message of the link index (ok is false
// for another link's).
func parseAddr(m []byte, index int) (a addr, ok bool) {
	if len(m) < unix.SizeofIfAddrmsg || int(binary.NativeEndian.Uint32(m[4:])) != index {
		return a, false
	}
	a = addr{Flags: uint32(m[2]), Scope: m[3]}
	var local, address []byte
	eachAttr(m[unix.SizeofIfAddrmsg:], func(t uint16, v []byte) {
		switch t {
		case unix.IFA_LOCAL:
			local = v
		case unix.IFA_ADDRESS:
			address = v
		case unix.IFA_FLAGS:
			if len(v) >= 4 {
				a.Flags = binary.NativeEndian.Uint32(v)
			}
		}
	})
	bits, ip := int(m[1]), address
	if local != nil {
		ip = local
		if address != nil && !net.IP(local).Equal(address) {
			bits = 8 * len(local) // a peer's address: the local one alone
		}
	}
	if ip == nil {
		return a, false
	}
	ip = append(net.IP(nil), ip...)
	a.IPNet = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, 8*len(ip))}
	return a, true
}

// route is a route as this package reads it.
type route struct {
	Family int
	Dst    *net.IPNet // nil: the default route
	Gw     net.IP
}

// routeAdd adds a route through the link index to dst (the default route
// when dst is not valid), via gw when it is valid; one without gateway
// has scope link.
func (h *handle) routeAdd(index int, dst netip.Prefix, gw netip.Addr) error {
	msg := nl.NewRtMsg()
	req := h.request(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK, msg)
	if dst.IsValid() {
		msg.Family, msg.Dst_len = uint8(familyOf(dst.Addr())), uint8(dst.Bits())
		req.AddData(nl.NewRtAttr(unix.RTA_DST, dst.Addr().AsSlice()))
	}
	if gw.IsValid() {
		if dst.IsValid() && familyOf(gw) != int(msg.Family) {
			return errors.New("gateway, source, and destination ip are not the same IP family")
		}
		msg.Family = uint8(familyOf(gw))
		req.AddData(nl.NewRtAttr(unix.RTA_GATEWAY, gw.AsSlice()))
	} else {
		msg.Scope = unix.RT_SCOPE_LINK
	}
	req.AddData(nl.NewRtAttr(unix.RTA_OIF, nl.Uint32Attr(uint32(index))))
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// routeList lists the routes of the main table (through the link index,
// when it is not 0), as "ip route" shows them: no cached ones.
func (h *handle) routeList(index int) ([]route, error) {
	var out []route
	err := h.dump(unix.RTM_GETROUTE, unix.RTM_NEWROUTE, func() { out = nil }, func(m []byte) {
		if len(m) < unix.SizeofRtMsg {
			return
		}
		family, dstLen, table := int(m[0]), int(m[1]), m[4]
		flags := binary.NativeEndian.Uint32(m[8:])
		r, oif := route{Family: family}, 0
		eachAttr(m[unix.SizeofRtMsg:], func(t uint16, v []byte) {
			switch t {
			case unix.RTA_DST:
				ip := append(net.IP(nil), v...)
				r.Dst = &net.IPNet{IP: ip, Mask: net.CIDRMask(dstLen, 8*len(ip))}
			case unix.RTA_GATEWAY:
				r.Gw = append(net.IP(nil), v...)
			case unix.RTA_OIF:
				if len(v) >= 4 {
					oif = int(binary.NativeEndian.Uint32(v))
				}
			}
		})
		if flags&unix.RTM_F_CLONED != 0 || table != unix.RT_TABLE_MAIN || (index != 0 && oif != index) {
			return
		}
		out = append(out, r)
	}, nl.NewRtMsg())
	return out, err
}
