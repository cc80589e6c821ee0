// SPDX-License-Identifier: GPL-2.0
/*
 * xt_IPSECMSS - clamp the TCP MSS of SYNs so that segments entering an
 * IPsec (ESP) tunnel fit its path MTU without IP fragmentation.
 *
 * This file is the netfilter glue only: it finds the TCP header, chooses
 * the clamp, lets the pure core (ipsecmss_core.c) rewrite the options and
 * then fixes the checksums and IP lengths the core reports as changed.
 */
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <net/checksum.h>
#include <net/dst.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/l3mdev.h>
#include <net/ip_tunnels.h>
#include <net/ip6_tunnel.h>
#include <net/xfrm.h>

#include "xt_IPSECMSS.h"
#include "ipsecmss_core.h"
#include "ipsecmss_stats.h"
#include "ipsecmss_cache.h"
#include "compat.h"

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The ipsecmss developers");
MODULE_DESCRIPTION("Xtables: clamp TCP MSS to fit IPsec tunnels without fragmentation");
MODULE_ALIAS("ipt_IPSECMSS");
MODULE_ALIAS("ip6t_IPSECMSS");
#ifdef IPSECMSS_VERSION
MODULE_VERSION(IPSECMSS_VERSION);
#endif

#define IPSECMSS_PMTU_HOOKS ((1 << NF_INET_FORWARD) | \
			     (1 << NF_INET_LOCAL_OUT) | \
			     (1 << NF_INET_POST_ROUTING))

/*
 * The MTU of the route the packet will really leave on.  In FORWARD a
 * packet bound for a policy-based tunnel already carries the xfrm bundle
 * as its route; the route beneath it is the outer path, and the tunnel's
 * cost is what the rule's overhead accounts for.
 */
static unsigned int ipsecmss_forward_mtu(const struct sk_buff *skb)
{
	const struct dst_entry *dst = skb_dst(skb);

	if (!dst)
		return 0;
	return dst_mtu(xfrm_dst_path(dst));
}

/*
 * The route toward the packet's source, which the peer's segments will
 * take back: a plain lookup (no protocol in the flow, so no xfrm policy
 * lookup).  They arrive where this packet leaves, on @in: the lookup is
 * made in its VRF (l3mdev), and with this packet's mark, the mark a
 * gateway that marks connections gives their replies as well.  The
 * caller releases the route.
 */
static struct dst_entry *ipsecmss_reverse_route(struct net *net,
						const struct sk_buff *skb,
						const struct net_device *in,
						struct flowi *fl, bool ipv6)
{
	struct dst_entry *dst = NULL;

	memset(fl, 0, sizeof(*fl));
	if (ipv6)
		fl->u.ip6.daddr = ipv6_hdr(skb)->saddr;
	else
		fl->u.ip4.daddr = ip_hdr(skb)->saddr;
	fl->flowi_mark = skb->mark;
	if (in)
		fl->flowi_oif = l3mdev_master_ifindex_rcu(in);

	if (nf_route(net, &dst, fl, false, ipv6 ? NFPROTO_IPV6 : NFPROTO_IPV4))
		return NULL;
	return dst;
}

static unsigned int ipsecmss_reverse_mtu(const struct sk_buff *skb,
					 const struct xt_action_param *par,
					 bool ipv6)
{
	struct dst_entry *dst;
	unsigned int mtu;
	struct flowi fl;

	dst = ipsecmss_reverse_route(xt_net(par), skb, xt_out(par), &fl, ipv6);
	if (!dst)
		return 0;
	mtu = dst_mtu(dst);
	dst_release(dst);
	return mtu;
}

/*
 * Route-based tunnels: devices whose transmit looks the packet's SA up
 * itself, so that the route a forwarded packet carries is the device's
 * and not the xfrm bundle the packet will leave through.
 */
enum ipsecmss_tunnel {
	IPSECMSS_TUNNEL_NONE,
	IPSECMSS_TUNNEL_XFRMI,	/* XFRM interface: by if_id, oif = its link */
	IPSECMSS_TUNNEL_VTI,	/* VTI: by flow mark = the tunnel's o_key */
	IPSECMSS_TUNNEL_VTI6,	/* vti6: the same */
};

static enum ipsecmss_tunnel ipsecmss_tunnel_kind(const struct net_device *dev)
{
	const struct rtnl_link_ops *ops = dev->rtnl_link_ops;

