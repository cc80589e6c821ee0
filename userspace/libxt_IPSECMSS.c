// SPDX-License-Identifier: GPL-2.0
/*
 * libxt_IPSECMSS - iptables/ip6tables extension for the IPSECMSS target:
 * lower the TCP MSS of SYN and SYN/ACK packets that cross an IPsec tunnel.
 *
 *   -j IPSECMSS --set-mss VALUE
 *   -j IPSECMSS --clamp-to-pmtu-minus-overhead VALUE|auto
 *
 * Exactly one of the two.  libxtables parses --set-mss (and gives its
 * standard messages); the overhead takes a number or the word "auto", so
 * it is read as a string and checked here.
 */
#include <stdio.h>
#include <string.h>
#include <xtables.h>

#include "xt_IPSECMSS.h"
#include "ipsecmss_core.h"

enum {
	O_SET_MSS = 0,
	O_CLAMP_PMTU,
	F_SET_MSS	= 1 << O_SET_MSS,
	F_CLAMP_PMTU	= 1 << O_CLAMP_PMTU,
};

#define OPT_CLAMP_NAME	"clamp-to-pmtu-minus-overhead"
#define AUTO_WORD	"auto"

static void ipsecmss_help_family(unsigned int hdrs)
{
	printf(
"IPSECMSS target options (exactly one; only SYN and SYN/ACK are changed,\n"
"and the MSS is only ever lowered):\n"
"  --set-mss value\n"
"        clamp the MSS to value (%u-%u)\n"
"  --" OPT_CLAMP_NAME " value\n"
"        clamp the MSS to path MTU - value - %u, never below %u\n"
"        (value 0-%u bytes of tunnel overhead)\n"
"  --" OPT_CLAMP_NAME " " AUTO_WORD "\n"
"        clamp the MSS to path MTU less the exact ESP cost of the SA\n"
"        (the PMTU forms are for FORWARD, OUTPUT and POSTROUTING only)\n",
	       XT_IPSECMSS_MSS_MIN, XT_IPSECMSS_MSS_MAX, hdrs,
	       IPSECMSS_MSS_FLOOR, XT_IPSECMSS_OVERHEAD_MAX);
}

static void ipsecmss_help4(void)
{
	ipsecmss_help_family(IPSECMSS_IPV4_TCP_HDRS);
}

static void ipsecmss_help6(void)
{
	ipsecmss_help_family(IPSECMSS_IPV6_TCP_HDRS);
}

static const struct xt_option_entry ipsecmss_opts[] = {
	{.name = "set-mss", .id = O_SET_MSS, .type = XTTYPE_UINT16,
	 .min = XT_IPSECMSS_MSS_MIN, .max = XT_IPSECMSS_MSS_MAX,
	 .excl = F_CLAMP_PMTU},
	{.name = OPT_CLAMP_NAME, .id = O_CLAMP_PMTU, .type = XTTYPE_STRING,
	 .excl = F_SET_MSS},
	XTOPT_TABLEEND,
};

/* A number 0..XT_IPSECMSS_OVERHEAD_MAX or "auto"; anything else is fatal. */
static void ipsecmss_parse_overhead(const struct xt_option_call *cb,
				    struct xt_ipsecmss_tginfo *info)
{
	unsigned int value;
	char *end;

	if (strcmp(cb->arg, AUTO_WORD) == 0) {
		info->mode = XT_IPSECMSS_MODE_PMTU_AUTO;
		info->overhead = 0;
		return;
	}
	if (!xtables_strtoui(cb->arg, &end, &value, 0,
			     XT_IPSECMSS_OVERHEAD_MAX) ||
	    end == cb->arg || *end != '\0')
		xtables_error(PARAMETER_PROBLEM,
			      "%s: bad value for --" OPT_CLAMP_NAME ": \"%s\" (want 0-%u or \"" AUTO_WORD "\")",
			      cb->ext_name, cb->arg, XT_IPSECMSS_OVERHEAD_MAX);
	info->mode = XT_IPSECMSS_MODE_PMTU_OVERHEAD;
	info->overhead = value;
}

static void ipsecmss_parse(struct xt_option_call *cb)
{
	struct xt_ipsecmss_tginfo *info = cb->data;

	/* Standard checks: used once, no "!", argument present, range. */
	xtables_option_parse(cb);

	/* Every field is set, so the rule compares and saves exactly. */
	info->flags = 0;
	info->reserved = 0;
	info->mss = 0;
	info->overhead = 0;

	switch (cb->entry->id) {
	case O_SET_MSS:
		info->mode = XT_IPSECMSS_MODE_SET_MSS;
		info->mss = cb->val.u16;
		break;
	case O_CLAMP_PMTU:
		ipsecmss_parse_overhead(cb, info);
		break;
	}
}

