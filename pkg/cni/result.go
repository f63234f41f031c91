package cni

import (
	"fmt"
	"net/netip"

	"github.com/nsbox/nsbox/pkg/jsonv"
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
	Nameservers []string
	Domain      string
	Search      []string
	Options     []string
}

// IsEmpty reports whether d says nothing.
func (d DNS) IsEmpty() bool {
	return len(d.Nameservers) == 0 && d.Domain == "" && len(d.Search) == 0 && len(d.Options) == 0
}

// decode reads the object v into d; null resets d.
func (d *DNS) decode(v *jsonv.Value) error {
	if v.IsNull() {
		*d = DNS{}
	}
	return v.DecodeFields(func(name string, m *jsonv.Value) error {
		switch name {
		case "nameservers":
			return m.DecodeStrings(&d.Nameservers)
		case "domain":
			return m.DecodeString(&d.Domain)
		case "search":
			return m.DecodeStrings(&d.Search)
		}
		return m.DecodeStrings(&d.Options)
	}, "nameservers", "domain", "search", "options")
}

func (d DNS) write(w *jsonv.Writer) {
	w.BeginObject()
	optStrings(w, "nameservers", d.Nameservers)
	optString(w, "domain", d.Domain)
	optStrings(w, "search", d.Search)
	optStrings(w, "options", d.Options)
	w.EndObject()
}

// The writers of optional keys: nothing for "", 0 or none.
func optString(w *jsonv.Writer, key, s string) {
	if s != "" {
		w.Key(key)
		w.String(s)
	}
}

func optInt(w *jsonv.Writer, key string, n int) {
	if n != 0 {
		w.Key(key)
		w.Int(int64(n))
	}
}

// optList writes an array of n values, each by write(i).
func optList(w *jsonv.Writer, key string, n int, write func(i int)) {
	if n > 0 {
		w.Key(key)
		w.BeginArray()
		for i := 0; i < n; i++ {
			write(i)
		}
		w.EndArray()
	}
}

func optStrings(w *jsonv.Writer, key string, ss []string) {
	if len(ss) > 0 {
		w.Key(key)
		w.Strings(ss)
	}
}

// Encode returns r as JSON in the shape of spec version v (one of
// Versions): 0.3.0, 0.3.1 and 0.4.0 give each address a "version"; 1.0.0
// drops it; 1.1.0 adds the interface MTU, socket path and PCI ID and the
// route attributes. Keys without a value are left out.
func (r *Result) Encode(v string) ([]byte, error) {
	if !Supported(v) {
		return nil, Errorf(CodeIncompatibleVersion, "incompatible CNI version %s: supported are %v", v, Versions())
	}
	v10, v11 := AtLeast(v, "1.0.0"), AtLeast(v, "1.1.0")
	var w jsonv.Writer
	w.BeginObject()
	w.Key("cniVersion")
	w.String(v)
	optList(&w, "interfaces", len(r.Interfaces), func(i int) { r.Interfaces[i].write(&w, v11) })
	optList(&w, "ips", len(r.IPs), func(i int) { r.IPs[i].write(&w, v10) })
	optList(&w, "routes", len(r.Routes), func(i int) { r.Routes[i].write(&w, v11) })
	if !r.DNS.IsEmpty() {
		w.Key("dns")
		r.DNS.write(&w)
	}
	w.EndObject()
	return w.Bytes(), nil
}

func (i Interface) write(w *jsonv.Writer, v11 bool) {
	w.BeginObject()
	w.Key("name")
	w.String(i.Name)
	optString(w, "mac", i.Mac)
	if v11 {
		optInt(w, "mtu", i.MTU)
	}
	optString(w, "sandbox", i.Sandbox)
	if v11 {
		optString(w, "socketPath", i.SocketPath)
		optString(w, "pciID", i.PciID)
	}
	w.EndObject()
}

func (ip IPConfig) write(w *jsonv.Writer, v10 bool) {
	w.BeginObject()
	if !v10 {
		w.Key("version")
		if ip.Address.Addr().Is6() {
			w.String("6")
		} else {
			w.String("4")
		}
	}
	if ip.Interface >= 0 {
		w.Key("interface")
		w.Int(int64(ip.Interface))
	}
	w.Key("address")
	w.String(ip.Address.String())
	if ip.Gateway.IsValid() {
		w.Key("gateway")
		w.String(ip.Gateway.String())
	}
	w.EndObject()
}

func (rt Route) write(w *jsonv.Writer, v11 bool) {
	w.BeginObject()
	w.Key("dst")
	w.String(rt.Dst.String())
	if rt.GW.IsValid() {
		w.Key("gw")
		w.String(rt.GW.String())
	}
	if v11 {
		optInt(w, "mtu", rt.MTU)
		optInt(w, "advmss", rt.AdvMSS)
		optInt(w, "priority", rt.Priority)
		optInt(w, "table", rt.Table)
		if rt.Scope != nil {
			w.Key("scope")
			w.Int(int64(*rt.Scope))
		}
	}
	w.EndObject()
}

