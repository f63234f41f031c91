// Package netsetup gives a container's network namespace a port on a host
// bridge over rtnetlink (github.com/vishvananda/netlink), from the host
// side, in one call: the bridge (created with its addresses when missing),
// a veth pair whose container end is created directly inside the target
// namespace under its final name (no move, no rename: MECHANICS.md §8),
// the container's addresses (IPv6 without duplicate address detection),
// lo up and a default route; and takes it down again. A failure at any
// step undoes exactly what the call made.
//
// Addresses are allocated without a daemon and without a lock: each
// address given out is an alternative name of the container's host end
// (see record.go), which the kernel keeps unique and removes with the link,
// so a dead container's address is free again. Only the bridge's creation
// is serialised, by an flock on the directory /sys/class/net (no lock file
// is left behind), so that no run sees a bridge before its addresses.
// Neither setup nor teardown reads the list of all links: their cost does
// not grow with the number of containers on the bridge.
//
// The package has no command-line code; the mkbridge applet is its user.
package netsetup

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Marker starts the alias of a bridge this package made ("nsbox-mkbridge
// bridge", then the allocation hints).
const Marker = "nsbox-mkbridge"

// Config is one container's network.
type Config struct {
	Bridge      string         // the bridge; created when missing
	BridgeAddrs []netip.Prefix // the bridge's addresses, when this call creates it
	Target      *Target        // the container's network namespace
	IfName      string         // the container end's name (eth0)
	HostIfName  string         // the host end's name; "": HostIfName(ino, IfName)
	Addrs       []AddrReq      // the container's addresses; none: auto
	Gateways    []netip.Addr   // default routes via these; none: the bridge's addresses
	NoGateway   bool           // no default route
	MTU         int            // 0: the kernel's default
	MAC         net.HardwareAddr
	NAT         bool // forwarding and masquerade for the bridge's subnets

	// hook, when set (tests), runs after each step; an error it returns
	// fails the call there.
	hook func(step string) error
}

// Result is what Setup made.
type Result struct {
	HostIfName    string
	Addrs         []netip.Prefix
	Gateways      []netip.Addr
	BridgeCreated bool
	NATCreated    bool
}

// Steps are the names of Setup's steps, in order, as the test hook sees
// them.
var Steps = []string{"lock", "bridge", "bridge-addr", "bridge-up", "veth", "record", "master", "addr", "link-up", "lo-up", "route", "nat"}

func (c *Config) step(name string) error {
	if c.hook == nil {
		return nil
	}
	if err := c.hook(name); err != nil {
		return &Error{Op: "step " + name, Err: err}
	}
	return nil
}

// undo is a stack of rollback actions.
type undo []func()

func (u *undo) push(f func()) { *u = append(*u, f) }
func (u *undo) run() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
	*u = nil
}

// Validate checks the names of c. Setup calls it; the applet calls it
// before it opens anything.
func (c *Config) Validate() error {
	if err := CheckIfName("bridge", c.Bridge); err != nil {
		return err
	}
	if err := CheckIfName("interface", c.IfName); err != nil {
		return err
	}
	if c.HostIfName != "" {
		if err := CheckIfName("host interface", c.HostIfName); err != nil {
			return err
		}
		if c.HostIfName == c.Bridge {
			return Text(fmt.Sprintf("host interface name '%s' is the bridge's", c.HostIfName))
		}
	}
	if c.MTU < 0 || c.MTU > 65535 {
		return Text(fmt.Sprintf("invalid MTU %d", c.MTU))
	}
	for _, a := range c.Addrs {
		if a.Auto {
			continue
		}
		if a.Bits > 0 && !hostOf(a.Addr, netip.PrefixFrom(a.Addr, a.Bits)) {
			return Text(fmt.Sprintf("'%s/%d' is not a host address of %s", a.Addr, a.Bits, netip.PrefixFrom(a.Addr, a.Bits).Masked()))
		}
		if !a.Addr.IsGlobalUnicast() && !a.Addr.IsPrivate() {
			return Text(fmt.Sprintf("'%s' is not a global unicast address", a.Addr))
		}
	}
	return nil
}

func isExist(err error) bool { return errors.Is(err, unix.EEXIST) }

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

