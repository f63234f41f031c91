package netsetup

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Finding is one line of Check's diagnosis.
type Finding struct {
	// Check names what was looked at, in words a script can match:
	// bridge, bridge-mac, bridge-address, address, br-netfilter,
	// iptables-legacy, ip-forward, ipv6-forward, nat, lo, link, target-address,
	// default-route.
	Check   string
	Problem bool
	Text    string
}

// ProcSys is where Check reads sysctls, SysClassNet the attributes of
// links (variables for tests).
var (
	ProcSys     = "/proc/sys"
	SysClassNet = "/sys/class/net"
)

func readSysctl(name string) (string, bool) { return readTrim(ProcSys + "/" + name) }

// readTrim returns the contents of a /proc or /sys file without its
// newline.
func readTrim(path string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// Check explains the silent failures of a bridge setup: a bridge missing,
// down, without an address or whose MAC address is not fixed; br_netfilter loaded with a FORWARD policy
// that drops; ip_forward off when NAT is wanted; addresses still
// tentative; in the target, lo down, no address, no default route.
func Check(bridge string, nat bool, t *Target) ([]Finding, error) {
	var out []Finding
	add := func(check string, problem bool, format string, args ...any) {
		out = append(out, Finding{Check: check, Problem: problem, Text: fmt.Sprintf(format, args...)})
	}
	h, err := hostHandle()
	if err != nil {
		return nil, err
	}
	defer h.Close()

	var brAddrs []netip4or6
	br, err := h.linkByName(bridge)
	switch {
	case err != nil && isNotFound(err):
		add("bridge", true, "bridge %s does not exist (mkbridge creates it with --bridge-addr)", bridge)
	case err != nil:
		return nil, &Error{Op: "look up " + bridge, Err: err}
	case br.Type() != "bridge":
		add("bridge", true, "%s is not a bridge (type %s)", bridge, br.Type())
	default:
		if !br.up() {
			add("bridge", true, "bridge %s is down", bridge)
		} else {
			add("bridge", false, "bridge %s is up", bridge)
		}
		checkMAC(add, bridge, br)
		as, err := h.addrList(br.Index)
		if err != nil {
			return nil, &Error{Op: "addresses of " + bridge, Err: err}
		}
		for _, a := range as {
			if a.Scope != unix.RT_SCOPE_UNIVERSE {
				continue
			}
			brAddrs = append(brAddrs, netip4or6{a.IPNet.String(), a.IPNet.IP.To4() != nil})
			addrState(add, bridge, a)
		}
		if len(brAddrs) == 0 {
			add("bridge-address", true, "bridge %s has no address: containers have no gateway and mkbridge cannot allocate (give --bridge-addr when it is created, or -a ADDR/PREFIX and -g)", bridge)
		}
	}

	if v, ok := readSysctl("net/bridge/bridge-nf-call-iptables"); ok {
		if v == "1" {
			drops, err := forwardDrops()
			switch {
			case err != nil:
				add("br-netfilter", false, "br_netfilter is loaded (bridge-nf-call-iptables=1): bridged traffic passes the FORWARD chains (could not read them: %v)", err)
			case len(drops) > 0:
				add("br-netfilter", true, "br_netfilter is loaded (bridge-nf-call-iptables=1) and FORWARD drops by default (%s): traffic between containers on the bridge is dropped unless accepted there", strings.Join(drops, ", "))
			default:
				add("br-netfilter", false, "br_netfilter is loaded, no FORWARD chain drops by default")
			}
		} else {
			add("br-netfilter", false, "br_netfilter is loaded, bridge-nf-call-iptables=0")
		}
	} else {
		add("br-netfilter", false, "br_netfilter is not loaded")
	}
	if legacy, err := os.ReadFile("/proc/net/ip_tables_names"); err == nil && strings.Contains(string(legacy), "filter") {
		add("iptables-legacy", false, "an iptables-legacy filter table exists: its FORWARD policy is not checked (iptables -L FORWARD)")
	}

	v4, v6 := len(brAddrs) == 0, false
	for _, a := range brAddrs {
		v4, v6 = v4 || a.is4, v6 || !a.is4
	}
	checkForwarding(add, nat, v4, v6)
	if nat {
		if ok, err := NATPresent(bridge); err != nil {
			add("nat", true, "NAT rules of %s: cannot read them: %v", bridge, err)
		} else if !ok {
			add("nat", true, "no NAT rules for %s (mkbridge --nat adds them)", bridge)
		} else {
			add("nat", false, "NAT rules for %s are in place (table inet %s)", bridge, NATTable(bridge))
		}
	}

	if t != nil {
		if err := checkTarget(t, add); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkMAC reports whether the bridge's MAC address is fixed: set
// explicitly (addr_assign_type 3, NET_ADDR_SET), as mkbridge sets it on a
// bridge it creates. Otherwise the kernel gives the bridge the lowest MAC
// address of its ports whenever a port comes or goes, and the containers'
// ARP entries for their gateway go stale when that port's container
// leaves. The netlink messages do not carry addr_assign_type: it is read
// from sysfs, when /sys/class/net shows this network namespace's links (the
// bridge's ifindex there is the one netlink gave).
func checkMAC(add func(string, bool, string, ...any), bridge string, a *link) {
	dir := SysClassNet + "/" + bridge + "/"
	typ, ok := readTrim(dir + "addr_assign_type")
	idx, ok2 := readTrim(dir + "ifindex")
	switch {
	case !ok || !ok2 || idx != strconv.Itoa(a.Index):
		add("bridge-mac", false, "bridge %s: whether its MAC address is fixed is not known (%s does not show this network namespace's links)", bridge, SysClassNet)
	case typ == "3":
		add("bridge-mac", false, "bridge %s has a fixed MAC address (%s)", bridge, a.HardwareAddr)
	default:
		mac := a.HardwareAddr.String()
		if len(a.HardwareAddr) == 0 || strings.Trim(mac, "0:") == "" {
			mac = "ADDR" // a bridge without ports may show zeros, which cannot be set
		}
		add("bridge-mac", true, "bridge %s has no fixed MAC address (addr_assign_type %s): it takes the lowest of its ports' and changes when that port goes, and the containers' ARP entries for their gateway go stale (ip link set %s address %s fixes it)", bridge, typ, bridge, mac)
	}
}

// checkForwarding adds the findings of the forwarding sysctls of the
// families the bridge has addresses of (v4, v6): with nat, one that is off
// is a problem.
func checkForwarding(add func(check string, problem bool, format string, args ...any), nat, v4, v6 bool) {
	for _, f := range []struct {
		want                bool
		check, name, marker string
	}{
		{v4, "ip-forward", "net.ipv4.ip_forward", ForwardMarker4},
		{v6, "ipv6-forward", "net.ipv6.conf.all.forwarding", ForwardMarker6},
	} {
		v, ok := readSysctl(forwardSysctl(f.marker))
		switch {
		case !f.want || !ok:
		case v != "1" && nat:
			add(f.check, true, "%s is %s: --nat needs forwarding (mkbridge --nat turns it on)", f.name, v)
		case v != "1":
			add(f.check, false, "%s is %s (containers reach the bridge and each other, not beyond; see --nat)", f.name, v)
		default:
			add(f.check, false, "%s is 1", f.name)
		}
	}
}

type netip4or6 struct {
	s   string
	is4 bool
}

func addrState(add func(string, bool, string, ...any), dev string, a addr) {
	switch {
	case a.Flags&unix.IFA_F_DADFAILED != 0:
		add("address", true, "%s on %s failed duplicate address detection: another host has it", a.IPNet, dev)
	case a.Flags&unix.IFA_F_TENTATIVE != 0 && a.IPNet.IP.IsLinkLocalUnicast():
		add("address", false, "%s on %s is still tentative (link-local only: the global addresses are usable)", a.IPNet, dev)
	case a.Flags&unix.IFA_F_TENTATIVE != 0:
		add("address", true, "%s on %s is still tentative (duplicate address detection): unusable for about 2 s (mkbridge adds IPv6 addresses with nodad)", a.IPNet, dev)
	default:
		add("address", false, "%s on %s", a.IPNet, dev)
	}
}

func checkTarget(t *Target, add func(string, bool, string, ...any)) error {
	ch, done, err := t.handle()
	if err != nil {
		return err
	}
	defer done()
	links, err := ch.linkList()
	if err != nil {
		return &Error{Op: "list links in " + t.Name, Err: err}
	}
	global := 0
	for _, l := range links {
		if l.Name == "lo" {
			if !l.up() {
				add("lo", true, "lo is down in %s: 127.0.0.1 and the container's own addresses do not answer", t.Name)
			} else {
				add("lo", false, "lo is up in %s", t.Name)
			}
			continue
		}
		if !l.up() {
			add("link", true, "%s is down in %s", l.Name, t.Name)
		}
		as, err := ch.addrList(l.Index)
		if err != nil {
			return &Error{Op: "addresses in " + t.Name, Err: err}
		}
		for _, ad := range as {
			if ad.Scope == unix.RT_SCOPE_UNIVERSE {
				global++
				addrState(add, l.Name+" in "+t.Name, ad)
			} else if ad.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 {
				addrState(add, l.Name+" in "+t.Name, ad)
			}
		}
	}
	if global == 0 {
		add("target-address", true, "no global address in %s", t.Name)
	}
	routes, err := ch.routeList(0)
	if err != nil {
		return &Error{Op: "routes in " + t.Name, Err: err}
	}
	def := 0
	for _, r := range routes {
		if r.Dst == nil || (r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask)) {
			def++
			add("default-route", false, "default route via %s in %s", r.Gw, t.Name)
		}
	}
	if def == 0 {
		add("default-route", true, "no default route in %s", t.Name)
	}
	return nil
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}
