// Package mkbridge is the mkbridge applet: give a container's network
// namespace (a PID, a pinned namespace file or a /run/netns name) a veth
// port on a host bridge, with addresses, lo up and a default route, in one
// call; take it down again; diagnose the usual silent failures. The work is
// done by pkg/netsetup.
package mkbridge

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "mkbridge",
		Summary: "connect a container's network namespace to a host bridge (veth, addresses, routes)",
		Usage:   usage,
		Run:     run,
	})
}

// DefaultBridge and DefaultBridgeAddr are what mkbridge uses when no
// --bridge or --bridge-addr is given.
const (
	DefaultBridge     = "nsbox0"
	DefaultBridgeAddr = "10.88.0.1/16"
)

const usage = `
Usage:
 mkbridge [options] <target>
 mkbridge -d [--delete-bridge] <target>|<host-ifname>...
 mkbridge --delete-bridge [-b <bridge>]
 mkbridge --check [--nat] [-b <bridge>] [<target>]

Give a container's network namespace a port on a host bridge, over netlink,
in one step: the bridge (created if missing), a veth pair whose container end
is created inside the namespace, its addresses, lo up and a default route.
On failure everything this run created is removed again. On success one line
is printed: "<host-ifname> <addr>/<prefix>...", the host end's name, then the
container's addresses.

<target> is a PID, a network namespace file (a pin, e.g. DIR/net), or a name
under /run/netns.

Options:
 -b, --bridge <name>        the bridge (default nsbox0)
     --bridge-addr <cidr>   the bridge's address when it is created
                              (repeatable, IPv4 and IPv6; default 10.88.0.1/16)
 -a, --addr <cidr>|auto     the container's address (repeatable, IPv4 and IPv6);
                              auto (the default): a free address of each of
                              the bridge's subnets, the next after the last
                              one given out
 -i, --ifname <name>        the container end's name (default eth0)
     --host-ifname <name>   the host end's name (default nsb<netns inode in hex>)
 -g, --gateway <addr>|none  default route via <addr> (repeatable; default: the
                              bridge's address of each family)
     --mtu <n>              MTU of both ends
     --mac <mac>            MAC address of the container end
     --nat                  forward and masquerade the bridge's subnets (nftables)
     --new                  create <target>, a new network namespace pinned as
                              /run/netns/<target> (as "ip netns add"), first
 -d, --delete               remove the network of <target> (a PID, file or
                              name) or the host end <host-ifname>
     --delete-bridge        remove the bridge (and its NAT rules) when no port
                              is left on it; with -d, the bridges of the
                              removed ends
     --check                diagnose the bridge (and <target>)
 -v, --verbose              say what was done, on stderr

 -h, --help                 display this help
 -V, --version              display version

For more details see docs/mkbridge.md.
`