	/* The device types of xfrm, vti and vti6: an Ethernet or PPP
	 * route is told apart without comparing names.
	 */
	if (dev->type != ARPHRD_NONE && dev->type != ARPHRD_TUNNEL &&
	    dev->type != ARPHRD_TUNNEL6)
		return IPSECMSS_TUNNEL_NONE;
	if (!ops)
		return IPSECMSS_TUNNEL_NONE;
	if (!strcmp(ops->kind, "xfrm"))
		return IPSECMSS_TUNNEL_XFRMI;
	if (!strcmp(ops->kind, "vti"))
		return IPSECMSS_TUNNEL_VTI;
	if (!strcmp(ops->kind, "vti6"))
		return IPSECMSS_TUNNEL_VTI6;
	return IPSECMSS_TUNNEL_NONE;
}

/*
 * Turn @fl, the flow of a packet routed through the tunnel device @dev,
 * into the flow the device's transmit looks its SA up with (xfrmi_xmit(),
 * vti_tunnel_xmit(), vti6_tnl_xmit()).  Returns the namespace that lookup
 * is made in, with the if_id in *@if_id, or NULL for an XFRM interface
 * in external mode, whose if_id comes with each packet.  The fields read
 * are those of the kernel's own structs in its public headers, with no
 * accessor exported; tests/net/auto_routebased.sh proves them on every
 * supported kernel.
 */
static struct net *ipsecmss_tunnel_flow(const struct net_device *dev,
					enum ipsecmss_tunnel kind,
					struct flowi *fl, u32 *if_id)
{
	const struct xfrm_if *xi;
	const struct ip_tunnel *t4;
	const struct ip6_tnl *t6;

	*if_id = 0;
	switch (kind) {
	case IPSECMSS_TUNNEL_XFRMI:
		xi = netdev_priv(dev);
		/* if_id 0 is an interface in external mode (collect_md,
		 * since 6.0): each packet brings its own if_id.
		 */
		if (!xi->p.if_id)
			return NULL;
		*if_id = xi->p.if_id;
		fl->flowi_oif = xi->p.link;
		return xi->net;
	case IPSECMSS_TUNNEL_VTI:
		t4 = netdev_priv(dev);
		fl->flowi_mark = be32_to_cpu(t4->parms.o_key);
		return t4->net;
	case IPSECMSS_TUNNEL_VTI6:
		t6 = netdev_priv(dev);
		fl->flowi_mark = be32_to_cpu(t6->parms.o_key);
		return t6->net;
	default:
		return NULL;
	}
}

/*
 * Why an xfrm lookup failed.  -EAGAIN (net.core.xfrm_larval_drop=0) and
 * -EREMOTE (=1) both mean the policy wants an SA that is still being
 * negotiated: nobody can tell its size yet, so the SYN is held (dropped,
 * to be retransmitted once the SA is there).  Anything else (a "block"
 * policy, an unresolvable template) is an SA that will not be usable.
 */
static enum ipsecmss_stat ipsecmss_lookup_failed(long err)
{
	if (err == -EAGAIN || err == -EREMOTE)
		return IPSECMSS_STAT_HELD;
	return IPSECMSS_STAT_NO_SA;
}

/*
 * The largest inner packet the tunnel device of @route sends whole: the
 * smaller of the route's MTU (what the forwarding checks) and that of the
 * bundle the device's own lookup finds (what the device checks).  @fl is
 * the packet's flow; the device's lookup settings are put into it.  The
 * bundle goes to *@leg (the way back, which the caller caches whole) or,
 * with @leg NULL, to the cache keyed by the device's lookup itself (its
 * netns, if_id and flow), whose entry any later SYN making the same
 * lookup uses instead: the forward leg, and a way back the caller could
 * not cache.
 */
static unsigned int ipsecmss_tunnel_mtu(struct dst_entry *route,
					enum ipsecmss_tunnel kind,
					struct flowi *fl, bool ipv6,
					enum ipsecmss_stat *why,
					struct dst_entry **leg)
{
	struct ipsecmss_cache_key key;
	struct dst_entry *bundle;
	unsigned int mtu, flushes = 0;
	bool cached = false;
	struct net *net;
	u32 if_id;

