package cni

import (
	"encoding/json"
	"sort"
	"strings"
)

// Conf is a plugin's request configuration (section 3): the keys the
// protocol defines, parsed, and every key as raw JSON for the plugin to
// take its own with Take. Unused then names the keys nobody took, so that
// a plugin can refuse what it does not implement (code 2) instead of
// ignoring it.
type Conf struct {
	Version string // cniVersion
	Name    string // the network's name
	Type    string // the plugin's name
	Raw     []byte // the configuration as read, for a delegated plugin

	PrevResult       *Result                    // nil: none given
	RuntimeConfig    map[string]json.RawMessage // capability arguments
	IPAMType         string                     // ipam.type; "": no ipam section
	IPAM             map[string]json.RawMessage // the ipam section's keys
	DNS              DNS
	ValidAttachments []Attachment // GC: cni.dev/valid-attachments
	HasValid         bool         // GC: the key was there

	fields map[string]json.RawMessage
	taken  map[string]bool
}

// Attachment is one (container ID, interface) pair of a GC's valid
// attachments.
type Attachment struct {
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifname"`
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
	if err := decodeStrict(b, &c.fields); err != nil || c.fields == nil {
		details := "not a JSON object"
		if err != nil {
			details = err.Error()
		}
		return nil, &Error{Code: CodeDecode, Msg: "cannot decode the network configuration", Details: details}
	}
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
	if raw, ok := c.fields["ipam"]; ok && string(raw) != "null" {
		if err := decodeField("ipam.type", c.IPAM["type"], &c.IPAMType); err != nil {
			return nil, err
		}
		if c.IPAMType == "" {
			return nil, &Error{Code: CodeInvalidConfig, Msg: "ipam: no type"}
		}
	}
	if raw, ok := c.fields["prevResult"]; ok && string(raw) != "null" {
		r, err := ParseResult(raw)
		if err != nil {
			e := err.(*Error)
			return nil, &Error{Code: e.Code, Msg: "prevResult: " + e.Msg, Details: e.Details}
		}
		c.PrevResult = r
	}
	if raw, ok := c.fields["cni.dev/valid-attachments"]; ok {
		c.HasValid = true
		if err := decodeField("cni.dev/valid-attachments", raw, &c.ValidAttachments); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Conf) decode(key string, v any) error {
	raw, ok := c.fields[key]
	if !ok {
		return nil
	}
	return decodeField(key, raw, v)
}

func decodeField(key string, raw json.RawMessage, v any) error {
	if raw == nil {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &Error{Code: CodeDecode, Msg: "cannot decode '" + key + "': " + string(raw), Details: err.Error()}
	}
	return nil
}

// Take decodes the plugin key key into v (left as it is when the key is
// absent or null) and marks it used; it reports whether the key was given.
// A value of the wrong JSON type: code 6.
func (c *Conf) Take(key string, v any) (bool, error) {
	raw, ok := c.fields[key]
	if !ok {
		return false, nil
	}
	c.taken[key] = true
	if string(raw) == "null" {
		return false, nil
	}
	return true, decodeField(key, raw, v)
}

// Unused returns the keys of the configuration nobody took, sorted, each
// with its value: "key=value".
func (c *Conf) Unused() []string {
	var out []string
	for k, v := range c.fields {
		if !c.taken[k] {
			out = append(out, k+"="+string(v))
		}
	}
	sort.Strings(out)
	return out
}

// Args returns the "args" key's "cni" object (the convention for
// per-attachment arguments in the configuration: "args": {"cni": {...}}).
func (c *Conf) Args() (map[string]json.RawMessage, error) {
	var args struct {
		CNI map[string]json.RawMessage `json:"cni"`
	}
	if err := c.decode("args", &args); err != nil {
		return nil, err
	}
	return args.CNI, nil
}

// VersionResult is the output of VERSION for a request of version v
// (the latest when the request names none).
func VersionResult(v string) ([]byte, error) {
	if v == "" {
		vs := Versions()
		v = vs[len(vs)-1]
	}
	return json.Marshal(struct {
		CNIVersion        string   `json:"cniVersion"`
		SupportedVersions []string `json:"supportedVersions"`
	}{v, Versions()})
}

// EncodeError is the error object e as a plugin prints it, in version v
// (the latest when v is not one this package speaks).
func EncodeError(v string, e *Error) []byte {
	if !Supported(v) {
		vs := Versions()
		v = vs[len(vs)-1]
	}
	b, _ := json.Marshal(struct {
		CNIVersion string `json:"cniVersion"`
		*Error
	}{v, e})
	return b
}
