package netsetup

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/nsbox/nsbox/internal/testutil"
)

func TestAttachmentName(t *testing.T) {
	n := AttachmentName("net1", "abc", "eth0")
	if !strings.HasPrefix(n, AttachmentPrefix("net1")) || !strings.HasSuffix(n, ".abc,eth0") || len(AttachmentPrefix("net1")) != len(AttachmentPrefixBase)+9 {
		t.Errorf("AttachmentName: %q", n)
	}
	if AttachmentPrefix("net1") == AttachmentPrefix("net2") || AttachmentName("n", "a.b", "c") == AttachmentName("n", "a", "b.c") {
		t.Error("two attachments, one name")
	}
	long := AttachmentName("n", strings.Repeat("f", 120), "eth0")
	if len(long) > maxAltName || long == AttachmentName("n", strings.Repeat("f", 120), "eth1") {
		t.Errorf("a long container ID: %q", long)
	}
}

// TestAttachments: set-ups recorded as CNI attachments, with a pool's
// range, extra routes and port flags; a second ADD of one attachment; DEL
// (release, then delete); GC of the stale ones in one group; the states
// STATUS reads.
func TestAttachments(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	br := fmt.Sprintf("nsbt%d-a", os.Getpid()%100000)
	t.Cleanup(func() {
		if l := hostLink(br); l != nil {
			netlink.LinkDel(l)
		}
	})
	gw := netip.MustParseAddr("10.202.0.1")
	config := func(tg *Target, id string) *Config {
		return &Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.PrefixFrom(gw, 24)}, Target: tg, IfName: "eth0",
			Attachment: AttachmentName("nsbt", id, "eth0"), NoGateway: true, Gateways: []netip.Addr{gw},
			Pools:   []Pool{{Subnet: netip.MustParsePrefix("10.202.0.0/24"), First: netip.MustParseAddr("10.202.0.10"), Last: netip.MustParseAddr("10.202.0.12")}},
			Routes:  []Route{{Dst: netip.MustParsePrefix("10.99.0.0/16"), GW: gw}},
			Hairpin: true, Isolated: true}
	}
	var tgs []*Target
	var got []string
	for i := 0; i < 4; i++ {
		tg := target(t)
		tgs = append(tgs, tg)
		res, err := Setup(config(tg, fmt.Sprint("c", i)))
		if i == 3 {
			if KindOf(err) != KindNoFree {
				t.Errorf("a fourth container in a range of three: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Addrs[0].String())
		if len(res.Gateways) != 0 || len(res.HostMAC) != 6 || len(res.IfMAC) != 6 || len(res.BridgeMAC) != 6 {
			t.Errorf("result: %+v", res)
		}
		pi, err := netlink.LinkGetProtinfo(hostLink(res.HostIfName))
		if err != nil || !pi.Hairpin || !pi.Isolated {
			t.Errorf("port flags of %s: %+v %v", res.HostIfName, pi, err)
		}
	}
	if strings.Join(got, " ") != "10.202.0.10/24 10.202.0.11/24 10.202.0.12/24" {
		t.Errorf("addresses from the range: %v", got)
	}
	if _, err := Setup(config(tgs[3], "c0")); !errors.Is(err, ErrAttachmentExists) || KindOf(err) != KindExists {
		t.Errorf("the attachment again: %v", err)
	}
	lv, err := InspectAttachment(AttachmentName("nsbt", "c0", "eth0"), tgs[0], "eth0")
	if err != nil || lv == nil || !lv.HostUp || lv.Bridge != br || !lv.IfUp || fmt.Sprint(lv.Addrs) != "[10.202.0.10/24]" ||
		!strings.Contains(fmt.Sprint(lv.Routes), "{10.99.0.0/16 10.202.0.1}") {
		t.Errorf("InspectAttachment: %+v %v", lv, err)
	}
	// DEL: released at once, then deleted.
	idx, host, found, err := ReleaseAttachment(AttachmentName("nsbt", "c0", "eth0"))
	if err != nil || !found {
		t.Fatalf("ReleaseAttachment: %v %v", found, err)
	}
	if lv, err := InspectAttachment(AttachmentName("nsbt", "c0", "eth0"), tgs[0], "eth0"); lv != nil || err != nil {
		t.Errorf("released, still found: %+v %v", lv, err)
	}
	if l := hostLink(host); l == nil || !slices.Contains(l.Attrs().AltNames, releasedName(AttachmentName("nsbt", "c0", "eth0"), idx)) {
		t.Errorf("released host end %s not marked: %v", host, l)
	}
	if err := DeleteHostEnd(idx, host); err != nil || hostLink(host) != nil {
		t.Errorf("DeleteHostEnd: %v", err)
	}
	// A released host end whose deletion never came: the network's GC
	// deletes it, whatever it keeps.
	idx, host, found, err = ReleaseAttachment(AttachmentName("nsbt", "c1", "eth0"))
	if err != nil || !found {
		t.Fatalf("ReleaseAttachment c1: %v %v", found, err)
	}
	if removed, err := GCAttachments("nsbt", func(n string) bool { return true }); err != nil || len(removed) != 1 || hostLink(host) != nil {
		t.Errorf("GC of a released host end %s (index %d): %v %v", host, idx, removed, err)
	}
	if _, _, found, err := ReleaseAttachment(AttachmentName("nsbt", "c0", "eth0")); found || err != nil {
		t.Errorf("a second release: %v %v", found, err)
	}
	// GC keeping c2: nothing left to remove.
	removed, err := GCAttachments("nsbt", func(n string) bool { return n == AttachmentName("nsbt", "c2", "eth0") })
	if err != nil || len(removed) != 0 {
		t.Errorf("GC: %v %v", removed, err)
	}
	if lv, _ := InspectAttachment(AttachmentName("nsbt", "c2", "eth0"), tgs[2], "eth0"); lv == nil {
		t.Error("GC removed a valid attachment")
	}
	if removed, err := GCAttachments("nsbt", func(string) bool { return false }); err != nil || len(removed) != 1 {
		t.Errorf("GC of the rest: %v %v", removed, err)
	}
	for _, want := range []BridgeState{BridgeUp, BridgeDown, BridgeMissing} {
		if st, err := StateOfBridge(br); st != want || err != nil {
			t.Errorf("StateOfBridge: %v %v, want %v", st, err, want)
		}
		l := hostLink(br)
		if want == BridgeUp {
			netlink.LinkSetDown(l)
		} else if l != nil {
			netlink.LinkDel(l)
		}
	}
}

// TestGCInOneGroup: many stale attachments go in one request.
func TestGCInOneGroup(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	br := fmt.Sprintf("nsbt%d-g", os.Getpid()%100000)
	t.Cleanup(func() {
		if l := hostLink(br); l != nil {
			netlink.LinkDel(l)
		}
	})
	h, err := NewHost()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		c := &Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.203.0.1/24")}, Target: target(t), IfName: "eth0",
			Attachment: AttachmentName("nsbtg", fmt.Sprint(i), "eth0")}
		if _, err := h.Setup(c); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()
	removed, err := GCAttachments("nsbtg", func(string) bool { return false })
	if err != nil || len(removed) != 5 {
		t.Errorf("GC: %d removed, %v", len(removed), err)
	}
	if ports, _ := os.ReadDir("/sys/class/net/" + br + "/brif"); len(ports) != 0 {
		t.Errorf("ports left: %d", len(ports))
	}
}
