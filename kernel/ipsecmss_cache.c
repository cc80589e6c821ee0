// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss_cache - the per-CPU cache of the routes and xfrm bundles that
 * auto's lookups ended with (see ipsecmss_cache.h).
 *
 * Each CPU has a small direct-mapped table.  An entry holds one reference
 * to its route or bundle; it is used and replaced only by its own CPU,
 * with bottom halves off, under a per-CPU lock that is contended only by
 * a flush: a device unregistered or changed (a tunnel's if_id, key or
 * link), a namespace or the module going away.
 *
 * The ports: a SYN's reverse flow has ports of its own, and xfrm
 * selectors may name ports.  Keys leave the ports out, so a family's
 * entries are used only while the namespace's last scan of its outbound
 * policies found none selecting ports, and that scan is still current:
 * inserting a policy bumps the family's route generation
 * (xfrm_policy_insert()), which both outdates the scan and makes every
 * cached route and bundle of the family fail dst_check().  A bundle whose
 * own SAs select ports is not kept.
 */
#include <linux/jhash.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/dst.h>
#include <net/ip6_fib.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/xfrm.h>

#include "ipsecmss_cache.h"
#include "ipsecmss_stats.h"

#define IPSECMSS_CACHE_SLOTS	64	/* per CPU, a power of two */

struct ipsecmss_cache_entry {
	struct ipsecmss_cache_key key;
	struct dst_entry *dst;		/* one reference, or NULL */
	u32 cookie;			/* dst_check()'s, for an IPv6 route */
};

struct ipsecmss_cache_cpu {
	spinlock_t lock;		/* the slots, against a flush */
	struct ipsecmss_cache_entry slot[IPSECMSS_CACHE_SLOTS];
};

static struct ipsecmss_cache_cpu __percpu *ipsecmss_cache;
static atomic_t ipsecmss_cache_flush_count = ATOMIC_INIT(0);
static u32 ipsecmss_cache_seed __read_mostly;

/* The last policy scan of a family, in one word: its route generation
 * in the high half, these flags in the low one.
 */
#define IPSECMSS_SCAN_DONE	BIT(0)
#define IPSECMSS_SCAN_PORTS	BIT(1)	/* a policy selects ports */

struct ipsecmss_cache_net {
	struct net *net;
	struct work_struct scan;
	u64 last_scan[2];		/* [0] IPv4, [1] IPv6 */
	unsigned long scanned_at;	/* jiffies */
};

static unsigned int ipsecmss_cache_net_id __read_mostly;

static u32 ipsecmss_route_genid(const struct net *net, bool ipv6)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (ipv6)
		return rt_genid_ipv6(net);
#endif
	return rt_genid_ipv4(net);
}

struct ipsecmss_scan {
	bool ports[2];
};

static int ipsecmss_scan_policy(struct xfrm_policy *pol, int dir, int count,
				void *data)
{
	struct ipsecmss_scan *scan = data;

	if (dir == XFRM_POLICY_OUT &&
	    (pol->selector.sport_mask || pol->selector.dport_mask))
		scan->ports[pol->family == AF_INET6] = true;
	return 0;
}

static void ipsecmss_scan_policies(struct work_struct *work)
{
	struct ipsecmss_cache_net *cn =
		container_of(work, struct ipsecmss_cache_net, scan);
	struct ipsecmss_scan scan = {};
	struct xfrm_policy_walk walk;
	u32 genid[2];
	int err, f;

	genid[0] = ipsecmss_route_genid(cn->net, false);
	genid[1] = ipsecmss_route_genid(cn->net, true);
	/* The generations are read before the walk: a policy inserted
	 * after this bumps them again, so the result cannot outlive it.
	 */
	smp_rmb();

	xfrm_policy_walk_init(&walk, XFRM_POLICY_TYPE_ANY);
	err = xfrm_policy_walk(cn->net, &walk, ipsecmss_scan_policy, &scan);
	xfrm_policy_walk_done(&walk, cn->net);
	if (err && err != -ENOENT)
		return;
	for (f = 0; f < 2; f++)
		WRITE_ONCE(cn->last_scan[f], (u64)genid[f] << 32 |
			   IPSECMSS_SCAN_DONE |
			   (scan.ports[f] ? IPSECMSS_SCAN_PORTS : 0));
	WRITE_ONCE(cn->scanned_at, jiffies);
}

/*
 * Whether the cache may be used for a flow of @net: no outbound policy
 * of the family selects ports, as of a scan no policy was inserted
 * since.  An outdated scan is made again, in process context; so is one
 * that found ports, once a second, as deleting a policy bumps no
 * generation.
 */
