// Package mkbridge is the mkbridge applet: give containers' network
// namespaces (PIDs, pinned namespace files or /run/netns names) each a veth
// port on a host bridge, with addresses, lo up and a default route, in one
// call; take them down again; diagnose the usual silent failures. Its
// arguments are read into a plan (plan.go), then carried out by
// pkg/netsetup.
package mkbridge

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/cni"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "mkbridge",
		Summary: "connect a container's network namespace to a host bridge (veth, addresses, routes)",
		Usage:   usage,
		Run:     run,
		// Through a set-user-ID or file-capability install, an
		// unprivileged user's ports by policy (user.go).
		Privileged: true,
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
 mkbridge [options] <target>...
 mkbridge -d [--delete-bridge] <target>|<host-ifname>...
 mkbridge --delete-bridge [-b <bridge>]
 mkbridge --check [--nat] [-b <bridge>] [<target>]

Give each container's network namespace a port on a host bridge, over
netlink, in one step: the bridge (created if missing, with a MAC address of
its own), a veth pair whose container end is created inside the namespace,
its addresses, lo up and a default route. The targets are set up in turn,
in one process. On success a line is printed for the target:
"<host-ifname> <addr>/<prefix>...", the host end's name, then the
container's addresses. On failure everything this run created for that
target is removed again, the error is printed, and the next target goes on;
the exit status is then 1.

<target> is a PID, a network namespace file (a pin, e.g. DIR/net), or a name
under /run/netns.