	net = ipsecmss_tunnel_flow(route->dev, kind, fl, &if_id);
	if (!net) {
		*why = IPSECMSS_STAT_UNKNOWN_XFRM;
		return 0;
	}
	if (!leg && net_eq(net, dev_net(route->dev)) &&
	    ipsecmss_cache_usable(net, ipv6)) {
		ipsecmss_cache_key_flow(&key, net, IPSECMSS_LEG_DEVICE, fl,
					if_id, ipv6);
		mtu = ipsecmss_cache_mtu(&key);
		if (mtu)
			return min(dst_mtu(route), mtu);
		cached = true;
		flushes = ipsecmss_cache_flushes();
	}
	if (!dst_hold_safe(route)) {
		*why = IPSECMSS_STAT_NO_ROUTE;
		return 0;
	}
	/* Consumes the reference just taken, as in the device's transmit. */
	bundle = xfrm_lookup_with_ifid(net, route, fl, NULL, 0, if_id);
	if (IS_ERR(bundle)) {
		*why = ipsecmss_lookup_failed(PTR_ERR(bundle));
		return 0;
	}
	/* Without an SA the device drops the packet. */
	if (!bundle->xfrm) {
		*why = IPSECMSS_STAT_NO_SA;
		dst_release(bundle);
		return 0;
	}
	mtu = min(dst_mtu(route), dst_mtu(bundle));
	if (leg)
		*leg = bundle;
	else if (cached)
		ipsecmss_cache_store(&key, bundle, flushes);
	else
		dst_release(bundle);
	return mtu;
}

/*
 * The ends of the TCP flow of @skb, turned around when @reverse (the
 * peer's segments coming back), as xfrm_decode_session() would fill them.
 */
static void ipsecmss_flow_ends(struct flowi *fl, const struct sk_buff *skb,
			       const struct tcphdr *th, bool ipv6,
			       bool reverse)
{
	__be16 src = reverse ? th->dest : th->source;
	__be16 dst = reverse ? th->source : th->dest;

	if (ipv6) {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		fl->u.ip6.saddr = reverse ? ip6h->daddr : ip6h->saddr;
		fl->u.ip6.daddr = reverse ? ip6h->saddr : ip6h->daddr;
		fl->u.ip6.flowi6_proto = IPPROTO_TCP;
		fl->u.ip6.fl6_sport = src;
		fl->u.ip6.fl6_dport = dst;
	} else {
		const struct iphdr *iph = ip_hdr(skb);

		fl->u.ip4.saddr = reverse ? iph->daddr : iph->saddr;
		fl->u.ip4.daddr = reverse ? iph->saddr : iph->daddr;
		fl->u.ip4.flowi4_proto = IPPROTO_TCP;
		fl->u.ip4.fl4_sport = src;
		fl->u.ip4.fl4_dport = dst;
	}
}

/*
 * The largest inner packet the kernel sends whole on the route @dst,
 * taken from the kernel's own sizing, never re-derived from the crypto:
 * - an xfrm bundle's dst_mtu() (xfrm_mtu()), the RTAX_MTU metric that
 *   xfrm_init_pmtu() / xfrm_bundle_ok() keep as the smaller of each SA's
 *   xfrm_state_mtu() over the route beneath it and the inner route's MTU
 *   (an "mtu lock" route, a route exception).  ESP, AH, IPComp, BEET,
 *   NAT-T and espintcp are all sized by their own code.  The metric is
 *   current: the bundle comes from an xfrm lookup made for this packet
 *   (forwarding, the reverse flow's lookup below, a held packet's
 *   release) or from a socket's dst_check(), and each of those runs
 *   xfrm_bundle_ok(), which recomputes it when the outer path's MTU has
 *   changed and discards the bundle when its outer route went stale (a
 *   new PMTU exception);
 * - xfrm's queue placeholder (net.core.xfrm_larval_drop=0): the packet
 *   is held for an SA still negotiated, whose size nobody knows yet;
 * - a route through a route-based tunnel device: the device's lookup;
 * - any other route: its MTU.
 * @fl is the packet's flow, or NULL to take it from @skb (the forward
 * leg, whose flow is only needed for a tunnel device).  With @leg (the
 * way back), a reference to what the MTU was read from, @dst itself or a
 * tunnel device's bundle, is put in *@leg for the cache.
 */
static unsigned int ipsecmss_route_mtu(struct dst_entry *dst,
				       struct flowi *fl,
				       const struct sk_buff *skb,
				       const struct tcphdr *th, bool ipv6,
				       enum ipsecmss_stat *why,
				       struct dst_entry **leg)
{
	enum ipsecmss_tunnel kind;
	struct flowi own;

