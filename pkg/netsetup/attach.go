package netsetup

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A CNI attachment (nsbox-bridge) is recorded on its host end, as its
// addresses are (record.go): one more alternative name,
//
//	nsbox-cni.NNNNNNNN.CONTAINERID,IFNAME
//
// NNNNNNNN is a hash of the network's name (a network is a configuration's
// "name"; a container may be on several), then the container ID and the
// interface name as the runtime gave them (a container ID has no ',' and
// an interface name no ':', so the name is unambiguous); when that is
// longer than an altname may be (127 bytes), a hash of the two instead.
// The kernel keeps names unique, so a second ADD of one attachment fails
// (ErrAttachmentExists); DEL finds the host end by this name (one
// RTM_GETLINK); GC lists the host ends whose records start with the
// network's prefix.

// AttachmentPrefixBase starts every attachment record.
const AttachmentPrefixBase = "nsbox-cni."

// maxAltName is the longest alternative name (ALTIFNAMSIZ-1).
const maxAltName = 127

// ErrAttachmentExists: the attachment is recorded on a host end already.
const ErrAttachmentExists Text = "attachment exists already"

// AttachmentPrefix is what the records of network's attachments start
// with.
func AttachmentPrefix(network string) string {
	h := sha256.Sum256([]byte(network))
	return AttachmentPrefixBase + hex.EncodeToString(h[:4]) + "."
}

// AttachmentName is the record of the attachment (containerID, ifname) to
// network.
func AttachmentName(network, containerID, ifname string) string {
	name := AttachmentPrefix(network) + containerID + "," + ifname
	if len(name) <= maxAltName {
		return name
	}
	h := sha256.Sum256([]byte(containerID + "\x00" + ifname))
	return AttachmentPrefix(network) + "h" + hex.EncodeToString(h[:20])
}

// findAttachment returns the host end that records attachment name, or
// nil: one RTM_GETLINK by the record.
func findAttachment(h *netlink.Handle, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, &Error{Op: "look up attachment " + name, Err: err}
	}
	if l.Type() != "veth" {
		return nil, &Error{Op: l.Attrs().Name, Err: Text("records attachment " + name + " but is not a veth")}
	}
	return l, nil
}

// DeleteAttachment removes the host end that records attachment name (its
// peer goes with it, and the addresses with their records). It reports
// whether there was one: none is no error (a second DEL, a namespace that
// died and took the pair with it).
func DeleteAttachment(name string) (bool, error) {
	h, err := hostHandle()
	if err != nil {
		return false, err
	}
	defer h.Close()
	l, err := findAttachment(h, name)
	if err != nil || l == nil {
		return false, err
	}
	if err := h.LinkDel(l); err != nil && !isNotFound(err) {
		return false, &Error{Op: "delete " + l.Attrs().Name, Err: err}
	}
	return true, nil
}

// GCAttachments removes the host ends of network's attachments whose
// record keep does not accept. It goes on past a failure and returns the
// records removed and the first error. A host end whose ADD is under way
// is either not recorded yet (the record is the first thing added to it)
// or recorded under a name keep is asked about.
func GCAttachments(network string, keep func(record string) bool) ([]string, error) {
	h, err := hostHandle()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	links, err := linkList(h)
	if err != nil {
		return nil, &Error{Op: "list links", Err: err}
	}
	prefix := AttachmentPrefix(network)
	var removed []string
	var first error
	for _, l := range links {
		if l.Type() != "veth" {
			continue
		}
		for _, n := range l.Attrs().AltNames {
			if !strings.HasPrefix(n, prefix) || keep(n) {
				continue
			}
			if err := h.LinkDel(l); err != nil && !isNotFound(err) {
				if first == nil {
					first = &Error{Op: "delete " + l.Attrs().Name, Err: err}
				}
				continue
			}
			removed = append(removed, n)
		}
	}
	return removed, first
}

// Live is an attachment as the kernel has it, for CHECK.
type Live struct {
	HostIf  string
	HostUp  bool
	Bridge  string // the host end's master; "": none
	IfFound bool   // the container end is in the target under its name
	IfUp    bool
	IfMAC   string
	Addrs   []netip.Prefix // the container end's global addresses
	Routes  []Route        // the routes inside through the container end
}

