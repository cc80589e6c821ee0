// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss_stats - the counters of the IPSECMSS target.
 *
 * Each network namespace has, per family, one set of per-CPU counters, so
 * counting is a lock-free increment on the packet path; the proc file sums
 * the CPUs when read.  The file is world-readable: it holds counts only.
 */
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "ipsecmss_stats.h"

unsigned int ipsecmss_net_id __read_mostly;

static const char *const ipsecmss_stat_names[__IPSECMSS_STAT_MAX] = {
	[IPSECMSS_STAT_SYN]		= "syn",
	[IPSECMSS_STAT_LOWERED]		= "lowered",
	[IPSECMSS_STAT_ALREADY_LOW]	= "already_low",
	[IPSECMSS_STAT_INSERTED]	= "inserted",
	[IPSECMSS_STAT_NO_ROOM]		= "no_room",
	[IPSECMSS_STAT_MALFORMED]	= "malformed",
	[IPSECMSS_STAT_NO_ROUTE]	= "no_route",
	[IPSECMSS_STAT_NO_SA]		= "no_sa",
	[IPSECMSS_STAT_UNKNOWN_XFRM]	= "unknown_xfrm",
};

static struct ipsecmss_net *ipsecmss_pernet(const struct net *net)
{
	return net_generic(net, ipsecmss_net_id);
}

static unsigned long ipsecmss_stat_sum(struct ipsecmss_pcpu_stats __percpu *s,
				       int family, enum ipsecmss_stat stat)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(s, cpu)->v[family][stat];
	return sum;
}

static int ipsecmss_stats_show(struct seq_file *seq, void *v)
{
	struct ipsecmss_net *in = ipsecmss_pernet(seq_file_single_net(seq));
	static const char *const family[IPSECMSS_FAMILIES] = { "ipv4", "ipv6" };
	int f, i;

	seq_puts(seq, "family");
	for (i = 0; i < __IPSECMSS_STAT_MAX; i++)
		seq_printf(seq, " %s", ipsecmss_stat_names[i]);
	seq_puts(seq, " last_mss\n");

	for (f = 0; f < IPSECMSS_FAMILIES; f++) {
		seq_puts(seq, family[f]);
		for (i = 0; i < __IPSECMSS_STAT_MAX; i++)
			seq_printf(seq, " %lu", ipsecmss_stat_sum(in->stats, f, i));
		seq_printf(seq, " %u\n", READ_ONCE(in->last_mss[f]));
	}
	return 0;
}

static int __net_init ipsecmss_net_init(struct net *net)
{
	struct ipsecmss_net *in = ipsecmss_pernet(net);

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