// The wire form of a result of any version, as read: the values with
// their JSON types checked, not yet their meaning.
type wireResult struct {
	Interfaces []Interface
	IPs        []wireIP
	Routes     []wireRoute
	DNS        DNS
	IP46       bool // ip4 or ip6, of 0.1.0 and 0.2.0: refused
}

type wireIP struct {
	Interface        *int
	Address, Gateway string
}

type wireRoute struct {
	Dst, GW      string
	MTU, AdvMSS  int
	Priority     int
	Table, Scope *int
}

// decodeIntPtr stores the number v in *p, or nil for null.
func decodeIntPtr(v *jsonv.Value, p **int) error {
	if v.IsNull() {
		*p = nil
		return nil
	}
	var n int
	if err := v.DecodeInt(&n); err != nil {
		return err
	}
	*p = &n
	return nil
}

func (w *wireResult) decode(v *jsonv.Value) error {
	var version string // must be a string; the caller knows which version it is
	return v.DecodeFields(func(name string, m *jsonv.Value) error {
		switch name {
		case "cniVersion":
			return m.DecodeString(&version)
		case "interfaces":
			return jsonv.DecodeObjects(m, &w.Interfaces, decodeInterface, "name", "mac", "mtu", "sandbox", "socketPath", "pciID")
		case "ips":
			return jsonv.DecodeObjects(m, &w.IPs, decodeIP, "version", "interface", "address", "gateway")
		case "routes":
			return jsonv.DecodeObjects(m, &w.Routes, decodeRoute, "dst", "gw", "mtu", "advmss", "priority", "table", "scope")
		case "dns":
			return w.DNS.decode(m)
		}
		w.IP46 = true // ip4, ip6: any value, null too
		return nil
	}, "cniVersion", "interfaces", "ips", "routes", "dns", "ip4", "ip6")
}

func decodeInterface(i *Interface, name string, m *jsonv.Value) error {
	switch name {
	case "name":
		return m.DecodeString(&i.Name)
	case "mac":
		return m.DecodeString(&i.Mac)
	case "mtu":
		return m.DecodeInt(&i.MTU)
	case "sandbox":
		return m.DecodeString(&i.Sandbox)
	case "socketPath":
		return m.DecodeString(&i.SocketPath)
	}
	return m.DecodeString(&i.PciID)
}

func decodeIP(ip *wireIP, name string, m *jsonv.Value) error {
	switch name {
	case "version":
		var v string // "4" or "6" before 1.0.0: checked to be a string, not used
		return m.DecodeString(&v)
	case "interface":
		return decodeIntPtr(m, &ip.Interface)
	case "address":
		return m.DecodeString(&ip.Address)
	}
	return m.DecodeString(&ip.Gateway)
}

func decodeRoute(rt *wireRoute, name string, m *jsonv.Value) error {
	switch name {
	case "dst":
		return m.DecodeString(&rt.Dst)
	case "gw":
		return m.DecodeString(&rt.GW)
	case "mtu":
		return m.DecodeInt(&rt.MTU)
	case "advmss":
		return m.DecodeInt(&rt.AdvMSS)
	case "priority":
		return m.DecodeInt(&rt.Priority)
	case "table":
		return decodeIntPtr(m, &rt.Table)
	}
	return decodeIntPtr(m, &rt.Scope)
}

// ParseResult reads a result (a prevResult, or a delegated plugin's output)
// of any of Versions. An IPAM plugin's result has no interfaces and no
// "interface" in its addresses (Interface -1). Keys are matched without
// regard to case, unknown keys ignored, null taken for absent.
func ParseResult(b []byte) (*Result, error) {
	doc, err := jsonv.Parse(b)
	if err != nil {
		return nil, &Error{Code: CodeDecode, Msg: "cannot decode the result", Details: err.Error()}
	}
	return resultOf(doc)
}

// resultOf reads a result from its parsed JSON.
func resultOf(doc *jsonv.Value) (*Result, error) {
	var w wireResult
	if err := w.decode(doc); err != nil {
		return nil, &Error{Code: CodeDecode, Msg: "cannot decode the result", Details: err.Error()}
	}
	if w.IP46 {
		return nil, &Error{Code: CodeIncompatibleVersion, Msg: "a result of CNI version 0.1.0 or 0.2.0 (ip4, ip6) is not supported"}
	}
	r := &Result{Interfaces: append([]Interface(nil), w.Interfaces...), DNS: w.DNS}
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