// InspectAttachment reads the attachment name: its host end, and the
// container end ifname in t. No host end: nil.
func InspectAttachment(name string, t *Target, ifname string) (*Live, error) {
	h, err := hostHandle()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	l, err := findAttachment(h, name)
	if err != nil || l == nil {
		return nil, err
	}
	a := l.Attrs()
	lv := &Live{HostIf: a.Name, HostUp: a.Flags&net.FlagUp != 0}
	if a.MasterIndex != 0 {
		if m, err := h.LinkByIndex(a.MasterIndex); err == nil {
			lv.Bridge = m.Attrs().Name
		}
	}
	ch, err := t.handle()
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	peer, err := ch.LinkByName(ifname)
	if err != nil {
		if isNotFound(err) {
			return lv, nil
		}
		return nil, &Error{Op: "look up " + ifname + " in " + t.Name, Err: err}
	}
	lv.IfFound, lv.IfUp, lv.IfMAC = true, peer.Attrs().Flags&net.FlagUp != 0, peer.Attrs().HardwareAddr.String()
	as, err := addrList(ch, peer, netlink.FAMILY_ALL)
	if err != nil {
		return nil, &Error{Op: "addresses of " + ifname + " in " + t.Name, Err: err}
	}
	for _, ad := range as {
		if ad.Scope == unix.RT_SCOPE_UNIVERSE {
			if p, ok := prefixOf(ad.IPNet); ok {
				lv.Addrs = append(lv.Addrs, p)
			}
		}
	}
	routes, err := ch.RouteList(peer, netlink.FAMILY_ALL)
	if err != nil {
		return nil, &Error{Op: "routes in " + t.Name, Err: err}
	}
	for _, r := range routes {
		var rt Route
		if r.Dst != nil {
			rt.Dst, _ = prefixOf(r.Dst)
		} else if r.Family == unix.AF_INET6 {
			rt.Dst = netip.MustParsePrefix("::/0")
		} else {
			rt.Dst = netip.MustParsePrefix("0.0.0.0/0")
		}
		if gw, ok := netip.AddrFromSlice(r.Gw); ok && r.Gw != nil {
			rt.GW = gw.Unmap()
		}
		lv.Routes = append(lv.Routes, rt)
	}
	return lv, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a, bits), true
}

// BridgeState is what STATUS needs of a bridge.
type BridgeState int

// The states of a bridge's name.
const (
	BridgeMissing  BridgeState = iota // no link of that name: an ADD creates it
	BridgeUp                          // a bridge, up
	BridgeDown                        // a bridge, down: its ports are cut off
	BridgeNotABridge                  // the name is another kind of link's
)

// StateOfBridge looks bridge name up.
func StateOfBridge(name string) (BridgeState, error) {
	h, err := hostHandle()
	if err != nil {
		return 0, err
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	switch {
	case err != nil && isNotFound(err):
		return BridgeMissing, nil
	case err != nil:
		return 0, &Error{Op: "look up " + name, Err: err}
	case l.Type() != "bridge":
		return BridgeNotABridge, nil
	case l.Attrs().Flags&net.FlagUp == 0:
		return BridgeDown, nil
	}
	return BridgeUp, nil
}

// The messages KindOf knows a failure by.
const (
	msgInUse        = "address already in use on bridge"
	msgNoFree       = "no free address left"
	msgIfExists     = "interface already exists"
	msgHostIfExists = "host interface already exists"
)

// Kind is what sort of failure an error of this package is, for a caller
// that maps failures to codes (nsbox-bridge).
type Kind int

// The kinds of failure.
const (
	KindOther     Kind = iota
	KindInUse          // an address asked for is taken
	KindNoFree         // no free address is left
	KindExists         // the interface or the attachment exists
	KindTransient      // the kernel said try again (EAGAIN, EBUSY, ENOBUFS)
)

// KindOf classifies err.
func KindOf(err error) Kind {
	msg := err.Error()
	switch {
	case errors.Is(err, ErrAttachmentExists), strings.Contains(msg, msgIfExists), strings.Contains(msg, msgHostIfExists):
		return KindExists
	case strings.Contains(msg, msgInUse):
		return KindInUse
	case strings.Contains(msg, msgNoFree):
		return KindNoFree
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EBUSY), errors.Is(err, unix.ENOBUFS):
		return KindTransient
	}
	return KindOther
}