Options:
 -b, --bridge <name>        the bridge (default nsbox0)
     --bridge-addr <cidr>   the bridge's address when it is created
                              (repeatable, IPv4 and IPv6; default 10.88.0.1/16)
 -a, --addr <cidr>|auto     the container's address (repeatable, IPv4 and IPv6;
                              an address: one <target> only); auto (the
                              default): a free address of each of the
                              bridge's subnets, the next after the last one
                              given out
 -i, --ifname <name>        the container end's name (default eth0)
     --host-ifname <name>   the host end's name (one <target> only; default
                              nsb<netns inode in hex>)
 -g, --gateway <addr>|none  default route via <addr> (repeatable; default: the
                              bridge's address of each family)
     --mtu <n>              MTU of both ends
     --mac <mac>            MAC address of the container end (one <target> only)
     --nat                  forward and masquerade the bridge's subnets (nftables)
     --new                  create each <target>, a new network namespace
                              pinned as /run/netns/<target> (as "ip netns
                              add"), first
 -d, --delete               remove the network of <target> (a PID, file or
                              name) or the host end <host-ifname>
     --delete-bridge        remove the bridge (and its NAT rules) when no port
                              is left on it; with -d, the bridges of the
                              removed ends
     --check                diagnose the bridge (and <target>)
     --json                 print each set-up as a CNI result (JSON), not a line;
                              with --check, the findings as JSON
 -v, --verbose              say what was done, on stderr

 -h, --help                 display this help
 -V, --version              display version

For more details see docs/mkbridge.md.
`

func run(e *applet.Env) error {
	if applet.Secure() {
		return runUser(e)
	}
	p, done, err := parse(e)
	if err != nil || done {
		return err
	}
	a := &actor{e: e, p: p}
	switch p.mode {
	case modeCheck:
		return a.check()
	case modeDelete:
		return a.delete()
	case modeDeleteBridge:
		if err := netsetup.DeleteBridge(p.config.Bridge); err != nil {
			return failure(err)
		}
		a.logf("removed bridge %s", p.config.Bridge)
		return nil
	}
	return a.setup()
}

// actor carries out a plan.
type actor struct {
	e *applet.Env
	p *plan
	// owner, when set, is the unprivileged user each port is made for
	// (user.go); then pre holds each target, opened beforehand.
	owner *netsetup.Owner
	pre   []opened
	rule  string // the policy's rule that gives the owner their ports
}

// opened is a target opened beforehand, or why it could not be.
type opened struct {
	t   *netsetup.Target
	err error
}

// logf says what was done, on stderr, with -v.
func (a *actor) logf(format string, args ...any) {
	if a.p.verbose {
		fmt.Fprintf(a.e.Stderr, "%s: %s\n", a.e.Name, fmt.Sprintf(format, args...))
	}
}

// warn prints the failure err on stderr, and the run goes on.
func (a *actor) warn(err error) {
	msg, _ := applet.Status(a.e.Name, failure(err))
	io.WriteString(a.e.Stderr, msg)
}

// setup sets up each target in turn, with one Host: a line on stdout for
// each that succeeds, the message on stderr for each that fails (rolled
// back, and the next goes on); any failure exits 1.
func (a *actor) setup() error {
	host, err := netsetup.NewHost()
	if err != nil {
		return failure(err)
	}
	defer host.Close()
	failed := false
	for i, spec := range a.p.targets {
		line, err := a.setupOne(host, i, spec)
		if err != nil {
			a.warn(err)
			failed = true
			continue
		}
		fmt.Fprintln(a.e.Stdout, line)
	}
	if failed {
		return &applet.Exit{Code: 1}
	}
	return nil
}

// setupOne opens (or with --new creates) the target spec and sets it up:
// its line, "<host-ifname> <addr>/<prefix>...". A namespace it created is
// removed again when the set-up fails.
func (a *actor) setupOne(host *netsetup.Host, i int, spec string) (string, error) {
	var t *netsetup.Target
	var err error
	if a.p.newNs {
		t, err = netsetup.NewNetns(spec)
	} else {
		t, err = a.target(i, spec)
	}
	if err != nil {
		return "", err
	}
	defer t.Close()
	c := a.p.config
	c.Target, c.Owner = t, a.owner
	res, err := host.Setup(&c)
	if err != nil {
		if a.p.newNs {
			t.Close()
			netsetup.RemoveNetns(spec)
		}
		return "", a.explain(t, err)
	}
	if a.p.newNs {
		a.logf("created network namespace %s", t.Name)
	}
	if res.BridgeCreated {
		a.logf("created bridge %s", c.Bridge)
	}
	a.logf("%s: %s in %s, host end %s on %s", c.IfName, joinPrefixes(res.Addrs, ", "), t.Name, res.HostIfName, c.Bridge)
	for _, g := range res.Gateways {
		a.logf("default route via %s", g)
	}
	if res.NATCreated {
		a.logf("NAT rules for %s created", c.Bridge)
	}
	if a.p.json {
		return cniResult(c, t.Name, res)
	}
	return res.HostIfName + " " + joinPrefixes(res.Addrs, " "), nil
}

// cniResult is what was set up as a CNI ADD's result (spec 1.1.0): the
// bridge, the host end, the container end in sandbox, the addresses with
// the gateway of their family, the default routes.
func cniResult(c netsetup.Config, sandbox string, res *netsetup.Result) (string, error) {
	r := &cni.Result{Interfaces: []cni.Interface{
		{Name: c.Bridge, Mac: res.BridgeMAC.String()},
		{Name: res.HostIfName, Mac: res.HostMAC.String()},
		{Name: c.IfName, Mac: res.IfMAC.String(), MTU: c.MTU, Sandbox: sandbox},
	}}
	for _, ad := range res.Addrs {
		ip := cni.IPConfig{Interface: 2, Address: ad}
		for _, g := range res.Gateways {
			if g.Is4() == ad.Addr().Is4() {
				ip.Gateway = g
			}
		}
		r.IPs = append(r.IPs, ip)
	}
	for _, g := range res.Gateways {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if g.Is6() {
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		r.Routes = append(r.Routes, cni.Route{Dst: dst, GW: g})
	}
	b, err := r.Encode("1.1.0")
	return string(b), err
}

func joinPrefixes(ps []netip.Prefix, sep string) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, sep)
}

// target is the i-th target, spec: opened beforehand (the unprivileged
// path), else opened now.
func (a *actor) target(i int, spec string) (*netsetup.Target, error) {
	if a.pre != nil {
		return a.pre[i].t, a.pre[i].err
	}
	return netsetup.OpenTarget(spec)
}

// isHostEnd reports whether the operand arg of -d names a host end.
func (a *actor) isHostEnd(arg string) bool {
	if netsetup.IsPID(arg) || strings.ContainsRune(arg, '/') {
		return false
	}
	if a.owner != nil {
		return !isNetnsName(arg)
	}
	return netsetup.IsHostEnd(arg)
}

// teardownHost and teardownTarget remove a host end, or the ends whose
// peer is in a target: the user's only, on the unprivileged path.
func (a *actor) teardownHost(host *netsetup.Host, name string) (*netsetup.Removed, error) {
	if a.owner != nil {
		return host.TeardownOwnedHost(name, a.owner.UID)
	}
	return host.TeardownHost(name)
}

func (a *actor) teardownTarget(host *netsetup.Host, t *netsetup.Target) ([]netsetup.Removed, error) {
	if a.owner != nil {
		return host.TeardownOwned(t, a.owner.UID)
	}
	return host.TeardownTarget(t)
}

// delete removes the network of each target or host end (all are checked
// first: one bad argument removes nothing); with --delete-bridge then the
// bridges they were on, when no port is left. What a killed run left is
// recognised and removed too: a namespace of --new whose set-up never
// finished goes with its ports, an empty /run/netns file is removed. A
// target with nothing to remove (or whose removal fails) is reported and
// the next goes on, as in a set-up; the exit status is then 1.
func (a *actor) delete() error {
	items, err := a.deleteItems()
	defer func() {
		for _, it := range items {
			it.t.Close()
		}
	}()
	if err != nil {
		return err
	}
	host, err := netsetup.NewHost()
	if err != nil {
		return failure(err)
	}
	defer host.Close()
	var bridges []string
	seen := map[string]bool{}
	failed := false
	for _, it := range items {
		removed, err := a.deleteItem(host, it)
		if err != nil {
			a.warn(err)
			failed = true
		}
		for _, r := range removed {
			if r.Bridge == "" {
				a.logf("removed %s (a set-up killed before it was on a bridge)", r.HostIfName)
				continue
			}
			a.logf("removed %s (bridge %s)", r.HostIfName, r.Bridge)
			if !seen[r.Bridge] {
				seen[r.Bridge] = true
				bridges = append(bridges, r.Bridge)
			}
		}
	}
	if a.p.deleteBridge {
		for _, b := range bridges {
			err := netsetup.DeleteBridge(b)
			switch {
			case netsetup.BridgeKept(err):
				a.logf("bridge %s kept: %s", b, applet.Message(err))
			case err != nil:
				a.warn(err)
				failed = true
			default:
				a.logf("removed bridge %s", b)
			}
		}
	}
	if failed {
		return &applet.Exit{Code: 1}
	}
	return nil
}

// item is an operand of -d: a host end, a target, or an empty file left
// in /run/netns.
type item struct {
	host  string
	t     *netsetup.Target
	empty string
}

// deleteItems opens every operand of -d, or fails on the first bad one.
func (a *actor) deleteItems() ([]item, error) {
	items := make([]item, 0, len(a.p.targets))
	for i, arg := range a.p.targets {
		if a.isHostEnd(arg) {
			items = append(items, item{host: arg})
			continue
		}
		t, err := a.target(i, arg)
		if err != nil {
			if a.owner == nil && netsetup.EmptyNetns(arg) {
				items = append(items, item{empty: arg})
				continue
			}
			return items, failure(err)
		}
		items = append(items, item{t: t})
	}
	return items, nil
}

// deleteItem removes what the operand it names: the host end, the ends
// whose peer is in the target (and the target's pin when --new left it
// unfinished), or the empty file.
func (a *actor) deleteItem(host *netsetup.Host, it item) ([]netsetup.Removed, error) {
	switch {
	case it.host != "":
		r, err := a.teardownHost(host, it.host)
		if err != nil {
			return nil, err
		}
		return []netsetup.Removed{*r}, nil
	case it.empty != "":
		if done, err := netsetup.RemoveEmptyNetns(it.empty); err != nil || !done {
			return nil, err
		}
		a.logf("removed %s (empty: left by a run killed before it pinned a namespace there)", netsetup.TargetPath(it.empty))
		return nil, nil
	}
	removed, err := a.teardownTarget(host, it.t)
	if err != nil || a.owner != nil {
		return removed, err
	}
	pin, err := netsetup.RemoveUnfinished(it.t)
	if pin != "" {
		a.logf("removed %s (mkbridge --new did not finish it)", pin)
	}
	return removed, err
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

// check diagnoses the bridge (and the target).
func (a *actor) check() error {
	var t *netsetup.Target
	if len(a.p.targets) == 1 {
		var err error
		if t, err = netsetup.OpenTarget(a.p.targets[0]); err != nil {
			return failure(err)
		}
		defer t.Close()
	}
	findings, err := netsetup.Check(a.p.config.Bridge, a.p.config.NAT, t)
	if err != nil {
		return failure(err)
	}
	bad := 0
	for _, f := range findings {
		if f.Problem {
			bad++
		}
	}
	if a.p.json {
		writeFindings(a.e.Stdout, a.p.config.Bridge, t, findings, bad)
	} else {
		report(a.e.Stdout, findings)
	}
	if bad > 0 {
		return &applet.Exit{Code: 1}
	}
	return nil
}

// report prints the findings, one a line.
func report(w io.Writer, findings []netsetup.Finding) {
	for _, f := range findings {
		tag := "ok"
		if f.Problem {
			tag = "PROBLEM"
		}
		fmt.Fprintf(w, "%-7s %s\n", tag, f.Text)
	}
}
