package netsetup

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strings"
)

// MaxIfName is the longest interface name the kernel takes (IFNAMSIZ-1).
const MaxIfName = 15

// CheckIfName checks name as the kernel's dev_valid_name does: 1 to 15
// bytes, not "." or "..", no '/', ':' or white space. what says which name
// it is in the message.
func CheckIfName(what, name string) error {
	var why string
	switch {
	case name == "":
		why = "empty " + what + " name"
	case len(name) > MaxIfName:
		why = fmt.Sprintf("%s name '%s' is too long (%d bytes; at most %d)", what, name, len(name), MaxIfName)
	case name == "." || name == "..":
		why = fmt.Sprintf("invalid %s name '%s'", what, name)
	case strings.ContainsAny(name, "/: \t\n\v\f\r\x00"):
		why = fmt.Sprintf("invalid %s name '%s' (no '/', ':' or white space)", what, name)
	default:
		return nil
	}
	return Text(why)
}

// HostIfName is the host end's name derived from the container: "nsb" and
// the network namespace's inode number in hex (unique among live
// namespaces), and for an interface other than eth0 a '.' and three hex
// digits of a hash of its name: at most 15 characters.
func HostIfName(netnsIno uint64, ifname string) string {
	if ifname == "eth0" {
		return fmt.Sprintf("nsb%x", netnsIno)
	}
	h := fnv.New32a()
	h.Write([]byte(ifname))
	return fmt.Sprintf("nsb%x.%03x", netnsIno, h.Sum32()&0xfff)
}

// AddrReq is one address the user asked for: Auto, or Addr with Bits (-1:
// the bridge subnet's prefix length).
type AddrReq struct {
	Auto bool
	Addr netip.Addr
	Bits int
}

// ParseAddrReq parses "auto", "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6).
func ParseAddrReq(s string) (AddrReq, error) {
	if s == "auto" {
		return AddrReq{Auto: true}, nil
	}
	if strings.ContainsRune(s, '/') {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return AddrReq{}, Text(fmt.Sprintf("invalid address '%s'", s))
		}
		return AddrReq{Addr: p.Addr(), Bits: p.Bits()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return AddrReq{}, Text(fmt.Sprintf("invalid address '%s'", s))
	}
	return AddrReq{Addr: a, Bits: -1}, nil
}

// ParseMAC parses a container end's MAC address: six bytes, unicast, not
// all zeros.
func ParseMAC(s string) (net.HardwareAddr, error) {
	hw, err := net.ParseMAC(s)
	switch {
	case err != nil || len(hw) != 6:
		return nil, Text(fmt.Sprintf("invalid MAC address '%s'", s))
	case hw[0]&1 != 0:
		return nil, Text(fmt.Sprintf("invalid MAC address '%s': a multicast address", s))
	case string(hw) == "\x00\x00\x00\x00\x00\x00":
		return nil, Text(fmt.Sprintf("invalid MAC address '%s': all zeros", s))
	}
	return hw, nil
}

// ParsePrefix parses an ADDR/PREFIX whose address is a host of its subnet
// (a bridge address: not the network or, IPv4, the broadcast address).
func ParsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" {
		return netip.Prefix{}, Text(fmt.Sprintf("invalid address/prefix '%s'", s))
	}
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	if !hostOf(p.Addr(), p) {
		return netip.Prefix{}, Text(fmt.Sprintf("'%s' is not a host address of %s", s, p.Masked()))
	}
	return p, nil
}

// hostOf reports whether a is a usable host address of subnet p: inside
// it, not its network address, not an IPv4 broadcast address (/31 and /32
// have neither).
func hostOf(a netip.Addr, p netip.Prefix) bool {
	if !p.Masked().Contains(a) {
		return false
	}
	if a.Is4() && p.Bits() >= 31 {
		return true
	}
	if a == p.Masked().Addr() {
		return false
	}
	if a.Is4() && a == lastAddr(p) {
		return false
	}
	return true
}

// firstHost and lastHost are the lowest and highest host addresses of p
// (see hostOf).
func firstHost(p netip.Prefix) netip.Addr {
	if p.Addr().Is4() && p.Bits() >= 31 {
		return p.Masked().Addr()
	}
	return p.Masked().Addr().Next()
}

func lastHost(p netip.Prefix) netip.Addr {
	if p.Addr().Is6() || p.Bits() >= 31 {
		return lastAddr(p)
	}
	return lastAddr(p).Prev()
}

// lastAddr is the highest address of p (the IPv4 broadcast address).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
