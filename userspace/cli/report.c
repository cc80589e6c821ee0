// SPDX-License-Identifier: GPL-2.0
/* The report formatting of ipsecmss(8): see report.h. */
#include <stdio.h>
#include <string.h>

#include "report.h"

#define IPV4_HDR	20
#define IPV6_HDR	40
#define UDP_HDR		8

/*
 * struct ipsecmss_esp for an SA of family @v6 with the given algorithm
 * sizes: the mapping of the kernel module's ipsecmss_esp_params().
 */
void esp_describe(struct ipsecmss_esp *esp, int v6, int natt, int transport,
		  unsigned int block, unsigned int iv, unsigned int icv)
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

void report_compute(struct esp_report *r, const struct ipsecmss_esp *esp,
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
int report_floored(const struct esp_report *r, int v6)
{
	unsigned int hdrs = v6 ? IPSECMSS_IPV6_TCP_HDRS : IPSECMSS_IPV4_TCP_HDRS;
	unsigned int mss = v6 ? r->mss6 : r->mss4;

	return r->inner_max < hdrs + mss;
}

/* ------------------------------------------------------------- records */

void rec_begin(struct record *rec, enum out_format fmt)
{
	rec->fmt = fmt;
	rec->n = 0;
	if (fmt == FMT_JSON)
		putchar('{');
}

static void rec_key(struct record *rec, const char *key)
{
	if (rec->fmt == FMT_JSON)
		printf("%s\"%s\": ", rec->n ? ", " : "", key);
	else
		printf("%s%s=", rec->n ? " " : "", key);
	rec->n++;
}

/*
 * A string value: in kv one word ("-" when empty; blanks and '=' made '_',
 * for kernel names, though none has them), in JSON a string, "-" (nothing
 * there) null.
 */
void rec_str(struct record *rec, const char *key, const char *val)
{
	const char *s;

	rec_key(rec, key);
	if (rec->fmt != FMT_JSON) {
		if (!*val)
			val = "-";
		for (s = val; *s; s++)
			putchar(strchr(" =\t\n", *s) ? '_' : *s);
		return;
	}
	if (!strcmp(val, "-")) {
		printf("null");
		return;
	}
	putchar('"');
	for (s = val; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned int)(unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

void rec_uint(struct record *rec, const char *key, unsigned long long v)
{
	rec_key(rec, key);
	printf("%llu", v);
}

void rec_uint_or_na(struct record *rec, const char *key, int ok,
		    unsigned int v)
{
	if (ok)
		rec_uint(rec, key, v);
	else
		rec_str(rec, key, "-");
}

void rec_end(struct record *rec)
{
	if (rec->fmt == FMT_JSON)
		putchar('}');
	else
		putchar('\n');
}

/* The fields calc and sa share (after mtu). */
void rec_report(struct record *rec, const struct esp_report *r)
{
	const struct ipsecmss_esp *e = &r->esp;

	rec_uint(rec, "outer_hdr", e->outer_hdr);
	rec_uint(rec, "udp_hdr", e->encap_hdr);
	rec_uint(rec, "esp_hdr", IPSECMSS_ESP_HDR);
	rec_uint(rec, "iv", e->iv);
	rec_uint(rec, "block", e->block);
	rec_uint(rec, "pad_min", 0);
	rec_uint(rec, "pad_max", r->pad_max);
	rec_uint(rec, "trailer", IPSECMSS_ESP_TRAILER);
	rec_uint(rec, "icv", e->icv);
	rec_uint(rec, "fixed_overhead", r->fixed);
	rec_uint(rec, "inner_max", r->inner_max);
	rec_uint_or_na(rec, "mss4", r->v4_ok, r->mss4);
	rec_uint_or_na(rec, "mss6", r->v6_ok, r->mss6);
	rec_uint_or_na(rec, "floored4", r->v4_ok,
		       (unsigned int)report_floored(r, 0));
	rec_uint_or_na(rec, "floored6", r->v6_ok,
		       (unsigned int)report_floored(r, 1));
	rec_uint(rec, "worst_overhead", r->worst);
	rec_uint_or_na(rec, "worst_mss4", r->v4_ok, r->worst_mss4);
	rec_uint_or_na(rec, "worst_mss6", r->v6_ok, r->worst_mss6);
}

void list_begin(enum out_format fmt)
{
	if (fmt == FMT_JSON)
		putchar('[');
}

void list_sep(enum out_format fmt, unsigned int i)
{
	if (fmt == FMT_JSON && i)
		printf(",\n ");
}

void list_end(enum out_format fmt)
{
	if (fmt == FMT_JSON)
		printf("]\n");
}

/* ----------------------------------------------------------------- text */

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
		printf("   (the floor: a %u-byte inner packet fits only %u, and the clamp never goes below %u)",
		       r->inner_max,
		       r->inner_max > hdrs ? r->inner_max - hdrs : 0, mss);
	printf("\n");
}

/*
 * The human-readable breakdown calc and sa share; @show: bit 0 the inner
 * IPv4 MSS, bit 1 the inner IPv6 one (each only where the mode allows it).
 */
void report_print_text(const char *in, const struct esp_report *r,
		       unsigned int show)
{
	const struct ipsecmss_esp *e = &r->esp;
	int v4 = r->v4_ok && (show & 1), v6 = r->v6_ok && (show & 2);
	char buf[64], why[64];

	printf("%sESP overhead (bytes):\n", in);
	if (e->transport) {
		snprintf(buf, sizeof(buf),
			 "transport mode: the packet keeps its own %u-byte header",
			 e->inner_hdr);
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
