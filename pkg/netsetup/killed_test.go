package netsetup

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// These tests leave a set-up as a process killed (SIGKILL: no rollback)
// after each of its steps leaves it, then take it down as mkbridge -d
// and --delete-bridge do, and check that nothing is left and that the
// same set-up then succeeds. The random kills of the built binary are
// faultinject's; these are the same states, one per step, made on
// purpose.

// killedAt runs c's set-up, abandoned at step as if killed there.
func killedAt(t *testing.T, c *Config, step string) {
	t.Helper()
	reached := false
	c.hook = func(s string) error {
		if s == step {
			reached = true
			return errAbandon
		}
		return nil
	}
	_, err := Setup(c)
	c.hook = nil
	if !reached || !errors.Is(err, errAbandon) {
		t.Fatalf("step %s: reached %v, error %v", step, reached, err)
	}
}

// undoTarget is what mkbridge -d --delete-bridge does for tg: its ends,
// the pin of an unfinished --new, the bridges (and br's, which a set-up
// killed before its first port may have made).
func undoTarget(t *testing.T, tg *Target, br string) {
	t.Helper()
	removed, err := TeardownTarget(tg)
	if err != nil && !tg.Unfinished() {
		var e *Error
		if !errors.As(err, &e) || e.Err != Text("no mkbridge interface has its peer in this network namespace") {
			t.Errorf("TeardownTarget: %v", err)
		}
	}
	if _, err := RemoveUnfinished(tg); err != nil {
		t.Errorf("RemoveUnfinished: %v", err)
	}
	for _, r := range removed {
		if r.Bridge != br && r.Bridge != "" {
			t.Errorf("end %s on bridge %q, want %s", r.HostIfName, r.Bridge, br)
		}
	}
	if err := DeleteBridge(br); err != nil && !errors.Is(err, ErrNoBridge) {
		t.Errorf("DeleteBridge: %v", err)
	}
}

// TestKilledAtEachStep: a set-up on a new bridge, with NAT, killed after
// each step, is removed whole by the tear-down; the next set-up succeeds.
// Before the bridge was made under a pending name, one killed after it
// was marked left it without addresses ("no address to allocate from"
// for every later run); one killed before its first record left a veth
// that -d did not recognise.
func TestKilledAtEachStep(t *testing.T) {
	br := testBridge(t, "k")
	fwd4, fwd6 := keepForwarding(t, br)
	config := func(tg *Target) *Config {
		return &Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.23.1/24"), netip.MustParsePrefix("fd00:201:23::1/64")},
			Target: tg, IfName: "eth0", NAT: true, Attachment: AttachmentName("nsbt", "k1", "eth0")}
	}
	for _, step := range Steps {
		tg := target(t)
		before := inside(t, tg)
		killedAt(t, config(tg), step)
		undoTarget(t, tg, br)
		if l := hostLink(HostIfName(tg.Ino(), "eth0")); l != nil {
			t.Errorf("step %s: host end %s left", step, l.Attrs().Name)
		}
		for _, name := range []string{br, PendingBridgeName(br)} {
			if hostLink(name) != nil {
				t.Errorf("step %s: %s left", step, name)
			}
		}
		checkNATGone(t, step, br, fwd4, fwd6)
		// lo stays up: the tear-down, as after a finished set-up, leaves it.
		if after := inside(t, tg); len(after) != len(before) {
			t.Errorf("step %s: container links %v, before %v", step, after, before)
		}
		if _, err := Setup(config(tg)); err != nil {
			t.Errorf("step %s: the next set-up: %v", step, err)
		}
		undoTarget(t, tg, br)
	}
}

// TestKilledNewNetns: a namespace NewNetns made, its set-up killed after
// each step (and before any), is removed with what it holds: it is
// unfinished until the set-up's last step.
func TestKilledNewNetns(t *testing.T) {
	br := testBridge(t, "kn")
	name := fmt.Sprintf("nsbt%d-kn", os.Getpid()%100000)
	t.Cleanup(func() { RemoveNetns(name) })
	config := func(tg *Target) *Config {
		return &Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.24.1/24")}, Target: tg, IfName: "eth0"}
	}
	steps := []string{""}
	for _, s := range append(Steps, NewNetnsSteps...) {
		if s != "attachment" && s != "nat" {
			steps = append(steps, s)
		}
	}
	for _, step := range steps {
		tg, err := NewNetns(name)
		if err != nil {
			t.Fatal(err)
		}
		if step != "" {
			killedAt(t, config(tg), step)
		}
		tg.Close()
		// As mkbridge -d NAME opens it.
		if tg, err = OpenTarget(name); err != nil {
			t.Fatal(err)
		}
		undoTarget(t, tg, br)
		unfinished := tg.Unfinished()
		tg.Close()
		_, err = os.Lstat(filepath.Join(NetnsDir, name))
		switch {
		case step == "unmark":
			if unfinished || err != nil {
				t.Errorf("killed after its last step: unfinished %v, %v", unfinished, err)
			}
			RemoveNetns(name)
		case !unfinished || err == nil:
			t.Errorf("step %q: unfinished %v, pin left: %v", step, unfinished, err == nil)
		}
		if hostLink(br) != nil {
			t.Errorf("step %q: bridge left", step)
		}
	}
}

