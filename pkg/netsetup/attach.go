package netsetup

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink/nl"
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
	h := fnv.New32a()
	h.Write([]byte(network))
	return AttachmentPrefixBase + hex.EncodeToString(h.Sum(nil)) + "."
}

// AttachmentName is the record of the attachment (containerID, ifname) to
// network.
func AttachmentName(network, containerID, ifname string) string {
	name := AttachmentPrefix(network) + containerID + "," + ifname
	if len(name) <= maxAltName {
		return name
	}
	h := fnv.New128a()
	h.Write([]byte(containerID + "\x00" + ifname))
	return AttachmentPrefix(network) + "h" + hex.EncodeToString(h.Sum(nil))
}

// findAttachment returns the host end that records attachment name, or
// nil: one RTM_GETLINK by the record.
func findAttachment(h *handle, name string) (*link, error) {
	l, err := h.linkByName(name)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, &Error{Op: "look up attachment " + name, Err: err}
	}
	if l.Type() != "veth" {
		return nil, &Error{Op: l.Name, Err: Text("records attachment " + name + " but is not a veth")}
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
	if err := h.linkDel(l.Index); err != nil && !isNotFound(err) {
		return false, &Error{Op: "delete " + l.Name, Err: err}
	}
	return true, nil
}

// ReleaseAttachment marks the host end of attachment name released, so
// that the attachment is gone for ADD, DEL and GC at once, and returns the
// host end to delete (DeleteHostEnd): found is false when no host end
// records it. Deleting a veth pair waits for an RCU grace period in the
// kernel; releasing does not. The record is replaced by releasedName,
// which stays on the host end until it is deleted: should the deletion
// never come (the process that was to do it killed), the network's next
// GC finds the host end under the network's prefix and deletes it.
func ReleaseAttachment(name string) (index int, hostIf string, found bool, err error) {
	h, err := hostHandle()
	if err != nil {
		return 0, "", false, err
	}
	defer h.Close()
	l, err := findAttachment(h, name)
	if err != nil || l == nil {
		return 0, "", false, err
	}
	// Marked first, then unrecorded: killed in between, the attachment
	// is still found, and a DEL again finds the mark made.
	if err := h.linkAddAltName(l.Index, releasedName(name, l.Index)); err != nil && !isExist(err) {
		return 0, "", false, &Error{Op: "release attachment " + name + " on " + l.Name, Err: err}
	}
	if err := h.linkDelAltName(l.Index, name); err != nil && !isNotFound(err) {
		return 0, "", false, &Error{Op: "release attachment " + name + " on " + l.Name, Err: err}
	}
	return l.Index, l.Name, true, nil
}

// releasedName is the mark of a released host end: the prefix of the
// attachment record name (the network's), '~' (which no container ID
// holds) and the link's index, unique on the host.
func releasedName(name string, index int) string {
	n := len(AttachmentPrefixBase) + 9 // the network's hash and its '.'
	if len(name) < n {
		n = len(name)
	}
	return name[:n] + "~" + strconv.Itoa(index)
}

// DeleteHostEnd deletes the link index when it is still hostIf, a host end
// of this package (a veth whose alternative names are all address records
// or the mark of a release); gone already is no error.
func DeleteHostEnd(index int, hostIf string) error {
	h, err := hostHandle()
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.linkByIndex(index)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return &Error{Op: "look up " + hostIf, Err: err}
	}
	if l.Name != hostIf || l.Type() != "veth" {
		return nil // another link has the index now
	}
	for _, n := range l.AltNames {
		if !strings.HasPrefix(n, RecordPrefix) && !strings.HasPrefix(n, AttachmentPrefixBase) {
			return nil // not ours
		}
	}
	if err := h.linkDel(l.Index); err != nil && !isNotFound(err) {
		return &Error{Op: "delete " + hostIf, Err: err}
	}
	return nil
}

