package netsetup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckForwarding: the forwarding sysctl of each family the bridge has
// addresses of is checked, and only with NAT is one off a problem (an
// IPv6-only bridge with NAT once failed on net.ipv4.ip_forward).
func TestCheckForwarding(t *testing.T) {
	old := ProcSys
	defer func() { ProcSys = old }()
	ProcSys = t.TempDir()
	for _, d := range []string{"net/ipv4", "net/ipv6/conf/all"} {
		if err := os.MkdirAll(filepath.Join(ProcSys, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	set := func(v4, v6 string) {
		os.WriteFile(filepath.Join(ProcSys, "net/ipv4/ip_forward"), []byte(v4+"\n"), 0o644)
		os.WriteFile(filepath.Join(ProcSys, "net/ipv6/conf/all/forwarding"), []byte(v6+"\n"), 0o644)
	}
	for _, c := range []struct {
		fwd4, fwd6  string
		nat, v4, v6 bool
		want        string
	}{
		{"0", "1", true, false, true, "ok ipv6-forward net.ipv6.conf.all.forwarding is 1"},
		{"0", "0", true, false, true, "PROBLEM ipv6-forward net.ipv6.conf.all.forwarding is 0: --nat needs forwarding (mkbridge --nat turns it on)"},
		{"0", "0", true, true, false, "PROBLEM ip-forward net.ipv4.ip_forward is 0: --nat needs forwarding (mkbridge --nat turns it on)"},
		{"1", "0", true, true, true, "ok ip-forward net.ipv4.ip_forward is 1|PROBLEM ipv6-forward net.ipv6.conf.all.forwarding is 0: --nat needs forwarding (mkbridge --nat turns it on)"},
		{"0", "0", false, true, true, "ok ip-forward net.ipv4.ip_forward is 0 (containers reach the bridge and each other, not beyond; see --nat)|" +
			"ok ipv6-forward net.ipv6.conf.all.forwarding is 0 (containers reach the bridge and each other, not beyond; see --nat)"},
	} {
		set(c.fwd4, c.fwd6)
		var got []string
		checkForwarding(func(check string, problem bool, format string, args ...any) {
			word := "ok"
			if problem {
				word = "PROBLEM"
			}
			got = append(got, word+" "+check+" "+fmt.Sprintf(format, args...))
		}, c.nat, c.v4, c.v6)
		if g := strings.Join(got, "|"); g != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c, g, c.want)
		}
	}
}
