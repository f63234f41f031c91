package cni

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
)

// Result is an ADD's result, whatever the version it is read from or
// written in (section 5). Encode gives it the shape of one version.
type Result struct {
	Interfaces []Interface
	IPs        []IPConfig
	Routes     []Route
	DNS        DNS
}

// Interface is one interface of a result.
type Interface struct {
	Name       string
	Mac        string
	MTU        int    // 1.1.0
	Sandbox    string // the namespace path; "" on the host
	SocketPath string // 1.1.0
	PciID      string // 1.1.0
}

// IPConfig is one address of a result.
type IPConfig struct {
	Interface int // index into Interfaces; -1: none
	Address   netip.Prefix
	Gateway   netip.Addr
}

// Route is one route of a result.
type Route struct {
	Dst netip.Prefix
	GW  netip.Addr
	// 1.1.0
	MTU, AdvMSS, Priority, Table int
	Scope                        *int
}

// DNS is a result's (and a configuration's) DNS settings, passed through.
type DNS struct {
	Nameservers []string `json:"nameservers,omitempty"`
	Domain      string   `json:"domain,omitempty"`
	Search      []string `json:"search,omitempty"`
	Options     []string `json:"options,omitempty"`
}

// IsEmpty reports whether d says nothing.
func (d DNS) IsEmpty() bool {
	return len(d.Nameservers) == 0 && d.Domain == "" && len(d.Search) == 0 && len(d.Options) == 0
}

// The wire forms. One set of structs with omitempty serves every version:
// Encode fills only the fields the version has.
type wireResult struct {
	CNIVersion string          `json:"cniVersion"`
	Interfaces []wireInterface `json:"interfaces,omitempty"`
	IPs        []wireIP        `json:"ips,omitempty"`
	Routes     []wireRoute     `json:"routes,omitempty"`
	DNS        *DNS            `json:"dns,omitempty"`

	// 0.1.0 and 0.2.0 only: refused on input.
	IP4 json.RawMessage `json:"ip4,omitempty"`
	IP6 json.RawMessage `json:"ip6,omitempty"`
}

type wireInterface struct {
	Name       string `json:"name"`
	Mac        string `json:"mac,omitempty"`
	MTU        int    `json:"mtu,omitempty"`
	Sandbox    string `json:"sandbox,omitempty"`
	SocketPath string `json:"socketPath,omitempty"`
	PciID      string `json:"pciID,omitempty"`
}

type wireIP struct {
	Version   string `json:"version,omitempty"` // 0.3.x, 0.4.0: "4" or "6"
	Interface *int   `json:"interface,omitempty"`
	Address   string `json:"address"`
	Gateway   string `json:"gateway,omitempty"`
}

