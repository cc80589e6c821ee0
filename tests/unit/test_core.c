// SPDX-License-Identifier: GPL-2.0
/*
 * test_core - table-driven unit tests of kernel/ipsecmss_core.c.
 *
 *   cc -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
 *      -I kernel tests/unit/test_core.c kernel/ipsecmss_core.c
 *
 * (or "make -C tests/unit check").  KTAP output, as every suite's
 * (tests/lib/ktap.sh): "ok N name" or "# why" and "not ok N name" per case,
 * then the plan and the totals; exit status 0 only when every case passed.
 *
 * Every expected value is derived here independently of the core: the
 * option walk from the test tables, checksums from scratch over a
 * pseudo-header, ESP sizes by building the packet of RFC 4303 byte count
 * by byte count.  Every segment handed to the core lives in a malloc()ed
 * buffer of exactly the size the core is told, so ASan catches any read
 * past it.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipsecmss_core.h"
#include "../lib/csum_ref.h"

/* ---------------------------------------------------------------- runner */

static unsigned int n_pass, n_fail;
static int case_failed;
static char case_why[512];

static void begin(void)
{
	case_failed = 0;
	case_why[0] = '\0';
}

/* Record the first failed expectation of the current case. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (case_failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(case_why, sizeof(case_why), fmt, ap);
	va_end(ap);
}

#define EXPECT(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

static void end(const char *fmt, ...)
{
	char name[160], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	/* A "#" would start the KTAP directive. */
	for (p = name; *p; p++)
		if (*p == '#')
			*p = 'N';
	if (case_failed) {
		printf("# %s\n", case_why);
		printf("not ok %u %s\n", n_pass + n_fail + 1, name);
		n_fail++;
	} else {
		printf("ok %u %s\n", n_pass + n_fail + 1, name);
		n_pass++;
	}
}

/* --------------------------------------------------------------- helpers */

/* Parse hex digits, ignoring spaces; returns the byte count. */
static unsigned int unhex(const char *s, unsigned char *out, unsigned int cap)
{
	unsigned int n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap) {
			fprintf(stderr, "unhex: table entry too long: %s\n", s);
			exit(2);
		}
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0) {
		fprintf(stderr, "unhex: odd digit count\n");
		exit(2);
	}
	return n;
}

static void hexstr(const unsigned char *p, unsigned int n, char *out,
		   size_t cap)
{
	size_t o = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < n && o + 3 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", p[i]);
}

#define TCP_MAXSEG 128

/*
 * A TCP segment: ports 50000 -> 443, fixed sequence numbers, window 64240,
 * checksum 0.  @doff 0 means "from the options" (which must then be a
 * multiple of 4 bytes long).
 */
static unsigned int build_tcp(unsigned char *b, unsigned char flags,
			      const char *opts, unsigned int doff,
			      const char *payload)
{
	unsigned char o[64], p[64];
	unsigned int olen = unhex(opts ? opts : "", o, sizeof(o));
	unsigned int plen = unhex(payload ? payload : "", p, sizeof(p));

	if (!doff) {
		if (olen % 4) {
			fprintf(stderr, "build_tcp: options not padded: %s\n",
				opts);
			exit(2);
		}
		doff = (20 + olen) / 4;
	}
	memset(b, 0, 20);
	b[0] = 0xc3; b[1] = 0x50;		/* 50000 */
	b[2] = 0x01; b[3] = 0xbb;		/* 443 */
	b[4] = 0x8a; b[5] = 0x1b; b[6] = 0x2c; b[7] = 0x3d;
	if (flags & 0x10) {
		b[8] = 0x11; b[9] = 0x22; b[10] = 0x33; b[11] = 0x44;
	}
	b[12] = (unsigned char)((doff & 0x0f) << 4);
	b[13] = flags;
	b[14] = 0xfa; b[15] = 0xf0;		/* 64240 */
	memcpy(b + 20, o, olen);
	memcpy(b + 20 + olen, p, plen);
	return 20 + olen + plen;
}

/* Copy @n bytes into a fresh buffer of exactly @size bytes (>= n). */
static unsigned char *exact(const unsigned char *src, unsigned int n,
			    unsigned int size)
{
	unsigned char *p = malloc(size ? size : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	memset(p, 0xa5, size);
	if (n)
		memcpy(p, src, n);
	return p;
}

/*
 * The checksum model (tests/lib/csum_ref.h) over fixed pseudo-headers:
 * fixed_ph[0] IPv4 192.0.2.1 -> 198.51.100.254, fixed_ph[1] IPv6
 * 2001:db8::dead:beef -> 2001:db8:ffff:1::cafe:f00d.
 */
static const struct pseudo fixed_ph[2] = {
	{ .v6 = 0, .src = { 192, 0, 2, 1 }, .dst = { 198, 51, 100, 254 } },
	{ .v6 = 1,
	  .src = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		   0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef },
	  .dst = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 1,
		   0, 0, 0, 0, 0xca, 0xfe, 0xf0, 0x0d } },
};

/* Random bytes from a fixed seed, so failures reproduce. */
static uint32_t rng_state = 0x1234567;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* ------------------------------------------------------------ option walk */

enum { SAME_LEN = 0 };

struct walk_case {
	const char *name;
	unsigned char flags;
	const char *opts;
	unsigned int doff;	/* 0: from the options */
	const char *payload;
	int len;		/* SAME_LEN: the built length; else forced */
	enum ipsecmss_walk want;
	unsigned int want_off;
};

#define LINUX_OPTS	"020405b4 0402 080a 9f3a1c2b 00000000 01 030307"
#define WINDOWS_OPTS	"020405b4 01 030308 01 01 0402"
#define MACOS_OPTS	"020405b4 01 030306 01 01 080a 4a3b2c1d 00000000 0402 00 00"
#define NOP36 "01010101 01010101 01010101 01010101 01010101 " \
	      "01010101 01010101 01010101 01010101"

