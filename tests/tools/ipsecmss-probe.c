// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss-probe - packet crafting, capture and transfer tool for the
 * IPSECMSS guest tests.
 *
 *   syn --src A --dst B --sport P --dport P [--ack] [--flags FSRPAUEC]
 *       [--opts HEX] [--doff N] [--payload N] [--bad-csum] [--ttl N]
 *       [--ipopts HEX] [--exthdr hbh,dst,rt,frag0,frag1] [--frag first|nonfirst]
 *       [--seq N] [--ack-seq N] [--window N]
 *     Send one crafted IPv4/IPv6 TCP segment through an IPPROTO_RAW socket
 *     (the headers are sent as built).  --opts is padded with EOL to a
 *     multiple of 4 unless --doff is given: then the bytes are used as they
 *     are and doff is written as given, to make malformed headers.  frag0
 *     is an atomic fragment header, frag1 a first fragment (M=1).
 *
 *   recv-syn --iface IF [--count N] [--timeout MS] [--port P] [--syn-only]
 *       [--ready FILE]
 *     Decode the next N incoming TCP segments, one line each:
 *     family src dst sport dport flags doff mss(N|none|bad) tcp_len payload
 *     opts(hex|-) csum(ok|partial|bad) iplen_ok ip_len [ipcsum] frag ttl.
 *     csum=partial: the sender left the sum to the device (veth keeps
 *     CHECKSUM_PARTIAL) and the check field holds exactly the pseudo-header
 *     sum, as it must.  --ready FILE is created once the socket is bound.
 *
 *   xfer-server --port P [--bind ADDR] [--count N] [--timeout MS] [--mss N]
 *       [--ready FILE]
 *   xfer-client --connect ADDR --port P [--bytes N] [--direction send|recv]
 *       [--timeout MS] [--mss N]
 *     A TCP transfer of N bytes of xorshift data; the receiver checks it and
 *     returns its FNV-1a 64, so both sides print match=yes|no, plus mss
 *     (TCP_MAXSEG: the announced MSS less 12 with timestamps), ts, pmtu and
 *     elapsed_ms.  A failure or timeout ends the connection with a reset.
 *
 *   wan-watch --iface IF [--duration MS] [--dir in|out|both] [--ready FILE]
 *     Until the duration passes or SIGINT/SIGTERM: esp (ESP and ESP in UDP
 *     4500) natt max_len esp_max_len frags too_big (ICMP frag needed, ICMPv6
 *     packet too big) pkts.  Lengths are as captured: a GSO aggregate counts
 *     as one large packet, and packets decapsulated by xfrm show up again as
 *     incoming on the device.
 *
 * Every result is printed as key=value on stdout.  Exit status: 0 success,
 * 1 failure or timeout, 2 usage error.  Everything captured is parsed
 * against the number of bytes really received, never a length field alone.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define IP4_HDR		20
#define IP6_HDR		40
#define TCP_HDR		20
#define TCP_OPTS_MAX	40
#define CRAFT_OPTS_MAX	512
#define IP4_OPTS_MAX	40
#define EXT_MAX		8
#define PKT_MAX		65535
#define CAP_BUF		(256 * 1024)
#define XFER_CHUNK	(64 * 1024)
#define DEFAULT_TIMEOUT	10000

#define PROTO_HOPOPTS	0
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ROUTING	43
#define PROTO_FRAGMENT	44
#define PROTO_ESP	50
#define PROTO_AH	51
#define PROTO_ICMP	1
#define PROTO_ICMPV6	58
#define PROTO_NONE	59
#define PROTO_DSTOPTS	60

#define TCPF_FIN	0x01
#define TCPF_SYN	0x02
#define TCPF_ACK	0x10

#define NATT_PORT	4500

static const char *prog = "ipsecmss-probe";
static volatile sig_atomic_t stop_requested;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* Report a failure: a short key on stdout, the details on stderr. */
static int fail(const char *what, int err)
{
	printf("error=%s\n", what);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	fflush(stdout);
	return EXIT_FAIL;
}

static unsigned long parse_num(const char *s, unsigned long min,
			       unsigned long max, const char *name)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		usage_error("%s: '%s' is not a number in %lu..%lu", name, s,
			    min, max);
	return v;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t parse_hex(const char *s, uint8_t *out, size_t cap,
			const char *name)
{
	size_t n = 0, len = strlen(s);
	int hi, lo;

	if (len % 2)
		usage_error("%s: odd number of hex digits", name);
	if (len / 2 > cap)
		usage_error("%s: more than %zu bytes", name, cap);
	for (; n < len / 2; n++) {
		hi = hex_digit(s[2 * n]);
		lo = hex_digit(s[2 * n + 1]);
		if (hi < 0 || lo < 0)
			usage_error("%s: '%s' is not hex", name, s);
		out[n] = hi << 4 | lo;
	}
	return n;
}

static void print_hex(const uint8_t *p, size_t len)
{
	size_t i;

	if (!len)
		fputc('-', stdout);
	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : (int)left;
}

