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
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <net/checksum.h>
#include <net/dst.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "xt_IPSECMSS.h"
#include "ipsecmss_core.h"
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
 * The MTU toward the packet's source, which the peer's segments will
 * take back.  A plain route lookup: no protocol in the flow, so no xfrm
 * policy lookup, which is right for the outer route of a tunnel.
 */
static unsigned int ipsecmss_reverse_mtu(struct net *net,
					 const struct sk_buff *skb, bool ipv6)
{
	struct dst_entry *dst = NULL;
	unsigned int mtu = 0;
	struct flowi fl;

	memset(&fl, 0, sizeof(fl));
	if (ipv6)
		fl.u.ip6.daddr = ipv6_hdr(skb)->saddr;
	else
		fl.u.ip4.daddr = ip_hdr(skb)->saddr;

	if (nf_route(net, &dst, &fl, false, ipv6 ? NFPROTO_IPV6 :
			NFPROTO_IPV4) == 0 && dst) {
		mtu = dst_mtu(dst);
		dst_release(dst);
	}
	return mtu;
}

/* The largest MSS the rule allows for this packet; 0 leaves it alone. */
static unsigned int ipsecmss_clamp_value(const struct sk_buff *skb,
					 const struct xt_action_param *par,
					 bool ipv6)
{
	const struct xt_ipsecmss_tginfo *info = par->targinfo;
	unsigned int fwd, rev;

	switch (info->mode) {
	case XT_IPSECMSS_MODE_SET_MSS:
		return info->mss;
	case XT_IPSECMSS_MODE_PMTU_OVERHEAD:
		fwd = ipsecmss_forward_mtu(skb);
		if (!fwd)
			return 0;
		rev = ipsecmss_reverse_mtu(xt_net(par), skb, ipv6);
		if (!rev)
			return 0;
		return ipsecmss_mss_for_mtu(min(fwd, rev), info->overhead, ipv6);
	default:
		return 0;
	}
}

/*
 * Make room for @need bytes of TCP segment where it now has @seglen: only
 * a whole, linear, unfragmented packet may grow.  This is the rare path of
 * a SYN without an MSS option; it may reallocate the head like TCPMSS.
 */
static bool ipsecmss_make_room(struct sk_buff *skb, unsigned int thoff,
			       unsigned int seglen, unsigned int need,
			       bool ipv6)
{
	unsigned int grow = need - seglen;

	if (skb_is_gso(skb) || skb_is_nonlinear(skb))
		return false;
	if (ipv6) {
		unsigned int off = 0;

		/* A first fragment: its length is not the segment's. */
		if (ipv6_find_hdr(skb, &off, NEXTHDR_FRAGMENT, NULL, NULL) >= 0)
			return false;
		if (sizeof(struct ipv6hdr) + ntohs(ipv6_hdr(skb)->payload_len) !=
		    skb->len)
			return false;
	} else {
		if (ip_is_fragment(ip_hdr(skb)) ||
		    ntohs(ip_hdr(skb)->tot_len) != skb->len)
			return false;
	}
	if (skb_tailroom(skb) >= grow)
		return true;
	return pskb_expand_head(skb, 0, grow, GFP_ATOMIC) == 0;
}