	if (dst->flags & DST_XFRM_QUEUE) {
		*why = IPSECMSS_STAT_HELD;
		return 0;
	}
	kind = IPSECMSS_TUNNEL_NONE;
	if (!dst->xfrm && dst->dev)
		kind = ipsecmss_tunnel_kind(dst->dev);
	if (kind == IPSECMSS_TUNNEL_NONE) {
		if (leg) {
			dst_hold(dst);
			*leg = dst;
		}
		return dst_mtu(dst);
	}
	if (!fl) {
		/* What xfrm_decode_session() gives the device. */
		fl = &own;
		memset(fl, 0, sizeof(*fl));
		ipsecmss_flow_ends(fl, skb, th, ipv6, false);
		fl->flowi_mark = skb->mark;
		fl->flowi_oif = dst->dev->ifindex;
	}
	return ipsecmss_tunnel_mtu(dst, kind, fl, ipv6, why, leg);
}

/* The addresses of @fl fall outside @sel (so the policy cannot match). */
static bool ipsecmss_flow_outside(const struct xfrm_selector *sel,
				  const struct flowi *fl, bool ipv6)
{
	if (ipv6)
		return !addr_match(&fl->u.ip6.daddr, &sel->daddr,
				   sel->prefixlen_d) ||
		       !addr_match(&fl->u.ip6.saddr, &sel->saddr,
				   sel->prefixlen_s);
	return !addr4_match(fl->u.ip4.daddr, sel->daddr.a4, sel->prefixlen_d) ||
	       !addr4_match(fl->u.ip4.saddr, sel->saddr.a4, sel->prefixlen_s);
}

/*
 * Whether the outbound policy lookup of the reverse flow @fl certainly
 * finds nothing, so that it can be skipped: the netns has a single
 * outbound policy, the one the forward bundle @fwd was built from, and
 * the reverse flow lies outside it.  That is a site-to-site gateway's
 * SYN entering the tunnel, whose reverse leg leaves the tunnel here; the
 * lookup would cost it about 870 instructions to find nothing.  Anything
 * else (more policies, outbound default "block", a dead policy, a
 * selector the reverse addresses fall in) takes the full lookup.  Like
 * xfrm_lookup() itself, a SYN racing a policy change may see either side.
 */
static bool ipsecmss_reverse_has_no_policy(struct net *net,
					   const struct dst_entry *fwd,
					   const struct flowi *fl, bool ipv6)
{
	const struct xfrm_dst *xdst = (const struct xfrm_dst *)fwd;
	const struct xfrm_policy *pol;
	unsigned short family = ipv6 ? AF_INET6 : AF_INET;

	if (!fwd->xfrm || xdst->num_pols != 1 ||
	    READ_ONCE(net->xfrm.policy_count[XFRM_POLICY_OUT]) != 1 ||
	    READ_ONCE(net->xfrm.policy_default[XFRM_POLICY_OUT]) ==
	    XFRM_USERPOLICY_BLOCK)
		return false;
	pol = xdst->pols[0];
	if (!pol || READ_ONCE(pol->walk.dead) ||
	    xfrm_policy_id2dir(pol->index) != XFRM_POLICY_OUT)
		return false;
	/* The policy lookup's own tests: family first, then the selector. */
	if (pol->family != family ||
	    (pol->selector.family != family &&
	     pol->selector.family != AF_UNSPEC))
		return true;
	return ipsecmss_flow_outside(&pol->selector, fl, ipv6);
}

/*
 * The cache key of the way back: what its lookups start from (the
 * reverse flow's addresses, the packet's mark, the VRF of the device it
 * leaves on), the ports left out.
 */
static void ipsecmss_reverse_key(struct ipsecmss_cache_key *key,
				 const struct net *net,
				 const struct sk_buff *skb,
				 const struct net_device *in, bool ipv6)
{
	memset(key, 0, sizeof(*key));
	key->net = net;
	key->leg = IPSECMSS_LEG_REVERSE;
	key->mark = skb->mark;
	if (in)
		key->oif = l3mdev_master_ifindex_rcu(in);
	if (ipv6) {
		key->family = AF_INET6;
		key->saddr.in6 = ipv6_hdr(skb)->daddr;
		key->daddr.in6 = ipv6_hdr(skb)->saddr;
	} else {
		key->family = AF_INET;
		key->saddr.a4 = ip_hdr(skb)->daddr;
		key->daddr.a4 = ip_hdr(skb)->saddr;
	}
}

/*
 * The leg the peer's segments take back, found as the kernel will find
 * it when it forwards them: the route toward the SYN's source, then the
 * xfrm lookup of the reverse flow (ports, protocol, mark, oif as
 * xfrm_decode_session() sets them for a forwarded packet), then, for a
 * route into a tunnel device, the device's own lookup.  What that ends
 * with (a route, a bundle) is cached; a later SYN between the same hosts
 * takes it from there while dst_check() still passes it.
 */