func run(e *applet.Env) error {
	fs := applet.NewFlags(e)
	bridge := fs.StringP("bridge", "b", DefaultBridge, "")
	fs.StringArray("bridge-addr", nil, "")
	fs.StringArrayP("addr", "a", nil, "")
	ifname := fs.StringP("ifname", "i", "eth0", "")
	hostIf := fs.String("host-ifname", "", "")
	fs.StringArrayP("gateway", "g", nil, "")
	fs.String("mtu", "", "")
	fs.String("mac", "", "")
	nat := fs.Bool("nat", false, "")
	newNs := fs.Bool("new", false, "")
	del := fs.BoolP("delete", "d", false, "")
	delBridge := fs.Bool("delete-bridge", false, "")
	check := fs.Bool("check", false, "")
	verbose := fs.BoolP("verbose", "v", false, "")

	c := &netsetup.Config{}
	applet.Check(fs, "bridge", func(v string) error { return textErr(netsetup.CheckIfName("bridge", v)) })
	applet.Check(fs, "ifname", func(v string) error { return textErr(netsetup.CheckIfName("interface", v)) })
	applet.Check(fs, "host-ifname", func(v string) error { return textErr(netsetup.CheckIfName("host interface", v)) })
	applet.Check(fs, "bridge-addr", func(v string) error {
		p, err := netsetup.ParsePrefix(v)
		if err != nil {
			return textErr(err)
		}
		c.BridgeAddrs = append(c.BridgeAddrs, p)
		return nil
	})
	applet.Check(fs, "addr", func(v string) error {
		r, err := netsetup.ParseAddrReq(v)
		if err != nil {
			return textErr(err)
		}
		c.Addrs = append(c.Addrs, r)
		return nil
	})
	applet.Check(fs, "gateway", func(v string) error {
		if v == "none" {
			c.NoGateway = true
			return nil
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return applet.Errorf("invalid gateway '%s'", v)
		}
		c.Gateways = append(c.Gateways, a.Unmap())
		return nil
	})
	applet.Check(fs, "mtu", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 68 || n > 65535 {
			return applet.Errorf("invalid MTU '%s' (68 to 65535)", v)
		}
		c.MTU = n
		return nil
	})
	applet.Check(fs, "mac", func(v string) error {
		hw, err := net.ParseMAC(v)
		if err != nil || len(hw) != 6 {
			return applet.Errorf("invalid MAC address '%s'", v)
		}
		if hw[0]&1 != 0 {
			return applet.Errorf("invalid MAC address '%s': a multicast address", v)
		}
		if string(hw) == "\x00\x00\x00\x00\x00\x00" {
			return applet.Errorf("invalid MAC address '%s': all zeros", v)
		}
		c.MAC = hw
		return nil
	})

	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	logf := func(format string, args ...any) {
		if *verbose {
			fmt.Fprintf(e.Stderr, "%s: %s\n", e.Name, fmt.Sprintf(format, args...))
		}
	}

	setupOnly := []string{"bridge-addr", "addr", "ifname", "host-ifname", "gateway", "mtu", "mac", "new"}
	switch {
	case *check:
		if *del || *delBridge {
			return applet.Usagef("--check cannot be combined with --delete or --delete-bridge")
		}
		if len(rest) > 1 {
			return applet.Usagef("too many arguments: --check takes at most one <target>")
		}
		return runCheck(e, *bridge, *nat, rest)
	case *del:
		if o := given(fs, setupOnly, "nat"); o != "" {
			return applet.Usagef("--delete takes no --%s", o)
		}
		if len(rest) == 0 {
			return applet.Usagef("--delete needs a <target> or <host-ifname>")
		}
		return runDelete(e, rest, *delBridge, logf)
	case *delBridge:
		if o := given(fs, setupOnly, "nat"); o != "" {
			return applet.Usagef("--delete-bridge takes no --%s", o)
		}
		if len(rest) > 0 {
			return applet.Usagef("--delete-bridge without --delete takes no <target>")
		}
		if err := netsetup.DeleteBridge(*bridge); err != nil {
			return failure(err)
		}
		logf("removed bridge %s", *bridge)
		return nil
	}

	switch {
	case len(rest) == 0:
		return applet.Usagef("no target specified (a PID, a network namespace file or a /run/netns name)")
	case len(rest) > 1:
		return applet.Usagef("too many arguments: only one <target> is allowed")
	}
	c.Bridge, c.IfName, c.HostIfName, c.NAT = *bridge, *ifname, *hostIf, *nat
	if !fs.Changed("bridge-addr") {
		p, _ := netsetup.ParsePrefix(DefaultBridgeAddr)
		c.BridgeAddrs = []netip.Prefix{p}
	}
	if c.NoGateway && len(c.Gateways) > 0 {
		return applet.Errorf("--gateway none cannot be combined with a gateway address")
	}
	if err := c.Validate(); err != nil {
		return failure(err)
	}
	var t *netsetup.Target
	if *newNs {
		if netsetup.IsPID(rest[0]) || strings.ContainsRune(rest[0], '/') {
			return applet.Errorf("--new takes a /run/netns name, not '%s'", rest[0])
		}
		t, err = netsetup.NewNetns(rest[0])
	} else {
		t, err = netsetup.OpenTarget(rest[0])
	}
	if err != nil {
		return failure(err)
	}
	defer t.Close()
	c.Target = t
	res, err := netsetup.Setup(c)
	if err != nil {
		if *newNs {
			t.Close()
			netsetup.RemoveNetns(rest[0])
		}
		return failure(err)
	}
	if *newNs {
		logf("created network namespace %s", t.Name)
	}
	if res.BridgeCreated {
		logf("created bridge %s", c.Bridge)
	}
	logf("%s: %s in %s, host end %s on %s", c.IfName, joinPrefixes(res.Addrs, ", "), t.Name, res.HostIfName, c.Bridge)
	for _, g := range res.Gateways {
		logf("default route via %s", g)
	}
	if res.NATCreated {
		logf("NAT rules for %s created", c.Bridge)
	}
	fmt.Fprintf(e.Stdout, "%s %s\n", res.HostIfName, joinPrefixes(res.Addrs, " "))
	return nil
}

