package netsetup

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// bridgeInfo is what a set-up needs of its bridge. A Host keeps it from
// one set-up to the next (the hints move on with each address it gives).
type bridgeInfo struct {
	index        int
	brAddrs      []netip.Prefix
	ours         bool       // made by this package (its alias says so)
	last4, last6 netip.Addr // where the next auto allocation starts
	hintMoved    bool       // last4, last6 are not in the alias yet
	mac          net.HardwareAddr
}

// bridge finds the bridge, known to the Host from an earlier set-up or
// looked up or created under the lock (so that a run never sees a bridge
// another run made but has not given its addresses yet), and plans the
// addresses against its subnets: every check is made before the bridge is
// created.
func (s *setup) bridge() error {
	if br := s.host.bridges[s.c.Bridge]; br != nil {
		s.br = br
		return s.planAddrs()
	}
	if s.c.Owner != nil { // no lock: the bridge is never created
		l, err := s.h.linkByName(s.c.Bridge)
		return s.ownerBridge(l, err)
	}
	lk, err := lock()
	if err != nil {
		return err
	}
	defer lk.unlock()
	if err := s.c.step("lock"); err != nil {
		return err
	}
	l, err := s.h.linkByName(s.c.Bridge)
	switch {
	case err == nil:
		return s.existingBridge(l)
	case !isNotFound(err):
		return &Error{Op: "look up " + s.c.Bridge, Err: err}
	}
	return s.newBridge()
}

// planAddrs checks the addresses asked for against the bridge's and the
// records (see plan and checkFree).
func (s *setup) planAddrs() error {
	var err error
	subnets := s.br.brAddrs
	if len(s.c.Pools) > 0 {
		// Allocate from the pools: each as its network address and length.
		subnets = nil
		for _, p := range s.c.Pools {
			subnets = append(subnets, p.Subnet.Masked())
		}
	}
	if s.explicit, s.auto, err = plan(s.c.Addrs, s.c.Bridge, subnets); err != nil {
		return err
	}
	return s.c.checkFree(s.h, s.explicit)
}

// existingBridge takes the bridge l as it is (its addresses, its MAC),
// only brought up when it is down; one of this package's that has no
// address is given c.BridgeAddrs (completeBridge).
func (s *setup) existingBridge(l *link) error {
	c := s.c
	if l.Type() != "bridge" {
		return &Error{Op: c.Bridge, Err: Text("exists and is not a bridge (type " + l.Type() + ")")}
	}
	if err := s.readBridge(l); err != nil {
		return err
	}
	if s.br.ours && len(s.br.brAddrs) == 0 {
		if err := s.completeBridge(l); err != nil {
			return err
		}
	}
	if err := s.planAddrs(); err != nil {
		return err
	}
	if c.AddBridgeAddrs {
		if err := s.addBridgeAddrs(l); err != nil {
			return err
		}
	}
	if c.Promisc && l.RawFlags&unix.IFF_PROMISC == 0 {
		if err := s.h.setPromiscOn(l.Index); err != nil {
			return &Error{Op: "promiscuous mode on " + c.Bridge, Err: err}
		}
	}
	if !l.up() {
		if err := s.h.linkSetUp(l.Index); err != nil {
			return &Error{Op: "set " + c.Bridge + " up", Err: err}
		}
	}
	return nil
}

// completeBridge gives a bridge of this package that has no address (an
// earlier version's run killed between marking it and giving it its
// addresses) c.BridgeAddrs: the bridge the killed run was making. They
// stay when this set-up fails: the bridge is then as that run would have
// left it.
func (s *setup) completeBridge(l *link) error {
	for _, a := range s.c.BridgeAddrs {
		if err := s.h.addrAdd(l.Index, a, false); err != nil && !isExist(err) {
			return &Error{Op: "add address " + a.String() + " to " + s.c.Bridge, Err: err}
		}
	}
	s.br.brAddrs = append(s.br.brAddrs, s.c.BridgeAddrs...)
	return nil
}