static const struct walk_case walk_cases[] = {
	{ "walk mss first", 0x02, "020405b4", 0, NULL, 0, IPSECMSS_WALK_FOUND, 20 },
	{ "walk linux syn", 0x02, LINUX_OPTS, 0, NULL, 0, IPSECMSS_WALK_FOUND, 20 },
	/* Next to the predicted Linux layout: each takes the general walk. */
	{ "walk linux layout, wscale len 4", 0x02,
	  "020405b4 0402 080a 9f3a1c2b 00000000 01 030407", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk linux layout, ts len 11 swallows the nop", 0x02,
	  "020405b4 0402 080b 9f3a1c2b 00000000 01 030307", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 20 },
	{ "walk linux layout, ts len 12", 0x02,
	  "020405b4 0402 080c 9f3a1c2b 00000000 01 030307", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk linux layout, mss len 5", 0x02,
	  "020505b4 0402 080a 9f3a1c2b 00000000 01 030307", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk linux layout, second mss in ts", 0x02,
	  "020405b4 0402 0204 05b4 0204 05b4 0000 01 030307", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk linux layout, eol for nop", 0x02,
	  "020405b4 0402 080a 9f3a1c2b 00000000 00 030307", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 20 },
	{ "walk linux layout, sackok first", 0x02,
	  "0402 020405b4 080a 9f3a1c2b 00000000 01 030307", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 22 },
	{ "walk linux layout, doff 11", 0x02, LINUX_OPTS " 01010101", 0, NULL,
	  0, IPSECMSS_WALK_FOUND, 20 },
	{ "walk linux layout, doff 11 bad tail", 0x02, LINUX_OPTS " 01050000",
	  0, NULL, 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk windows syn", 0x02, WINDOWS_OPTS, 0, NULL, 0, IPSECMSS_WALK_FOUND, 20 },
	{ "walk macos syn", 0x02, MACOS_OPTS, 0, NULL, 0, IPSECMSS_WALK_FOUND, 20 },
	{ "walk odd offset after 1 nop", 0x02, "01 020405b4 000000", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 21 },
	{ "walk odd offset after 3 nops", 0x02, "010101 020405b4 01", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 23 },
	{ "walk odd offset after wscale", 0x02, "030307 020405b4 00", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 23 },
	{ "walk after sackok and ts", 0x02, "0402 080a 01020304 05060708 020405b4",
	  0, NULL, 0, IPSECMSS_WALK_FOUND, 32 },
	{ "walk after empty unknown option", 0x02, "fe02 020405b4 0000", 0, NULL,
	  0, IPSECMSS_WALK_FOUND, 22 },
	{ "walk after long unknown option", 0x02,
	  "fe0a 0102030405060708 020405b4 0000", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 30 },
	{ "walk mss last 4 bytes of 60", 0x02, NOP36 " 020405b4", 0, NULL, 0,
	  IPSECMSS_WALK_FOUND, 56 },
	{ "walk mss last 4 bytes of 60 with payload", 0x02, NOP36 " 020405b4", 0,
	  "48454c4c4f", 0, IPSECMSS_WALK_FOUND, 56 },
	{ "walk mss with payload", 0x02, "020405b4", 0, "0204ffff", 0,
	  IPSECMSS_WALK_FOUND, 20 },
	{ "walk second mss after eol ignored", 0x02, "020405b4 00 020405b4 000000",
	  0, NULL, 0, IPSECMSS_WALK_FOUND, 20 },
	{ "walk absent no options", 0x02, "", 0, NULL, 0, IPSECMSS_WALK_ABSENT, 0 },
	{ "walk absent other options", 0x02, "01 030307 0402 01 01", 0, NULL, 0,
	  IPSECMSS_WALK_ABSENT, 0 },
	{ "walk absent 40 nops", 0x02, NOP36 " 01010101", 0, NULL, 0,
	  IPSECMSS_WALK_ABSENT, 0 },
	{ "walk absent mss in payload only", 0x02, "01010101", 0, "020405b4", 0,
	  IPSECMSS_WALK_ABSENT, 0 },
	{ "walk eol before mss", 0x02, "00 020405b4 000000", 0, NULL, 0,
	  IPSECMSS_WALK_ABSENT, 0 },
	{ "walk eol after nop before mss", 0x02, "01 00 020405b4 0000", 0, NULL,
	  0, IPSECMSS_WALK_ABSENT, 0 },
	{ "walk garbage after eol ignored", 0x02, "01 00 fe00 05ffffff", 0, NULL,
	  0, IPSECMSS_WALK_ABSENT, 0 },
	{ "walk bad mss after eol ignored", 0x02, "00 0205 ff 02ff 0000", 0, NULL,
	  0, IPSECMSS_WALK_ABSENT, 0 },
	{ "walk option length 0", 0x02, "fe00 020405b4 0000", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk option length 0 after mss", 0x02, "020405b4 0800 0000", 0, NULL,
	  0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk option length 1", 0x02, "fe01 020405b4 0000", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk option length 1 after mss", 0x02, "020405b4 030101 00", 0, NULL,
	  0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk length byte past header", 0x02, "010101 fe", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk length byte past header, payload follows", 0x02, "010101 fe", 0,
	  "02ffffff", 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss kind last header byte", 0x02, "010101 02", 0, "0405b4", 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss kind last byte of 60", 0x02, NOP36 " 010101 02", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk option runs past header", 0x02, "01 fe0a 00000000 00", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk option runs past header into payload", 0x02, "0101 fe06", 0,
	  "0000000000000000", 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss runs past header into payload", 0x02, "0101 0204", 0, "05b4",
	  0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss runs past 60-byte header", 0x02, NOP36 " 0101 0204", 0,
	  "05b4", 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk option length 255", 0x02, "fe ff 00 00", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss length 2", 0x02, "0202 01 01", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss length 3", 0x02, "020305 01", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss length 5", 0x02, "020505b4 00 000000", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss length 6", 0x02, "020605b4 0000 0000", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk two mss options", 0x02, "020405b4 020405b4", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk two mss options apart", 0x02, "020405b4 01 030307 020405b4 01010101",
	  0, NULL, 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk mss then bad mss", 0x02, "020405b4 0203 05 01", 0, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 0", 0x02, "", 0x10, NULL, 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 1", 0x02, "", 0x11, NULL, 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 4", 0x02, "", 0x14, NULL, 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 4 with options", 0x02, "020405b4", 0x14, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 6 len 20", 0x02, "", 6, NULL, 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 6 len 23", 0x02, "020405", 6, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 15 len 59", 0x02, NOP36 " 020405", 15, NULL, 0,
	  IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk doff 15 len 20", 0x02, "", 15, NULL, 0, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk len 0", 0x02, "", 0, NULL, -1, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk len 1", 0x02, "", 0, NULL, 1, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk len 13", 0x02, "", 0, NULL, 13, IPSECMSS_WALK_MALFORMED, 0 },
	{ "walk len 19", 0x02, "", 0, NULL, 19, IPSECMSS_WALK_MALFORMED, 0 },
};

/*
 * doff values 0x10..0x1f in the table above mean "force doff to the low
 * nibble even below 5"; plain 5..15 force it as is; 0 derives it.
 */
static unsigned int case_doff(unsigned int d)
{
	return d >= 0x10 ? d & 0x0f : d;
}

static unsigned int build_case(unsigned char *b, unsigned char flags,
			       const char *opts, unsigned int doff,
			       const char *payload, int force_len)
{
	unsigned int n, d = case_doff(doff);

	n = build_tcp(b, flags, opts, d ? d : 0, payload);
	if (doff >= 0x10)		/* doff below 5: write it by hand */
		b[12] = (unsigned char)(d << 4);
	if (force_len == -1)
		return 0;
	if (force_len > 0)
		return (unsigned int)force_len;
	return n;
}

static void test_walk(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		const struct walk_case *c = &walk_cases[i];
		unsigned char seg[TCP_MAXSEG];
		unsigned char *buf;
		unsigned int len, off = 0xdeadbeef;
		enum ipsecmss_walk w;

		begin();
		len = build_case(seg, c->flags, c->opts, c->doff, c->payload,
				 c->len);
		buf = exact(seg, len, len);
		w = ipsecmss_find_mss(buf, len, &off);
		EXPECT(w == c->want, "walk %d, want %d", (int)w, (int)c->want);
		if (w == IPSECMSS_WALK_FOUND && c->want == IPSECMSS_WALK_FOUND)
			EXPECT(off == c->want_off, "mss_off %u, want %u", off,
			       c->want_off);
		EXPECT(!memcmp(buf, seg, len), "find_mss wrote the segment");
		free(buf);
		end("%s", c->name);
	}
}

/* ------------------------------------------------------------------ clamp */

#define ANY_MSS	0xffffffffu	/* old_mss / new_mss not checked */

