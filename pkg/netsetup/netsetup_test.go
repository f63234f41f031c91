package netsetup

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

func TestCheckIfName(t *testing.T) {
	for _, c := range []struct{ name, err string }{
		{"eth0", ""},
		{"abcdefghijklmno", ""},
		{"abcdefghijklmnop", "bridge name 'abcdefghijklmnop' is too long (16 bytes; at most 15)"},
		{"", "empty bridge name"},
		{".", "invalid bridge name '.'"},
		{"a b", "invalid bridge name 'a b' (no '/', ':' or white space)"},
		{"a:b", "invalid bridge name 'a:b' (no '/', ':' or white space)"},
	} {
		err := CheckIfName("bridge", c.name)
		if (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("CheckIfName(%q) = %v, want %q", c.name, err, c.err)
		}
	}
}

func TestHostIfName(t *testing.T) {
	if got := HostIfName(0xf0000123, "eth0"); got != "nsbf0000123" {
		t.Errorf("eth0: %s", got)
	}
	a, b := HostIfName(0xffffffff, "eth1"), HostIfName(0xffffffff, "net1")
	if len(a) != 15 || len(b) != 15 || a == b || !strings.HasPrefix(a, "nsbffffffff.") {
		t.Errorf("eth1 %q, net1 %q", a, b)
	}
}

func TestParseAddrReq(t *testing.T) {
	for _, c := range []struct {
		in   string
		want AddrReq
		err  bool
	}{
		{"auto", AddrReq{Auto: true}, false},
		{"10.0.0.5", AddrReq{Addr: netip.MustParseAddr("10.0.0.5"), Bits: -1}, false},
		{"10.0.0.5/8", AddrReq{Addr: netip.MustParseAddr("10.0.0.5"), Bits: 8}, false},
		{"fd00::5/64", AddrReq{Addr: netip.MustParseAddr("fd00::5"), Bits: 64}, false},
		{"10.0.0.5/33", AddrReq{}, true},
		{"10.0.0", AddrReq{}, true},
		{"fe80::1%eth0", AddrReq{}, true},
		{"Auto", AddrReq{}, true},
	} {
		got, err := ParseAddrReq(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseAddrReq(%q) = %+v, %v", c.in, got, err)
		}
	}
}

func TestHostOf(t *testing.T) {
	p := netip.MustParsePrefix("10.1.2.0/24")
	for a, want := range map[string]bool{"10.1.2.0": false, "10.1.2.1": true, "10.1.2.254": true, "10.1.2.255": false, "10.1.3.1": false} {
		if hostOf(netip.MustParseAddr(a), p) != want {
			t.Errorf("hostOf(%s, %s) != %v", a, p, want)
		}
	}
	if !hostOf(netip.MustParseAddr("10.0.0.1"), netip.MustParsePrefix("10.0.0.0/31")) {
		t.Errorf("/31 has no network address")
	}
	if hostOf(netip.MustParseAddr("fd00::"), netip.MustParsePrefix("fd00::/64")) || !hostOf(netip.MustParseAddr("fd00::ffff:ffff:ffff:ffff"), netip.MustParsePrefix("fd00::/64")) {
		t.Errorf("IPv6: the subnet-router anycast address is not a host; there is no broadcast")
	}
}

func TestRecord(t *testing.T) {
	for _, c := range []struct{ bridge, addr, name string }{
		{"br0", "10.0.0.2", "nsbox-mkbridge.br0.10.0.0.2"},
		{"a.b", "10.88.0.255", "nsbox-mkbridge.a.b.10.88.0.255"},
		{"nsbox0", "fd00::5", "nsbox-mkbridge.nsbox0.fd000000000000000000000000000005"},
		{"x.1.2.3", "fd00::5", "nsbox-mkbridge.x.1.2.3.fd000000000000000000000000000005"},
	} {
		a := netip.MustParseAddr(c.addr)
		if got := recordName(c.bridge, a); got != c.name {
			t.Errorf("recordName(%s, %s) = %s", c.bridge, a, got)
		}
		br, got, ok := parseRecord(c.name)
		if !ok || br != c.bridge || got != a {
			t.Errorf("parseRecord(%s) = %s %s %v", c.name, br, got, ok)
		}
	}
	for _, s := range []string{"", "eth0", "nsbox-mkbridge.", "nsbox-mkbridge.br0", "nsbox-mkbridge.10.0.0.1", "nsbox-mkbridge.br.10.0.0", "other.br0.10.0.0.1"} {
		if br, a, ok := parseRecord(s); ok {
			t.Errorf("parseRecord(%q) = %s %s", s, br, a)
		}
	}
	br, addrs, ok := records([]string{"x", "nsbox-mkbridge.b.10.0.0.2", "nsbox-mkbridge.b.fd000000000000000000000000000002"})
	if !ok || br != "b" || fmt.Sprint(addrs) != "[10.0.0.2 fd00::2]" {
		t.Errorf("records: %s %v %v", br, addrs, ok)
	}
}

