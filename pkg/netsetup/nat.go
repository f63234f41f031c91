package netsetup

import "net/netip"

// EnableNAT makes sure bridge's subnets are forwarded and masqueraded;
// created tells whether this call made the rules.
func EnableNAT(bridge string, subnets []netip.Prefix) (created bool, err error) {
	return false, Text("NAT: not implemented yet")
}

// NATTable is the nftables table of bridge's NAT rules.
func NATTable(bridge string) string { return "nsbox-" + bridge }

// NATPresent reports whether bridge's NAT table exists.
func NATPresent(bridge string) (bool, error) { return false, nil }

// forwardDrops lists the forward-hook chains whose policy is drop.
func forwardDrops() ([]string, error) {
	return nil, nil
}

// DisableNAT removes bridge's NAT rules, if any.
func DisableNAT(bridge string) (removed bool, err error) { return false, nil }
