// The fast path of mkbridge (see fast.c): a container's network namespace
// given a port on a bridge that exists already, as netsetup.Setup does it,
// without the Go runtime:
//
//	mkbridge [options] TARGET
//	  -b/--bridge NAME, --bridge-addr CIDR (checked only), -a/--addr
//	  auto|ADDR[/PREFIX], -i/--ifname NAME, --host-ifname NAME,
//	  -g/--gateway ADDR|none, --new
//
// Options first (as -x VAL, -xVAL, --long VAL or --long=VAL; the scalar
// ones at most once), then exactly one TARGET. Anything else is the Go
// applet's: another option (--nat, --mtu, --mac, -v, -d, --check...), an
// option after TARGET, a bridge that is missing (Go creates it), down or
// not a bridge, an address that does not parse the same way in both (an
// IPv4-mapped IPv6 address), any check that fails, and any failure of a
// system call before the first change: the Go applet then runs from the
// start and gives its own message. The first change is the creation of
// the network namespace (--new) or of the veth pair; after it a failure
// is reported here, in netsetup's words, after the rollback netsetup
// makes. Keep in step with pkg/netsetup (netsetup.go, record.go, names.go,
// target.go, newns.go, lock.go, rtaddr.go) and pkg/applets/mkbridge.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsexec.h"

// linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/veth.h,
// linux/nsfs.h: musl ships none of them; the values are the kernel's ABI.
#define NS_GET_NSTYPE_ 0xb703 // _IO(0xb7, 0x3)
#define NETLINK_ROUTE_ 0
#define SOL_NETLINK_ 270
#define NETLINK_GET_STRICT_CHK_ 12
#define NLMSG_ERROR_ 2
#define NLMSG_DONE_ 3
#define NLM_F_REQUEST_ 0x1
#define NLM_F_ACK_ 0x4
#define NLM_F_DUMP_INTR_ 0x10
#define NLM_F_EXCL_ 0x200
#define NLM_F_CREATE_ 0x400
#define NLM_F_DUMP_ 0x300
#define NLA_F_NESTED_ 0x8000
#define RTM_NEWLINK_ 16
#define RTM_DELLINK_ 17
#define RTM_GETLINK_ 18
#define RTM_SETLINK_ 19
#define RTM_NEWADDR_ 20
#define RTM_GETADDR_ 22
#define RTM_NEWROUTE_ 24
#define RTM_NEWLINKPROP_ 108
#define IFLA_IFNAME_ 3
#define IFLA_MASTER_ 10
#define IFLA_LINKINFO_ 18
#define IFLA_IFALIAS_ 20
#define IFLA_AF_SPEC_ 26
#define IFLA_NET_NS_FD_ 28
#define IFLA_EXT_MASK_ 29
#define IFLA_PROP_LIST_ 52
#define IFLA_ALT_IFNAME_ 53
#define IFLA_INFO_KIND_ 1
#define IFLA_INFO_DATA_ 2
#define VETH_INFO_PEER_ 1
#define IFLA_INET6_ADDR_GEN_MODE_ 8
#define RTEXT_FILTER_VF_ 1
#define IFA_ADDRESS_ 1
#define IFA_LOCAL_ 2
#define IFA_BROADCAST_ 4
#define IFA_F_NODAD_ 0x02
#define RTA_OIF_ 4
#define RTA_GATEWAY_ 5
#define RT_TABLE_MAIN_ 254
#define RTPROT_BOOT_ 3
#define RTN_UNICAST_ 1
#define IFF_UP_ 0x1
#define CLONE_NEWNET_ 0x40000000

#define NETNS_DIR NSX_NETNS_DIR
#define LOCK_PATH "/sys/class/net"        // netsetup.LockPath
#define MARKER "nsbox-mkbridge"           // netsetup.Marker
#define ALIAS_PREFIX MARKER " bridge"     // bridgeAliasPrefix
#define RECORD_PREFIX MARKER "."          // RecordPrefix
#define MAX_SCAN (1 << 16)                // maxScan
#define MAX_ADDRS 16

struct nlhdr { uint32_t len; uint16_t type, flags; uint32_t seq, pid; };
struct ifinfo { uint8_t family, pad; uint16_t type; int32_t index; uint32_t flags, change; };
struct ifaddr { uint8_t family, prefixlen, flags, scope; uint32_t index; };
struct rtmsg_ { uint8_t family, dst_len, src_len, tos, table, protocol, scope, type; uint32_t flags; };
struct rta { uint16_t len, type; };
struct sanl { uint16_t family, pad; uint32_t pid, groups; };

#define ALIGN4(n) (((n) + 3) & ~3u)

// ---- addresses: netip.Addr and netip.Prefix, as far as Setup uses them ----

struct ip {
	int fam; // 0: invalid, 4 or 6
	uint8_t b[16];
};
struct pfx {
	struct ip a;
	int bits;
};

static int ip_len(const struct ip *a) { return a->fam == 4 ? 4 : 16; }
static int ip_eq(const struct ip *a, const struct ip *b)
{
	return a->fam == b->fam && !memcmp(a->b, b->b, ip_len(a));
}

// parse_ip is netip.ParseAddr for what inet_pton takes alike; an IPv4-mapped
// IPv6 address (which Go keeps as such and inet_pton cannot tell) fails.
static int parse_ip(const char *s, struct ip *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->fam = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1 && memcmp(a->b, mapped, 12)) {
		a->fam = 6;
		return 1;
	}
	a->fam = 0;
	return 0;
}

