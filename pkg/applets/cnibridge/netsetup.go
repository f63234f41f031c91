package cnibridge

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/cni"
	"github.com/nsbox/nsbox/pkg/netsetup"
	"github.com/nsbox/nsbox/pkg/reexec"
)

// network is the backend of the applet (a variable for the tests).
var network backend = netsetupBackend{}

// netsetupBackend makes the network with pkg/netsetup, as mkbridge does.
type netsetupBackend struct{}

// config is the netsetup set-up of the plan's ADD with the IPAM plugin's
// addressing a (nil: the own allocator's): what it is, and the gateway of
// each family for the result.
func config(p *Plan, a *Addressing) (*netsetup.Config, []netip.Addr) {
	c := &netsetup.Config{
		Bridge: p.Bridge, IfName: p.IfName, MTU: p.MTU, MAC: p.MAC, NAT: p.IPMasq,
		Attachment: netsetup.AttachmentName(p.Network, p.ContainerID, p.IfName),
		Hairpin:    p.Hairpin, Isolated: p.PortIsolation, Promisc: p.Promisc, DAD: p.EnableDAD,
		NoGateway: !p.IsDefaultGateway, Addrs: p.IPs,
	}
	var gws []netip.Addr
	var routes []cni.Route
	switch {
	case a != nil:
		c.Addrs = nil
		for _, ad := range a.Addrs {
			c.Addrs = append(c.Addrs, netsetup.AddrReq{Addr: ad.Addr(), Bits: ad.Bits()})
			for _, g := range a.Gateways {
				if ad.Masked().Contains(g) && p.IsGateway {
					c.BridgeAddrs = append(c.BridgeAddrs, netip.PrefixFrom(g, ad.Bits()))
				}
			}
		}
		gws, routes = a.Gateways, a.Routes
	case p.Pool != nil:
		c.Pools = []netsetup.Pool{{Subnet: p.Pool.Subnet, First: p.Pool.Start, Last: p.Pool.End}}
		gws, routes = []netip.Addr{p.Pool.Gateway}, p.Routes
		if p.IsGateway {
			c.BridgeAddrs = []netip.Prefix{netip.PrefixFrom(p.Pool.Gateway, p.Pool.Subnet.Bits())}
		}
	default:
		c.BridgeAddrs = []netip.Prefix{netip.MustParsePrefix(DefaultBridgeAddr)}
	}
	c.AddBridgeAddrs = p.IsGateway && (a != nil || p.Pool != nil)
	c.Gateways = gws
	for _, rt := range routes {
		gw := rt.GW
		if !gw.IsValid() {
			gw = familyOf(gws, rt.Dst.Addr().Is4())
		}
		if p.IsDefaultGateway && rt.Dst.Bits() == 0 && gw == familyOf(gws, rt.Dst.Addr().Is4()) {
			continue // the default route, which isDefaultGateway adds
		}
		c.Routes = append(c.Routes, netsetup.Route{Dst: rt.Dst, GW: gw})
	}
	return c, gws
}

// familyOf is the address of gws of that family (IPv4: is4), or none.
func familyOf(gws []netip.Addr, is4 bool) netip.Addr {
	for _, g := range gws {
		if g.Is4() == is4 {
			return g
		}
	}
	return netip.Addr{}
}

func (netsetupBackend) Add(p *Plan, a *Addressing) (*Made, error) {
	t, err := netsetup.OpenTarget(p.Netns)
	if err != nil {
		return nil, toCNI(err)
	}
	defer t.Close()
	c, gws := config(p, a)
	c.Target = t
	res, err := netsetup.Setup(c)
	if err != nil {
		return nil, toCNI(err)
	}
	m := &Made{Bridge: p.Bridge, BridgeMAC: macString(res.BridgeMAC), HostIf: res.HostIfName, HostMAC: macString(res.HostMAC),
		IfMAC: macString(res.IfMAC), MTU: p.MTU, Addrs: res.Addrs}
	if a == nil && p.Pool == nil {
		for _, b := range res.BridgeAddrs { // the bridge's address is the gateway
			gws = append(gws, b.Addr())
		}
	}
	for _, ad := range res.Addrs {
		if g := familyOf(gws, ad.Addr().Is4()); g.IsValid() && (p.IsGateway || a != nil) {
			m.Gateways = append(m.Gateways, g)
		}
	}
	for _, g := range res.Gateways {
		dst := netip.MustParsePrefix("0.0.0.0/0")
		if g.Is6() {
			dst = netip.MustParsePrefix("::/0")
		}
		m.Routes = append(m.Routes, cni.Route{Dst: dst, GW: g})
	}
	for _, rt := range c.Routes {
		m.Routes = append(m.Routes, cni.Route{Dst: rt.Dst, GW: rt.GW})
	}
	return m, nil
}

