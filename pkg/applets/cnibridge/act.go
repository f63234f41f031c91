package cnibridge

import (
	"errors"
	"io"
	"net/netip"
	"strings"

	"github.com/nsbox/nsbox/pkg/cni"
)

// backend makes and removes the network (netsetup.go: over pkg/netsetup; the
// tests: a fake). Every method takes the whole plan.
type backend interface {
	// Add makes the attachment with these addresses (from the IPAM plugin;
	// none: the own allocator's), gateways and routes.
	Add(p *Plan, a *Addressing) (*Made, error)
	// Del removes the attachment; gone already is no error.
	Del(p *Plan) error
	// Check returns what is wrong with the attachment p.Prev describes.
	Check(p *Plan) ([]string, error)
	// GC removes the network's attachments that are not in p.Valid.
	GC(p *Plan) error
	// Status fails (code 50) when an ADD could not be served.
	Status(p *Plan) error
}

// Addressing is what the IPAM plugin gave: the container's addresses,
// their gateways, and the routes.
type Addressing struct {
	Addrs    []netip.Prefix
	Gateways []netip.Addr // per family, for the default route and the bridge
	Routes   []cni.Route
	DNS      cni.DNS
}

// Made is what Add made, for the result.
type Made struct {
	Bridge, BridgeMAC string
	HostIf, HostMAC   string
	IfMAC             string
	MTU               int
	Addrs             []netip.Prefix
	Gateways          []netip.Addr // the gateway of each family (may be none)
	Routes            []cni.Route  // the routes added inside
}

// act carries out p: the output to print (nil: none).
func act(p *Plan, stderr io.Writer) ([]byte, error) {
	switch p.Command {
	case cni.CmdAdd:
		return add(p, stderr)
	case cni.CmdDel:
		return nil, del(p, stderr)
	case cni.CmdCheck:
		return nil, check(p, stderr)
	case cni.CmdGC:
		return nil, gc(p, stderr)
	case cni.CmdStatus:
		if p.Delegate != "" {
			if _, err := delegate(p, cni.CmdStatus, stderr); err != nil {
				return nil, err
			}
		}
		return nil, network.Status(p)
	}
	return nil, cni.Errorf(cni.CodeInvalidEnv, "CNI_COMMAND: unknown command '%s'", p.Command)
}

// delegate runs the IPAM plugin with command.
func delegate(p *Plan, command string, stderr io.Writer) ([]byte, error) {
	path, err := cni.FindPlugin(p.Delegate, getenv("CNI_PATH"))
	if err != nil {
		return nil, err
	}
	return cni.Delegate(path, p.Environ, command, p.Raw, stderr)
}

// add: the IPAM plugin's addresses (when delegated), the network, the
// result. A failure after the IPAM plugin's ADD releases its addresses
// (its DEL), as section 4 asks.
func add(p *Plan, stderr io.Writer) (out []byte, err error) {
	var a *Addressing
	if p.Delegate != "" {
		var raw []byte
		if raw, err = delegate(p, cni.CmdAdd, stderr); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				delegate(p, cni.CmdDel, stderr)
			}
		}()
		if a, err = addressing(p, raw); err != nil {
			return nil, err
		}
	}
	m, err := network.Add(p, a)
	if err != nil {
		return nil, err
	}
	r := result(p, a, m)
	if out, err = r.Encode(p.Version); err != nil {
		network.Del(p)
		return nil, err
	}
	return out, nil
}

// addressing reads the IPAM plugin's result.
func addressing(p *Plan, raw []byte) (*Addressing, error) {
	r, err := cni.ParseResult(raw)
	if err != nil {
		var ce *cni.Error
		errors.As(err, &ce)
		return nil, &cni.Error{Code: ce.Code, Msg: p.Delegate + ": " + ce.Msg, Details: ce.Details}
	}
	if len(r.IPs) == 0 {
		return nil, cni.Errorf(cni.CodeDelegate, "%s: no address in its result", p.Delegate)
	}
	a := &Addressing{Routes: r.Routes, DNS: r.DNS}
	seen := map[bool]bool{}
	for _, ip := range r.IPs {
		a.Addrs = append(a.Addrs, ip.Address)
		if ip.Gateway.IsValid() && !seen[ip.Gateway.Is4()] {
			seen[ip.Gateway.Is4()] = true
			a.Gateways = append(a.Gateways, ip.Gateway)
		}
	}
	return a, nil
}

// result is the ADD's result: prevResult with the bridge, the host end
// and the container end appended (in this order, as the reference bridge
// plugin gives them, so that chained plugins find the host end), the
// addresses on the container end, the routes, and the DNS settings of the
// configuration (else the IPAM plugin's).
func result(p *Plan, a *Addressing, m *Made) *cni.Result {
	r := &cni.Result{}
	if p.Prev != nil {
		*r = *p.Prev
		r.Interfaces = append([]cni.Interface(nil), p.Prev.Interfaces...)
		r.IPs = append([]cni.IPConfig(nil), p.Prev.IPs...)
		r.Routes = append([]cni.Route(nil), p.Prev.Routes...)
	}
	base := len(r.Interfaces)
	r.Interfaces = append(r.Interfaces,
		cni.Interface{Name: m.Bridge, Mac: m.BridgeMAC},
		cni.Interface{Name: m.HostIf, Mac: m.HostMAC},
		cni.Interface{Name: p.IfName, Mac: m.IfMAC, MTU: m.MTU, Sandbox: p.Netns})
	for _, addr := range m.Addrs {
		ip := cni.IPConfig{Interface: base + 2, Address: addr}
		for _, g := range m.Gateways {
			if g.Is4() == addr.Addr().Is4() {
				ip.Gateway = g
			}
		}
		r.IPs = append(r.IPs, ip)
	}
	r.Routes = append(r.Routes, m.Routes...)
	switch {
	case !p.DNS.IsEmpty():
		r.DNS = p.DNS
	case a != nil && !a.DNS.IsEmpty():
		r.DNS = a.DNS
	}
	return r
}

// del removes the attachment, then releases the IPAM plugin's addresses.
// Both are done even when the other fails; DEL of what is gone succeeds.
func del(p *Plan, stderr io.Writer) error {
	err := network.Del(p)
	if p.Delegate != "" {
		if _, derr := delegate(p, cni.CmdDel, stderr); derr != nil && err == nil {
			err = derr
		}
	}
	return err
}

// check asks the IPAM plugin first, then compares the live attachment
// with prevResult.
func check(p *Plan, stderr io.Writer) error {
	if p.Prev == nil {
		return cni.Errorf(cni.CodeInvalidConfig, "CHECK needs a prevResult (the result of the ADD)")
	}
	if p.Delegate != "" {
		if _, err := delegate(p, cni.CmdCheck, stderr); err != nil {
			return err
		}
	}
	problems, err := network.Check(p)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &cni.Error{Code: cni.CodeCheck, Msg: problems[0], Details: strings.Join(problems, "; ")}
	}
	return nil
}

// gc removes the stale attachments and forwards the GC to the IPAM
// plugin, even when the first failed; both errors are reported.
func gc(p *Plan, stderr io.Writer) error {
	err := network.GC(p)
	if p.Delegate != "" {
		if _, derr := delegate(p, cni.CmdGC, stderr); derr != nil {
			if err == nil {
				return derr
			}
			return &cni.Error{Code: cni.CodeFailed, Msg: err.Error(), Details: derr.Error()}
		}
	}
	return err
}
