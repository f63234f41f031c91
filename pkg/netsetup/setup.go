package netsetup

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Host is the host side of set-ups made one after the other in one
// process (mkbridge with several targets): one netlink handle for all, and
// each bridge looked up, or created, once, by the first set-up on it that
// succeeds; its NAT rules too. Later set-ups on that bridge take no lock
// and read nothing of it again: the address records (record.go) guard the
// allocation as they do between processes, and the allocation hint moves
// on in memory, to be written to the bridge's alias, for other processes,
// by Close. A bridge removed meanwhile by someone else makes the later
// set-ups fail when they attach their host end. A Host is not safe for
// concurrent use.
type Host struct {
	h       *handle
	bridges map[string]*bridgeInfo // by name, after a set-up on it succeeded
	nat     map[string]bool        // bridges whose NAT a set-up ensured
}

// NewHost opens a netlink handle in the caller's network namespace.
func NewHost() (*Host, error) {
	h, err := hostHandle()
	if err != nil {
		return nil, err
	}
	return &Host{h: h, bridges: map[string]*bridgeInfo{}, nat: map[string]bool{}}, nil
}

// Close writes the allocation hint of each bridge of this package whose
// hint the set-ups moved on into its alias, and closes the handle. Once
// per Host, not once per set-up: a new alias is a change of the bridge
// (NETDEV_CHANGE), on which the kernel has the bridge send its MLD reports
// again, flooded to every port, work that grows with the bridge. Only a
// hint: a lost race, or a hint not written, costs the next run a few more
// tries.
func (h *Host) Close() {
	for _, br := range h.bridges {
		if br.ours && br.hintMoved {
			h.h.linkSetAlias(br.index, bridgeAlias(br.last4, br.last6))
		}
	}
	h.h.Close()
}

// Setup gives c.Target its network with a Host of its own.
func Setup(c *Config) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	h, err := NewHost()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.Setup(c)
}

// setup is one Setup in progress: what it has made, and how to undo it.
type setup struct {
	c              *Config
	host           *Host
	h, ch          *handle // the host's; one inside the target
	done           func()  // releases ch
	hostIf         string
	res            *Result
	u              undo
	br             *bridgeInfo
	explicit, auto []netip.Prefix // the addresses planned
	veth, peer, lo *link          // the host end; the container end and lo, inside
}

// errAbandon, returned by the test hook, leaves what the set-up made as it
// is, as a process killed there leaves it: no rollback.
const errAbandon Text = "abandoned (as if killed)"

// Setup gives c.Target its network (see the package comment), in these
// steps: the bridge, the veth pair, the address records, the host end on
// the bridge, then inside the target the addresses, the link up, lo up,
// the routes; NAT; and the mark of a namespace NewNetns made is removed
// (see newMark). On failure everything this call made is removed again; a
// bridge that existed, or that an earlier call on h made, stays.
func (h *Host) Setup(c *Config) (res *Result, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s, err := h.begin(c)
	if err != nil {
		return nil, err
	}
	defer s.done()
	defer func() {
		if err != nil && !errors.Is(err, errAbandon) {
			s.u.run()
		}
	}()
	for _, step := range []func() error{s.bridge, s.makeVeth, s.ownerSlot, s.attachment, s.record, s.attach, s.ownerCount, s.addrs, s.linkUp, s.loUp, s.routes, s.enableNAT, s.unmark} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	h.bridges[c.Bridge] = s.br
	if c.NAT {
		h.nat[c.Bridge] = true
	}
	return s.res, nil
}