func macString(m net.HardwareAddr) string {
	if len(m) == 0 {
		return ""
	}
	return m.String()
}

// Del releases the attachment's record at once (it is then gone for ADD,
// DEL and GC), then leaves the deletion of its host end, which waits for
// an RCU grace period in the kernel, to a process of its own (the stage
// reapStage) that DEL does not wait for; where that cannot be started, it
// deletes the host end itself.
func (netsetupBackend) Del(p *Plan) error {
	idx, host, found, err := netsetup.ReleaseAttachment(netsetup.AttachmentName(p.Network, p.ContainerID, p.IfName))
	if err != nil || !found {
		return toCNI(err)
	}
	if startReaper(idx, host) == nil {
		return nil
	}
	return toCNI(netsetup.DeleteHostEnd(idx, host))
}

// reapStage deletes a released host end: the link index and its name in
// the environment variable envReap.
const (
	reapStage = "cni-reap"
	envReap   = "_NSBOX_REAP"
)

// startReaper starts the stage reapStage in a session of its own, its
// standard streams /dev/null, and does not wait for it.
func startReaper(index int, hostIf string) error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	fd := null.Fd()
	_, err = syscall.ForkExec("/proc/self/exe", []string{Name}, &syscall.ProcAttr{
		Env:   []string{reexec.Marker + "=" + reapStage, envReap + "=" + strconv.Itoa(index) + " " + hostIf},
		Files: []uintptr{fd, fd, fd},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	return err
}

// reap is the stage reapStage.
func reap() int {
	idx, host, ok := strings.Cut(os.Getenv(envReap), " ")
	n, err := strconv.Atoi(idx)
	if !ok || err != nil {
		return 2
	}
	if netsetup.DeleteHostEnd(n, host) != nil {
		return 1
	}
	return 0
}

func (netsetupBackend) GC(p *Plan) error {
	keep := map[string]bool{}
	for _, v := range p.Valid {
		keep[netsetup.AttachmentName(p.Network, v.ContainerID, v.IfName)] = true
	}
	_, err := netsetup.GCAttachments(p.Network, func(n string) bool { return keep[n] })
	return toCNI(err)
}

func (netsetupBackend) Status(p *Plan) error {
	st, err := netsetup.StateOfBridge(p.Bridge)
	switch {
	case err != nil:
		return &cni.Error{Code: cni.CodeNotAvailable, Msg: failure(err)}
	case st == netsetup.BridgeNotABridge:
		return cni.Errorf(cni.CodeNotAvailable, "%s exists and is not a bridge: no ADD can attach to it", p.Bridge)
	case st == netsetup.BridgeDown:
		return cni.Errorf(cni.CodeLimitedConnectivity, "bridge %s is down: its containers are cut off (an ADD brings it up)", p.Bridge)
	}
	return nil
}

func (netsetupBackend) Check(p *Plan) ([]string, error) {
	t, err := netsetup.OpenTarget(p.Netns)
	if err != nil {
		return nil, toCNI(err)
	}
	defer t.Close()
	lv, err := netsetup.InspectAttachment(netsetup.AttachmentName(p.Network, p.ContainerID, p.IfName), t, p.IfName)
	if err != nil {
		return nil, toCNI(err)
	}
	problems := compareLive(p, lv)
	findings, err := netsetup.Check(p.Bridge, p.IPMasq, nil)
	if err != nil {
		return nil, toCNI(err)
	}
	for _, f := range findings {
		if f.Problem {
			problems = append(problems, f.Text)
		}
	}
	return problems, nil
}

// toCNI turns a netsetup error into the error object: its code by kind
// (101 in use, 102 no address left, 103 exists, 11 transient, else 100),
// its message as mkbridge prints it.
func toCNI(err error) error {
	if err == nil {
		return nil
	}
	var ce *cni.Error
	if errors.As(err, &ce) {
		return ce
	}
	code := uint(cni.CodeFailed)
	switch netsetup.KindOf(err) {
	case netsetup.KindInUse:
		code = cni.CodeAddrInUse
	case netsetup.KindNoFree:
		code = cni.CodeNoAddrLeft
	case netsetup.KindExists:
		code = cni.CodeExists
	case netsetup.KindTransient:
		code = cni.CodeTryAgain
	}
	return &cni.Error{Code: code, Msg: failure(err)}
}

// failure is "what: why", the errno spelt as strerror spells it.
func failure(err error) string {
	var ne *netsetup.Error
	if errors.As(err, &ne) {
		return ne.Op + ": " + applet.Strerror(ne.Err)
	}
	return applet.Message(err)
}