// linkList is LinkList retried when the kernel interrupted the dump
// (netlink returns ErrDumpInterrupted with partial results).
func linkList(h *netlink.Handle) ([]netlink.Link, error) {
	var err error
	for i := 0; i < 10; i++ {
		var links []netlink.Link
		links, err = h.LinkList()
		if err == nil {
			return links, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, err
		}
	}
	return nil, err
}

func addrList(h *netlink.Handle, l netlink.Link, family int) ([]netlink.Addr, error) {
	var err error
	for i := 0; i < 10; i++ {
		var as []netlink.Addr
		as, err = h.AddrList(l, family)
		if err == nil {
			return as, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, err
		}
	}
	return nil, err
}

func toIPNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

// plan checks the explicit addresses against the bridge's subnets and
// addresses, and returns them with the subnets to allocate from: one per
// family of the bridge's addresses that no explicit address covers, when
// auto (or nothing) was asked for.
func plan(reqs []AddrReq, bridge string, brAddrs []netip.Prefix) (explicit, auto []netip.Prefix, err error) {
	if len(reqs) == 0 {
		reqs = []AddrReq{{Auto: true}}
	}
	isBridge := map[netip.Addr]bool{}
	for _, b := range brAddrs {
		isBridge[b.Addr()] = true
	}
	wantAuto := false
	fams := map[bool]bool{} // Is4 -> an explicit address covers it
	seen := map[netip.Addr]bool{}
	for _, r := range reqs {
		if r.Auto {
			wantAuto = true
			continue
		}
		var sub netip.Prefix
		var subs []string
		for _, b := range brAddrs {
			if b.Addr().Is4() != r.Addr.Is4() {
				continue
			}
			subs = append(subs, b.Masked().String())
			if !sub.IsValid() && b.Masked().Contains(r.Addr) {
				sub = b
			}
		}
		bits := r.Bits
		switch {
		case !sub.IsValid() && len(subs) > 0:
			return nil, nil, Text(fmt.Sprintf("%s: not in the subnet of bridge %s (%s)", r.Addr, bridge, strings.Join(subs, ", ")))
		case !sub.IsValid() && bits < 0:
			return nil, nil, Text(fmt.Sprintf("%s: bridge %s has no address of this family: give a prefix length (ADDR/PREFIX)", r.Addr, bridge))
		case sub.IsValid():
			if bits < 0 {
				bits = sub.Bits()
			}
			if !hostOf(r.Addr, sub) {
				return nil, nil, Text(fmt.Sprintf("%s: the network or broadcast address of %s", r.Addr, sub.Masked()))
			}
		}
		if isBridge[r.Addr] || seen[r.Addr] {
			return nil, nil, Text(fmt.Sprintf("%s: address already in use on bridge %s", r.Addr, bridge))
		}
		seen[r.Addr] = true
		fams[r.Addr.Is4()] = true
		explicit = append(explicit, netip.PrefixFrom(r.Addr, bits))
	}
	if wantAuto {
		for _, b := range brAddrs {
			if !fams[b.Addr().Is4()] {
				fams[b.Addr().Is4()] = true
				auto = append(auto, b)
			}
		}
	}
	if len(explicit) == 0 && len(auto) == 0 {
		return nil, nil, Text(fmt.Sprintf("bridge %s has no address to allocate from: give --addr ADDR/PREFIX, or --bridge-addr when it is created", bridge))
	}
	return explicit, auto, nil
}

// maxScan bounds the search for a free address (an IPv6 /64 is big).
const maxScan = 1 << 16