struct clamp_case {
	const char *name;
	unsigned char flags;
	const char *opts;
	unsigned int doff;
	const char *payload;
	int len;
	int room_extra;		/* room = len + room_extra */
	unsigned int clamp;
	unsigned int insert;
	enum ipsecmss_outcome want;
	unsigned int old_mss;
	unsigned int new_mss;
	unsigned char byte12_low;	/* reserved bits to set in byte 12 */
};

#define SYN	0x02
#define SYNACK	0x12
#define NOP40	NOP36 " 01010101"

static const struct clamp_case clamp_cases[] = {
	{ "clamp lowered linux syn", SYN, LINUX_OPTS, 0, NULL, 0, 8, 1350, 536,
	  IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered windows syn", SYN, WINDOWS_OPTS, 0, NULL, 0, 0, 1350, 0,
	  IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered macos syn", SYN, MACOS_OPTS, 0, NULL, 0, 0, 1350, 0,
	  IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered syn/ack", SYNACK, LINUX_OPTS, 0, NULL, 0, 0, 1350, 0,
	  IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered syn with ece+cwr", 0xc2, WINDOWS_OPTS, 0, NULL, 0, 0,
	  1350, 0, IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered syn/ack with ece", 0x52, "020405b4", 0, NULL, 0, 0,
	  1350, 0, IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered odd offset 21", SYN, "01 020405b4 000000", 0, NULL, 0, 0,
	  1350, 0, IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered odd offset 23", SYN, "030307 020405b4 00", 0, NULL, 0, 0,
	  1341, 0, IPSECMSS_LOWERED, 1460, 1341, 0 },
	{ "clamp lowered odd offset 21, carry in both bytes", SYN,
	  "01 0204ffff 000000", 0, NULL, 0, 0, 0x0101, 0, IPSECMSS_LOWERED,
	  65535, 0x0101, 0 },
	{ "clamp lowered last 4 bytes of 60", SYN, NOP36 " 020405b4", 0, NULL, 0,
	  0, 1350, 0, IPSECMSS_LOWERED, 1460, 1350, 0 },
	{ "clamp lowered with payload (tfo)", SYN, "020405b4", 0,
	  "0102030405060708090a", 0, 0, 1350, 1350, IPSECMSS_LOWERED, 1460, 1350,
	  0 },
	{ "clamp lowered to 1", SYN, "0204ffff", 0, NULL, 0, 0, 1, 0,
	  IPSECMSS_LOWERED, 65535, 1, 0 },
	{ "clamp lowered 65535 to 65534", SYN, "0204ffff", 0, NULL, 0, 0, 65534,
	  0, IPSECMSS_LOWERED, 65535, 65534, 0 },
	{ "clamp lowered by one", SYN, "020405b4", 0, NULL, 0, 0, 1459, 0,
	  IPSECMSS_LOWERED, 1460, 1459, 0 },
	{ "clamp already low", SYN, "020404b0", 0, NULL, 0, 0, 1350, 1350,
	  IPSECMSS_ALREADY_LOW, 1200, 1200, 0 },
	{ "clamp equal", SYN, "02040546", 0, NULL, 0, 0, 1350, 1350,
	  IPSECMSS_ALREADY_LOW, 1350, 1350, 0 },
	{ "clamp equal 65535", SYN, "0204ffff", 0, NULL, 0, 0, 65535, 0,
	  IPSECMSS_ALREADY_LOW, 65535, 65535, 0 },
	{ "clamp already low syn/ack odd offset", SYNACK, "01 02040218 000000", 0,
	  NULL, 0, 0, 1350, 0, IPSECMSS_ALREADY_LOW, 536, 536, 0 },
	{ "clamp mss value 0 already low", SYN, "02040000", 0, NULL, 0, 0, 1350,
	  0, IPSECMSS_ALREADY_LOW, ANY_MSS, ANY_MSS, 0 },
	{ "clamp inserted no options", SYN, "", 0, NULL, 0, 4, 1350, 1350,
	  IPSECMSS_INSERTED, 0, 1350, 0 },
	{ "clamp inserted min(clamp, insert)", SYN, "", 0, NULL, 0, 4, 1300, 1400,
	  IPSECMSS_INSERTED, 0, 1300, 0 },
	{ "clamp inserted default 536", SYN, "", 0, NULL, 0, 100, 1350, 536,
	  IPSECMSS_INSERTED, 0, 536, 0 },
	{ "clamp inserted other options move down", SYN, "01 030308 01 01 0402",
	  0, NULL, 0, 4, 1350, 1350, IPSECMSS_INSERTED, 0, 1350, 0 },
	{ "clamp inserted after ts, odd length options", SYN,
	  "0402 080a 01020304 00000000 01 030307", 0, NULL, 0, 4, 1341, 1220,
	  IPSECMSS_INSERTED, 0, 1220, 0 },
	{ "clamp inserted into 56-byte header", SYN, NOP36, 0, NULL, 0, 4, 1350,
	  1350, IPSECMSS_INSERTED, 0, 1350, 0 },
	{ "clamp inserted syn/ack", SYNACK, "", 0, NULL, 0, 4, 1350, 1220,
	  IPSECMSS_INSERTED, 0, 1220, 0 },
	{ "clamp inserted keeps reserved bits", SYN, "0402 0101", 0, NULL, 0, 4,
	  1350, 1350, IPSECMSS_INSERTED, 0, 1350, 0x0f },
	{ "clamp inserted mss 65535", SYN, "", 0, NULL, 0, 4, 65535, 65535,
	  IPSECMSS_INSERTED, 0, 65535, 0 },
	{ "clamp inserted options after eol move intact", SYN,
	  "0402 00 ff 02ff 0000", 0, NULL, 0, 4, 1350, 1350, IPSECMSS_INSERTED, 0,
	  1350, 0 },
	{ "clamp no room 60-byte header", SYN, NOP40, 0, NULL, 0, 64, 1350, 1350,
	  IPSECMSS_NO_ROOM, ANY_MSS, ANY_MSS, 0 },
	{ "clamp no room payload", SYN, "", 0, "0102030405060708090a", 0, 64,
	  1350, 1350, IPSECMSS_NO_ROOM, ANY_MSS, ANY_MSS, 0 },
	{ "clamp no room one payload byte", SYN, "0402 0101", 0, "ff", 0, 64, 1350,
	  1350, IPSECMSS_NO_ROOM, ANY_MSS, ANY_MSS, 0 },
	{ "clamp no room buffer len+3", SYN, "", 0, NULL, 0, 3, 1350, 1350,
	  IPSECMSS_NO_ROOM, ANY_MSS, ANY_MSS, 0 },
	{ "clamp no room buffer len", SYN, "0402 0101", 0, NULL, 0, 0, 1350,
	  1350, IPSECMSS_NO_ROOM, ANY_MSS, ANY_MSS, 0 },
	{ "clamp insert disabled", SYN, "", 0, NULL, 0, 64, 1350, 0,
	  IPSECMSS_NO_ROOM, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: ack", 0x10, "020405b4", 0, NULL, 0, 8, 1350, 1350,
	  IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: ack no options", 0x10, "", 0, NULL, 0, 8, 1350, 1350,
	  IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: fin", 0x11, "020405b4", 0, NULL, 0, 8, 1350, 1350,
	  IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: rst", 0x04, "", 0, NULL, 0, 8, 1350, 1350,
	  IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: rst with syn", 0x06, "020405b4", 0, NULL, 0, 8, 1350,
	  1350, IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: rst with syn, no mss", 0x06, "", 0, NULL, 0, 8, 1350,
	  1350, IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: fin with syn", 0x03, "020405b4", 0, NULL, 0, 8, 1350,
	  1350, IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: plain data", 0x18, "0101080a 01020304 05060708", 0,
	  "474554202f20485454502f312e310d0a", 0, 8, 1350, 1350, IPSECMSS_NOT_SYN,
	  ANY_MSS, ANY_MSS, 0 },
	{ "clamp not syn: no flags", 0x00, "020405b4", 0, NULL, 0, 8, 1350, 1350,
	  IPSECMSS_NOT_SYN, ANY_MSS, ANY_MSS, 0 },
};