static unsigned int ipsecmss_reverse_inner_mtu(const struct sk_buff *skb,
					       const struct xt_action_param *par,
					       const struct tcphdr *th,
					       bool ipv6,
					       enum ipsecmss_stat *why)
{
	const struct dst_entry *fwd = skb_dst(skb);
	struct net *net = xt_net(par);
	struct dst_entry *dst, *leg = NULL;
	struct ipsecmss_cache_key key;
	unsigned int mtu, flushes = 0;
	struct flowi fl;
	bool cached;

	cached = ipsecmss_cache_usable(net, ipv6);
	if (cached) {
		ipsecmss_reverse_key(&key, net, skb, xt_out(par), ipv6);
		mtu = ipsecmss_cache_mtu(&key);
		if (mtu)
			return mtu;
		flushes = ipsecmss_cache_flushes();
	}
	dst = ipsecmss_reverse_route(net, skb, xt_out(par), &fl, ipv6);
	if (!dst) {
		*why = IPSECMSS_STAT_NO_ROUTE;
		return 0;
	}
	ipsecmss_flow_ends(&fl, skb, th, ipv6, true);
	if (dst->dev)
		fl.flowi_oif = dst->dev->ifindex;
	if (!ipsecmss_reverse_has_no_policy(net, fwd, &fl, ipv6)) {
		/* On error xfrm_lookup() has released the plain route. */
		dst = xfrm_lookup(net, dst, &fl, NULL, 0);
		if (IS_ERR(dst)) {
			*why = ipsecmss_lookup_failed(PTR_ERR(dst));
			return 0;
		}
	}
	mtu = ipsecmss_route_mtu(dst, &fl, skb, th, ipv6, why,
				 cached ? &leg : NULL);
	dst_release(dst);
	if (leg)
		ipsecmss_cache_store(&key, leg, flushes);
	return mtu;
}

/*
 * auto: the largest MSS whose segments the kernel sends whole on both
 * legs of the connection, the SYN's own route and the way back.
 */
static unsigned int ipsecmss_auto_clamp(const struct sk_buff *skb,
					const struct xt_action_param *par,
					bool ipv6, enum ipsecmss_stat *why)
{
	struct dst_entry *dst = skb_dst(skb);
	unsigned int fwd, rev, thoff = par->thoff;
	struct tcphdr th_buf;
	const struct tcphdr *th;

	th = skb_header_pointer(skb, thoff, sizeof(th_buf), &th_buf);
	if (!th || !dst)
		return 0;
	fwd = ipsecmss_route_mtu(dst, NULL, skb, th, ipv6, why, NULL);
	if (!fwd)
		return 0;
	rev = ipsecmss_reverse_inner_mtu(skb, par, th, ipv6, why);
	if (!rev)
		return 0;
	return ipsecmss_mss_for_mtu(min(fwd, rev), 0, ipv6);
}

/*
 * The largest MSS a path MTU rule allows for this packet; 0 leaves it
 * alone, with the reason in *@why.
 */
static unsigned int ipsecmss_clamp_value(const struct sk_buff *skb,
					 const struct xt_action_param *par,
					 bool ipv6, enum ipsecmss_stat *why)
{
	const struct xt_ipsecmss_tginfo *info = par->targinfo;
	unsigned int fwd, rev;

	*why = IPSECMSS_STAT_NO_ROUTE;
	/* checkentry cannot see the hooks that reach an nftables user
	 * chain, so a path MTU rule may still run where there is no output
	 * route to speak of: leave such packets alone.
	 */
	if (!(BIT(xt_hooknum(par)) & IPSECMSS_PMTU_HOOKS))
		return 0;

	switch (info->mode) {
	case XT_IPSECMSS_MODE_PMTU_OVERHEAD:
		fwd = ipsecmss_forward_mtu(skb);
		if (!fwd)
			return 0;
		rev = ipsecmss_reverse_mtu(skb, par, ipv6);
		if (!rev)
			return 0;
		return ipsecmss_mss_for_mtu(min(fwd, rev), info->overhead, ipv6);
	case XT_IPSECMSS_MODE_PMTU_AUTO:
		return ipsecmss_auto_clamp(skb, par, ipv6, why);
	default:
		return 0;
	}
}

/*
 * Make room for @need bytes of TCP segment where it now has @seglen: only
 * a whole, linear, unfragmented packet may grow.  This is the rare path of
 * a SYN without an MSS option; it may reallocate the head like TCPMSS.
 * Returns 0, -ENOSPC when the packet may not grow, -ENOMEM.
 */
