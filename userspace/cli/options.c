// SPDX-License-Identifier: GPL-2.0
/*
 * The one option parser of ipsecmss(8).  Every option of every command is
 * in one table; a command names the ones it takes (struct command's
 * opts), and anything else is an unknown option for that command.  The
 * values are checked here, once, whichever command takes them.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "algs.h"
#include "cli.h"

/* getopt_long's values: above every short option's character. */
#define OPT_VAL(o)	(256 + (o))

static const struct {
	const char *name;
	int has_arg;
} options[] = {
	[OPT_MTU] = { "mtu", required_argument },
	[OPT_ENC] = { "enc", required_argument },
	[OPT_AUTH] = { "auth", required_argument },
	[OPT_AEAD] = { "aead", required_argument },
	[OPT_KEY_BITS] = { "key-bits", required_argument },
	[OPT_NATT] = { "natt", no_argument },
	[OPT_OUTER] = { "outer", required_argument },
	[OPT_INNER] = { "inner", required_argument },
	[OPT_TRANSPORT] = { "transport", no_argument },
	[OPT_FILE] = { "file", required_argument },
	[OPT_FORMAT] = { "format", required_argument },
	[OPT_PORCELAIN] = { "porcelain", no_argument },
	[OPT_JSON] = { "json", no_argument },
	[OPT_HELP] = { "help", no_argument },
};

static void message(const char *fmt, va_list ap)
{
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
	return EXIT_USAGE;
}

void runtime_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The help lines of the options every command takes. */
void usage_format(FILE *f)
{
	fprintf(f, "  --format FMT       report format: text (default), kv or json\n");
	fprintf(f, "  --porcelain        the same as --format kv\n");
	fprintf(f, "  --json             the same as --format json\n");
}

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
		return usage_error("invalid MTU '%s': expected a number of bytes from %u to %u",
				   s, MTU_MIN_V4, MTU_MAX);
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

/* --format text|kv|json, and "porcelain", the old name of kv. */
static int parse_format(const char *s, enum out_format *fmt)
{
	if (!strcmp(s, "text"))
		*fmt = FMT_TEXT;
	else if (!strcmp(s, "kv") || !strcmp(s, "porcelain"))
		*fmt = FMT_KV;
	else if (!strcmp(s, "json"))
		*fmt = FMT_JSON;
	else
		return usage_error("invalid --format '%s': expected text, kv or json",
				   s);
	return 0;
}

static int parse_alg(enum alg_kind kind, const char *s,
		     const struct alg **out)
{
	if (*out)
		return usage_error("%s given twice", alg_kind_opts[kind]);
	*out = alg_by_name(kind, s);
	if (!*out) {
		fprintf(stderr, PROG ": unknown %s algorithm '%s'; known: ",
			alg_kind_names[kind], s);
		alg_list(stderr, kind);
		fprintf(stderr, "\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* One option's value into @o: 0, or the exit status of a usage error. */
static int parse_one(const struct command *cmd, enum cli_opt opt,
		     const char *arg, struct cli_opts *o)
{
	switch (opt) {
	case OPT_MTU:
		return parse_mtu(arg, &o->mtu);
	case OPT_ENC:
		return parse_alg(ALG_ENC, arg, &o->enc);
	case OPT_AUTH:
		return parse_alg(ALG_AUTH, arg, &o->auth);
	case OPT_AEAD:
		return parse_alg(ALG_AEAD, arg, &o->aead);
	case OPT_KEY_BITS:
		o->have_key_bits = 1;
		if (parse_uint(arg, 65535, &o->key_bits))
			return usage_error("invalid --key-bits '%s'", arg);
		return 0;
	case OPT_NATT:
		o->natt = 1;
		return 0;
	case OPT_OUTER:
		return parse_family("--outer", arg, &o->outer_v6);
	case OPT_INNER:
		o->have_inner = 1;
		return parse_family("--inner", arg, &o->inner_v6);
	case OPT_TRANSPORT:
		o->transport = 1;
		return 0;
	case OPT_FILE:
		o->file = arg;
		return 0;
	case OPT_FORMAT:
		return parse_format(arg, &o->format);
	case OPT_PORCELAIN:
		o->format = FMT_KV;
		return 0;
	case OPT_JSON:
		o->format = FMT_JSON;
		return 0;
	case OPT_HELP:
		break;
	}
	cmd->usage(stdout);
	exit(0);
}

/* The message for getopt's '?' or ':' return. */
static int bad_option(int c, char **argv, const char *cmd)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error("%s: option '%s' requires an argument", cmd,
				   arg);
	if (optopt && optopt != '?' && optopt < OPT_VAL(0))
		return usage_error("%s: unknown option '-%c'", cmd, optopt);
	return usage_error("%s: unknown option '%s'", cmd, arg);
}

/*
 * Parse @argv (argv[0] is the command's name) into @o, taking only the
 * options @cmd names.  --help and -h print the command's usage and exit.
 * Returns 0, or the exit status of a usage error (already reported).
 */
int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct cli_opts *o)
{
	struct option longopts[ARRAY_SIZE(options) + 1];
	size_t i, n = 0;
	int c, rc;

	memset(o, 0, sizeof(*o));
	memset(longopts, 0, sizeof(longopts));
	for (i = 0; i < ARRAY_SIZE(options); i++) {
		if (!(cmd->opts & OPT_BIT(i)))
			continue;
		longopts[n].name = options[i].name;
		longopts[n].has_arg = options[i].has_arg;
		longopts[n].val = OPT_VAL((int)i);
		n++;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h')
			c = OPT_VAL(OPT_HELP);
		if (c < OPT_VAL(0))
			return bad_option(c, argv, cmd->name);
		rc = parse_one(cmd, (enum cli_opt)(c - OPT_VAL(0)), optarg, o);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", cmd->name,
				   argv[optind]);
	return 0;
}
