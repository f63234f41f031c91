package netsetup

import (
	"fmt"
	"strconv"
	"strings"
)

// A port made for an unprivileged user (mkbridge through its privileged
// install, on the administrator's bridge, by policy) is recorded on its
// host end, as its addresses are (record.go): one more alternative name,
//
//	nsbox-user.UID.BRIDGE.N
//
// N, from 0 to the user's number of ports on BRIDGE less one, is the
// port's slot. The kernel keeps names unique, so adding the record is
// taking the slot: ten requests at once can never take more slots than
// there are, without a lock and without a daemon. The record goes with
// the link, so a container whose namespace goes (crashed, or its last
// process gone) frees its slot. The record names the user: a user may
// delete a host end only when it records them, and the deletion is made
// by the record's name (RTM_DELLINK with IFLA_ALT_IFNAME), so that it can
// only ever reach a link that records them.
//
// The slots bound a user's ports while the policy stays as it is; once
// the host end is on the bridge, the user's ports there are counted (one
// link dump that the kernel filters by master: count.go), and a port over
// the number is undone, so that a number lowered meanwhile holds too.

// OwnerPrefix starts every record of a user's port.
const OwnerPrefix = "nsbox-user."

// Owner is the unprivileged user a set-up is made for.
type Owner struct {
	UID   uint32
	Ports int // the user's ports on the bridge at a time, at most
}

// OwnerSteps are the steps a set-up for an Owner makes besides Steps, as
// the test hook sees them: the slot recorded, the ports counted.
var OwnerSteps = []string{"owner", "count"}

// ownerName is the record of slot n of uid's ports on bridge.
func ownerName(uid uint32, bridge string, n int) string {
	return OwnerPrefix + strconv.FormatUint(uint64(uid), 10) + "." + bridge + "." + strconv.Itoa(n)
}

// ownerRecord returns the record of a user's port among a link's
// altnames, and the user (ok false: none).
func ownerRecord(altnames []string) (record string, uid uint32, ok bool) {
	for _, n := range altnames {
		rest, found := strings.CutPrefix(n, OwnerPrefix)
		if !found {
			continue
		}
		num, _, found := strings.Cut(rest, ".")
		u, err := strconv.ParseUint(num, 10, 32)
		if found && err == nil && strconv.FormatUint(u, 10) == num {
			return n, uint32(u), true
		}
	}
	return "", 0, false
}

// ownedBy reports whether a link's altnames record a port of uid on
// bridge.
func ownedBy(altnames []string, uid uint32, bridge string) bool {
	prefix := OwnerPrefix + strconv.FormatUint(uint64(uid), 10) + "." + bridge + "."
	for _, n := range altnames {
		if s, ok := strings.CutPrefix(n, prefix); ok && s != "" && strings.Trim(s, "0123456789") == "" {
			return true
		}
	}
	return false
}

// validateOwner checks that c asks for nothing but what a user may have:
// addresses allocated by mkbridge from the bridge's subnets, the host
// end's name chosen by it, no NAT, nothing of a CNI attachment's.
func (c *Config) validateOwner() error {
	o := c.Owner
	switch {
	case o.Ports < 1:
		return Text(fmt.Sprintf("uid %d may have no port on %s", o.UID, c.Bridge))
	case c.HostIfName != "":
		return Text("the host end's name is chosen by mkbridge for an unprivileged user")
	case c.NAT:
		return Text("NAT and forwarding are the administrator's")
	case c.MTU != 0:
		return Text("the MTU is the bridge's for an unprivileged user")
	case c.Attachment != "" || len(c.Pools) > 0 || c.AddBridgeAddrs || c.Promisc || len(c.Routes) > 0 || c.Hairpin || c.Isolated || c.DAD:
		return Text("not a set-up for an unprivileged user")
	}
	for _, a := range c.Addrs {
		if !a.Auto {
			return Text("the address is allocated by mkbridge for an unprivileged user (auto only)")
		}
	}
	return nil
}

// ownerBridge is the bridge of a set-up for an Owner: it must exist, be
// a bridge and be up, and is used as it is (never created, brought up or
// given addresses); a MAC address asked for must not be its own.
func (s *setup) ownerBridge(l *link, err error) error {
	c := s.c
	switch {
	case err != nil && isNotFound(err):
		return &Error{Op: c.Bridge, Err: Text("no such bridge (mkbridge makes none for an unprivileged user)")}
	case err != nil:
		return &Error{Op: "look up " + c.Bridge, Err: err}
	case l.Type() != "bridge":
		return &Error{Op: c.Bridge, Err: Text("exists and is not a bridge (type " + l.Type() + ")")}
	case !l.up():
		return &Error{Op: c.Bridge, Err: Text("the bridge is down (mkbridge brings it up for root only)")}
	case c.MAC != nil && c.MAC.String() == l.HardwareAddr.String():
		return &Error{Op: c.MAC.String(), Err: Text("the bridge's own MAC address")}
	}
	return s.takeBridge(l)
}

