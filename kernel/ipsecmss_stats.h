/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecmss_stats - per network namespace, per family, per-CPU counters of
 * what the IPSECMSS target did with each SYN, shown in
 * /proc/net/stat/ipsecmss in the layout lnstat(8) reads.
 */
#ifndef _IPSECMSS_STATS_H
#define _IPSECMSS_STATS_H

#include <linux/percpu.h>
#include <linux/types.h>
#include <net/netns/generic.h>

/*
 * What became of one SYN or SYN/ACK: every SYN counts exactly one of the
 * outcomes, so the number of SYNs seen is their sum, made when the file
 * is read.  Then how auto's legs were sized: each leg that needed a
 * lookup counts a cache hit or miss, or neither while the cache may not
 * be used (ipsecmss_cache_usable()).  The order is the column order of
 * /proc/net/stat/ipsecmss.
 */
enum ipsecmss_stat {
	IPSECMSS_STAT_LOWERED,		/* MSS option lowered */
	IPSECMSS_STAT_ALREADY_LOW,	/* MSS at or below the clamp */
	IPSECMSS_STAT_INSERTED,		/* MSS option inserted */
	IPSECMSS_STAT_NO_ROOM,		/* no MSS option, none could be inserted */
	IPSECMSS_STAT_MALFORMED,	/* bad TCP header or options: untouched */
	IPSECMSS_STAT_NO_MEMORY,	/* no memory to make the header writable */
	IPSECMSS_STAT_NO_ROUTE,		/* PMTU modes: no route on a leg */
	IPSECMSS_STAT_NO_SA,		/* auto: an SA not (yet) usable */
	IPSECMSS_STAT_UNKNOWN_XFRM,	/* auto: a transform it cannot size */
	IPSECMSS_STAT_HELD,		/* auto: held for an SA being negotiated */
	__IPSECMSS_STAT_OUTCOMES,
	IPSECMSS_STAT_CACHE_HIT = __IPSECMSS_STAT_OUTCOMES, /* leg from cache */
	IPSECMSS_STAT_CACHE_MISS,	/* leg looked up */
	__IPSECMSS_STAT_MAX,
};

#define IPSECMSS_FAMILIES 2	/* [0] IPv4, [1] IPv6 */

struct ipsecmss_pcpu_stats {
	unsigned long v[IPSECMSS_FAMILIES][__IPSECMSS_STAT_MAX];
};

/* One per network namespace (net_generic), freed with it. */
struct ipsecmss_net {
	struct ipsecmss_pcpu_stats __percpu *stats;
	atomic_t rules;		/* IPSECMSS rules in this namespace */
};

extern unsigned int ipsecmss_net_id;

int ipsecmss_stats_init(void);
void ipsecmss_stats_exit(void);

static inline struct ipsecmss_net *ipsecmss_pernet(const struct net *net)
{
	return net_generic(net, ipsecmss_net_id);
}

/*
 * Count one SYN for @net and what became of it (@stat); @ipv6 picks the
 * family.  Inline and a single per-CPU increment: nothing is shared
 * between CPUs on the packet path.
 */
static inline void ipsecmss_stat_syn(const struct net *net, bool ipv6,
				     enum ipsecmss_stat stat)
{
	this_cpu_inc(ipsecmss_pernet(net)->stats->v[ipv6][stat]);
}

/* The rule count shown as lnstat's "entries" column. */
static inline void ipsecmss_rules_add(const struct net *net, int n)
{
	atomic_add(n, &ipsecmss_pernet(net)->rules);
}

#endif /* _IPSECMSS_STATS_H */