func TestBridgeAlias(t *testing.T) {
	a4, a6 := netip.MustParseAddr("10.0.0.9"), netip.MustParseAddr("fd00::9")
	s := bridgeAlias(a4, a6)
	if s != "nsbox-mkbridge bridge last=10.0.0.9 last6=fd00::9" || !isOurBridge(s) || !isOurBridge("nsbox-mkbridge bridge") || isOurBridge("nsbox-mkbridge bridges") {
		t.Errorf("bridgeAlias: %q", s)
	}
	if g4, g6 := bridgeHints(s); g4 != a4 || g6 != a6 {
		t.Errorf("bridgeHints: %s %s", g4, g6)
	}
}

// TestCandidates: after the hint, wrapping round, skipping the network,
// broadcast and bridge addresses, each host address once.
func TestCandidates(t *testing.T) {
	p := netip.MustParsePrefix("10.0.0.1/29")
	skip := map[netip.Addr]bool{netip.MustParseAddr("10.0.0.1"): true}
	var got []string
	collect := func(a netip.Addr) (bool, error) { got = append(got, a.String()); return false, nil }
	for _, c := range []struct{ hint, want string }{
		{"", "[10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6]"},
		{"10.0.0.4", "[10.0.0.5 10.0.0.6 10.0.0.2 10.0.0.3 10.0.0.4]"},
		{"10.0.0.6", "[10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6]"},
		{"10.9.9.9", "[10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6]"},
	} {
		got = nil
		var hint netip.Addr
		if c.hint != "" {
			hint = netip.MustParseAddr(c.hint)
		}
		if stopped, err := candidates(firstHost(p), lastHost(p), hint, skip, collect); stopped || err != nil || fmt.Sprint(got) != c.want {
			t.Errorf("hint %s: %v (%v %v), want %s", c.hint, got, stopped, err, c.want)
		}
	}
	// A range of a pool: only its addresses, from after the hint.
	got = nil
	r := netip.MustParsePrefix("10.0.0.0/24")
	candidates(netip.MustParseAddr("10.0.0.10"), netip.MustParseAddr("10.0.0.13"), netip.MustParseAddr("10.0.0.11"), nil, collect)
	if fmt.Sprint(got) != "[10.0.0.12 10.0.0.13 10.0.0.10 10.0.0.11]" || firstHost(r).String() != "10.0.0.1" || lastHost(r).String() != "10.0.0.254" {
		t.Errorf("range: %v", got)
	}
	v6 := netip.MustParsePrefix("fd00::1/64")
	got = nil
	stopped, _ := candidates(firstHost(v6), lastHost(v6), netip.Addr{}, nil, func(a netip.Addr) (bool, error) {
		got = append(got, a.String())
		return len(got) == 2, nil
	})
	if !stopped || fmt.Sprint(got) != "[fd00::1 fd00::2]" {
		t.Errorf("IPv6: %v %v", got, stopped)
	}
}

