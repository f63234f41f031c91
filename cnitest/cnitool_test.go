package cnitest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var versions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

// conflist is a network of nsbox-bridge on bridge br with subnet (and
// masquerading), the reference tuning and bandwidth plugins chained after
// it.
func conflist(name, version, br, subnet string) string {
	return fmt.Sprintf(`{"cniVersion":%q,"name":%q,"plugins":[
	{"type":"nsbox-bridge","bridge":%q,"isGateway":true,"isDefaultGateway":true,"ipMasq":true,"ipam":{"type":"nsbox","subnet":%q}},
	{"type":"tuning","sysctl":{"net.core.somaxconn":"512"}},
	{"type":"bandwidth","ingressRate":100000000,"ingressBurst":1000000,"egressRate":100000000,"egressBurst":1000000}]}`,
		version, name, br, subnet)
}

// cnitool runs cnitool with the network configurations in netdir.
func cnitool(t *testing.T, cniPath, netdir string, args ...string) (string, error) {
	t.Helper()
	return run(t, []string{"CNI_PATH=" + cniPath, "NETCONFPATH=" + netdir}, "", append([]string{filepath.Join(cniPath, "cnitool")}, args...)...)
}

// TestCnitool drives every command through cnitool (libcni) for each spec
// version, IPv4 and IPv6, with tuning and bandwidth chained after
// nsbox-bridge: two containers reach their gateway and each other, CHECK
// passes, DEL twice and DEL with the namespace gone succeed, GC removes
// an attachment nobody deleted, STATUS answers; nothing is left (the
// bandwidth plugin's ifb device included).
func TestCnitool(t *testing.T) {
	cniPath := setup(t)
	for i, v := range versions {
		for _, fam := range []string{"4", "6"} {
			t.Run("v"+v+"/ipv"+fam, func(t *testing.T) {
				subnet, br := fmt.Sprintf("10.%d.0.0/24", 230+i), fmt.Sprintf("nsbt%d%s", i, fam)
				if fam == "6" {
					subnet = fmt.Sprintf("fd00:%d::/64", 230+i)
				}
				cnitoolRound(t, cniPath, v, br, subnet)
			})
		}
	}
}

func cnitoolRound(t *testing.T, cniPath, v, br, subnet string) {
	netdir := t.TempDir()
	name := "nsbt-" + strings.ReplaceAll(v, ".", "")
	if err := os.WriteFile(filepath.Join(netdir, name+".conflist"), []byte(conflist(name, v, br, subnet)), 0o644); err != nil {
		t.Fatal(err)
	}
	removeBridge(t, br)
	a, b, c := netns(t, "nsbta"), netns(t, "nsbtb"), netns(t, "nsbtc")
	t.Cleanup(func() { // what a failure left: DEL is idempotent
		for _, ns := range []string{a, b, c} {
			cnitool(t, cniPath, netdir, "del", name, ns)
		}
	})
	out, err := cnitool(t, cniPath, netdir, "add", name, a)
	if err != nil {
		t.Fatal(err)
	}
	ra := parseResult(t, out)
	if ra.CNIVersion != v || len(ra.Interfaces) < 3 || ra.Interfaces[0].Name != br || ra.Interfaces[2].Sandbox != a || len(ra.IPs) != 1 || ra.IPs[0].Gateway == "" {
		t.Fatalf("ADD result: %s", out)
	}
	if hasVersion := ra.IPs[0].Version != ""; hasVersion != (v < "1.0.0") {
		t.Errorf("ADD result of %s: ips[].version %q", v, ra.IPs[0].Version)
	}
	out = must(t, []string{"CNI_PATH=" + cniPath, "NETCONFPATH=" + netdir}, "", filepath.Join(cniPath, "cnitool"), "add", name, b)
	rb := parseResult(t, out)
	if rb.IPs[0].Address == ra.IPs[0].Address {
		t.Fatalf("two containers, one address: %s", ra.IPs[0].Address)
	}
	ping(t, "nsbta", ra.IPs[0].Gateway)
	ping(t, "nsbtb", hostAddr(ra.IPs[0].Address))
	if v >= "0.4.0" {
		for _, ns := range []string{a, b} {
			if _, err := cnitool(t, cniPath, netdir, "check", name, ns); err != nil {
				t.Errorf("CHECK: %v", err)
			}
		}
	}
	for i := 0; i < 2; i++ {
		if _, err := cnitool(t, cniPath, netdir, "del", name, a); err != nil {
			t.Errorf("DEL #%d: %v", i+1, err)
		}
	}
	if !gone("/sys/class/net/" + ra.Interfaces[1].Name) {
		t.Errorf("host end %s still there after DEL", ra.Interfaces[1].Name)
	}
	must(t, nil, "", "ip", "netns", "del", "nsbtb")
	if _, err := cnitool(t, cniPath, netdir, "del", name, b); err != nil {
		t.Errorf("DEL with the namespace gone: %v", err)
	}
	// GC and STATUS (libcni runs neither command for a version before 1.1.0).
	out = must(t, []string{"CNI_PATH=" + cniPath, "NETCONFPATH=" + netdir}, "", filepath.Join(cniPath, "cnitool"), "add", name, c)
	rc := parseResult(t, out)
	if _, err := cnitool(t, cniPath, netdir, "status", name, c); err != nil {
		t.Errorf("STATUS: %v", err)
	}
	if _, err := cnitool(t, cniPath, netdir, "gc", name, c); err != nil {
		t.Errorf("GC: %v", err)
	}
	// Before 1.1.0 libcni does not run the plugin's GC: it DELs the
	// attachments of its cache that are not valid. Either way, gone.
	if !gone("/sys/class/net/" + rc.Interfaces[1].Name) {
		t.Errorf("after GC (%s): host end %s still there", v, rc.Interfaces[1].Name)
	}
	if _, err := cnitool(t, cniPath, netdir, "del", name, c); err != nil {
		t.Errorf("DEL after GC: %v", err)
	}
}