static int touch_ready(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ------------------------------------------------------------------ */
/* Addresses and checksums                                             */

struct addr {
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

static int parse_addr(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static const char *addr_str(const struct addr *a, char *buf, size_t len)
{
	return inet_ntop(a->family, &a->u, buf, len);
}

static void addr_from_bytes(struct addr *a, int family, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(&a->u, p, family == AF_INET ? 4 : 16);
}

static size_t addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

/* Sum of big-endian 16-bit words; an odd last byte is padded with zero. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

static unsigned int csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned int)sum;
}

/* The pseudo-header of RFC 793 (IPv4) or RFC 8200 8.1 (IPv6). */
static uint64_t pseudo_sum(const struct addr *src, const struct addr *dst,
			   unsigned int proto, uint32_t len)
{
	uint64_t sum = 0;

	sum = csum_add(sum, (const uint8_t *)&src->u, addr_len(src));
	sum = csum_add(sum, (const uint8_t *)&dst->u, addr_len(dst));
	return sum + proto + (len >> 16) + (len & 0xffff);
}

/* One's complement equality: 0x0000 and 0xffff are both zero. */
static int csum_equal(unsigned int a, unsigned int b)
{
	if (a == 0xffff)
		a = 0;
	if (b == 0xffff)
		b = 0;
	return a == b;
}

/* ------------------------------------------------------------------ */
/* Parsing captured packets                                            */

enum frag_kind { FRAG_NONE = 0, FRAG_FIRST, FRAG_NONFIRST };

static const char *const frag_names[] = { "no", "first", "nonfirst" };

/* One IP packet as captured, with its upper-layer payload located. */
struct l3view {
	int family;
	struct addr src, dst;
	unsigned int ttl;
	size_t ip_len;		/* length claimed by the IP header */
	int iplen_ok;		/* claimed length agrees with the capture */
	int ipcsum_ok;		/* IPv4 header checksum */
	enum frag_kind frag;
	unsigned int proto;	/* upper-layer protocol, PROTO_NONE if unknown */
	const uint8_t *l4;
	size_t l4len;		/* bytes present, bounded by the IP length */
};

/* Ethernet pads short frames to 60 bytes: up to 46 bytes of IP. */
static int iplen_agrees(size_t claimed, size_t captured)
{
	return claimed == captured || (claimed < captured && captured <= 46);
}

static int parse_ipv4(const uint8_t *p, size_t len, struct l3view *v)
{
	size_t ihl, end;
	unsigned int frag;

	if (len < IP4_HDR || p[0] >> 4 != 4)
		return -1;
	ihl = (size_t)(p[0] & 0xf) * 4;
	if (ihl < IP4_HDR || ihl > len)
		return -1;
	v->family = AF_INET;
	addr_from_bytes(&v->src, AF_INET, p + 12);
	addr_from_bytes(&v->dst, AF_INET, p + 16);
	v->ttl = p[8];
	v->ip_len = get16(p + 2);
	v->iplen_ok = v->ip_len >= ihl && iplen_agrees(v->ip_len, len);
	v->ipcsum_ok = csum_fold(csum_add(0, p, ihl)) == 0xffff;
	frag = get16(p + 6);
	v->frag = (frag & 0x1fff) ? FRAG_NONFIRST :
		  (frag & 0x2000) ? FRAG_FIRST : FRAG_NONE;
	v->proto = p[9];
	end = (v->ip_len >= ihl && v->ip_len < len) ? v->ip_len : len;
	v->l4 = p + ihl;
	v->l4len = end - ihl;
	return 0;
}

/* Walk the IPv6 extension headers up to the upper-layer header. */
static void walk_ipv6_ext(const uint8_t *p, size_t end, unsigned int nh,
			  struct l3view *v)
{
	size_t off = IP6_HDR, hlen;
	int hops;

	for (hops = 0; hops < 16; hops++) {
		if (nh == PROTO_HOPOPTS || nh == PROTO_ROUTING ||
		    nh == PROTO_DSTOPTS || nh == PROTO_AH) {
			if (end - off < 2)
				break;
			hlen = nh == PROTO_AH ? ((size_t)p[off + 1] + 2) * 4 :
						((size_t)p[off + 1] + 1) * 8;
		} else if (nh == PROTO_FRAGMENT) {
			if (end - off < 8)
				break;
			hlen = 8;
			if (get16(p + off + 2) >> 3)
				v->frag = FRAG_NONFIRST;
			else if (p[off + 3] & 1)
				v->frag = FRAG_FIRST;
		} else {
			v->proto = nh;
			v->l4 = p + off;
			v->l4len = end - off;
			return;
		}
		if (hlen > end - off)
			break;
		nh = p[off];
		off += hlen;
	}
	v->proto = PROTO_NONE;
	v->l4 = p + end;
	v->l4len = 0;
}

static int parse_ipv6(const uint8_t *p, size_t len, struct l3view *v)
{
	size_t end;

	if (len < IP6_HDR || p[0] >> 4 != 6)
		return -1;
	v->family = AF_INET6;
	addr_from_bytes(&v->src, AF_INET6, p + 8);
	addr_from_bytes(&v->dst, AF_INET6, p + 24);
	v->ttl = p[7];
	v->ip_len = IP6_HDR + get16(p + 4);
	v->iplen_ok = iplen_agrees(v->ip_len, len);
	v->ipcsum_ok = 1;
	v->frag = FRAG_NONE;
	end = v->ip_len < len ? v->ip_len : len;
	walk_ipv6_ext(p, end, p[6], v);
	return 0;
}

static int parse_l3(const uint8_t *p, size_t len, unsigned int ethertype,
		    struct l3view *v)
{
	memset(v, 0, sizeof(*v));
	if (ethertype == ETH_P_IP)
		return parse_ipv4(p, len, v);
	if (ethertype == ETH_P_IPV6)
		return parse_ipv6(p, len, v);
	if (len && p[0] >> 4 == 4)	/* e.g. a tunnel device */
		return parse_ipv4(p, len, v);
	if (len && p[0] >> 4 == 6)
		return parse_ipv6(p, len, v);
	return -1;
}

enum mss_state { MSS_FOUND, MSS_ABSENT, MSS_BAD };
enum csum_state { CSUM_OK, CSUM_PARTIAL, CSUM_BAD };

static const char *const csum_names[] = { "ok", "partial", "bad" };

/* One decoded TCP header (at least TCP_HDR bytes present). */
struct tcpview {
	unsigned int sport, dport, flags, doff;
	size_t len;		/* segment bytes present */
	size_t payload;		/* bytes after the header, if doff is sane */
	enum mss_state mss_state;
	unsigned int mss;
	const uint8_t *opts;
	size_t optlen;		/* option bytes present within doff */
	enum csum_state csum;
};

/*
 * Find the MSS option the way the target must: EOL ends the list, NOP is
 * one byte, every other option needs a length byte of at least 2 that stays
 * within the header; an MSS option has length 4 and appears once.
 */
static enum mss_state tcp_find_mss(const uint8_t *opt, size_t len,
				   unsigned int *mss)
{
	enum mss_state st = MSS_ABSENT;
	size_t i = 0, olen;

	while (i < len) {
		if (opt[i] == 0)
			break;
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (len - i < 2)
			return MSS_BAD;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return MSS_BAD;
		if (opt[i] == 2) {
			if (olen != 4 || st == MSS_FOUND)
				return MSS_BAD;
			*mss = get16(opt + i + 2);
			st = MSS_FOUND;
		}
		i += olen;
	}
	return st;
}

/*
 * A CHECKSUM_PARTIAL segment (the sender left the sum to the device) holds
 * only the folded pseudo-header sum in its check field: that is checked.
 */
static enum csum_state tcp_check_csum(const struct l3view *v,
				      const uint8_t *tcp, size_t len,
				      int partial)
{
	uint64_t ph = pseudo_sum(&v->src, &v->dst, PROTO_TCP, len);

	if (csum_fold(csum_add(ph, tcp, len)) == 0xffff)
		return CSUM_OK;
	if (partial && csum_equal(get16(tcp + 16), csum_fold(ph)))
		return CSUM_PARTIAL;
	return CSUM_BAD;
}

static int parse_tcp(const struct l3view *v, int partial, struct tcpview *t)
{
	const uint8_t *p = v->l4;
	size_t hdr;

	memset(t, 0, sizeof(*t));
	if (v->l4len < TCP_HDR)
		return -1;
	t->len = v->l4len;
	t->sport = get16(p);
	t->dport = get16(p + 2);
	t->doff = p[12] >> 4;
	t->flags = p[13];
	hdr = (size_t)t->doff * 4;
	if (hdr > TCP_HDR)
		t->opts = p + TCP_HDR;
	t->optlen = hdr > t->len ? t->len - TCP_HDR :
		    hdr > TCP_HDR ? hdr - TCP_HDR : 0;
	if (hdr < TCP_HDR || hdr > t->len) {
		t->mss_state = MSS_BAD;
	} else {
		t->payload = t->len - hdr;
		t->mss_state = tcp_find_mss(t->opts, t->optlen, &t->mss);
	}
	t->csum = tcp_check_csum(v, p, t->len, partial);
	return 0;
}

static void tcp_flags_str(unsigned int flags, char *out)
{
	static const struct { unsigned int bit; char c; } names[] = {
		{ 0x02, 'S' }, { 0x01, 'F' }, { 0x04, 'R' }, { 0x08, 'P' },
		{ 0x10, 'A' }, { 0x20, 'U' }, { 0x40, 'E' }, { 0x80, 'C' },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit)
			out[n++] = names[i].c;
	if (!n)
		out[n++] = '-';
	out[n] = 0;
}

static unsigned int parse_tcp_flags(const char *s)
{
	static const char letters[] = "FSRPAUEC";
	unsigned int flags = 0;
	const char *c;

	if (!strcmp(s, "none"))
		return 0;
	for (; *s; s++) {
		c = strchr(letters, *s);
		if (!c)
			usage_error("--flags: unknown flag '%c' (FSRPAUEC)", *s);
		flags |= 1u << (c - letters);
	}
	return flags;
}

/* ------------------------------------------------------------------ */
/* Capturing                                                           */

struct frame {
	const uint8_t *data;
	size_t len;		/* bytes captured */
	size_t orig_len;	/* bytes on the device */
	unsigned int ethertype;
	int outgoing;
	int csum_partial;	/* the kernel left the L4 checksum undone */
};

static int open_capture(const char *ifname)
{
	struct sockaddr_ll sll;
	int fd, one = 1;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "%s: no interface '%s'\n", prog, ifname);
		return -1;
	}
	/* Protocol 0 receives nothing until bound to the one interface. */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void frame_aux(struct msghdr *msg, struct frame *f)
{
	struct cmsghdr *c;
	struct tpacket_auxdata aux;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		f->csum_partial = !!(aux.tp_status & TP_STATUS_CSUMNOTREADY);
		f->orig_len = aux.tp_len;
	}
}

/* 1: a frame in @f, 0: deadline passed or a signal, -1: error. */
static int capture_next(int fd, uint8_t *buf, size_t cap, int64_t deadline,
			struct frame *f)
{
	char ctrl[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct sockaddr_ll sll;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_name = &sll, .msg_namelen = sizeof(sll),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
	};
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	for (;;) {
		/* Once stopped, only what is already queued is read. */
		r = stop_requested ? 1 :
		    poll(&pfd, 1, deadline < 0 ? -1 : remaining_ms(deadline));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r == 0)
			return 0;
		n = recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (stop_requested)
				return 0;
			continue;
		}
		if (n < 0)
			return -1;
		memset(f, 0, sizeof(*f));
		f->data = buf;
		f->len = (size_t)n < cap ? (size_t)n : cap;
		f->orig_len = (size_t)n;
		f->ethertype = ntohs(sll.sll_protocol);
		f->outgoing = sll.sll_pkttype == PACKET_OUTGOING;
		frame_aux(&msg, f);
		return 1;
	}
}

