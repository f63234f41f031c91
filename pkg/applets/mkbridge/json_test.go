package mkbridge_test

import (
	"encoding/json"
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
