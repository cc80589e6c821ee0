// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss - the TCP MSS that lets ESP-tunnelled segments travel without
 * IP fragmentation.
 *
 *   ipsecmss calc --mtu N (--enc ALG [--key-bits N] --auth ALG | --aead ALG)
 *                 [--natt] [--outer ipv4|ipv6] [--inner ipv4|ipv6]
 *                 [--transport] [--porcelain | --format text|kv]
 *   ipsecmss sa [--mtu N] [--porcelain | --format text|kv]
 *   ipsecmss stats
 *
 * All the ESP arithmetic lives in kernel/ipsecmss_core.c, shared with the
 * kernel module: this file only describes a suite or an SA as a struct
 * ipsecmss_esp, the same way the module's ipsecmss_esp_params() describes
 * an xfrm_state, and prints what the core computes.  The algorithm table
 * below is the one place that knows the block, IV and ICV sizes.
 *
 * Exit status: 0 success, 1 a runtime failure (netlink), 2 a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>

#include "ipsecmss_core.h"

#ifndef IPSECMSS_VERSION
#define IPSECMSS_VERSION "unknown"
#endif

#define PROG		"ipsecmss"
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

#define IPV4_HDR	20
#define IPV6_HDR	40
#define UDP_HDR		8
#define MTU_MIN_V4	68	/* RFC 791 */
#define MTU_MIN_V6	1280	/* RFC 8200 */
#define MTU_MAX		65535

/* ------------------------------------------------------------ algorithms */

enum alg_kind { ALG_ENC, ALG_AUTH, ALG_AEAD };

/*
 * One ESP algorithm: what decides its size on the wire.  The kernel names
 * are the canonical ones the kernel stores in an SA (and dumps back), the
 * sizes those of the crypto API's transform (crypto_aead_blocksize,
 * crypto_aead_ivsize, crypto_aead_authsize for ESP).
 */
struct alg {
	const char *name;	/* the CLI's name */
	const char *kname;	/* the kernel's name in XFRMA_ALG_* */
	const char *label;	/* for humans */
	enum alg_kind kind;
	unsigned int block;	/* cipher block size (enc, aead) */
	unsigned int iv;	/* IV bytes in each packet (enc, aead) */
	unsigned int icv;	/* ICV bytes (auth, aead) */
	unsigned int salt_bits;	/* key bits an SA holds beyond the cipher key */
	unsigned int key_bits[4]; /* valid cipher key sizes, 0-terminated */
};

static const struct alg algs[] = {
	/* encryption (with a separate --auth) */
	{ "aes-cbc", "cbc(aes)", "AES-CBC", ALG_ENC, 16, 16, 0, 0,
	  { 128, 192, 256 } },
	{ "aes-ctr", "rfc3686(ctr(aes))", "AES-CTR", ALG_ENC, 1, 8, 0, 32,
	  { 128, 192, 256 } },
	{ "3des-cbc", "cbc(des3_ede)", "3DES-CBC", ALG_ENC, 8, 8, 0, 0,
	  { 192 } },
	{ "camellia-cbc", "cbc(camellia)", "Camellia-CBC", ALG_ENC, 16, 16, 0,
	  0, { 128, 192, 256 } },
	{ "null", "ecb(cipher_null)", "NULL encryption", ALG_ENC, 1, 0, 0, 0,
	  { 0 } },
	/* integrity (with --enc) */
	{ "none", "digest_null", "no integrity", ALG_AUTH, 0, 0, 0, 0, { 0 } },
	{ "hmac-md5-96", "hmac(md5)", "HMAC-MD5-96", ALG_AUTH, 0, 0, 12, 0,
	  { 0 } },
	{ "hmac-sha1-96", "hmac(sha1)", "HMAC-SHA1-96", ALG_AUTH, 0, 0, 12, 0,
	  { 0 } },
	{ "hmac-sha256-128", "hmac(sha256)", "HMAC-SHA-256-128", ALG_AUTH,
	  0, 0, 16, 0, { 0 } },
	{ "hmac-sha384-192", "hmac(sha384)", "HMAC-SHA-384-192", ALG_AUTH,
	  0, 0, 24, 0, { 0 } },
	{ "hmac-sha512-256", "hmac(sha512)", "HMAC-SHA-512-256", ALG_AUTH,
	  0, 0, 32, 0, { 0 } },
	/* combined mode (AEAD) */
	{ "aes-gcm-16", "rfc4106(gcm(aes))", "AES-GCM-16", ALG_AEAD, 1, 8, 16,
	  32, { 128, 192, 256 } },
	{ "aes-gcm-12", "rfc4106(gcm(aes))", "AES-GCM-12", ALG_AEAD, 1, 8, 12,
	  32, { 128, 192, 256 } },
	{ "aes-gcm-8", "rfc4106(gcm(aes))", "AES-GCM-8", ALG_AEAD, 1, 8, 8,
	  32, { 128, 192, 256 } },
	{ "aes-ccm-16", "rfc4309(ccm(aes))", "AES-CCM-16", ALG_AEAD, 1, 8, 16,
	  24, { 128, 192, 256 } },
	{ "aes-ccm-12", "rfc4309(ccm(aes))", "AES-CCM-12", ALG_AEAD, 1, 8, 12,
	  24, { 128, 192, 256 } },
	{ "aes-ccm-8", "rfc4309(ccm(aes))", "AES-CCM-8", ALG_AEAD, 1, 8, 8,
	  24, { 128, 192, 256 } },
	{ "chacha20-poly1305", "rfc7539esp(chacha20,poly1305)",
	  "ChaCha20-Poly1305", ALG_AEAD, 1, 8, 16, 32, { 256 } },
};

#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static const char *const kind_names[] = {
	[ALG_ENC] = "encryption", [ALG_AUTH] = "integrity",
	[ALG_AEAD] = "AEAD",
};

static const char *const kind_opts[] = {
	[ALG_ENC] = "--enc", [ALG_AUTH] = "--auth", [ALG_AEAD] = "--aead",
};

