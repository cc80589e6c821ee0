/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecmss_stats - per network namespace, per family, per-CPU counters of
 * what the IPSECMSS target did, shown in /proc/net/stat/ipsecmss.
 */
#ifndef _IPSECMSS_STATS_H
#define _IPSECMSS_STATS_H

#include <linux/types.h>

struct net;

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

int ipsecmss_stats_init(void);
void ipsecmss_stats_exit(void);

/*
 * Count one SYN for @net and what became of it (@stat); @ipv6 picks the
 * family.  A nonzero @mss is remembered as the MSS last written.  One
 * call per SYN, so the per-netns lookup is paid once.
 */
void ipsecmss_stat_syn(const struct net *net, bool ipv6,
		       enum ipsecmss_stat stat, unsigned int mss);

#endif /* _IPSECMSS_STATS_H */
