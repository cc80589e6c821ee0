// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss_stats - the counters of the IPSECMSS target.
 *
 * Each network namespace has, per family, one set of per-CPU counters, so
 * counting is a lock-free increment on the packet path.  The proc file
 * follows the layout of the other /proc/net/stat files, which lnstat(8)
 * reads: a line of field names, then one line per possible CPU of
 * hexadecimal values.  As there, the first field ("entries": here the
 * number of IPSECMSS rules in the namespace) is global and repeated on
 * every line; lnstat takes it from the last line and sums the others.
 * The file is world-readable: it holds counts only.
 */
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "ipsecmss_stats.h"

unsigned int ipsecmss_net_id __read_mostly;

static const char *const ipsecmss_stat_names[__IPSECMSS_STAT_MAX] = {
	[IPSECMSS_STAT_LOWERED]		= "lowered",
	[IPSECMSS_STAT_ALREADY_LOW]	= "already_low",
	[IPSECMSS_STAT_INSERTED]	= "inserted",
	[IPSECMSS_STAT_NO_ROOM]		= "no_room",
	[IPSECMSS_STAT_MALFORMED]	= "malformed",
	[IPSECMSS_STAT_NO_MEMORY]	= "no_memory",
	[IPSECMSS_STAT_NO_ROUTE]	= "no_route",
	[IPSECMSS_STAT_NO_SA]		= "no_sa",
	[IPSECMSS_STAT_UNKNOWN_XFRM]	= "unknown_xfrm",
	[IPSECMSS_STAT_HELD]		= "held",
	[IPSECMSS_STAT_CACHE_HIT]	= "cache_hit",
	[IPSECMSS_STAT_CACHE_MISS]	= "cache_miss",
};

static const char *const ipsecmss_family_names[IPSECMSS_FAMILIES] = {
	"ipv4", "ipv6",
};

static void ipsecmss_stats_header(struct seq_file *seq)
{
	int f, i;

	seq_puts(seq, "entries");
	for (f = 0; f < IPSECMSS_FAMILIES; f++) {
		seq_printf(seq, " %s_syn", ipsecmss_family_names[f]);
		for (i = 0; i < __IPSECMSS_STAT_MAX; i++)
			seq_printf(seq, " %s_%s", ipsecmss_family_names[f],
				   ipsecmss_stat_names[i]);
	}
	seq_putc(seq, '\n');
}

/* One CPU's line; its "syn" fields are the sums of its outcomes. */
static void ipsecmss_stats_cpu(struct seq_file *seq,
			       const struct ipsecmss_pcpu_stats *s,
			       unsigned int rules)
{
	unsigned long syn;
	int f, i;

	seq_printf(seq, "%08x", rules);
	for (f = 0; f < IPSECMSS_FAMILIES; f++) {
		syn = 0;
		for (i = 0; i < __IPSECMSS_STAT_OUTCOMES; i++)
			syn += s->v[f][i];
		seq_printf(seq, " %08lx", syn);
		for (i = 0; i < __IPSECMSS_STAT_MAX; i++)
			seq_printf(seq, " %08lx", s->v[f][i]);
	}
	seq_putc(seq, '\n');
}

static int ipsecmss_stats_show(struct seq_file *seq, void *v)
{
	struct ipsecmss_net *in = ipsecmss_pernet(seq_file_single_net(seq));
	unsigned int rules = atomic_read(&in->rules);
	struct ipsecmss_pcpu_stats snap;
	int cpu;

	ipsecmss_stats_header(seq);
	for_each_possible_cpu(cpu) {
		/* A copy, so that a line's sum and its fields agree. */
		memcpy(&snap, per_cpu_ptr(in->stats, cpu), sizeof(snap));
		ipsecmss_stats_cpu(seq, &snap, rules);
	}
	return 0;
}

static int __net_init ipsecmss_net_init(struct net *net)
{
	struct ipsecmss_net *in = ipsecmss_pernet(net);

	atomic_set(&in->rules, 0);
	in->stats = alloc_percpu(struct ipsecmss_pcpu_stats);
	if (!in->stats)
		return -ENOMEM;
	if (!proc_create_net_single("ipsecmss", 0444, net->proc_net_stat,
				    ipsecmss_stats_show, NULL)) {
		free_percpu(in->stats);
		in->stats = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit ipsecmss_net_exit(struct net *net)
{
	struct ipsecmss_net *in = ipsecmss_pernet(net);

	remove_proc_entry("ipsecmss", net->proc_net_stat);
	free_percpu(in->stats);
	in->stats = NULL;
}

static struct pernet_operations ipsecmss_net_ops = {
	.init	= ipsecmss_net_init,
	.exit	= ipsecmss_net_exit,
	.id	= &ipsecmss_net_id,
	.size	= sizeof(struct ipsecmss_net),
};

int ipsecmss_stats_init(void)
{
	return register_pernet_subsys(&ipsecmss_net_ops);
}

void ipsecmss_stats_exit(void)
{
	unregister_pernet_subsys(&ipsecmss_net_ops);
}