// begin names the host end, opens a handle inside the target, and checks
// that both ends' names are free there.
func (h *Host) begin(c *Config) (*setup, error) {
	hostIf := c.HostIfName
	if hostIf == "" {
		hostIf = HostIfName(c.Target.Ino(), c.IfName)
	}
	if hostIf == c.Bridge {
		return nil, Text(fmt.Sprintf("host interface name '%s' is the bridge's", hostIf))
	}
	ch, done, err := c.Target.handle()
	if err != nil {
		return nil, err
	}
	s := &setup{c: c, host: h, h: h.h, ch: ch, done: done, hostIf: hostIf, res: &Result{HostIfName: hostIf}}
	if err := s.namesFree(); err != nil {
		done()
		return nil, err
	}
	return s, nil
}

func (s *setup) namesFree() error {
	c := s.c
	if _, err := s.ch.linkByName(c.IfName); err == nil {
		return &Error{Op: c.IfName, Err: Text(msgIfExists + " in " + c.Target.Name)}
	} else if !isNotFound(err) {
		return &Error{Op: "look up " + c.IfName + " in " + c.Target.Name, Err: err}
	}
	if _, err := s.h.linkByName(s.hostIf); err == nil {
		return &Error{Op: s.hostIf, Err: Text(msgHostIfExists)}
	} else if !isNotFound(err) {
		return &Error{Op: "look up " + s.hostIf, Err: err}
	}
	return nil
}

// makeVeth creates the veth pair, the container end directly inside the
// target under its final name.
//
// Each end is made with one transmit and one receive queue, which is what
// a veth uses unless told otherwise: without IFLA_NUM_TX_QUEUES and
// IFLA_NUM_RX_QUEUES the kernel allocates one per possible CPU, then, the
// device registered, cuts the real number down to one (veth_init_queues),
// which waits for an expedited RCU grace period for each end, under the
// rtnl lock. (The price: ethtool -L cannot add queues to these ends.)
//
// Both ends' MAC addresses are chosen here (random, locally administered,
// as the kernel would choose them) and given in the request, so that the
// result can name them without asking the kernel again.
func (s *setup) makeVeth() error {
	c := s.c
	hostMAC, err := randomMAC()
	if err != nil {
		return err
	}
	ifMAC := c.MAC
	if ifMAC == nil {
		if ifMAC, err = randomMAC(); err != nil {
			return err
		}
	}
	s.res.HostMAC, s.res.IfMAC = hostMAC, ifMAC
	idx, err := addVeth(s.h, vethSpec{name: s.hostIf, peer: c.IfName, peerNs: c.Target.Fd(), mtu: c.MTU,
		mac: hostMAC, peerMAC: ifMAC, queues: 1})
	if err != nil {
		return &Error{Op: "create veth " + s.hostIf + " (peer " + c.IfName + " in " + c.Target.Name + ")", Err: err}
	}
	h, name := s.h, s.hostIf
	v := &link{Index: idx, Name: name, Kind: "veth"}
	s.u.push(func() { h.linkDel(idx) })
	if idx == 0 {
		return &Error{Op: name, Err: Text("created, then not found")}
	}
	s.veth = v
	return c.step("veth")
}

// attachment records c.Attachment on the host end, before any address:
// the name is taken already when the attachment exists.
func (s *setup) attachment() error {
	if s.c.Attachment == "" {
		return nil
	}
	if err := s.h.linkAddAltName(s.veth.Index, s.c.Attachment); err != nil {
		if isExist(err) {
			return &Error{Op: s.c.Attachment, Err: ErrAttachmentExists}
		}
		return &Error{Op: "record the attachment on " + s.hostIf, Err: err}
	}
	return s.c.step("attachment")
}

