package cnibridge

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/pkg/cni"
	"github.com/nsbox/nsbox/pkg/jsonv"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

// DefaultBridge and DefaultBridgeAddr are mkbridge's defaults, so that
// mkbridge and nsbox-bridge share a bridge unless told otherwise.
const (
	DefaultBridge     = "nsbox0"
	DefaultBridgeAddr = "10.88.0.1/16"
)

// OwnIPAM is the type of the ipam section that selects nsbox's own
// allocator (as no ipam section does).
const OwnIPAM = "nsbox"

// Plan is everything one call is to do, decided from the environment and
// the configuration before anything is touched.
type Plan struct {
	Command     string
	Version     string // the configuration's cniVersion
	Network     string // its name
	ContainerID string
	IfName      string
	Netns       string
	Raw         []byte   // the configuration, for the IPAM plugin
	Environ     []string // the environment, for the IPAM plugin

	Bridge           string
	IsGateway        bool // the bridge has the gateway address
	IsDefaultGateway bool // a default route via the gateway
	IPMasq           bool
	MTU              int
	Hairpin          bool
	Promisc          bool
	PortIsolation    bool
	EnableDAD        bool
	MAC              net.HardwareAddr
	IPs              []netsetup.AddrReq // asked for (own allocator only)

	Delegate string // the IPAM plugin's type; "": nsbox's own allocator
	Pool     *Pool  // own allocator with a subnet; nil: the bridge's subnets
	Routes   []cni.Route

	DNS   cni.DNS
	Prev  *cni.Result
	Valid []cni.Attachment // GC
}

// Pool is the own allocator's subnet: addresses from Start to End (both
// within Subnet), the gateway not among them.
type Pool struct {
	Subnet     netip.Prefix
	Start, End netip.Addr
	Gateway    netip.Addr
}

// cniErr is a *cni.Error with code and message.
func cniErr(code uint, format string, args ...any) error { return cni.Errorf(code, format, args...) }

// parse makes the Plan of a call: env is the protocol's parameters (already
// checked), conf the configuration read from stdin.
func parse(env cni.Env, conf []byte) (*Plan, error) {
	c, err := cni.ParseConf(conf)
	if err != nil {
		return nil, err
	}
	p := &Plan{Command: env.Command, Version: c.Version, Network: c.Name, ContainerID: env.ContainerID,
		IfName: env.IfName, Netns: env.Netns, Raw: conf, Bridge: DefaultBridge, DNS: c.DNS, Prev: c.PrevResult, Valid: c.ValidAttachments}
	if c.Type != "" && c.Type != Name {
		// A runtime runs the plugin of the configuration's type: this is a
		// configuration meant for another one.
		return nil, cniErr(cni.CodeInvalidConfig, "type is '%s', not %s", c.Type, Name)
	}
	if err := p.checkCommand(); err != nil {
		return nil, err
	}
	if env.IfName != "" {
		if err := netsetup.CheckIfName("interface", env.IfName); err != nil {
			return nil, &cni.Error{Code: cni.CodeInvalidEnv, Msg: "CNI_IFNAME: " + err.Error()}
		}
	}
	for _, step := range []func(*cni.Conf) error{p.takeBridge, p.takeOptions, p.takeIPAM, p.takeRuntime} {
		if err := step(c); err != nil {
			return nil, err
		}
	}
	if err := p.takeArgs(c, env.Args); err != nil {
		return nil, err
	}
	if p.IPMasq && !p.IsGateway && (p.Pool != nil || p.Delegate != "") {
		// The masquerading is of the bridge's subnets (mkbridge's --nat):
		// without the gateway on the bridge there would be none.
		return nil, &cni.Error{Code: cni.CodeUnsupportedField, Msg: "unsupported field in the network configuration: ipMasq=true without isGateway",
			Details: "nsbox-bridge masquerades the subnets of the bridge's addresses: give the bridge the gateway (isGateway)"}
	}
	if u := c.Unused(); len(u) > 0 {
		return nil, &cni.Error{Code: cni.CodeUnsupportedField, Msg: "unsupported field in the network configuration: " + u[0],
			Details: "nsbox-bridge does not implement " + strings.Join(u, ", ")}
	}
	return p, nil
}