/* ------------------------------------------------------------------ */
/* syn: craft and send one TCP segment                                 */

struct syn_opts {
	struct addr src, dst;
	unsigned int sport, dport, flags, ttl, window;
	unsigned int doff;	/* data offset to write, if doff_given */
	int doff_given;		/* else: the header's real length */
	uint32_t seq, ack;
	size_t payload;
	int bad_csum;
	enum frag_kind frag;
	uint8_t opts[CRAFT_OPTS_MAX];
	size_t optlen;
	uint8_t ipopts[IP4_OPTS_MAX];
	size_t ipoptlen;
	unsigned int ext[EXT_MAX];	/* IPv6 extension header kinds */
	size_t n_ext;
};

enum ext_kind { EXT_HBH, EXT_DST, EXT_RT, EXT_FRAG0, EXT_FRAG1, EXT_FRAGN };

static unsigned int ext_proto(unsigned int kind)
{
	switch (kind) {
	case EXT_HBH:
		return PROTO_HOPOPTS;
	case EXT_DST:
		return PROTO_DSTOPTS;
	case EXT_RT:
		return PROTO_ROUTING;
	default:
		return PROTO_FRAGMENT;
	}
}

static void parse_exthdrs(const char *list, struct syn_opts *o)
{
	static const char *const names[] = { "hbh", "dst", "rt", "frag0", "frag1" };
	char *copy = strdup(list), *tok, *save = NULL;
	size_t i;

	if (!copy)
		usage_error("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			usage_error("--exthdr: '%s' is not hbh, dst, rt, frag0 or frag1", tok);
		if (o->n_ext == EXT_MAX - 1)
			usage_error("--exthdr: too many headers");
		o->ext[o->n_ext++] = i;
	}
	free(copy);
}

/* 8 bytes of one extension header; @nh is the header that follows. */
static void build_ext(unsigned int kind, unsigned int nh, uint8_t *p)
{
	memset(p, 0, 8);
	p[0] = nh;
	switch (kind) {
	case EXT_HBH:
	case EXT_DST:
		p[2] = 1;	/* PadN of 4 bytes fills the header */
		p[3] = 4;
		break;
	case EXT_RT:
		p[2] = 0;	/* type 0, segments left 0: ignored */
		p[3] = 0;
		break;
	case EXT_FRAG1:
		put16(p + 2, 1);		/* offset 0, more fragments */
		put32(p + 4, 0x1e5ec055);
		break;
	case EXT_FRAGN:
		put16(p + 2, 1 << 3);		/* offset 8 bytes, last */
		put32(p + 4, 0x1e5ec055);
		break;
	default:				/* EXT_FRAG0: atomic fragment */
		put32(p + 4, 0x1e5ec055);
		break;
	}
}