// Setup gives c.Target its network (see the package comment). On failure
// everything it made is removed again; a bridge that existed stays.
func Setup(c *Config) (res *Result, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	hostIf := c.HostIfName
	if hostIf == "" {
		hostIf = HostIfName(c.Target.Ino(), c.IfName)
	}
	if hostIf == c.Bridge {
		return nil, Text(fmt.Sprintf("host interface name '%s' is the bridge's", hostIf))
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, &Error{Op: "netlink", Err: err}
	}
	defer h.Close()
	ch, err := c.Target.handle()
	if err != nil {
		return nil, err
	}
	defer ch.Close()

	// The names are free.
	if _, err := ch.LinkByName(c.IfName); err == nil {
		return nil, &Error{Op: c.IfName, Err: Text("interface already exists in " + c.Target.Name)}
	} else if !isNotFound(err) {
		return nil, &Error{Op: "look up " + c.IfName + " in " + c.Target.Name, Err: err}
	}
	if _, err := h.LinkByName(hostIf); err == nil {
		return nil, &Error{Op: hostIf, Err: Text("host interface already exists")}
	} else if !isNotFound(err) {
		return nil, &Error{Op: "look up " + hostIf, Err: err}
	}

	var u undo
	defer func() {
		if err != nil {
			u.run()
			res = nil
		}
	}()
	res = &Result{HostIfName: hostIf}

	br, explicit, auto, err := c.ensureBridge(h, &u, res)
	if err != nil {
		return nil, err
	}

	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:   hostIf,
			MTU:    c.MTU,
			TxQLen: -1,
		},
		PeerName:         c.IfName,
		PeerNamespace:    netlink.NsFd(c.Target.Fd()),
		PeerHardwareAddr: c.MAC,
		PeerTxQLen:       -1,
	}
	if err := h.LinkAdd(veth); err != nil {
		return nil, &Error{Op: "create veth " + hostIf + " (peer " + c.IfName + " in " + c.Target.Name + ")", Err: err}
	}
	vethIdx := veth.Attrs().Index
	u.push(func() { h.LinkDel(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Index: vethIdx, Name: hostIf}}) })
	if vethIdx == 0 {
		return nil, &Error{Op: hostIf, Err: Text("created, then not found")}
	}
	if err := c.step("veth"); err != nil {
		return nil, err
	}

	// The allocation: a record (altname) per address on the host end.
	addrs, err := c.record(h, veth, br, explicit, auto)
	if err != nil {
		return nil, err
	}
	res.Addrs = addrs
	res.Gateways = c.gateways(addrs, br.brAddrs)
	if err := c.step("record"); err != nil {
		return nil, err
	}

	// The host end takes no IPv6 address: no link-local, no DAD or MLD
	// packets that the bridge would flood to every other port (work that
	// grows with the bridge). Set while it is down.
	if err := h.LinkSetIP6AddrGenMode(veth, 1 /* IN6_ADDR_GEN_MODE_NONE */); err != nil && !errors.Is(err, unix.EAFNOSUPPORT) {
		return nil, &Error{Op: "no IPv6 link-local on " + hostIf, Err: err}
	}
	if err := h.LinkSetMasterByIndex(veth, br.index); err != nil {
		return nil, &Error{Op: "attach " + hostIf + " to " + c.Bridge, Err: err}
	}
	if err := h.LinkSetUp(veth); err != nil {
		return nil, &Error{Op: "set " + hostIf + " up", Err: err}
	}
	if err := c.step("master"); err != nil {
		return nil, err
	}

	// Inside the container.
	peer, err := ch.LinkByName(c.IfName)
	if err != nil {
		return nil, &Error{Op: "look up " + c.IfName + " in " + c.Target.Name, Err: err}
	}
	for _, a := range addrs {
		na := &netlink.Addr{IPNet: toIPNet(a)}
		if a.Addr().Is6() {
			na.Flags = unix.IFA_F_NODAD
		}
		if err := ch.AddrAdd(peer, na); err != nil {
			return nil, &Error{Op: "add address " + a.String() + " to " + c.IfName, Err: err}
		}
	}
	if err := c.step("addr"); err != nil {
		return nil, err
	}
	// A container given no IPv6 address takes no IPv6 link-local either
	// (as Docker disables IPv6 on an IPv4-only network): otherwise each new
	// container's DAD, MLD and router solicitations are flooded by the
	// bridge to every other container, work that grows with the bridge.
	if !hasIPv6(addrs) {
		if err := ch.LinkSetIP6AddrGenMode(peer, 1 /* IN6_ADDR_GEN_MODE_NONE */); err != nil && !errors.Is(err, unix.EAFNOSUPPORT) {
			return nil, &Error{Op: "no IPv6 link-local on " + c.IfName, Err: err}
		}
	}
	if err := ch.LinkSetUp(peer); err != nil {
		return nil, &Error{Op: "set " + c.IfName + " up", Err: err}
	}
	if err := c.step("link-up"); err != nil {
		return nil, err
	}
	lo, err := ch.LinkByName("lo")
	if err != nil {
		return nil, &Error{Op: "look up lo in " + c.Target.Name, Err: err}
	}
	if lo.Attrs().Flags&net.FlagUp == 0 {
		if err := ch.LinkSetUp(lo); err != nil {
			return nil, &Error{Op: "set lo up", Err: err}
		}
		u.push(func() { ch.LinkSetDown(lo) })
	}
	if err := c.step("lo-up"); err != nil {
		return nil, err
	}
	for _, gw := range res.Gateways {
		r := &netlink.Route{LinkIndex: peer.Attrs().Index, Gw: net.IP(gw.AsSlice())}
		if err := ch.RouteAdd(r); err != nil {
			return nil, &Error{Op: "add default route via " + gw.String(), Err: err}
		}
	}
	if err := c.step("route"); err != nil {
		return nil, err
	}
	if c.NAT {
		lk, err := lock()
		if err != nil {
			return nil, err
		}
		created, err := EnableNAT(c.Bridge, br.brAddrs)
		lk.unlock()
		if err != nil {
			return nil, err
		}
		if created {
			res.NATCreated = true
			u.push(func() { DisableNAT(c.Bridge) })
		}
		if err := c.step("nat"); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func hasIPv6(ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Addr().Is6() {
			return true
		}
	}
	return false
}