// record allocates the addresses: a record (altname) per address on the
// host end. The explicit ones are added (one taken: "already in use"); one
// address of each auto subnet is taken, starting after the bridge's hint;
// then the hint moves on (written by Close).
func (s *setup) record() error {
	c, br := s.c, s.br
	addrs := append([]netip.Prefix(nil), s.explicit...)
	for _, a := range s.explicit {
		if err := s.h.linkAddAltName(s.veth.Index, recordName(c.Bridge, a.Addr())); err != nil {
			if isExist(err) {
				return Text(fmt.Sprintf("%s: "+msgInUse+" %s", a.Addr(), c.Bridge))
			}
			return &Error{Op: "record " + a.Addr().String() + " on " + s.hostIf, Err: err}
		}
	}
	last4, last6 := br.last4, br.last6
	for _, sub := range s.auto {
		hint := &last4
		if sub.Addr().Is6() {
			hint = &last6
		}
		got, err := s.allocate(sub, *hint)
		if err != nil {
			return err
		}
		addrs = append(addrs, netip.PrefixFrom(got, sub.Bits()))
		*hint = got
	}
	if len(s.auto) > 0 {
		br.last4, br.last6, br.hintMoved = last4, last6, true
	}
	s.res.Addrs = addrs
	s.res.Gateways = c.gateways(addrs, br.brAddrs)
	s.res.BridgeAddrs, s.res.BridgeMAC = br.brAddrs, br.mac
	return c.step("record")
}

// allocate records the first free host address of subnet sub (of its
// pool's range, with c.Pools) after hint (wrapping round, skipping the
// bridge's own addresses and the gateways).
func (s *setup) allocate(sub netip.Prefix, hint netip.Addr) (netip.Addr, error) {
	skip := map[netip.Addr]bool{}
	for _, b := range s.br.brAddrs {
		skip[b.Addr()] = true
	}
	for _, g := range s.c.Gateways {
		skip[g] = true
	}
	first, last := firstHost(sub), lastHost(sub)
	for _, p := range s.c.Pools {
		if p.Subnet.Masked() == sub.Masked() {
			if p.First.IsValid() {
				first = p.First
			}
			if p.Last.IsValid() {
				last = p.Last
			}
		}
	}
	var got netip.Addr
	found, err := candidates(first, last, hint, skip, func(a netip.Addr) (bool, error) {
		err := s.h.linkAddAltName(s.veth.Index, recordName(s.c.Bridge, a))
		switch {
		case err == nil:
			got = a
			return true, nil
		case isExist(err):
			return false, nil
		}
		return false, &Error{Op: "record " + a.String() + " on " + s.hostIf, Err: err}
	})
	if err != nil {
		return netip.Addr{}, err
	}
	if !found {
		return netip.Addr{}, Text(fmt.Sprintf(msgNoFree+" in %s on bridge %s", sub.Masked(), s.c.Bridge))
	}
	return got, nil
}

// attach puts the host end on the bridge and brings it up. It takes no
// IPv6 address: no link-local, no DAD or MLD packets that the bridge would
// flood to every other port (work that grows with the bridge); set while
// it is down.
func (s *setup) attach() error {
	if err := s.h.linkSetIP6AddrGenMode(s.veth.Index, 1 /* IN6_ADDR_GEN_MODE_NONE */); err != nil && !errors.Is(err, unix.EAFNOSUPPORT) {
		return &Error{Op: "no IPv6 link-local on " + s.hostIf, Err: err}
	}
	if err := s.h.linkSetMaster(s.veth.Index, s.br.index); err != nil {
		return &Error{Op: "attach " + s.hostIf + " to " + s.c.Bridge, Err: err}
	}
	if s.c.Hairpin {
		if err := s.h.linkSetBrport(s.veth.Index, unix.IFLA_BRPORT_MODE); err != nil {
			return &Error{Op: "hairpin mode on " + s.hostIf, Err: err}
		}
	}
	if s.c.Isolated {
		if err := s.h.linkSetBrport(s.veth.Index, unix.IFLA_BRPORT_ISOLATED); err != nil {
			return &Error{Op: "isolate port " + s.hostIf, Err: err}
		}
	}
	if err := s.h.linkSetUp(s.veth.Index); err != nil {
		return &Error{Op: "set " + s.hostIf + " up", Err: err}
	}
	return s.c.step("master")
}