static int ipsecmss_make_room(struct sk_buff *skb, unsigned int thoff,
			      unsigned int seglen, unsigned int need,
			      bool ipv6)
{
	unsigned int grow = need - seglen;

	if (skb_is_gso(skb) || skb_is_nonlinear(skb))
		return -ENOSPC;
	if (ipv6) {
		unsigned int off = 0;

		/* A first fragment: its length is not the segment's. */
		if (ipv6_find_hdr(skb, &off, NEXTHDR_FRAGMENT, NULL, NULL) >= 0)
			return -ENOSPC;
		if (sizeof(struct ipv6hdr) + ntohs(ipv6_hdr(skb)->payload_len) !=
		    skb->len)
			return -ENOSPC;
	} else {
		if (ip_is_fragment(ip_hdr(skb)) ||
		    ntohs(ip_hdr(skb)->tot_len) != skb->len)
			return -ENOSPC;
	}
	if (skb_tailroom(skb) >= grow)
		return 0;
	return pskb_expand_head(skb, 0, grow, GFP_ATOMIC);
}

static void ipsecmss_fix_ip_len(struct sk_buff *skb, unsigned int grow,
				bool ipv6)
{
	if (ipv6) {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);
		__be16 oldlen = ip6h->payload_len;
		__be16 newlen = htons(ntohs(oldlen) + grow);

		/* A CHECKSUM_COMPLETE sum covers the IPv6 header, which has
		 * no checksum of its own to absorb the change (IPv4's does).
		 */
		if (skb->ip_summed == CHECKSUM_COMPLETE)
			skb->csum = csum_add(csum_sub(skb->csum,
						      (__force __wsum)oldlen),
					     (__force __wsum)newlen);
		ip6h->payload_len = newlen;
	} else {
		struct iphdr *iph = ip_hdr(skb);
		__be16 newlen = htons(ntohs(iph->tot_len) + grow);

		csum_replace2(&iph->check, iph->tot_len, newlen);
		iph->tot_len = newlen;
	}
}

static void ipsecmss_fix_csum(struct sk_buff *skb, struct tcphdr *th,
			      unsigned int seglen,
			      const struct ipsecmss_edit *edit)
{
	/* Adding the core's folded difference as a word replacing zero keeps
	 * to an API that is the same on every supported kernel.  The TCP
	 * check moves opposite to the bytes, so a CHECKSUM_COMPLETE sum
	 * stays right; only the pseudo-header's length is outside it.
	 */
	inet_proto_csum_replace2(&th->check, skb, 0, htons(edit->csum_diff),
				 false);
	if (edit->grow)
		inet_proto_csum_replace2(&th->check, skb, htons(seglen),
					 htons(seglen + edit->grow), true);
}

/* The counter of each outcome of the core, where it has one. */
static const enum ipsecmss_stat ipsecmss_outcome_stat[IPSECMSS_OUTCOME_MAX] = {
	[IPSECMSS_LOWERED]	= IPSECMSS_STAT_LOWERED,
	[IPSECMSS_ALREADY_LOW]	= IPSECMSS_STAT_ALREADY_LOW,
	[IPSECMSS_INSERTED]	= IPSECMSS_STAT_INSERTED,
	[IPSECMSS_NO_ROOM]	= IPSECMSS_STAT_NO_ROOM,
	[IPSECMSS_MALFORMED]	= IPSECMSS_STAT_MALFORMED,
	/* The caller only clamps SYNs: a segment that is none is not one
	 * to count either.
	 */
	[IPSECMSS_NOT_SYN]	= __IPSECMSS_STAT_MAX,
};

/*
 * Clamp the SYN's header in place.  Returns the counter for what was done,
 * or __IPSECMSS_STAT_MAX when the segment proved to be no SYN.
 */
