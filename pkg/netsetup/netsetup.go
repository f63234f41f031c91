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
// is left behind), so that no run sees a bridge before its addresses. A
// bridge this package creates is given a MAC address of its own
// (bridge.go), so that it keeps it while ports come and go. Neither setup
// nor teardown reads the list of all links: their cost does not grow with
// the number of containers on the bridge.
//
// Several containers are set up in one process through one Host (setup.go),
// which opens the host's netlink handle once and looks each bridge up, or
// creates it, once.
//
// The package has no command-line code; the mkbridge applet is its user.
package netsetup

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

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

	// What a CNI attachment (nsbox-bridge) asks for besides.
	Attachment     string  // an altname recording the attachment on the host end (AttachmentName); "": none
	Pools          []Pool  // auto addresses from these, not from the bridge's subnets
	AddBridgeAddrs bool    // give an existing bridge the BridgeAddrs it lacks
	Routes         []Route // routes inside besides the default routes
	Hairpin        bool    // the host end's bridge port sends frames back out of it
	Isolated       bool    // the host end is an isolated bridge port
	Promisc        bool    // the bridge in promiscuous mode
	DAD            bool    // IPv6 addresses with duplicate address detection

	// Owner, when set, makes the set-up an unprivileged user's port on
	// the administrator's bridge (owner.go): the bridge must exist and be
	// up, the port takes one of the user's slots, addresses are auto.
	Owner *Owner

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

	BridgeAddrs []netip.Prefix   // the bridge's addresses
	BridgeMAC   net.HardwareAddr // the bridge's MAC address
	HostMAC     net.HardwareAddr // the host end's
	IfMAC       net.HardwareAddr // the container end's
}

// Pool is a subnet to allocate from, between First and Last (both within
// it; invalid: its first or last host address).
type Pool struct {
	Subnet      netip.Prefix
	First, Last netip.Addr
}

// Route is a route to add inside the container: to Dst via GW (invalid:
// on the link).
type Route struct {
	Dst netip.Prefix
	GW  netip.Addr
}

// Steps are the names of Setup's steps, in order, as the test hook sees
// them.
var Steps = []string{"lock", "bridge", "bridge-addr", "bridge-up", "veth", "attachment", "record", "master", "addr", "link-up", "lo-up", "route", "nat"}

// NewNetnsSteps are the steps a set-up of a namespace NewNetns made takes
// besides Steps, as the test hook sees them: the mark removed, last.
var NewNetnsSteps = []string{"unmark"}

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
	if c.Owner != nil {
		if err := c.validateOwner(); err != nil {
			return err
		}
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
	return errors.Is(err, errLinkNotFound) || errors.Is(err, unix.ENODEV)
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
			return nil, nil, Text(fmt.Sprintf("%s: "+msgInUse+" %s", r.Addr, bridge))
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

func hasIPv6(ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Addr().Is6() {
			return true
		}
	}
	return false
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