static size_t tcp_opt_bytes(const struct syn_opts *o)
{
	return o->doff_given ? o->optlen : pad4(o->optlen);
}

static size_t build_tcp(const struct syn_opts *o, uint8_t *tcp)
{
	size_t optbytes = tcp_opt_bytes(o);
	size_t hdr = TCP_HDR + optbytes, i;

	put16(tcp, o->sport);
	put16(tcp + 2, o->dport);
	put32(tcp + 4, o->seq);
	put32(tcp + 8, (o->flags & TCPF_ACK) ? o->ack : 0);
	tcp[12] = (o->doff_given ? o->doff : hdr / 4) << 4;
	tcp[13] = o->flags;
	put16(tcp + 14, o->window);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	memset(tcp + TCP_HDR, 0, optbytes);	/* EOL padding */
	memcpy(tcp + TCP_HDR, o->opts, o->optlen);
	for (i = 0; i < o->payload; i++)
		tcp[hdr + i] = 'a' + i % 26;
	return hdr + o->payload;
}

static void tcp_set_csum(const struct syn_opts *o, uint8_t *tcp, size_t len)
{
	uint64_t sum = pseudo_sum(&o->src, &o->dst, PROTO_TCP, len);
	unsigned int check = ~csum_fold(csum_add(sum, tcp, len)) & 0xffff;

	if (o->bad_csum)
		check ^= 0x5a5a;
	put16(tcp + 16, check);
}

static size_t ip_header_len(const struct syn_opts *o)
{
	if (o->src.family == AF_INET)
		return IP4_HDR + pad4(o->ipoptlen);
	return IP6_HDR + 8 * (o->n_ext + (o->frag != FRAG_NONE));
}

static void build_ipv4(const struct syn_opts *o, uint8_t *p, size_t hlen,
		       size_t total)
{
	unsigned int frag = o->frag == FRAG_FIRST ? 0x2000 :
			    o->frag == FRAG_NONFIRST ? 1 : 0x4000;

	memset(p, 0, hlen);
	p[0] = 0x40 | hlen / 4;
	put16(p + 2, total);
	put16(p + 4, (getpid() & 0xffff) | 1);
	put16(p + 6, frag);
	p[8] = o->ttl;
	p[9] = PROTO_TCP;
	memcpy(p + 12, &o->src.u.v4, 4);
	memcpy(p + 16, &o->dst.u.v4, 4);
	memcpy(p + IP4_HDR, o->ipopts, o->ipoptlen);	/* EOL padding */
	put16(p + 10, ~csum_fold(csum_add(0, p, hlen)) & 0xffff);
}

static void build_ipv6(const struct syn_opts *o, uint8_t *p, size_t total)
{
	unsigned int kinds[EXT_MAX];
	size_t n = o->n_ext, i;

	memcpy(kinds, o->ext, n * sizeof(kinds[0]));
	if (o->frag != FRAG_NONE)
		kinds[n++] = o->frag == FRAG_FIRST ? EXT_FRAG1 : EXT_FRAGN;
	memset(p, 0, IP6_HDR);
	p[0] = 0x60;
	put16(p + 4, total - IP6_HDR);
	p[6] = n ? ext_proto(kinds[0]) : PROTO_TCP;
	p[7] = o->ttl;
	memcpy(p + 8, &o->src.u.v6, 16);
	memcpy(p + 24, &o->dst.u.v6, 16);
	for (i = 0; i < n; i++)
		build_ext(kinds[i], i + 1 < n ? ext_proto(kinds[i + 1]) : PROTO_TCP,
			  p + IP6_HDR + 8 * i);
}

static int send_raw(const struct addr *dst, const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	ssize_t n;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (dst->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = dst->u.v4;
		slen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = dst->u.v6;
		slen = sizeof(*sin6);
	}
	/* IPPROTO_RAW implies IP_HDRINCL (and IPV6_HDRINCL): sent as built. */
	fd = socket(dst->family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return fail("socket", errno);
	if (dst->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one));
	n = sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, slen);
	close(fd);
	if (n < 0)
		return fail("sendto", errno);
	if ((size_t)n != len)
		return fail("short-send", 0);
	return EXIT_OK;
}

static void syn_usage(void)
{
	usage_error("usage: syn --src A --dst B --sport P --dport P [--ack] "
		    "[--flags FSRPAUEC] [--opts HEX] [--doff N] [--payload N] "
		    "[--bad-csum] [--ttl N] [--ipopts HEX] [--exthdr LIST] "
		    "[--frag first|nonfirst] [--seq N] [--ack-seq N] [--window N]");
}

