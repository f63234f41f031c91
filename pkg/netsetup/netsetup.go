// Package netsetup gives a container's network namespace a port on a host
// bridge over rtnetlink (github.com/vishvananda/netlink), from the host
// side, in one call: the bridge (created with its addresses when missing),
// a veth pair whose container end is created directly inside the target
// namespace under its final name (no move, no rename: MECHANICS.md §8),
// the container's addresses (IPv6 without duplicate address detection),
// lo up and a default route; and takes it down again. A failure at any
// step undoes exactly what the call made.
//
// Addresses are allocated without a daemon: the host end of every veth
// carries its container's addresses in its interface alias (IFLA_IFALIAS,
// "nsbox-mkbridge BRIDGE ADDR/PREFIX..."), so the record lives and dies
// with the link (a container's veth pair is destroyed with its network
// namespace, and its addresses become free). Allocation reads the aliases
// and creates the new veth, with its alias, under an flock on the
// directory /sys/class/net, so that concurrent runs never pick the same
// address and leave no lock file behind.
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
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Marker starts the alias of every link this package makes: a bridge's
// alias is "nsbox-mkbridge bridge", a host end's "nsbox-mkbridge BRIDGE
// ADDR/PREFIX...".
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
var Steps = []string{"lock", "bridge", "bridge-addr", "bridge-up", "veth", "master", "addr", "link-up", "lo-up", "route", "nat"}

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
			return Text(fmt.Sprintf("'%s' is not a unicast address", a.Addr))
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

// bridgePrefixes returns the global addresses of link l.
func bridgePrefixes(h *netlink.Handle, l netlink.Link) ([]netip.Prefix, error) {
	as, err := addrList(h, l, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range as {
		if p, ok := toPrefix(a.IPNet); ok && a.Scope == unix.RT_SCOPE_UNIVERSE {
			out = append(out, p)
		}
	}
	return out, nil
}

func toPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a, ones), true
}

func toIPNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

// hostAlias is the alias of a host end: the record of its addresses.
func hostAlias(bridge string, addrs []netip.Prefix) string {
	var b strings.Builder
	b.WriteString(Marker + " " + bridge)
	for _, a := range addrs {
		b.WriteString(" " + a.String())
	}
	return b.String()
}

// parseAlias returns the bridge and addresses an alias records, ok false
// when it is not one of ours (or is a bridge's).
func parseAlias(alias string) (bridge string, addrs []netip.Prefix, ok bool) {
	f := strings.Fields(alias)
	if len(f) < 2 || f[0] != Marker || f[1] == "bridge" {
		return "", nil, false
	}
	for _, s := range f[2:] {
		if p, err := netip.ParsePrefix(s); err == nil {
			addrs = append(addrs, p)
		}
	}
	return f[1], addrs, true
}

// used returns the addresses recorded on the host ends of bridge.
func used(links []netlink.Link, bridge string) map[netip.Addr]bool {
	u := map[netip.Addr]bool{}
	for _, l := range links {
		if br, addrs, ok := parseAlias(l.Attrs().Alias); ok && br == bridge {
			for _, a := range addrs {
				u[a.Addr()] = true
			}
		}
	}
	return u
}

