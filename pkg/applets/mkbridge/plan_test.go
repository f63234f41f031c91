package mkbridge

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
)

// These tests need no privilege: parse reads arguments and touches
// nothing.

// describe spells a plan out for the tables below.
func describe(p *plan) string {
	c := p.config
	mode := [...]string{modeSetup: "setup", modeDelete: "delete", modeDeleteBridge: "delete-bridge", modeCheck: "check"}[p.mode]
	var addrs []string
	for _, a := range c.Addrs {
		switch {
		case a.Auto:
			addrs = append(addrs, "auto")
		case a.Bits < 0:
			addrs = append(addrs, a.Addr.String())
		default:
			addrs = append(addrs, fmt.Sprintf("%s/%d", a.Addr, a.Bits))
		}
	}
	s := fmt.Sprintf("%s %q br=%s", mode, p.targets, c.Bridge)
	if p.json {
		s = "json " + s
	}
	if p.mode != modeSetup {
		return s + fmt.Sprintf(" nat=%v delbr=%v v=%v", c.NAT, p.deleteBridge, p.verbose)
	}
	return s + fmt.Sprintf(" bra=%v a=%v if=%s host=%q gw=%v nogw=%v mtu=%d mac=%q nat=%v new=%v v=%v",
		c.BridgeAddrs, addrs, c.IfName, c.HostIfName, c.Gateways, c.NoGateway, c.MTU, c.MAC.String(), c.NAT, p.newNs, p.verbose)
}

func parseArgs(args ...string) (*plan, bool, error) {
	var out bytes.Buffer
	return parse(&applet.Env{Name: "mkbridge", Args: args, Stdout: &out, Stderr: &out})
}

func TestParsePlan(t *testing.T) {
	dflt := ` bra=[10.88.0.1/16] a=[] if=eth0 host="" gw=[] nogw=false mtu=0 mac="" nat=false new=false v=false`
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"4242"}, `setup ["4242"] br=nsbox0` + dflt},
		// Several targets, in order, with what every one may share.
		{[]string{"-b", "br1", "--bridge-addr", "10.1.0.1/24", "--bridge-addr", "fd00::1/64", "-a", "auto", "-g", "none", "1", "/run/c1/net", "web"},
			`setup ["1" "/run/c1/net" "web"] br=br1 bra=[10.1.0.1/24 fd00::1/64] a=[auto] if=eth0 host="" gw=[] nogw=true mtu=0 mac="" nat=false new=false v=false`},
		{[]string{"--new", "--nat", "-v", "web1", "web2"},
			`setup ["web1" "web2"] br=nsbox0 bra=[10.88.0.1/16] a=[] if=eth0 host="" gw=[] nogw=false mtu=0 mac="" nat=true new=true v=true`},
		// One target: every option.
		{[]string{"-a", "10.88.0.5", "-a", "fd00::5/64", "-i", "net0", "--host-ifname", "h0", "--mtu", "1400", "--mac", "02:00:00:00:00:01", "-g", "10.88.0.1", "1"},
			`setup ["1"] br=nsbox0 bra=[10.88.0.1/16] a=[10.88.0.5 fd00::5/64] if=net0 host="h0" gw=[10.88.0.1] nogw=false mtu=1400 mac="02:00:00:00:00:01" nat=false new=false v=false`},
		// Parsing stops at the first operand (getopt '+'): the rest are targets.
		{[]string{"1", "-a", "10.88.0.5"}, `setup ["1" "-a" "10.88.0.5"] br=nsbox0` + dflt},
		{[]string{"-d", "1", "nsb1234"}, `delete ["1" "nsb1234"] br=nsbox0 nat=false delbr=false v=false`},
		{[]string{"-d", "--delete-bridge", "-v", "1"}, `delete ["1"] br=nsbox0 nat=false delbr=true v=true`},
		{[]string{"--delete-bridge", "-b", "br1"}, `delete-bridge [] br=br1 nat=false delbr=false v=false`},
		{[]string{"--check", "--nat", "-b", "br1", "1"}, `check ["1"] br=br1 nat=true delbr=false v=false`},
		{[]string{"--check"}, `check [] br=nsbox0 nat=false delbr=false v=false`},
		{[]string{"--check", "--json", "1"}, `json check ["1"] br=nsbox0 nat=false delbr=false v=false`},
	} {
		p, done, err := parseArgs(c.args...)
		if err != nil || done {
			t.Errorf("mkbridge %q: %v (done %v)", c.args, err, done)
			continue
		}
		if got := describe(p); got != c.want {
			t.Errorf("mkbridge %q:\n got %s\nwant %s", c.args, got, c.want)
		}
	}
}