// takeBridge reads the existing bridge l and plans the addresses against
// it.
func (s *setup) takeBridge(l *link) error {
	if err := s.readBridge(l); err != nil {
		return err
	}
	return s.planAddrs()
}

// readBridge reads the existing bridge l: its addresses, the hints of its
// alias, its MAC address.
func (s *setup) readBridge(l *link) error {
	brAddrs, err := linkPrefixes(l.Index)
	if err != nil {
		return &Error{Op: "addresses of " + s.c.Bridge, Err: err}
	}
	last4, last6 := bridgeHints(l.Alias)
	s.br = &bridgeInfo{index: l.Index, brAddrs: brAddrs, ours: isOurBridge(l.Alias), last4: last4, last6: last6, mac: l.HardwareAddr}
	return nil
}

// newBridge creates the bridge, marked as this package's, with its own
// MAC address, without multicast snooping, with c.BridgeAddrs, and brings
// it up.
//
// It is made under a name of its own (PendingBridgeName), given its
// addresses, marked, and only then renamed to c.Bridge and brought up: a
// run killed on the way (SIGKILL, no rollback) leaves no bridge under
// c.Bridge that would lack its addresses or its mark, which every later
// run would take as it is, and which --delete-bridge would refuse. What it
// leaves under the pending name, the next run that creates the bridge (or
// DeleteBridge) removes: the name is only ever used under the lock, so a
// bridge that has it when the lock is taken is a killed run's.
//
// The MAC address is given in the RTM_NEWLINK request itself: the kernel
// then marks it as set (addr_assign_type NET_ADDR_SET) as it creates the
// bridge, and a bridge whose address was set keeps it, where one whose
// address was never set takes the lowest of its ports' whenever a port
// comes or goes (br_stp_recalculate_bridge_id): when that container left,
// the gateway's MAC would change under every other container and their ARP
// entries would point at nothing. Given at creation, there is no moment at
// which the bridge has a borrowed address, no request more, and nothing
// more to roll back.
//
// Multicast snooping is off: with it, every port that comes up has the
// kernel walk all ports to re-enable their multicast state
// (br_port_state_selection calls br_multicast_enable_port for each), work
// under the rtnl lock that grows with the bridge and slowed every
// container set up after the first hundreds. It buys nothing on a bridge
// of containers that has no multicast querier: the bridge then floods
// multicast to every port whether it snoops or not. With a querier
// present, multicast is flooded instead of pruned; nothing is lost.
func (s *setup) newBridge() error {
	c := s.c
	s.br = &bridgeInfo{brAddrs: c.BridgeAddrs, ours: true}
	if err := s.planAddrs(); err != nil {
		return err
	}
	mac, err := randomMAC()
	if err != nil {
		return err
	}
	s.br.mac = mac
	pending := PendingBridgeName(c.Bridge)
	if _, err := removePending(s.h, pending); err != nil {
		return err
	}
	idx, err := addBridge(s.h, pending, mac)
	if err != nil {
		return &Error{Op: "create bridge " + c.Bridge + " (as " + pending + ")", Err: err}
	}
	nb := &link{Index: idx, Name: pending, Kind: "bridge"}
	h := s.h
	s.u.push(func() { removeIfEmpty(h, idx) })
	s.res.BridgeCreated = true
	if idx == 0 {
		return &Error{Op: c.Bridge, Err: Text("created, then not found")}
	}
	s.br.index = idx
	if err := c.step("bridge"); err != nil {
		return err
	}
	for _, a := range c.BridgeAddrs {
		if err := h.addrAdd(nb.Index, a, false); err != nil {
			return &Error{Op: "add address " + a.String() + " to " + c.Bridge, Err: err}
		}
	}
	if err := c.step("bridge-addr"); err != nil {
		return err
	}
	if err := s.markBridge(nb); err != nil {
		return err
	}
	if err := h.linkSetUp(nb.Index); err != nil {
		return &Error{Op: "set " + c.Bridge + " up", Err: err}
	}
	return c.step("bridge-up")
}