// plan turns the requests into addresses: explicit ones checked against
// the bridge's subnets and the addresses in use, auto ones the lowest free
// host address of each of the bridge's subnets (one per family) that no
// explicit address covers.
func plan(reqs []AddrReq, bridge string, brAddrs []netip.Prefix, inUse map[netip.Addr]bool) ([]netip.Prefix, error) {
	taken := map[netip.Addr]bool{}
	for a := range inUse {
		taken[a] = true
	}
	for _, b := range brAddrs {
		taken[b.Addr()] = true
	}
	if len(reqs) == 0 {
		reqs = []AddrReq{{Auto: true}}
	}
	var out []netip.Prefix
	auto := false
	fams := map[bool]bool{} // Is4 -> explicit address given
	for _, r := range reqs {
		if r.Auto {
			auto = true
			continue
		}
		var sub netip.Prefix
		for _, b := range brAddrs {
			if b.Addr().Is4() == r.Addr.Is4() && b.Masked().Contains(r.Addr) {
				sub = b
				break
			}
		}
		bits := r.Bits
		if !sub.IsValid() {
			var subs []string
			for _, b := range brAddrs {
				if b.Addr().Is4() == r.Addr.Is4() {
					subs = append(subs, b.Masked().String())
				}
			}
			if len(subs) > 0 {
				return nil, Text(fmt.Sprintf("%s: not in the subnet of bridge %s (%s)", r.Addr, bridge, strings.Join(subs, ", ")))
			}
			if bits < 0 {
				return nil, Text(fmt.Sprintf("%s: bridge %s has no address of this family: give a prefix length (ADDR/PREFIX)", r.Addr, bridge))
			}
		} else {
			if bits < 0 {
				bits = sub.Bits()
			}
			if !hostOf(r.Addr, sub) {
				return nil, Text(fmt.Sprintf("%s: the network or broadcast address of %s", r.Addr, sub.Masked()))
			}
		}
		if taken[r.Addr] {
			return nil, Text(fmt.Sprintf("%s: address already in use on bridge %s", r.Addr, bridge))
		}
		taken[r.Addr] = true
		fams[r.Addr.Is4()] = true
		out = append(out, netip.PrefixFrom(r.Addr, bits))
	}
	if !auto {
		return out, nil
	}
	n := 0
	for _, b := range brAddrs {
		is4 := b.Addr().Is4()
		if fams[is4] {
			continue
		}
		a, err := free(b, taken)
		if err != nil {
			return nil, err
		}
		taken[a] = true
		fams[is4] = true
		out = append(out, netip.PrefixFrom(a, b.Bits()))
		n++
	}
	if n == 0 && len(out) == 0 {
		return nil, Text(fmt.Sprintf("bridge %s has no address to allocate from: give --addr ADDR/PREFIX, or --bridge-addr when it is created", bridge))
	}
	return out, nil
}

// maxScan bounds the search for a free address (an IPv6 /64 is big).
const maxScan = 1 << 20

// free returns the lowest host address of subnet p that is not taken.
func free(p netip.Prefix, taken map[netip.Addr]bool) (netip.Addr, error) {
	a := p.Masked().Addr()
	for i := 0; i < maxScan; i++ {
		a = a.Next()
		if !a.IsValid() || !p.Contains(a) {
			break
		}
		if hostOf(a, p) && !taken[a] {
			return a, nil
		}
	}
	return netip.Addr{}, Text(fmt.Sprintf("no free address left in %s", p.Masked()))
}

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
	ch, err := netlink.NewHandleAt(netns.NsHandle(c.Target.Fd()), unix.NETLINK_ROUTE)
	if err != nil {
		return nil, &Error{Op: "netlink in " + c.Target.Name, Err: err}
	}
	defer ch.Close()

	// Checks that need no lock: the names are free.
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

	lk, err := lock()
	if err != nil {
		return nil, err
	}
	locked := true
	defer func() {
		if locked {
			lk.unlock()
		}
	}()
	if err := c.step("lock"); err != nil {
		return nil, err
	}

	br, addrs, err := c.ensureBridge(h, &u, res)
	if err != nil {
		return nil, err
	}
	res.Addrs = addrs
	res.Gateways = c.gateways(addrs, br.brAddrs)

	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:   hostIf,
			Alias:  hostAlias(c.Bridge, addrs),
			Flags:  net.FlagUp,
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
	// The kernel ignores IFLA_IFALIAS in RTM_NEWLINK: set it now, still
	// under the lock.
	if err := h.LinkSetAlias(veth, veth.Alias); err != nil {
		return nil, &Error{Op: "record the addresses on " + hostIf, Err: err}
	}
	if err := c.step("veth"); err != nil {
		return nil, err
	}
	if err := h.LinkSetMasterByIndex(veth, br.index); err != nil {
		return nil, &Error{Op: "attach " + hostIf + " to " + c.Bridge, Err: err}
	}
	if err := c.step("master"); err != nil {
		return nil, err
	}
	lk.unlock() // the alias records the addresses from here on
	locked = false

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