static const struct alg *alg_by_name(enum alg_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < N_ALGS; i++)
		if (algs[i].kind == kind && strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/*
 * The table entry for a kernel name: the one whose ICV is @icv when there
 * is one (auth, aead), else the first of that name.
 */
static const struct alg *alg_by_kname(enum alg_kind kind, const char *kname,
				      unsigned int icv, int *exact)
{
	const struct alg *first = NULL;
	size_t i;

	*exact = 0;
	for (i = 0; i < N_ALGS; i++) {
		if (algs[i].kind != kind || strcmp(algs[i].kname, kname))
			continue;
		if (kind == ALG_ENC || algs[i].icv == icv) {
			*exact = 1;
			return &algs[i];
		}
		if (!first)
			first = &algs[i];
	}
	return first;
}

static int alg_key_ok(const struct alg *a, unsigned int bits)
{
	unsigned int i;

	if (!a->key_bits[0])
		return bits == 0;
	for (i = 0; i < 4 && a->key_bits[i]; i++)
		if (a->key_bits[i] == bits)
			return 1;
	return 0;
}

static void alg_key_list(const struct alg *a, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	if (!a->key_bits[0]) {
		snprintf(buf, len, "none (the cipher has no key size to choose)");
		return;
	}
	for (i = 0; i < 4 && a->key_bits[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u",
					i ? ", " : "", a->key_bits[i]);
}

static void alg_list(FILE *f, enum alg_kind kind)
{
	size_t i;
	int n = 0;

	for (i = 0; i < N_ALGS; i++)
		if (algs[i].kind == kind)
			fprintf(f, "%s%s", n++ ? ", " : "", algs[i].name);
}

/* ------------------------------------------------------------- messages */

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
	return EXIT_USAGE;
}

static void runtime_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage_calc(FILE *f)
{
	fprintf(f,
"Usage: " PROG " calc --mtu N --enc ALG [--key-bits N] --auth ALG [OPTION]...\n"
"       " PROG " calc --mtu N --aead ALG [--key-bits N] [OPTION]...\n"
"The ESP overhead, largest inner packet and exact MSS for one suite.\n"
"  --mtu N            MTU of the path the ESP packets take (outer MTU)\n"
"  --enc ALG          encryption: ");
	alg_list(f, ALG_ENC);
	fprintf(f, "\n"
"  --key-bits N       cipher key size (default: the smallest valid one)\n"
"  --auth ALG         integrity, with --enc: ");
	alg_list(f, ALG_AUTH);
	fprintf(f, "\n"
"  --aead ALG         combined mode, instead of --enc/--auth: ");
	alg_list(f, ALG_AEAD);
	fprintf(f, "\n"
"  --natt             UDP encapsulation (NAT traversal, RFC 3948)\n"
"  --outer ipv4|ipv6  family of the SA (the outer header), default ipv4\n"
"  --inner ipv4|ipv6  family of the TCP traffic for \"mss\", default ipv4\n"
"  --transport        transport mode (default tunnel mode)\n"
"  --porcelain        one key=value line (same as --format kv)\n"
"  --format text|kv   report format, default text\n");
}

static void usage_sa(FILE *f)
{
	fprintf(f,
"Usage: " PROG " sa [--mtu N] [--porcelain | --format text|kv]\n"
"The host's IPsec SAs (netlink XFRM dump) with their ESP overhead, largest\n"
"inner packet and exact MSS for inner IPv4 and IPv6.\n"
"  --mtu N            use this outer MTU instead of the route's\n"
"  --porcelain        one key=value line per SA (same as --format kv)\n"
"  --format text|kv   report format, default text\n");
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " COMMAND [OPTION]...\n"
"The TCP MSS that keeps ESP-tunnelled segments from being fragmented.\n"
"\n"
"Commands:\n"
"  calc     compute the overhead and MSS for an MTU and an ESP suite\n"
"  sa       list the host's SAs with the MTU of their route and their MSS\n"
"  stats    print the IPSECMSS counters of this network namespace\n"
"  help     this text\n"
"\n"
"  -h, --help     this text (COMMAND --help: the command's options)\n"
"  -V, --version  the version\n"
"\n");
	usage_calc(f);
	fprintf(f, "\n");
	usage_sa(f);
	fprintf(f,
"\nExit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

/* ------------------------------------------------------- option helpers */

/* A decimal number 0..@max with nothing else around it. */
static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	unsigned long v = 0;
	const char *p;

	if (!*s)
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

static int parse_mtu(const char *s, unsigned int *mtu)
{
	if (parse_uint(s, MTU_MAX, mtu) || *mtu < MTU_MIN_V4)
		return usage_error("invalid MTU '%s': expected a number of bytes "
				   "from %u to %u", s, MTU_MIN_V4, MTU_MAX);
	return 0;
}

/* "ipv4" or "ipv6" (also 4, 6, inet, inet6): 0 or 1 in *v6. */
static int parse_family(const char *opt, const char *s, int *v6)
{
	if (!strcmp(s, "ipv4") || !strcmp(s, "4") || !strcmp(s, "inet"))
		*v6 = 0;
	else if (!strcmp(s, "ipv6") || !strcmp(s, "6") || !strcmp(s, "inet6"))
		*v6 = 1;
	else
		return usage_error("invalid %s '%s': expected ipv4 or ipv6",
				   opt, s);
	return 0;
}

/* --format text|kv (porcelain): 1 in *kv for key=value. */
static int parse_format(const char *s, int *kv)
{
	if (!strcmp(s, "text"))
		*kv = 0;
	else if (!strcmp(s, "kv") || !strcmp(s, "porcelain"))
		*kv = 1;
	else
		return usage_error("invalid --format '%s': expected text or kv",
				   s);
	return 0;
}

/* The message for getopt's '?' or ':' return. */
static int bad_option(int c, char **argv, const char *cmd)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error("%s: option '%s' requires an argument", cmd,
				   arg);
	if (optopt && optopt != '?')
		return usage_error("%s: unknown option '-%c'", cmd, optopt);
	return usage_error("%s: unknown option '%s'", cmd, arg);
}

static int parse_alg(enum alg_kind kind, const char *s,
		     const struct alg **out)
{
	if (*out)
		return usage_error("%s given twice", kind_opts[kind]);
	*out = alg_by_name(kind, s);
	if (!*out) {
		fprintf(stderr, PROG ": unknown %s algorithm '%s'; known: ",
			kind_names[kind], s);
		alg_list(stderr, kind);
		fprintf(stderr, "\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* ---------------------------------------------------------------- report */

/*
 * Everything printed about one ESP SA (or suite) at one outer MTU.  The
 * numbers come from the core; fixed and pad_max only split its worst-case
 * overhead into the parts a reader recognises.
 */
struct esp_report {
	struct ipsecmss_esp esp;
	unsigned int mtu;
	unsigned int fixed;	/* every byte but the padding */
	unsigned int pad_max;	/* the most padding a packet can need */
	unsigned int inner_max;	/* 0: nothing fits */
	unsigned int worst;	/* for --clamp-to-pmtu-minus-overhead N */
	int v4_ok, v6_ok;	/* inner family possible (transport: one) */
	unsigned int mss4, mss6;
	unsigned int worst_mss4, worst_mss6;
};

/*
 * struct ipsecmss_esp for an SA of family @v6 with the given algorithm
 * sizes: the mapping of the kernel module's ipsecmss_esp_params().
 */
static void esp_describe(struct ipsecmss_esp *esp, int v6, int natt,
			 int transport, unsigned int block, unsigned int iv,
			 unsigned int icv)
{
	unsigned int ip_hdr = v6 ? IPV6_HDR : IPV4_HDR;

	memset(esp, 0, sizeof(*esp));
	esp->transport = transport ? 1 : 0;
	if (transport)
		esp->inner_hdr = ip_hdr;
	else
		esp->outer_hdr = ip_hdr;
	esp->encap_hdr = natt ? UDP_HDR : 0;
	esp->iv = iv;
	esp->block = block;
	esp->icv = icv;
}

static void report_compute(struct esp_report *r, const struct ipsecmss_esp *esp,
			   unsigned int mtu, int sa_v6)
{
	memset(r, 0, sizeof(*r));
	r->esp = *esp;
	r->mtu = mtu;
	r->fixed = esp->outer_hdr + esp->encap_hdr + IPSECMSS_ESP_HDR +
		   esp->iv + IPSECMSS_ESP_TRAILER + esp->icv;
	r->worst = ipsecmss_esp_worst_overhead(esp);
	r->pad_max = r->worst > r->fixed ? r->worst - r->fixed : 0;
	r->inner_max = ipsecmss_esp_inner_max(mtu, esp);
	r->v4_ok = !esp->transport || !sa_v6;
	r->v6_ok = !esp->transport || sa_v6;
	r->mss4 = ipsecmss_mss_for_mtu(r->inner_max, 0, 0);
	r->mss6 = ipsecmss_mss_for_mtu(r->inner_max, 0, 1);
	r->worst_mss4 = ipsecmss_mss_for_mtu(mtu, r->worst, 0);
	r->worst_mss6 = ipsecmss_mss_for_mtu(mtu, r->worst, 1);
}

/* Nonzero when the MSS of that family is the floor, not the exact value. */
static int report_floored(const struct esp_report *r, int v6)
{
	unsigned int hdrs = v6 ? IPSECMSS_IPV6_TCP_HDRS : IPSECMSS_IPV4_TCP_HDRS;
	unsigned int mss = v6 ? r->mss6 : r->mss4;

	return r->inner_max < hdrs + mss;
}

static void kv_uint_or_na(const char *key, int ok, unsigned int v)
{
	if (ok)
		printf(" %s=%u", key, v);
	else
		printf(" %s=-", key);
}

/* The key=value fields calc and sa share (after mtu=). */
static void report_print_kv(const struct esp_report *r)
{
	const struct ipsecmss_esp *e = &r->esp;

	printf(" outer_hdr=%u udp_hdr=%u esp_hdr=%u iv=%u block=%u"
	       " pad_min=0 pad_max=%u trailer=%u icv=%u fixed_overhead=%u",
	       e->outer_hdr, e->encap_hdr, IPSECMSS_ESP_HDR, e->iv, e->block,
	       r->pad_max, IPSECMSS_ESP_TRAILER, e->icv, r->fixed);
	printf(" inner_max=%u", r->inner_max);
	kv_uint_or_na("mss4", r->v4_ok, r->mss4);
	kv_uint_or_na("mss6", r->v6_ok, r->mss6);
	kv_uint_or_na("floored4", r->v4_ok, (unsigned int)report_floored(r, 0));
	kv_uint_or_na("floored6", r->v6_ok, (unsigned int)report_floored(r, 1));
	printf(" worst_overhead=%u", r->worst);
	kv_uint_or_na("worst_mss4", r->v4_ok, r->worst_mss4);
	kv_uint_or_na("worst_mss6", r->v6_ok, r->worst_mss6);
}

/* One row of the overhead table: label, right-aligned value, comment. */
static void row(const char *in, const char *label, const char *value,
		const char *comment)
{
	printf("%s  %-16s %7s%s%s\n", in, label, value, *comment ? "   " : "",
	       comment);
}

static void row_u(const char *in, const char *label, unsigned int v,
		  const char *comment)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	row(in, label, buf, comment);
}

static void print_mss_line(const char *in, const struct esp_report *r, int v6)
{
	unsigned int hdrs = v6 ? IPSECMSS_IPV6_TCP_HDRS : IPSECMSS_IPV4_TCP_HDRS;
	unsigned int mss = v6 ? r->mss6 : r->mss4;

	printf("%s%-24s %u", in, v6 ? "Exact MSS, inner IPv6:" :
	       "Exact MSS, inner IPv4:", mss);
	if (report_floored(r, v6))
		printf("   (the floor: a %u-byte inner packet fits only %u, "
		       "and the clamp never goes below %u)", r->inner_max,
		       r->inner_max > hdrs ? r->inner_max - hdrs : 0, mss);
	printf("\n");
}

/*
 * The human-readable breakdown calc and sa share; @show: bit 0 the inner
 * IPv4 MSS, bit 1 the inner IPv6 one (each only where the mode allows it).
 */
static void report_print_text(const char *in, const struct esp_report *r,
			      unsigned int show)
{
	const struct ipsecmss_esp *e = &r->esp;
	int v4 = r->v4_ok && (show & 1), v6 = r->v6_ok && (show & 2);
	char buf[64], why[64];

	printf("%sESP overhead (bytes):\n", in);
	if (e->transport) {
		snprintf(buf, sizeof(buf), "transport mode: the packet keeps "
			 "its own %u-byte header", e->inner_hdr);
		row_u(in, "outer IP header", 0, buf);
	} else {
		row_u(in, "outer IP header", e->outer_hdr, "");
	}
	row_u(in, "UDP (NAT-T)", e->encap_hdr, "");
	row_u(in, "ESP header", IPSECMSS_ESP_HDR, "SPI + sequence number");
	row_u(in, "IV", e->iv, "");
	snprintf(buf, sizeof(buf), "0-%u", r->pad_max);
	snprintf(why, sizeof(why), "payload + trailer aligned to %u",
		 r->pad_max + 1);
	row(in, "padding", buf, why);
	row_u(in, "trailer", IPSECMSS_ESP_TRAILER, "pad length + next header");
	row_u(in, "ICV", e->icv, "");
	snprintf(buf, sizeof(buf), "%u-%u", r->fixed, r->worst);
	row(in, "total", buf, "");
	printf("%s%-24s %u\n", in, "Outer MTU:", r->mtu);
	printf("%s%-24s %u bytes\n", in, "Largest inner packet:",
	       r->inner_max);
	if (v4)
		print_mss_line(in, r, 0);
	if (v6)
		print_mss_line(in, r, 1);
	printf("%s%-24s %u   (--clamp-to-pmtu-minus-overhead %u)\n", in,
	       "Worst-case overhead N:", r->worst, r->worst);
	if (v4)
		printf("%s%-24s %u\n", in, "  N gives, inner IPv4:",
		       r->worst_mss4);
	if (v6)
		printf("%s%-24s %u\n", in, "  N gives, inner IPv6:",
		       r->worst_mss6);
}

/* ------------------------------------------------------------------ calc */

struct calc_opts {
	unsigned int mtu;
	int have_mtu;
	const struct alg *enc, *auth, *aead;
	unsigned int key_bits;
	int have_key_bits;
	int natt, outer_v6, inner_v6, have_inner, transport, kv;
};

enum {
	OPT_MTU = 256, OPT_ENC, OPT_AUTH, OPT_AEAD, OPT_KEY_BITS, OPT_NATT,
	OPT_OUTER, OPT_INNER, OPT_TRANSPORT, OPT_PORCELAIN, OPT_FORMAT,
	OPT_HELP,
};

static const struct option calc_longopts[] = {
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "enc", required_argument, NULL, OPT_ENC },
	{ "auth", required_argument, NULL, OPT_AUTH },
	{ "aead", required_argument, NULL, OPT_AEAD },
	{ "key-bits", required_argument, NULL, OPT_KEY_BITS },
	{ "natt", no_argument, NULL, OPT_NATT },
	{ "outer", required_argument, NULL, OPT_OUTER },
	{ "inner", required_argument, NULL, OPT_INNER },
	{ "transport", no_argument, NULL, OPT_TRANSPORT },
	{ "porcelain", no_argument, NULL, OPT_PORCELAIN },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int calc_parse(int argc, char **argv, struct calc_opts *o)
{
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", calc_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MTU:
			rc = parse_mtu(optarg, &o->mtu);
			o->have_mtu = 1;
			break;
		case OPT_ENC:
			rc = parse_alg(ALG_ENC, optarg, &o->enc);
			break;
		case OPT_AUTH:
			rc = parse_alg(ALG_AUTH, optarg, &o->auth);
			break;
		case OPT_AEAD:
			rc = parse_alg(ALG_AEAD, optarg, &o->aead);
			break;
		case OPT_KEY_BITS:
			if (parse_uint(optarg, 65535, &o->key_bits))
				rc = usage_error("invalid --key-bits '%s'",
						 optarg);
			o->have_key_bits = 1;
			break;
		case OPT_NATT:
			o->natt = 1;
			break;
		case OPT_OUTER:
			rc = parse_family("--outer", optarg, &o->outer_v6);
			break;
		case OPT_INNER:
			rc = parse_family("--inner", optarg, &o->inner_v6);
			o->have_inner = 1;
			break;
		case OPT_TRANSPORT:
			o->transport = 1;
			break;
		case OPT_PORCELAIN:
			o->kv = 1;
			break;
		case OPT_FORMAT:
			rc = parse_format(optarg, &o->kv);
			break;
		case 'h':
		case OPT_HELP:
			usage_calc(stdout);
			exit(0);
		default:
			return bad_option(c, argv, "calc");
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("calc: unexpected argument '%s'",
				   argv[optind]);
	return 0;
}

/* The option combinations calc_parse cannot see one at a time. */
static int calc_check(struct calc_opts *o)
{
	const struct alg *cipher = o->aead ? o->aead : o->enc;
	char keys[64];

	if (!o->have_mtu)
		return usage_error("calc: missing --mtu");
	if (o->aead && (o->enc || o->auth))
		return usage_error("calc: --aead is a combined algorithm: "
				   "give either --aead or --enc with --auth");
	if (!cipher)
		return usage_error("calc: missing --enc (with --auth) or --aead");
	if (o->enc && !o->auth)
		return usage_error("calc: --enc needs --auth (use --auth none "
				   "for an SA without integrity)");
	if (o->have_key_bits && !alg_key_ok(cipher, o->key_bits)) {
		alg_key_list(cipher, keys, sizeof(keys));
		return usage_error("calc: --key-bits %u is not valid for %s; "
				   "valid: %s", o->key_bits, cipher->name, keys);
	}
	if (!o->have_key_bits)
		o->key_bits = cipher->key_bits[0];
	if (o->outer_v6 && o->mtu < MTU_MIN_V6)
		return usage_error("calc: invalid MTU %u for an IPv6 path: the "
				   "minimum is %u", o->mtu, MTU_MIN_V6);
	if (o->transport && o->have_inner && o->inner_v6 != o->outer_v6)
		return usage_error("calc: in transport mode the packet is of "
				   "the SA's own family: --inner must match "
				   "--outer");
	if (o->transport)
		o->inner_v6 = o->outer_v6;
	return 0;
}

static void calc_suite_name(const struct calc_opts *o, char *buf, size_t len)
{
	if (o->aead)
		snprintf(buf, len, "%s", o->aead->name);
	else
		snprintf(buf, len, "%s+%s", o->enc->name, o->auth->name);
}

static void calc_print_kv(const struct calc_opts *o, const struct esp_report *r)
{
	char suite[80];

	calc_suite_name(o, suite, sizeof(suite));
	printf("suite=%s enc=%s auth=%s aead=%s key_bits=%u",
	       suite, o->enc ? o->enc->name : "-",
	       o->auth ? o->auth->name : "-", o->aead ? o->aead->name : "-",
	       o->key_bits);
	printf(" outer=%s inner=%s mode=%s natt=%d mtu=%u",
	       o->outer_v6 ? "ipv6" : "ipv4", o->inner_v6 ? "ipv6" : "ipv4",
	       o->transport ? "transport" : "tunnel", o->natt, o->mtu);
	report_print_kv(r);
	printf(" mss=%u\n", o->inner_v6 ? r->mss6 : r->mss4);
}

static void calc_print_text(const struct calc_opts *o,
			    const struct esp_report *r)
{
	const struct alg *cipher = o->aead ? o->aead : o->enc;

	printf("Suite:    %s", cipher->label);
	if (o->key_bits)
		printf(" (%u-bit key)", o->key_bits);
	if (o->auth)
		printf(" + %s", o->auth->label);
	printf("\n");
	printf("Path:     MTU %u, outer %s, %s mode, %s\n", o->mtu,
	       o->outer_v6 ? "IPv6" : "IPv4",
	       o->transport ? "transport" : "tunnel",
	       o->natt ? "NAT-T (UDP 4500)" : "no NAT-T");
	/* Both families unless --inner picked one. */
	report_print_text("", r, !o->have_inner ? 3 : o->inner_v6 ? 2 : 1);
}

static int cmd_calc(int argc, char **argv)
{
	const struct alg *cipher;
	struct ipsecmss_esp esp;
	struct esp_report r;
	struct calc_opts o;
	int rc;

	rc = calc_parse(argc, argv, &o);
	if (!rc)
		rc = calc_check(&o);
	if (rc)
		return rc;

	cipher = o.aead ? o.aead : o.enc;
	esp_describe(&esp, o.outer_v6, o.natt, o.transport, cipher->block,
		     cipher->iv, o.aead ? o.aead->icv : o.auth->icv);
	report_compute(&r, &esp, o.mtu, o.outer_v6);
	if (!r.inner_max)
		return usage_error("calc: MTU %u leaves no room for any packet "
				   "once wrapped in this ESP suite (%u bytes of "
				   "overhead)", o.mtu, r.fixed);

	if (o.kv)
		calc_print_kv(&o, &r);
	else
		calc_print_text(&o, &r);
	return 0;
}

/* -------------------------------------------------------------- netlink */

/* The kernel sizes dump messages to the reader's buffer, up to 32 KiB. */
#define NL_BUF_SIZE	32768u

/*
 * Send the request @nlh and run @cb on every answer until the end of a
 * dump (NLMSG_DONE) or, for a single request, which must carry NLM_F_ACK,
 * the acknowledgement; -1 with errno set on failure (a netlink error
 * included).
 */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data)
{
	unsigned int portid = mnl_socket_get_portid(nl);
	unsigned int seq = nlh->nlmsg_seq;
	char *buf;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	buf = malloc(NL_BUF_SIZE);
	if (!buf)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl, buf, NL_BUF_SIZE);
		if (n <= 0) {
			ret = -1;
			if (n == 0)
				errno = EIO;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);
	free(buf);
	return ret < 0 ? -1 : 0;
}

static struct mnl_socket *nl_open(int bus)
{
	struct mnl_socket *nl = mnl_socket_open(bus);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

static unsigned int nl_seq(void)
{
	static unsigned int seq;

	if (!seq)
		seq = (unsigned int)time(NULL);
	return ++seq;
}

/* ------------------------------------------------------------ SA dump */

/* One SA as the kernel dumped it. */
struct sa {
	int family;
	xfrm_address_t saddr, daddr;
	unsigned int spi;	/* host order */
	unsigned int proto, mode, reqid;
	int has_enc, has_auth, has_aead, has_encap;
	char enc[65], auth[65], aead[65];
	unsigned int enc_key_bits, auth_trunc_bits, aead_key_bits;
	unsigned int aead_icv_bits;
	unsigned int encap_type;
};

struct sa_list {
	struct sa *v;
	size_t n, cap;
	int bad;	/* a message too short to be an SA */
};

static void copy_alg_name(char *dst, const char *src)
{
	memcpy(dst, src, 64);
	dst[64] = '\0';
}

static int sa_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= XFRMA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int attr_fits(const struct nlattr *a, size_t len)
{
	return a && mnl_attr_get_payload_len(a) >= len;
}

static void sa_read_algs(struct sa *sa, const struct nlattr **tb)
{
	if (attr_fits(tb[XFRMA_ALG_CRYPT], sizeof(struct xfrm_algo))) {
		const struct xfrm_algo *a = mnl_attr_get_payload(tb[XFRMA_ALG_CRYPT]);

		sa->has_enc = 1;
		copy_alg_name(sa->enc, a->alg_name);
		sa->enc_key_bits = a->alg_key_len;
	}
	if (attr_fits(tb[XFRMA_ALG_AUTH_TRUNC], sizeof(struct xfrm_algo_auth))) {
		const struct xfrm_algo_auth *a =
			mnl_attr_get_payload(tb[XFRMA_ALG_AUTH_TRUNC]);

		sa->has_auth = 1;
		copy_alg_name(sa->auth, a->alg_name);
		sa->auth_trunc_bits = a->alg_trunc_len;
	} else if (attr_fits(tb[XFRMA_ALG_AUTH], sizeof(struct xfrm_algo))) {
		/* Not seen from a kernel that has AUTH_TRUNC: no ICV size. */
		const struct xfrm_algo *a = mnl_attr_get_payload(tb[XFRMA_ALG_AUTH]);

		sa->has_auth = 1;
		copy_alg_name(sa->auth, a->alg_name);
		sa->auth_trunc_bits = 0;
	}
	if (attr_fits(tb[XFRMA_ALG_AEAD], sizeof(struct xfrm_algo_aead))) {
		const struct xfrm_algo_aead *a =
			mnl_attr_get_payload(tb[XFRMA_ALG_AEAD]);

		sa->has_aead = 1;
		copy_alg_name(sa->aead, a->alg_name);
		sa->aead_key_bits = a->alg_key_len;
		sa->aead_icv_bits = a->alg_icv_len;
	}
	if (attr_fits(tb[XFRMA_ENCAP], sizeof(struct xfrm_encap_tmpl))) {
		const struct xfrm_encap_tmpl *t = mnl_attr_get_payload(tb[XFRMA_ENCAP]);

		sa->has_encap = 1;
		sa->encap_type = t->encap_type;
	}
}

static int sa_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[XFRMA_MAX + 1] = { NULL };
	const struct xfrm_usersa_info *info;
	struct sa_list *l = data;
	struct sa *sa;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*info))) {
		l->bad = 1;
		return MNL_CB_OK;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct sa *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return MNL_CB_ERROR;
		l->v = v;
		l->cap = cap;
	}
	info = mnl_nlmsg_get_payload(nlh);
	sa = &l->v[l->n++];
	memset(sa, 0, sizeof(*sa));
	sa->family = info->family;
	sa->saddr = info->saddr;
	sa->daddr = info->id.daddr;
	sa->spi = ntohl(info->id.spi);
	sa->proto = info->id.proto;
	sa->mode = info->mode;
	sa->reqid = info->reqid;
	if (mnl_attr_parse(nlh, sizeof(*info), sa_attr_cb, tb) < 0)
		l->bad = 1;
	sa_read_algs(sa, tb);
	return MNL_CB_OK;
}

