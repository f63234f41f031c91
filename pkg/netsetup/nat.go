package netsetup

import (
	"errors"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// NAT is nftables over its own netlink family (nft.go, a minimal client):
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

const familyINet = unix.NFPROTO_INET

// nsboxTables lists the inet tables whose names start with NATTablePrefix.
func nsboxTables(c *nftConn) ([]string, error) {
	ts, err := c.tables(familyINet)
	if err != nil {
		return nil, &Error{Op: "list nftables tables", Err: err}
	}
	var out []string
	for _, t := range ts {
		if strings.HasPrefix(t, NATTablePrefix) {
			out = append(out, t)
		}
	}
	return out, nil
}

// NATPresent reports whether bridge's NAT table exists.
func NATPresent(bridge string) (bool, error) {
	c, err := nftOpen()
	if noNftables(err) {
		return false, nil // a kernel without nftables has no table of ours
	}
	if err != nil {
		return false, err
	}
	defer c.close()
	ts, err := nsboxTables(c)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t == NATTable(bridge) {
			return true, nil
		}
	}
	return false, nil
}

// masquerade is the rule's expressions for one subnet:
// meta nfproto P, saddr & mask == subnet, oifname != bridge, masquerade.
func masquerade(bridge string, p netip.Prefix) nlattr {
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
	return attrNest(unix.NFTA_RULE_EXPRESSIONS,
		exprMeta(unix.NFT_META_NFPROTO),
		exprCmp(unix.NFT_CMP_EQ, []byte{proto}),
		exprPayload(unix.NFT_PAYLOAD_NETWORK_HEADER, off, n),
		exprBitwise(mask),
		exprCmp(unix.NFT_CMP_EQ, p.Addr().AsSlice()),
		exprMeta(unix.NFT_META_OIFNAME),
		exprCmp(unix.NFT_CMP_NEQ, ifname),
		exprElem("masq"),
	)
}

const (
	flagsNew = unix.NLM_F_REQUEST | unix.NLM_F_CREATE | unix.NLM_F_ACK
	flagsDel = unix.NLM_F_REQUEST | unix.NLM_F_ACK
)

// EnableNAT makes sure bridge's subnets are masqueraded and forwarding is
// on; created tells whether this call made the table. The caller holds
// the allocation lock.
func EnableNAT(bridge string, subnets []netip.Prefix) (created bool, err error) {
	if len(subnets) == 0 {
		return false, &Error{Op: "--nat", Err: Text("bridge " + bridge + " has no address: no subnet to masquerade")}
	}
	present, err := NATPresent(bridge)
	if err != nil || present {
		if err == nil {
			err = forwardingAgain(subnets)
		}
		return false, err
	}
	c, err := nftOpen()
	if noNftables(err) {
		return false, &Error{Op: "--nat", Err: Text("this kernel has no nftables (CONFIG_NF_TABLES, module nf_tables)")}
	}
	if err != nil {
		return false, err
	}
	defer c.close()
	table := NATTable(bridge)
	// Forwarding: turn it on, and say so in the table, in the same batch.
	turnOn := forwardingOff(subnets)
	err = c.batch(func(next func() uint32) [][]byte {
		msgs := [][]byte{
			nftMsg(nftType(unix.NFT_MSG_NEWTABLE), flagsNew|unix.NLM_F_EXCL, next(), familyINet, 0,
				attrStr(unix.NFTA_TABLE_NAME, table)),
			nftMsg(nftType(unix.NFT_MSG_NEWCHAIN), flagsNew, next(), familyINet, 0,
				attrStr(unix.NFTA_CHAIN_TABLE, table), attrStr(unix.NFTA_CHAIN_NAME, "postrouting"),
				attrNest(unix.NFTA_CHAIN_HOOK, attrU32(unix.NFTA_HOOK_HOOKNUM, unix.NF_INET_POST_ROUTING), attrU32(unix.NFTA_HOOK_PRIORITY, 100)),
				attrU32(unix.NFTA_CHAIN_POLICY, nfAccept), attrStr(unix.NFTA_CHAIN_TYPE, "nat")),
		}
		for _, p := range subnets {
			msgs = append(msgs, nftMsg(nftType(unix.NFT_MSG_NEWRULE), flagsNew|unix.NLM_F_APPEND, next(), familyINet, 0,
				attrStr(unix.NFTA_RULE_TABLE, table), attrStr(unix.NFTA_RULE_CHAIN, "postrouting"), masquerade(bridge, p)))
		}
		for _, m := range turnOn {
			msgs = append(msgs, nftMsg(nftType(unix.NFT_MSG_NEWCHAIN), flagsNew, next(), familyINet, 0,
				attrStr(unix.NFTA_CHAIN_TABLE, table), attrStr(unix.NFTA_CHAIN_NAME, m)))
		}
		return msgs
	})
	if err != nil {
		return false, &Error{Op: "add nftables table inet " + table, Err: err}
	}
	for _, m := range turnOn {
		if err := writeSysctl(forwardSysctl(m), "1"); err != nil {
			DisableNAT(bridge)
			return false, err
		}
	}
	return true, nil
}

