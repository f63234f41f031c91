package cnitest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func sysfs(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v", err)
	}
	return strings.TrimSpace(string(b))
}

// TestOptions: every option of the configuration and of CNI_ARGS as the
// kernel shows it: the port flags, the bridge in promiscuous mode, the MTU
// of both ends, the MAC address and address asked for, DAD, and the DNS
// settings passed through.
func TestOptions(t *testing.T) {
	cniPath := setup(t)
	ns := netns(t, "nsbtopt")
	removeBridge(t, "nsbtopt0")
	conf := `{"cniVersion":"1.1.0","name":"optnet","type":"nsbox-bridge","bridge":"nsbtopt0","isGateway":true,
		"mtu":1400,"hairpinMode":true,"promiscMode":true,"portIsolation":true,"enabledad":true,
		"dns":{"nameservers":["10.225.0.53"],"search":["example.test"]},
		"ipam":{"type":"nsbox","subnet":"fd00:225::/64","routes":[{"dst":"fd00:9::/64"}]},
		"runtimeConfig":{"mac":"02:00:00:00:22:05"}}`
	env := map[string]string{"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "opt1", "CNI_NETNS": ns, "CNI_IFNAME": "net1", "CNI_ARGS": "IP=fd00:225::77"}
	out, status := plugin(t, cniPath, env, conf)
	if status != 0 {
		t.Fatalf("ADD: %s", out)
	}
	env["CNI_COMMAND"] = "DEL"
	t.Cleanup(func() { plugin(t, cniPath, env, conf) })
	var r result
	json.Unmarshal([]byte(out), &r)
	if len(r.Interfaces) != 3 || r.Interfaces[2].Mac != "02:00:00:00:22:05" || len(r.IPs) != 1 || r.IPs[0].Address != "fd00:225::77/64" ||
		r.IPs[0].Gateway != "fd00:225::1" || fmt.Sprint(r.DNS["search"]) != "[example.test]" || len(r.Routes) != 1 {
		t.Fatalf("result: %s", out)
	}
	host := r.Interfaces[1].Name
	for path, want := range map[string]string{
		"/sys/class/net/" + host + "/brport/hairpin_mode": "1",
		"/sys/class/net/" + host + "/brport/isolated":     "1",
		"/sys/class/net/" + host + "/mtu":                 "1400",
	} {
		if got := sysfs(t, path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if flags, _ := strconv.ParseUint(sysfs(t, "/sys/class/net/nsbtopt0/flags"), 0, 32); flags&0x100 == 0 {
		t.Errorf("bridge flags %#x: not promiscuous", flags)
	}
	in := must(t, nil, "", "ip", "-n", filepath.Base(ns), "-6", "addr", "show", "net1")
	if !strings.Contains(in, "mtu 1400") || !strings.Contains(in, "fd00:225::77/64") || strings.Contains(in, "nodad") {
		t.Errorf("net1 in the container: %s", in)
	}
	if rt := must(t, nil, "", "ip", "-n", filepath.Base(ns), "-6", "route", "show", "fd00:9::/64"); !strings.Contains(rt, "via fd00:225::1") {
		t.Errorf("route: %q", rt)
	}
	// CHECK passes, then fails once the container end lost its address.
	env["CNI_COMMAND"] = "CHECK"
	withPrev := strings.TrimSuffix(conf, "}") + `,"prevResult":` + out + "}"
	if out, status := plugin(t, cniPath, env, withPrev); status != 0 {
		t.Errorf("CHECK: %s", out)
	}
	must(t, nil, "", "ip", "-n", filepath.Base(ns), "addr", "del", "fd00:225::77/64", "dev", "net1")
	if out, _ := plugin(t, cniPath, env, withPrev); !strings.Contains(out, `"code":104`) || !strings.Contains(out, "fd00:225::77/64") {
		t.Errorf("CHECK after the address went: %s", out)
	}
}

// TestHostLocal: the addresses of the reference host-local IPAM plugin (a
// Kubernetes node's pod CIDR), run for ADD, CHECK, DEL and GC; its
// reservations are gone after.
func TestHostLocal(t *testing.T) {
	cniPath := setup(t)
	netdir, data := t.TempDir(), t.TempDir()
	const name = "nsbt-hl"
	write(t, filepath.Join(netdir, name+".conflist"), fmt.Sprintf(`{"cniVersion":"1.1.0","name":%q,"plugins":[
		{"type":"nsbox-bridge","bridge":"nsbthl0","isGateway":true,"isDefaultGateway":true,"hairpinMode":true,
		 "ipam":{"type":"host-local","ranges":[[{"subnet":"10.224.1.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":%q}},
		{"type":"portmap","capabilities":{"portMappings":true}}]}`, name, data))
	removeBridge(t, "nsbthl0")
	a, b := netns(t, "nsbthla"), netns(t, "nsbthlb")
	t.Cleanup(func() {
		for _, ns := range []string{a, b} {
			cnitool(t, cniPath, netdir, "del", name, ns)
		}
	})
	ra := parseResult(t, must(t, []string{"CNI_PATH=" + cniPath, "NETCONFPATH=" + netdir}, "", filepath.Join(cniPath, "cnitool"), "add", name, a))
	rb := parseResult(t, must(t, []string{"CNI_PATH=" + cniPath, "NETCONFPATH=" + netdir}, "", filepath.Join(cniPath, "cnitool"), "add", name, b))
	if !strings.HasPrefix(ra.IPs[0].Address, "10.224.1.") || ra.IPs[0].Gateway != "10.224.1.1" || rb.IPs[0].Address == ra.IPs[0].Address {
		t.Fatalf("host-local addresses: %+v %+v", ra.IPs, rb.IPs)
	}
	ping(t, "nsbthla", "10.224.1.1")
	ping(t, "nsbthlb", hostAddr(ra.IPs[0].Address))
	if _, err := cnitool(t, cniPath, netdir, "check", name, a); err != nil {
		t.Errorf("CHECK: %v", err)
	}
	reserved := func() int {
		es, _ := os.ReadDir(filepath.Join(data, name))
		n := 0
		for _, e := range es {
			if strings.HasPrefix(e.Name(), "10.") {
				n++
			}
		}
		return n
	}
	if n := reserved(); n != 2 {
		t.Errorf("host-local reservations: %d, want 2", n)
	}
	if _, err := cnitool(t, cniPath, netdir, "del", name, a); err != nil {
		t.Errorf("DEL: %v", err)
	}
	if _, err := cnitool(t, cniPath, netdir, "gc", name, b); err != nil {
		t.Errorf("GC: %v", err)
	}
	if n := reserved(); n != 0 {
		t.Errorf("host-local reservations after DEL and GC: %d", n)
	}
	if ports := portsOf(t, "nsbthl0"); len(ports) != 0 {
		t.Errorf("ports left: %v", ports)
	}
}