static int sa_dump(struct sa_list *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret;

	nl = nl_open(NETLINK_XFRM);
	if (!nl)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_GETSA;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = nl_seq();
	ret = nl_talk(nl, nlh, sa_msg_cb, l);
	mnl_socket_close(nl);
	return ret;
}

/* ----------------------------------------------------------- route MTU */

struct route_answer {
	unsigned int mtu;	/* RTAX_MTU of the route, 0 if none */
	unsigned int oif;
	unsigned int type;	/* RTN_* */
	int found;
};

static int metrics_cb(const struct nlattr *attr, void *data)
{
	struct route_answer *a = data;

	if (mnl_attr_get_type(attr) == RTAX_MTU &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		a->mtu = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			a->oif = mnl_attr_get_u32(attr);
		break;
	case RTA_METRICS:
		mnl_attr_parse_nested(attr, metrics_cb, a);
		break;
	}
	return MNL_CB_OK;
}

static int route_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_answer *a = data;
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	a->found = 1;
	a->type = rtm->rtm_type;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, a);
	return MNL_CB_OK;
}

struct link_answer {
	unsigned int mtu;
	char name[IF_NAMESIZE + 1];
};

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			a->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(a->name, sizeof(a->name), "%s",
				 mnl_attr_get_str(attr));
		break;
	}
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, data);
	return MNL_CB_OK;
}