/*
 * Check one clamp outcome against the original segment @orig (@len bytes,
 * carrying a correct checksum for @v6) and the core's buffer @buf.
 */
static void check_clamp(const struct clamp_case *c, int v6,
			const unsigned char *orig, unsigned int len,
			unsigned int room, const unsigned char *buf,
			enum ipsecmss_outcome got,
			const struct ipsecmss_edit *e)
{
	unsigned int old_check = (unsigned int)orig[16] << 8 | orig[17];
	unsigned int new_check, scratch, i, nlen;
	char hx[2 * 64 + 1];

	EXPECT(got == c->want, "outcome %d, want %d", (int)got, (int)c->want);
	if (got != c->want)
		return;
	if (c->old_mss != ANY_MSS)
		EXPECT(e->old_mss == c->old_mss, "old_mss %u, want %u",
		       e->old_mss, c->old_mss);
	if (c->new_mss != ANY_MSS)
		EXPECT(e->new_mss == c->new_mss, "new_mss %u, want %u",
		       e->new_mss, c->new_mss);
	if (got == IPSECMSS_NO_ROOM && c->insert && c->room_extra < 4 &&
	    !c->payload && (orig[12] >> 4) < 15)
		EXPECT(e->room_needed == len + 4, "room_needed %u, want %u",
		       e->room_needed, len + 4);
	else
		EXPECT(e->room_needed == 0, "room_needed %u, want 0",
		       e->room_needed);

	switch (got) {
	case IPSECMSS_LOWERED: {
		unsigned int off = 0;

		EXPECT(e->grow == 0, "grow %u", e->grow);
		EXPECT(ipsecmss_find_mss(orig, len, &off) ==
		       IPSECMSS_WALK_FOUND, "no mss in the original");
		for (i = 0; i < room; i++) {
			if (i == off + 2 || i == off + 3)
				continue;
			EXPECT(buf[i] == (i < len ? orig[i] : 0xa5),
			       "byte %u changed: %02x -> %02x", i,
			       i < len ? orig[i] : 0xa5, buf[i]);
		}
		EXPECT(buf[off + 2] == (c->new_mss >> 8) &&
		       buf[off + 3] == (c->new_mss & 0xff),
		       "mss bytes %02x%02x, want %04x", buf[off + 2],
		       buf[off + 3], c->new_mss);
		break;
	}
	case IPSECMSS_INSERTED: {
		unsigned int hl = (orig[12] >> 4) * 4;

		EXPECT(e->grow == 4, "grow %u, want 4", e->grow);
		EXPECT(len == hl, "inserted with a payload");
		EXPECT(!memcmp(buf, orig, 12), "bytes 0..11 changed");
		EXPECT(buf[12] == (((hl / 4 + 1) << 4) | (orig[12] & 0x0f)),
		       "byte 12 %02x, want %02x", buf[12],
		       ((hl / 4 + 1) << 4) | (orig[12] & 0x0f));
		EXPECT(!memcmp(buf + 13, orig + 13, 7), "bytes 13..19 changed");
		EXPECT(buf[20] == 2 && buf[21] == 4 &&
		       buf[22] == (c->new_mss >> 8) &&
		       buf[23] == (c->new_mss & 0xff),
		       "inserted option %02x%02x%02x%02x, want 0204%04x",
		       buf[20], buf[21], buf[22], buf[23], c->new_mss);
		hexstr(buf + 24, hl - 20, hx, sizeof(hx));
		EXPECT(!memcmp(buf + 24, orig + 20, hl - 20),
		       "options not moved intact: %s", hx);
		for (i = len + 4; i < room; i++)
			EXPECT(buf[i] == 0xa5, "byte %u past the segment written",
			       i);
		break;
	}
	default:
		EXPECT(e->grow == 0, "grow %u", e->grow);
		for (i = 0; i < room; i++)
			EXPECT(buf[i] == (i < len ? orig[i] : 0xa5),
			       "byte %u changed: %02x -> %02x", i,
			       i < len ? orig[i] : 0xa5, buf[i]);
		break;
	}

	/* The checksum, as the kernel would update it. */
	nlen = len + e->grow;
	new_check = ipsecmss_csum_apply(old_check, e->csum_diff);
	if (e->grow)
		new_check = ipsecmss_csum_apply(new_check,
						len_diff(v6, len, nlen));
	scratch = tcp_csum(&fixed_ph[v6], buf, nlen);
	EXPECT(new_check <= 0xffff, "csum_apply gave %#x", new_check);
	EXPECT(csum_eq(new_check, scratch),
	       "%s checksum %04x, from scratch %04x (csum_diff %04x)",
	       v6 ? "ipv6" : "ipv4", new_check, scratch, e->csum_diff);
}

static void test_clamp(void)
{
	unsigned int i;
	int v6;

	for (i = 0; i < sizeof(clamp_cases) / sizeof(clamp_cases[0]); i++) {
		const struct clamp_case *c = &clamp_cases[i];

		for (v6 = 0; v6 <= 1; v6++) {
			unsigned char seg[TCP_MAXSEG];
			unsigned char *buf;
			struct ipsecmss_edit e;
			unsigned int len, room, ck;
			enum ipsecmss_outcome got;

			begin();
			len = build_case(seg, c->flags, c->opts, c->doff,
					 c->payload, c->len);
			seg[12] |= c->byte12_low;
			ck = tcp_csum(&fixed_ph[v6], seg, len);
			seg[16] = (unsigned char)(ck >> 8);
			seg[17] = (unsigned char)ck;
			room = len + (unsigned int)c->room_extra;
			buf = exact(seg, len, room);
			memset(&e, 0x5a, sizeof(e));
			got = ipsecmss_clamp(buf, len, room, c->clamp, c->insert,
					     &e);
			check_clamp(c, v6, seg, len, room, buf, got, &e);
			free(buf);
			end("%s (%s)", c->name, v6 ? "ipv6" : "ipv4");
		}
	}
}

/* Every malformed shape of the walk table, as a SYN: left untouched. */
static void test_clamp_malformed(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		const struct walk_case *c = &walk_cases[i];
		unsigned char seg[TCP_MAXSEG];
		unsigned char *buf;
		struct ipsecmss_edit e;
		unsigned int len, room, j;
		enum ipsecmss_outcome got;

		if (c->want != IPSECMSS_WALK_MALFORMED)
			continue;
		begin();
		len = build_case(seg, c->flags, c->opts, c->doff, c->payload,
				 c->len);
		room = len + 8;
		buf = exact(seg, len, room);
		memset(&e, 0x5a, sizeof(e));
		got = ipsecmss_clamp(buf, len, room, 1000, 536, &e);
		EXPECT(got == IPSECMSS_MALFORMED, "outcome %d, want MALFORMED",
		       (int)got);
		for (j = 0; j < room; j++)
			EXPECT(buf[j] == (j < len ? seg[j] : 0xa5),
			       "byte %u changed", j);
		EXPECT(e.grow == 0, "grow %u", e.grow);
		if (len >= 18)
			EXPECT(csum_eq(ipsecmss_csum_apply(0x1234, e.csum_diff),
				       0x1234), "csum_diff %04x", e.csum_diff);
		free(buf);
		end("clamp malformed: %s", c->name + 5);
	}
}