// checkCommand refuses a command the configuration's version does not
// have: CHECK came with 0.4.0, STATUS and GC with 1.1.0.
func (p *Plan) checkCommand() error {
	since := map[string]string{cni.CmdCheck: "0.4.0", cni.CmdStatus: "1.1.0", cni.CmdGC: "1.1.0"}[p.Command]
	if since != "" && !cni.AtLeast(p.Version, since) {
		return cniErr(cni.CodeIncompatibleVersion, "config version %s does not allow %s (since %s)", p.Version, p.Command, since)
	}
	return nil
}

func (p *Plan) takeBridge(c *cni.Conf) error {
	if _, err := c.Take("bridge", &p.Bridge); err != nil {
		return err
	}
	if err := netsetup.CheckIfName("bridge", p.Bridge); err != nil {
		return cniErr(cni.CodeInvalidConfig, "bridge: %s", err)
	}
	return nil
}

func (p *Plan) takeOptions(c *cni.Conf) error {
	for _, f := range []struct {
		key string
		v   any
	}{
		{"isGateway", &p.IsGateway}, {"isDefaultGateway", &p.IsDefaultGateway}, {"ipMasq", &p.IPMasq},
		{"mtu", &p.MTU}, {"hairpinMode", &p.Hairpin}, {"promiscMode", &p.Promisc},
		{"portIsolation", &p.PortIsolation}, {"enabledad", &p.EnableDAD},
	} {
		if _, err := c.Take(f.key, f.v); err != nil {
			return err
		}
	}
	if p.IsDefaultGateway {
		p.IsGateway = true // as the reference bridge plugin: the default route's gateway is the bridge
	}
	if p.MTU != 0 && (p.MTU < 68 || p.MTU > 65535) {
		return cniErr(cni.CodeInvalidConfig, "invalid mtu %d (68 to 65535)", p.MTU)
	}
	var backend string
	if _, err := c.Take("ipMasqBackend", &backend); err != nil {
		return err
	}
	switch backend {
	case "", "nftables":
	case "iptables":
		return &cni.Error{Code: cni.CodeUnsupportedField, Msg: `unsupported field in the network configuration: ipMasqBackend="iptables"`,
			Details: "nsbox-bridge masquerades with nftables only"}
	default:
		return cniErr(cni.CodeInvalidConfig, "invalid ipMasqBackend '%s' (nftables)", backend)
	}
	return nil
}

// takeIPAM reads the ipam section: none or type nsbox, the own
// allocator with its keys; any other type, a plugin to delegate to.
func (p *Plan) takeIPAM(c *cni.Conf) error {
	if c.IPAMType != "" && c.IPAMType != OwnIPAM {
		p.Delegate = c.IPAMType
		return nil
	}
	var subnet, start, end, gw string
	for _, k := range sortedKeys(c.IPAM) {
		v := c.IPAM[k]
		var err error
		switch k {
		case "type":
		case "subnet":
			err = v.DecodeString(&subnet)
		case "rangeStart":
			err = v.DecodeString(&start)
		case "rangeEnd":
			err = v.DecodeString(&end)
		case "gateway":
			err = v.DecodeString(&gw)
		case "routes":
			err = p.parseRoutes(v)
		default:
			return &cni.Error{Code: cni.CodeUnsupportedField, Msg: "unsupported field in the network configuration: ipam." + k + "=" + string(v.Raw),
				Details: "ipam type nsbox takes subnet, rangeStart, rangeEnd, gateway, routes"}
		}
		if err != nil {
			return decodeErr("ipam."+k, v, err)
		}
	}
	if subnet == "" {
		if start != "" || end != "" || gw != "" {
			return cniErr(cni.CodeInvalidConfig, "ipam: rangeStart, rangeEnd and gateway need a subnet")
		}
		return nil
	}
	pool, err := parsePool(subnet, start, end, gw)
	if err != nil {
		return err
	}
	p.Pool = pool
	return nil
}

