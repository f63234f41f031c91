package cnibridge

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/cni"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

// The netsetup set-up of each way to address a container.
func TestConfig(t *testing.T) {
	plan := func(conf string) *Plan {
		p, err := parse(addEnv(), []byte(conf))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Own allocator, a pool: the bridge gets the gateway (isGateway), the
	// gateway is never allocated, the default route comes from
	// isDefaultGateway, the other route via the gateway.
	p := plan(`{"cniVersion":"1.1.0","name":"n","isDefaultGateway":true,"hairpinMode":true,
		"ipam":{"type":"nsbox","subnet":"10.9.0.0/24","rangeStart":"10.9.0.5","routes":[{"dst":"0.0.0.0/0"},{"dst":"10.77.0.0/16"}]}}`)
	c, gws := config(p, nil)
	if c.Attachment != netsetup.AttachmentName("n", "c1", "eth0") || !c.Hairpin || c.NoGateway || fmt.Sprint(c.BridgeAddrs) != "[10.9.0.1/24]" ||
		!c.AddBridgeAddrs || fmt.Sprint(c.Pools) != "[{10.9.0.0/24 10.9.0.5 10.9.0.254}]" || fmt.Sprint(gws) != "[10.9.0.1]" ||
		fmt.Sprint(c.Routes) != "[{10.77.0.0/16 10.9.0.1}]" {
		t.Errorf("pool: %+v %v", c, gws)
	}
	// No ipam section: mkbridge's bridge address, no default route.
	c, _ = config(plan(`{"cniVersion":"1.1.0","name":"n"}`), nil)
	if !c.NoGateway || c.AddBridgeAddrs || fmt.Sprint(c.BridgeAddrs) != "["+DefaultBridgeAddr+"]" || len(c.Pools) != 0 {
		t.Errorf("no ipam: %+v", c)
	}
	// An IPAM plugin's addresses, explicit; its gateway on the bridge.
	p = plan(`{"cniVersion":"1.1.0","name":"n","isGateway":true,"ipam":{"type":"host-local"}}`)
	a := &Addressing{Addrs: []netip.Prefix{netip.MustParsePrefix("10.1.0.5/24")}, Gateways: []netip.Addr{netip.MustParseAddr("10.1.0.1")},
		Routes: []cni.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0")}}}
	c, _ = config(p, a)
	if fmt.Sprint(c.Addrs) != "[{false 10.1.0.5 24}]" || fmt.Sprint(c.BridgeAddrs) != "[10.1.0.1/24]" || !c.NoGateway ||
		fmt.Sprint(c.Routes) != "[{0.0.0.0/0 10.1.0.1}]" {
		t.Errorf("host-local: %+v", c)
	}
}

// CHECK's comparison of the live attachment with prevResult.
func TestCompareLive(t *testing.T) {
	p, err := parse(cni.Env{Command: cni.CmdCheck, ContainerID: "c1", Netns: "/run/netns/c1", IfName: "eth0"}, []byte(`{"cniVersion":"1.1.0","name":"n","bridge":"br0",
		"prevResult":{"cniVersion":"1.1.0","interfaces":[{"name":"br0"},{"name":"nsb1"},{"name":"eth0","mac":"02:00:00:00:00:02","sandbox":"/run/netns/c1"}],
		"ips":[{"address":"10.1.0.5/24","interface":2,"gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"},{"dst":"10.50.0.0/16","gw":"192.168.9.1"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	good := &netsetup.Live{HostIf: "nsb1", HostUp: true, Bridge: "br0", IfFound: true, IfUp: true, IfMAC: "02:00:00:00:00:02",
		Addrs:  []netip.Prefix{netip.MustParsePrefix("10.1.0.5/24")},
		Routes: []netsetup.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), GW: netip.MustParseAddr("10.1.0.1")}}}
	if got := compareLive(p, good); len(got) != 0 {
		t.Errorf("a good attachment: %v", got)
	}
	bad := *good
	bad.HostUp, bad.Bridge, bad.IfMAC, bad.Addrs, bad.Routes = false, "br1", "02:00:00:00:00:03", nil, nil
	got := strings.Join(compareLive(p, &bad), "; ")
	for _, w := range []string{"nsb1 is down", "not on bridge br0", "MAC address 02:00:00:00:00:03", "lacks its address 10.1.0.5/24", "route to 0.0.0.0/0 via 10.1.0.1"} {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
	if strings.Contains(got, "10.50.0.0") {
		t.Errorf("a route through another interface asked for: %s", got)
	}
	if got := compareLive(p, nil); len(got) != 1 || !strings.Contains(got[0], "no host end records it") {
		t.Errorf("no attachment: %v", got)
	}
}
