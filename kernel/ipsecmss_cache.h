/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecmss_cache - the legs auto sized for earlier SYNs, kept per CPU.
 *
 * Sizing a leg takes a route lookup, an xfrm policy lookup and, where a
 * tunnel is found, a whole xfrm bundle built and freed again; the kernel
 * keeps no bundle for lookups made without a socket.  A gateway sees the
 * SYNs of many connections between the same hosts, so the cache keeps the
 * route or bundle a leg's lookup ended with, as a connected socket keeps
 * its own, and revalidates it with dst_check() on every use: the check
 * that makes a socket let go of a route or bundle gone stale (a new or
 * deleted policy, an SA expired or rekeyed, a route changed, a path MTU
 * learnt) makes the cache let go of it too.
 */
#ifndef _IPSECMSS_CACHE_H
#define _IPSECMSS_CACHE_H

#include <linux/types.h>
#include <net/flow.h>
#include <net/xfrm.h>

/* Which lookup a key stands for. */
enum ipsecmss_leg {
	IPSECMSS_LEG_REVERSE,	/* the way back: route, policy, device */
	IPSECMSS_LEG_DEVICE,	/* a tunnel device's own lookup, forward */
};

/*
 * Everything a leg's lookups depend on, except the TCP ports, which a
 * key leaves out only while no outbound policy of its family selects
 * ports (ipsecmss_cache_usable()).  No holes: keys are compared whole.
 */
struct ipsecmss_cache_key {
	const struct net *net;
	xfrm_address_t saddr;
	xfrm_address_t daddr;
	u32 mark;
	u32 if_id;
	int oif;
	u16 family;
	u16 leg;
};

int ipsecmss_cache_init(void);
void ipsecmss_cache_exit(void);

bool ipsecmss_cache_usable(struct net *net, bool ipv6);
void ipsecmss_cache_key_flow(struct ipsecmss_cache_key *key,
			     const struct net *net, enum ipsecmss_leg leg,
			     const struct flowi *fl, u32 if_id, bool ipv6);
unsigned int ipsecmss_cache_mtu(const struct ipsecmss_cache_key *key);
unsigned int ipsecmss_cache_flushes(void);
void ipsecmss_cache_store(const struct ipsecmss_cache_key *key,
			  struct dst_entry *dst, unsigned int flushes);

#endif /* _IPSECMSS_CACHE_H */
