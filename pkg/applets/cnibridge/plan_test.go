package cnibridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/cni"
)

func addEnv() cni.Env {
	return cni.Env{Command: cni.CmdAdd, ContainerID: "c1", Netns: "/run/netns/c1", IfName: "eth0"}
}

func code(err error) uint {
	var e *cni.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestParse(t *testing.T) {
	p, err := parse(addEnv(), []byte(`{"cniVersion":"1.0.0","name":"n","type":"nsbox-bridge","bridge":"br9",
		"isDefaultGateway":true,"ipMasq":true,"ipMasqBackend":"nftables","mtu":1400,"hairpinMode":true,"promiscMode":true,
		"portIsolation":true,"enabledad":true,"capabilities":{"mac":true},
		"ipam":{"type":"nsbox","subnet":"10.9.0.0/24","rangeStart":"10.9.0.10","rangeEnd":"10.9.0.20","routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.7.0/24","gw":"10.9.0.254"}]},
		"runtimeConfig":{"mac":"02:00:00:00:00:09","ips":["10.9.0.15"]},"dns":{"nameservers":["10.9.0.1"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Pool{Subnet: netip.MustParsePrefix("10.9.0.0/24"), Start: netip.MustParseAddr("10.9.0.10"), End: netip.MustParseAddr("10.9.0.20"), Gateway: netip.MustParseAddr("10.9.0.1")}
	if p.Bridge != "br9" || !p.IsGateway || !p.IsDefaultGateway || !p.IPMasq || p.MTU != 1400 || !p.Hairpin || !p.Promisc || !p.PortIsolation || !p.EnableDAD ||
		*p.Pool != *want || p.MAC.String() != "02:00:00:00:00:09" || len(p.IPs) != 1 || p.IPs[0].Bits != 24 || len(p.Routes) != 2 || p.DNS.Nameservers[0] != "10.9.0.1" {
		t.Errorf("parse: %s", p)
	}
	// The defaults: mkbridge's bridge, its allocator, no gateway.
	p, err = parse(addEnv(), []byte(`{"cniVersion":"0.3.1","name":"n","type":"nsbox-bridge"}`))
	if err != nil || p.Bridge != DefaultBridge || p.Pool != nil || p.Delegate != "" || p.IsGateway {
		t.Errorf("defaults: %v, %v", p, err)
	}
	// A delegated IPAM plugin: its keys are its own.
	p, err = parse(addEnv(), []byte(`{"cniVersion":"1.1.0","name":"n","type":"nsbox-bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/24"}]]}}`))
	if err != nil || p.Delegate != "host-local" {
		t.Errorf("host-local: %v, %v", p, err)
	}
	// CNI_ARGS: IP and MAC, when the configuration has none; K8S_ keys.
	env := addEnv()
	env.Args = "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.88.0.7;MAC=02:00:00:00:00:07;FOO=bar"
	p, err = parse(env, []byte(`{"cniVersion":"1.1.0","name":"n"}`))
	if err != nil || len(p.IPs) != 1 || p.IPs[0].Addr != netip.MustParseAddr("10.88.0.7") || p.MAC.String() != "02:00:00:00:00:07" {
		t.Errorf("CNI_ARGS: %v, %v", p, err)
	}
}

// Every refusal, with its code and the key it names.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		conf, args string
		env        *cni.Env
		code       uint
		msg        string
	}{
		{conf: `{"cniVersion":"0.2.0"}`, code: 1, msg: "incompatible CNI version 0.2.0"},
		{conf: `{"cniVersion":"1.0.0","vlan":100}`, code: 2, msg: "vlan=100"},
		{conf: `{"cniVersion":"1.0.0","macspoofchk":true,"forceAddress":true}`, code: 2, msg: "forceAddress=true"},
		{conf: `{"cniVersion":"1.0.0","ipMasqBackend":"iptables"}`, code: 2, msg: `ipMasqBackend="iptables"`},
		{conf: `{"cniVersion":"1.0.0","ipMasq":true,"ipam":{"type":"host-local"}}`, code: 2, msg: "ipMasq=true without isGateway"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","ranges":[]}}`, code: 2, msg: "ipam.ranges"},
		{conf: `{"cniVersion":"1.0.0","runtimeConfig":{"portMappings":[]}}`, code: 2, msg: "runtimeConfig.portMappings"},
		{conf: `{"cniVersion":"1.0.0","args":{"cni":{"labels":[]}}}`, code: 2, msg: "args.cni.labels"},
		{conf: `{"cniVersion":"1.0.0"}`, args: "FOO=bar", code: 2, msg: "FOO=bar"},
		{conf: `{"cniVersion":"1.0.0"}`, args: "FOO", code: 4, msg: "CNI_ARGS"},
		{conf: `{"cniVersion":"1.0.0"}`, env: &cni.Env{Command: cni.CmdAdd, ContainerID: "c", Netns: "/x", IfName: "a/b"}, code: 4, msg: "CNI_IFNAME"},
		{conf: `{"cniVersion":"1.0.0"`, code: 6, msg: "cannot decode"},
		{conf: `{"cniVersion":"1.0.0","mtu":"big"}`, code: 6, msg: "'mtu'"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","subnet":7}}`, code: 6, msg: "ipam.subnet"},
		{conf: `{"cniVersion":"1.0.0","type":"bridge"}`, code: 7, msg: "type is 'bridge'"},
		{conf: `{"cniVersion":"1.0.0","bridge":"a-name-far-too-long"}`, code: 7, msg: "too long"},
		{conf: `{"cniVersion":"1.0.0","mtu":20}`, code: 7, msg: "invalid mtu 20"},
		{conf: `{"cniVersion":"1.0.0","ipMasqBackend":"pf"}`, code: 7, msg: "ipMasqBackend"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","subnet":"10.0.0.0/31"}}`, code: 7, msg: "too small"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","subnet":"10.0.0.0/24","rangeStart":"10.0.1.1"}}`, code: 7, msg: "rangeStart 10.0.1.1 is not a host"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","subnet":"10.0.0.0/24","rangeStart":"10.0.0.9","rangeEnd":"10.0.0.8"}}`, code: 7, msg: "before rangeStart"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","gateway":"10.0.0.1"}}`, code: 7, msg: "need a subnet"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","subnet":"10.0.0.0/24","routes":[{"dst":"0.0.0.0/0","gw":"fd00::1"}]}}`, code: 7, msg: "route gateway"},
		{conf: `{"cniVersion":"1.0.0","ipam":{"type":"nsbox","subnet":"10.0.0.0/24"},"runtimeConfig":{"ips":["10.1.0.5"]}}`, code: 7, msg: "not in the subnet"},
		{conf: `{"cniVersion":"1.0.0","runtimeConfig":{"mac":"01:00:00:00:00:01"}}`, code: 7, msg: "multicast"},
		{conf: `{"cniVersion":"1.0.0"}`, args: "IP=bogus", code: 7, msg: "invalid address 'bogus'"},
		{conf: `{"cniVersion":"0.3.1"}`, env: &cni.Env{Command: cni.CmdCheck, ContainerID: "c", Netns: "/x", IfName: "eth0"}, code: 1, msg: "does not allow CHECK"},
		{conf: `{"cniVersion":"1.0.0"}`, env: &cni.Env{Command: cni.CmdGC}, code: 1, msg: "does not allow GC"},
		{conf: `{"cniVersion":"1.0.0"}`, env: &cni.Env{Command: cni.CmdStatus}, code: 1, msg: "does not allow STATUS"},
	} {
		env := addEnv()
		if c.env != nil {
			env = *c.env
		}
		env.Args = c.args
		err := env.Check()
		if err == nil {
			_, err = parse(env, []byte(c.conf))
		}
		if code(err) != c.code || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s (CNI_ARGS %q): %v (code %d), want code %d with %q", c.conf, c.args, err, code(err), c.code, c.msg)
		}
	}
}

// fake is a backend that records what it was asked.
type fake struct {
	calls []string
	fail  error
	a     *Addressing
}

func (f *fake) Add(p *Plan, a *Addressing) (*Made, error) {
	f.calls = append(f.calls, "add")
	f.a = a
	if f.fail != nil {
		return nil, f.fail
	}
	m := &Made{Bridge: p.Bridge, HostIf: "nsb1", IfMAC: "02:00:00:00:00:02", Addrs: []netip.Prefix{netip.MustParsePrefix("10.88.0.2/16")}, Gateways: []netip.Addr{netip.MustParseAddr("10.88.0.1")}}
	if a != nil {
		m.Addrs, m.Gateways, m.Routes = a.Addrs, a.Gateways, a.Routes
	}
	return m, nil
}
func (f *fake) Del(p *Plan) error { f.calls = append(f.calls, "del"); return f.fail }
func (f *fake) Check(p *Plan) ([]string, error) {
	f.calls = append(f.calls, "check")
	return nil, f.fail
}
func (f *fake) GC(p *Plan) error     { f.calls = append(f.calls, "gc"); return f.fail }
func (f *fake) Status(p *Plan) error { f.calls = append(f.calls, "status"); return f.fail }

// ipamScript is an IPAM plugin that logs its commands to $LOG and gives
// 10.1.0.5/24 via 10.1.0.1.
const ipamScript = `#!/bin/sh
cat >/dev/null
echo $CNI_COMMAND >>"$LOG"
case $CNI_COMMAND in
ADD) echo '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/24","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.1.0.53"]}}';;
esac
`

func withFake(t *testing.T, f *fake) {
	old, oldenv := network, getenv
	network = f
	t.Cleanup(func() { network, getenv = old, oldenv })
}

func TestActDelegates(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	if err := os.WriteFile(filepath.Join(dir, "fake-ipam"), []byte(ipamScript), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &fake{}
	withFake(t, f)
	getenv = func(k string) string { return map[string]string{"CNI_PATH": dir}[k] }
	conf := []byte(`{"cniVersion":"0.4.0","name":"n","ipam":{"type":"fake-ipam"}}`)
	p, err := parse(addEnv(), conf)
	if err != nil {
		t.Fatal(err)
	}
	p.Environ = []string{"LOG=" + log}
	out, err := act(p, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cni.ParseResult(out)
	if err != nil || len(r.Interfaces) != 3 || r.Interfaces[2].Sandbox != "/run/netns/c1" || r.IPs[0].Interface != 2 ||
		r.IPs[0].Gateway.String() != "10.1.0.1" || r.DNS.Nameservers[0] != "10.1.0.53" || len(r.Routes) != 1 {
		t.Errorf("ADD result %s: %+v, %v", out, r, err)
	}
	if !strings.Contains(string(out), `"version":"4"`) {
		t.Errorf("a 0.4.0 result without the address version: %s", out)
	}
	// A failing ADD releases the IPAM plugin's address; DEL, CHECK and
	// GC are passed on too.
	f.fail = errors.New("boom")
	if _, err := act(p, os.Stderr); err == nil {
		t.Error("ADD with a failing backend succeeded")
	}
	p.Command = cni.CmdDel
	act(p, os.Stderr)
	p.Command, p.Prev, p.Version = cni.CmdCheck, r, "1.1.0"
	act(p, os.Stderr)
	p.Command = cni.CmdGC
	act(p, os.Stderr)
	p.Command = cni.CmdStatus
	f.fail = nil
	act(p, os.Stderr)
	b, _ := os.ReadFile(log)
	if got := strings.Fields(string(b)); strings.Join(got, " ") != "ADD ADD DEL DEL CHECK GC STATUS" {
		t.Errorf("IPAM plugin ran: %v", got)
	}
	if strings.Join(f.calls, " ") != "add add del check gc status" {
		t.Errorf("backend: %v", f.calls)
	}
}

// The result extends prevResult: its interfaces and addresses first.
func TestResultExtendsPrev(t *testing.T) {
	withFake(t, &fake{})
	p, err := parse(addEnv(), []byte(`{"cniVersion":"1.1.0","name":"n","prevResult":{"cniVersion":"1.1.0",
		"interfaces":[{"name":"lo0","sandbox":"/run/netns/c1"}],"ips":[{"address":"127.0.0.2/8","interface":0}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := act(p, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := cni.ParseResult(out)
	if len(r.Interfaces) != 4 || r.Interfaces[0].Name != "lo0" || len(r.IPs) != 2 || r.IPs[1].Interface != 3 {
		t.Errorf("result: %s", out)
	}
}

// run: only JSON on stdout, the error object with its code, exit 1.
func TestRunErrorObject(t *testing.T) {
	withFake(t, &fake{})
	for _, c := range []struct {
		env  map[string]string
		in   string
		code uint
		out  string
	}{
		{map[string]string{}, `{}`, 4, ""},
		{map[string]string{"CNI_COMMAND": "VERSION"}, `{"cniVersion":"0.2.0"}`, 0, `{"cniVersion":"0.2.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}`},
		{map[string]string{"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c", "CNI_IFNAME": "eth0"}, `{"cniVersion":"0.3.0","name":"n"}`, 0, ""},
		{map[string]string{"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c", "CNI_IFNAME": "eth0"}, `{"cniVersion":"0.3.0","name":"n","zzz":1}`, 2, ""},
	} {
		getenv = func(k string) string { return c.env[k] }
		var stdout, stderr bytes.Buffer
		code := applet.Run(applet.Lookup(Name), nil, strings.NewReader(c.in), &stdout, &stderr)
		if c.code == 0 {
			if code != 0 || strings.TrimSpace(stdout.String()) != c.out || stderr.Len() > 0 {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", c.env, code, stdout.String(), stderr.String())
			}
			continue
		}
		var e struct {
			CNIVersion string
			Code       uint
			Msg        string
		}
		if err := json.Unmarshal(stdout.Bytes(), &e); err != nil || code != 1 || e.Code != c.code || e.Msg == "" || stderr.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q (code %d), stderr %q", c.env, code, stdout.String(), e.Code, stderr.String())
		}
	}
}

// versionOf: the version VERSION echoes and an error object is written
// in; its key matched as encoding/json matched it, "" for anything else.
func TestVersionOf(t *testing.T) {
	for in, want := range map[string]string{
		`{"cniVersion":"0.4.0","name":"n"}`:           "0.4.0",
		`{"CNIVersion":"0.4.0"}`:                      "0.4.0",
		`{"cniVersion":"1.0.0","cniVersion":"0.3.1"}`: "0.3.1",
		`{"cniVersion":"9.9.9"}`:                      "9.9.9",
		`{"cniVersion":4}`:                            "",
		`{"cniVersion":"1.0.0"} ]`:                    "",
		`{"cniVersion":"1.0.0"`:                       "",
		`[]`:                                          "",
		`null`:                                        "",
		``:                                            "",
	} {
		if got := versionOf([]byte(in)); got != want {
			t.Errorf("versionOf(%s) = %q, want %q", in, got, want)
		}
	}
}

// Of several refusals in runtimeConfig or ipam, the first key in order is
// named, every time.
func TestParseErrorOrder(t *testing.T) {
	for conf, want := range map[string]string{
		`{"cniVersion":"1.0.0","runtimeConfig":{"zz":1,"mac":"x","aa":2}}`:        "runtimeConfig.aa=2",
		`{"cniVersion":"1.0.0","args":{"cni":{"zz":1,"ips":7}}}`:                  "args.cni.ips",
		`{"cniVersion":"1.0.0","ipam":{"type":"nsbox","zz":1,"subnet":7,"aa":2}}`: "ipam.aa=2",
	} {
		for i := 0; i < 20; i++ {
			if _, err := parse(addEnv(), []byte(conf)); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: %v, want %q", conf, err, want)
			}
		}
	}
}
