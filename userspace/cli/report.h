/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report formatting of ipsecmss(8): an ESP suite or SA at one outer
 * MTU as the core computes it (struct esp_report), its text breakdown, and
 * records of key/value fields written as one key=value line (--format kv)
 * or one JSON object (--format json) by the same calls.
 */
#ifndef IPSECMSS_REPORT_H
#define IPSECMSS_REPORT_H

#include "cli.h"
#include "ipsecmss_core.h"

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

void esp_describe(struct ipsecmss_esp *esp, int v6, int natt, int transport,
		  unsigned int block, unsigned int iv, unsigned int icv);
void report_compute(struct esp_report *r, const struct ipsecmss_esp *esp,
		    unsigned int mtu, int sa_v6);
int report_floored(const struct esp_report *r, int v6);
void report_print_text(const char *in, const struct esp_report *r,
		       unsigned int show);

/* One record: a key=value line or a JSON object, field by field. */
struct record {
	enum out_format fmt;
	unsigned int n;		/* fields so far */
};

void rec_begin(struct record *rec, enum out_format fmt);
void rec_str(struct record *rec, const char *key, const char *val);
void rec_uint(struct record *rec, const char *key, unsigned long long v);
void rec_uint_or_na(struct record *rec, const char *key, int ok,
		    unsigned int v);
void rec_end(struct record *rec);
void rec_report(struct record *rec, const struct esp_report *r);

/* A list of records: nothing around kv lines, a JSON array around objects. */
void list_begin(enum out_format fmt);
void list_sep(enum out_format fmt, unsigned int i);
void list_end(enum out_format fmt);

#endif