func TestPlan(t *testing.T) {
	br := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("fd00::1/64")}
	req := func(s ...string) []AddrReq {
		var out []AddrReq
		for _, x := range s {
			r, err := ParseAddrReq(x)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	for _, c := range []struct {
		reqs []AddrReq
		br   []netip.Prefix
		want string
	}{
		{nil, br, "[] [10.0.0.1/24 fd00::1/64]"},
		{req("auto"), br[:1], "[] [10.0.0.1/24]"},
		{req("10.0.0.9"), br, "[10.0.0.9/24] []"},
		{req("10.0.0.9", "auto"), br, "[10.0.0.9/24] [fd00::1/64]"},
		{req("fd00::9/64", "auto"), br, "[fd00::9/64] [10.0.0.1/24]"},
		{req("10.0.0.1"), br, "error: 10.0.0.1: address already in use on bridge b"},
		{req("10.0.0.7", "10.0.0.7"), br, "error: 10.0.0.7: address already in use on bridge b"},
		{req("10.0.0.255"), br, "error: 10.0.0.255: the network or broadcast address of 10.0.0.0/24"},
		{req("10.0.1.9"), br, "error: 10.0.1.9: not in the subnet of bridge b (10.0.0.0/24)"},
		{req("10.0.1.9"), nil, "error: 10.0.1.9: bridge b has no address of this family: give a prefix length (ADDR/PREFIX)"},
		{req("10.0.1.9/16"), nil, "[10.0.1.9/16] []"},
		{req("auto"), nil, "error: bridge b has no address to allocate from: give --addr ADDR/PREFIX, or --bridge-addr when it is created"},
	} {
		ex, au, err := plan(c.reqs, "b", c.br)
		s := fmt.Sprint(ex, " ", au)
		if err != nil {
			s = "error: " + err.Error()
		}
		if s != c.want {
			t.Errorf("plan(%v, %v) = %s, want %s", c.reqs, c.br, s, c.want)
		}
	}
}

// ---- root: the real kernel ----

// target starts "nsbox unshare -n sleep" and opens its network namespace.
func target(t *testing.T) *Target {
	t.Helper()
	bin := testutil.Binary(t)
	p := testutil.Start(t, testutil.Opts{}, bin, "unshare", "-n", "sleep", "600")
	path := fmt.Sprintf("/proc/%d/ns/net", p.Pid())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if testutil.ExecComm(p.Pid()) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unshare -n did not reach sleep")
		}
	}
	tg, err := OpenTarget(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// inside lists the links of t as "name,UP" strings.
func inside(t *testing.T, tg *Target) []string {
	t.Helper()
	h, err := netlink.NewHandleAt(netns.NsHandle(tg.Fd()), unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		s := l.Attrs().Name
		if l.Attrs().Flags&net.FlagUp != 0 {
			s += ",UP"
		}
		out = append(out, s)
	}
	return out
}

func hostLink(name string) netlink.Link {
	l, _ := netlink.LinkByName(name)
	return l
}

// testBridge starts a root test with the leak check and returns the name
// of its bridge, removed at cleanup if the test left it (the leak check
// reports it anyway).
func testBridge(t *testing.T, suffix string) string {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	br := fmt.Sprintf("nsbt%d-%s", os.Getpid()%100000, suffix)
	t.Cleanup(func() {
		if l := hostLink(br); l != nil {
			netlink.LinkDel(l)
		}
	})
	return br
}

// keepForwarding returns the forwarding sysctls, and at cleanup removes
// br's NAT table and sets them back.
func keepForwarding(t *testing.T, br string) (fwd4, fwd6 string) {
	fwd4, _ = readSysctl("net/ipv4/ip_forward")
	fwd6, _ = readSysctl("net/ipv6/conf/all/forwarding")
	t.Cleanup(func() {
		DisableNAT(br)
		writeSysctl("net/ipv4/ip_forward", fwd4)
		writeSysctl("net/ipv6/conf/all/forwarding", fwd6)
	})
	return fwd4, fwd6
}

// TestFailureAtEachStep injects a failure after each step, on a new bridge
// and on one that exists, and checks that nothing the call made is left:
// no bridge it made, no host end, nothing in the container (lo down again).
func TestFailureAtEachStep(t *testing.T) {
	br := testBridge(t, "f")
	fwd4, fwd6 := keepForwarding(t, br)
	injected := Text("injected failure")
	for _, existing := range []bool{false, true} {
		if existing {
			if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br, TxQLen: -1}}); err != nil {
				t.Fatal(err)
			}
			l := hostLink(br)
			if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: toIPNet(netip.MustParsePrefix("10.201.20.1/24"))}); err != nil {
				t.Fatal(err)
			}
		}
		for _, step := range Steps {
			tg := target(t)
			reached := false
			c := &Config{
				Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.20.1/24"), netip.MustParsePrefix("fd00:201:20::1/64")},
				Target: tg, IfName: "eth0", NAT: true,
				Attachment: AttachmentName("nsbt", "c1", "eth0"), Hairpin: true, Isolated: true,
				Routes: []Route{{Dst: netip.MustParsePrefix("192.168.201.0/24"), GW: netip.MustParsePrefix("10.201.20.1/24").Addr()}},
				hook: func(s string) error {
					if s == step {
						reached = true
						return injected
					}
					return nil
				},
			}
			before := inside(t, tg)
			_, err := Setup(c)
			bridgeStep := step == "bridge" || step == "bridge-addr" || step == "bridge-up"
			if existing && bridgeStep {
				if err != nil || reached {
					t.Errorf("existing bridge: step %s reached %v, error %v", step, reached, err)
				}
				if _, err := TeardownTarget(tg); err != nil {
					t.Error(err)
				}
				if _, err := DisableNAT(br); err != nil {
					t.Error(err)
				}
				continue
			}
			if !reached || !errors.Is(err, injected) {
				t.Errorf("new=%v step %s: reached %v, error %v", !existing, step, reached, err)
			}
			if l := hostLink(HostIfName(tg.Ino(), "eth0")); l != nil {
				t.Errorf("step %s: host end %s left", step, l.Attrs().Name)
			}
			if got := hostLink(br); (got != nil) != existing {
				t.Errorf("step %s: bridge exists %v, want %v", step, got != nil, existing)
			}
			if after := inside(t, tg); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("step %s: container links %v, before %v", step, after, before)
			}
			checkNATGone(t, step, br, fwd4, fwd6)
		}
	}
	// The existing bridge still has its address and nothing else.
	l := hostLink(br)
	as, _ := netlink.AddrList(l, netlink.FAMILY_V4)
	if len(as) != 1 || as[0].IPNet.String() != "10.201.20.1/24" {
		t.Errorf("existing bridge's addresses: %v", as)
	}
	netlink.LinkDel(l)
}

