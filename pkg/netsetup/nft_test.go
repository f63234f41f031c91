package netsetup

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNftMsg: a message is nlmsghdr + nfgenmsg + aligned attributes, its
// length in the header; nested attributes carry NLA_F_NESTED; numbers are
// big-endian; the parser reads back what the encoder wrote.
func TestNftMsg(t *testing.T) {
	m := nftMsg(nftType(unix.NFT_MSG_NEWCHAIN), flagsNew, 7, familyINet, 0,
		attrStr(unix.NFTA_CHAIN_TABLE, "nsbox-br0"), attrStr(unix.NFTA_CHAIN_NAME, "postrouting"),
		attrNest(unix.NFTA_CHAIN_HOOK, attrU32(unix.NFTA_HOOK_HOOKNUM, unix.NF_INET_POST_ROUTING), attrU32(unix.NFTA_HOOK_PRIORITY, 100)))
	ne := binary.NativeEndian
	if int(ne.Uint32(m)) != len(m) || len(m)%4 != 0 {
		t.Fatalf("length %d in the header, %d bytes", ne.Uint32(m), len(m))
	}
	if ne.Uint16(m[4:]) != 10<<8|3 || ne.Uint16(m[6:]) != flagsNew || ne.Uint32(m[8:]) != 7 || m[16] != familyINet {
		t.Errorf("header % x", m[:20])
	}
	a := nftAttrs(m[16:])
	if cstr(a[unix.NFTA_CHAIN_TABLE]) != "nsbox-br0" || cstr(a[unix.NFTA_CHAIN_NAME]) != "postrouting" {
		t.Errorf("attributes %v", a)
	}
	h := map[uint16][]byte{}
	parseAttrs(a[unix.NFTA_CHAIN_HOOK], h)
	if binary.BigEndian.Uint32(h[unix.NFTA_HOOK_HOOKNUM]) != unix.NF_INET_POST_ROUTING || binary.BigEndian.Uint32(h[unix.NFTA_HOOK_PRIORITY]) != 100 {
		t.Errorf("hook %v", h)
	}
	// The nested flag is on the hook attribute.
	off := unix.SizeofNlMsghdr + 4
	for off < len(m) {
		l := int(ne.Uint16(m[off:]))
		typ := ne.Uint16(m[off+2:])
		if typ&^unix.NLA_F_NESTED == unix.NFTA_CHAIN_HOOK && typ&unix.NLA_F_NESTED == 0 {
			t.Errorf("hook attribute without NLA_F_NESTED")
		}
		off += nlAlign(l)
	}
}

// TestMasqueradeExprs: the rule for a subnet is meta nfproto, cmp, payload
// (saddr), bitwise (mask), cmp (network), meta oifname, cmp !=, masq.
func TestMasqueradeExprs(t *testing.T) {
	e := masquerade("br0", netip.MustParsePrefix("10.88.0.1/16"))
	b := make([]byte, e.size())
	e.put(b)
	var names []string
	var datas [][]byte
	list := b[unix.SizeofNlAttr:]
	for len(list) >= 4 {
		l := int(binary.NativeEndian.Uint16(list))
		elem := map[uint16][]byte{}
		parseAttrs(list[4:l], elem)
		names = append(names, cstr(elem[unix.NFTA_EXPR_NAME]))
		if names[len(names)-1] == "cmp" {
			d := map[uint16][]byte{}
			parseAttrs(elem[unix.NFTA_EXPR_DATA], d)
			v := map[uint16][]byte{}
			parseAttrs(d[unix.NFTA_CMP_DATA], v)
			datas = append(datas, v[unix.NFTA_DATA_VALUE])
		}
		list = list[min(nlAlign(l), len(list)):]
	}
	if got := len(names); got != 8 || names[0] != "meta" || names[2] != "payload" || names[3] != "bitwise" || names[7] != "masq" {
		t.Errorf("expressions %v", names)
	}
	if len(datas) != 3 || datas[0][0] != unix.NFPROTO_IPV4 || string(datas[1]) != "\x0a\x58\x00\x00" || string(datas[2][:4]) != "br0\x00" || len(datas[2]) != 16 {
		t.Errorf("cmp data %q", datas)
	}
}
