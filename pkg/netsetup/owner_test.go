package netsetup

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestOwnerRecord(t *testing.T) {
	if n := ownerName(1000, "br.0", 3); n != "nsbox-user.1000.br.0.3" {
		t.Errorf("ownerName: %q", n)
	}
	for _, c := range []struct {
		names []string
		rec   string
		uid   uint32
		ok    bool
	}{
		{[]string{"nsbox-mkbridge.br.10.0.0.2", "nsbox-user.1000.br.0"}, "nsbox-user.1000.br.0", 1000, true},
		{[]string{"nsbox-user.01000.br.0"}, "", 0, false},
		{[]string{"nsbox-user.x.br.0", "nsbox-user.7.b.1"}, "nsbox-user.7.b.1", 7, true},
		{[]string{"nsbox-user.4294967296.br.0"}, "", 0, false},
		{[]string{"nsbox-mkbridge.br.10.0.0.2"}, "", 0, false},
	} {
		rec, uid, ok := ownerRecord(c.names)
		if rec != c.rec || uid != c.uid || ok != c.ok {
			t.Errorf("%q: %q %d %v", c.names, rec, uid, ok)
		}
	}
	for _, c := range []struct {
		names []string
		want  bool
	}{
		{[]string{"nsbox-user.1000.br.0.12"}, true},
		{[]string{"nsbox-user.1000.br.0"}, false}, // slot 0 of bridge "br", not "br.0"
		{[]string{"nsbox-user.1000.br.0.x"}, false},
		{[]string{"nsbox-user.10000.br.0.1"}, false},
		{[]string{"nsbox-user.1000.br.0."}, false},
	} {
		if got := ownedBy(c.names, 1000, "br.0"); got != c.want {
			t.Errorf("ownedBy %q: %v", c.names, got)
		}
	}
}

// TestValidateOwner: what a set-up for an unprivileged user may not ask.
func TestValidateOwner(t *testing.T) {
	ok := func() *Config {
		return &Config{Bridge: "br", IfName: "eth0", Owner: &Owner{UID: 1000, Ports: 1}, Addrs: []AddrReq{{Auto: true}}}
	}
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*Config)
		msg    string
	}{
		{func(c *Config) { c.Owner.Ports = 0 }, "uid 1000 may have no port on br"},
		{func(c *Config) { c.HostIfName = "h" }, "the host end's name is chosen by mkbridge for an unprivileged user"},
		{func(c *Config) { c.NAT = true }, "NAT and forwarding are the administrator's"},
		{func(c *Config) { c.MTU = 1400 }, "the MTU is the bridge's for an unprivileged user"},
		{func(c *Config) { c.Addrs = []AddrReq{{Addr: netip.MustParseAddr("10.0.0.9"), Bits: -1}} }, "the address is allocated by mkbridge for an unprivileged user (auto only)"},
		{func(c *Config) { c.AddBridgeAddrs = true }, "not a set-up for an unprivileged user"},
		{func(c *Config) { c.Attachment = "a" }, "not a set-up for an unprivileged user"},
		{func(c *Config) { c.Routes = []Route{{}} }, "not a set-up for an unprivileged user"},
	} {
		cf := ok()
		c.change(cf)
		if err := cf.Validate(); err == nil || err.Error() != c.msg {
			t.Errorf("got %v, want %s", err, c.msg)
		}
	}
}

// ownerBridgeUp makes bridge br with address 10.201.30.1/24, up, as an
// administrator would, for the owner tests.
func ownerBridgeUp(t *testing.T, br string) netlink.Link {
	t.Helper()
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br, TxQLen: -1}}); err != nil {
		t.Fatal(err)
	}
	l := hostLink(br)
	if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: toIPNet(netip.MustParsePrefix("10.201.30.1/24"))}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestOwnerPorts: a user's ports take the slots up to the count, the one
