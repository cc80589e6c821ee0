// SPDX-License-Identifier: GPL-2.0
/*
 * xt_roundtrip - drive one xtables target extension the way iptables does,
 * without a kernel: load it from XTABLES_LIBDIR, parse the target options
 * given on the command line, run the final check, and show what the
 * kernel would be given and what iptables would print and save.
 *
 *   xt_roundtrip -4|-6 TARGET [target options...]
 *
 * Output (stdout), one line each:
 *   data: <hex bytes of the target's data, size bytes>
 *   print:<the print() output, as "iptables -L" shows it>
 *   save:<the save() output, as "iptables-save" shows it>
 *
 * A parse error exits with the status libxtables asks for (2 for a
 * parameter problem) and its message on stderr, as iptables does.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xtables.h>

static struct option orig_opts[] = {
	{.name = NULL},
};

static void __attribute__((noreturn, format(printf, 2, 3)))
rt_exit_err(enum xtables_exittype status, const char *msg, ...)
{
	va_list ap;

	fputs("xt_roundtrip: ", stderr);
	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* No kernel to ask: every revision is taken as supported. */
static int rt_compat_rev(const char *name, uint8_t rev, int opt)
{
	(void)name;
	(void)rev;
	(void)opt;
	return 1;
}

static struct xtables_globals rt_globals = {
	.option_offset	= 0,
	.program_name	= "xt_roundtrip",
	.program_version = XTABLES_VERSION,
	.orig_opts	= orig_opts,
	.exit_err	= rt_exit_err,
	.compat_rev	= rt_compat_rev,
};

int main(int argc, char **argv)
{
	struct xtables_target *t;
	struct option *opts;
	uint8_t family;
	bool invert = false;
	size_t size, i;
	int c;

	if (argc < 3 || (strcmp(argv[1], "-4") && strcmp(argv[1], "-6"))) {
		fprintf(stderr, "usage: %s -4|-6 TARGET [options]\n", argv[0]);
		return 1;
	}
	family = argv[1][1] == '4' ? NFPROTO_IPV4 : NFPROTO_IPV6;
	if (xtables_init_all(&rt_globals, family) < 0) {
		fprintf(stderr, "xt_roundtrip: xtables_init_all failed\n");
		return 3;
	}

	t = xtables_find_target(argv[2], XTF_LOAD_MUST_SUCCEED);
	size = XT_ALIGN(sizeof(struct xt_entry_target)) + t->size;
	t->t = xtables_calloc(1, size);
	t->t->u.target_size = size;
	strncpy(t->t->u.user.name, t->name, sizeof(t->t->u.user.name) - 1);
	t->t->u.user.revision = t->revision;
	if (t->init != NULL)
		t->init(t->t);
	if (t->x6_options == NULL) {
		fprintf(stderr, "xt_roundtrip: %s has no x6_options\n", t->name);
		return 3;
	}
	opts = xtables_options_xfrm(rt_globals.orig_opts, NULL,
				    t->x6_options, &t->option_offset);
	if (opts == NULL)
		rt_exit_err(OTHER_PROBLEM, "cannot merge options");
	rt_globals.opts = opts;

	/* Skip argv[0..2]: parse from the first target option on. */
	argv[2] = argv[0];
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 2, argv + 2, "-:", opts, NULL)) != -1) {
		if (c == 1) {	/* a word that is not an option */
			if (strcmp(optarg, "!") == 0 && !invert) {
				invert = true;
				continue;
			}
			rt_exit_err(PARAMETER_PROBLEM, "Bad argument `%s'",
				    optarg);
		}
		/* The same words as iptables for the same mistakes. */
		if (c == ':')
			rt_exit_err(PARAMETER_PROBLEM,
				    "option \"%s\" requires an argument",
				    argv[2 + optind - 1]);
		if (c == '?')
			rt_exit_err(PARAMETER_PROBLEM,
				    "unknown option \"%s\"",
				    argv[2 + optind - 1]);
		xtables_option_tpcall(c, argv + 2, invert, t, NULL);
		invert = false;
	}
	if (invert)
		rt_exit_err(PARAMETER_PROBLEM, "\"!\" with nothing after it");
	xtables_option_tfcall(t);

	printf("data:");
	for (i = 0; i < t->size; i++)
		printf(" %02x", t->t->data[i]);
	printf("\nprint:");
	fflush(stdout);
	if (t->print != NULL)
		t->print(NULL, t->t, 0);
	printf("\nsave:");
	if (t->save != NULL)
		t->save(NULL, t->t);
	printf("\n");
	return 0;
}