/* RTM_GETROUTE for @dst (from @src when not NULL), as `ip route get`. */
static int route_get(struct mnl_socket *nl, int family, const void *dst,
		     const void *src, struct route_answer *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int alen = family == AF_INET6 ? 16 : 4;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(a, 0, sizeof(*a));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = nl_seq();
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	if (src) {
		rtm->rtm_src_len = (unsigned char)(alen * 8);
		mnl_attr_put(nlh, RTA_SRC, alen, src);
	}
	if (nl_talk(nl, nlh, route_msg_cb, a) < 0)
		return -1;
	if (!a->found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static int link_get(struct mnl_socket *nl, unsigned int ifindex,
		    struct link_answer *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	memset(a, 0, sizeof(*a));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = nl_seq();
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	return nl_talk(nl, nlh, link_msg_cb, a);
}

/* Where an SA's MTU came from. */
struct sa_mtu {
	unsigned int mtu;	/* 0: unknown */
	const char *source;	/* option, route, link, reverse-route, reverse-link */
	char dev[IF_NAMESIZE + 1];
	char why[96];		/* when unknown */
};

/* The MTU toward @dst: the route's mtu metric, else its device's MTU. */
static int route_mtu(struct mnl_socket *nl, int family, const void *dst,
		     const void *src, int reverse, struct sa_mtu *m,
		     unsigned int *rtype)
{
	struct route_answer ra;
	struct link_answer la;

	/* A source that is not local makes the lookup fail: retry without. */
	if (route_get(nl, family, dst, src, &ra) < 0 &&
	    (!src || route_get(nl, family, dst, NULL, &ra) < 0)) {
		snprintf(m->why, sizeof(m->why), "no route: %s",
			 strerror(errno));
		return -1;
	}
	*rtype = ra.type;
	if (ra.oif && link_get(nl, ra.oif, &la) == 0) {
		snprintf(m->dev, sizeof(m->dev), "%s", la.name);
	} else {
		la.mtu = 0;
		if (!ra.oif)
			snprintf(m->why, sizeof(m->why), "route has no device");
		else
			snprintf(m->why, sizeof(m->why), "device %u: %s",
				 ra.oif, strerror(errno));
	}
	if (ra.mtu) {
		m->mtu = ra.mtu;
		m->source = reverse ? "reverse-route" : "route";
	} else if (la.mtu) {
		m->mtu = la.mtu;
		m->source = reverse ? "reverse-link" : "link";
	} else {
		return -1;
	}
	if (m->mtu > MTU_MAX)
		m->mtu = MTU_MAX;	/* lo's 65536 */
	return 0;
}

/*
 * The outer MTU of an SA.  An outbound SA's packets follow the route to
 * its destination.  An inbound SA's destination is this host (a local
 * route): its packets come from the peer, so the route back to the peer
 * stands for that path.
 */
static void sa_find_mtu(struct mnl_socket *nl, const struct sa *sa,
			unsigned int override, struct sa_mtu *m)
{
	unsigned int rtype = 0;

	memset(m, 0, sizeof(*m));
	m->source = "-";
	if (override) {
		m->mtu = override;
		m->source = "option";
		return;
	}
	if (!nl) {
		snprintf(m->why, sizeof(m->why), "no rtnetlink socket");
		return;
	}
	if (sa->family != AF_INET && sa->family != AF_INET6) {
		snprintf(m->why, sizeof(m->why), "address family %d",
			 sa->family);
		return;
	}
	if (route_mtu(nl, sa->family, &sa->daddr, &sa->saddr, 0, m,
		      &rtype) < 0)
		return;
	if (rtype == RTN_LOCAL) {
		memset(m, 0, sizeof(*m));
		m->source = "-";
		route_mtu(nl, sa->family, &sa->saddr, &sa->daddr, 1, m,
			  &rtype);
	}
}

/* ----------------------------------------------------------------- sa */

enum sa_status {
	SA_OK = 0,
	SA_NOT_ESP,
	SA_UNKNOWN_ALG,
	SA_BAD_MODE,
	SA_BAD_ENCAP,
	SA_BAD_FAMILY,
	SA_NO_MTU,
	SA_TOO_SMALL,
};

static const char *const sa_status_names[] = {
	[SA_OK] = "ok",
	[SA_NOT_ESP] = "not_esp",
	[SA_UNKNOWN_ALG] = "unknown_algorithm",
	[SA_BAD_MODE] = "unsupported_mode",
	[SA_BAD_ENCAP] = "unsupported_encap",
	[SA_BAD_FAMILY] = "unsupported_family",
	[SA_NO_MTU] = "no_mtu",
	[SA_TOO_SMALL] = "mtu_too_small",
};

/* What the CLI makes of one SA. */
struct sa_view {
	enum sa_status status;
	char note[160];
	char suite[160];
	unsigned int block, iv, icv;
	struct sa_mtu mtu;
	struct esp_report r;
};

static const char *proto_name(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_ESP:	return "esp";
	case IPPROTO_AH:	return "ah";
	case IPPROTO_COMP:	return "comp";
	default:		return "other";
	}
}

static const char *mode_name(unsigned int mode)
{
	switch (mode) {
	case XFRM_MODE_TRANSPORT:		return "transport";
	case XFRM_MODE_TUNNEL:			return "tunnel";
	case XFRM_MODE_ROUTEOPTIMIZATION:	return "ro";
	case XFRM_MODE_IN_TRIGGER:		return "in_trigger";
	case XFRM_MODE_BEET:			return "beet";
	default:				return "other";
	}
}

static const char *encap_name(const struct sa *sa)
{
	if (!sa->has_encap)
		return "-";
	switch (sa->encap_type) {
	case UDP_ENCAP_ESPINUDP:		return "espinudp";
	case UDP_ENCAP_ESPINUDP_NON_IKE:	return "espinudp-nonike";
	case TCP_ENCAP_ESPINTCP:		return "espintcp";
	default:				return "other";
	}
}

/*
 * Block, IV and ICV of the SA's algorithms from the table, the ICV taken
 * from the SA itself (its truncation) as the kernel's authsize is.
 */
static enum sa_status sa_lookup_algs(const struct sa *sa, struct sa_view *v)
{
	const struct alg *a;
	char auth[96];
	int exact;

	if (sa->has_aead) {
		a = alg_by_kname(ALG_AEAD, sa->aead, sa->aead_icv_bits / 8,
				 &exact);
		if (!a || sa->aead_icv_bits % 8) {
			snprintf(v->note, sizeof(v->note), "unknown algorithm "
				 "'%s' (icv %u bits)", sa->aead,
				 sa->aead_icv_bits);
			return SA_UNKNOWN_ALG;
		}
		v->block = a->block;
		v->iv = a->iv;
		v->icv = sa->aead_icv_bits / 8;
		if (exact)
			snprintf(v->suite, sizeof(v->suite), "%s", a->name);
		else
			snprintf(v->suite, sizeof(v->suite), "%s/%u", sa->aead,
				 sa->aead_icv_bits);
		return SA_OK;
	}
	if (!sa->has_enc) {
		snprintf(v->note, sizeof(v->note), "unknown algorithm: the SA "
			 "has no encryption or AEAD algorithm");
		return SA_UNKNOWN_ALG;
	}
	a = alg_by_kname(ALG_ENC, sa->enc, 0, &exact);
	if (!a) {
		snprintf(v->note, sizeof(v->note), "unknown algorithm '%s'",
			 sa->enc);
		return SA_UNKNOWN_ALG;
	}
	v->block = a->block;
	v->iv = a->iv;
	v->icv = 0;
	snprintf(auth, sizeof(auth), "none");
	if (sa->has_auth) {
		const struct alg *h = alg_by_kname(ALG_AUTH, sa->auth,
						   sa->auth_trunc_bits / 8,
						   &exact);

		if (!h || sa->auth_trunc_bits % 8 ||
		    (!sa->auth_trunc_bits && strcmp(sa->auth, "digest_null"))) {
			snprintf(v->note, sizeof(v->note), "unknown algorithm "
				 "'%s' (truncation %u bits)", sa->auth,
				 sa->auth_trunc_bits);
			return SA_UNKNOWN_ALG;
		}
		v->icv = sa->auth_trunc_bits / 8;
		if (exact)
			snprintf(auth, sizeof(auth), "%s", h->name);
		else
			snprintf(auth, sizeof(auth), "%s/%u", sa->auth,
				 sa->auth_trunc_bits);
	}
	snprintf(v->suite, sizeof(v->suite), "%s+%s", a->name, auth);
	return SA_OK;
}

static enum sa_status sa_analyse(const struct sa *sa, struct mnl_socket *rt,
				 unsigned int override, struct sa_view *v)
{
	struct ipsecmss_esp esp;
	enum sa_status st;
	int v6 = sa->family == AF_INET6;

	memset(v, 0, sizeof(*v));
	snprintf(v->suite, sizeof(v->suite), "-");
	v->mtu.source = "-";
	if (sa->proto != IPPROTO_ESP) {
		snprintf(v->note, sizeof(v->note), "not ESP (%s): no ESP "
			 "overhead to compute", proto_name(sa->proto));
		return SA_NOT_ESP;
	}
	st = sa_lookup_algs(sa, v);
	if (st != SA_OK)
		return st;
	if (sa->family != AF_INET && sa->family != AF_INET6) {
		snprintf(v->note, sizeof(v->note), "address family %d",
			 sa->family);
		return SA_BAD_FAMILY;
	}
	if (sa->mode != XFRM_MODE_TUNNEL && sa->mode != XFRM_MODE_TRANSPORT) {
		snprintf(v->note, sizeof(v->note), "mode %s: only tunnel and "
			 "transport are computed (as by the kernel module)",
			 mode_name(sa->mode));
		return SA_BAD_MODE;
	}
	if (sa->has_encap && sa->encap_type != UDP_ENCAP_ESPINUDP) {
		snprintf(v->note, sizeof(v->note), "encapsulation %s: only "
			 "espinudp (RFC 3948) is computed", encap_name(sa));
		return SA_BAD_ENCAP;
	}
	sa_find_mtu(rt, sa, override, &v->mtu);
	if (!v->mtu.mtu) {
		snprintf(v->note, sizeof(v->note), "route MTU unknown (%s): "
			 "give --mtu", v->mtu.why);
		return SA_NO_MTU;
	}
	esp_describe(&esp, v6, sa->has_encap, sa->mode == XFRM_MODE_TRANSPORT,
		     v->block, v->iv, v->icv);
	report_compute(&v->r, &esp, v->mtu.mtu, v6);
	if (!v->r.inner_max) {
		snprintf(v->note, sizeof(v->note), "MTU %u leaves no room for "
			 "any packet", v->mtu.mtu);
		return SA_TOO_SMALL;
	}
	return SA_OK;
}

static void addr_str(int family, const xfrm_address_t *a, char *buf,
		     size_t len)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

/* A kernel name for key=value: no blanks, no '=' (never seen, but safe). */
static const char *kv_word(const char *s, char *buf, size_t len)
{
	size_t i;

	if (!*s)
		return "-";
	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (s[i] == ' ' || s[i] == '=' || s[i] == '\t' ||
			  s[i] == '\n') ? '_' : s[i];
	buf[i] = '\0';
	return buf;
}

static void sa_print_kv(const struct sa *sa, const struct sa_view *v)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], w[160];

	addr_str(sa->family, &sa->saddr, src, sizeof(src));
	addr_str(sa->family, &sa->daddr, dst, sizeof(dst));
	printf("src=%s dst=%s spi=0x%08x proto=%s mode=%s family=%s reqid=%u",
	       src, dst, sa->spi, proto_name(sa->proto), mode_name(sa->mode),
	       sa->family == AF_INET6 ? "ipv6" : "ipv4", sa->reqid);
	printf(" enc=%s", sa->has_enc ? kv_word(sa->enc, w, sizeof(w)) : "-");
	kv_uint_or_na("enc_key_bits", sa->has_enc, sa->enc_key_bits);
	printf(" auth=%s", sa->has_auth ? kv_word(sa->auth, w, sizeof(w)) : "-");
	kv_uint_or_na("auth_trunc_bits", sa->has_auth, sa->auth_trunc_bits);
	printf(" aead=%s", sa->has_aead ? kv_word(sa->aead, w, sizeof(w)) : "-");
	kv_uint_or_na("aead_icv_bits", sa->has_aead, sa->aead_icv_bits);
	printf(" natt=%d encap=%s suite=%s status=%s",
	       sa->has_encap && sa->encap_type == UDP_ENCAP_ESPINUDP,
	       encap_name(sa), kv_word(v->suite, w, sizeof(w)),
	       sa_status_names[v->status]);
	if (v->mtu.mtu)
		printf(" mtu=%u mtu_source=%s", v->mtu.mtu, v->mtu.source);
	else
		printf(" mtu=- mtu_source=-");
	if (v->status == SA_OK)
		report_print_kv(&v->r);
	printf("\n");
}