static void ipsecmss_fcheck(struct xt_fcheck_call *cb)
{
	/* Both at once is refused by .excl right after this check. */
	if (!(cb->xflags & (F_SET_MSS | F_CLAMP_PMTU)))
		xtables_error(PARAMETER_PROBLEM,
			      "%s: one of --set-mss or --" OPT_CLAMP_NAME " is required",
			      cb->ext_name);
}

/* How print or save spells each mode; each format takes one number. */
struct ipsecmss_words {
	const char *set_mss, *overhead, *pmtu_auto, *unknown;
};

static const struct ipsecmss_words ipsecmss_print_words = {
	.set_mss	= " IPSECMSS set %u",
	.overhead	= " IPSECMSS clamp to PMTU - %u",
	.pmtu_auto	= " IPSECMSS clamp to PMTU - " AUTO_WORD,
	.unknown	= " IPSECMSS unknown mode %u",
};

static const struct ipsecmss_words ipsecmss_save_words = {
	.set_mss	= " --set-mss %u",
	.overhead	= " --" OPT_CLAMP_NAME " %u",
	.pmtu_auto	= " --" OPT_CLAMP_NAME " " AUTO_WORD,
	/* Never silently restore a different rule: make it fail. */
	.unknown	= " --" OPT_CLAMP_NAME " unknown-mode-%u",
};

static void ipsecmss_show(const struct xt_entry_target *target,
			  const struct ipsecmss_words *w)
{
	const struct xt_ipsecmss_tginfo *info = (const void *)target->data;

	switch (info->mode) {
	case XT_IPSECMSS_MODE_SET_MSS:
		printf(w->set_mss, info->mss);
		break;
	case XT_IPSECMSS_MODE_PMTU_OVERHEAD:
		printf(w->overhead, info->overhead);
		break;
	case XT_IPSECMSS_MODE_PMTU_AUTO:
		printf("%s", w->pmtu_auto);
		break;
	default:
		printf(w->unknown, info->mode);
		break;
	}
}

static void ipsecmss_print(const void *ip, const struct xt_entry_target *target,
			   int numeric)
{
	(void)ip;
	(void)numeric;
	ipsecmss_show(target, &ipsecmss_print_words);
}

static void ipsecmss_save(const void *ip, const struct xt_entry_target *target)
{
	(void)ip;
	ipsecmss_show(target, &ipsecmss_save_words);
}

/*
 * nft lowers an MSS option it finds (it never raises one, as the target
 * never does) but never inserts one and knows nothing of ESP overhead, so
 * only --set-mss translates.  The flag test is the target's own: SYN set,
 * FIN and RST clear.
 */
static int ipsecmss_xlate(struct xt_xlate *xl,
			  const struct xt_xlate_tg_params *params)
{
	const struct xt_ipsecmss_tginfo *info =
		(const void *)params->target->data;

	if (info->mode != XT_IPSECMSS_MODE_SET_MSS)
		return 0;
	xt_xlate_add(xl, "tcp flags syn / fin,syn,rst tcp option maxseg size set %u",
		     info->mss);
	return 1;
}

/* What the IPv4 and IPv6 registrations share; the constructor adds the rest. */
static const struct xtables_target ipsecmss_tg_common = {
	.name		= "IPSECMSS",
	.revision	= 0,
	.version	= XTABLES_VERSION,
	.size		= XT_ALIGN(sizeof(struct xt_ipsecmss_tginfo)),
	.userspacesize	= XT_ALIGN(sizeof(struct xt_ipsecmss_tginfo)),
	.print		= ipsecmss_print,
	.save		= ipsecmss_save,
	.x6_parse	= ipsecmss_parse,
	.x6_fcheck	= ipsecmss_fcheck,
	.x6_options	= ipsecmss_opts,
	.xlate		= ipsecmss_xlate,
};

static struct xtables_target ipsecmss_tg_reg[2];

/* Out of tree there is no _INIT: register when libxtables dlopen()s us. */
static __attribute__((constructor)) void ipsecmss_tg_ldr(void)
{
	ipsecmss_tg_reg[0] = ipsecmss_tg_common;
	ipsecmss_tg_reg[0].family = NFPROTO_IPV4;
	ipsecmss_tg_reg[0].help = ipsecmss_help4;
	ipsecmss_tg_reg[1] = ipsecmss_tg_common;
	ipsecmss_tg_reg[1].family = NFPROTO_IPV6;
	ipsecmss_tg_reg[1].help = ipsecmss_help6;
	xtables_register_targets(ipsecmss_tg_reg, 2);
}