// TestSetupFinishesUnfinished: a set-up of a namespace a killed NewNetns
// left (marked, opened as any target) finishes it: the mark goes, and a
// tear-down leaves the namespace.
func TestSetupFinishesUnfinished(t *testing.T) {
	br := testBridge(t, "u")
	name := fmt.Sprintf("nsbt%d-u", os.Getpid()%100000)
	t.Cleanup(func() { RemoveNetns(name) })
	tg, err := NewNetns(name)
	if err != nil {
		t.Fatal(err)
	}
	tg.Close()
	if tg, err = OpenTarget(name); err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := Setup(&Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.29.1/24")}, Target: tg, IfName: "eth0"}); err != nil {
		t.Fatal(err)
	}
	undoTarget(t, tg, br)
	if tg.Unfinished() {
		t.Errorf("still marked after a set-up")
	}
	if err := RemoveNetns(name); err != nil {
		t.Errorf("the namespace went with the tear-down: %v", err)
	}
}

// TestNewNetnsOverEmptyFile: an empty file of mode 0 in NetnsDir (killed
// between creating it and binding the namespace onto it) is no obstacle
// to NewNetns, and RemoveEmptyNetns removes it; a pin, or a user's empty
// file, is neither.
func TestNewNetnsOverEmptyFile(t *testing.T) {
	testBridge(t, "e")
	name := fmt.Sprintf("nsbt%d-e", os.Getpid()%100000)
	path := filepath.Join(NetnsDir, name)
	// A user's empty file is not a leftover: pins are created mode 0.
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if EmptyNetns(name) {
		t.Errorf("EmptyNetns took an empty file of mode 0444")
	}
	if done, err := RemoveEmptyNetns(name); done || err != nil {
		t.Errorf("RemoveEmptyNetns of an empty file of mode 0444: %v, %v", done, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0); err != nil {
		t.Fatal(err)
	}
	if !EmptyNetns(name) || !EmptyNetns(path) || EmptyNetns("/tmp/"+name) {
		t.Errorf("EmptyNetns: %v %v %v", EmptyNetns(name), EmptyNetns(path), EmptyNetns("/tmp/"+name))
	}
	tg, err := NewNetns(name)
	if err != nil {
		t.Fatalf("NewNetns over an empty file: %v", err)
	}
	tg.Close()
	if EmptyNetns(name) {
		t.Errorf("a pin taken for an empty file")
	}
	if done, err := RemoveEmptyNetns(name); done || err != nil {
		t.Errorf("RemoveEmptyNetns of a pin: %v, %v", done, err)
	}
	if err := RemoveNetns(name); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0); err != nil {
		t.Fatal(err)
	}
	if done, err := RemoveEmptyNetns(name); !done || err != nil {
		t.Errorf("RemoveEmptyNetns: %v, %v", done, err)
	}
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("%s left", path)
	}
}

// TestEndWithoutNetnsID: a recorded host end whose peer was made in the
// target by a request that gave the host no namespace id there (as "ip
// link add ... netns T" does) is found: the links are listed before the
// id is asked for.
func TestEndWithoutNetnsID(t *testing.T) {
	br := testBridge(t, "i")
	tg := target(t)
	host := fmt.Sprintf("nsbt%d-iv", os.Getpid()%100000)
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(host)))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	peer := info.AddRtAttr(nl.IFLA_INFO_DATA, nil).AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC)
	peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated("eth0"))
	peer.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(tg.Fd())))
	req.AddData(info)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		t.Fatal(err)
	}
	l := hostLink(host)
	if err := netlink.LinkAddAltName(l, recordName(br, netip.MustParseAddr("10.201.25.2"))); err != nil {
		t.Fatal(err)
	}
	removed, err := TeardownTarget(tg)
	if err != nil || len(removed) != 1 || removed[0] != (Removed{HostIfName: host, Bridge: br}) {
		t.Errorf("TeardownTarget: %v, %v", removed, err)
	}
	if hostLink(host) != nil {
		t.Errorf("%s left", host)
	}
}