// TestParseErrors: the exact message of each refused argument list, usage
// errors with the "Try" line.
func TestParseErrors(t *testing.T) {
	try := "\nTry 'mkbridge --help' for more information.\n"
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{nil, "no target specified (a PID, a network namespace file or a /run/netns name)" + try},
		// Options that name one address or one interface take one target.
		{[]string{"-a", "10.88.0.5", "1", "2"}, "--addr 10.88.0.5 takes only one <target> (--addr auto takes several)" + try},
		{[]string{"-a", "auto", "-a", "fd00::5/64", "1", "2"}, "--addr fd00::5 takes only one <target> (--addr auto takes several)" + try},
		{[]string{"--host-ifname", "h0", "1", "2"}, "--host-ifname takes only one <target>" + try},
		{[]string{"--mac", "02:00:00:00:00:01", "--new", "a", "b"}, "--mac takes only one <target>" + try},
		{[]string{"--new", "web", "123"}, "--new takes a /run/netns name, not '123'\n"},
		{[]string{"--new", "web", "a/b"}, "--new takes a /run/netns name, not 'a/b'\n"},
		{[]string{"--new", ".."}, "--new: invalid netns name '..'\n"},
		{[]string{"-g", "none", "-g", "10.88.0.1", "1"}, "--gateway none cannot be combined with a gateway address\n"},
		{[]string{"-b", "abcdefghijklmnop", "1"}, "bridge name 'abcdefghijklmnop' is too long (16 bytes; at most 15)\n"},
		{[]string{"--host-ifname", "nsbox0", "1"}, "host interface name 'nsbox0' is the bridge's\n"},
		{[]string{"-a", "10.88.0.0/16", "1"}, "'10.88.0.0/16' is not a host address of 10.88.0.0/16\n"},
		{[]string{"--mtu", "20", "1"}, "invalid MTU '20' (68 to 65535)\n"},
		{[]string{"--mac", "01:00:00:00:00:01", "1"}, "invalid MAC address '01:00:00:00:00:01': a multicast address\n"},
		{[]string{"--mac", "00:00:00:00:00:00", "1"}, "invalid MAC address '00:00:00:00:00:00': all zeros\n"},
		{[]string{"--check", "-d", "1"}, "--check cannot be combined with --delete or --delete-bridge" + try},
		{[]string{"--check", "1", "2"}, "too many arguments: --check takes at most one <target>" + try},
		{[]string{"-d"}, "--delete needs a <target> or <host-ifname>" + try},
		{[]string{"-d", "-a", "auto", "1"}, "--delete takes no --addr" + try},
		{[]string{"--delete-bridge", "1"}, "--delete-bridge without --delete takes no <target>" + try},
		{[]string{"--delete-bridge", "--nat"}, "--delete-bridge takes no --nat" + try},
		{[]string{"--frobnicate"}, "unrecognized option '--frobnicate'" + try},
	} {
		p, _, err := parseArgs(c.args...)
		if err == nil {
			t.Errorf("mkbridge %q: no error, plan %s", c.args, describe(p))
			continue
		}
		if msg, code := applet.Status("mkbridge", err); msg != "mkbridge: "+c.msg || code != 1 {
			t.Errorf("mkbridge %q: exit %d, %q; want 1, %q", c.args, code, msg, "mkbridge: "+c.msg)
		}
	}
}

// TestHelp: --help prints the usage and does nothing else; its synopsis
// takes several targets.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	p, done, err := parse(&applet.Env{Name: "mkbridge", Args: []string{"--help", "1"}, Stdout: &out, Stderr: &out})
	if p != nil || !done || err != nil || out.String() != usage || !strings.Contains(usage, "\n mkbridge [options] <target>...\n") {
		t.Errorf("--help: plan %v, done %v, error %v, printed %q", p, done, err, out.String())
	}
}