static enum ipsecmss_stat ipsecmss_mangle(struct sk_buff *skb,
					  unsigned int thoff,
					  unsigned int clamp, bool ipv6)
{
	unsigned int seglen = skb->len - thoff, hdrlen, insert;
	enum ipsecmss_outcome outcome;
	struct ipsecmss_edit edit;
	struct tcphdr *th;
	int err;

	/* Only the header is made writable; the core learns of a payload
	 * from the segment being longer than the longest header.
	 */
	hdrlen = min_t(unsigned int, seglen, IPSECMSS_TCP_HDR_MAX);
	if (skb_ensure_writable(skb, thoff + hdrlen))
		return IPSECMSS_STAT_NO_MEMORY;

	insert = ipv6 ? IPSECMSS_DEFAULT_MSS_V6 : IPSECMSS_DEFAULT_MSS_V4;
	th = (struct tcphdr *)(skb_network_header(skb) + thoff);
	outcome = ipsecmss_clamp((u8 *)th, hdrlen, hdrlen, clamp, insert, &edit);
	if (outcome == IPSECMSS_NO_ROOM && edit.room_needed) {
		err = ipsecmss_make_room(skb, thoff, seglen, edit.room_needed,
					 ipv6);
		if (err == -ENOMEM)
			return IPSECMSS_STAT_NO_MEMORY;
		if (!err) {
			th = (struct tcphdr *)(skb_network_header(skb) + thoff);
			outcome = ipsecmss_clamp((u8 *)th, hdrlen,
						 edit.room_needed, clamp,
						 insert, &edit);
		}
	}

	if (outcome == IPSECMSS_INSERTED) {
		__skb_put(skb, edit.grow);
		ipsecmss_fix_ip_len(skb, edit.grow, ipv6);
	}
	if (outcome == IPSECMSS_LOWERED || outcome == IPSECMSS_INSERTED)
		ipsecmss_fix_csum(skb, th, seglen, &edit);
	return ipsecmss_outcome_stat[outcome];
}

/*
 * Clamp one SYN or SYN/ACK and count what became of it.  A SYN held for
 * an SA still being negotiated is dropped (see ipsecmss_lookup_failed()):
 * its retransmission meets the SA and is clamped to it, which is what
 * net.core.xfrm_larval_drop=1 does to the first SYN anyway.
 */
static noinline unsigned int ipsecmss_syn(struct sk_buff *skb,
					  const struct xt_action_param *par,
					  bool ipv6)
{
	const struct xt_ipsecmss_tginfo *info = par->targinfo;
	enum ipsecmss_stat stat = IPSECMSS_STAT_NO_ROUTE;
	unsigned int clamp;

	if (likely(info->mode == XT_IPSECMSS_MODE_SET_MSS))
		clamp = info->mss;
	else
		clamp = ipsecmss_clamp_value(skb, par, ipv6, &stat);
	if (clamp)
		stat = ipsecmss_mangle(skb, par->thoff, clamp, ipv6);
	if (stat != __IPSECMSS_STAT_MAX)
		ipsecmss_stat_syn(xt_net(par), ipv6, stat);
	return stat == IPSECMSS_STAT_HELD ? NF_DROP : XT_CONTINUE;
}

/* The flags byte when the linear part does not hold it: rare. */
static noinline bool ipsecmss_flags_nonlinear(const struct sk_buff *skb,
					      unsigned int off)
{
	u8 flags;

	return !skb_copy_bits(skb, off, &flags, sizeof(flags)) &&
	       ipsecmss_is_syn(flags);
}

/*
 * Whether the segment at @thoff is a SYN or SYN/ACK.  A rule without a SYN
 * match sends every TCP segment of the gateway here, so the answer for the
 * others is a few loads, without a stack frame.
 */
static bool ipsecmss_skb_is_syn(const struct sk_buff *skb, unsigned int thoff)
{
	unsigned int off = thoff + IPSECMSS_TCP_FLAGS_OFF;

	if (skb->len < thoff + sizeof(struct tcphdr))
		return false;
	if (likely(off < skb_headlen(skb)))
		return ipsecmss_is_syn(skb->data[off]);
	return ipsecmss_flags_nonlinear(skb, off);
}

static unsigned int ipsecmss_tg(struct sk_buff *skb,
				const struct xt_action_param *par, bool ipv6)
{
	/* A non-first fragment has no TCP header to look at. */
	if (!par->fragoff && ipsecmss_skb_is_syn(skb, par->thoff))
		return ipsecmss_syn(skb, par, ipv6);
	return XT_CONTINUE;
}

static unsigned int ipsecmss_tg4(struct sk_buff *skb,
				 const struct xt_action_param *par)
{
	return ipsecmss_tg(skb, par, false);
}

#if IS_ENABLED(CONFIG_IP6_NF_IPTABLES)
static unsigned int ipsecmss_tg6(struct sk_buff *skb,
				 const struct xt_action_param *par)
{
	return ipsecmss_tg(skb, par, true);
}
#endif

static int ipsecmss_check_pmtu_hooks(const struct xt_tgchk_param *par)
{
	if (par->hook_mask & ~IPSECMSS_PMTU_HOOKS) {
		pr_info_ratelimited("--clamp-to-pmtu-minus-overhead is only valid in FORWARD, OUTPUT and POSTROUTING\n");
		return -EINVAL;
	}
	return 0;
}

