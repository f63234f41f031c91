package netsetup

import (
	"encoding/binary"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A minimal nftables client over NETLINK_NETFILTER, in x/sys/unix only:
// a batch of table, chain and rule messages, table and chain dumps. It is
// what NAT and Check need and no more; a general library (google/nftables,
// with mdlayher/netlink) would add two dependencies, their package
// initialisation to every applet's start and size to the binary
// (docs/performance.md). The tests read back what this writes through
// google/nftables, and the test binary alone links it.

// nlattr is a netlink attribute under construction; nested ones hold
// their children.
type nlattr struct {
	typ  uint16
	data []byte
	kids []nlattr
}

func (a nlattr) size() int {
	n := unix.SizeofNlAttr + len(a.data)
	for _, k := range a.kids {
		n = nlAlign(n) + k.size()
	}
	return n
}

func nlAlign(n int) int { return (n + 3) &^ 3 }

func (a nlattr) put(b []byte) int {
	n := a.size()
	binary.NativeEndian.PutUint16(b[0:], uint16(n))
	typ := a.typ
	if a.kids != nil {
		typ |= unix.NLA_F_NESTED
	}
	binary.NativeEndian.PutUint16(b[2:], typ)
	off := unix.SizeofNlAttr + copy(b[unix.SizeofNlAttr:], a.data)
	for _, k := range a.kids {
		off = nlAlign(off)
		off += k.put(b[off:])
	}
	return n
}

func attrStr(typ uint16, s string) nlattr { return nlattr{typ: typ, data: append([]byte(s), 0)} }
func attrBytes(typ uint16, b []byte) nlattr {
	return nlattr{typ: typ, data: b}
}
func attrU32(typ uint16, v uint32) nlattr { // nftables numbers are big-endian
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, v)
	return nlattr{typ: typ, data: b}
}
func attrNest(typ uint16, kids ...nlattr) nlattr {
	if kids == nil {
		kids = []nlattr{}
	}
	return nlattr{typ: typ, kids: kids}
}

// nftMsg is one message: nlmsghdr, nfgenmsg, attributes.
func nftMsg(typ uint16, flags uint16, seq uint32, family uint8, resID uint16, attrs ...nlattr) []byte {
	n := unix.SizeofNlMsghdr + 4
	for _, a := range attrs {
		n = nlAlign(n) + a.size()
	}
	n = nlAlign(n)
	b := make([]byte, n)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(n))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	b[16] = family
	b[17] = unix.NFNETLINK_V0
	binary.BigEndian.PutUint16(b[18:], resID)
	off := unix.SizeofNlMsghdr + 4
	for _, a := range attrs {
		off = nlAlign(off)
		off += a.put(b[off:])
	}
	return b
}

// Verdicts (linux/netfilter.h), a chain's policy.
const (
	nfDrop   = 0
	nfAccept = 1
)

func nftType(msg int) uint16 { return uint16(unix.NFNL_SUBSYS_NFTABLES<<8 | msg) }

// nftConn is a NETLINK_NETFILTER socket.
type nftConn struct {
	fd  int
	seq uint32
}

func nftOpen() (*nftConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, &Error{Op: "nftables: netlink socket", Err: err}
	}
	tv := unix.NsecToTimeval((5 * time.Second).Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "nftables: bind", Err: err}
	}
	return &nftConn{fd: fd}, nil
}

func (c *nftConn) close() { unix.Close(c.fd) }

func (c *nftConn) send(b []byte) error {
	return unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// recv reads messages and calls f for each of seq until done: an error
// message (returned, nil for an ack), NLMSG_DONE, or f saying stop.
func (c *nftConn) recv(seq uint32, f func(typ uint16, body []byte) bool) error {
	buf := make([]byte, 1<<16)
	for {
		msgs, err := c.read(buf)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				return ackError(m)
			}
			if f != nil && f(m.Header.Type, m.Data) {
				return nil
			}
		}
	}
}

// read receives one datagram and splits it into its messages.
func (c *nftConn) read(buf []byte) ([]syscall.NetlinkMessage, error) {
	for {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		return syscall.ParseNetlinkMessage(buf[:n])
	}
}

// ackError is the error an NLMSG_ERROR message carries: nil for an ack.
func ackError(m syscall.NetlinkMessage) error {
	if len(m.Data) < 4 {
		return unix.EINVAL
	}
	if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
		return unix.Errno(-e)
	}
	return nil
}

// batch sends msgs (built by the callers with sequence numbers from
// c.next) as one transaction, the last with NLM_F_ACK, and waits for its
// ack or the first error.
func (c *nftConn) batch(build func(next func() uint32) [][]byte) error {
	begin := c.next()
	msgs := build(c.next)
	end := c.next()
	var b []byte
	b = append(b, nftMsg(unix.NFNL_MSG_BATCH_BEGIN, unix.NLM_F_REQUEST, begin, unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES)...)
	for _, m := range msgs {
		b = append(b, m...)
	}
	b = append(b, nftMsg(unix.NFNL_MSG_BATCH_END, unix.NLM_F_REQUEST, end, unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES)...)
	if err := c.send(b); err != nil {
		return err
	}
	// Every message asks for an ack: the kernel answers each, an error
	// for the one that failed (the batch is then undone).
	first := begin + 1
	for s := first; s < end; s++ {
		if err := c.recvAny(s); err != nil {
			return err
		}
	}
	return nil
}