// after is refused and leaves nothing; a count lowered meanwhile refuses
// at the count, after the port was on the bridge, and undoes it; tear-down
// by the owner removes only the owner's ports.
func TestOwnerPorts(t *testing.T) {
	br := testBridge(t, "o")
	h, err := NewHost()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Setup(&Config{Bridge: br, Target: target(t), IfName: "eth0", Owner: &Owner{UID: 52000, Ports: 1}}); err == nil ||
		err.Error() != br+": no such bridge (mkbridge makes none for an unprivileged user)" {
		t.Fatalf("no bridge: %v", err)
	}
	l := ownerBridgeUp(t, br)
	owner := &Owner{UID: 52000, Ports: 2}
	var tgs []*Target
	for i := 0; i < 3; i++ {
		tg := target(t)
		tgs = append(tgs, tg)
		before := inside(t, tg)
		res, err := h.Setup(&Config{Bridge: br, Target: tg, IfName: "eth0", Owner: owner})
		if i < 2 {
			if err != nil {
				t.Fatalf("port %d: %v", i, err)
			}
			hl := hostLink(res.HostIfName)
			if hl == nil || !strings.Contains(fmt.Sprint(hl.Attrs().AltNames), fmt.Sprintf("nsbox-user.52000.%s.%d", br, i)) {
				t.Errorf("port %d: records %v", i, hl)
			}
			continue
		}
		var qe *QuotaError
		if !errors.As(err, &qe) || err.Error() != "uid 52000 has 2 port(s) on "+br+" already, and may have 2" {
			t.Fatalf("third port: %v", err)
		}
		if hostLink(HostIfName(tg.Ino(), "eth0")) != nil || fmt.Sprint(inside(t, tg)) != fmt.Sprint(before) {
			t.Errorf("the refused port left something")
		}
	}
	// All slots taken, with the count lowered to 1: the ports counted.
	_, err = h.Setup(&Config{Bridge: br, Target: tgs[2], IfName: "eth0", Owner: &Owner{UID: 52000, Ports: 1}})
	if err == nil || err.Error() != "uid 52000 has 2 port(s) on "+br+" already, and may have 1" {
		t.Errorf("lowered count: %v", err)
	}
	// Slot 0 free again, slot 1 taken, the count lowered to 1: refused
	// once the port is counted on the bridge, and undone.
	if _, err := h.TeardownOwned(tgs[0], 52000); err != nil {
		t.Fatal(err)
	}
	before := inside(t, tgs[2])
	_, err = h.Setup(&Config{Bridge: br, Target: tgs[2], IfName: "eth0", Owner: &Owner{UID: 52000, Ports: 1}})
	if err == nil || err.Error() != "uid 52000 has 1 port(s) on "+br+" already, and may have 1" {
		t.Errorf("lowered count, a slot free: %v", err)
	}
	if hostLink(HostIfName(tgs[2].Ino(), "eth0")) != nil || fmt.Sprint(inside(t, tgs[2])) != fmt.Sprint(before) {
		t.Errorf("the port refused at the count is left")
	}
	if _, err := h.Setup(&Config{Bridge: br, Target: tgs[0], IfName: "eth0", Owner: owner}); err != nil {
		t.Fatal(err)
	}
	// Another user's tear-down removes nothing of 52000's.
	if _, err := h.TeardownOwned(tgs[0], 52001); err == nil || !strings.Contains(err.Error(), "no port of uid 52001") {
		t.Errorf("another user's tear-down: %v", err)
	}
	if _, err := h.TeardownOwnedHost(HostIfName(tgs[0].Ino(), "eth0"), 52001); err == nil || !strings.Contains(err.Error(), "not a port made for uid 52001") {
		t.Errorf("another user's tear-down of the host end: %v", err)
	}
	if r, err := h.TeardownOwned(tgs[0], 52000); err != nil || len(r) != 1 || r[0].Bridge != br {
		t.Errorf("tear-down: %v %v", r, err)
	}
	if r, err := h.TeardownOwnedHost(HostIfName(tgs[1].Ino(), "eth0"), 52000); err != nil || r.Bridge != br {
		t.Errorf("tear-down of the host end: %v %v", r, err)
	}
	if n, err := countOwned(l.Attrs().Index, 52000, br); err != nil || n != 0 {
		t.Errorf("countOwned after: %d, %v", n, err)
	}
	netlink.LinkDel(l)
}

// TestOwnerFailureAtEachStep: a failure at the owner's steps (and at the
// others) undoes the port, and never touches the administrator's bridge.
func TestOwnerFailureAtEachStep(t *testing.T) {
	br := testBridge(t, "of")
	l := ownerBridgeUp(t, br)
	injected := Text("injected failure")
	for _, step := range append(append([]string{}, OwnerSteps...), "veth", "record", "master", "addr", "link-up", "lo-up", "route") {
		tg := target(t)
		before := inside(t, tg)
		reached := false
		_, err := Setup(&Config{Bridge: br, Target: tg, IfName: "eth0", Owner: &Owner{UID: 52000, Ports: 1},
			hook: func(s string) error {
				if s == step {
					reached = true
					return injected
				}
				return nil
			}})
		if !reached || !errors.Is(err, injected) {
			t.Errorf("step %s: reached %v, %v", step, reached, err)
		}
		if hostLink(HostIfName(tg.Ino(), "eth0")) != nil || fmt.Sprint(inside(t, tg)) != fmt.Sprint(before) {
			t.Errorf("step %s: something left", step)
		}
	}
	if n, err := countOwned(l.Attrs().Index, 52000, br); err != nil || n != 0 {
		t.Errorf("ports left: %d, %v", n, err)
	}
	netlink.LinkDel(l)
}