static void syn_parse(int argc, char **argv, struct syn_opts *o)
{
	enum { O_SRC = 256, O_DST, O_SPORT, O_DPORT, O_ACK, O_FLAGS, O_OPTS,
	       O_DOFF, O_PAYLOAD, O_BADCSUM, O_TTL, O_IPOPTS, O_EXT, O_FRAG,
	       O_SEQ, O_ACKSEQ, O_WINDOW };
	static const struct option lo[] = {
		{ "src", 1, 0, O_SRC }, { "dst", 1, 0, O_DST },
		{ "sport", 1, 0, O_SPORT }, { "dport", 1, 0, O_DPORT },
		{ "ack", 0, 0, O_ACK }, { "flags", 1, 0, O_FLAGS },
		{ "opts", 1, 0, O_OPTS }, { "doff", 1, 0, O_DOFF },
		{ "payload", 1, 0, O_PAYLOAD }, { "bad-csum", 0, 0, O_BADCSUM },
		{ "ttl", 1, 0, O_TTL }, { "ipopts", 1, 0, O_IPOPTS },
		{ "exthdr", 1, 0, O_EXT }, { "frag", 1, 0, O_FRAG },
		{ "seq", 1, 0, O_SEQ }, { "ack-seq", 1, 0, O_ACKSEQ },
		{ "window", 1, 0, O_WINDOW }, { 0, 0, 0, 0 },
	};
	int c, have_src = 0, have_dst = 0;

	memset(o, 0, sizeof(*o));
	o->flags = TCPF_SYN;
	o->ttl = 64;
	o->window = 64240;
	o->seq = 0x11223344;
	o->ack = 0x55667788;
	o->sport = o->dport = 0x10000;	/* unset */
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_SRC:
			if (parse_addr(optarg, &o->src))
				usage_error("--src: bad address '%s'", optarg);
			have_src = 1;
			break;
		case O_DST:
			if (parse_addr(optarg, &o->dst))
				usage_error("--dst: bad address '%s'", optarg);
			have_dst = 1;
			break;
		case O_SPORT:
			o->sport = parse_num(optarg, 0, 65535, "--sport");
			break;
		case O_DPORT:
			o->dport = parse_num(optarg, 0, 65535, "--dport");
			break;
		case O_ACK:
			o->flags |= TCPF_ACK;
			break;
		case O_FLAGS:
			o->flags = parse_tcp_flags(optarg);
			break;
		case O_OPTS:
			o->optlen = parse_hex(optarg, o->opts, sizeof(o->opts), "--opts");
			break;
		case O_DOFF:
			o->doff = parse_num(optarg, 0, 15, "--doff");
			o->doff_given = 1;
			break;
		case O_PAYLOAD:
			o->payload = parse_num(optarg, 0, PKT_MAX, "--payload");
			break;
		case O_BADCSUM:
			o->bad_csum = 1;
			break;
		case O_TTL:
			o->ttl = parse_num(optarg, 1, 255, "--ttl");
			break;
		case O_IPOPTS:
			o->ipoptlen = parse_hex(optarg, o->ipopts, sizeof(o->ipopts), "--ipopts");
			break;
		case O_EXT:
			parse_exthdrs(optarg, o);
			break;
		case O_FRAG:
			if (!strcmp(optarg, "first"))
				o->frag = FRAG_FIRST;
			else if (!strcmp(optarg, "nonfirst"))
				o->frag = FRAG_NONFIRST;
			else
				usage_error("--frag: first or nonfirst");
			break;
		case O_SEQ:
			o->seq = parse_num(optarg, 0, 0xffffffffUL, "--seq");
			break;
		case O_ACKSEQ:
			o->ack = parse_num(optarg, 0, 0xffffffffUL, "--ack-seq");
			break;
		case O_WINDOW:
			o->window = parse_num(optarg, 0, 65535, "--window");
			break;
		default:
			syn_usage();
		}
	}
	if (optind != argc || !have_src || !have_dst || o->sport > 65535 ||
	    o->dport > 65535)
		syn_usage();
	if (o->src.family != o->dst.family)
		usage_error("--src and --dst of different families");
	if (o->src.family == AF_INET6 && o->ipoptlen)
		usage_error("--ipopts is IPv4 only (IPv6: --exthdr)");
	if (o->src.family == AF_INET && o->n_ext)
		usage_error("--exthdr is IPv6 only");
	if (!o->doff_given && pad4(o->optlen) > TCP_OPTS_MAX)
		usage_error("--opts: more than 40 bytes needs an explicit --doff");
}

static int cmd_syn(int argc, char **argv)
{
	static uint8_t pkt[PKT_MAX + IP6_HDR];
	struct syn_opts o;
	size_t hlen, tlen, total;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	syn_parse(argc, argv, &o);
	hlen = ip_header_len(&o);
	tlen = TCP_HDR + tcp_opt_bytes(&o) + o.payload;
	total = hlen + tlen;
	if (total > (o.src.family == AF_INET ? PKT_MAX : PKT_MAX + IP6_HDR))
		usage_error("packet of %zu bytes is too large", total);
	build_tcp(&o, pkt + hlen);
	tcp_set_csum(&o, pkt + hlen, tlen);
	if (o.src.family == AF_INET)
		build_ipv4(&o, pkt, hlen, total);
	else
		build_ipv6(&o, pkt, total);
	if (send_raw(&o.dst, pkt, total))
		return EXIT_FAIL;
	printf("sent=1 family=%d src=%s dst=%s ip_len=%zu tcp_len=%zu doff=%u\n",
	       o.src.family == AF_INET ? 4 : 6, addr_str(&o.src, s, sizeof(s)),
	       addr_str(&o.dst, d, sizeof(d)), total, tlen, pkt[hlen + 12] >> 4);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* recv-syn: capture and decode TCP segments                           */

struct recv_opts {
	const char *ifname, *ready;
	unsigned long count;
	int timeout_ms;
	long port;		/* -1: any */
	int syn_only;
};

static void print_segment(const struct l3view *v, const struct tcpview *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], flags[9];

	tcp_flags_str(t->flags, flags);
	printf("family=%d src=%s dst=%s sport=%u dport=%u flags=%s doff=%u mss=",
	       v->family == AF_INET ? 4 : 6, addr_str(&v->src, s, sizeof(s)),
	       addr_str(&v->dst, d, sizeof(d)), t->sport, t->dport, flags,
	       t->doff);
	if (t->mss_state == MSS_FOUND)
		printf("%u", t->mss);
	else
		fputs(t->mss_state == MSS_ABSENT ? "none" : "bad", stdout);
	printf(" tcp_len=%zu payload=%zu opts=", t->len, t->payload);
	print_hex(t->opts, t->optlen);
	printf(" csum=%s iplen_ok=%s ip_len=%zu", csum_names[t->csum],
	       v->iplen_ok ? "yes" : "no", v->ip_len);
	if (v->family == AF_INET)
		printf(" ipcsum=%s", v->ipcsum_ok ? "ok" : "bad");
	printf(" frag=%s ttl=%u\n", frag_names[v->frag], v->ttl);
	fflush(stdout);
}

/* 1 if the frame is a TCP segment the user asked for, decoded into @v/@t. */
static int segment_wanted(const struct recv_opts *o, const struct frame *f,
			  struct l3view *v, struct tcpview *t)
{
	if (f->outgoing || parse_l3(f->data, f->len, f->ethertype, v))
		return 0;
	if (v->proto != PROTO_TCP || parse_tcp(v, f->csum_partial, t))
		return 0;
	if (o->port >= 0 && t->sport != o->port && t->dport != o->port)
		return 0;
	if (o->syn_only && !(t->flags & TCPF_SYN))
		return 0;
	return 1;
}

static void recv_parse(int argc, char **argv, struct recv_opts *o)
{
	enum { O_IFACE = 256, O_COUNT, O_TIMEOUT, O_PORT, O_SYN, O_READY };
	static const struct option lo[] = {
		{ "iface", 1, 0, O_IFACE }, { "count", 1, 0, O_COUNT },
		{ "timeout", 1, 0, O_TIMEOUT }, { "port", 1, 0, O_PORT },
		{ "syn-only", 0, 0, O_SYN }, { "ready", 1, 0, O_READY },
		{ 0, 0, 0, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->count = 1;
	o->timeout_ms = DEFAULT_TIMEOUT;
	o->port = -1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_IFACE:
			o->ifname = optarg;
			break;
		case O_COUNT:
			o->count = parse_num(optarg, 1, 1000000, "--count");
			break;
		case O_TIMEOUT:
			o->timeout_ms = parse_num(optarg, 0, 3600000, "--timeout");
			break;
		case O_PORT:
			o->port = parse_num(optarg, 0, 65535, "--port");
			break;
		case O_SYN:
			o->syn_only = 1;
			break;
		case O_READY:
			o->ready = optarg;
			break;
		default:
			o->ifname = NULL;
			optind = argc + 1;
		}
	}
	if (!o->ifname || optind != argc)
		usage_error("usage: recv-syn --iface IF [--count N] [--timeout MS] "
			    "[--port P] [--syn-only] [--ready FILE]");
}