// markBridge marks the pending bridge nb as this package's, puts it in
// promiscuous mode when asked, and renames it to its name (a link is
// renamed while down only).
func (s *setup) markBridge(nb *link) error {
	c, h := s.c, s.h
	if err := h.linkSetAlias(nb.Index, bridgeAliasPrefix); err != nil {
		return &Error{Op: "mark bridge " + c.Bridge, Err: err}
	}
	if c.Promisc {
		if err := h.setPromiscOn(nb.Index); err != nil {
			return &Error{Op: "promiscuous mode on " + c.Bridge, Err: err}
		}
	}
	if err := h.linkSetName(nb.Index, c.Bridge); err != nil {
		return &Error{Op: "rename " + nb.Name + " to " + c.Bridge, Err: err}
	}
	nb.Name = c.Bridge
	return nil
}

// PendingBridgeName is the name under which bridge is made before it is
// renamed to its own: "nsbn" and 8 hex digits of a hash of the name.
func PendingBridgeName(bridge string) string {
	h := fnv.New32a()
	h.Write([]byte(bridge))
	return fmt.Sprintf("nsbn%08x", h.Sum32())
}

// removePending deletes the bridge a killed run left under the pending
// name (the caller holds the lock), and reports whether there was one: a
// bridge whose alias is empty or this package's mark, never another link.
func removePending(h *handle, pending string) (bool, error) {
	l, err := h.linkByName(pending)
	switch {
	case err != nil && isNotFound(err):
		return false, nil
	case err != nil:
		return false, &Error{Op: "look up " + pending, Err: err}
	case l.Type() != "bridge" || (l.Alias != "" && !isOurBridge(l.Alias)):
		return false, nil
	}
	if err := h.linkDel(l.Index); err != nil && !isNotFound(err) {
		return false, &Error{Op: "delete " + pending + " (a bridge left half-made)", Err: err}
	}
	return true, nil
}

// randomMAC returns a random locally administered unicast MAC address,
// as the kernel makes for a new bridge (eth_random_addr), to be set.
func randomMAC() (net.HardwareAddr, error) {
	mac := make(net.HardwareAddr, 6)
	if n, err := unix.Getrandom(mac, 0); err != nil || n != len(mac) {
		if err == nil {
			err = unix.EIO
		}
		return nil, &Error{Op: "random MAC address", Err: err}
	}
	mac[0] = mac[0]&^0x01 | 0x02 // unicast, locally administered
	return mac, nil
}

// addBridgeAddrs gives the existing bridge l those of c.BridgeAddrs it
// lacks (the gateway of a CNI network on a bridge made by someone else);
// removed again on failure.
func (s *setup) addBridgeAddrs(l *link) error {
	have := map[netip.Addr]bool{}
	for _, p := range s.br.brAddrs {
		have[p.Addr()] = true
	}
	for _, a := range s.c.BridgeAddrs {
		if have[a.Addr()] {
			continue
		}
		if err := s.h.addrAdd(l.Index, a, false); err != nil && !isExist(err) {
			return &Error{Op: "add address " + a.String() + " to " + s.c.Bridge, Err: err}
		}
		h := s.h
		s.u.push(func() { h.addrDel(l.Index, a) })
		s.br.brAddrs = append(s.br.brAddrs, a)
	}
	return nil
}

// checkFree refuses an explicit address that is recorded already (one
// RTM_GETLINK by the record's name), before anything is created.
func (c *Config) checkFree(h *handle, explicit []netip.Prefix) error {
	for _, a := range explicit {
		if _, err := h.linkByName(recordName(c.Bridge, a.Addr())); err == nil {
			return Text(fmt.Sprintf("%s: "+msgInUse+" %s", a.Addr(), c.Bridge))
		}
	}
	return nil
}

// removeIfEmpty is the rollback of a bridge this run made: under the lock,
// it is removed unless another run has attached a port to it meanwhile.
func removeIfEmpty(h *handle, idx int) {
	lk, err := lock()
	if err != nil {
		return
	}
	defer lk.unlock()
	links, err := h.linkList()
	if err != nil {
		return
	}
	for _, l := range links {
		if l.MasterIndex == idx {
			return
		}
	}
	h.linkDel(idx)
}
