package netsetup

import (
	"encoding/hex"
	"net/netip"
	"strings"
)

// The record of an address given out: an alternative name (altname,
// IFLA_ALT_IFNAME) of the container's host end,
//
//	nsbox-mkbridge.BRIDGE.10.88.0.5
//	nsbox-mkbridge.BRIDGE.fd000088000000000000000000000005
//
// (an IPv6 address as 32 hex digits: names take no ':'). Link names and
// altnames are one namespace per network namespace, and the kernel refuses
// a name that exists (EEXIST), so adding the record is the allocation: two
// runs can never take the same address, without a lock. The record goes
// with the link, so a dead container's address is free again. Finding out
// whether an address is taken is one RTM_GETLINK by name, whatever the
// number of containers. Records are longer than 15 characters, so they
// never clash with an interface's own name.

// RecordPrefix starts every record.
const RecordPrefix = "nsbox-mkbridge."

// recordName is the altname that records address a on bridge.
func recordName(bridge string, a netip.Addr) string {
	if a.Is4() {
		return RecordPrefix + bridge + "." + a.String()
	}
	b := a.As16()
	return RecordPrefix + bridge + "." + hex.EncodeToString(b[:])
}

// parseRecord returns the bridge and address an altname records.
func parseRecord(name string) (bridge string, a netip.Addr, ok bool) {
	rest, ok := strings.CutPrefix(name, RecordPrefix)
	if !ok {
		return "", netip.Addr{}, false
	}
	// IPv6: the last component, 32 hex digits.
	if i := strings.LastIndexByte(rest, '.'); i > 0 && len(rest)-i-1 == 32 {
		if b, err := hex.DecodeString(rest[i+1:]); err == nil {
			return rest[:i], netip.AddrFrom16([16]byte(b)), true
		}
	}
	// IPv4: the last four components.
	i := len(rest)
	for n := 0; n < 4; n++ {
		i = strings.LastIndexByte(rest[:i], '.')
		if i <= 0 {
			return "", netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(rest[i+1:])
	if err != nil || !a.Is4() {
		return "", netip.Addr{}, false
	}
	return rest[:i], a, true
}

// records returns the addresses a link's altnames record, and the bridge
// (ok false: not a host end made by this package).
func records(altnames []string) (bridge string, addrs []netip.Addr, ok bool) {
	for _, n := range altnames {
		if br, a, isRec := parseRecord(n); isRec {
			bridge, ok = br, true
			addrs = append(addrs, a)
		}
	}
	return bridge, addrs, ok
}

// The bridge's alias: "nsbox-mkbridge bridge" for a bridge this package
// made, followed by the last address given out per family
// ("last=10.88.0.5 last6=fd00::5"), where the next allocation starts.
const bridgeAliasPrefix = Marker + " bridge"

// isOurBridge reports whether alias marks a bridge made by this package.
func isOurBridge(alias string) bool {
	return alias == bridgeAliasPrefix || strings.HasPrefix(alias, bridgeAliasPrefix+" ")
}

// bridgeHints returns the last addresses an alias records.
func bridgeHints(alias string) (last4, last6 netip.Addr) {
	for _, f := range strings.Fields(alias) {
		if v, ok := strings.CutPrefix(f, "last="); ok {
			last4, _ = netip.ParseAddr(v)
		} else if v, ok := strings.CutPrefix(f, "last6="); ok {
			last6, _ = netip.ParseAddr(v)
		}
	}
	return last4, last6
}

// bridgeAlias is the alias with these hints.
func bridgeAlias(last4, last6 netip.Addr) string {
	s := bridgeAliasPrefix
	if last4.IsValid() {
		s += " last=" + last4.String()
	}
	if last6.IsValid() {
		s += " last6=" + last6.String()
	}
	return s
}

// candidates calls try with the host addresses from first to last (of
// one subnet), except skip, starting after hint (when it is in the range)
// and wrapping around, until try says stop, at most maxScan times. It
// reports whether try stopped it.
func candidates(first, last, hint netip.Addr, skip map[netip.Addr]bool, try func(netip.Addr) (stop bool, err error)) (bool, error) {
	in := func(a netip.Addr) bool { return a.IsValid() && !a.Less(first) && !last.Less(a) }
	start := first
	if in(hint) {
		if n := hint.Next(); in(n) {
			start = n
		}
	}
	a := start
	for i := 0; i < maxScan; i++ {
		if !skip[a] {
			stop, err := try(a)
			if stop || err != nil {
				return stop, err
			}
		}
		if a = a.Next(); !in(a) {
			a = first
		}
		if a == start {
			break
		}
	}
	return false, nil
}
