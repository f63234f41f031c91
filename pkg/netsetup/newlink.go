package netsetup

import (
	"net"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// The two kinds of link this package creates, a veth pair and a bridge,
// each by one RTM_NEWLINK built here from the library's message parts.
// netlink.Handle.LinkAdd would build the same message, but it is one
// function for every kind of link the library knows, and calling it links
// the encoders of all of them (bonds, tunnels, vxlan, netkit...) into
// every applet of the binary (docs/performance.md, Size).

// vethSpec is a veth pair: the host end, and the peer created directly
// inside the namespace peerNs (a descriptor).
type vethSpec struct {
	name, peer   string
	peerNs       int
	mtu          int // 0: the kernel's
	mac, peerMAC net.HardwareAddr
	queues       int // transmit and receive queues of each end; 0: the kernel's (one per possible CPU)
}

// addVeth creates the pair through h's namespace and returns the host
// end's index (looked up by name afterwards, as LinkAdd does).
func addVeth(h *handle, v vethSpec) (int, error) {
	req := newLinkRequest(v.name, v.mtu, v.mac, v.queues)
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	peer := info.AddRtAttr(nl.IFLA_INFO_DATA, nil).AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC)
	peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.peer))
	for _, a := range linkAttrs(v.mtu, v.peerMAC, v.queues) {
		peer.AddChild(a)
	}
	peer.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(v.peerNs)))
	req.AddData(info)
	return execNewLink(h, req, v.name)
}

// addBridge creates a bridge with the MAC address mac, multicast snooping
// off, and returns its index.
func addBridge(h *handle, name string, mac net.HardwareAddr) (int, error) {
	req := newLinkRequest(name, 0, mac, 0)
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
	info.AddRtAttr(nl.IFLA_INFO_DATA, nil).AddRtAttr(nl.IFLA_BR_MCAST_SNOOPING, []byte{0})
	req.AddData(info)
	return execNewLink(h, req, name)
}

// newLinkRequest starts an RTM_NEWLINK that creates the link name (and
// fails if it exists).
func newLinkRequest(name string, mtu int, mac net.HardwareAddr, queues int) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	for _, a := range linkAttrs(mtu, mac, queues) {
		req.AddData(a)
	}
	return req
}

// linkAttrs is the attributes a link and a veth's peer share.
func linkAttrs(mtu int, mac net.HardwareAddr, queues int) []*nl.RtAttr {
	var as []*nl.RtAttr
	if mtu > 0 {
		as = append(as, nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(mtu))))
	}
	if mac != nil {
		as = append(as, nl.NewRtAttr(unix.IFLA_ADDRESS, []byte(mac)))
	}
	if queues > 0 {
		as = append(as, nl.NewRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(queues))),
			nl.NewRtAttr(unix.IFLA_NUM_RX_QUEUES, nl.Uint32Attr(uint32(queues))))
	}
	return as
}

// execNewLink sends req on a socket in the caller's network namespace
// (the one h was opened in: the host's) and looks the new link up by name
// through h.
func execNewLink(h *handle, req *nl.NetlinkRequest, name string) (int, error) {
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return 0, err
	}
	l, err := h.linkByName(name)
	if err != nil {
		return 0, nil // created, then not found: the caller says so
	}
	return l.Index, nil
}