/* Whether the rule's fields are a valid rule; the message names the fault. */
static int ipsecmss_check_info(const struct xt_tgchk_param *par)
{
	const struct xt_ipsecmss_tginfo *info = par->targinfo;

	if (info->flags || info->reserved) {
		pr_info_ratelimited("unknown flags or reserved fields set\n");
		return -EINVAL;
	}
	switch (info->mode) {
	case XT_IPSECMSS_MODE_SET_MSS:
		if (info->overhead) {
			pr_info_ratelimited("--set-mss takes no overhead (got %u)\n",
					    info->overhead);
			return -EINVAL;
		}
		if (info->mss < XT_IPSECMSS_MSS_MIN) {
			pr_info_ratelimited("--set-mss %u is out of range %u-%u\n",
					    info->mss, XT_IPSECMSS_MSS_MIN,
					    XT_IPSECMSS_MSS_MAX);
			return -EINVAL;
		}
		return 0;
	case XT_IPSECMSS_MODE_PMTU_OVERHEAD:
		if (info->mss) {
			pr_info_ratelimited("--clamp-to-pmtu-minus-overhead takes no MSS (got %u)\n",
					    info->mss);
			return -EINVAL;
		}
		if (info->overhead > XT_IPSECMSS_OVERHEAD_MAX) {
			pr_info_ratelimited("--clamp-to-pmtu-minus-overhead %u is out of range 0-%u\n",
					    info->overhead,
					    XT_IPSECMSS_OVERHEAD_MAX);
			return -EINVAL;
		}
		return ipsecmss_check_pmtu_hooks(par);
	case XT_IPSECMSS_MODE_PMTU_AUTO:
		if (info->mss || info->overhead) {
			pr_info_ratelimited("--clamp-to-pmtu-minus-overhead auto takes no number (got MSS %u, overhead %u)\n",
					    info->mss, info->overhead);
			return -EINVAL;
		}
		return ipsecmss_check_pmtu_hooks(par);
	default:
		pr_info_ratelimited("unknown mode %u\n", info->mode);
		return -EINVAL;
	}
}

static int ipsecmss_tg_check(const struct xt_tgchk_param *par)
{
	int ret = ipsecmss_check_info(par);

	if (!ret)
		ipsecmss_rules_add(par->net, 1);
	return ret;
}

static void ipsecmss_tg_destroy(const struct xt_tgdtor_param *par)
{
	ipsecmss_rules_add(par->net, -1);
}

static struct xt_target ipsecmss_tg_reg[] __read_mostly = {
	{
		.family		= NFPROTO_IPV4,
		.name		= "IPSECMSS",
		.revision	= 0,
		.checkentry	= ipsecmss_tg_check,
		.destroy	= ipsecmss_tg_destroy,
		.target		= ipsecmss_tg4,
		.targetsize	= sizeof(struct xt_ipsecmss_tginfo),
		.proto		= IPPROTO_TCP,
		.me		= THIS_MODULE,
	},
#if IS_ENABLED(CONFIG_IP6_NF_IPTABLES)
	{
		.family		= NFPROTO_IPV6,
		.name		= "IPSECMSS",
		.revision	= 0,
		.checkentry	= ipsecmss_tg_check,
		.destroy	= ipsecmss_tg_destroy,
		.target		= ipsecmss_tg6,
		.targetsize	= sizeof(struct xt_ipsecmss_tginfo),
		.proto		= IPPROTO_TCP,
		.me		= THIS_MODULE,
	},
#endif
};

#ifdef IPSECMSS_SELFTEST
#include "selftest/csum.c"
#else
static inline bool ipsecmss_selftest(void)
{
	return true;
}
#endif

static int __init ipsecmss_tg_init(void)
{
	int ret;

	if (!ipsecmss_selftest())
		return -ENOTRECOVERABLE;
	ret = ipsecmss_stats_init();
	if (ret)
		return ret;
	ret = ipsecmss_cache_init();
	if (ret)
		goto stats;
	ret = xt_register_targets(ipsecmss_tg_reg, ARRAY_SIZE(ipsecmss_tg_reg));
	if (ret)
		goto cache;
	return 0;
cache:
	ipsecmss_cache_exit();
stats:
	ipsecmss_stats_exit();
	return ret;
}

static void __exit ipsecmss_tg_exit(void)
{
	xt_unregister_targets(ipsecmss_tg_reg, ARRAY_SIZE(ipsecmss_tg_reg));
	ipsecmss_cache_exit();
	ipsecmss_stats_exit();
}

module_init(ipsecmss_tg_init);
module_exit(ipsecmss_tg_exit);
