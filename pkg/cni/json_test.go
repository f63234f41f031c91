package cni

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nsbox/nsbox/pkg/jsonv"
)

// The wire forms as encoding/json wrote and read them before this package
// had its own: the oracle of the tests below.
type jsonResult struct {
	CNIVersion string          `json:"cniVersion"`
	Interfaces []jsonInterface `json:"interfaces,omitempty"`
	IPs        []jsonIP        `json:"ips,omitempty"`
	Routes     []jsonRoute     `json:"routes,omitempty"`
	DNS        *jsonDNS        `json:"dns,omitempty"`
	IP4        json.RawMessage `json:"ip4,omitempty"`
	IP6        json.RawMessage `json:"ip6,omitempty"`
}

type jsonInterface struct {
	Name       string `json:"name"`
	Mac        string `json:"mac,omitempty"`
	MTU        int    `json:"mtu,omitempty"`
	Sandbox    string `json:"sandbox,omitempty"`
	SocketPath string `json:"socketPath,omitempty"`
	PciID      string `json:"pciID,omitempty"`
}

type jsonIP struct {
	Version   string `json:"version,omitempty"`
	Interface *int   `json:"interface,omitempty"`
	Address   string `json:"address"`
	Gateway   string `json:"gateway,omitempty"`
}

type jsonRoute struct {
	Dst      string `json:"dst"`
	GW       string `json:"gw,omitempty"`
	MTU      int    `json:"mtu,omitempty"`
	AdvMSS   int    `json:"advmss,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Table    *int   `json:"table,omitempty"`
	Scope    *int   `json:"scope,omitempty"`
}

type jsonDNS struct {
	Nameservers []string `json:"nameservers,omitempty"`
	Domain      string   `json:"domain,omitempty"`
	Search      []string `json:"search,omitempty"`
	Options     []string `json:"options,omitempty"`
}

type jsonError struct {
	CNIVersion string `json:"cniVersion"`
	Code       uint   `json:"code"`
	Msg        string `json:"msg"`
	Details    string `json:"details,omitempty"`
}

// Every version's result is what encoding/json's Marshal writes for its
// wire form, byte for byte: read back with encoding/json and written
// again, it is the same text. Strings that need escaping included.
func TestEncodeIsMarshal(t *testing.T) {
	zero := 0
	r := sample()
	r.Interfaces = append(r.Interfaces, Interface{Name: `a"b\c<d>&e`, Mac: "\x01\t\n\u2028\u2029\x7f", Sandbox: "/run/netns/é😀",
		SocketPath: "/s", PciID: "0000:00:01.0"})
	r.Routes = append(r.Routes, Route{Dst: netip.MustParsePrefix("fd00::/8"), AdvMSS: 1, Priority: -2, Table: 3, Scope: &zero})
	r.DNS = DNS{Nameservers: []string{"a"}, Domain: "<x>", Search: []string{"s", ""}, Options: []string{"ndots:5"}}
	for _, v := range Versions() {
		b, err := r.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		var w jsonResult
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatalf("%s: %s: %v", v, b, err)
		}
		if again, _ := json.Marshal(w); !bytes.Equal(again, b) {
			t.Errorf("%s:\n%s\nencoding/json:\n%s", v, b, again)
		}
	}
	for _, e := range []*Error{{Code: 7, Msg: "bad <value>", Details: "a & b"}, {Code: 100, Msg: "x"}} {
		want, _ := json.Marshal(jsonError{"1.0.0", e.Code, e.Msg, e.Details})
		if got := EncodeError("1.0.0", e); !bytes.Equal(got, want) {
			t.Errorf("EncodeError: %s, encoding/json %s", got, want)
		}
	}
	// A string that is not UTF-8 (from the environment: CNI_IFNAME) as
	// Marshal writes it.
	e := &Error{Code: 4, Msg: "CNI_COMMAND: unknown command '\xff<'"}
	want, _ := json.Marshal(jsonError{"1.1.0", e.Code, e.Msg, ""})
	if got := EncodeError("", e); !bytes.Equal(got, want) {
		t.Errorf("EncodeError: %s, encoding/json %s", got, want)
	}
}

// The decoding rules shared with encoding/json, and the two of its
// accidents that pkg/jsonv refuses.
func TestDecodeRules(t *testing.T) {
	for _, c := range []struct {
		name, in string
		code     uint
		check    func(*Conf) bool
	}{
		{"keys of fixed objects without regard to case", `{"cniVersion":"1.0.0","dns":{"NameServers":["a"],"DOMAIN":"d"},
			"cni.dev/valid-attachments":[{"ContainerId":"c","IFNAME":"eth0"}],"prevResult":{"CNIVersion":"1.0.0","IPS":[{"Address":"10.0.0.2/24"}]}}`,
			0, func(c *Conf) bool {
				return c.DNS.Nameservers[0] == "a" && c.DNS.Domain == "d" && c.ValidAttachments[0] == Attachment{"c", "eth0"} && len(c.PrevResult.IPs) == 1
			}},
		{"top-level keys exactly", `{"cniVersion":"1.0.0","Name":"n"}`, 0, func(c *Conf) bool {
			return c.Name == "" && reflect.DeepEqual(c.Unused(), []string{`Name="n"`})
		}},
		{"the last of duplicates", `{"cniVersion":"0.2.0","name":"a","cniVersion":"1.0.0","name":"b","dns":{"domain":"x","Domain":"y"}}`, 0,
			func(c *Conf) bool { return c.Version == "1.0.0" && c.Name == "b" && c.DNS.Domain == "y" }},
		{"a wrong type among duplicates", `{"cniVersion":"1.0.0","dns":{"domain":1,"domain":"y"}}`, CodeDecode, nil},
		{"null for absent", `{"cniVersion":"1.0.0","name":null,"dns":null,"ipam":null,"prevResult":null,"runtimeConfig":null,
			"cni.dev/valid-attachments":[null,{"ifname":null}]}`, 0,
			func(c *Conf) bool {
				return c.PrevResult == nil && c.IPAMType == "" && c.HasValid && len(c.ValidAttachments) == 2
			}},
		{"ip4 in a result, even null", `{"cniVersion":"1.0.0","prevResult":{"IP4":null}}`, CodeIncompatibleVersion, nil},
		{"an integer written as one", `{"cniVersion":"1.0.0","prevResult":{"interfaces":[{"name":"a","mtu":1.0}]}}`, CodeDecode, nil},
		{"no data after the value (encoding/json's Decoder took a ']')", `{"cniVersion":"1.0.0"} ]`, CodeDecode, nil},
		{"UTF-8 only (encoding/json read U+FFFD)", "{\"cniVersion\":\"1.0.0\",\"name\":\"\xff\"}", CodeDecode, nil},
	} {
		conf, err := ParseConf([]byte(c.in))
		if code(err) != c.code || (err == nil && !c.check(conf)) {
			t.Errorf("%s: %v (code %d), want code %d; %+v", c.name, err, code(err), c.code, conf)
		}
	}
	// A syntax error says where.
	_, err := ParseConf([]byte("{\"cniVersion\":\"1.0.0\",\n \"mtu\": 1400,\n}"))
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeDecode || e.Details != "line 3, column 1: unexpected '}', expecting a string (an object's key)" {
		t.Errorf("syntax error: %#v", err)
	}
}