// record adds the altnames of the explicit addresses (one taken: "already
// in use") and allocates one address from each auto subnet, starting after
// the bridge's hint; then moves the hint on.
func (c *Config) record(h *netlink.Handle, veth netlink.Link, br *bridgeInfo, explicit, auto []netip.Prefix) ([]netip.Prefix, error) {
	addrs := append([]netip.Prefix(nil), explicit...)
	for _, a := range explicit {
		if err := h.LinkAddAltName(veth, recordName(c.Bridge, a.Addr())); err != nil {
			if isExist(err) {
				return nil, Text(fmt.Sprintf("%s: address already in use on bridge %s", a.Addr(), c.Bridge))
			}
			return nil, &Error{Op: "record " + a.Addr().String() + " on " + veth.Attrs().Name, Err: err}
		}
	}
	skip := map[netip.Addr]bool{}
	for _, b := range br.brAddrs {
		skip[b.Addr()] = true
	}
	last4, last6 := bridgeHints(br.alias)
	for _, sub := range auto {
		hint := last4
		if sub.Addr().Is6() {
			hint = last6
		}
		var got netip.Addr
		found, err := candidates(sub, hint, skip, func(a netip.Addr) (bool, error) {
			err := h.LinkAddAltName(veth, recordName(c.Bridge, a))
			switch {
			case err == nil:
				got = a
				return true, nil
			case isExist(err):
				return false, nil
			}
			return false, &Error{Op: "record " + a.String() + " on " + veth.Attrs().Name, Err: err}
		})
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, Text(fmt.Sprintf("no free address left in %s on bridge %s", sub.Masked(), c.Bridge))
		}
		addrs = append(addrs, netip.PrefixFrom(got, sub.Bits()))
		if got.Is4() {
			last4 = got
		} else {
			last6 = got
		}
	}
	if len(auto) > 0 && br.ours {
		// Only a hint: a lost race costs the next run one more try.
		h.LinkSetAlias(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Index: br.index, Name: c.Bridge}}, bridgeAlias(last4, last6))
	}
	return addrs, nil
}

type bridgeInfo struct {
	index   int
	brAddrs []netip.Prefix
	alias   string
	ours    bool // made by this package (its alias says so)
}

