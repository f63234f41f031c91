package cni

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nsbox/nsbox/pkg/jsonv"
)

// Conf is a plugin's request configuration (section 3): the keys the
// protocol defines, parsed, and every key as a JSON value for the plugin
// to take its own with Take. Unused then names the keys nobody took, so
// that a plugin can refuse what it does not implement (code 2) instead of
// ignoring it.
//
// Keys are matched as encoding/json matched them when it decoded the
// configuration: exactly at the top level and in runtimeConfig, ipam and
// args.cni (objects of any keys); without regard to case in the objects of
// fixed keys (dns, args, each valid attachment, results). Of duplicate
// keys the last counts.
type Conf struct {
	Version string // cniVersion
	Name    string // the network's name
	Type    string // the plugin's name
	Raw     []byte // the configuration as read, for a delegated plugin

	PrevResult       *Result                 // nil: none given
	RuntimeConfig    map[string]*jsonv.Value // capability arguments
	IPAMType         string                  // ipam.type; "": no ipam section
	IPAM             map[string]*jsonv.Value // the ipam section's keys
	DNS              DNS
	ValidAttachments []Attachment // GC: cni.dev/valid-attachments
	HasValid         bool         // GC: the key was there

	fields map[string]*jsonv.Value
	taken  map[string]bool
}

// Attachment is one (container ID, interface) pair of a GC's valid
// attachments.
type Attachment struct {
	ContainerID string // containerID
	IfName      string // ifname
}

// Keys of the protocol (or of a network configuration list, which a
// runtime may pass through): taken by ParseConf.
func protocolKey(k string) bool {
	switch k {
	case "cniVersion", "cniVersions", "name", "type", "prevResult", "runtimeConfig", "args",
		"capabilities", "ipam", "dns", "disableCheck", "disableGC", "loadOnlyInlinedPlugins":
		return true
	}
	return strings.HasPrefix(k, "cni.dev/") // reserved for the runtime
}