/*
 * Lower an MSS at every offset the options allow (NOPs in front), odd and
 * even, with MSS values that carry, and check the checksum each time.
 */
static void test_clamp_every_offset(void)
{
	static const unsigned int vals[][2] = {
		{ 1460, 1350 }, { 65535, 1 }, { 0xff00, 0x00ff }, { 0x8001, 0x7fff },
		{ 0x0100, 0x00ff }, { 9000, 8960 },
	};
	unsigned int pre, v, fails = 0;
	int v6;

	begin();
	for (pre = 0; pre <= 36; pre++) {
		for (v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			for (v6 = 0; v6 <= 1; v6++) {
				unsigned char seg[64], *buf;
				struct ipsecmss_edit e;
				unsigned int len, hl, ck, nc;
				enum ipsecmss_outcome got;

				hl = 20 + ((pre + 4 + 3) & ~3u);
				build_tcp(seg, SYN, "", 0, NULL);
				memset(seg + 20, 1, hl - 20);
				seg[20 + pre] = 2;
				seg[21 + pre] = 4;
				seg[22 + pre] = (unsigned char)(vals[v][0] >> 8);
				seg[23 + pre] = (unsigned char)vals[v][0];
				seg[12] = (unsigned char)((hl / 4) << 4);
				len = hl;
				ck = tcp_csum(&fixed_ph[v6], seg, len);
				seg[16] = (unsigned char)(ck >> 8);
				seg[17] = (unsigned char)ck;
				buf = exact(seg, len, len);
				got = ipsecmss_clamp(buf, len, len, vals[v][1], 0,
						     &e);
				nc = ipsecmss_csum_apply(ck, e.csum_diff);
				if (got != IPSECMSS_LOWERED ||
				    e.new_mss != vals[v][1] ||
				    e.old_mss != vals[v][0] ||
				    buf[22 + pre] != (vals[v][1] >> 8) ||
				    buf[23 + pre] != (vals[v][1] & 0xff) ||
				    !csum_eq(nc, tcp_csum(&fixed_ph[v6], buf, len))) {
					if (!fails++)
						fail("offset %u, %u -> %u, %s: "
						     "outcome %d, checksum %04x, "
						     "from scratch %04x",
						     20 + pre, vals[v][0],
						     vals[v][1], v6 ? "v6" : "v4",
						     (int)got, nc,
						     tcp_csum(&fixed_ph[v6], buf, len));
				}
				free(buf);
			}
		}
	}
	end("clamp lowered at every offset 20..56, checksums");
}

/* Insert into every header length 20..56 with random options bytes. */
static void test_insert_every_length(void)
{
	unsigned int hl, k, fails = 0;
	int v6;

	begin();
	for (hl = 20; hl <= 56; hl += 4) {
		for (k = 0; k < 8; k++) {
			for (v6 = 0; v6 <= 1; v6++) {
				unsigned char seg[64], *buf;
				struct ipsecmss_edit e;
				unsigned int ck, nc, sc, i, mss;
				enum ipsecmss_outcome got;

				build_tcp(seg, (k & 1) ? SYNACK : SYN, "", 0, NULL);
				/* NOP / empty-option soup, no MSS */
				for (i = 20; i < hl; i++)
					seg[i] = (rnd() & 1) ? 1 : 0xfe;
				for (i = 20; i < hl; i++) {
					if (seg[i] == 0xfe && i + 1 < hl) {
						seg[i + 1] = 2;
						i++;
					} else {
						seg[i] = 1;
					}
				}
				seg[12] = (unsigned char)((hl / 4) << 4 | (k >> 1));
				seg[4] = (unsigned char)rnd();
				seg[7] = (unsigned char)rnd();
				ck = tcp_csum(&fixed_ph[v6], seg, hl);
				seg[16] = (unsigned char)(ck >> 8);
				seg[17] = (unsigned char)ck;
				mss = 1 + rnd() % 65535;
				buf = exact(seg, hl, hl + 4);
				got = ipsecmss_clamp(buf, hl, hl + 4, 65535, mss,
						     &e);
				nc = ipsecmss_csum_apply(ck, e.csum_diff);
				nc = ipsecmss_csum_apply(nc,
							 len_diff(v6, hl, hl + 4));
				sc = tcp_csum(&fixed_ph[v6], buf, hl + 4);
				if (got != IPSECMSS_INSERTED || e.grow != 4 ||
				    e.new_mss != mss || buf[12] >> 4 != hl / 4 + 1 ||
				    (buf[12] & 15) != (seg[12] & 15) ||
				    buf[20] != 2 || buf[21] != 4 ||
				    buf[22] != mss >> 8 || buf[23] != (mss & 255) ||
				    memcmp(buf + 24, seg + 20, hl - 20) ||
				    memcmp(buf, seg, 12) ||
				    memcmp(buf + 13, seg + 13, 7) ||
				    !csum_eq(nc, sc)) {
					if (!fails++)
						fail("hl %u mss %u %s: outcome %d "
						     "grow %u new_mss %u byte12 "
						     "%02x checksum %04x, from "
						     "scratch %04x", hl, mss,
						     v6 ? "v6" : "v4", (int)got,
						     e.grow, e.new_mss, buf[12],
						     nc, sc);
				}
				free(buf);
			}
		}
	}
	end("clamp inserted into every header length 20..56, checksums");
}

/* A lowered option must be found again at the same place, lowered. */
static void test_clamp_idempotent(void)
{
	unsigned char seg[TCP_MAXSEG], *buf;
	struct ipsecmss_edit e;
	unsigned int len, off = 0;

	begin();
	len = build_tcp(seg, SYN, LINUX_OPTS, 0, NULL);
	buf = exact(seg, len, len + 4);
	EXPECT(ipsecmss_clamp(buf, len, len + 4, 1350, 536, &e) ==
	       IPSECMSS_LOWERED, "first pass not LOWERED");
	EXPECT(ipsecmss_clamp(buf, len, len + 4, 1350, 536, &e) ==
	       IPSECMSS_ALREADY_LOW, "second pass not ALREADY_LOW");
	EXPECT(ipsecmss_find_mss(buf, len, &off) == IPSECMSS_WALK_FOUND &&
	       off == 20, "walk after the clamp");
	free(buf);
	end("clamp twice: lowered, then already low");

	begin();
	len = build_tcp(seg, SYN, "0402 0101", 0, NULL);
	buf = exact(seg, len, len + 4);
	EXPECT(ipsecmss_clamp(buf, len, len + 4, 1350, 1400, &e) ==
	       IPSECMSS_INSERTED, "first pass not INSERTED");
	EXPECT(ipsecmss_clamp(buf, len + 4, len + 4, 1350, 1400, &e) ==
	       IPSECMSS_ALREADY_LOW, "second pass not ALREADY_LOW");
	EXPECT(ipsecmss_find_mss(buf, len + 4, &off) == IPSECMSS_WALK_FOUND &&
	       off == 20, "walk after the insertion");
	free(buf);
	end("clamp insert, then already low");
}