// parsePool checks the own allocator's subnet and range: the range and
// the gateway inside the subnet, the gateway by default its first host.
func parsePool(subnet, start, end, gw string) (*Pool, error) {
	sub, err := netip.ParsePrefix(subnet)
	if err != nil || sub.Addr().Zone() != "" {
		return nil, cniErr(cni.CodeInvalidConfig, "ipam: invalid subnet '%s'", subnet)
	}
	sub = sub.Masked()
	if (sub.Addr().Is4() && sub.Bits() > 30) || (sub.Addr().Is6() && sub.Bits() > 126) {
		return nil, cniErr(cni.CodeInvalidConfig, "ipam: subnet %s is too small to allocate from", sub)
	}
	pool := &Pool{Subnet: sub, Start: sub.Addr().Next()}
	pool.Gateway = pool.Start
	pool.End = lastHost(sub)
	for _, f := range []struct {
		name, s string
		a       *netip.Addr
	}{{"rangeStart", start, &pool.Start}, {"rangeEnd", end, &pool.End}, {"gateway", gw, &pool.Gateway}} {
		if f.s == "" {
			continue
		}
		a, err := netip.ParseAddr(f.s)
		if err != nil || a.Zone() != "" {
			return nil, cniErr(cni.CodeInvalidConfig, "ipam: invalid %s '%s'", f.name, f.s)
		}
		if !sub.Contains(a) || a == sub.Addr() || (a.Is4() && a == lastHost(sub).Next()) {
			return nil, cniErr(cni.CodeInvalidConfig, "ipam: %s %s is not a host address of %s", f.name, a, sub)
		}
		*f.a = a
	}
	if pool.End.Less(pool.Start) {
		return nil, cniErr(cni.CodeInvalidConfig, "ipam: rangeEnd %s is before rangeStart %s", pool.End, pool.Start)
	}
	return pool, nil
}

// lastHost is the highest host address of p: the broadcast address's
// predecessor for IPv4, the last address for IPv6.
func lastHost(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	if a.Is4() {
		return a.Prev()
	}
	return a
}

// sortedKeys are m's keys in order: the first refusal of several is
// always the same.
func sortedKeys(m map[string]*jsonv.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decodeErr is err, of decoding key's value v: a *cni.Error as it is, else
// code 6.
func decodeErr(key string, v *jsonv.Value, err error) error {
	if e, ok := err.(*cni.Error); ok {
		return e
	}
	return &cni.Error{Code: cni.CodeDecode, Msg: "cannot decode '" + key + "': " + string(v.Raw), Details: err.Error()}
}

// parseRoutes reads ipam.routes: [{"dst": ..., "gw": ...}, ...].
func (p *Plan) parseRoutes(v *jsonv.Value) error {
	type route struct{ Dst, GW string }
	var rs []route
	err := jsonv.DecodeObjects(v, &rs, func(r *route, name string, m *jsonv.Value) error {
		if name == "dst" {
			return m.DecodeString(&r.Dst)
		}
		return m.DecodeString(&r.GW)
	}, "dst", "gw")
	if err != nil {
		return err
	}
	for _, r := range rs {
		dst, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			return cniErr(cni.CodeInvalidConfig, "ipam: invalid route destination '%s'", r.Dst)
		}
		rt := cni.Route{Dst: dst.Masked()}
		if r.GW != "" {
			if rt.GW, err = netip.ParseAddr(r.GW); err != nil || rt.GW.Is4() != dst.Addr().Is4() {
				return cniErr(cni.CodeInvalidConfig, "ipam: invalid route gateway '%s' for %s", r.GW, r.Dst)
			}
		}
		p.Routes = append(p.Routes, rt)
	}
	return nil
}