static void sa_print_algs_text(const struct sa *sa)
{
	printf("  %-22s ", "Algorithms:");
	if (sa->has_aead)
		printf("aead %s (icv %u bits)", sa->aead, sa->aead_icv_bits);
	if (sa->has_enc)
		printf("enc %s (%u-bit key)", sa->enc, sa->enc_key_bits);
	if (sa->has_auth)
		printf("%sauth %s (truncated to %u bits)",
		       sa->has_enc || sa->has_aead ? ", " : "", sa->auth,
		       sa->auth_trunc_bits);
	if (!sa->has_aead && !sa->has_enc && !sa->has_auth)
		printf("none");
	printf("\n");
}

static void sa_print_text(const struct sa *sa, const struct sa_view *v)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	addr_str(sa->family, &sa->saddr, src, sizeof(src));
	addr_str(sa->family, &sa->daddr, dst, sizeof(dst));
	printf("SA %s -> %s spi 0x%08x %s %s reqid %u\n", src, dst, sa->spi,
	       proto_name(sa->proto), mode_name(sa->mode), sa->reqid);
	sa_print_algs_text(sa);
	if (strcmp(v->suite, "-"))
		printf("  %-22s %s\n", "Suite:", v->suite);
	printf("  %-22s %s\n", "NAT-T:", sa->has_encap ? encap_name(sa) : "no");
	if (v->mtu.mtu) {
		printf("  %-22s %u (%s", "Route MTU:", v->mtu.mtu,
		       v->mtu.source);
		if (v->mtu.dev[0])
			printf(", dev %s", v->mtu.dev);
		printf(")\n");
	}
	if (v->status != SA_OK) {
		printf("  %-22s %s\n", "Note:", v->note);
		return;
	}
	report_print_text("  ", &v->r, 3);
}