type wireRoute struct {
	Dst      string `json:"dst"`
	GW       string `json:"gw,omitempty"`
	MTU      int    `json:"mtu,omitempty"`
	AdvMSS   int    `json:"advmss,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Table    *int   `json:"table,omitempty"`
	Scope    *int   `json:"scope,omitempty"`
}

// Encode returns r as JSON in the shape of spec version v (one of
// Versions): 0.3.0, 0.3.1 and 0.4.0 give each address a "version"; 1.0.0
// drops it; 1.1.0 adds the interface MTU, socket path and PCI ID and the
// route attributes.
func (r *Result) Encode(v string) ([]byte, error) {
	if !Supported(v) {
		return nil, Errorf(CodeIncompatibleVersion, "incompatible CNI version %s: supported are %v", v, Versions())
	}
	v11 := AtLeast(v, "1.1.0")
	w := wireResult{CNIVersion: v}
	for _, i := range r.Interfaces {
		wi := wireInterface{Name: i.Name, Mac: i.Mac, Sandbox: i.Sandbox}
		if v11 {
			wi.MTU, wi.SocketPath, wi.PciID = i.MTU, i.SocketPath, i.PciID
		}
		w.Interfaces = append(w.Interfaces, wi)
	}
	for _, ip := range r.IPs {
		wi := wireIP{Address: ip.Address.String()}
		if ip.Interface >= 0 {
			n := ip.Interface
			wi.Interface = &n
		}
		if ip.Gateway.IsValid() {
			wi.Gateway = ip.Gateway.String()
		}
		if !AtLeast(v, "1.0.0") {
			wi.Version = "4"
			if ip.Address.Addr().Is6() {
				wi.Version = "6"
			}
		}
		w.IPs = append(w.IPs, wi)
	}
	for _, rt := range r.Routes {
		wr := wireRoute{Dst: rt.Dst.String()}
		if rt.GW.IsValid() {
			wr.GW = rt.GW.String()
		}
		if v11 {
			wr.MTU, wr.AdvMSS, wr.Priority, wr.Scope = rt.MTU, rt.AdvMSS, rt.Priority, rt.Scope
			if rt.Table != 0 {
				t := rt.Table
				wr.Table = &t
			}
		}
		w.Routes = append(w.Routes, wr)
	}
	if !r.DNS.IsEmpty() {
		d := r.DNS
		w.DNS = &d
	}
	return json.Marshal(w)
}

// ParseResult reads a result (a prevResult, or a delegated plugin's output)
// of any of Versions. An IPAM plugin's result has no interfaces and no
// "interface" in its addresses (Interface -1).
func ParseResult(b []byte) (*Result, error) {
	var w wireResult
	if err := decodeStrict(b, &w); err != nil {
		return nil, &Error{Code: CodeDecode, Msg: "cannot decode the result", Details: err.Error()}
	}
	if w.IP4 != nil || w.IP6 != nil {
		return nil, &Error{Code: CodeIncompatibleVersion, Msg: "a result of CNI version 0.1.0 or 0.2.0 (ip4, ip6) is not supported"}
	}
	r := &Result{}
	for _, i := range w.Interfaces {
		r.Interfaces = append(r.Interfaces, Interface{Name: i.Name, Mac: i.Mac, MTU: i.MTU, Sandbox: i.Sandbox, SocketPath: i.SocketPath, PciID: i.PciID})
	}
	for _, ip := range w.IPs {
		c := IPConfig{Interface: -1}
		if ip.Interface != nil {
			if *ip.Interface < 0 || *ip.Interface >= len(r.Interfaces) {
				return nil, &Error{Code: CodeDecode, Msg: fmt.Sprintf("result: address %s names interface %d of %d", ip.Address, *ip.Interface, len(r.Interfaces))}
			}
			c.Interface = *ip.Interface
		}
		p, err := netip.ParsePrefix(ip.Address)
		if err != nil {
			return nil, &Error{Code: CodeDecode, Msg: "result: invalid address '" + ip.Address + "'"}
		}
		c.Address = p
		if ip.Gateway != "" {
			if c.Gateway, err = netip.ParseAddr(ip.Gateway); err != nil {
				return nil, &Error{Code: CodeDecode, Msg: "result: invalid gateway '" + ip.Gateway + "'"}
			}
		}
		r.IPs = append(r.IPs, c)
	}
	for _, rt := range w.Routes {
		x, err := parseRoute(rt)
		if err != nil {
			return nil, err
		}
		r.Routes = append(r.Routes, x)
	}
	if w.DNS != nil {
		r.DNS = *w.DNS
	}
	return r, nil
}

func parseRoute(rt wireRoute) (Route, error) {
	dst, err := netip.ParsePrefix(rt.Dst)
	if err != nil {
		return Route{}, &Error{Code: CodeDecode, Msg: "result: invalid route destination '" + rt.Dst + "'"}
	}
	r := Route{Dst: dst.Masked(), MTU: rt.MTU, AdvMSS: rt.AdvMSS, Priority: rt.Priority, Scope: rt.Scope}
	if rt.Table != nil {
		r.Table = *rt.Table
	}
	if rt.GW != "" {
		if r.GW, err = netip.ParseAddr(rt.GW); err != nil {
			return Route{}, &Error{Code: CodeDecode, Msg: "result: invalid route gateway '" + rt.GW + "'"}
		}
	}
	return r, nil
}

// decodeStrict decodes one JSON value and nothing after it.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}
