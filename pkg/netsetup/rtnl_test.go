package netsetup

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// message serializes a message body as the kernel sends it.
func message(data ...nl.NetlinkRequestData) []byte {
	var b []byte
	for _, d := range data {
		b = append(b, d.Serialize()...)
	}
	return b
}

func TestParseLink(t *testing.T) {
	msg := ifinfo(unix.AF_UNSPEC, 7)
	msg.Flags = unix.IFF_UP | unix.IFF_BROADCAST
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.ZeroTerminated("veth"))
	props := nl.NewRtAttr(unix.IFLA_PROP_LIST|unix.NLA_F_NESTED, nil)
	props.AddRtAttr(unix.IFLA_ALT_IFNAME, nl.ZeroTerminated("nsba.one"))
	props.AddRtAttr(unix.IFLA_ALT_IFNAME, nl.ZeroTerminated("nsba.two"))
	m := message(msg,
		nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated("nsb1.abc")),
		nl.NewRtAttr(unix.IFLA_IFALIAS, nl.ZeroTerminated("mark")),
		nl.NewRtAttr(unix.IFLA_ADDRESS, []byte{2, 0, 0, 0, 0, 1}),
		nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(3)),
		nl.NewRtAttr(unix.IFLA_LINK, nl.Uint32Attr(12)),
		nl.NewRtAttr(unix.IFLA_LINK_NETNSID, nl.Uint32Attr(0)),
		nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(4000)),
		info, props)
	got := parseLink(m)
	want := &link{Index: 7, MasterIndex: 3, ParentIndex: 12, NetNsID: 0, Name: "nsb1.abc", Alias: "mark", Kind: "veth",
		AltNames: []string{"nsba.one", "nsba.two"}, RawFlags: unix.IFF_UP | unix.IFF_BROADCAST, Group: 4000,
		HardwareAddr: []byte{2, 0, 0, 0, 0, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseLink = %+v\nwant %+v", got, want)
	}
	if !got.up() || got.Type() != "veth" {
		t.Errorf("up %v, type %q", got.up(), got.Type())
	}

	// lo: no kind, a MAC of zeros, no peer namespace.
	lo := parseLink(message(ifinfo(unix.AF_UNSPEC, 1), nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated("lo")),
		nl.NewRtAttr(unix.IFLA_ADDRESS, make([]byte, 6))))
	if lo.Type() != "device" || lo.HardwareAddr != nil || lo.NetNsID != -1 || lo.up() {
		t.Errorf("lo = %+v, type %q", lo, lo.Type())
	}
	if parseLink(m[:unix.SizeofIfInfomsg-1]) != nil {
		t.Error("a short message parsed")
	}
}

func TestParseAddr(t *testing.T) {
	v4 := nl.NewIfAddrmsg(unix.AF_INET)
	v4.Index, v4.Prefixlen, v4.Flags = 5, 24, unix.IFA_F_PERMANENT
	ip := []byte{10, 1, 2, 3}
	m := message(v4, nl.NewRtAttr(unix.IFA_LOCAL, ip), nl.NewRtAttr(unix.IFA_ADDRESS, ip))
	a, ok := parseAddr(m, 5)
	if !ok || a.IPNet.String() != "10.1.2.3/24" || a.Scope != unix.RT_SCOPE_UNIVERSE || a.Flags != unix.IFA_F_PERMANENT {
		t.Errorf("parseAddr v4 = %+v, %v", a, ok)
	}
	if _, ok := parseAddr(m, 6); ok {
		t.Error("another link's address parsed")
	}

	// IPv6: IFA_ADDRESS only, the flags in IFA_FLAGS.
	v6 := nl.NewIfAddrmsg(unix.AF_INET6)
	v6.Index, v6.Prefixlen, v6.Scope = 5, 64, unix.RT_SCOPE_LINK
	m = message(v6, nl.NewRtAttr(unix.IFA_ADDRESS, netip.MustParseAddr("fe80::1").AsSlice()),
		nl.NewRtAttr(unix.IFA_FLAGS, nl.Uint32Attr(unix.IFA_F_TENTATIVE|unix.IFA_F_NODAD)))
	a, ok = parseAddr(m, 5)
	if !ok || a.IPNet.String() != "fe80::1/64" || a.Scope != unix.RT_SCOPE_LINK || a.Flags != unix.IFA_F_TENTATIVE|unix.IFA_F_NODAD {
		t.Errorf("parseAddr v6 = %+v, %v", a, ok)
	}

	// A point-to-point address: the local one alone.
	m = message(v4, nl.NewRtAttr(unix.IFA_LOCAL, ip), nl.NewRtAttr(unix.IFA_ADDRESS, []byte{10, 9, 9, 9}))
	if a, ok := parseAddr(m, 5); !ok || a.IPNet.String() != "10.1.2.3/32" {
		t.Errorf("parseAddr peer = %+v, %v", a, ok)
	}
}