// TestCompleteMarkedBridge: a bridge marked as this package's that has no
// address (an earlier version killed between the two) is given the
// addresses asked for, instead of failing every set-up.
func TestCompleteMarkedBridge(t *testing.T) {
	br := testBridge(t, "m")
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br, TxQLen: -1}}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetAlias(hostLink(br), bridgeAliasPrefix); err != nil {
		t.Fatal(err)
	}
	tg := target(t)
	res, err := Setup(&Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.26.1/24")}, Target: tg, IfName: "eth0"})
	if err != nil || len(res.Addrs) != 1 || res.Addrs[0].String() != "10.201.26.2/24" || res.BridgeCreated {
		t.Fatalf("Setup on a marked bridge without address: %+v, %v", res, err)
	}
	undoTarget(t, tg, br)
}

// TestDeleteBridgeKept: what DeleteBridge leaves, and says so in a way
// BridgeKept knows (a tear-down's --delete-bridge is no failure then);
// with the bridge gone, what a killed run left of it goes.
func TestDeleteBridgeKept(t *testing.T) {
	br := testBridge(t, "d")
	keepForwarding(t, br)
	if err := DeleteBridge(br); !BridgeKept(err) || !errors.Is(err, ErrNoBridge) {
		t.Errorf("no bridge: %v", err)
	}
	tg := target(t)
	if _, err := Setup(&Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.27.1/24")}, Target: tg, IfName: "eth0", NAT: true}); err != nil {
		t.Fatal(err)
	}
	var left PortsLeft
	if err := DeleteBridge(br); !BridgeKept(err) || !errors.As(err, &left) || left != 1 || err.Error() != br+": not removed: 1 port(s) left" {
		t.Errorf("a port left: %v", err)
	}
	if _, err := TeardownTarget(tg); err != nil {
		t.Fatal(err)
	}
	// The bridge removed by hand: its NAT table is still removed, and
	// so is a bridge left under the pending name.
	netlink.LinkDel(hostLink(br))
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: PendingBridgeName(br), TxQLen: -1}}); err != nil {
		t.Fatal(err)
	}
	if err := DeleteBridge(br); err != nil {
		t.Errorf("bridge gone, NAT table and pending bridge left: %v", err)
	}
	if ok, err := NATPresent(br); ok || err != nil || hostLink(PendingBridgeName(br)) != nil {
		t.Errorf("NAT table (%v, %v) or pending bridge left", ok, err)
	}
	if BridgeKept(&Error{Op: "delete bridge " + br, Err: unix.EPERM}) {
		t.Errorf("a failure taken for a bridge kept")
	}
}

// TestForwardingAgain: NAT killed between turning forwarding off and
// removing its table (or between adding the table and turning forwarding
// on) leaves the table's marker with forwarding off: the next EnableNAT
// turns it on again, DisableNAT removes the table and leaves it off.
func TestForwardingAgain(t *testing.T) {
	br := testBridge(t, "w")
	// In a network namespace of its own, with forwarding off there (the
	// sysctls are the namespace's): the test's goroutine keeps the
	// thread, which ends with it.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	if err := writeSysctl("net/ipv4/ip_forward", "0"); err != nil { // it may inherit the host's
		t.Fatal(err)
	}
	subnets := []netip.Prefix{netip.MustParsePrefix("10.201.28.1/24")}
	if created, err := EnableNAT(br, subnets); !created || err != nil {
		t.Fatalf("EnableNAT: %v, %v", created, err)
	}
	if err := writeSysctl("net/ipv4/ip_forward", "0"); err != nil {
		t.Fatal(err)
	}
	if created, err := EnableNAT(br, subnets); created || err != nil {
		t.Fatalf("EnableNAT again: %v, %v", created, err)
	}
	if v, _ := readSysctl("net/ipv4/ip_forward"); v != "1" {
		t.Errorf("ip_forward %s after EnableNAT with the marker, want 1", v)
	}
	if removed, err := DisableNAT(br); !removed || err != nil {
		t.Fatalf("DisableNAT: %v, %v", removed, err)
	}
	if v, _ := readSysctl("net/ipv4/ip_forward"); v != "0" {
		t.Errorf("ip_forward %s after DisableNAT, want 0", v)
	}
}