bool ipsecmss_cache_usable(struct net *net, bool ipv6)
{
	struct ipsecmss_cache_net *cn = net_generic(net, ipsecmss_cache_net_id);
	u64 genid = ipsecmss_route_genid(net, ipv6);
	u64 last = READ_ONCE(cn->last_scan[ipv6]);

	if (last == (genid << 32 | IPSECMSS_SCAN_DONE))
		return true;
	if (last >> 32 != genid || !(last & IPSECMSS_SCAN_DONE) ||
	    time_after(jiffies, READ_ONCE(cn->scanned_at) + HZ))
		schedule_work(&cn->scan);
	return false;
}

/* The key of a lookup of the flow @fl (its ports left out). */
void ipsecmss_cache_key_flow(struct ipsecmss_cache_key *key,
			     const struct net *net, enum ipsecmss_leg leg,
			     const struct flowi *fl, u32 if_id, bool ipv6)
{
	memset(key, 0, sizeof(*key));
	key->net = net;
	key->leg = leg;
	key->if_id = if_id;
	key->mark = fl->flowi_mark;
	key->oif = fl->flowi_oif;
	if (ipv6) {
		key->family = AF_INET6;
		key->saddr.in6 = fl->u.ip6.saddr;
		key->daddr.in6 = fl->u.ip6.daddr;
	} else {
		key->family = AF_INET;
		key->saddr.a4 = fl->u.ip4.saddr;
		key->daddr.a4 = fl->u.ip4.daddr;
	}
}

/* An address folded to a word, for the hash. */
static u32 ipsecmss_addr_fold(const xfrm_address_t *a)
{
	return (__force u32)(a->a6[0] ^ a->a6[1] ^ a->a6[2] ^ a->a6[3]);
}

static struct ipsecmss_cache_entry *
ipsecmss_cache_slot(struct ipsecmss_cache_cpu *c,
		    const struct ipsecmss_cache_key *key)
{
	u32 hash;

	/* Every field but the namespace's address (the namespace only
	 * tells entries apart, and a host pair rarely meets in two).
	 */
	hash = jhash_3words(ipsecmss_addr_fold(&key->saddr),
			    ipsecmss_addr_fold(&key->daddr),
			    key->mark ^ key->if_id ^ key->oif ^
			    key->family ^ key->leg << 16,
			    ipsecmss_cache_seed);
	return &c->slot[hash & (IPSECMSS_CACHE_SLOTS - 1)];
}

/* Keys have no holes and a multiple of 8 bytes: compared a word at a
 * time, with no branch but the last.
 */