type bridgeInfo struct {
	index   int
	brAddrs []netip.Prefix
}

// ensureBridge looks the bridge up or creates it, and plans the addresses:
// every check is made before the bridge is created.
func (c *Config) ensureBridge(h *netlink.Handle, u *undo, res *Result) (*bridgeInfo, []netip.Prefix, error) {
	for attempt := 0; ; attempt++ {
		links, err := linkList(h)
		if err != nil {
			return nil, nil, &Error{Op: "list links", Err: err}
		}
		var br netlink.Link
		for _, l := range links {
			if l.Attrs().Name == c.Bridge {
				br = l
			}
		}
		inUse := used(links, c.Bridge)
		if br != nil {
			if br.Type() != "bridge" {
				return nil, nil, &Error{Op: c.Bridge, Err: Text("exists and is not a bridge (type " + br.Type() + ")")}
			}
			brAddrs, err := bridgePrefixes(h, br)
			if err != nil {
				return nil, nil, &Error{Op: "addresses of " + c.Bridge, Err: err}
			}
			addrs, err := plan(c.Addrs, c.Bridge, brAddrs, inUse)
			if err != nil {
				return nil, nil, err
			}
			if br.Attrs().Flags&net.FlagUp == 0 {
				if err := h.LinkSetUp(br); err != nil {
					return nil, nil, &Error{Op: "set " + c.Bridge + " up", Err: err}
				}
			}
			return &bridgeInfo{index: br.Attrs().Index, brAddrs: brAddrs}, addrs, nil
		}
		addrs, err := plan(c.Addrs, c.Bridge, c.BridgeAddrs, inUse)
		if err != nil {
			return nil, nil, err
		}
		nb := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: c.Bridge, Alias: Marker + " bridge", TxQLen: -1}}
		if err := h.LinkAdd(nb); err != nil {
			if isExist(err) && attempt == 0 { // made meanwhile, by someone else
				continue
			}
			return nil, nil, &Error{Op: "create bridge " + c.Bridge, Err: err}
		}
		idx := nb.Attrs().Index
		u.push(func() { h.LinkDel(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Index: idx, Name: c.Bridge}}) })
		res.BridgeCreated = true
		if idx == 0 {
			return nil, nil, &Error{Op: c.Bridge, Err: Text("created, then not found")}
		}
		if err := h.LinkSetAlias(nb, nb.Alias); err != nil {
			return nil, nil, &Error{Op: "mark bridge " + c.Bridge, Err: err}
		}
		if err := c.step("bridge"); err != nil {
			return nil, nil, err
		}
		for _, a := range c.BridgeAddrs {
			na := &netlink.Addr{IPNet: toIPNet(a)}
			if a.Addr().Is6() {
				na.Flags = unix.IFA_F_NODAD
			}
			if err := h.AddrAdd(nb, na); err != nil {
				return nil, nil, &Error{Op: "add address " + a.String() + " to " + c.Bridge, Err: err}
			}
		}
		if err := c.step("bridge-addr"); err != nil {
			return nil, nil, err
		}
		if err := h.LinkSetUp(nb); err != nil {
			return nil, nil, &Error{Op: "set " + c.Bridge + " up", Err: err}
		}
		if err := c.step("bridge-up"); err != nil {
			return nil, nil, err
		}
		return &bridgeInfo{index: idx, brAddrs: c.BridgeAddrs}, addrs, nil
	}
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