struct sa_opts {
	unsigned int mtu;	/* 0: the route's */
	int kv;
};

static const struct option sa_longopts[] = {
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "porcelain", no_argument, NULL, OPT_PORCELAIN },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int sa_parse(int argc, char **argv, struct sa_opts *o)
{
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", sa_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MTU:
			rc = parse_mtu(optarg, &o->mtu);
			break;
		case OPT_PORCELAIN:
			o->kv = 1;
			break;
		case OPT_FORMAT:
			rc = parse_format(optarg, &o->kv);
			break;
		case 'h':
		case OPT_HELP:
			usage_sa(stdout);
			exit(0);
		default:
			return bad_option(c, argv, "sa");
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("sa: unexpected argument '%s'", argv[optind]);
	return 0;
}

static int cmd_sa(int argc, char **argv)
{
	struct sa_list l = { NULL, 0, 0, 0 };
	struct mnl_socket *rt;
	struct sa_opts o;
	struct sa_view v;
	size_t i;
	int rc;

	rc = sa_parse(argc, argv, &o);
	if (rc)
		return rc;
	if (sa_dump(&l) < 0) {
		runtime_error("cannot dump the SAs (netlink XFRM_MSG_GETSA): %s%s",
			      strerror(errno), errno == EPERM ?
			      " (needs CAP_NET_ADMIN)" : "");
		free(l.v);
		return EXIT_RUNTIME;
	}
	if (l.bad)
		runtime_error("warning: some SA messages were malformed");
	rt = o.mtu ? NULL : nl_open(NETLINK_ROUTE);
	if (!o.kv && !l.n)
		printf("No SAs.\n");
	for (i = 0; i < l.n; i++) {
		v.status = sa_analyse(&l.v[i], rt, o.mtu, &v);
		if (o.kv) {
			sa_print_kv(&l.v[i], &v);
		} else {
			if (i)
				printf("\n");
			sa_print_text(&l.v[i], &v);
		}
	}
	if (rt)
		mnl_socket_close(rt);
	free(l.v);
	return 0;
}

