// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel self-test of the checksum fixes of ipsecmss_mangle(), built
 * only with IPSECMSS_SELFTEST=y (the VM test builds) and run at module
 * load, as WireGuard's debug builds do: a failure refuses the load.
 *
 * It exists for CHECKSUM_COMPLETE, which no emulated NIC of the test VM
 * produces: for such an skb, skb->csum is the sum of the packet from the
 * network header on, and a receive path trusts it instead of summing the
 * packet again.  Each case builds a SYN whose skb->csum is that sum,
 * clamps it, and checks that skb->csum still equals the sum of the
 * packet as it now is, and that the TCP checksum is valid.
 */

#define IPSECMSS_ST_CLAMP 1000

struct ipsecmss_st_case {
	bool ipv6;
	bool has_mss;		/* else the target inserts one */
	enum ipsecmss_stat want;
};

static const struct ipsecmss_st_case ipsecmss_st_cases[] __initconst = {
	{ false, true,  IPSECMSS_STAT_LOWERED },
	{ false, false, IPSECMSS_STAT_INSERTED },
	{ true,  true,  IPSECMSS_STAT_LOWERED },
	{ true,  false, IPSECMSS_STAT_INSERTED },
};

/* SACK permitted and two NOPs, after an MSS of 1460 when there is one. */
static const u8 ipsecmss_st_mss_opts[] __initconst = {
	2, 4, 0x05, 0xb4, 1, 1, 4, 2,
};

static unsigned int __init ipsecmss_st_ipv6_hdr(struct sk_buff *skb,
						unsigned int seglen)
{
	struct ipv6hdr *ip6h = skb_put_zero(skb, sizeof(*ip6h));

	ip6h->version = 6;
	ip6h->payload_len = htons(seglen);
	ip6h->nexthdr = IPPROTO_TCP;
	ip6h->hop_limit = 64;
	ip6h->saddr.s6_addr[0] = 0x20;
	ip6h->saddr.s6_addr[15] = 1;
	ip6h->daddr.s6_addr[0] = 0x20;
	ip6h->daddr.s6_addr[15] = 2;
	skb->protocol = htons(ETH_P_IPV6);
	return sizeof(*ip6h);
}

static unsigned int __init ipsecmss_st_ipv4_hdr(struct sk_buff *skb,
						unsigned int seglen)
{
	struct iphdr *iph = skb_put_zero(skb, sizeof(*iph));

	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(sizeof(*iph) + seglen);
	iph->ttl = 64;
	iph->protocol = IPPROTO_TCP;
	iph->saddr = htonl(0xc0000201);
	iph->daddr = htonl(0xc0000202);
	ip_send_check(iph);
	skb->protocol = htons(ETH_P_IP);
	return sizeof(*iph);
}

/* The TCP checksum of the segment at @th, 0 when it is valid. */
static __sum16 __init ipsecmss_st_tcp_csum(struct sk_buff *skb, bool ipv6,
					   unsigned int seglen)
{
	__wsum sum = skb_checksum(skb, skb_transport_offset(skb), seglen, 0);

	if (ipv6)
		return csum_ipv6_magic(&ipv6_hdr(skb)->saddr,
				       &ipv6_hdr(skb)->daddr, seglen,
				       IPPROTO_TCP, sum);
	return csum_tcpudp_magic(ip_hdr(skb)->saddr, ip_hdr(skb)->daddr,
				 seglen, IPPROTO_TCP, sum);
}

static struct sk_buff *__init ipsecmss_st_syn(const struct ipsecmss_st_case *c)
{
	unsigned int optlen = sizeof(ipsecmss_st_mss_opts) - (c->has_mss ? 0 : 4);
	unsigned int seglen = sizeof(struct tcphdr) + optlen;
	struct sk_buff *skb;
	struct tcphdr *th;
	unsigned int off;

	skb = alloc_skb(MAX_HEADER + sizeof(struct ipv6hdr) + 64, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, MAX_HEADER);
	skb_reset_network_header(skb);
	off = c->ipv6 ? ipsecmss_st_ipv6_hdr(skb, seglen) :
			ipsecmss_st_ipv4_hdr(skb, seglen);
	skb_set_transport_header(skb, off);
	th = skb_put_zero(skb, sizeof(*th));
	th->source = htons(40000);
	th->dest = htons(80);
	th->seq = htonl(0x12345678);
	th->doff = seglen / 4;
	th->syn = 1;
	th->window = htons(64240);
	skb_put_data(skb, ipsecmss_st_mss_opts + (c->has_mss ? 0 : 4), optlen);
	th->check = ipsecmss_st_tcp_csum(skb, c->ipv6, seglen);

	skb->ip_summed = CHECKSUM_COMPLETE;
	skb->csum = skb_checksum(skb, 0, skb->len, 0);
	return skb;
}

/* Whether two sums are the same one's complement value. */
static bool __init ipsecmss_st_same_sum(__wsum a, __wsum b)
{
	__sum16 d = csum_fold(csum_sub(a, b));

	return d == 0 || d == (__force __sum16)0xffff;
}

static bool __init ipsecmss_st_run(const struct ipsecmss_st_case *c)
{
	unsigned int thoff, seglen;
	enum ipsecmss_stat got;
	struct sk_buff *skb;
	bool ok;

	skb = ipsecmss_st_syn(c);
	if (!skb)
		return false;
	thoff = skb_transport_offset(skb);
	got = ipsecmss_mangle(skb, thoff, IPSECMSS_ST_CLAMP, c->ipv6);
	seglen = skb->len - thoff;
	ok = got == c->want &&
	     ipsecmss_st_same_sum(skb->csum, skb_checksum(skb, 0, skb->len, 0)) &&
	     !ipsecmss_st_tcp_csum(skb, c->ipv6, seglen);
	if (!ok)
		pr_err("selftest: %s SYN %s: outcome %d (want %d), skb->csum %s, TCP checksum %s\n",
		       c->ipv6 ? "IPv6" : "IPv4",
		       c->has_mss ? "with MSS" : "without MSS", got, c->want,
		       ipsecmss_st_same_sum(skb->csum,
					    skb_checksum(skb, 0, skb->len, 0)) ?
		       "right" : "WRONG",
		       ipsecmss_st_tcp_csum(skb, c->ipv6, seglen) ? "WRONG" :
		       "valid");
	kfree_skb(skb);
	return ok;
}

static bool __init ipsecmss_selftest(void)
{
	unsigned int i, passed = 0;

	for (i = 0; i < ARRAY_SIZE(ipsecmss_st_cases); i++)
		passed += ipsecmss_st_run(&ipsecmss_st_cases[i]);
	if (passed != ARRAY_SIZE(ipsecmss_st_cases)) {
		pr_err("selftest: %u of %zu checksum cases failed\n",
		       (unsigned int)ARRAY_SIZE(ipsecmss_st_cases) - passed,
		       ARRAY_SIZE(ipsecmss_st_cases));
		return false;
	}
	pr_info("selftest: %u checksum cases passed (CHECKSUM_COMPLETE)\n",
		passed);
	return true;
}