// GCAttachments removes the host ends of network's attachments whose
// record keep does not accept, and those released whose deletion never
// came (ReleaseAttachment). It goes on past a failure and returns the
// records removed and the first error. A host end whose ADD is under way
// is either not recorded yet (the record is the first thing added to it)
// or recorded under a name keep is asked about.
func GCAttachments(network string, keep func(record string) bool) ([]string, error) {
	h, err := hostHandle()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	links, err := h.linkList()
	if err != nil {
		return nil, &Error{Op: "list links", Err: err}
	}
	prefix := AttachmentPrefix(network)
	var stale []*link
	var removed []string
	groups := map[uint32]bool{}
	for _, l := range links {
		groups[l.Group] = true
		if l.Type() != "veth" {
			continue
		}
		for _, n := range l.AltNames {
			if strings.HasPrefix(n, prefix) && (strings.HasPrefix(n[len(prefix):], "~") || !keep(n)) {
				stale = append(stale, l)
				removed = append(removed, n)
			}
		}
	}
	if len(stale) == 0 {
		return nil, nil
	}
	return removed, deleteLinks(h, stale, groups)
}

// deleteLinks deletes links in one request: each is put in a group of its
// own, unused by any other link (groups: those in use), and the group is
// deleted, which the kernel does with one RCU grace period for all (one
// RTM_DELLINK each would wait for one each). Where that fails, the links
// are deleted one by one. The first error is returned.
func deleteLinks(h *handle, links []*link, groups map[uint32]bool) error {
	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	group, err := unusedGroup(groups)
	batch := err == nil && len(links) > 1
	var single []*link
	for _, l := range links {
		if batch {
			if err := h.linkSetGroup(l.Index, group); err == nil {
				continue
			} else if isNotFound(err) {
				continue
			}
		}
		single = append(single, l)
	}
	if batch {
		if err := deleteGroup(group); err != nil {
			note(&Error{Op: fmt.Sprintf("delete link group %d", group), Err: err})
		}
	}
	for _, l := range single {
		if err := h.linkDel(l.Index); err != nil && !isNotFound(err) {
			note(&Error{Op: "delete " + l.Name, Err: err})
		}
	}
	return first
}

// unusedGroup picks a random link group number no link is in.
func unusedGroup(used map[uint32]bool) (uint32, error) {
	var b [4]byte
	for i := 0; i < 8; i++ {
		if _, err := unix.Getrandom(b[:], 0); err != nil {
			return 0, err
		}
		g := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if g > 255 && !used[g] { // 0 is the default; iproute2 names a few low ones
			return g, nil
		}
	}
	return 0, unix.EAGAIN
}

// deleteGroup deletes every link of group (RTM_DELLINK with IFLA_GROUP and
// no index nor name: rtnl_group_dellink).
func deleteGroup(group uint32) error {
	return dellink(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(group)))
}

// dellink sends an RTM_DELLINK that names no index, only attr, on a
// socket of its own.
func dellink(attr *nl.RtAttr) error {
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(attr)
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
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
	lv := &Live{HostIf: l.Name, HostUp: l.up()}
	if l.MasterIndex != 0 {
		if m, err := h.linkByIndex(l.MasterIndex); err == nil {
			lv.Bridge = m.Name
		}
	}
	ch, done, err := t.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	peer, err := ch.linkByName(ifname)
	if err != nil {
		if isNotFound(err) {
			return lv, nil
		}
		return nil, &Error{Op: "look up " + ifname + " in " + t.Name, Err: err}
	}
	lv.IfFound, lv.IfUp, lv.IfMAC = true, peer.up(), peer.HardwareAddr.String()
	as, err := ch.addrList(peer.Index)
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
	routes, err := ch.routeList(peer.Index)
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
	BridgeMissing    BridgeState = iota // no link of that name: an ADD creates it
	BridgeUp                            // a bridge, up
	BridgeDown                          // a bridge, down: its ports are cut off
	BridgeNotABridge                    // the name is another kind of link's
)

// StateOfBridge looks bridge name up.
func StateOfBridge(name string) (BridgeState, error) {
	h, err := hostHandle()
	if err != nil {
		return 0, err
	}
	defer h.Close()
	l, err := h.linkByName(name)
	switch {
	case err != nil && isNotFound(err):
		return BridgeMissing, nil
	case err != nil:
		return 0, &Error{Op: "look up " + name, Err: err}
	case l.Type() != "bridge":
		return BridgeNotABridge, nil
	case !l.up():
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