/* ---------------------------------------------------------------- stats */

/*
 * The module's counters, from /proc/net/stat/ipsecmss of the caller's
 * network namespace: a header line of column names, then one line of
 * numbers per family.  The file's own header names the columns, so a
 * module with more counters than this tool knows still prints right.
 */
#define STATS_PATH	"/proc/net/stat/ipsecmss"
#define STATS_COLS	32
#define STATS_ROWS	4

struct stats_table {
	char names[STATS_COLS][32];
	char rows[STATS_ROWS][STATS_COLS][32];
	int ncols, nrows;
};

static int stats_split(char *line, char cells[][32], int max)
{
	char *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(line, " \t\n", &save); tok && n < max;
	     tok = strtok_r(NULL, " \t\n", &save))
		snprintf(cells[n++], 32, "%s", tok);
	return n;
}

/* A data row: a family name, then only decimal numbers. */
static int stats_row_ok(char cells[][32], int n)
{
	int i;

	for (i = 1; i < n; i++)
		if (!cells[i][0] || strspn(cells[i], "0123456789") != strlen(cells[i]))
			return 0;
	return n > 1;
}

static int stats_read(const char *path, struct stats_table *t)
{
	char line[1024];
	FILE *f;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f))
		t->ncols = stats_split(line, t->names, STATS_COLS);
	while (t->nrows < STATS_ROWS && fgets(line, sizeof(line), f))
		if (stats_split(line, t->rows[t->nrows], STATS_COLS) == t->ncols &&
		    stats_row_ok(t->rows[t->nrows], t->ncols))
			t->nrows++;
	fclose(f);
	if (t->ncols < 2 || !t->nrows) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* One column per family, one row per counter: narrow enough to read. */