// FuzzParseResult compares ParseResult with encoding/json reading the
// same text into the wire form: the same accepted, with the same values.
// Where they part by design it checks the refusal instead: text that is
// not UTF-8, data after the value, and a key given twice in an object of
// a result (encoding/json merged the two objects).
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		`{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:02","mtu":1400,"sandbox":"/run/netns/x","socketPath":"/s","pciID":"p"}],
			"ips":[{"address":"10.1.0.5/24","interface":0,"gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1","mtu":1,"advmss":2,"priority":3,"table":4,"scope":0}],
			"dns":{"nameservers":["10.1.0.1"],"domain":"d","search":["s"],"options":["o"]}}`,
		`{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/24","gateway":"10.0.0.1"}]}`,
		`null`, `[1]`, `{"ip6":null}`, `{"ips":[null],"interfaces":[null],"routes":null}`, `{"ips":[{"address":"10.0.0.2/24","Interface":null}]}`,
		`{"routes":[{"dst":"10.0.0.0/8","table":null,"scope":-1}]} ]`, `{"IPS":[{"ADDRESS":"10.0.0.2/24"}],"ips":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseResult(b)
		var w jsonResult
		d := json.NewDecoder(bytes.NewReader(b))
		jerr := d.Decode(&w)
		doc, perr := jsonv.Parse(b)
		switch {
		case !utf8.Valid(b) || (jerr == nil && !json.Valid(b)):
			if err == nil {
				t.Fatalf("%q: accepted", b)
			}
			return
		case perr == nil && foldDuplicates(doc):
			return
		case (jerr != nil) != (code(err) == CodeDecode && strings.HasPrefix(err.Error(), "cannot decode the result")):
			t.Fatalf("%q: %v; encoding/json: %v", b, err, jerr)
		case jerr != nil:
			return
		case (w.IP4 != nil || w.IP6 != nil) != (code(err) == CodeIncompatibleVersion):
			t.Fatalf("%q: %v; encoding/json read ip4 or ip6: %v", b, err, w.IP4 != nil || w.IP6 != nil)
		case err != nil:
			return
		}
		want := jsonResult{CNIVersion: "1.1.0", DNS: w.DNS}
		for _, i := range got.Interfaces {
			want.Interfaces = append(want.Interfaces, jsonInterface(i))
		}
		if !reflect.DeepEqual(want.Interfaces, w.Interfaces) && len(w.Interfaces)+len(want.Interfaces) > 0 {
			t.Fatalf("%q: interfaces %+v, encoding/json %+v", b, got.Interfaces, w.Interfaces)
		}
		if len(got.IPs) != len(w.IPs) || len(got.Routes) != len(w.Routes) || !reflect.DeepEqual(got.DNS, dnsOf(w.DNS)) {
			t.Fatalf("%q: %+v, encoding/json %+v", b, got, w)
		}
		for i, ip := range got.IPs {
			if ip.Address.String() != w.IPs[i].Address || (w.IPs[i].Interface == nil) != (ip.Interface < 0) {
				t.Fatalf("%q: address %d: %+v, encoding/json %+v", b, i, ip, w.IPs[i])
			}
		}
		for i, rt := range got.Routes {
			if (rt.Scope == nil) != (w.Routes[i].Scope == nil) || rt.MTU != w.Routes[i].MTU || rt.Priority != w.Routes[i].Priority {
				t.Fatalf("%q: route %d: %+v, encoding/json %+v", b, i, rt, w.Routes[i])
			}
		}
	})
}

func dnsOf(d *jsonDNS) DNS {
	if d == nil {
		return DNS{}
	}
	return DNS(*d)
}

// foldDuplicates reports whether an object in v has two keys equal
// without regard to case.
func foldDuplicates(v *jsonv.Value) bool {
	for i := range v.Elems {
		if foldDuplicates(&v.Elems[i]) {
			return true
		}
	}
	for i := range v.Members {
		for j := 0; j < i; j++ {
			if strings.EqualFold(v.Members[i].Key, v.Members[j].Key) {
				return true
			}
		}
		if foldDuplicates(&v.Members[i].Value) {
			return true
		}
	}
	return false
}