// given returns the first of the options (names) that was given, or "".
func given(fs interface{ Changed(string) bool }, names []string, more ...string) string {
	for _, n := range append(names, more...) {
		if fs.Changed(n) {
			return n
		}
	}
	return ""
}

func joinPrefixes(ps []netip.Prefix, sep string) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, sep)
}

// runDelete removes the network of each target or host end (all are
// checked first: one bad argument removes nothing); with deleteBridge then
// the bridges they were on, when no port is left.
func runDelete(e *applet.Env, args []string, deleteBridge bool, logf func(string, ...any)) error {
	type item struct {
		host string
		t    *netsetup.Target
	}
	items := make([]item, 0, len(args))
	defer func() {
		for _, it := range items {
			it.t.Close()
		}
	}()
	for _, a := range args {
		if !netsetup.IsPID(a) && !strings.ContainsRune(a, '/') && netsetup.IsHostEnd(a) {
			items = append(items, item{host: a})
			continue
		}
		t, err := netsetup.OpenTarget(a)
		if err != nil {
			return failure(err)
		}
		items = append(items, item{t: t})
	}
	var bridges []string
	seen := map[string]bool{}
	for _, it := range items {
		var removed []netsetup.Removed
		if it.t == nil {
			r, err := netsetup.TeardownHost(it.host)
			if err != nil {
				return failure(err)
			}
			removed = append(removed, *r)
		} else {
			var err error
			if removed, err = netsetup.TeardownTarget(it.t); err != nil {
				return failure(err)
			}
		}
		for _, r := range removed {
			logf("removed %s (bridge %s)", r.HostIfName, r.Bridge)
			if !seen[r.Bridge] {
				seen[r.Bridge] = true
				bridges = append(bridges, r.Bridge)
			}
		}
	}
	if deleteBridge {
		for _, b := range bridges {
			if err := netsetup.DeleteBridge(b); err != nil {
				return failure(err)
			}
			logf("removed bridge %s", b)
		}
	}
	return nil
}

// textErr turns a netsetup validation error into the applet's message.
func textErr(err error) error {
	if err == nil {
		return nil
	}
	return applet.Errorf("%s", err.Error())
}

// failure turns a netsetup error into "what: why", the errno spelt as
// strerror spells it.
func failure(err error) error {
	var ne *netsetup.Error
	if errors.As(err, &ne) {
		return applet.Errorf("%s: %s", ne.Op, applet.Strerror(ne.Err))
	}
	return applet.Errorf("%s", applet.Message(err))
}

func runCheck(e *applet.Env, bridge string, nat bool, rest []string) error {
	var t *netsetup.Target
	if len(rest) == 1 {
		var err error
		if t, err = netsetup.OpenTarget(rest[0]); err != nil {
			return failure(err)
		}
		defer t.Close()
	}
	findings, err := netsetup.Check(bridge, nat, t)
	if err != nil {
		return failure(err)
	}
	return report(e.Stdout, findings)
}

// report prints the findings, one a line; any problem exits 1.
func report(w io.Writer, findings []netsetup.Finding) error {
	bad := 0
	for _, f := range findings {
		tag := "ok"
		if f.Problem {
			tag = "PROBLEM"
			bad++
		}
		fmt.Fprintf(w, "%-7s %s\n", tag, f.Text)
	}
	if bad > 0 {
		return &applet.Exit{Code: 1}
	}
	return nil
}