/* Which flag bytes the target acts on: SYN set, RST and FIN clear. */
static void test_is_syn(void)
{
	unsigned int f, fails = 0;

	begin();
	for (f = 0; f < 256; f++) {
		int want = (f & 0x02) && !(f & 0x04) && !(f & 0x01);
		int got = ipsecmss_is_syn(f) != 0;

		if (got != want && !fails++)
			fail("flags %02x: %d, want %d", f, got, want);
	}
	end("is_syn over all 256 flag bytes");
}

/* Parameters outside the contract: nothing written, nothing inserted. */
static void test_clamp_bad_params(void)
{
	static const struct {
		const char *name, *opts;
		unsigned int room_extra, clamp, insert;
		int room_short;
	} c[] = {
		{ "clamp 0, mss present", "020405b4", 4, 0, 536, 0 },
		{ "clamp 0, mss absent", "", 4, 0, 536, 0 },
		{ "clamp 65536, mss present", "0204ffff", 4, 65536, 536, 0 },
		{ "clamp UINT_MAX, mss absent", "", 4, UINT_MAX, UINT_MAX, 0 },
		{ "room below len", "020405b4", 0, 1350, 536, 1 },
		{ "room 0", "", 0, 1350, 536, 2 },
	};
	unsigned int i, j;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		unsigned char seg[TCP_MAXSEG], *buf;
		struct ipsecmss_edit e;
		unsigned int len, room;
		enum ipsecmss_outcome got;

		begin();
		len = build_tcp(seg, SYN, c[i].opts, 0, NULL);
		room = len + c[i].room_extra;
		if (c[i].room_short == 1)
			room = len - 1;
		else if (c[i].room_short == 2)
			room = 0;
		buf = exact(seg, len, len + c[i].room_extra);
		memset(&e, 0x5a, sizeof(e));
		got = ipsecmss_clamp(buf, len, room, c[i].clamp, c[i].insert, &e);
		EXPECT(got != IPSECMSS_LOWERED && got != IPSECMSS_INSERTED &&
		       got < IPSECMSS_OUTCOME_MAX, "outcome %d", (int)got);
		for (j = 0; j < len + c[i].room_extra; j++)
			EXPECT(buf[j] == (j < len ? seg[j] : 0xa5),
			       "byte %u changed", j);
		EXPECT(e.grow == 0, "grow %u", e.grow);
		free(buf);
		end("%s: unchanged", c[i].name);
	}
}

/* -------------------------------------------------------------- checksums */

static void test_csum(void)
{
	unsigned char d[256];
	unsigned int n, i, fails = 0;

	begin();
	/* RFC 1624 section 4: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000 */
	EXPECT(csum_eq(ipsecmss_csum_apply(0xdd2f, ref_fold(0xaaaa + 0x3285)),
		       0x0000), "rfc1624 example: %04x",
	       ipsecmss_csum_apply(0xdd2f, ref_fold(0xaaaa + 0x3285)));
	EXPECT(ipsecmss_csum_apply(0x1234, 0) == 0x1234, "apply 0: %04x",
	       ipsecmss_csum_apply(0x1234, 0));
	EXPECT(ipsecmss_csum_apply(0x1234, 1) == 0x1233, "apply 1: %04x",
	       ipsecmss_csum_apply(0x1234, 1));
	EXPECT(ipsecmss_csum_apply(0x0000, 1) == 0xfffe, "apply 1 to 0: %04x",
	       ipsecmss_csum_apply(0x0000, 1));
	end("csum_apply known values");

	begin();
	for (n = 0; n < sizeof(d); n++) {
		for (i = 0; i < n; i++)
			d[i] = (unsigned char)rnd();
		if (n % 3 == 0)
			memset(d, 0xff, n);
		{
			unsigned char *b = exact(d, n, n);
			unsigned int got = ipsecmss_csum_sum(b, n, 0);
			unsigned int got2 = ipsecmss_csum_sum(b, n, 0x1ffff);
			unsigned int want = ref_fold(ref_sum(d, n, 0));
			unsigned int want2 = ref_fold(ref_sum(d, n, 0x1ffff));

			if (got > 0xffff || got2 > 0xffff || !csum_eq(got, want) ||
			    !csum_eq(got2, want2)) {
				if (!fails++)
					fail("len %u: %04x/%04x, want %04x/%04x",
					     n, got, got2, want, want2);
			}
			free(b);
		}
	}
	end("csum_sum against a byte-wise sum, lengths 0..255");

	/* apply(diff) must equal replacing words, for random words */
	begin();
	fails = 0;
	for (i = 0; i < 100000; i++) {
		unsigned int check = rnd() & 0xffff, o = rnd() & 0xffff;
		unsigned int nw = rnd() & 0xffff, diff, got, want;

		if (i < 4) {
			check = (i & 1) ? 0xffff : 0;
			o = (i & 2) ? 0xffff : 0;
		}
		diff = ref_fold((~o & 0xffff) + nw);
		got = ipsecmss_csum_apply(check, diff);
		/* from scratch: data whose sum S gives check = ~S */
		want = (uint16_t)~ref_fold(ref_fold((~check & 0xffff) +
						    (~o & 0xffff)) + nw);
		if (!csum_eq(got, want) && !fails++)
			fail("check %04x %04x->%04x: %04x, want %04x", check, o,
			     nw, got, want);
	}
	end("csum_apply replaces a word like RFC 1624 eqn 3");
}

/* ------------------------------------------------------------- arithmetic */

struct mtu_case {
	unsigned int mtu, overhead;
	int ipv6;
	unsigned int want;
};

static const struct mtu_case mtu_cases[] = {
	{ 1454, 73, 0, 1341 },		/* esp-overhead.md */
	{ 1454, 73, 1, 1321 },
	{ 1500, 0, 0, 1460 },
	{ 1500, 0, 1, 1440 },
	{ 1500, 73, 0, 1387 },
	{ 616, 40, 0, 536 },		/* below the defaults: exact */
	{ 617, 40, 0, 537 },
	{ 615, 40, 0, 535 },
	{ 1280, 0, 1, 1220 },
	{ 1281, 0, 1, 1221 },
	{ 1279, 0, 1, 1219 },
	{ 1280, 73, 1, 1147 },		/* IPv6 over a 1280 tunnel: exact */
	{ 576, 0, 0, 536 },
	{ 575, 0, 0, 535 },
	{ 128, 0, 0, 88 },		/* exactly the floor */
	{ 129, 0, 0, 89 },
	{ 127, 0, 0, 88 },		/* below: the floor */
	{ 148, 0, 1, 88 },
	{ 147, 0, 1, 88 },
	{ 149, 0, 1, 89 },
	{ 100, 73, 0, 88 },		/* tiny MTU */
	{ 100, 73, 1, 88 },
	{ 73, 100, 0, 88 },		/* MTU below the overhead */
	{ 73, 100, 1, 88 },
	{ 0, 0, 0, 88 },
	{ 0, 0, 1, 88 },
	{ 1500, 1500, 0, 88 },		/* huge overhead */
	{ 1500, 1461, 0, 88 },
	{ 65575, 0, 0, 65535 },		/* exactly the cap */
	{ 65574, 0, 0, 65534 },
	{ 65576, 0, 0, 65535 },		/* over: capped */
	{ 65595, 0, 1, 65535 },
	{ 65594, 0, 1, 65534 },
	{ 70000, 0, 1, 65535 },
	{ UINT_MAX, 0, 0, 65535 },	/* overflow-safe */
	{ UINT_MAX, 0, 1, 65535 },
	{ UINT_MAX, 1, 0, 65535 },
	{ UINT_MAX, UINT_MAX, 0, 88 },
	{ UINT_MAX, UINT_MAX, 1, 88 },
	{ UINT_MAX, UINT_MAX - 1000, 0, 960 },
	{ UINT_MAX, UINT_MAX - 1500, 1, 1440 },
	{ 0, UINT_MAX, 0, 88 },
	{ 1, UINT_MAX, 1, 88 },
	{ 1500, UINT_MAX - 20, 0, 88 },	/* mtu + overhead wraps */
	{ 1500, UINT_MAX - 1459, 0, 88 },
	{ 40, 0, 0, 88 },
	{ 39, 0, 0, 88 },
	{ 9000, 73, 0, 8887 },
	{ 1500, 73, -1, 1367 },		/* any nonzero ipv6 is IPv6 */
	{ 1500, 73, 2, 1367 },
};