static int cmd_recv_syn(int argc, char **argv)
{
	static uint8_t buf[CAP_BUF];
	struct recv_opts o;
	struct frame f;
	struct l3view v;
	struct tcpview t;
	unsigned long got = 0;
	int64_t deadline;
	int fd, r;

	recv_parse(argc, argv, &o);
	fd = open_capture(o.ifname);
	if (fd < 0)
		return fail("capture", errno);
	if (touch_ready(o.ready))
		return fail("ready-file", errno);
	deadline = now_ms() + o.timeout_ms;
	while (got < o.count) {
		r = capture_next(fd, buf, sizeof(buf), deadline, &f);
		if (r < 0)
			return fail("recvmsg", errno);
		if (r == 0) {
			printf("error=timeout got=%lu\n", got);
			return EXIT_FAIL;
		}
		if (!segment_wanted(&o, &f, &v, &t))
			continue;
		print_segment(&v, &t);
		got++;
	}
	close(fd);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* xfer: a TCP transfer of checked pseudo-random data                  */

/* The data: xorshift64 words; FNV-1a 64 over every byte. */
struct stream {
	uint64_t state;
	uint8_t word[8];
	unsigned int used;
};

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static void stream_init(struct stream *s)
{
	s->state = 0x9e3779b97f4a7c15ULL;
	s->used = sizeof(s->word);
}

static void stream_fill(struct stream *s, uint8_t *buf, size_t n)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		if (s->used == sizeof(s->word)) {
			s->state ^= s->state << 13;
			s->state ^= s->state >> 7;
			s->state ^= s->state << 17;
			for (k = 0; k < 8; k++)
				s->word[k] = s->state >> (8 * k);
			s->used = 0;
		}
		buf[i] = s->word[s->used++];
	}
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* 1 ready, 0 deadline passed or signal, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	for (;;) {
		if (stop_requested)
			return 0;
		r = poll(&pfd, 1, remaining_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r;
		return 1;
	}
}