static void ipsecmss_fix_ip_len(struct sk_buff *skb, unsigned int grow,
				bool ipv6)
{
	if (ipv6) {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		be16_add_cpu(&ip6h->payload_len, grow);
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
	 * to an API that is the same on every supported kernel.
	 */
	inet_proto_csum_replace2(&th->check, skb, 0, htons(edit->csum_diff),
				 false);
	if (edit->grow)
		inet_proto_csum_replace2(&th->check, skb, htons(seglen),
					 htons(seglen + edit->grow), true);
}

static unsigned int ipsecmss_tg(struct sk_buff *skb,
				const struct xt_action_param *par, bool ipv6)
{
	unsigned int thoff = par->thoff, seglen, hdrlen, clamp, insert;
	enum ipsecmss_outcome outcome;
	struct ipsecmss_edit edit;
	u8 flags_buf;
	const u8 *flags;
	struct tcphdr *th;

	/* A non-first fragment has no TCP header to look at. */
	if (par->fragoff || skb->len < thoff + sizeof(struct tcphdr))
		return XT_CONTINUE;
	flags = skb_header_pointer(skb, thoff + IPSECMSS_TCP_FLAGS_OFF,
				   sizeof(flags_buf), &flags_buf);
	if (!flags || !ipsecmss_is_syn(*flags))
		return XT_CONTINUE;

	clamp = ipsecmss_clamp_value(skb, par, ipv6);
	if (!clamp)
		return XT_CONTINUE;

	/* Only the header is rewritten; the core learns of a payload from
	 * the segment being longer than the longest header.
	 */
	seglen = skb->len - thoff;
	hdrlen = min_t(unsigned int, seglen, IPSECMSS_TCP_HDR_MAX);
	if (skb_ensure_writable(skb, thoff + hdrlen))
		return XT_CONTINUE;

	insert = ipv6 ? IPSECMSS_DEFAULT_MSS_V6 : IPSECMSS_DEFAULT_MSS_V4;
	th = (struct tcphdr *)(skb_network_header(skb) + thoff);
	outcome = ipsecmss_clamp((u8 *)th, hdrlen, hdrlen, clamp, insert, &edit);
	if (outcome == IPSECMSS_NO_ROOM && edit.room_needed &&
	    ipsecmss_make_room(skb, thoff, seglen, edit.room_needed, ipv6)) {
		th = (struct tcphdr *)(skb_network_header(skb) + thoff);
		outcome = ipsecmss_clamp((u8 *)th, hdrlen, edit.room_needed,
					 clamp, insert, &edit);
	}

	if (outcome == IPSECMSS_INSERTED) {
		__skb_put(skb, edit.grow);
		ipsecmss_fix_ip_len(skb, edit.grow, ipv6);
	}
	if (outcome == IPSECMSS_LOWERED || outcome == IPSECMSS_INSERTED)
		ipsecmss_fix_csum(skb, th, seglen, &edit);
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

static int ipsecmss_tg_check(const struct xt_tgchk_param *par)
{
	const struct xt_ipsecmss_tginfo *info = par->targinfo;

	if (info->flags || info->reserved) {
		pr_info_ratelimited("unknown flags or reserved fields set\n");
		return -EINVAL;
	}
	switch (info->mode) {
	case XT_IPSECMSS_MODE_SET_MSS:
		if (info->mss < XT_IPSECMSS_MSS_MIN || info->overhead) {
			pr_info_ratelimited("--set-mss %u is out of range 1-65535\n",
					    info->mss);
			return -EINVAL;
		}
		return 0;
	case XT_IPSECMSS_MODE_PMTU_OVERHEAD:
		if (info->mss || info->overhead > XT_IPSECMSS_OVERHEAD_MAX) {
			pr_info_ratelimited("--clamp-to-pmtu-minus-overhead %u is out of range 0-%u\n",
					    info->overhead,
					    XT_IPSECMSS_OVERHEAD_MAX);
			return -EINVAL;
		}
		return ipsecmss_check_pmtu_hooks(par);
	case XT_IPSECMSS_MODE_PMTU_AUTO:
		pr_info_ratelimited("--clamp-to-pmtu-minus-overhead auto is not supported by this module\n");
		return -EOPNOTSUPP;
	default:
		pr_info_ratelimited("unknown mode %u\n", info->mode);
		return -EINVAL;
	}
}

static struct xt_target ipsecmss_tg_reg[] __read_mostly = {
	{
		.family		= NFPROTO_IPV4,
		.name		= "IPSECMSS",
		.revision	= 0,
		.checkentry	= ipsecmss_tg_check,
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
		.target		= ipsecmss_tg6,
		.targetsize	= sizeof(struct xt_ipsecmss_tginfo),
		.proto		= IPPROTO_TCP,
		.me		= THIS_MODULE,
	},
#endif
};

static int __init ipsecmss_tg_init(void)
{
	return xt_register_targets(ipsecmss_tg_reg,
				   ARRAY_SIZE(ipsecmss_tg_reg));
}

static void __exit ipsecmss_tg_exit(void)
{
	xt_unregister_targets(ipsecmss_tg_reg, ARRAY_SIZE(ipsecmss_tg_reg));
}

module_init(ipsecmss_tg_init);
module_exit(ipsecmss_tg_exit);
