/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecmss_core - the MSS arithmetic and TCP option rewriting of IPSECMSS.
 *
 * Plain C with no include at all: the same object is linked into the
 * kernel module, the iptables extension, the ipsecmss CLI, the unit tests
 * and the fuzzers.  Nothing here trusts a length taken from the packet:
 * every function is given the number of bytes really present.
 *
 * The core never touches IP headers or skbs; it reports what it changed
 * (struct ipsecmss_edit) and each caller fixes its own checksums and
 * IP lengths.
 *
 * Because it includes nothing, the core defines its own TCP and IP
 * constants below (header sizes, flag bits, the MSS option, default MSS
 * values) and its own one's complement sum: they repeat what the kernel's
 * <net/tcp.h> and <net/checksum.h> provide, on purpose, so that userspace
 * builds of the core need no kernel headers.  Nothing else repeats them.
 */
#ifndef _IPSECMSS_CORE_H
#define _IPSECMSS_CORE_H

#define IPSECMSS_TCP_HDR_MIN	20	/* doff 5 */
#define IPSECMSS_TCP_HDR_MAX	60	/* doff 15 */
#define IPSECMSS_TCP_FLAGS_OFF	13
#define IPSECMSS_TCP_CHECK_OFF	16
#define IPSECMSS_OPT_MSS_LEN	4

#define IPSECMSS_TCP_FIN	0x01
#define IPSECMSS_TCP_SYN	0x02
#define IPSECMSS_TCP_RST	0x04

/* IP plus TCP header bytes that an MSS leaves out of an IP packet. */
#define IPSECMSS_IPV4_TCP_HDRS	40
#define IPSECMSS_IPV6_TCP_HDRS	60

/*
 * The MSS a peer assumes when a SYN carries no MSS option (RFC 9293 3.7.1,
 * RFC 8200 5): the value inserted into such a SYN, if the clamp allows.
 */
#define IPSECMSS_DEFAULT_MSS_V4	536
#define IPSECMSS_DEFAULT_MSS_V6	1220

/*
 * The smallest clamp computed from a path MTU: Linux's TCP_MIN_MSS.  Only
 * a misconfigured MTU or overhead gets this low; above it the clamp is
 * exactly what fits, even below the defaults above (an IPv6 tunnel whose
 * outer link is 1280 bytes carries less than 1280, and announcing 1220
 * there would be the very fragmentation the clamp exists to avoid).
 */
#define IPSECMSS_MSS_FLOOR	88

/* What ipsecmss_clamp() did with a TCP segment. */
enum ipsecmss_outcome {
	IPSECMSS_LOWERED = 0,	/* the MSS option was lowered to the clamp */
	IPSECMSS_ALREADY_LOW,	/* the MSS option was at or below it: unchanged */
	IPSECMSS_INSERTED,	/* no MSS option: one was inserted */
	IPSECMSS_NO_ROOM,	/* no MSS option and no room or a payload: unchanged */
	IPSECMSS_MALFORMED,	/* bad doff or options: unchanged */
	IPSECMSS_NOT_SYN,	/* not a SYN or SYN/ACK: unchanged */
	IPSECMSS_OUTCOME_MAX,
};

/*
 * What changed, for the caller's checksum and length fixes.
 * @csum_diff is the one's complement sum, in 16-bit big-endian words
 * aligned on the start of the TCP header, of the new bytes minus the old
 * ones: new_check = ~(~old_check + csum_diff) in one's complement
 * arithmetic.  It is already folded to 16 bits.  The TCP checksum field
 * itself is never written by the core.
 */
struct ipsecmss_edit {
	unsigned int old_mss;	/* 0 when the segment had no MSS option */
	unsigned int new_mss;	/* the MSS the segment now announces */
	unsigned int grow;	/* bytes added to the segment: 0 or 4 */
	unsigned int csum_diff;
	/*
	 * IPSECMSS_NO_ROOM only because @room was short: the room an
	 * insertion needs (@len + 4), so a caller able to make room can
	 * call again.  Zero otherwise.
	 */
	unsigned int room_needed;
};

/*
 * Nonzero when the TCP flags byte @flags marks a segment the target acts
 * on: SYN set, RST and FIN clear (a SYN or SYN/ACK).  Inline: the target
 * asks it of every segment a rule without a SYN match sends it.
 */
static inline int ipsecmss_is_syn(unsigned int flags)
{
	return (flags & (IPSECMSS_TCP_SYN | IPSECMSS_TCP_RST |
			 IPSECMSS_TCP_FIN)) == IPSECMSS_TCP_SYN;
}