static void test_mss_for_mtu(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(mtu_cases) / sizeof(mtu_cases[0]); i++) {
		const struct mtu_case *c = &mtu_cases[i];
		unsigned int got;

		begin();
		got = ipsecmss_mss_for_mtu(c->mtu, c->overhead, c->ipv6);
		EXPECT(got == c->want, "got %u, want %u", got, c->want);
		end("mss_for_mtu(%u, %u, ipv6 %d)", c->mtu, c->overhead,
		    c->ipv6);
	}
}

/*
 * The independent ESP model: the bytes on the wire for an inner packet of
 * @n bytes, built part by part as RFC 4303 lays them out.  UINT64_MAX when
 * @n cannot be sent (transport mode: smaller than its own IP header).
 */
static uint64_t esp_wire(const struct ipsecmss_esp *e, uint64_t n)
{
	uint64_t blk = e->block, total = 0, payload, pad = 0;

	while (blk % 4)				/* round up to 4 */
		blk++;
	total += e->outer_hdr;			/* a new IP header (tunnel) */
	if (e->transport) {
		if (n < e->inner_hdr)
			return UINT64_MAX;
		total += e->inner_hdr;		/* the IP header stays first */
		payload = n - e->inner_hdr;
	} else {
		payload = n;			/* the whole packet inside */
	}
	total += e->encap_hdr;			/* NAT-T UDP */
	total += IPSECMSS_ESP_HDR;		/* SPI + sequence */
	total += e->iv;
	total += payload;
	while ((payload + pad + IPSECMSS_ESP_TRAILER) % blk)
		pad++;
	total += pad + IPSECMSS_ESP_TRAILER;
	total += e->icv;
	return total;
}

/* Largest n whose packet fits @mtu, looking downward from @mtu; 0: none. */
static unsigned int brute_inner_max(unsigned int mtu,
				    const struct ipsecmss_esp *e)
{
	uint64_t n;

	for (n = mtu;; n--) {
		uint64_t w = esp_wire(e, n);

		if (w != UINT64_MAX && w <= mtu)
			return (unsigned int)n;
		if (n == 0 || (e->transport && n <= e->inner_hdr))
			return 0;
	}
}

struct suite {
	const char *name;
	unsigned int iv, block, icv;
};

static const struct suite suites[] = {
	{ "aes-cbc+sha1-96", 16, 16, 12 },
	{ "aes-cbc+sha256-128", 16, 16, 16 },
	{ "aes-gcm-16", 8, 1, 16 },
	{ "aes-gcm-16 (block 4)", 8, 4, 16 },
	{ "chacha20-poly1305", 8, 1, 16 },
	{ "3des-cbc+sha1-96", 8, 8, 12 },
	{ "null+sha1-96", 0, 1, 12 },
	{ "aes-ctr+sha256-128", 8, 1, 16 },
	{ "32-byte block", 16, 32, 16 },
};

struct mode {
	const char *name;
	unsigned int outer, encap, transport, inner;
};

static const struct mode modes[] = {
	{ "tunnel v4", 20, 0, 0, 0 },
	{ "tunnel v4 nat-t", 20, 8, 0, 0 },
	{ "tunnel v6", 40, 0, 0, 0 },
	{ "tunnel v6 nat-t", 40, 8, 0, 0 },
	{ "transport v4", 0, 0, 1, 20 },
	{ "transport v4 nat-t", 0, 8, 1, 20 },
	{ "transport v6", 0, 0, 1, 40 },
};

static void test_esp_worked_example(void)
{
	const struct ipsecmss_esp e = { 20, 0, 16, 16, 12, 0, 0 };
	unsigned int got, mss;

	begin();
	got = ipsecmss_esp_inner_max(1454, &e);
	EXPECT(got == 1390, "inner_max(1454) = %u, want 1390", got);
	EXPECT(brute_inner_max(1454, &e) == 1390, "the model disagrees: %u",
	       brute_inner_max(1454, &e));
	for (mss = 1335; mss <= 1350; mss++)
		EXPECT(esp_wire(&e, mss + 40) == 1448, "model: mss %u -> %llu",
		       mss, (unsigned long long)esp_wire(&e, mss + 40));
	EXPECT(esp_wire(&e, 1351 + 40) == 1464, "model: mss 1351 -> %llu",
	       (unsigned long long)esp_wire(&e, 1351 + 40));
	EXPECT(got - IPSECMSS_IPV4_TCP_HDRS == 1350, "mss %u, want 1350",
	       got - IPSECMSS_IPV4_TCP_HDRS);
	end("esp worked example: aes-cbc+sha1-96 v4 mtu 1454 -> 1390, mss 1350");

	begin();
	got = ipsecmss_esp_worst_overhead(&e);
	EXPECT(got == 73, "worst_overhead %u, want 73", got);
	EXPECT(ipsecmss_mss_for_mtu(1454, got, 0) == 1341, "mss_for_mtu %u",
	       ipsecmss_mss_for_mtu(1454, got, 0));
	end("esp worst overhead: aes-cbc+sha1-96 v4 -> 73, mtu 1454 -> 1341");
}