// recvAny waits for the ack or error of seq; an error of any message of
// the batch is returned at once.
func (c *nftConn) recvAny(seq uint32) error {
	buf := make([]byte, 1<<16)
	for {
		msgs, err := c.read(buf)
		if err != nil {
			return err
		}
		done := false
		for _, m := range msgs {
			if m.Header.Type != unix.NLMSG_ERROR || len(m.Data) < 4 {
				continue
			}
			if err := ackError(m); err != nil {
				return err
			}
			done = done || m.Header.Seq == seq
		}
		if done {
			return nil
		}
	}
}

func (c *nftConn) next() uint32 {
	c.seq++
	return c.seq
}

// attrs parses the attributes of body after the nfgenmsg.
func nftAttrs(body []byte) map[uint16][]byte {
	out := map[uint16][]byte{}
	if len(body) < 4 {
		return out
	}
	parseAttrs(body[4:], out)
	return out
}

func parseAttrs(b []byte, out map[uint16][]byte) {
	eachAttr(b, func(t uint16, v []byte) { out[t] = v })
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// nftChain is what a chain dump gives.
type nftChain struct {
	family       uint8
	table, name  string
	hooked       bool
	hook, policy uint32
}

// dump asks a dump of msg for family and calls f with each reply body.
func (c *nftConn) dump(msg int, family uint8, f func(body []byte)) error {
	seq := c.next()
	if err := c.send(nftMsg(nftType(msg), unix.NLM_F_REQUEST|unix.NLM_F_DUMP, seq, family, 0)); err != nil {
		return err
	}
	return c.recv(seq, func(_ uint16, body []byte) bool { f(body); return false })
}

// tables lists the table names of family.
func (c *nftConn) tables(family uint8) ([]string, error) {
	var out []string
	err := c.dump(unix.NFT_MSG_GETTABLE, family, func(body []byte) {
		out = append(out, cstr(nftAttrs(body)[unix.NFTA_TABLE_NAME]))
	})
	return out, err
}

// chains lists the chains of family (AF_UNSPEC: all).
func (c *nftConn) chains(family uint8) ([]nftChain, error) {
	var out []nftChain
	err := c.dump(unix.NFT_MSG_GETCHAIN, family, func(body []byte) {
		a := nftAttrs(body)
		ch := nftChain{family: body[0], table: cstr(a[unix.NFTA_CHAIN_TABLE]), name: cstr(a[unix.NFTA_CHAIN_NAME])}
		if h, ok := a[unix.NFTA_CHAIN_HOOK]; ok {
			ha := map[uint16][]byte{}
			parseAttrs(h, ha)
			if v := ha[unix.NFTA_HOOK_HOOKNUM]; len(v) == 4 {
				ch.hooked, ch.hook = true, binary.BigEndian.Uint32(v)
			}
		}
		if v := a[unix.NFTA_CHAIN_POLICY]; len(v) == 4 {
			ch.policy = binary.BigEndian.Uint32(v)
		} else {
			ch.policy = nfAccept
		}
		out = append(out, ch)
	})
	return out, err
}

// Expressions.

func exprElem(name string, data ...nlattr) nlattr {
	e := []nlattr{attrStr(unix.NFTA_EXPR_NAME, name)}
	if len(data) > 0 {
		e = append(e, attrNest(unix.NFTA_EXPR_DATA, data...))
	}
	return attrNest(unix.NFTA_LIST_ELEM, e...)
}

func exprMeta(key uint32) nlattr {
	return exprElem("meta", attrU32(unix.NFTA_META_DREG, unix.NFT_REG_1), attrU32(unix.NFTA_META_KEY, key))
}

func exprCmp(op uint32, data []byte) nlattr {
	return exprElem("cmp", attrU32(unix.NFTA_CMP_SREG, unix.NFT_REG_1), attrU32(unix.NFTA_CMP_OP, op),
		attrNest(unix.NFTA_CMP_DATA, attrBytes(unix.NFTA_DATA_VALUE, data)))
}

func exprPayload(base, off, n uint32) nlattr {
	return exprElem("payload", attrU32(unix.NFTA_PAYLOAD_DREG, unix.NFT_REG_1), attrU32(unix.NFTA_PAYLOAD_BASE, base),
		attrU32(unix.NFTA_PAYLOAD_OFFSET, off), attrU32(unix.NFTA_PAYLOAD_LEN, n))
}

func exprBitwise(mask []byte) nlattr {
	return exprElem("bitwise", attrU32(unix.NFTA_BITWISE_SREG, unix.NFT_REG_1), attrU32(unix.NFTA_BITWISE_DREG, unix.NFT_REG_1),
		attrU32(unix.NFTA_BITWISE_LEN, uint32(len(mask))),
		attrNest(unix.NFTA_BITWISE_MASK, attrBytes(unix.NFTA_DATA_VALUE, mask)),
		attrNest(unix.NFTA_BITWISE_XOR, attrBytes(unix.NFTA_DATA_VALUE, make([]byte, len(mask)))))
}