static bool ipsecmss_cache_key_eq(const struct ipsecmss_cache_key *a,
				  const struct ipsecmss_cache_key *b)
{
	const u64 *x = (const u64 *)a, *y = (const u64 *)b;
	u64 diff = 0;
	unsigned int i;

	BUILD_BUG_ON(sizeof(*a) % sizeof(u64));
	for (i = 0; i < sizeof(*a) / sizeof(u64); i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

/*
 * The MTU of the leg @key from the cache, or 0 when it has no current
 * entry.  Counted as a hit or a miss of the key's namespace.
 */
unsigned int ipsecmss_cache_mtu(const struct ipsecmss_cache_key *key)
{
	struct ipsecmss_cache_entry *e;
	struct ipsecmss_cache_cpu *c;
	struct dst_entry *stale = NULL;
	unsigned int mtu = 0;

	local_bh_disable();
	c = this_cpu_ptr(ipsecmss_cache);
	spin_lock(&c->lock);
	e = ipsecmss_cache_slot(c, key);
	if (e->dst && ipsecmss_cache_key_eq(&e->key, key)) {
		if (dst_check(e->dst, e->cookie)) {
			mtu = dst_mtu(e->dst);
		} else {
			stale = e->dst;
			e->dst = NULL;
		}
	}
	spin_unlock(&c->lock);
	local_bh_enable();
	dst_release(stale);
	ipsecmss_stat_syn(key->net, key->family == AF_INET6,
			  mtu ? IPSECMSS_STAT_CACHE_HIT : IPSECMSS_STAT_CACHE_MISS);
	return mtu;
}

/* Read before a lookup whose result is to be stored. */
unsigned int ipsecmss_cache_flushes(void)
{
	return atomic_read(&ipsecmss_cache_flush_count);
}

/* An SA selecting ports: another port may find another SA. */
static bool ipsecmss_bundle_selects_ports(const struct dst_entry *dst)
{
	for (; dst && dst->xfrm; dst = xfrm_dst_child(dst))
		if (dst->xfrm->sel.sport_mask || dst->xfrm->sel.dport_mask)
			return true;
	return false;
}

static u32 ipsecmss_dst_cookie(const struct dst_entry *dst, u16 family)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (family == AF_INET6 && !dst->xfrm)
		return rt6_get_cookie((const struct rt6_info *)dst);
#endif
	return 0;
}

/*
 * Keep @dst, the route or bundle the lookup of @key ended with; its
 * reference passes to the cache.  @flushes is ipsecmss_cache_flushes()
 * from before the lookup: a flush since then (a device going away, say)
 * may not have seen this result, which is then not kept.
 */
void ipsecmss_cache_store(const struct ipsecmss_cache_key *key,
			  struct dst_entry *dst, unsigned int flushes)
{
	struct ipsecmss_cache_entry *e;
	struct ipsecmss_cache_cpu *c;
	struct dst_entry *old = dst;

	if ((dst->flags & DST_XFRM_QUEUE) || ipsecmss_bundle_selects_ports(dst))
		goto out;
	local_bh_disable();
	c = this_cpu_ptr(ipsecmss_cache);
	spin_lock(&c->lock);
	if (flushes == atomic_read(&ipsecmss_cache_flush_count)) {
		e = ipsecmss_cache_slot(c, key);
		old = e->dst;
		e->key = *key;
		e->dst = dst;
		e->cookie = ipsecmss_dst_cookie(dst, key->family);
	}
	spin_unlock(&c->lock);
	local_bh_enable();
out:
	dst_release(old);
}

/* Let go of every entry, on every CPU. */
static void ipsecmss_cache_flush(void)
{
	int cpu, i;

	atomic_inc(&ipsecmss_cache_flush_count);
	/* Seen by every store that takes a CPU's lock after this flush
	 * released it, so that no store keeps what the flush let go of.
	 */
	smp_mb__after_atomic();
	for_each_possible_cpu(cpu) {
		struct ipsecmss_cache_cpu *c = per_cpu_ptr(ipsecmss_cache, cpu);

		spin_lock_bh(&c->lock);
		for (i = 0; i < IPSECMSS_CACHE_SLOTS; i++) {
			dst_release(c->slot[i].dst);
			c->slot[i].dst = NULL;
		}
		spin_unlock_bh(&c->lock);
	}
}

/*
 * Entries hold devices (their routes'), and a tunnel device's lookup
 * settings are not part of what dst_check() sees: let go of everything
 * when a device goes away or changes (changelink of xfrm, vti and vti6
 * sends NETDEV_CHANGE).
 */
static int ipsecmss_cache_netdev_event(struct notifier_block *nb,
				       unsigned long event, void *ptr)
{
	if (event == NETDEV_UNREGISTER || event == NETDEV_CHANGE)
		ipsecmss_cache_flush();
	return NOTIFY_DONE;
}

static struct notifier_block ipsecmss_cache_notifier = {
	.notifier_call = ipsecmss_cache_netdev_event,
};

static int __net_init ipsecmss_cache_net_init(struct net *net)
{
	struct ipsecmss_cache_net *cn = net_generic(net, ipsecmss_cache_net_id);

	cn->net = net;
	INIT_WORK(&cn->scan, ipsecmss_scan_policies);
	cn->last_scan[0] = 0;
	cn->last_scan[1] = 0;
	cn->scanned_at = jiffies;
	return 0;
}

static void __net_exit ipsecmss_cache_net_exit(struct net *net)
{
	struct ipsecmss_cache_net *cn = net_generic(net, ipsecmss_cache_net_id);

	cancel_work_sync(&cn->scan);
	/* Keys compare namespaces by address, which a new one may reuse. */
	ipsecmss_cache_flush();
}

static struct pernet_operations ipsecmss_cache_net_ops = {
	.init	= ipsecmss_cache_net_init,
	.exit	= ipsecmss_cache_net_exit,
	.id	= &ipsecmss_cache_net_id,
	.size	= sizeof(struct ipsecmss_cache_net),
};

int ipsecmss_cache_init(void)
{
	int cpu, err;

	ipsecmss_cache = alloc_percpu(struct ipsecmss_cache_cpu);
	if (!ipsecmss_cache)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(ipsecmss_cache, cpu)->lock);
	ipsecmss_cache_seed = get_random_u32();

	err = register_pernet_subsys(&ipsecmss_cache_net_ops);
	if (err)
		goto free;
	err = register_netdevice_notifier(&ipsecmss_cache_notifier);
	if (err)
		goto pernet;
	return 0;
pernet:
	unregister_pernet_subsys(&ipsecmss_cache_net_ops);
free:
	free_percpu(ipsecmss_cache);
	return err;
}

void ipsecmss_cache_exit(void)
{
	unregister_netdevice_notifier(&ipsecmss_cache_notifier);
	unregister_pernet_subsys(&ipsecmss_cache_net_ops);
	ipsecmss_cache_flush();
	free_percpu(ipsecmss_cache);
}