/* 0 done, -1 error (errno set; ETIMEDOUT when the deadline passed). */
static int write_all(int fd, const uint8_t *p, size_t len, int64_t deadline)
{
	ssize_t n;
	int r;

	while (len) {
		r = wait_fd(fd, POLLOUT, deadline);
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Bytes read (>0), 0 at end of stream, -1 error (ETIMEDOUT: deadline). */
static ssize_t read_some(int fd, uint8_t *p, size_t len, int64_t deadline)
{
	ssize_t n;
	int r;

	for (;;) {
		r = wait_fd(fd, POLLIN, deadline);
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		return n;
	}
}

static int read_all(int fd, uint8_t *p, size_t len, int64_t deadline)
{
	ssize_t n;

	while (len) {
		n = read_some(fd, p, len, deadline);
		if (n == 0)
			errno = ECONNRESET;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Close with a reset: nothing is left retransmitting after a failure. */
static void abort_socket(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Orderly end: our FIN, then the peer's, within the deadline. */
static int finish_socket(int fd, int64_t deadline)
{
	uint8_t b[256];
	ssize_t n;

	shutdown(fd, SHUT_WR);
	do
		n = read_some(fd, b, sizeof(b), deadline);
	while (n > 0);
	if (n < 0) {
		abort_socket(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct xfer_result {
	uint64_t bytes, fnv, peer_fnv;
	int match;
	unsigned int mss, pmtu;
	int ts;
	int64_t elapsed_ms;
	const char *error;
	int err;
};

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v & 0xffffffff);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int xfer_send(int fd, uint64_t bytes, int64_t deadline,
		     struct xfer_result *r)
{
	static uint8_t buf[XFER_CHUNK];
	struct stream s;
	uint8_t h[8];
	size_t n;

	stream_init(&s);
	r->fnv = FNV_OFFSET;
	while (r->bytes < bytes) {
		n = bytes - r->bytes < sizeof(buf) ? bytes - r->bytes : sizeof(buf);
		stream_fill(&s, buf, n);
		r->fnv = fnv1a(r->fnv, buf, n);
		if (write_all(fd, buf, n, deadline))
			return -1;
		r->bytes += n;
	}
	if (read_all(fd, h, sizeof(h), deadline))
		return -1;
	r->peer_fnv = get64(h);
	r->match = r->peer_fnv == r->fnv;
	return 0;
}

static int xfer_recv(int fd, uint64_t bytes, int64_t deadline,
		     struct xfer_result *r)
{
	static uint8_t buf[XFER_CHUNK], want[XFER_CHUNK];
	struct stream s;
	uint8_t h[8];
	ssize_t n;
	size_t ask;

	stream_init(&s);
	r->fnv = FNV_OFFSET;
	r->peer_fnv = FNV_OFFSET;	/* of what the sender must have sent */
	while (r->bytes < bytes) {
		ask = bytes - r->bytes < sizeof(buf) ? bytes - r->bytes : sizeof(buf);
		n = read_some(fd, buf, ask, deadline);
		if (n == 0)
			errno = ECONNRESET;
		if (n <= 0)
			return -1;
		stream_fill(&s, want, n);
		r->fnv = fnv1a(r->fnv, buf, n);
		r->peer_fnv = fnv1a(r->peer_fnv, want, n);
		r->bytes += n;
	}
	r->match = r->peer_fnv == r->fnv;
	put64(h, r->fnv);
	return write_all(fd, h, sizeof(h), deadline);
}

static void sock_tcp_info(int fd, struct xfer_result *r)
{
	struct tcp_info ti;
	socklen_t len = sizeof(int);
	int mss = 0;

	getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len);
	r->mss = mss;
	len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len)) {
		r->ts = !!(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
		r->pmtu = ti.tcpi_pmtu;
	}
}

/*
 * Run one transfer on a connected socket.  @send: this side sends.  The
 * receiver returns the FNV-1a of what it got; the sender compares it with
 * its own.  The socket is closed (reset on failure).
 */
static int xfer_session(int fd, int send_side, uint64_t bytes,
			int64_t start, int64_t deadline, struct xfer_result *r)
{
	int rc;

	sock_tcp_info(fd, r);
	rc = send_side ? xfer_send(fd, bytes, deadline, r) :
			 xfer_recv(fd, bytes, deadline, r);
	if (!rc)
		rc = finish_socket(fd, deadline);
	else
		abort_socket(fd);
	r->elapsed_ms = now_ms() - start;
	if (rc) {
		r->err = errno;
		r->error = errno == ETIMEDOUT ? "timeout" : "io";
	}
	return rc;
}

static int print_xfer(const char *role, int send_side, const char *peer,
		      const struct xfer_result *r)
{
	printf("role=%s dir=%s peer=%s bytes=%llu fnv=%016llx peer_fnv=%016llx "
	       "match=%s mss=%u ts=%s pmtu=%u elapsed_ms=%lld",
	       role, send_side ? "send" : "recv", peer,
	       (unsigned long long)r->bytes, (unsigned long long)r->fnv,
	       (unsigned long long)r->peer_fnv, r->match ? "yes" : "no",
	       r->mss, r->ts ? "yes" : "no", r->pmtu, (long long)r->elapsed_ms);
	if (r->error)
		printf(" error=%s", r->error);
	putchar('\n');
	fflush(stdout);
	if (r->error)
		fprintf(stderr, "%s: %s: %s\n", prog, role, strerror(r->err));
	return r->error || !r->match ? EXIT_FAIL : EXIT_OK;
}

struct xfer_opts {
	struct addr addr;
	int have_addr;
	unsigned int port, mss;
	uint64_t bytes;
	int timeout_ms;
	int send_side;		/* client: --direction send */
	unsigned long count;
	const char *ready;
};

static socklen_t make_sockaddr(const struct addr *a, unsigned int port,
			       struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = a->u.v6;
	return sizeof(*sin6);
}

static const char *sockaddr_str(const struct sockaddr_storage *ss, char *buf,
				size_t len)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET)
		return inet_ntop(AF_INET, &sin->sin_addr, buf, len);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, len);
	return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len);
}

static void xfer_parse(int argc, char **argv, int client, struct xfer_opts *o)
{
	enum { O_PORT = 256, O_BIND, O_CONNECT, O_BYTES, O_TIMEOUT, O_DIR,
	       O_COUNT, O_MSS, O_READY };
	static const struct option lo[] = {
		{ "port", 1, 0, O_PORT }, { "bind", 1, 0, O_BIND },
		{ "connect", 1, 0, O_CONNECT }, { "bytes", 1, 0, O_BYTES },
		{ "timeout", 1, 0, O_TIMEOUT }, { "direction", 1, 0, O_DIR },
		{ "count", 1, 0, O_COUNT }, { "mss", 1, 0, O_MSS },
		{ "ready", 1, 0, O_READY }, { 0, 0, 0, 0 },
	};
	int c, bad = 0, have_port = 0;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = DEFAULT_TIMEOUT;
	o->send_side = 1;
	o->count = 1;
	o->bytes = 2 * 1024 * 1024;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_PORT:
			o->port = parse_num(optarg, 1, 65535, "--port");
			have_port = 1;
			break;
		case O_BIND:
		case O_CONNECT:
			if ((c == O_BIND) == client)
				bad = 1;
			else if (parse_addr(optarg, &o->addr))
				usage_error("bad address '%s'", optarg);
			o->have_addr = 1;
			break;
		case O_BYTES:
			o->bytes = parse_num(optarg, 0, 1UL << 40, "--bytes");
			bad |= !client;
			break;
		case O_TIMEOUT:
			o->timeout_ms = parse_num(optarg, 1, 3600000, "--timeout");
			break;
		case O_DIR:
			if (!strcmp(optarg, "send") || !strcmp(optarg, "recv"))
				o->send_side = !strcmp(optarg, "send");
			else
				bad = 1;
			bad |= !client;
			break;
		case O_COUNT:
			o->count = parse_num(optarg, 1, 100000, "--count");
			bad |= client;
			break;
		case O_MSS:
			o->mss = parse_num(optarg, 88, 65535, "--mss");
			break;
		case O_READY:
			o->ready = optarg;
			bad |= client;
			break;
		default:
			bad = 1;
		}
	}
	if (bad || optind != argc || !have_port || (client && !o->have_addr))
		usage_error(client ?
			"usage: xfer-client --connect ADDR --port P [--bytes N] "
			"[--direction send|recv] [--timeout MS] [--mss N]" :
			"usage: xfer-server --port P [--bind ADDR] [--count N] "
			"[--timeout MS] [--mss N] [--ready FILE]");
	if (!o->have_addr) {
		o->addr.family = AF_INET6;	/* [::], also IPv4-mapped */
		o->addr.u.v6 = in6addr_any;
	}
}

