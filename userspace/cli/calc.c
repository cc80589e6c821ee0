// SPDX-License-Identifier: GPL-2.0
/* ipsecmss calc: the overhead and MSS of one ESP suite at one MTU. */
#include <stdio.h>

#include "algs.h"
#include "report.h"

void calc_usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " calc --mtu N --enc ALG [--key-bits N] --auth ALG [OPTION]...\n");
	fprintf(f, "       " PROG " calc --mtu N --aead ALG [--key-bits N] [OPTION]...\n");
	fprintf(f, "The ESP overhead, largest inner packet and exact MSS for one suite.\n");
	fprintf(f, "  --mtu N            MTU of the path the ESP packets take (outer MTU)\n");
	fprintf(f, "  --enc ALG          encryption: ");
	alg_list(f, ALG_ENC);
	fprintf(f, "\n  --key-bits N       cipher key size (default: the smallest valid one)\n");
	fprintf(f, "  --auth ALG         integrity, with --enc: ");
	alg_list(f, ALG_AUTH);
	fprintf(f, "\n  --aead ALG         combined mode, instead of --enc/--auth: ");
	alg_list(f, ALG_AEAD);
	fprintf(f, "\n  --natt             UDP encapsulation (NAT traversal, RFC 3948)\n");
	fprintf(f, "  --outer ipv4|ipv6  family of the SA (the outer header), default ipv4\n");
	fprintf(f, "  --inner ipv4|ipv6  family of the TCP traffic for \"mss\", default ipv4\n");
	fprintf(f, "  --transport        transport mode (default tunnel mode)\n");
	usage_format(f);
}

/* The option combinations the parser cannot see one at a time. */
static int calc_check(struct cli_opts *o)
{
	const struct alg *cipher = o->aead ? o->aead : o->enc;
	char keys[64];

	if (!o->mtu)
		return usage_error("calc: missing --mtu");
	if (o->aead && (o->enc || o->auth))
		return usage_error("calc: --aead is a combined algorithm: give either --aead or --enc with --auth");
	if (!cipher)
		return usage_error("calc: missing --enc (with --auth) or --aead");
	if (o->enc && !o->auth)
		return usage_error("calc: --enc needs --auth (use --auth none for an SA without integrity)");
	if (o->have_key_bits && !alg_key_ok(cipher, o->key_bits)) {
		alg_key_list(cipher, keys, sizeof(keys));
		return usage_error("calc: --key-bits %u is not valid for %s; valid: %s",
				   o->key_bits, cipher->name, keys);
	}
	if (!o->have_key_bits)
		o->key_bits = cipher->key_bits[0];
	if (o->outer_v6 && o->mtu < MTU_MIN_V6)
		return usage_error("calc: invalid MTU %u for an IPv6 path: the minimum is %u",
				   o->mtu, MTU_MIN_V6);
	if (o->transport && o->have_inner && o->inner_v6 != o->outer_v6)
		return usage_error("calc: in transport mode the packet is of the SA's own family: --inner must match --outer");
	if (o->transport)
		o->inner_v6 = o->outer_v6;
	return 0;
}

static void calc_print_record(const struct cli_opts *o,
			      const struct esp_report *r)
{
	struct record rec;
	char suite[80];

	if (o->aead)
		snprintf(suite, sizeof(suite), "%s", o->aead->name);
	else
		snprintf(suite, sizeof(suite), "%s+%s", o->enc->name,
			 o->auth->name);
	rec_begin(&rec, o->format);
	rec_str(&rec, "suite", suite);
	rec_str(&rec, "enc", o->enc ? o->enc->name : "-");
	rec_str(&rec, "auth", o->auth ? o->auth->name : "-");
	rec_str(&rec, "aead", o->aead ? o->aead->name : "-");
	rec_uint(&rec, "key_bits", o->key_bits);
	rec_str(&rec, "outer", o->outer_v6 ? "ipv6" : "ipv4");
	rec_str(&rec, "inner", o->inner_v6 ? "ipv6" : "ipv4");
	rec_str(&rec, "mode", o->transport ? "transport" : "tunnel");
	rec_uint(&rec, "natt", (unsigned int)o->natt);
	rec_uint(&rec, "mtu", o->mtu);
	rec_report(&rec, r);
	rec_uint(&rec, "mss", o->inner_v6 ? r->mss6 : r->mss4);
	rec_end(&rec);
	if (o->format == FMT_JSON)
		putchar('\n');
}

static void calc_print_text(const struct cli_opts *o,
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

int calc_main(const struct command *cmd, int argc, char **argv)
{
	const struct alg *cipher;
	struct ipsecmss_esp esp;
	struct esp_report r;
	struct cli_opts o;
	int rc;

	rc = cli_parse(cmd, argc, argv, &o);
	if (!rc)
		rc = calc_check(&o);
	if (rc)
		return rc;

	cipher = o.aead ? o.aead : o.enc;
	esp_describe(&esp, o.outer_v6, o.natt, o.transport, cipher->block,
		     cipher->iv, o.aead ? o.aead->icv : o.auth->icv);
	report_compute(&r, &esp, o.mtu, o.outer_v6);
	if (!r.inner_max)
		return usage_error("calc: MTU %u leaves no room for any packet once wrapped in this ESP suite (%u bytes of overhead)",
				   o.mtu, r.fixed);

	if (o.format == FMT_TEXT)
		calc_print_text(&o, &r);
	else
		calc_print_record(&o, &r);
	return 0;
}