static void test_esp_suites(void)
{
	unsigned int s, m;

	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			struct ipsecmss_esp e = {
				modes[m].outer, modes[m].encap, suites[s].iv,
				suites[s].block, suites[s].icv,
				modes[m].transport, modes[m].inner,
			};
			static unsigned int want[9001];
			static const unsigned int big[] = { 65535, 65536, 65575 };
			unsigned int mtu, worst = 0, n, tight = 0, fails = 0;

			/* inner_max against the model, every MTU 0..9000 */
			begin();
			for (mtu = 0; mtu <= 9000 + 3; mtu++) {
				unsigned int m2 = mtu <= 9000 ? mtu : big[mtu - 9001];
				unsigned int got = ipsecmss_esp_inner_max(m2, &e);
				unsigned int w = brute_inner_max(m2, &e);

				if (mtu <= 9000)
					want[mtu] = w;
				if (got != w && !fails++)
					fail("mtu %u: %u, want %u", m2, got, w);
				if (mtu >= 576 && mtu <= 9000 && mtu - w > worst)
					worst = mtu - w;
			}
			end("esp inner_max %s %s, mtu 0..9000", suites[s].name,
			    modes[m].name);

			/* the worst overhead is the largest MTU - inner_max */
			begin();
			n = ipsecmss_esp_worst_overhead(&e);
			EXPECT(n == worst, "worst_overhead %u, want %u", n, worst);
			fails = 0;
			for (mtu = 576; mtu <= 9000 && n < 576; mtu++) {
				unsigned int exact_in = want[mtu];
				int v6;

				if (exact_in == mtu - n)
					tight++;
				if (mtu - n > exact_in && !fails++)
					fail("mtu %u: mtu - %u > inner_max %u", mtu,
					     n, exact_in);
				for (v6 = 0; v6 <= 1; v6++) {
					unsigned int hdrs = v6 ? 60 : 40;
					unsigned int flr = IPSECMSS_MSS_FLOOR;
					unsigned int got = ipsecmss_mss_for_mtu(mtu, n,
										v6);

					/* the floor is a policy, not a fit */
					if (mtu < n + hdrs + flr) {
						if (got != flr && !fails++)
							fail("mtu %u %s: %u, want the "
							     "floor", mtu,
							     v6 ? "v6" : "v4", got);
						continue;
					}
					if (got + hdrs > exact_in && !fails++)
						fail("mtu %u %s: mss %u > exact %u",
						     mtu, v6 ? "v6" : "v4", got,
						     exact_in - hdrs);
				}
			}
			EXPECT(tight > 0, "never tight over 576..9000");
			end("esp worst_overhead %s %s = %u: safe for mtu 576..9000, "
			    "tight %u times", suites[s].name, modes[m].name, n,
			    tight);
		}
	}
}

static void test_esp_absurd(void)
{
	static const struct {
		const char *name;
		struct ipsecmss_esp e;
	} bad[] = {
		{ "block 0", { 20, 0, 16, 0, 12, 0, 0 } },
		{ "block 3", { 20, 0, 16, 3, 12, 0, 0 } },
		{ "block 5", { 20, 0, 16, 5, 12, 0, 0 } },
		{ "block 6", { 20, 0, 16, 6, 12, 0, 0 } },
		{ "block 12", { 20, 0, 16, 12, 12, 0, 0 } },
		{ "block 24", { 20, 0, 16, 24, 12, 0, 0 } },
		{ "block 65537", { 20, 0, 16, 65537, 12, 0, 0 } },
		{ "block 2^17", { 20, 0, 16, 0x20000, 12, 0, 0 } },
		{ "block 2^31", { 20, 0, 16, 0x80000000u, 12, 0, 0 } },
		{ "iv 65537", { 20, 0, 65537, 16, 12, 0, 0 } },
		{ "icv 65537", { 20, 0, 16, 16, 65537, 0, 0 } },
		{ "outer 65537", { 65537, 0, 16, 16, 12, 0, 0 } },
		{ "encap 65537", { 20, 65537, 16, 16, 12, 0, 0 } },
		{ "inner 65537 transport", { 0, 0, 16, 16, 12, 1, 65537 } },
		{ "block UINT_MAX", { 20, 0, 16, UINT_MAX, 12, 0, 0 } },
		{ "iv UINT_MAX", { 20, 0, UINT_MAX, 16, 12, 0, 0 } },
		{ "icv UINT_MAX", { 20, 0, 16, 16, UINT_MAX, 0, 0 } },
		{ "outer UINT_MAX", { UINT_MAX, 0, 16, 16, 12, 0, 0 } },
		{ "encap UINT_MAX", { 20, UINT_MAX, 16, 16, 12, 0, 0 } },
		{ "inner UINT_MAX transport", { 0, 0, 16, 16, 12, 1, UINT_MAX } },
		{ "icv 2^32-12 (sums wrap)", { 20, 0, 16, 16, 0xfffffff4u, 0, 0 } },
		{ "iv 2^31", { 20, 0, 0x80000000u, 16, 12, 0, 0 } },
		{ "all UINT_MAX", { UINT_MAX, UINT_MAX, UINT_MAX, UINT_MAX, UINT_MAX,
				    UINT_MAX, UINT_MAX } },
	};
	static const unsigned int mtus[] = { 0, 1, 1454, 1500, 9000, 65535,
					     UINT_MAX };
	unsigned int i, j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		begin();
		for (j = 0; j < sizeof(mtus) / sizeof(mtus[0]); j++) {
			unsigned int got = ipsecmss_esp_inner_max(mtus[j], &bad[i].e);

			EXPECT(got == 0, "inner_max(%u) = %u, want 0", mtus[j],
			       got);
		}
		EXPECT(ipsecmss_esp_worst_overhead(&bad[i].e) == 0,
		       "worst_overhead %u, want 0",
		       ipsecmss_esp_worst_overhead(&bad[i].e));
		end("esp absurd: %s -> 0", bad[i].name);
	}
}

/*
 * Large but legal parameters (64 KiB each) and huge MTUs: either 0 or the
 * exact answer, never a wrapped one.  Checked by fit / no-fit of the model
 * (which is monotone in n), not by a loop.
 */
static void test_esp_large(void)
{
	static const struct ipsecmss_esp es[] = {
		{ 20, 0, 16, 16, 12, 0, 0 },
		{ 65535, 65535, 65535, 16, 65535, 0, 0 },
		{ 40, 8, 65535, 65536, 65535, 0, 0 },
		{ 0, 65535, 65535, 4, 65535, 1, 65535 },
		{ 20, 8, 8, 1, 16, 0, 0 },
	};
	static const unsigned int mtus[] = { 65535, 65536, 70000, 1u << 20,
					     0x7fffffffu, 0xfffffff0u, UINT_MAX };
	unsigned int i, j;

	for (i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
		begin();
		for (j = 0; j < sizeof(mtus) / sizeof(mtus[0]); j++) {
			unsigned int got = ipsecmss_esp_inner_max(mtus[j], &es[i]);
			uint64_t w = esp_wire(&es[i], got);
			uint64_t w1 = esp_wire(&es[i], (uint64_t)got + 1);

			if (got == 0)
				continue;	/* refusing is allowed */
			EXPECT(w != UINT64_MAX && w <= mtus[j],
			       "mtu %u: %u does not fit (%llu)", mtus[j], got,
			       (unsigned long long)w);
			EXPECT(w1 > mtus[j], "mtu %u: %u is not the largest",
			       mtus[j], got);
		}
		end("esp large: outer %u encap %u iv %u block %u icv %u%s",
		    es[i].outer_hdr, es[i].encap_hdr, es[i].iv, es[i].block,
		    es[i].icv, es[i].transport ? " transport" : "");
	}
}

/* ------------------------------------------------------------------- main */

int main(void)
{
	printf("KTAP version 1\n");
	test_walk();
	test_clamp();
	test_clamp_malformed();
	test_clamp_every_offset();
	test_insert_every_length();
	test_clamp_idempotent();
	test_is_syn();
	test_clamp_bad_params();
	test_csum();
	test_mss_for_mtu();
	test_esp_worked_example();
	test_esp_suites();
	test_esp_absurd();
	test_esp_large();
	printf("1..%u\n", n_pass + n_fail);
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
	       n_pass, n_fail);
	return n_fail ? 1 : 0;
}