static int tcp_socket(const struct xfer_opts *o)
{
	int fd, one = 1, zero = 0, mss = o->mss;

	fd = socket(o->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->addr.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (mss && setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Header from client to server: 'S' (client sends) or 'R', then N. */
#define XFER_HDR 9

static int serve_one(int lfd, const struct xfer_opts *o)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct xfer_result r;
	char name[INET6_ADDRSTRLEN] = "-";
	uint8_t hdr[XFER_HDR];
	int64_t start = now_ms(), deadline = start + o->timeout_ms;
	int fd, send_side;

	memset(&r, 0, sizeof(r));
	if (wait_fd(lfd, POLLIN, deadline) <= 0) {
		printf("role=server error=timeout\n");
		return EXIT_FAIL;
	}
	fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return fail("accept", errno);
	sockaddr_str(&peer, name, sizeof(name));
	start = now_ms();
	deadline = start + o->timeout_ms;
	if (read_all(fd, hdr, sizeof(hdr), deadline) ||
	    (hdr[0] != 'S' && hdr[0] != 'R')) {
		r.err = errno;
		r.error = errno == ETIMEDOUT ? "timeout" : "header";
		abort_socket(fd);
		return print_xfer("server", 0, name, &r);
	}
	send_side = hdr[0] == 'R';
	xfer_session(fd, send_side, get64(hdr + 1), start, deadline, &r);
	return print_xfer("server", send_side, name, &r);
}

static int cmd_xfer_server(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct xfer_opts o;
	unsigned long i;
	int lfd, rc = EXIT_OK;

	xfer_parse(argc, argv, 0, &o);
	lfd = tcp_socket(&o);
	if (lfd < 0)
		return fail("socket", errno);
	if (bind(lfd, (struct sockaddr *)&ss, make_sockaddr(&o.addr, o.port, &ss)) ||
	    listen(lfd, 16))
		return fail("listen", errno);
	if (touch_ready(o.ready))
		return fail("ready-file", errno);
	for (i = 0; i < o.count && !stop_requested; i++)
		if (serve_one(lfd, &o))
			rc = EXIT_FAIL;
	close(lfd);
	return rc;
}

static int tcp_connect(int fd, const struct xfer_opts *o, int64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0, r;

	if (!connect(fd, (struct sockaddr *)&ss, make_sockaddr(&o->addr, o->port, &ss)))
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	r = wait_fd(fd, POLLOUT, deadline);
	if (r <= 0) {
		errno = r ? errno : ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		errno = err ? err : errno;
		return -1;
	}
	return 0;
}

static int cmd_xfer_client(int argc, char **argv)
{
	struct xfer_opts o;
	struct xfer_result r;
	char name[INET6_ADDRSTRLEN];
	uint8_t hdr[XFER_HDR];
	int64_t start, deadline;
	int fd;

	xfer_parse(argc, argv, 1, &o);
	addr_str(&o.addr, name, sizeof(name));
	memset(&r, 0, sizeof(r));
	start = now_ms();
	deadline = start + o.timeout_ms;
	fd = tcp_socket(&o);
	if (fd < 0)
		return fail("socket", errno);
	hdr[0] = o.send_side ? 'S' : 'R';
	put64(hdr + 1, o.bytes);
	if (tcp_connect(fd, &o, deadline) ||
	    write_all(fd, hdr, sizeof(hdr), deadline)) {
		r.err = errno;
		r.error = errno == ETIMEDOUT ? "timeout" : "connect";
		abort_socket(fd);
		r.elapsed_ms = now_ms() - start;
		return print_xfer("client", o.send_side, name, &r);
	}
	xfer_session(fd, o.send_side, o.bytes, start, deadline, &r);
	return print_xfer("client", o.send_side, name, &r);
}

/* ------------------------------------------------------------------ */
/* wan-watch: ESP, fragments and sizes on a link                       */

struct wan_stats {
	unsigned long pkts, esp, natt, frags, too_big;
	size_t max_len, esp_max_len;
};

/* ESP in UDP 4500 (RFC 3948): not IKE (zero marker), not a keepalive. */
static int is_natt_esp(const struct l3view *v)
{
	const uint8_t *u = v->l4;

	if (v->proto != PROTO_UDP || v->frag == FRAG_NONFIRST || v->l4len < 8 + 4)
		return 0;
	if (get16(u) != NATT_PORT && get16(u + 2) != NATT_PORT)
		return 0;
	return u[8] || u[9] || u[10] || u[11];
}

static int is_too_big(const struct l3view *v)
{
	if (v->frag == FRAG_NONFIRST || v->l4len < 2)
		return 0;
	if (v->family == AF_INET)
		return v->proto == PROTO_ICMP && v->l4[0] == 3 && v->l4[1] == 4;
	return v->proto == PROTO_ICMPV6 && v->l4[0] == 2;
}

static void wan_account(struct wan_stats *st, const struct frame *f)
{
	struct l3view v;
	size_t len;
	int esp;

	if (parse_l3(f->data, f->len, f->ethertype, &v))
		return;
	len = f->orig_len;	/* what went over the link, even if truncated */
	st->pkts++;
	if (len > st->max_len)
		st->max_len = len;
	if (v.frag != FRAG_NONE)
		st->frags++;
	st->too_big += is_too_big(&v);
	esp = v.proto == PROTO_ESP;
	if (is_natt_esp(&v)) {
		st->natt++;
		esp = 1;
	}
	if (!esp)
		return;
	st->esp++;
	if (len > st->esp_max_len)
		st->esp_max_len = len;
}

static int cmd_wan_watch(int argc, char **argv)
{
	enum { O_IFACE = 256, O_DURATION, O_DIR, O_READY };
	static const struct option lo[] = {
		{ "iface", 1, 0, O_IFACE }, { "duration", 1, 0, O_DURATION },
		{ "dir", 1, 0, O_DIR }, { "ready", 1, 0, O_READY },
		{ 0, 0, 0, 0 },
	};
	static uint8_t buf[CAP_BUF];
	struct wan_stats st;
	struct frame f;
	const char *ifname = NULL, *ready = NULL, *dir = "both";
	long duration = -1;
	int64_t deadline;
	int c, fd, r, bad = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == O_IFACE)
			ifname = optarg;
		else if (c == O_DURATION)
			duration = parse_num(optarg, 0, 86400000, "--duration");
		else if (c == O_DIR)
			dir = optarg;
		else if (c == O_READY)
			ready = optarg;
		else
			bad = 1;
	}
	if (strcmp(dir, "in") && strcmp(dir, "out") && strcmp(dir, "both"))
		bad = 1;
	if (bad || !ifname || optind != argc)
		usage_error("usage: wan-watch --iface IF [--duration MS] "
			    "[--dir in|out|both] [--ready FILE]");
	memset(&st, 0, sizeof(st));
	fd = open_capture(ifname);
	if (fd < 0)
		return fail("capture", errno);
	if (touch_ready(ready))
		return fail("ready-file", errno);
	deadline = duration < 0 ? -1 : now_ms() + duration;
	while ((r = capture_next(fd, buf, sizeof(buf), deadline, &f)) > 0) {
		if ((f.outgoing && !strcmp(dir, "in")) ||
		    (!f.outgoing && !strcmp(dir, "out")))
			continue;
		wan_account(&st, &f);
	}
	close(fd);
	if (r < 0)
		return fail("recvmsg", errno);
	printf("esp=%lu natt=%lu max_len=%zu esp_max_len=%zu frags=%lu "
	       "too_big=%lu pkts=%lu\n", st.esp, st.natt, st.max_len,
	       st.esp_max_len, st.frags, st.too_big, st.pkts);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "syn", cmd_syn, "send one crafted TCP segment" },
	{ "recv-syn", cmd_recv_syn, "capture and decode incoming TCP segments" },
	{ "xfer-server", cmd_xfer_server, "serve checked TCP transfers" },
	{ "xfer-client", cmd_xfer_client, "make one checked TCP transfer" },
	{ "wan-watch", cmd_wan_watch, "count ESP, fragments and sizes on a link" },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc >= 2) {
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (strcmp(argv[1], commands[i].name))
				continue;
			install_signals();
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "usage: %s COMMAND [OPTIONS]\n", prog);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-12s %s\n", commands[i].name, commands[i].help);
	return EXIT_USAGE;
}