// checkNATGone checks, after step, that br has no NAT table and the
// forwarding sysctls are back to fwd4 and fwd6.
func checkNATGone(t *testing.T, step, br, fwd4, fwd6 string) {
	t.Helper()
	if ok, err := NATPresent(br); ok || err != nil {
		t.Errorf("step %s: NAT table left (%v)", step, err)
	}
	if f4, _ := readSysctl("net/ipv4/ip_forward"); f4 != fwd4 {
		t.Errorf("step %s: ip_forward %s, was %s", step, f4, fwd4)
	}
	if f6, _ := readSysctl("net/ipv6/conf/all/forwarding"); f6 != fwd6 {
		t.Errorf("step %s: ipv6 forwarding %s, was %s", step, f6, fwd6)
	}
}

// TestHostSeveralTargets: set-ups one after the other on one Host, as
// mkbridge makes them for several targets. The first creates the bridge
// and fails: the bridge goes, and the next creates it again. A later one
// that fails at any step undoes only what it made: the earlier container,
// the bridge and its NAT table stay as they were. The bridge's own steps
// are not run again after the first success, and the allocation hint is
// written once, by Close.
func TestHostSeveralTargets(t *testing.T) {
	br := testBridge(t, "h")
	keepForwarding(t, br)
	h, err := NewHost()
	if err != nil {
		t.Fatal(err)
	}
	injected := Text("injected failure")
	var reached []string
	config := func(tg *Target, failAt string) *Config {
		reached = nil
		return &Config{
			Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.22.1/24")},
			Target: tg, IfName: "eth0", NAT: true, Attachment: AttachmentName("nsbt", fmt.Sprint(tg.Ino()), "eth0"),
			hook: func(s string) error {
				reached = append(reached, s)
				if s == failAt {
					return injected
				}
				return nil
			},
		}
	}
	if _, err := h.Setup(config(target(t), "route")); !errors.Is(err, injected) {
		t.Fatalf("first set-up: %v", err)
	}
	if hostLink(br) != nil {
		t.Fatalf("the bridge the failed first set-up made is left")
	}
	a := target(t)
	resA, err := h.Setup(config(a, ""))
	if err != nil || !resA.BridgeCreated || !resA.NATCreated {
		t.Fatalf("second set-up: %+v, %v", resA, err)
	}
	insideA := inside(t, a)
	for _, step := range Steps {
		tg := target(t)
		before := inside(t, tg)
		_, err := h.Setup(config(tg, step))
		switch step {
		case "lock", "bridge", "bridge-addr", "bridge-up":
			if err != nil || slices.Contains(reached, step) {
				t.Errorf("step %s run again (%v), error %v", step, reached, err)
			}
			if _, err := TeardownTarget(tg); err != nil {
				t.Error(err)
			}
			continue
		}
		if !errors.Is(err, injected) {
			t.Errorf("step %s: error %v", step, err)
		}
		if l := hostLink(HostIfName(tg.Ino(), "eth0")); l != nil {
			t.Errorf("step %s: host end %s left", step, l.Attrs().Name)
		}
		if after := inside(t, tg); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("step %s: container links %v, before %v", step, after, before)
		}
		if hostLink(br) == nil || hostLink(resA.HostIfName) == nil || fmt.Sprint(inside(t, a)) != fmt.Sprint(insideA) {
			t.Fatalf("step %s: the failure took the bridge or the first container's network", step)
		}
		if ok, err := NATPresent(br); !ok || err != nil {
			t.Errorf("step %s: the bridge's NAT table is gone (%v)", step, err)
		}
	}
	b := target(t)
	resB, err := h.Setup(config(b, ""))
	if err != nil || resB.BridgeCreated || resB.NATCreated || resB.Addrs[0] == resA.Addrs[0] {
		t.Fatalf("last set-up: %+v (first %+v), %v", resB, resA, err)
	}
	// The allocation hint goes into the bridge's alias once, at Close.
	if a := hostLink(br).Attrs().Alias; a != bridgeAliasPrefix {
		t.Errorf("alias before Close: %q", a)
	}
	h.Close()
	if last4, _ := bridgeHints(hostLink(br).Attrs().Alias); last4 != resB.Addrs[0].Addr() {
		t.Errorf("hint after Close: %s, want %s", last4, resB.Addrs[0].Addr())
	}
	for _, tg := range []*Target{a, b} {
		if _, err := TeardownTarget(tg); err != nil {
			t.Error(err)
		}
	}
	if err := DeleteBridge(br); err != nil {
		t.Error(err)
	}
}

