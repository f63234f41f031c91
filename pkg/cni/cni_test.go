package cni

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func code(err error) uint {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestAtLeast(t *testing.T) {
	for _, c := range []struct {
		v, min string
		want   bool
	}{
		{"1.1.0", "1.1.0", true}, {"1.0.0", "1.1.0", false}, {"0.4.0", "0.3.1", true},
		{"0.10.0", "0.4.0", true}, {"1.0", "0.4.0", false}, {"01.0.0", "0.4.0", false},
	} {
		if got := AtLeast(c.v, c.min); got != c.want {
			t.Errorf("AtLeast(%q, %q) = %v, want %v", c.v, c.min, got, c.want)
		}
	}
}

func TestEnvCheck(t *testing.T) {
	full := Env{Command: CmdAdd, ContainerID: "abc", Netns: "/run/netns/x", IfName: "eth0"}
	for _, c := range []struct {
		name string
		env  Env
		code uint
		msg  string
	}{
		{"add", full, 0, ""},
		{"no command", Env{}, CodeInvalidEnv, "CNI_COMMAND is not set"},
		{"bad command", Env{Command: "ATTACH"}, CodeInvalidEnv, "unknown command 'ATTACH'"},
		{"add without netns", Env{Command: CmdAdd, ContainerID: "a", IfName: "eth0"}, CodeInvalidEnv, "CNI_NETNS"},
		{"check without all", Env{Command: CmdCheck}, CodeInvalidEnv, "CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME"},
		{"del without netns", Env{Command: CmdDel, ContainerID: "a", IfName: "eth0"}, 0, ""},
		{"del without ifname", Env{Command: CmdDel, ContainerID: "a"}, CodeInvalidEnv, "CNI_IFNAME"},
		{"bad id", Env{Command: CmdDel, ContainerID: "-a", IfName: "eth0"}, CodeInvalidEnv, "invalid container ID '-a'"},
		{"relative netns", Env{Command: CmdAdd, ContainerID: "a", Netns: "x", IfName: "eth0"}, CodeInvalidEnv, "not an absolute path"},
		{"bad args", Env{Command: CmdDel, ContainerID: "a", IfName: "eth0", Args: "A=1;B"}, CodeInvalidEnv, "invalid pair 'B'"},
		{"status", Env{Command: CmdStatus}, 0, ""},
		{"gc", Env{Command: CmdGC}, 0, ""},
		{"version", Env{Command: CmdVersion}, 0, ""},
	} {
		err := c.env.Check()
		if code(err) != c.code || (err != nil && !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("%s: Check() = %v (code %d), want code %d with %q", c.name, err, code(err), c.code, c.msg)
		}
	}
}

func TestParseArgs(t *testing.T) {
	got, err := ParseArgs("IgnoreUnknown=1;IP=10.1.0.5;K8S_POD_NAME=")
	want := []Arg{{"IgnoreUnknown", "1"}, {"IP", "10.1.0.5"}, {"K8S_POD_NAME", ""}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseArgs = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseArgs("=x"); code(err) != CodeInvalidEnv {
		t.Errorf("ParseArgs(=x): %v, want code 4", err)
	}
}

func sample() *Result {
	scope := 253
	return &Result{
		Interfaces: []Interface{{Name: "br0", Mac: "02:00:00:00:00:01"}, {Name: "eth0", Mac: "02:00:00:00:00:02", MTU: 1400, Sandbox: "/run/netns/x"}},
		IPs: []IPConfig{
			{Interface: 1, Address: netip.MustParsePrefix("10.1.0.5/24"), Gateway: netip.MustParseAddr("10.1.0.1")},
			{Interface: 1, Address: netip.MustParsePrefix("fd00::5/64")},
		},
		Routes: []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), GW: netip.MustParseAddr("10.1.0.1"), MTU: 1300, Scope: &scope}},
		DNS:    DNS{Nameservers: []string{"10.1.0.1"}},
	}
}

// Each version's shape: the keys the version has, and no other.
func TestEncodeShapes(t *testing.T) {
	for _, c := range []struct {
		v          string
		want, none []string
	}{
		{"0.3.0", []string{`"version":"4"`, `"version":"6"`, `"interface":1`}, []string{`"mtu"`, `"scope"`}},
		{"0.3.1", []string{`"version":"4"`}, []string{`"mtu"`}},
		{"0.4.0", []string{`"version":"4"`}, []string{`"mtu"`}},
		{"1.0.0", []string{`"interface":1`, `"gw":"10.1.0.1"`}, []string{`"version"`, `"mtu"`, `"scope"`}},
		{"1.1.0", []string{`"mtu":1400`, `"mtu":1300`, `"scope":253`}, []string{`"version"`}},
	} {
		b, err := sample().Encode(c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.v, err)
		}
		s := string(b)
		if !strings.HasPrefix(s, `{"cniVersion":"`+c.v+`"`) {
			t.Errorf("%s: %s", c.v, s)
		}
		for _, w := range c.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s: %s lacks %s", c.v, s, w)
			}
		}
		for _, w := range c.none {
			if strings.Contains(s, w) {
				t.Errorf("%s: %s has %s", c.v, s, w)
			}
		}
		back, err := ParseResult(b)
		if err != nil {
			t.Fatalf("%s: ParseResult: %v", c.v, err)
		}
		if !reflect.DeepEqual(back.IPs, sample().IPs) || back.Interfaces[1].Name != "eth0" || back.DNS.Nameservers[0] != "10.1.0.1" {
			t.Errorf("%s: round trip: %+v", c.v, back)
		}
	}
	if _, err := sample().Encode("0.2.0"); code(err) != CodeIncompatibleVersion {
		t.Errorf("Encode(0.2.0): %v, want code 1", err)
	}
}

func TestParseResultErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		code uint
	}{
		{`{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24"}}`, CodeIncompatibleVersion},
		{`{"ips":[{"address":"10.0.0.2"}]}`, CodeDecode},
		{`{"ips":[{"address":"10.0.0.2/24","interface":3}]}`, CodeDecode},
		{`{"routes":[{"dst":"x"}]}`, CodeDecode},
		{`[1]`, CodeDecode},
	} {
		if _, err := ParseResult([]byte(c.in)); code(err) != c.code {
			t.Errorf("ParseResult(%s) = %v, want code %d", c.in, err, c.code)
		}
	}
	// An IPAM plugin's result: addresses without an interface.
	r, err := ParseResult([]byte(`{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/24","gateway":"10.0.0.1"}]}`))
	if err != nil || r.IPs[0].Interface != -1 || r.IPs[0].Gateway != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("IPAM result: %+v, %v", r, err)
	}
}

func TestParseConf(t *testing.T) {
	c, err := ParseConf([]byte(`{"cniVersion":"1.1.0","name":"n","type":"nsbox-bridge","bridge":"br0","typo":1,
		"ipam":{"type":"host-local","subnet":"10.1.0.0/24"},"dns":{"nameservers":["1.1.1.1"]},
		"cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}],
		"prevResult":{"cniVersion":"1.1.0","ips":[{"address":"10.1.0.2/24"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	var br string
	if ok, err := c.Take("bridge", &br); !ok || err != nil || br != "br0" {
		t.Errorf("Take(bridge) = %v, %v, %q", ok, err, br)
	}
	if got := c.Unused(); !reflect.DeepEqual(got, []string{"typo=1"}) {
		t.Errorf("Unused() = %v", got)
	}
	if c.IPAMType != "host-local" || c.DNS.Nameservers[0] != "1.1.1.1" || !c.HasValid || c.ValidAttachments[0].IfName != "eth0" || len(c.PrevResult.IPs) != 1 {
		t.Errorf("ParseConf: %+v", c)
	}
	var n int
	if _, err := c.Take("bridge", &n); code(err) != CodeDecode {
		t.Errorf("Take of a string into an int: %v, want code 6", err)
	}
	for _, bad := range []struct {
		in   string
		code uint
	}{
		{``, CodeDecode}, {`{`, CodeDecode}, {`[]`, CodeDecode}, {`{} {}`, CodeDecode},
		{`{"cniVersion":"0.2.0"}`, CodeIncompatibleVersion}, {`{"name":"n"}`, CodeIncompatibleVersion},
		{`{"cniVersion":"1.0.0","ipam":{}}`, CodeInvalidConfig}, {`{"cniVersion":"1.0.0","ipam":7}`, CodeDecode},
		{`{"cniVersion":"1.0.0","prevResult":{"ip4":{}}}`, CodeIncompatibleVersion},
	} {
		if _, err := ParseConf([]byte(bad.in)); code(err) != bad.code {
			t.Errorf("ParseConf(%q) = %v, want code %d", bad.in, err, bad.code)
		}
	}
}

func TestVersionAndError(t *testing.T) {
	b, _ := VersionResult("0.4.0")
	var v struct {
		CNIVersion        string
		SupportedVersions []string
	}
	if err := json.Unmarshal(b, &v); err != nil || v.CNIVersion != "0.4.0" || !reflect.DeepEqual(v.SupportedVersions, Versions()) {
		t.Errorf("VersionResult: %s", b)
	}
	got := string(EncodeError("", &Error{Code: 7, Msg: "bad", Details: "why"}))
	if got != `{"cniVersion":"1.1.0","code":7,"msg":"bad","details":"why"}` {
		t.Errorf("EncodeError: %s", got)
	}
}

func TestDelegate(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\ncat >/dev/null\ncase $CNI_COMMAND in\n" +
		"ADD) echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.0.9/24\"}]}';;\n" +
		"DEL) echo '{\"code\":11,\"msg\":\"busy\"}'; exit 1;;\n" +
		"*) echo garbage; exit 3;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "fake"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := FindPlugin("fake", "/nonexistent:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Delegate(p, []string{"CNI_COMMAND=VERSION"}, CmdAdd, []byte("{}"), os.Stderr)
	if r, perr := ParseResult(out); err != nil || perr != nil || r.IPs[0].Address.String() != "10.1.0.9/24" {
		t.Errorf("ADD: %s, %v, %v", out, err, perr)
	}
	if _, err := Delegate(p, nil, CmdDel, nil, os.Stderr); code(err) != CodeTryAgain || !strings.Contains(err.Error(), "fake: busy") {
		t.Errorf("DEL: %v, want the plugin's code 11", err)
	}
	if _, err := Delegate(p, nil, CmdCheck, nil, os.Stderr); code(err) != CodeDelegate || !strings.Contains(err.Error(), "garbage") {
		t.Errorf("CHECK: %v, want code 105", err)
	}
	for _, bad := range []struct{ name, path string }{{"nope", dir}, {"a/b", dir}, {"fake", ""}} {
		if _, err := FindPlugin(bad.name, bad.path); err == nil {
			t.Errorf("FindPlugin(%q, %q) found it", bad.name, bad.path)
		}
	}
}