// ParseConf parses a request configuration. Not a JSON object, or a
// protocol key of the wrong type: code 6. A cniVersion that is not
// supported: code 1.
func ParseConf(b []byte) (*Conf, error) {
	c := &Conf{Raw: b, taken: map[string]bool{}}
	doc, err := jsonv.Parse(b)
	if err != nil || doc.Kind != jsonv.Object {
		details := "not a JSON object"
		if err != nil {
			details = err.Error()
		}
		return nil, &Error{Code: CodeDecode, Msg: "cannot decode the network configuration", Details: details}
	}
	c.fields = doc.Map()
	for k := range c.fields {
		if protocolKey(k) {
			c.taken[k] = true
		}
	}
	for _, f := range []struct {
		key string
		v   any
	}{{"cniVersion", &c.Version}, {"name", &c.Name}, {"type", &c.Type}, {"runtimeConfig", &c.RuntimeConfig}, {"dns", &c.DNS}, {"ipam", &c.IPAM}} {
		if err := c.decode(f.key, f.v); err != nil {
			return nil, err
		}
	}
	if c.Version == "" {
		c.Version = "0.1.0" // what a configuration without it means
	}
	if !Supported(c.Version) {
		return nil, &Error{Code: CodeIncompatibleVersion, Msg: "incompatible CNI version " + c.Version,
			Details: "supported versions: " + strings.Join(Versions(), ", ")}
	}
	if v, ok := c.fields["ipam"]; ok && !v.IsNull() {
		if t, ok := c.IPAM["type"]; ok {
			if err := decodeField("ipam.type", t, &c.IPAMType); err != nil {
				return nil, err
			}
		}
		if c.IPAMType == "" {
			return nil, &Error{Code: CodeInvalidConfig, Msg: "ipam: no type"}
		}
	}
	if v, ok := c.fields["prevResult"]; ok && !v.IsNull() {
		r, err := resultOf(v)
		if err != nil {
			e := err.(*Error)
			return nil, &Error{Code: e.Code, Msg: "prevResult: " + e.Msg, Details: e.Details}
		}
		c.PrevResult = r
	}
	if v, ok := c.fields["cni.dev/valid-attachments"]; ok {
		c.HasValid = true
		if err := decodeField("cni.dev/valid-attachments", v, &c.ValidAttachments); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Conf) decode(key string, dst any) error {
	v, ok := c.fields[key]
	if !ok {
		return nil
	}
	return decodeField(key, v, dst)
}

// decodeField stores v, the value of key, in dst as encoding/json did: a
// value of the wrong type is code 6.
func decodeField(key string, v *jsonv.Value, dst any) error {
	if err := decodeInto(v, dst); err != nil {
		return &Error{Code: CodeDecode, Msg: "cannot decode '" + key + "': " + string(v.Raw), Details: err.Error()}
	}
	return nil
}

// decodeInto stores v in dst, one of the types of the configuration's
// values; null leaves a string, bool or int as it was.
func decodeInto(v *jsonv.Value, dst any) error {
	switch d := dst.(type) {
	case *string:
		return v.DecodeString(d)
	case *bool:
		return v.DecodeBool(d)
	case *int:
		return v.DecodeInt(d)
	case *[]string:
		return v.DecodeStrings(d)
	case *map[string]*jsonv.Value:
		return v.DecodeMap(d)
	case *DNS:
		return d.decode(v)
	case *[]Attachment:
		return decodeAttachments(v, d)
	}
	panic(fmt.Sprintf("cni: cannot decode into %T", dst))
}

func decodeAttachments(v *jsonv.Value, as *[]Attachment) error {
	return jsonv.DecodeObjects(v, as, func(a *Attachment, name string, m *jsonv.Value) error {
		if name == "containerID" {
			return m.DecodeString(&a.ContainerID)
		}
		return m.DecodeString(&a.IfName)
	}, "containerID", "ifname")
}

// Take decodes the plugin key key into dst (a *string, *bool, *int or
// *[]string; left as it is when the key is absent or null) and marks it
// used; it reports whether the key was given. A value of the wrong JSON
// type: code 6.
func (c *Conf) Take(key string, dst any) (bool, error) {
	v, ok := c.fields[key]
	if !ok {
		return false, nil
	}
	c.taken[key] = true
	if v.IsNull() {
		return false, nil
	}
	return true, decodeField(key, v, dst)
}

// Unused returns the keys of the configuration nobody took, sorted, each
// with its value: "key=value".
func (c *Conf) Unused() []string {
	var out []string
	for k, v := range c.fields {
		if !c.taken[k] {
			out = append(out, k+"="+string(v.Raw))
		}
	}
	sort.Strings(out)
	return out
}

// Args returns the "args" key's "cni" object (the convention for
// per-attachment arguments in the configuration: "args": {"cni": {...}}).
func (c *Conf) Args() (map[string]*jsonv.Value, error) {
	v, ok := c.fields["args"]
	if !ok {
		return nil, nil
	}
	var args map[string]*jsonv.Value
	err := v.DecodeFields(func(_ string, m *jsonv.Value) error { return m.DecodeMap(&args) }, "cni")
	if err != nil {
		return nil, &Error{Code: CodeDecode, Msg: "cannot decode 'args': " + string(v.Raw), Details: err.Error()}
	}
	return args, nil
}

// VersionResult is the output of VERSION for a request of version v
// (the latest when the request names none).
func VersionResult(v string) ([]byte, error) {
	if v == "" {
		vs := Versions()
		v = vs[len(vs)-1]
	}
	var w jsonv.Writer
	w.BeginObject()
	w.Key("cniVersion")
	w.String(v)
	w.Key("supportedVersions")
	w.Strings(Versions())
	w.EndObject()
	return w.Bytes(), nil
}

// EncodeError is the error object e as a plugin prints it, in version v
// (the latest when v is not one this package speaks).
func EncodeError(v string, e *Error) []byte {
	if !Supported(v) {
		vs := Versions()
		v = vs[len(vs)-1]
	}
	var w jsonv.Writer
	w.BeginObject()
	w.Key("cniVersion")
	w.String(v)
	w.Key("code")
	w.Uint(uint64(e.Code))
	w.Key("msg")
	w.String(e.Msg)
	if e.Details != "" {
		w.Key("details")
		w.String(e.Details)
	}
	w.EndObject()
	return w.Bytes()
}