static void stats_print_text(const struct stats_table *t)
{
	int c, r;

	printf("%-14s", "");
	for (r = 0; r < t->nrows; r++)
		printf(" %14s", t->rows[r][0]);
	printf("\n");
	for (c = 1; c < t->ncols; c++) {
		printf("%-14s", t->names[c]);
		for (r = 0; r < t->nrows; r++)
			printf(" %14s", t->rows[r][c]);
		printf("\n");
	}
}

static void stats_print_json(const struct stats_table *t)
{
	int c, r;

	printf("{");
	for (r = 0; r < t->nrows; r++) {
		printf("%s\"%s\": {", r ? ", " : "", t->rows[r][0]);
		for (c = 1; c < t->ncols; c++)
			printf("%s\"%s\": %s", c > 1 ? ", " : "", t->names[c],
			       t->rows[r][c]);
		printf("}");
	}
	printf("}\n");
}

static void usage_stats(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " stats [--json] [--file PATH]\n"
		"Print the IPSECMSS target's counters for this network namespace\n"
		"(" STATS_PATH ") as a table, or as JSON with --json.\n");
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = STATS_PATH;
	struct stats_table t;
	int c, json = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'h':
			usage_stats(stdout);
			exit(0);
		default:
			return bad_option(c, argv, "stats");
		}
	}
	if (optind < argc)
		return usage_error("stats: unexpected argument '%s'", argv[optind]);
	if (stats_read(path, &t) < 0) {
		runtime_error("cannot read %s: %s%s", path, strerror(errno),
			      errno == ENOENT ?
			      " (is the xt_IPSECMSS module loaded?)" : "");
		return EXIT_RUNTIME;
	}
	if (json)
		stats_print_json(&t);
	else
		stats_print_text(&t);
	return 0;
}

/* ----------------------------------------------------------------- main */

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "calc", cmd_calc },
	{ "sa", cmd_sa },
	{ "stats", cmd_stats },
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	size_t i;

	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf(PROG " %s\n", IPSECMSS_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return usage_error("unknown option '%s'", cmd);
	return usage_error("unknown command '%s'", cmd);
}