// forwardingAgain turns forwarding back on for the families of subnets
// whose sysctl is off while a marker chain says this package turned it on:
// what a run killed between adding the table and writing the sysctl, or
// between writing it back and removing the table, leaves. Only when a
// sysctl is off is anything more read.
func forwardingAgain(subnets []netip.Prefix) error {
	off := forwardingOff(subnets)
	if len(off) == 0 {
		return nil
	}
	c, err := nftOpen()
	if err != nil {
		return err
	}
	defer c.close()
	chains, err := c.chains(familyINet)
	if err != nil {
		return &Error{Op: "list nftables chains", Err: err}
	}
	for _, m := range off {
		for _, ch := range chains {
			if ch.name == m && strings.HasPrefix(ch.table, NATTablePrefix) {
				if err := writeSysctl(forwardSysctl(m), "1"); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// forwardingOff returns the markers of the families of subnets whose
// forwarding sysctl is off.
func forwardingOff(subnets []netip.Prefix) []string {
	var off []string
	for _, m := range []string{ForwardMarker4, ForwardMarker6} {
		want := false
		for _, p := range subnets {
			want = want || p.Addr().Is4() == (m == ForwardMarker4)
		}
		if v, ok := readSysctl(forwardSysctl(m)); want && ok && v == "0" {
			off = append(off, m)
		}
	}
	return off
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
	c, err := nftOpen()
	if noNftables(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer c.close()
	ts, err := nsboxTables(c)
	if err != nil {
		return false, err
	}
	ours := NATTable(bridge)
	found := false
	var others []string
	for _, t := range ts {
		if t == ours {
			found = true
		} else {
			others = append(others, t)
		}
	}
	if !found {
		return false, nil
	}
	chains, err := c.chains(familyINet)
	if err != nil {
		return false, &Error{Op: "list nftables chains", Err: err}
	}
	var markers []string
	for _, ch := range chains {
		if ch.table == ours && forwardSysctl(ch.name) != "" {
			markers = append(markers, ch.name)
		}
	}
	// Forwarding off before the table goes: killed in between, the table
	// is left with its markers, for the next DisableNAT (or EnableNAT) to
	// find; the other way round, nothing would say it was turned on.
	if len(others) == 0 {
		for _, m := range markers {
			if err := writeSysctl(forwardSysctl(m), "0"); err != nil {
				return false, err
			}
		}
	}
	err = c.batch(func(next func() uint32) [][]byte {
		msgs := [][]byte{nftMsg(nftType(unix.NFT_MSG_DELTABLE), flagsDel, next(), familyINet, 0, attrStr(unix.NFTA_TABLE_NAME, ours))}
		if len(others) > 0 { // the marker moves on
			for _, m := range markers {
				msgs = append(msgs, nftMsg(nftType(unix.NFT_MSG_NEWCHAIN), flagsNew, next(), familyINet, 0,
					attrStr(unix.NFTA_CHAIN_TABLE, others[0]), attrStr(unix.NFTA_CHAIN_NAME, m)))
			}
		}
		return msgs
	})
	if err != nil {
		return false, &Error{Op: "delete nftables table inet " + ours, Err: err}
	}
	return true, nil
}

// forwardDrops lists the base chains on the forward hook whose policy is
// drop, in every family, as "family table chain".
func forwardDrops() ([]string, error) {
	c, err := nftOpen()
	if noNftables(err) {
		return nil, nil // no nftables, no nftables chain that drops
	}
	if err != nil {
		return nil, err
	}
	defer c.close()
	chains, err := c.chains(unix.NFPROTO_UNSPEC)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ch := range chains {
		// NF_INET_FORWARD is 2 in the ip, ip6, inet and bridge families.
		if !ch.hooked || ch.hook != unix.NF_INET_FORWARD || ch.policy != nfDrop {
			continue
		}
		switch ch.family {
		case unix.NFPROTO_IPV4, unix.NFPROTO_IPV6, unix.NFPROTO_INET, unix.NFPROTO_BRIDGE:
			out = append(out, familyName(ch.family)+" "+ch.table+" "+ch.name)
		}
	}
	return out, nil
}

func familyName(f uint8) string {
	switch f {
	case unix.NFPROTO_IPV4:
		return "ip"
	case unix.NFPROTO_IPV6:
		return "ip6"
	case unix.NFPROTO_INET:
		return "inet"
	case unix.NFPROTO_BRIDGE:
		return "bridge"
	}
	return "?"
}

// noNftables tells whether err says the kernel has no netfilter netlink
// (a kernel built or booted without nftables, as the u-root VM's is):
// there is then no table to find or remove.
func noNftables(err error) bool {
	return errors.Is(err, unix.EPROTONOSUPPORT)
}
