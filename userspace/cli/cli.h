/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the commands of ipsecmss(8) share: the exit codes, the one option
 * table and its parser, the output format switch and the messages.  Each
 * command lives in a file of its own (calc.c, sa.c, stats.c); ipsecmss.c
 * only dispatches to them.
 */
#ifndef IPSECMSS_CLI_H
#define IPSECMSS_CLI_H

#include <stdio.h>

#ifndef IPSECMSS_VERSION
#define IPSECMSS_VERSION "unknown"
#endif

#define PROG		"ipsecmss"
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MTU_MIN_V4	68	/* RFC 791 */
#define MTU_MIN_V6	1280	/* RFC 8200 */
#define MTU_MAX		65535

struct alg;

/* --format: one switch for every command. */
enum out_format { FMT_TEXT, FMT_KV, FMT_JSON };

/* Every option of every command; a command names those it takes. */
enum cli_opt {
	OPT_MTU, OPT_ENC, OPT_AUTH, OPT_AEAD, OPT_KEY_BITS, OPT_NATT,
	OPT_OUTER, OPT_INNER, OPT_TRANSPORT, OPT_FILE, OPT_FORMAT,
	OPT_PORCELAIN, OPT_JSON, OPT_HELP,
};

#define OPT_BIT(o)	(1u << (o))
/* What every command takes: --format and its aliases, --help. */
#define OPTS_COMMON	(OPT_BIT(OPT_FORMAT) | OPT_BIT(OPT_PORCELAIN) | \
			 OPT_BIT(OPT_JSON) | OPT_BIT(OPT_HELP))

/* The parsed command line: each command reads the fields it takes. */
struct cli_opts {
	unsigned int mtu;	/* 0: not given */
	const struct alg *enc, *auth, *aead;
	unsigned int key_bits;
	int have_key_bits;
	int natt, outer_v6, inner_v6, have_inner, transport;
	const char *file;
	enum out_format format;
};

struct command {
	const char *name;
	const char *summary;	/* one line for the top-level help */
	unsigned int opts;	/* OPT_BIT()s it takes */
	void (*usage)(FILE *f);
	int (*run)(const struct command *cmd, int argc, char **argv);
};

/* The commands, each in a file of its own; ipsecmss.c has their table. */
#define OPTS_CALC	(OPTS_COMMON | OPT_BIT(OPT_MTU) | OPT_BIT(OPT_ENC) | \
			 OPT_BIT(OPT_AUTH) | OPT_BIT(OPT_AEAD) | \
			 OPT_BIT(OPT_KEY_BITS) | OPT_BIT(OPT_NATT) | \
			 OPT_BIT(OPT_OUTER) | OPT_BIT(OPT_INNER) | \
			 OPT_BIT(OPT_TRANSPORT))
#define OPTS_SA		(OPTS_COMMON | OPT_BIT(OPT_MTU))
#define OPTS_STATS	(OPTS_COMMON | OPT_BIT(OPT_FILE))

void calc_usage(FILE *f);
void sa_usage(FILE *f);
void stats_usage(FILE *f);
int calc_main(const struct command *cmd, int argc, char **argv);
int sa_main(const struct command *cmd, int argc, char **argv);
int stats_main(const struct command *cmd, int argc, char **argv);

int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct cli_opts *o);
void usage_format(FILE *f);

/* As the kernel's: printf-style arguments, checked by the compiler. */
#define __printf(a, b)	__attribute__((__format__(printf, a, b)))

__printf(1, 2) int usage_error(const char *fmt, ...);
__printf(1, 2) void runtime_error(const char *fmt, ...);

#endif
