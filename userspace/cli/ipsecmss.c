// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss - the TCP MSS that lets ESP-tunnelled segments travel without
 * IP fragmentation.
 *
 *   ipsecmss calc --mtu N (--enc ALG [--key-bits N] --auth ALG | --aead ALG)
 *                 [--natt] [--outer ipv4|ipv6] [--inner ipv4|ipv6]
 *                 [--transport] [--format text|kv|json]
 *   ipsecmss sa [--mtu N] [--format text|kv|json]
 *   ipsecmss stats [--file PATH] [--format text|kv|json]
 *
 * This file only dispatches: each command is a file of its own (calc.c,
 * sa.c, stats.c), sharing the option parser (options.c), the algorithm
 * table (algs.c), the netlink/XFRM reader (netlink.c, tunnel.c) and the
 * report formatting (report.c).  All the ESP arithmetic lives in
 * kernel/ipsecmss_core.c, shared with the kernel module.
 *
 * Exit status: 0 success, 1 a runtime failure (netlink), 2 a usage error.
 */
#include <string.h>

#include "cli.h"

static const struct command commands[] = {
	{ "calc", "compute the overhead and MSS for an MTU and an ESP suite",
	  OPTS_CALC, calc_usage, calc_main },
	{ "sa", "list the host's SAs with the MTU of their route and their MSS",
	  OPTS_SA, sa_usage, sa_main },
	{ "stats", "print the IPSECMSS counters of this network namespace",
	  OPTS_STATS, stats_usage, stats_main },
};

static void print_help(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: " PROG " COMMAND [OPTION]...\n");
	fprintf(f, "The TCP MSS that keeps ESP-tunnelled segments from being fragmented.\n\n");
	fprintf(f, "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "  %-8s %s\n\n", "help", "this text");
	fprintf(f, "  -h, --help     this text (COMMAND --help: the command's options)\n");
	fprintf(f, "  -V, --version  the version\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		fprintf(f, "\n");
		commands[i].usage(f);
	}
	fprintf(f, "\nExit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	size_t i;

	if (!cmd) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		print_help(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf(PROG " %s\n", IPSECMSS_VERSION);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(&commands[i], argc - 1,
						argv + 1);
	if (cmd[0] == '-')
		return usage_error("unknown option '%s'", cmd);
	return usage_error("unknown command '%s'", cmd);
}