// TestConcurrentBridgeCreation: runs racing to create the same bridge all
// succeed, on one bridge, with distinct addresses.
func TestConcurrentBridgeCreation(t *testing.T) {
	br := testBridge(t, "c")
	const n = 8
	tgs := make([]*Target, n)
	for i := range tgs {
		tgs[i] = target(t)
	}
	errs := make(chan error, n)
	addrs := make(chan netip.Prefix, n)
	for i := range tgs {
		go func() {
			res, err := Setup(&Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.21.1/24")}, Target: tgs[i], IfName: "eth0"})
			if err == nil {
				addrs <- res.Addrs[0]
			}
			errs <- err
		}()
	}
	seen := map[netip.Prefix]bool{}
	for range tgs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(addrs)
	for a := range addrs {
		if seen[a] {
			t.Errorf("%s twice", a)
		}
		seen[a] = true
	}
	for _, tg := range tgs {
		if _, err := TeardownTarget(tg); err != nil {
			t.Error(err)
		}
	}
	if err := DeleteBridge(br); err != nil {
		t.Error(err)
	}
}

// TestNewNetnsLeavesOurThreads: NewNetns, many times, never leaves the
// main thread or any other of ours in a new namespace (the unsharing
// thread is thrown away, and is never the main thread, which the runtime
// could not end).
func TestNewNetnsLeavesOurThreads(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t, "/run/netns")
	var own unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &own); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("nsbt%d-nn%d", os.Getpid()%100000, i)
		tg, err := NewNetns(name)
		if err != nil {
			t.Fatalf("NewNetns: %v", err)
		}
		if tg.Ino() == own.Ino {
			t.Errorf("the new namespace is ours")
		}
		tg.Close()
		if err := RemoveNetns(name); err != nil {
			t.Error(err)
		}
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/ns/net", &st); err != nil || st.Ino != own.Ino {
			t.Fatalf("after NewNetns the main thread is in net:[%d], not net:[%d] (%v)", st.Ino, own.Ino, err)
		}
		// Every thread of the process (the thrown-away one may take a
		// moment to end).
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			foreign := ""
			ents, _ := os.ReadDir("/proc/self/task")
			for _, e := range ents {
				if err := unix.Stat("/proc/self/task/"+e.Name()+"/ns/net", &st); err == nil && st.Ino != own.Ino {
					foreign = fmt.Sprintf("thread %s is in net:[%d]", e.Name(), st.Ino)
				}
			}
			if foreign == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal(foreign)
			}
		}
	}
}

// TestNoNftables: a kernel without netfilter netlink (socket:
// EPROTONOSUPPORT) means "no table of ours", not a failure.
func TestNoNftables(t *testing.T) {
	if !noNftables(&Error{Op: "nftables: netlink socket", Err: unix.EPROTONOSUPPORT}) {
		t.Errorf("EPROTONOSUPPORT from the socket is not taken as a kernel without nftables")
	}
	if noNftables(&Error{Op: "nftables: netlink socket", Err: unix.EPERM}) || noNftables(nil) {
		t.Errorf("EPERM or no error taken as a kernel without nftables")
	}
}