// takeRuntime reads runtimeConfig (the capabilities mac and ips) and
// args.cni (the same keys, by convention), each in the order of its keys.
func (p *Plan) takeRuntime(c *cni.Conf) error {
	args, err := c.Args()
	if err != nil {
		return err
	}
	for _, src := range []struct {
		name string
		m    map[string]*jsonv.Value
	}{{"args.cni", args}, {"runtimeConfig", c.RuntimeConfig}} {
		for _, k := range sortedKeys(src.m) {
			v := src.m[k]
			var err error
			switch k {
			case "mac":
				var s string
				if err = v.DecodeString(&s); err == nil {
					err = p.setMAC(src.name+".mac", s)
				}
			case "ips":
				var ips []string
				if err = v.DecodeStrings(&ips); err == nil {
					p.IPs = nil // runtimeConfig, read last, wins
					err = p.addIPs(src.name+".ips", ips)
				}
			default:
				return &cni.Error{Code: cni.CodeUnsupportedField, Msg: "unsupported field in the network configuration: " + src.name + "." + k + "=" + string(v.Raw),
					Details: "nsbox-bridge takes the capabilities mac and ips"}
			}
			if err != nil {
				return decodeErr(src.name+"."+k, v, err)
			}
		}
	}
	return nil
}

// takeArgs reads CNI_ARGS: IP and MAC (used when the configuration gives
// none), the Kubernetes pod keys (ignored), and IgnoreUnknown; another key
// is refused unless IgnoreUnknown is true.
func (p *Plan) takeArgs(c *cni.Conf, s string) error {
	args, err := cni.ParseArgs(s)
	if err != nil {
		return err
	}
	ignore := false
	for _, a := range args {
		if a.Key == "IgnoreUnknown" {
			ignore, _ = strconv.ParseBool(a.Value)
		}
	}
	for _, a := range args {
		switch a.Key {
		case "IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID":
		case "MAC":
			if p.MAC == nil {
				if err := p.setMAC("CNI_ARGS MAC", a.Value); err != nil {
					return err
				}
			}
		case "IP":
			if len(p.IPs) == 0 {
				if err := p.addIPs("CNI_ARGS IP", strings.Split(a.Value, ",")); err != nil {
					return err
				}
			}
		default:
			if !ignore {
				return &cni.Error{Code: cni.CodeUnsupportedField, Msg: "unsupported argument in CNI_ARGS: " + a.Key + "=" + a.Value,
					Details: "nsbox-bridge takes IP and MAC (IgnoreUnknown=1 ignores the others)"}
			}
		}
	}
	return nil
}

func (p *Plan) setMAC(what, s string) error {
	hw, err := netsetup.ParseMAC(s)
	if err != nil {
		return cniErr(cni.CodeInvalidConfig, "%s: %s", what, err)
	}
	p.MAC = hw
	return nil
}

func (p *Plan) addIPs(what string, ips []string) error {
	for _, s := range ips {
		r, err := netsetup.ParseAddrReq(strings.TrimSpace(s))
		if err != nil || r.Auto {
			return cniErr(cni.CodeInvalidConfig, "%s: invalid address '%s'", what, s)
		}
		r.Addr = r.Addr.Unmap()
		if p.Pool != nil {
			if r.Addr.Is4() == p.Pool.Subnet.Addr().Is4() && !p.Pool.Subnet.Contains(r.Addr) {
				return cniErr(cni.CodeInvalidConfig, "%s: %s is not in the subnet %s", what, r.Addr, p.Pool.Subnet)
			}
			if r.Bits < 0 && r.Addr.Is4() == p.Pool.Subnet.Addr().Is4() {
				r.Bits = p.Pool.Subnet.Bits()
			}
		}
		p.IPs = append(p.IPs, r)
	}
	return nil
}

// String is the plan in one line, for the tests' messages.
func (p *Plan) String() string {
	return fmt.Sprintf("%s %s/%s bridge=%s gw=%v defgw=%v delegate=%q pool=%+v ips=%v mac=%s",
		p.Command, p.ContainerID, p.IfName, p.Bridge, p.IsGateway, p.IsDefaultGateway, p.Delegate, p.Pool, p.IPs, p.MAC)
}