// addrs gives the container end, inside, its addresses.
func (s *setup) addrs() error {
	c := s.c
	peer, err := s.ch.linkByName(c.IfName)
	if err != nil {
		return &Error{Op: "look up " + c.IfName + " in " + c.Target.Name, Err: err}
	}
	s.peer = peer
	for _, a := range s.res.Addrs {
		if err := s.ch.addrAdd(peer.Index, a, c.DAD); err != nil {
			return &Error{Op: "add address " + a.String() + " to " + c.IfName, Err: err}
		}
	}
	return c.step("addr")
}

// linkUp brings the container end up. A container given no IPv6 address
// takes no IPv6 link-local either (as Docker disables IPv6 on an IPv4-only
// network): otherwise each new container's DAD, MLD and router
// solicitations are flooded by the bridge to every other container, work
// that grows with the bridge.
func (s *setup) linkUp() error {
	c := s.c
	if !hasIPv6(s.res.Addrs) {
		if err := s.ch.linkSetIP6AddrGenMode(s.peer.Index, 1 /* IN6_ADDR_GEN_MODE_NONE */); err != nil && !errors.Is(err, unix.EAFNOSUPPORT) {
			return &Error{Op: "no IPv6 link-local on " + c.IfName, Err: err}
		}
	}
	if err := s.ch.linkSetUp(s.peer.Index); err != nil {
		return &Error{Op: "set " + c.IfName + " up", Err: err}
	}
	return c.step("link-up")
}

// loUp brings lo up inside, when it is down (and down again on rollback).
func (s *setup) loUp() error {
	lo, err := s.ch.linkByName("lo")
	if err != nil {
		return &Error{Op: "look up lo in " + s.c.Target.Name, Err: err}
	}
	s.lo = lo
	if lo.Alias == newMark { // left by a --new killed: finished here
		s.c.Target.unfinished = true
	}
	if !lo.up() {
		if err := s.ch.linkSetUp(lo.Index); err != nil {
			return &Error{Op: "set lo up", Err: err}
		}
		ch := s.ch
		s.u.push(func() { ch.linkSetDown(lo.Index) })
	}
	return s.c.step("lo-up")
}

// routes adds the default routes inside (they go with the container end).
func (s *setup) routes() error {
	for _, gw := range s.res.Gateways {
		if err := s.ch.routeAdd(s.peer.Index, netip.Prefix{}, gw); err != nil {
			return &Error{Op: "add default route via " + gw.String(), Err: err}
		}
	}
	for _, rt := range s.c.Routes {
		via := " on " + s.c.IfName
		if rt.GW.IsValid() {
			via = " via " + rt.GW.String()
		}
		if err := s.ch.routeAdd(s.peer.Index, rt.Dst, rt.GW); err != nil {
			return &Error{Op: "add route to " + rt.Dst.String() + via, Err: err}
		}
	}
	return s.c.step("route")
}

// enableNAT makes the bridge's NAT table, under the lock, unless a set-up
// of this Host did already.
func (s *setup) enableNAT() error {
	c := s.c
	if !c.NAT {
		return nil
	}
	if !s.host.nat[c.Bridge] {
		lk, err := lock()
		if err != nil {
			return err
		}
		created, err := EnableNAT(c.Bridge, s.br.brAddrs)
		lk.unlock()
		if err != nil {
			return err
		}
		if created {
			s.res.NATCreated = true
			s.u.push(func() { DisableNAT(c.Bridge) })
		}
	}
	return c.step("nat")
}

// unmark removes the mark of a namespace NewNetns made, the last step:
// from now on it is the caller's, which mkbridge -d leaves (see NewNetns).
func (s *setup) unmark() error {
	if !s.c.Target.unfinished {
		return nil
	}
	if err := s.ch.linkSetAlias(s.lo.Index, ""); err != nil {
		return &Error{Op: "unmark " + s.c.Target.Name, Err: err}
	}
	s.c.Target.unfinished = false
	return s.c.step("unmark")
}