// ownerSlot takes the first free slot of the user's ports on the bridge:
// the record on the host end, before any address is recorded.
func (s *setup) ownerSlot() error {
	o := s.c.Owner
	if o == nil {
		return nil
	}
	for n := 0; n < o.Ports; n++ {
		err := s.h.linkAddAltName(s.veth.Index, ownerName(o.UID, s.c.Bridge, n))
		if err == nil {
			return s.c.step("owner")
		}
		if !isExist(err) {
			return &Error{Op: "record the port of uid " + strconv.FormatUint(uint64(o.UID), 10) + " on " + s.hostIf, Err: err}
		}
	}
	return s.slotsTaken()
}

// ownerCount counts the user's ports on the bridge, this one included
// (it is on the bridge now), and undoes this one when they are more than
// the user may have.
func (s *setup) ownerCount() error {
	o := s.c.Owner
	if o == nil {
		return nil
	}
	n, err := countOwned(s.br.index, o.UID, s.c.Bridge)
	if err != nil {
		return &Error{Op: "count the ports of uid " + strconv.FormatUint(uint64(o.UID), 10) + " on " + s.c.Bridge, Err: err}
	}
	if n > o.Ports {
		return s.quota(n - 1)
	}
	return s.c.step("count")
}

// QuotaError: the user has all the ports they may have on the bridge.
type QuotaError struct {
	UID    uint32
	Bridge string
	Have   int
	Ports  int
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("uid %d has %d port(s) on %s already, and may have %d", e.UID, e.Have, e.Bridge, e.Ports)
}

func (s *setup) quota(have int) error {
	return &QuotaError{UID: s.c.Owner.UID, Bridge: s.c.Bridge, Have: have, Ports: s.c.Owner.Ports}
}

// slotsTaken is the refusal when every slot is taken: the ports counted
// on the bridge (at least the slots).
func (s *setup) slotsTaken() error {
	n, err := countOwned(s.br.index, s.c.Owner.UID, s.c.Bridge)
	if err != nil || n < s.c.Owner.Ports {
		n = s.c.Owner.Ports
	}
	return s.quota(n)
}

// ownerEnds is ends of t limited to the host ends that record a port of
// uid, with their records.
func ownerEnds(h *handle, t *Target, uid uint32) (mine []Removed, records []string, err error) {
	f, err := ends(h, t)
	if err != nil {
		return nil, nil, err
	}
	for i, l := range f.links {
		if rec, u, ok := ownerRecord(l.AltNames); ok && u == uid {
			mine = append(mine, f.ends[i])
			records = append(records, rec)
		}
	}
	return mine, records, nil
}

// TeardownOwned removes the host ends whose peer is in t that record a
// port of uid (the others are left as they are); none is an error.
func (host *Host) TeardownOwned(t *Target, uid uint32) ([]Removed, error) {
	ends, records, err := ownerEnds(host.h, t, uid)
	if err != nil {
		return nil, err
	}
	if len(ends) == 0 {
		return nil, &Error{Op: t.Name, Err: Text(fmt.Sprintf("no port of uid %d has its peer in this network namespace", uid))}
	}
	for i, rec := range records {
		if err := delByAltName(rec); err != nil && !isNotFound(err) {
			return ends[:i], &Error{Op: "delete " + ends[i].HostIfName, Err: err}
		}
	}
	return ends, nil
}

// TeardownOwnedHost removes the host end called name, which must record
// a port of uid.
func (host *Host) TeardownOwnedHost(name string, uid uint32) (*Removed, error) {
	if err := CheckIfName("host interface", name); err != nil {
		return nil, err
	}
	l, err := host.h.linkByName(name)
	if err != nil {
		if isNotFound(err) {
			return nil, &Error{Op: name, Err: Text("no such interface")}
		}
		return nil, &Error{Op: "look up " + name, Err: err}
	}
	rec, u, ok := ownerRecord(l.AltNames)
	br, _, isEnd := records(l.AltNames)
	if !ok || u != uid || !isEnd || l.Type() != "veth" || l.Name != name {
		return nil, &Error{Op: name, Err: Text(fmt.Sprintf("not a port made for uid %d", uid))}
	}
	if err := delByAltName(rec); err != nil {
		return nil, &Error{Op: "delete " + name, Err: err}
	}
	return &Removed{HostIfName: name, Bridge: br}, nil
}