/* Result of walking the TCP options. */
enum ipsecmss_walk {
	IPSECMSS_WALK_FOUND = 0,
	IPSECMSS_WALK_ABSENT,
	IPSECMSS_WALK_MALFORMED,
};

/*
 * Validate the TCP header in @tcp (@len bytes present) and find its MSS
 * option.  On IPSECMSS_WALK_FOUND *@mss_off is the offset of the option's
 * kind byte.  Any doff below 5 or past @len, an option whose length byte
 * is missing, below 2 or runs past the header, an MSS option whose length
 * is not 4, or a second MSS option makes the header malformed.
 */
enum ipsecmss_walk ipsecmss_find_mss(const unsigned char *tcp, unsigned int len,
				     unsigned int *mss_off);

/*
 * Clamp the MSS of a SYN or SYN/ACK in place.
 * @tcp:        the TCP segment, header first
 * @len:        bytes of segment present (header and payload)
 * @room:       bytes writable at @tcp (>= @len); insertion needs @len + 4
 * @clamp:      the largest MSS allowed (1..65535)
 * @insert_mss: the MSS to insert when the SYN has none (0: never insert);
 *              the inserted value is min(@clamp, @insert_mss)
 * @edit:       filled in on every outcome
 *
 * A value is only ever lowered.  Insertion happens only when the segment
 * is exactly its header (no payload) and the header has room for 4 more
 * bytes; the option goes first and the others move down.
 */
enum ipsecmss_outcome ipsecmss_clamp(unsigned char *tcp, unsigned int len,
				     unsigned int room, unsigned int clamp,
				     unsigned int insert_mss,
				     struct ipsecmss_edit *edit);

/* Fold @diff into @check (both in host order): the updated checksum. */
unsigned int ipsecmss_csum_apply(unsigned int check, unsigned int diff);

/*
 * One's complement sum of @len bytes as big-endian 16-bit words, @p being
 * at an even offset of the checksummed data; folded to 16 bits.
 */
unsigned int ipsecmss_csum_sum(const unsigned char *p, unsigned int len,
			       unsigned int sum);

/*
 * The clamp for a path MTU less @overhead bytes of tunnel cost, for an
 * inner IPv4 (@ipv6 == 0) or IPv6 packet.  A result below
 * IPSECMSS_MSS_FLOOR (or an MTU smaller than the overhead) gives the
 * floor.  Never above 65535.
 */
unsigned int ipsecmss_mss_for_mtu(unsigned int mtu, unsigned int overhead,
				  int ipv6);

#ifndef __KERNEL__
/*
 * ESP sizing, for userspace only (ipsecmss calc and sa, the tests' cross
 * check of the kernel's own sizing): the module never re-derives an SA's
 * size, it reads the kernel's (the xfrm bundle's MTU), so it does not
 * carry this code.
 */

/* The parameters of one ESP SA that decide its size on the wire. */
struct ipsecmss_esp {
	unsigned int outer_hdr;	/* outer IP header: 20, 40; 0 in transport mode */
	unsigned int encap_hdr;	/* 8 with UDP encapsulation (NAT-T), else 0 */
	unsigned int iv;	/* IV bytes carried in each packet */
	unsigned int block;	/* cipher block size, before rounding to 4 */
	unsigned int icv;	/* integrity check value bytes */
	unsigned int transport;	/* nonzero: transport mode */
	unsigned int inner_hdr;	/* transport mode: the packet's own IP header */
};

#define IPSECMSS_ESP_HDR	8	/* SPI + sequence number */
#define IPSECMSS_ESP_TRAILER	2	/* pad length + next header */

/*
 * The largest packet that fits @mtu once wrapped by the SA @esp, by the
 * same rule as the kernel's xfrm_state_mtu(); 0 when nothing fits or the
 * parameters are absurd (block not a power of two, sizes over 64 KiB).
 */
unsigned int ipsecmss_esp_inner_max(unsigned int mtu,
				    const struct ipsecmss_esp *esp);

/*
 * The worst-case overhead of @esp, for --clamp-to-pmtu-minus-overhead N:
 * the N that is safe whatever the MTU.  0 for absurd parameters.
 */
unsigned int ipsecmss_esp_worst_overhead(const struct ipsecmss_esp *esp);
#endif /* !__KERNEL__ */

#endif /* _IPSECMSS_CORE_H */
