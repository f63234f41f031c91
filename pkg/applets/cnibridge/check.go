package cnibridge

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/nsbox/nsbox/pkg/cni"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

// compareLive lists what of p.Prev the live attachment lv lacks: the host
// end up on the bridge, the container end up with the result's MAC
// address and addresses, the result's routes through it. Routes another
// plugin of the chain may have added elsewhere are not asked for: only
// those via a gateway in one of the container end's subnets, or on it.
func compareLive(p *Plan, lv *netsetup.Live) []string {
	if lv == nil {
		return []string{fmt.Sprintf("attachment %s/%s of network %s: no host end records it (not added, or removed)", p.ContainerID, p.IfName, p.Network)}
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !lv.HostUp {
		add("host end %s is down", lv.HostIf)
	}
	if lv.Bridge != p.Bridge {
		add("host end %s is not on bridge %s", lv.HostIf, p.Bridge)
	}
	if !lv.IfFound {
		add("%s is missing in %s", p.IfName, p.Netns)
		return out
	}
	if !lv.IfUp {
		add("%s is down in %s", p.IfName, p.Netns)
	}
	idx := -1
	for i, in := range p.Prev.Interfaces {
		if in.Name == p.IfName && in.Sandbox == p.Netns {
			idx = i
			if in.Mac != "" && !strings.EqualFold(in.Mac, lv.IfMAC) {
				add("%s has MAC address %s, the result says %s", p.IfName, lv.IfMAC, in.Mac)
			}
		}
	}
	if idx < 0 {
		add("prevResult has no interface %s in %s", p.IfName, p.Netns)
	}
	have := map[string]bool{}
	for _, a := range lv.Addrs {
		have[a.String()] = true
	}
	var mine []netip.Prefix // the container end's addresses, as the result says
	for _, ip := range p.Prev.IPs {
		if ip.Interface == idx {
			mine = append(mine, ip.Address)
			if !have[ip.Address.String()] {
				add("%s lacks its address %s", p.IfName, ip.Address)
			}
		}
	}
	for _, rt := range p.Prev.Routes {
		if !ours(rt, mine) {
			continue
		}
		found := false
		for _, l := range lv.Routes {
			if l.Dst == rt.Dst && (!rt.GW.IsValid() || l.GW == rt.GW) {
				found = true
			}
		}
		if !found {
			add("the route to %s via %s is missing in %s", rt.Dst, rt.GW, p.Netns)
		}
	}
	return out
}

// ours reports whether route rt goes through the container end: its
// gateway in the subnet of one of its addresses.
func ours(rt cni.Route, addrs []netip.Prefix) bool {
	for _, a := range addrs {
		if rt.GW.IsValid() && a.Masked().Contains(rt.GW) {
			return true
		}
	}
	return false
}