// parse_pfx is netip.ParsePrefix ("ADDR/BITS", BITS without a sign or a
// leading zero).
static int parse_pfx(const char *s, struct pfx *p)
{
	char buf[64];
	const char *slash = strchr(s, '/'), *d;
	int bits = 0;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return 0;
	memcpy(buf, s, slash - s);
	buf[slash - s] = 0;
	if (!parse_ip(buf, &p->a))
		return 0;
	d = slash + 1;
	if (!*d || strlen(d) > 3 || (d[0] == '0' && d[1]))
		return 0;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return 0;
		bits = bits * 10 + (*d - '0');
	}
	if (bits > ip_len(&p->a) * 8)
		return 0;
	p->bits = bits;
	return 1;
}

static struct pfx masked(const struct pfx *p)
{
	struct pfx m = *p;
	for (int i = p->bits; i < ip_len(&p->a) * 8; i++)
		m.a.b[i / 8] &= ~(0x80 >> (i % 8));
	return m;
}

static int contains(const struct pfx *p, const struct ip *a)
{
	struct pfx m = masked(p), x = { *a, p->bits };
	if (a->fam != p->a.fam)
		return 0;
	x = masked(&x);
	return ip_eq(&m.a, &x.a);
}

static struct ip last_addr(const struct pfx *p)
{
	struct pfx m = masked(p);
	for (int i = p->bits; i < ip_len(&p->a) * 8; i++)
		m.a.b[i / 8] |= 0x80 >> (i % 8);
	return m.a;
}

// host_of is netsetup's hostOf.
static int host_of(const struct ip *a, const struct pfx *p)
{
	struct pfx m = masked(p);
	struct ip l;

	if (!contains(p, a))
		return 0;
	if (a->fam == 4 && p->bits >= 31)
		return 1;
	if (ip_eq(a, &m.a))
		return 0;
	l = last_addr(p);
	return !(a->fam == 4 && ip_eq(a, &l));
}

// next is Addr.Next: fam 0 past the last address.
static struct ip next(struct ip a)
{
	for (int i = ip_len(&a) - 1; i >= 0; i--)
		if (++a.b[i])
			return a;
	a.fam = 0;
	return a;
}

