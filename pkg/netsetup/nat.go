package netsetup

import (
	"net/netip"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NAT is nftables over its own netlink family (github.com/google/nftables):
// one table per bridge, "inet nsbox-BRIDGE", with one base chain
// "postrouting" (type nat, hook postrouting, priority srcnat) holding, for
// each subnet of the bridge,
//
//	meta nfproto ipv4 ip saddr SUBNET oifname != "BRIDGE" masquerade
//
// (ip6 saddr for an IPv6 subnet). Everything of a bridge is that one
// table, so removing it removes exactly ours. No forward chain: in
// nftables an accept in one base chain does not override a drop in
// another table's, so a rule of ours could not open a FORWARD policy that
// drops; Check reports such a policy instead.
//
// Forwarding is the sysctls net.ipv4.ip_forward and
// net.ipv6.conf.all.forwarding. When EnableNAT turns one on, it records
// that in the table as an empty regular chain (ForwardMarker4,
// ForwardMarker6); when the last nsbox NAT table goes, the sysctl is set
// back to 0; while others remain, the marker moves to one of them.

// NATTablePrefix starts the name of every NAT table of this package.
const NATTablePrefix = "nsbox-"

// The marker chains: this package turned the sysctl on.
const (
	ForwardMarker4 = "nsbox-turned-on-ip_forward"
	ForwardMarker6 = "nsbox-turned-on-ipv6-forwarding"
)

// forwardSysctl is the sysctl a marker chain stands for, or "".
func forwardSysctl(marker string) string {
	switch marker {
	case ForwardMarker4:
		return "net/ipv4/ip_forward"
	case ForwardMarker6:
		return "net/ipv6/conf/all/forwarding"
	}
	return ""
}

// NATTable is the name of bridge's NAT table (family inet).
func NATTable(bridge string) string { return NATTablePrefix + bridge }

func natConn() (*nftables.Conn, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, &Error{Op: "nftables", Err: err}
	}
	return c, nil
}

func natTable(bridge string) *nftables.Table {
	return &nftables.Table{Name: NATTable(bridge), Family: nftables.TableFamilyINet}
}

// nsboxTables lists the inet tables whose names start with NATTablePrefix.
func nsboxTables(c *nftables.Conn) ([]*nftables.Table, error) {
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, &Error{Op: "list nftables tables", Err: err}
	}
	var out []*nftables.Table
	for _, t := range ts {
		if strings.HasPrefix(t.Name, NATTablePrefix) {
			out = append(out, t)
		}
	}
	return out, nil
}

// NATPresent reports whether bridge's NAT table exists.
func NATPresent(bridge string) (bool, error) {
	c, err := natConn()
	if err != nil {
		return false, err
	}
	ts, err := nsboxTables(c)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t.Name == NATTable(bridge) {
			return true, nil
		}
	}
	return false, nil
}

// masquerade is the rule for one subnet.
func masquerade(bridge string, p netip.Prefix) []expr.Any {
	p = p.Masked()
	proto, off, n := byte(unix.NFPROTO_IPV4), uint32(12), uint32(4)
	if p.Addr().Is6() {
		proto, off, n = unix.NFPROTO_IPV6, 8, 16
	}
	mask := make([]byte, n)
	for i := 0; i < p.Bits(); i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	ifname := make([]byte, 16)
	copy(ifname, bridge)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname},
		&expr.Masq{},
	}
}

// EnableNAT makes sure bridge's subnets are masqueraded and forwarding is
// on; created tells whether this call made the table. The caller holds
// the allocation lock.
func EnableNAT(bridge string, subnets []netip.Prefix) (created bool, err error) {
	if len(subnets) == 0 {
		return false, &Error{Op: "--nat", Err: Text("bridge " + bridge + " has no address: no subnet to masquerade")}
	}
	present, err := NATPresent(bridge)
	if err != nil || present {
		return false, err
	}
	c, err := natConn()
	if err != nil {
		return false, err
	}
	t := c.AddTable(natTable(bridge))
	ch := c.AddChain(&nftables.Chain{
		Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
	})
	want := map[string]bool{}
	for _, p := range subnets {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: masquerade(bridge, p)})
		if p.Addr().Is4() {
			want[ForwardMarker4] = true
		} else {
			want[ForwardMarker6] = true
		}
	}
	// Forwarding: turn it on, and say so in the table, in the same batch.
	var turnOn []string
	for m := range want {
		if v, ok := readSysctl(forwardSysctl(m)); ok && v == "0" {
			c.AddChain(&nftables.Chain{Name: m, Table: t})
			turnOn = append(turnOn, m)
		}
	}
	if err := c.Flush(); err != nil {
		return false, &Error{Op: "add nftables table inet " + NATTable(bridge), Err: err}
	}
	for _, m := range turnOn {
		if err := writeSysctl(forwardSysctl(m), "1"); err != nil {
			DisableNAT(bridge)
			return false, err
		}
	}
	return true, nil
}

func writeSysctl(name, v string) error {
	if err := os.WriteFile(ProcSys+"/"+name, []byte(v+"\n"), 0o644); err != nil {
		return &Error{Op: "write " + ProcSys + "/" + name, Err: err}
	}
	return nil
}

// DisableNAT removes bridge's NAT table, if any; forwarding that this
// package turned on is turned off again with the last nsbox table.
func DisableNAT(bridge string) (removed bool, err error) {
	c, err := natConn()
	if err != nil {
		return false, err
	}
	ts, err := nsboxTables(c)
	if err != nil {
		return false, err
	}
	var ours *nftables.Table
	var others []*nftables.Table
	for _, t := range ts {
		if t.Name == NATTable(bridge) {
			ours = t
		} else {
			others = append(others, t)
		}
	}
	if ours == nil {
		return false, nil
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, &Error{Op: "list nftables chains", Err: err}
	}
	var markers []string
	for _, ch := range chains {
		if ch.Table.Name == ours.Name && forwardSysctl(ch.Name) != "" {
			markers = append(markers, ch.Name)
		}
	}
	c.DelTable(ours)
	if len(others) > 0 { // the marker moves on
		for _, m := range markers {
			c.AddChain(&nftables.Chain{Name: m, Table: others[0]})
		}
	}
	if err := c.Flush(); err != nil {
		return false, &Error{Op: "delete nftables table inet " + ours.Name, Err: err}
	}
	if len(others) == 0 {
		for _, m := range markers {
			if err := writeSysctl(forwardSysctl(m), "0"); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// forwardDrops lists the base chains on the forward hook whose policy is
// drop, in every family, as "family table chain".
func forwardDrops() ([]string, error) {
	c, err := natConn()
	if err != nil {
		return nil, err
	}
	chains, err := c.ListChains()
	if err != nil {
		return nil, err
	}
	fam := map[nftables.TableFamily]string{
		nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6",
		nftables.TableFamilyBridge: "bridge", nftables.TableFamilyARP: "arp", nftables.TableFamilyNetdev: "netdev",
	}
	var out []string
	for _, ch := range chains {
		if ch.Hooknum == nil || *ch.Hooknum != *nftables.ChainHookForward || ch.Policy == nil || *ch.Policy != nftables.ChainPolicyDrop {
			continue
		}
		out = append(out, fam[ch.Table.Family]+" "+ch.Table.Name+" "+ch.Name)
	}
	return out, nil
}
