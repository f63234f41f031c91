package mkbridge

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/netsetup"
	"github.com/nsbox/nsbox/pkg/pin"
)

// mode is what a run does.
type mode int

const (
	modeSetup        mode = iota // give each target its network
	modeDelete                   // -d: remove the networks of targets or host ends
	modeDeleteBridge             // --delete-bridge alone: remove the bridge
	modeCheck                    // --check: diagnose
)

// plan is what mkbridge was asked to do, read from its arguments and
// checked: nothing is touched until it is carried out.
type plan struct {
	mode    mode
	targets []string // the operands: targets (and host ends, with -d)
	// config is each target's set-up but its Target; with --check its
	// Bridge and NAT, with --delete-bridge its Bridge.
	config       netsetup.Config
	newNs        bool // --new: create each target first
	deleteBridge bool // -d --delete-bridge: then the bridges of the ends removed
	json         bool // --json: each set-up as a CNI result
	verbose      bool
	given        func(name string) bool // whether option name was given
}

// setupOnly are the options that only a set-up takes.
var setupOnly = []string{"bridge-addr", "addr", "ifname", "host-ifname", "gateway", "mtu", "mac", "new"}

// parse reads the arguments of e into a plan; done is true when --help or
// --version was printed (or e only describes the options).
func parse(e *applet.Env) (p *plan, done bool, err error) {
	p = &plan{}
	fs := applet.NewFlags(e)
	defineOptions(fs, p)
	del := fs.BoolP("delete", "d", false, "")
	delBridge := fs.Bool("delete-bridge", false, "")
	check := fs.Bool("check", false, "")
	fs.BoolVar(&p.json, "json", false, "")
	fs.BoolVarP(&p.verbose, "verbose", "v", false, "")
	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return nil, done, err
	}
	p.targets, p.given = rest, fs.Changed
	switch {
	case *check:
		p.mode = modeCheck
		if *del || *delBridge {
			return nil, false, applet.Usagef("--check cannot be combined with --delete or --delete-bridge")
		}
		if len(rest) > 1 {
			return nil, false, applet.Usagef("too many arguments: --check takes at most one <target>")
		}
		return p, false, nil
	case *del:
		p.mode, p.deleteBridge = modeDelete, *delBridge
		if o := given(fs, setupOnly, "nat", "json"); o != "" {
			return nil, false, applet.Usagef("--delete takes no --%s", o)
		}
		if len(rest) == 0 {
			return nil, false, applet.Usagef("--delete needs a <target> or <host-ifname>")
		}
		return p, false, nil
	case *delBridge:
		p.mode = modeDeleteBridge
		if o := given(fs, setupOnly, "nat", "json"); o != "" {
			return nil, false, applet.Usagef("--delete-bridge takes no --%s", o)
		}
		if len(rest) > 0 {
			return nil, false, applet.Usagef("--delete-bridge without --delete takes no <target>")
		}
		return p, false, nil
	}
	return p, false, p.checkSetup(fs)
}

// defineOptions defines the options that fill p.config (and --new),
// each value checked as it is read.
func defineOptions(fs *pflag.FlagSet, p *plan) {
	c := &p.config
	fs.StringVarP(&c.Bridge, "bridge", "b", DefaultBridge, "")
	fs.StringArray("bridge-addr", nil, "")
	fs.StringArrayP("addr", "a", nil, "")
	fs.StringVarP(&c.IfName, "ifname", "i", "eth0", "")
	fs.StringVar(&c.HostIfName, "host-ifname", "", "")
	fs.StringArrayP("gateway", "g", nil, "")
	fs.String("mtu", "", "")
	fs.String("mac", "", "")
	fs.BoolVar(&c.NAT, "nat", false, "")
	fs.BoolVar(&p.newNs, "new", false, "")

	applet.Check(fs, "bridge", func(v string) error { return textErr(netsetup.CheckIfName("bridge", v)) })
	applet.Check(fs, "ifname", func(v string) error { return textErr(netsetup.CheckIfName("interface", v)) })
	applet.Check(fs, "host-ifname", func(v string) error { return textErr(netsetup.CheckIfName("host interface", v)) })
	appendParsed(fs, "bridge-addr", &c.BridgeAddrs, netsetup.ParsePrefix)
	appendParsed(fs, "addr", &c.Addrs, netsetup.ParseAddrReq)
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
		hw, err := netsetup.ParseMAC(v)
		if err != nil {
			return textErr(err)
		}
		c.MAC = hw
		return nil
	})
}

// appendParsed makes each value of the repeatable option name be parsed
// as it is read, and appended to *list.
func appendParsed[T any](fs *pflag.FlagSet, name string, list *[]T, parse func(string) (T, error)) {
	applet.Check(fs, name, func(v string) error {
		x, err := parse(v)
		if err != nil {
			return textErr(err)
		}
		*list = append(*list, x)
		return nil
	})
}

// checkSetup checks a set-up's options against its targets: there is at
// least one; an option that names one address or one interface names that
// of a single target; with --new each is a /run/netns name; the names
// check as netsetup checks them.
func (p *plan) checkSetup(fs *pflag.FlagSet) error {
	c := &p.config
	if len(p.targets) == 0 {
		return applet.Usagef("no target specified (a PID, a network namespace file or a /run/netns name)")
	}
	if len(p.targets) > 1 {
		for _, a := range c.Addrs {
			if !a.Auto {
				return applet.Usagef("--addr %s takes only one <target> (--addr auto takes several)", a.Addr)
			}
		}
		if o := given(fs, []string{"host-ifname", "mac"}); o != "" {
			return applet.Usagef("--%s takes only one <target>", o)
		}
	}
	if !fs.Changed("bridge-addr") {
		a, _ := netsetup.ParsePrefix(DefaultBridgeAddr)
		c.BridgeAddrs = []netip.Prefix{a}
	}
	if c.NoGateway && len(c.Gateways) > 0 {
		return applet.Errorf("--gateway none cannot be combined with a gateway address")
	}
	if err := c.Validate(); err != nil {
		return failure(err)
	}
	if p.newNs {
		for _, t := range p.targets {
			if netsetup.IsPID(t) || strings.ContainsRune(t, '/') {
				return applet.Errorf("--new takes a /run/netns name, not '%s'", t)
			}
			if !pin.ValidNetnsName(t) {
				return applet.Errorf("--new: invalid netns name '%s'", t)
			}
		}
	}
	return nil
}

// given returns the first of the options (names) that was given, or "".
func given(fs *pflag.FlagSet, names []string, more ...string) string {
	for _, n := range append(names, more...) {
		if fs.Changed(n) {
			return n
		}
	}
	return ""
}
