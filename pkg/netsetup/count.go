package netsetup

import (
	"encoding/binary"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// rtextFilterSkipStats asks a link dump to leave out the statistics,
// most of each message (RTEXT_FILTER_SKIP_STATS).
const rtextFilterSkipStats = 1 << 3

// countOwned counts the links whose master is the bridge index and whose
// altnames record a port of uid on bridge: one RTM_GETLINK dump that the
// kernel filters by master (strict checking), without statistics.
func countOwned(index int, uid uint32, bridge string) (int, error) {
	// nlmsghdr + ifinfomsg + IFLA_MASTER u32 + IFLA_EXT_MASK u32
	const attr = unix.SizeofNlAttr + 4
	req := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfInfomsg+2*attr)
	ne := binary.NativeEndian
	b := req[unix.SizeofNlMsghdr+unix.SizeofIfInfomsg:]
	ne.PutUint16(b[0:], attr)
	ne.PutUint16(b[2:], unix.IFLA_MASTER)
	ne.PutUint32(b[4:], uint32(index))
	ne.PutUint16(b[8:], attr)
	ne.PutUint16(b[10:], unix.IFLA_EXT_MASK)
	ne.PutUint32(b[12:], rtextFilterSkipStats)
	n := 0
	err := strictDump(req, unix.RTM_GETLINK, func() { n = 0 }, func(typ uint16, data []byte) {
		if l := parseLink(data); typ == unix.RTM_NEWLINK && l != nil && l.MasterIndex == index && ownedBy(l.AltNames, uid, bridge) {
			n++
		}
	})
	return n, err
}

// eachAttr calls f with the type (flags masked off) and value of each
// netlink attribute of b.
func eachAttr(b []byte, f func(t uint16, v []byte)) {
	for len(b) >= unix.SizeofNlAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		t := binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < unix.SizeofNlAttr || l > len(b) {
			return
		}
		f(t, b[unix.SizeofNlAttr:l])
		b = b[min(nlAlign(l), len(b)):]
	}
}

// delByAltName deletes the link that has the alternative name name
// (RTM_DELLINK naming no index, only IFLA_ALT_IFNAME): whatever became
// of the link looked up before, only one that still has this name is
// deleted.
func delByAltName(name string) error {
	return dellink(nl.NewRtAttr(unix.IFLA_ALT_IFNAME, nl.ZeroTerminated(name)))
}