// global_unicast is IsGlobalUnicast (IsPrivate adds nothing to it).
static int global_unicast(const struct ip *a)
{
	static const uint8_t zero[16], bcast[4] = { 255, 255, 255, 255 };
	const uint8_t *b = a->b;

	if (a->fam == 4)
		return memcmp(b, zero, 4) && memcmp(b, bcast, 4) && b[0] != 127 &&
		       (b[0] & 0xf0) != 0xe0 && !(b[0] == 169 && b[1] == 254);
	return memcmp(b, zero, 16) && !(memcmp(b, zero, 15) == 0 && b[15] == 1) && b[0] != 0xff &&
	       !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

// fmt_ip is Addr.String: dotted quad, or RFC 5952 as Go writes it (the
// first longest run of two or more zero groups as "::").
static char *fmt_ip(const struct ip *a, char *out, size_t n)
{
	int zs = -1, ze = -1, len;

	if (a->fam == 4) {
		snprintf(out, n, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return out;
	}
	for (int i = 0; i < 8; i++) {
		int j = i;
		while (j < 8 && !a->b[2 * j] && !a->b[2 * j + 1])
			j++;
		if (j - i >= 2 && j - i > ze - zs)
			zs = i, ze = j;
		if (j > i)
			i = j;
	}
	len = 0;
	out[0] = 0;
	for (int i = 0; i < 8; i++) {
		if (i == zs) {
			len += snprintf(out + len, n - len, "::");
			i = ze - 1;
			continue;
		}
		if (i > 0 && i != ze)
			len += snprintf(out + len, n - len, ":");
		len += snprintf(out + len, n - len, "%x", a->b[2 * i] << 8 | a->b[2 * i + 1]);
	}
	return out;
}

static char *fmt_pfx(const struct pfx *p, char *out, size_t n)
{
	char s[48];
	snprintf(out, n, "%s/%d", fmt_ip(&p->a, s, sizeof(s)), p->bits);
	return out;
}

// ---- names (names.go, record.go) ----

// check_ifname is CheckIfName's acceptance.
static int check_ifname(const char *s)
{
	size_t n = strlen(s);
	return n && n <= 15 && strcmp(s, ".") && strcmp(s, "..") && !strpbrk(s, "/: \t\n\v\f\r");
}

// record_name is recordName.
static void record_name(const char *bridge, const struct ip *a, char *out, size_t n)
{
	int len = snprintf(out, n, RECORD_PREFIX "%s.", bridge);
	if (a->fam == 4) {
		snprintf(out + len, n - len, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return;
	}
	for (int i = 0; i < 16; i++)
		len += snprintf(out + len, n - len, "%02x", a->b[i]);
}

// ---- rtnetlink ----

struct nl {
	int fd;
	uint32_t seq;
};

struct req {
	struct nlhdr h;
	char data[1024];
};

static void *req_tail(struct req *r) { return (char *)r + ALIGN4(r->h.len); }

static void req_init(struct req *r, uint16_t type, uint16_t flags, const void *msg, size_t len)
{
	memset(r, 0, sizeof(struct nlhdr) + len);
	r->h.len = sizeof(struct nlhdr) + len;
	r->h.type = type;
	r->h.flags = NLM_F_REQUEST_ | flags;
	memcpy(r->data, msg, len);
}

static struct rta *add_attr(struct req *r, uint16_t type, const void *data, size_t len)
{
	struct rta *a = req_tail(r);
	a->type = type;
	a->len = sizeof(*a) + len;
	if (len)
		memcpy(a + 1, data, len);
	r->h.len = ALIGN4(r->h.len) + ALIGN4(a->len);
	return a;
}

static void add_str(struct req *r, uint16_t type, const char *s) { add_attr(r, type, s, strlen(s) + 1); }
static void add_u32(struct req *r, uint16_t type, uint32_t v) { add_attr(r, type, &v, 4); }
static struct rta *nest(struct req *r, uint16_t type) { return add_attr(r, type, NULL, 0); }
static void nest_end(struct req *r, struct rta *a) { a->len = (char *)req_tail(r) - (char *)a; }

static int nl_open(struct nl *n)
{
	struct sanl sa = { .family = AF_NETLINK };
	n->seq = 0;
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE_);
	if (n->fd < 0)
		return -errno;
	if (bind(n->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(n->fd);
		n->fd = -1;
		return -e;
	}
	return 0;
}

static char rbuf[32768] __attribute__((aligned(8)));

// nl_talk sends r and reads until its answer: 0 or -errno. A message of
// type want (a reply to a GET) is copied to out (at most outsz bytes).
static int nl_talk(struct nl *n, struct req *r, uint16_t want, void *out, size_t outsz)
{
	struct sanl sa = { .family = AF_NETLINK };
	r->h.seq = ++n->seq;
	r->h.flags |= NLM_F_ACK_;
	if (sendto(n->fd, r, r->h.len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(n->fd, rbuf, sizeof(rbuf), 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (char *p = rbuf; p + sizeof(struct nlhdr) <= rbuf + got;) {
			struct nlhdr *h = (struct nlhdr *)p;
			if (h->len < sizeof(*h) || p + h->len > rbuf + got)
				return -EIO;
			if (h->seq == n->seq) {
				if (h->type == NLMSG_ERROR_)
					return h->len >= sizeof(*h) + 4 ? *(int32_t *)(h + 1) : -EIO;
				if (h->type == want && out) {
					size_t k = h->len < outsz ? h->len : outsz;
					memcpy(out, h, k);
				}
			}
			p += ALIGN4(h->len);
		}
	}
}

// A link as LinkByName sees what Setup uses of it.
struct link {
	int index;
	uint32_t flags;
	char kind[16];
	char alias[256];
};

static char lbuf[8192] __attribute__((aligned(8)));

static void parse_link(struct link *l)
{
	struct nlhdr *h = (struct nlhdr *)lbuf;
	struct ifinfo *ifi = (struct ifinfo *)(h + 1);
	char *p = (char *)(ifi + 1), *end = lbuf + (h->len < sizeof(lbuf) ? h->len : sizeof(lbuf));

	memset(l, 0, sizeof(*l));
	l->index = ifi->index;
	l->flags = ifi->flags;
	while (p + sizeof(struct rta) <= end) {
		struct rta *a = (struct rta *)p;
		size_t dl;
		if (a->len < sizeof(*a) || p + a->len > end)
			break;
		dl = a->len - sizeof(*a);
		if (a->type == IFLA_IFALIAS_ && dl) {
			size_t k = dl < sizeof(l->alias) ? dl : sizeof(l->alias) - 1;
			memcpy(l->alias, a + 1, k);
			l->alias[k] = 0; // the kernel's NUL, or this one
		} else if ((a->type & ~NLA_F_NESTED_) == IFLA_LINKINFO_) {
			char *q = (char *)(a + 1), *qe = p + a->len;
			while (q + sizeof(struct rta) <= qe) {
				struct rta *b = (struct rta *)q;
				if (b->len < sizeof(*b) || q + b->len > qe)
					break;
				if (b->type == IFLA_INFO_KIND_) {
					size_t k = b->len - sizeof(*b);
					if (k >= sizeof(l->kind))
						k = sizeof(l->kind) - 1;
					memcpy(l->kind, b + 1, k);
					l->kind[k] = 0;
				}
				q += ALIGN4(b->len);
			}
		}
		p += ALIGN4(a->len);
	}
}

// get_link is LinkByName: 0 and *l, or -errno (-ENODEV: no such link).
static int get_link(struct nl *n, const char *name, struct link *l)
{
	struct req r;
	struct ifinfo ifi = { 0 };
	int e;

	req_init(&r, RTM_GETLINK_, 0, &ifi, sizeof(ifi));
	add_u32(&r, IFLA_EXT_MASK_, RTEXT_FILTER_VF_);
	add_str(&r, strlen(name) > 15 ? IFLA_ALT_IFNAME_ : IFLA_IFNAME_, name);
	memset(lbuf, 0, sizeof(struct nlhdr));
	e = nl_talk(n, &r, RTM_NEWLINK_, lbuf, sizeof(lbuf));
	if (e)
		return e;
	if (((struct nlhdr *)lbuf)->len < sizeof(struct nlhdr) + sizeof(struct ifinfo))
		return -ENODEV;
	if (l)
		parse_link(l);
	return 0;
}

// set_link sends an RTM_NEWLINK/RTM_SETLINK for link index: IFF_UP set or
// cleared (up 1/0; -1 leaves the flags), and at most one attribute.
static int set_link(struct nl *n, uint16_t type, int index, int up, uint16_t attr, const void *data, size_t len)
{
	struct req r;
	struct ifinfo ifi = { .index = index };

	if (up >= 0) {
		ifi.change = IFF_UP_;
		ifi.flags = up ? IFF_UP_ : 0;
	}
	req_init(&r, type, 0, &ifi, sizeof(ifi));
	if (attr)
		add_attr(&r, attr, data, len);
	return nl_talk(n, &r, 0, NULL, 0);
}

// del_link removes link index, or (index 0) the link named name.
static int del_link(struct nl *n, int index, const char *name)
{
	struct req r;
	struct ifinfo ifi = { .index = index };
	req_init(&r, RTM_DELLINK_, 0, &ifi, sizeof(ifi));
	if (!index)
		add_str(&r, IFLA_IFNAME_, name);
	return nl_talk(n, &r, 0, NULL, 0);
}

// bridge_addrs is linkPrefixes: the global addresses of link index.
static int bridge_addrs(int index, struct pfx *out, int max)
{
	struct nl n;
	int one = 1, cnt = 0, done = 0;
	struct req r;
	struct ifaddr ifa = { .index = index };
	struct sanl sa = { .family = AF_NETLINK };

	if (nl_open(&n))
		return -1;
	if (setsockopt(n.fd, SOL_NETLINK_, NETLINK_GET_STRICT_CHK_, &one, sizeof(one)) != 0)
		goto fail;
	req_init(&r, RTM_GETADDR_, NLM_F_DUMP_, &ifa, sizeof(ifa));
	r.h.seq = 1;
	if (sendto(n.fd, &r, r.h.len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	while (!done) {
		ssize_t got = recv(n.fd, rbuf, sizeof(rbuf), 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		for (char *p = rbuf; p + sizeof(struct nlhdr) <= rbuf + got; p += ALIGN4(((struct nlhdr *)p)->len)) {
			struct nlhdr *h = (struct nlhdr *)p;
			struct ifaddr *m = (struct ifaddr *)(h + 1);
			const uint8_t *local = NULL, *addr = NULL;
			if (h->len < sizeof(*h) || p + h->len > rbuf + got)
				goto fail;
			if (h->seq != 1)
				continue;
			if (h->flags & NLM_F_DUMP_INTR_)
				goto fail; // interrupted: Go retries; leave it to Go
			if (h->type == NLMSG_DONE_ || h->type == NLMSG_ERROR_) {
				if (h->type == NLMSG_ERROR_ && h->len >= sizeof(*h) + 4 && *(int32_t *)(h + 1))
					goto fail;
				done = 1;
				break;
			}
			if (h->type != RTM_NEWADDR_ || h->len < sizeof(*h) + sizeof(*m))
				continue;
			if ((int)m->index != index || m->scope != 0)
				continue;
			for (char *q = (char *)(m + 1); q + sizeof(struct rta) <= p + h->len;) {
				struct rta *a = (struct rta *)q;
				if (a->len < sizeof(*a) || q + a->len > p + h->len)
					break;
				if (a->type == IFA_LOCAL_)
					local = (uint8_t *)(a + 1);
				else if (a->type == IFA_ADDRESS_)
					addr = (uint8_t *)(a + 1);
				q += ALIGN4(a->len);
			}
			if (!local)
				local = addr;
			if (!local || (m->family != AF_INET && m->family != AF_INET6))
				continue;
			if (cnt == max)
				goto fail;
			memset(&out[cnt], 0, sizeof(out[cnt]));
			out[cnt].a.fam = m->family == AF_INET ? 4 : 6;
			memcpy(out[cnt].a.b, local, ip_len(&out[cnt].a));
			if (out[cnt].a.fam == 6 && !memcmp(out[cnt].a.b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
				goto fail; // Go unmaps it
			out[cnt].bits = m->prefixlen;
			cnt++;
		}
	}
	close(n.fd);
	return cnt;
fail:
	close(n.fd);
	return -1;
}

// ---- the run ----

struct areq {
	int autoreq;
	struct ip a;
	int bits; // -1: the bridge subnet's
};

static struct {
	const char *bridge, *ifname, *hostif, *target;
	int newns, nogw;
	struct areq reqs[MAX_ADDRS];
	int nreq;
	struct ip gws[MAX_ADDRS];
	int ngw;
	// the run's state, for the rollback
	int hostidx, lodown;
	const char *veth; // the host end made, until its index is known
	struct nl host, cont;
	char tname[sizeof(NETNS_DIR) + 256];
	char pinpath[sizeof(NETNS_DIR) + 256];
} m;

static void rollback(void)
{
	if (m.lodown)
		set_link(&m.cont, RTM_NEWLINK_, m.lodown, 0, 0, NULL, 0);
	if (m.hostidx)
		del_link(&m.host, m.hostidx, NULL);
	else if (m.veth)
		del_link(&m.host, 0, m.veth);
	if (m.pinpath[0]) {
		// RemoveNetns (Unpin): the nsfs mounts on the file, then the file.
		for (int i = 0; i < 64; i++) {
			int fd = open(m.pinpath, O_PATH | O_NOFOLLOW | O_CLOEXEC), pinned = fd >= 0 && nsx_is_nsfs(fd);
			if (fd >= 0)
				close(fd);
			if (!pinned || umount2(m.pinpath, MNT_DETACH | UMOUNT_NOFOLLOW) != 0)
				break;
		}
		unlink(m.pinpath);
	}
}

// fail reports a failure after the first change, as the applet does
// ("mkbridge: OP: strerror" or "mkbridge: TEXT"), after the rollback.
static void fail(int err, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void fail(int err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rollback();
	nsx_name = "mkbridge";
	nsx_die(1, err < 0 ? -err : err, "%s", buf);
}

// option matches s against -c and --name: 1 and *val when it is one of
// them with its value (attached, after '=', or the next argument, which
// *a is moved to), -1 when it is one of them but the value is missing or
// spelt "-c=VAL" (pflag takes that too; leave it to Go), else 0.
static int option(char ***a, char c, const char *name, const char **val)
{
	const char *s = **a;
	size_t n = strlen(name);

	if (c && s[0] == '-' && s[1] == c) {
		if (s[2] == '=')
			return -1;
		*val = s[2] ? s + 2 : *++*a;
		return *val ? 1 : -1;
	}
	if (s[0] == '-' && s[1] == '-' && !strncmp(s + 2, name, n)) {
		if (s[2 + n] == '=') {
			*val = s + 3 + n;
			return 1;
		}
		if (!s[2 + n]) {
			*val = *++*a;
			return *val ? 1 : -1;
		}
	}
	return 0;
}

// parse takes the argument list (see the top), or returns 0.
static int parse(char **args)
{
	int k, nb = 0, ni = 0;
	const char *v;
	struct pfx p;

	m.ifname = "eth0";
	m.bridge = "nsbox0";
	for (char **a = args; *a; a++) {
		const char *s = *a;
		if (s[0] != '-' || !s[1]) {
			if (a[1])
				return 0; // options after the target, or a second operand
			m.target = s;
			break;
		}
		if (!strcmp(s, "--new")) {
			if (m.newns)
				return 0;
			m.newns = 1;
		} else if ((k = option(&a, 'b', "bridge", &v))) {
			if (k < 0 || nb++ || !check_ifname(v))
				return 0;
			m.bridge = v;
		} else if ((k = option(&a, 0, "bridge-addr", &v))) {
			// only checked (ParsePrefix): the bridge exists already
			if (k < 0 || !parse_pfx(v, &p) || !host_of(&p.a, &p))
				return 0;
		} else if ((k = option(&a, 'i', "ifname", &v))) {
			if (k < 0 || ni++ || !check_ifname(v))
				return 0;
			m.ifname = v;
		} else if ((k = option(&a, 0, "host-ifname", &v))) {
			if (k < 0 || m.hostif || !check_ifname(v))
				return 0;
			m.hostif = v;
		} else if ((k = option(&a, 'a', "addr", &v))) {
			struct areq *r = &m.reqs[m.nreq];
			if (k < 0 || m.nreq == MAX_ADDRS)
				return 0;
			memset(r, 0, sizeof(*r));
			if (!strcmp(v, "auto"))
				r->autoreq = 1;
			else if (strchr(v, '/')) {
				if (!parse_pfx(v, &p))
					return 0;
				r->a = p.a;
				r->bits = p.bits;
			} else {
				if (!parse_ip(v, &r->a))
					return 0;
				r->bits = -1;
			}
			m.nreq++;
		} else if ((k = option(&a, 'g', "gateway", &v))) {
			if (k < 0 || m.ngw == MAX_ADDRS)
				return 0;
			if (!strcmp(v, "none"))
				m.nogw = 1;
			else if (!parse_ip(v, &m.gws[m.ngw++]))
				return 0;
		} else
			return 0;
	}
	if (!m.target || (m.nogw && m.ngw))
		return 0;
	// Config.Validate
	if (m.hostif && !strcmp(m.hostif, m.bridge))
		return 0;
	for (int i = 0; i < m.nreq; i++) {
		struct areq *r = &m.reqs[i];
		if (r->autoreq)
			continue;
		if (r->bits > 0) {
			struct pfx q = { r->a, r->bits };
			if (!host_of(&r->a, &q))
				return 0;
		}
		if (!global_unicast(&r->a))
			return 0;
	}
	return 1;
}

// plan is netsetup's plan: the explicit addresses checked against the
// bridge's, and the subnets to allocate from; 0 when Go would refuse.
static int plan(const struct pfx *br, int nbr, struct pfx *expl, int *nexpl, struct pfx *autos, int *nauto)
{
	struct areq deflt = { .autoreq = 1 };
	const struct areq *reqs = m.reqs;
	int nreq = m.nreq, want_auto = 0, fam4 = 0, fam6 = 0;

	if (!nreq)
		reqs = &deflt, nreq = 1;
	*nexpl = *nauto = 0;
	for (int i = 0; i < nreq; i++) {
		const struct areq *r = &reqs[i];
		const struct pfx *sub = NULL;
		int nsubs = 0, bits = r->bits;
		if (r->autoreq) {
			want_auto = 1;
			continue;
		}
		for (int j = 0; j < nbr; j++) {
			if (br[j].a.fam != r->a.fam)
				continue;
			nsubs++;
			if (!sub && contains(&br[j], &r->a))
				sub = &br[j];
		}
		if (!sub && (nsubs || bits < 0))
			return 0;
		if (sub) {
			if (bits < 0)
				bits = sub->bits;
			if (!host_of(&r->a, sub))
				return 0;
		}
		for (int j = 0; j < nbr; j++)
			if (ip_eq(&br[j].a, &r->a))
				return 0;
		for (int j = 0; j < *nexpl; j++)
			if (ip_eq(&expl[j].a, &r->a))
				return 0;
		if (r->a.fam == 4)
			fam4 = 1;
		else
			fam6 = 1;
		expl[*nexpl].a = r->a;
		expl[*nexpl].bits = bits;
		(*nexpl)++;
	}
	if (want_auto)
		for (int j = 0; j < nbr; j++) {
			int *f = br[j].a.fam == 4 ? &fam4 : &fam6;
			if (!*f) {
				*f = 1;
				autos[(*nauto)++] = br[j];
			}
		}
	return *nexpl || *nauto;
}

// hints is bridgeHints: the last addresses the alias records.
static void hints(const char *alias, struct ip *last4, struct ip *last6)
{
	char buf[256], *save = NULL;

	memset(last4, 0, sizeof(*last4));
	memset(last6, 0, sizeof(*last6));
	snprintf(buf, sizeof(buf), "%s", alias);
	for (char *f = strtok_r(buf, " \t\n\v\f\r", &save); f; f = strtok_r(NULL, " \t\n\v\f\r", &save)) {
		if (!strncmp(f, "last=", 5))
			parse_ip(f + 5, last4);
		else if (!strncmp(f, "last6=", 6))
			parse_ip(f + 6, last6);
	}
}

// no_link_local is LinkSetIP6AddrGenMode(link, IN6_ADDR_GEN_MODE_NONE): the
// link takes no IPv6 link-local address, and so sends no DAD, MLD or
// router solicitation when it comes up. A kernel without IPv6 is no
// failure.
static int no_link_local(struct nl *n, int index)
{
	char af[12] = { 0 };
	struct rta *a6 = (struct rta *)af, *gm = (struct rta *)(af + 4);
	int e;

	a6->type = AF_INET6;
	a6->len = sizeof(af);
	gm->type = IFLA_INET6_ADDR_GEN_MODE_;
	gm->len = 5;
	af[8] = 1; // IN6_ADDR_GEN_MODE_NONE
	e = set_link(n, RTM_SETLINK_, index, -1, IFLA_AF_SPEC_, af, sizeof(af));
	return e == -EAFNOSUPPORT ? 0 : e;
}

static int add_altname(int index, const char *name)
{
	struct req r;
	struct ifinfo ifi = { .index = index };
	struct rta *l;

	req_init(&r, RTM_NEWLINKPROP_, 0, &ifi, sizeof(ifi));
	l = nest(&r, IFLA_PROP_LIST_ | NLA_F_NESTED_);
	add_attr(&r, IFLA_ALT_IFNAME_, name, strlen(name));
	nest_end(&r, l);
	return nl_talk(&m.host, &r, 0, NULL, 0);
}

// open_netns is OpenTarget's checks on an open file: a network namespace,
// not the caller's own. It returns the descriptor (and *st) or -1.
static int open_netns(const char *path, struct stat *st)
{
	struct stat own;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	if (!nsx_is_nsfs(fd) || fstat(fd, st) != 0 ||
	    ioctl(fd, NS_GET_NSTYPE_) != CLONE_NEWNET_ ||
	    (stat("/proc/thread-self/ns/net", &own) == 0 && own.st_ino == st->st_ino)) {
		close(fd);
		return -1;
	}
	return fd;
}

// nl_open_in opens a netlink socket in the namespace nsfd, then returns to
// orig.
static int nl_open_in(struct nl *n, int nsfd, int orig)
{
	int e;
	if (setns(nsfd, CLONE_NEWNET_) != 0)
		return -errno;
	e = nl_open(n);
	if (setns(orig, CLONE_NEWNET_) != 0)
		nsx_die(1, errno, "setns back to the caller's network namespace failed"); // cannot happen
	return e;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void nsx_fast_mkbridge(char **args, char **envp)
{
	struct pfx br[MAX_ADDRS], expl[MAX_ADDRS], autos[2], addrs[MAX_ADDRS + 2];
	int nbr, nexpl, nauto, naddrs, lockfd = -1, nsfd = -1, orig = -1, ours;
	struct link brl, l;
	struct stat st;
	struct ip gws[MAX_ADDRS], last4, last6;
	int ngws = 0;
	char hostif[16], name[160], s[64];
	int e;

	(void)envp;
	if (getuid() != geteuid() || getgid() != getegid() || geteuid() != 0)
		return;
	memset(&m, 0, sizeof(m));
	m.host.fd = m.cont.fd = -1;
	if (!parse(args))
		return;
	if (m.newns) {
		const char *t = m.target;
		if (!nsx_valid_netns_name(t))
			return;
		for (; *t; t++)
			if (*t < '0' || *t > '9')
				break;
		if (!*t)
			return; // all digits: Go refuses it
		if (!strcmp(m.ifname, "lo"))
			return;
		snprintf(m.tname, sizeof(m.tname), NETNS_DIR "/%s", m.target);
	} else {
		const char *t = m.target;
		if (!*t || !strcmp(t, ".") || !strcmp(t, ".."))
			return;
		if (nsx_parse_pid(t))
			snprintf(m.tname, sizeof(m.tname), "/proc/%s/ns/net", t);
		else if (strchr(t, '/'))
			snprintf(m.tname, sizeof(m.tname), "%s", m.target);
		else {
			for (; *t; t++)
				if (*t < '0' || *t > '9')
					break;
			if (!*t)
				return; // digits that are not a PID's spelling
			if (strlen(m.target) > 255)
				return;
			snprintf(m.tname, sizeof(m.tname), NETNS_DIR "/%s", m.target);
		}
		if ((nsfd = open_netns(m.tname, &st)) < 0)
			return;
	}
	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0 || nl_open(&m.host))
		goto back;

	// The names are free (Setup's first checks).
	if (!m.newns) {
		if (nl_open_in(&m.cont, nsfd, orig) || get_link(&m.cont, m.ifname, NULL) != -ENODEV)
			goto back;
	}
	if (m.hostif && get_link(&m.host, m.hostif, NULL) != -ENODEV)
		goto back;

	// ensureBridge, for a bridge that exists and is up, under the lock.
	lockfd = open(LOCK_PATH, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lockfd < 0)
		goto back;
	while ((e = flock(lockfd, LOCK_EX)) != 0 && errno == EINTR)
		;
	if (e != 0 || get_link(&m.host, m.bridge, &brl) != 0 || strcmp(brl.kind, "bridge") || !(brl.flags & IFF_UP_))
		goto back;
	if ((nbr = bridge_addrs(brl.index, br, MAX_ADDRS)) < 0)
		goto back;
	if (!plan(br, nbr, expl, &nexpl, autos, &nauto))
		goto back;
	for (int i = 0; i < nexpl; i++) { // checkFree
		record_name(m.bridge, &expl[i].a, name, sizeof(name));
		if (get_link(&m.host, name, NULL) != -ENODEV)
			goto back;
	}
	close(lockfd);
	lockfd = -1;
	ours = !strcmp(brl.alias, ALIAS_PREFIX) || !strncmp(brl.alias, ALIAS_PREFIX " ", sizeof(ALIAS_PREFIX));

	if (m.newns) {
		// NewNetns: unshare, pin as ip netns add does (NETNS_DIR a shared
		// mount point already; else Go prepares it), back to our own.
		int fd;
		if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) != 0)
			goto back;
		fd = open(m.tname, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0)
			goto back;
		close(fd);
		if (unshare(CLONE_NEWNET) != 0) {
			unlink(m.tname);
			goto back;
		}
		e = mount("/proc/thread-self/ns/net", m.tname, NULL, MS_BIND, NULL) ? errno : 0;
		if (setns(orig, CLONE_NEWNET_) != 0)
			nsx_die(1, errno, "setns back to the caller's network namespace failed");
		if (e) {
			unlink(m.tname);
			goto back;
		}
		snprintf(m.pinpath, sizeof(m.pinpath), "%s", m.tname);
		// From here on a failure is reported here.
		if ((nsfd = open_netns(m.tname, &st)) < 0)
			fail(errno, "cannot open %s", m.tname);
		if ((e = nl_open_in(&m.cont, nsfd, orig)))
			fail(e, "netlink in %s", m.tname);
		e = get_link(&m.cont, m.ifname, NULL);
		if (e == 0)
			fail(0, "%s: interface already exists in %s", m.ifname, m.tname);
		if (e != -ENODEV)
			fail(e, "look up %s in %s", m.ifname, m.tname);
	}
	if (m.hostif)
		snprintf(hostif, sizeof(hostif), "%s", m.hostif);
	else if (!strcmp(m.ifname, "eth0"))
		snprintf(hostif, sizeof(hostif), "nsb%llx", (unsigned long long)st.st_ino);
	else {
		uint32_t h = 2166136261u;
		for (const char *c = m.ifname; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		snprintf(hostif, sizeof(hostif), "nsb%llx.%03x", (unsigned long long)st.st_ino, h & 0xfff);
	}
	if (!strcmp(hostif, m.bridge)) {
		if (!m.pinpath[0])
			goto back;
		fail(0, "host interface name '%s' is the bridge's", hostif);
	}
	if (!m.hostif) {
		e = get_link(&m.host, hostif, NULL);
		if (e != -ENODEV) {
			if (!m.pinpath[0])
				goto back;
			if (e == 0)
				fail(0, "%s: host interface already exists", hostif);
			fail(e, "look up %s", hostif);
		}
	}

	// The veth pair, its container end created inside under its name.
	{
		struct req r;
		struct ifinfo ifi = { 0 };
		struct rta *li, *data, *peer;
		req_init(&r, RTM_NEWLINK_, NLM_F_CREATE_ | NLM_F_EXCL_, &ifi, sizeof(ifi));
		add_str(&r, IFLA_IFNAME_, hostif);
		li = nest(&r, IFLA_LINKINFO_);
		add_attr(&r, IFLA_INFO_KIND_, "veth", 4);
		data = nest(&r, IFLA_INFO_DATA_);
		peer = nest(&r, VETH_INFO_PEER_);
		memcpy(req_tail(&r), &ifi, sizeof(ifi));
		r.h.len = ALIGN4(r.h.len) + sizeof(ifi);
		add_str(&r, IFLA_IFNAME_, m.ifname);
		add_u32(&r, IFLA_NET_NS_FD_, nsfd);
		nest_end(&r, peer);
		nest_end(&r, data);
		nest_end(&r, li);
		if ((e = nl_talk(&m.host, &r, 0, NULL, 0))) {
			if (!m.pinpath[0])
				goto back; // nothing changed yet: Go does it all and says why
			fail(e, "create veth %s (peer %s in %s)", hostif, m.ifname, m.tname);
		}
	}
	m.veth = hostif;
	if ((e = get_link(&m.host, hostif, &l)) || !l.index)
		fail(0, "%s: created, then not found", hostif); // Go's undo deletes it by name
	m.hostidx = l.index;

	// record: the altnames of the explicit addresses, then one address of
	// each auto subnet, after the bridge's hint.
	naddrs = 0;
	for (int i = 0; i < nexpl; i++) {
		record_name(m.bridge, &expl[i].a, name, sizeof(name));
		if ((e = add_altname(m.hostidx, name))) {
			if (e == -EEXIST)
				fail(0, "%s: address already in use on bridge %s", fmt_ip(&expl[i].a, s, sizeof(s)), m.bridge);
			fail(e, "record %s on %s", fmt_ip(&expl[i].a, s, sizeof(s)), hostif);
		}
		addrs[naddrs++] = expl[i];
	}
	hints(brl.alias, &last4, &last6);
	for (int i = 0; i < nauto; i++) {
		struct pfx p = masked(&autos[i]);
		struct ip hint = autos[i].a.fam == 4 ? last4 : last6, first = next(p.a), start = first, a, got = { 0 };
		if (hint.fam && contains(&p, &hint)) {
			struct ip n = next(hint);
			if (n.fam && contains(&p, &n))
				start = n;
		}
		a = start;
		for (int k = 0; k < MAX_SCAN; k++) {
			int skip = 0;
			for (int j = 0; j < nbr; j++)
				skip |= ip_eq(&br[j].a, &a);
			if (host_of(&a, &p) && !skip) {
				record_name(m.bridge, &a, name, sizeof(name));
				e = add_altname(m.hostidx, name);
				if (!e) {
					got = a;
					break;
				}
				if (e != -EEXIST)
					fail(e, "record %s on %s", fmt_ip(&a, s, sizeof(s)), hostif);
			}
			a = next(a);
			if (!a.fam || !contains(&p, &a))
				a = first;
			if (ip_eq(&a, &start))
				break;
		}
		if (!got.fam) {
			char ps[64];
			fail(0, "no free address left in %s on bridge %s", fmt_pfx(&p, ps, sizeof(ps)), m.bridge);
		}
		addrs[naddrs].a = got;
		addrs[naddrs++].bits = autos[i].bits;
		if (got.fam == 4)
			last4 = got;
		else
			last6 = got;
	}
	if (nauto && ours) {
		// Only a hint: a lost race costs the next run one more try.
		char alias[200], a4[48], a6[48];
		int len = snprintf(alias, sizeof(alias), "%s", ALIAS_PREFIX);
		if (last4.fam)
			len += snprintf(alias + len, sizeof(alias) - len, " last=%s", fmt_ip(&last4, a4, sizeof(a4)));
		if (last6.fam)
			snprintf(alias + len, sizeof(alias) - len, " last6=%s", fmt_ip(&last6, a6, sizeof(a6)));
		set_link(&m.host, RTM_SETLINK_, brl.index, -1, IFLA_IFALIAS_, alias, strlen(alias));
	}
	// gateways
	if (!m.nogw && m.ngw) {
		memcpy(gws, m.gws, sizeof(gws[0]) * m.ngw);
		ngws = m.ngw;
	} else if (!m.nogw) {
		int have4 = 0, have6 = 0;
		for (int i = 0; i < naddrs; i++)
			for (int j = 0; j < nbr; j++) {
				int *have = addrs[i].a.fam == 4 ? &have4 : &have6;
				if (*have || br[j].a.fam != addrs[i].a.fam || !contains(&addrs[i], &br[j].a))
					continue;
				gws[ngws++] = br[j].a;
				*have = 1;
			}
	}

	// The host end: no IPv6 link-local, on the bridge, up.
	if ((e = no_link_local(&m.host, m.hostidx)))
		fail(e, "no IPv6 link-local on %s", hostif);
	if ((e = set_link(&m.host, RTM_SETLINK_, m.hostidx, -1, IFLA_MASTER_, &brl.index, 4)))
		fail(e, "attach %s to %s", hostif, m.bridge);
	if ((e = set_link(&m.host, RTM_NEWLINK_, m.hostidx, 1, 0, NULL, 0)))
		fail(e, "set %s up", hostif);

	// Inside the container.
	if ((e = get_link(&m.cont, m.ifname, &l)))
		fail(e, "look up %s in %s", m.ifname, m.tname);
	for (int i = 0; i < naddrs; i++) {
		struct req r;
		struct ifaddr ifa = { .family = addrs[i].a.fam == 4 ? AF_INET : AF_INET6,
				      .prefixlen = addrs[i].bits, .index = l.index };
		int n = ip_len(&addrs[i].a);
		if (addrs[i].a.fam == 6)
			ifa.flags = IFA_F_NODAD_;
		req_init(&r, RTM_NEWADDR_, NLM_F_CREATE_ | NLM_F_EXCL_, &ifa, sizeof(ifa));
		add_attr(&r, IFA_LOCAL_, addrs[i].a.b, n);
		add_attr(&r, IFA_ADDRESS_, addrs[i].a.b, n);
		if (addrs[i].a.fam == 4 && addrs[i].bits < 31) {
			struct ip b = last_addr(&addrs[i]);
			if (memcmp(b.b, "\0\0\0\0", 4))
				add_attr(&r, IFA_BROADCAST_, b.b, 4);
		}
		if ((e = nl_talk(&m.cont, &r, 0, NULL, 0)))
			fail(e, "add address %s to %s", fmt_pfx(&addrs[i], s, sizeof(s)), m.ifname);
	}
	{
		int v6 = 0;
		for (int i = 0; i < naddrs; i++)
			v6 |= addrs[i].a.fam == 6;
		if (!v6 && (e = no_link_local(&m.cont, l.index)))
			fail(e, "no IPv6 link-local on %s", m.ifname);
	}
	if ((e = set_link(&m.cont, RTM_NEWLINK_, l.index, 1, 0, NULL, 0)))
		fail(e, "set %s up", m.ifname);
	{
		struct link lo;
		if ((e = get_link(&m.cont, "lo", &lo)))
			fail(e, "look up lo in %s", m.tname);
		if (!(lo.flags & IFF_UP_)) {
			if ((e = set_link(&m.cont, RTM_NEWLINK_, lo.index, 1, 0, NULL, 0)))
				fail(e, "set lo up");
			m.lodown = lo.index;
		}
	}
	for (int i = 0; i < ngws; i++) {
		struct req r;
		struct rtmsg_ rt = { .family = gws[i].fam == 4 ? AF_INET : AF_INET6, .table = RT_TABLE_MAIN_,
				     .protocol = RTPROT_BOOT_, .scope = 0, .type = RTN_UNICAST_ };
		req_init(&r, RTM_NEWROUTE_, NLM_F_CREATE_ | NLM_F_EXCL_, &rt, sizeof(rt));
		add_attr(&r, RTA_GATEWAY_, gws[i].b, ip_len(&gws[i]));
		add_u32(&r, RTA_OIF_, l.index);
		if ((e = nl_talk(&m.cont, &r, 0, NULL, 0)))
			fail(e, "add default route via %s", fmt_ip(&gws[i], s, sizeof(s)));
	}

	// "HOSTIF ADDR/PREFIX..."
	{
		char out[1024];
		int len = snprintf(out, sizeof(out), "%s", hostif);
		for (int i = 0; i < naddrs; i++)
			len += snprintf(out + len, sizeof(out) - len, " %s", fmt_pfx(&addrs[i], s, sizeof(s)));
		len += snprintf(out + len, sizeof(out) - len, "\n");
		if (write(1, out, len) != len) {
			// the applet's "write error" comes after the work is kept
			nsx_name = "mkbridge";
			nsx_die(1, errno, "write error");
		}
	}
	_exit(0);

back: { // nothing changed: the Go applet does it all
	int fds[] = { lockfd, nsfd, orig, m.host.fd, m.cont.fd };
	close_all(fds, 5);
}
}