// ensureBridge looks the bridge up or creates it (under the lock, so that
// a run never sees a bridge another run made but has not given its
// addresses yet), and checks the addresses asked for: every check is made
// before the bridge is created.
func (c *Config) ensureBridge(h *netlink.Handle, u *undo, res *Result) (*bridgeInfo, []netip.Prefix, []netip.Prefix, error) {
	lk, err := lock()
	if err != nil {
		return nil, nil, nil, err
	}
	defer lk.unlock()
	if err := c.step("lock"); err != nil {
		return nil, nil, nil, err
	}
	br, err := h.LinkByName(c.Bridge)
	if err != nil && !isNotFound(err) {
		return nil, nil, nil, &Error{Op: "look up " + c.Bridge, Err: err}
	}
	if err == nil {
		if br.Type() != "bridge" {
			return nil, nil, nil, &Error{Op: c.Bridge, Err: Text("exists and is not a bridge (type " + br.Type() + ")")}
		}
		brAddrs, err := linkPrefixes(br.Attrs().Index)
		if err != nil {
			return nil, nil, nil, &Error{Op: "addresses of " + c.Bridge, Err: err}
		}
		explicit, auto, err := plan(c.Addrs, c.Bridge, brAddrs)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := c.checkFree(h, explicit); err != nil {
			return nil, nil, nil, err
		}
		if br.Attrs().Flags&net.FlagUp == 0 {
			if err := h.LinkSetUp(br); err != nil {
				return nil, nil, nil, &Error{Op: "set " + c.Bridge + " up", Err: err}
			}
		}
		a := br.Attrs()
		return &bridgeInfo{index: a.Index, brAddrs: brAddrs, alias: a.Alias, ours: isOurBridge(a.Alias)}, explicit, auto, nil
	}
	explicit, auto, err := plan(c.Addrs, c.Bridge, c.BridgeAddrs)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := c.checkFree(h, explicit); err != nil {
		return nil, nil, nil, err
	}
	nb := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: c.Bridge, TxQLen: -1}}
	if err := h.LinkAdd(nb); err != nil {
		return nil, nil, nil, &Error{Op: "create bridge " + c.Bridge, Err: err}
	}
	idx := nb.Attrs().Index
	u.push(func() { removeIfEmpty(h, idx, c.Bridge) })
	res.BridgeCreated = true
	if idx == 0 {
		return nil, nil, nil, &Error{Op: c.Bridge, Err: Text("created, then not found")}
	}
	if err := h.LinkSetAlias(nb, bridgeAliasPrefix); err != nil {
		return nil, nil, nil, &Error{Op: "mark bridge " + c.Bridge, Err: err}
	}
	if err := c.step("bridge"); err != nil {
		return nil, nil, nil, err
	}
	for _, a := range c.BridgeAddrs {
		na := &netlink.Addr{IPNet: toIPNet(a)}
		if a.Addr().Is6() {
			na.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrAdd(nb, na); err != nil {
			return nil, nil, nil, &Error{Op: "add address " + a.String() + " to " + c.Bridge, Err: err}
		}
	}
	if err := c.step("bridge-addr"); err != nil {
		return nil, nil, nil, err
	}
	if err := h.LinkSetUp(nb); err != nil {
		return nil, nil, nil, &Error{Op: "set " + c.Bridge + " up", Err: err}
	}
	if err := c.step("bridge-up"); err != nil {
		return nil, nil, nil, err
	}
	return &bridgeInfo{index: idx, brAddrs: c.BridgeAddrs, alias: bridgeAliasPrefix, ours: true}, explicit, auto, nil
}

// checkFree refuses an explicit address that is recorded already (one
// RTM_GETLINK by the record's name), before anything is created.
func (c *Config) checkFree(h *netlink.Handle, explicit []netip.Prefix) error {
	for _, a := range explicit {
		if _, err := h.LinkByName(recordName(c.Bridge, a.Addr())); err == nil {
			return Text(fmt.Sprintf("%s: address already in use on bridge %s", a.Addr(), c.Bridge))
		}
	}
	return nil
}

// removeIfEmpty is the rollback of a bridge this run made: under the lock,
// it is removed unless another run has attached a port to it meanwhile.
func removeIfEmpty(h *netlink.Handle, idx int, name string) {
	lk, err := lock()
	if err != nil {
		return
	}
	defer lk.unlock()
	links, err := linkList(h)
	if err != nil {
		return
	}
	for _, l := range links {
		if l.Attrs().MasterIndex == idx {
			return
		}
	}
	h.LinkDel(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Index: idx, Name: name}})
}

// gateways: the ones asked for, else for each family of the container's
// addresses the bridge's address in the same subnet.
func (c *Config) gateways(addrs []netip.Prefix, brAddrs []netip.Prefix) []netip.Addr {
	if c.NoGateway {
		return nil
	}
	if len(c.Gateways) > 0 {
		return c.Gateways
	}
	var out []netip.Addr
	have := map[bool]bool{}
	for _, a := range addrs {
		for _, b := range brAddrs {
			if have[a.Addr().Is4()] || b.Addr().Is4() != a.Addr().Is4() || !a.Masked().Contains(b.Addr()) {
				continue
			}
			out = append(out, b.Addr())
			have[a.Addr().Is4()] = true
		}
	}
	return out
}
