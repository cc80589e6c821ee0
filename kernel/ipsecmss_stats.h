/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecmss_stats - per network namespace, per family, per-CPU counters of
 * what the IPSECMSS target did, shown in /proc/net/stat/ipsecmss.
 */
#ifndef _IPSECMSS_STATS_H
#define _IPSECMSS_STATS_H

#include <linux/percpu.h>
#include <linux/types.h>
#include <net/netns/generic.h>

/* The order is the column order of /proc/net/stat/ipsecmss. */
enum ipsecmss_stat {
	IPSECMSS_STAT_SYN,		/* SYN or SYN/ACK seen */
	IPSECMSS_STAT_LOWERED,		/* MSS option lowered */
	IPSECMSS_STAT_ALREADY_LOW,	/* MSS at or below the clamp */
	IPSECMSS_STAT_INSERTED,		/* MSS option inserted */
	IPSECMSS_STAT_NO_ROOM,		/* no MSS option, none could be inserted */
	IPSECMSS_STAT_MALFORMED,	/* bad TCP header or options: untouched */
	IPSECMSS_STAT_NO_ROUTE,		/* PMTU modes: no route on a leg */
	IPSECMSS_STAT_NO_SA,		/* auto: an SA not (yet) usable */
	IPSECMSS_STAT_UNKNOWN_XFRM,	/* auto: a transform it cannot size */
	__IPSECMSS_STAT_MAX,
};

#define IPSECMSS_FAMILIES 2	/* [0] IPv4, [1] IPv6 */

struct ipsecmss_pcpu_stats {
	unsigned long v[IPSECMSS_FAMILIES][__IPSECMSS_STAT_MAX];
};

/* One per network namespace (net_generic), freed with it. */
struct ipsecmss_net {
	struct ipsecmss_pcpu_stats __percpu *stats;
	unsigned int last_mss[IPSECMSS_FAMILIES];
};

extern unsigned int ipsecmss_net_id;

int ipsecmss_stats_init(void);
void ipsecmss_stats_exit(void);

/*
 * Count one SYN for @net and what became of it (@stat); @ipv6 picks the
 * family.  A nonzero @mss is remembered as the MSS last written.  One
 * call per SYN, inline, so a SYN pays one per-netns lookup and two
 * per-CPU increments.
 */
static inline void ipsecmss_stat_syn(const struct net *net, bool ipv6,
				     enum ipsecmss_stat stat, unsigned int mss)
{
	struct ipsecmss_net *in = net_generic(net, ipsecmss_net_id);

	this_cpu_inc(in->stats->v[ipv6][IPSECMSS_STAT_SYN]);
	this_cpu_inc(in->stats->v[ipv6][stat]);
	if (mss)
		WRITE_ONCE(in->last_mss[ipv6], mss);
}

#endif /* _IPSECMSS_STATS_H */
