package mkbridge_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
)

// TestJSON: --json prints each set-up as a CNI ADD result (spec 1.1.0):
// the bridge, the host end, the container end in its namespace, the
// address with its gateway, the default route.
func TestJSON(t *testing.T) {
	bin, br := setup(t)
	a := container(t, bin)
	r := testutil.Run(t, bin, "mkbridge", "--json", "-b", br, "--bridge-addr", "10.201.7.1/24", pidOf(a))
	testutil.Must(t, r, 0)
	var res struct {
		CNIVersion string
		Interfaces []struct{ Name, Mac, Sandbox string }
		IPs        []struct {
			Interface        int
			Address, Gateway string
		}
		Routes []struct{ Dst, GW string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || strings.Count(r.Stdout, "\n") != 1 {
		t.Fatalf("--json: %q: %v", r.Stdout, err)
	}
	if res.CNIVersion != "1.1.0" || len(res.Interfaces) != 3 || res.Interfaces[0].Name != br || !strings.HasPrefix(res.Interfaces[1].Name, "nsb") ||
		res.Interfaces[2].Name != "eth0" || res.Interfaces[2].Sandbox != nsPath(a) || len(res.Interfaces[2].Mac) != 17 ||
		len(res.IPs) != 1 || res.IPs[0].Interface != 2 || res.IPs[0].Address != "10.201.7.2/24" || res.IPs[0].Gateway != "10.201.7.1" ||
		len(res.Routes) != 1 || res.Routes[0].Dst != "0.0.0.0/0" || res.Routes[0].GW != "10.201.7.1" {
		t.Errorf("--json: %s", r.Stdout)
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "--json", "-d", pidOf(a)), 1)
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", pidOf(a)), 0)
}

// TestCheckJSON: --check --json prints the findings as one object on one
// line: the bridge, the target, the number of problems, and each finding
// with what was checked; the exit status is --check's.
func TestCheckJSON(t *testing.T) {
	bin, br := setup(t)
	a := container(t, bin)
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", br, "type", "bridge"), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", br, "up"), 0)
	r := testutil.Run(t, bin, "mkbridge", "--check", "--json", "-b", br, pidOf(a))
	var res struct {
		Bridge   string
		Target   *string
		Problems int
		Findings []struct {
			Check   string
			Problem bool
			Text    string
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || strings.Count(r.Stdout, "\n") != 1 || r.Code != 1 || r.Stderr != "" {
		t.Fatalf("--check --json: %v: %s", err, r)
	}
	target := fmt.Sprintf("/proc/%d/ns/net", a.Pid())
	if res.Bridge != br || res.Target == nil || *res.Target != target {
		t.Errorf("--check --json: bridge %q, target %v: %s", res.Bridge, res.Target, r.Stdout)
	}
	problems := map[string]bool{}
	n := 0
	for _, f := range res.Findings {
		if f.Check == "" || f.Text == "" {
			t.Errorf("--check --json: a finding without check or text: %s", r.Stdout)
		}
		if f.Problem {
			problems[f.Check] = true
			n++
		}
	}
	if res.Problems != n {
		t.Errorf("--check --json: problems %d, %d findings are problems", res.Problems, n)
	}
	for _, c := range []string{"bridge-address", "lo", "target-address", "default-route"} {
		if !problems[c] {
			t.Errorf("--check --json: no %s problem: %s", c, r.Stdout)
		}
	}
	// The text of each finding is --check's line.
	text := testutil.Run(t, bin, "mkbridge", "--check", "-b", br, pidOf(a))
	for _, f := range res.Findings {
		if !strings.Contains(text.Stdout, " "+f.Text+"\n") {
			t.Errorf("--check --json: %q is not a line of --check:\n%s", f.Text, text.Stdout)
		}
	}
	// No target: null.
	r = testutil.Run(t, bin, "mkbridge", "--check", "--json", "-b", br)
	if !strings.Contains(r.Stdout, `"target":null,`) {
		t.Errorf("--check --json without a target: %s", r)
	}
	testutil.Must(t, testutil.Run(t, "ip", "link", "del", br), 0)
}
