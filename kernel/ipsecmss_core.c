// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss_core - the MSS arithmetic and TCP option rewriting of IPSECMSS.
 *
 * See ipsecmss_core.h.  This file includes nothing but its own header so
 * that it builds unchanged in the kernel and in userspace.
 */
#include "ipsecmss_core.h"

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MSS	2
#define TCPOPT_WINDOW	3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8

/*
 * The kernel's compiler headers define noinline; a userspace build that
 * wants the kernel's code layout (the micro-benchmark) defines it on the
 * command line, and the others do without.
 */
#ifndef noinline
#define noinline
#endif

#define U16_MAX_VAL	0xffffu

static unsigned int get_be16(const unsigned char *p)
{
	return ((unsigned int)p[0] << 8) | p[1];
}

static void put_be16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned int csum_fold16(unsigned int sum)
{
	sum = (sum & U16_MAX_VAL) + (sum >> 16);
	sum = (sum & U16_MAX_VAL) + (sum >> 16);
	return sum;
}

unsigned int ipsecmss_csum_sum(const unsigned char *p, unsigned int len,
			       unsigned int sum)
{
	unsigned int i;

	sum = csum_fold16(sum);
	for (i = 0; i + 1 < len; i += 2)
		sum = csum_fold16(sum + get_be16(p + i));
	if (len & 1)
		sum = csum_fold16(sum + ((unsigned int)p[len - 1] << 8));
	return sum;
}

unsigned int ipsecmss_csum_apply(unsigned int check, unsigned int diff)
{
	unsigned int sum = csum_fold16((~check & U16_MAX_VAL) +
				       csum_fold16(diff));

	return ~sum & U16_MAX_VAL;
}

/*
 * The difference, as one's complement, between two folded sums.  Both are
 * below 0x10000, so their sum is below 0x20000 and one fold is enough.
 */
static unsigned int csum_sub16(unsigned int new_sum, unsigned int old_sum)
{
	unsigned int sum = new_sum + (~old_sum & U16_MAX_VAL);

	return (sum & U16_MAX_VAL) + (sum >> 16);
}

static unsigned int tcp_hdr_len(const unsigned char *tcp)
{
	return (unsigned int)(tcp[12] >> 4) * 4;
}

/*
 * The options of nearly every SYN and SYN/ACK a Linux or Android stack
 * sends: MSS, SACK permitted, timestamps, NOP, window scale, 40 bytes of
 * header in all.  Fixed compares recognise this layout as well formed with
 * its MSS option first, for a fraction of the general walk; anything else
 * takes the walk.  (TCP's own receive path predicts its common timestamp
 * layout the same way.)
 */
static inline int linux_syn_layout(const unsigned char *tcp,
				   unsigned int hdrlen)
{
	return hdrlen == 40 &&
	       tcp[20] == TCPOPT_MSS && tcp[21] == IPSECMSS_OPT_MSS_LEN &&
	       tcp[24] == TCPOPT_SACK_PERM && tcp[25] == 2 &&
	       tcp[26] == TCPOPT_TIMESTAMP && tcp[27] == 10 &&
	       tcp[36] == TCPOPT_NOP && tcp[37] == TCPOPT_WINDOW &&
	       tcp[38] == 3;
}

/*
 * One pass over the options, every one checked: this runs on every SYN of
 * a gateway, so it is a tight loop over the bytes (no call per option)
 * while a bad option anywhere, after the MSS too, still makes the header
 * malformed.  The loop runs while an option's kind and length byte are
 * both in the header; a single byte left over must be a NOP or an EOL.
 */
static inline enum ipsecmss_walk walk_options(const unsigned char *tcp,
					      unsigned int len,
					      unsigned int *mss_off)
{
	const unsigned char *opt, *end;
	unsigned int hdrlen, optlen, found = 0;

	if (!tcp || len < IPSECMSS_TCP_HDR_MIN)
		return IPSECMSS_WALK_MALFORMED;
	hdrlen = tcp_hdr_len(tcp);
	if (hdrlen < IPSECMSS_TCP_HDR_MIN || hdrlen > len)
		return IPSECMSS_WALK_MALFORMED;

	if (linux_syn_layout(tcp, hdrlen)) {
		*mss_off = IPSECMSS_TCP_HDR_MIN;
		return IPSECMSS_WALK_FOUND;
	}

	opt = tcp + IPSECMSS_TCP_HDR_MIN;
	end = tcp + hdrlen;
	while (end - opt >= 2) {
		if (opt[0] <= TCPOPT_NOP) {
			if (opt[0] == TCPOPT_EOL)
				goto done;
			opt++;
			continue;
		}
		/* 2 <= optlen <= bytes left, in one unsigned comparison. */
		optlen = opt[1];
		if (optlen - 2 > (unsigned int)(end - opt) - 2)
			return IPSECMSS_WALK_MALFORMED;
		if (opt[0] == TCPOPT_MSS) {
			/* Options start at 20, so 0 means "none yet". */
			if (optlen != IPSECMSS_OPT_MSS_LEN || found)
				return IPSECMSS_WALK_MALFORMED;
			found = (unsigned int)(opt - tcp);
		}
		opt += optlen;
	}
	if (opt < end && opt[0] > TCPOPT_NOP)
		return IPSECMSS_WALK_MALFORMED;
done:
	if (!found)
		return IPSECMSS_WALK_ABSENT;
	*mss_off = found;
	return IPSECMSS_WALK_FOUND;
}

enum ipsecmss_walk ipsecmss_find_mss(const unsigned char *tcp, unsigned int len,
				     unsigned int *mss_off)
{
	return walk_options(tcp, len, mss_off);
}

static void edit_init(struct ipsecmss_edit *edit)
{
	edit->old_mss = 0;
	edit->new_mss = 0;
	edit->grow = 0;
	edit->csum_diff = 0;
	edit->room_needed = 0;
}

/*
 * Lower the MSS value at @off + 2.  The checksum difference is that of the
 * 16-bit value itself; at an odd offset its two bytes fall in the low half
 * of one checksum word and the high half of the next, which swaps the
 * bytes of the difference (one's complement sums commute with a swap).
 */
static void rewrite_mss(unsigned char *tcp, unsigned int off,
			unsigned int mss, struct ipsecmss_edit *edit)
{
	unsigned int val = off + 2;
	unsigned int diff = csum_sub16(mss, get_be16(tcp + val));

	put_be16(tcp + val, mss);
	if (val & 1)
		diff = ((diff << 8) | (diff >> 8)) & U16_MAX_VAL;
	edit->csum_diff = diff;
}

/* Put an MSS option first, moving the other options down by four bytes. */
static void insert_mss_opt(unsigned char *tcp, unsigned int hdrlen,
			   unsigned int mss, struct ipsecmss_edit *edit)
{
	unsigned int old_sum = ipsecmss_csum_sum(tcp, hdrlen, 0);
	unsigned int i;

	for (i = hdrlen; i > IPSECMSS_TCP_HDR_MIN; i--)
		tcp[i - 1 + IPSECMSS_OPT_MSS_LEN] = tcp[i - 1];
	tcp[IPSECMSS_TCP_HDR_MIN] = TCPOPT_MSS;
	tcp[IPSECMSS_TCP_HDR_MIN + 1] = IPSECMSS_OPT_MSS_LEN;
	put_be16(tcp + IPSECMSS_TCP_HDR_MIN + 2, mss);
	tcp[12] = (unsigned char)((((hdrlen + IPSECMSS_OPT_MSS_LEN) / 4) << 4) |
				  (tcp[12] & 0x0f));

	edit->grow = IPSECMSS_OPT_MSS_LEN;
	edit->csum_diff = csum_sub16(ipsecmss_csum_sum(tcp, hdrlen +
						       IPSECMSS_OPT_MSS_LEN, 0),
				     old_sum);
}

/* The rare path, kept out of line so the common rewrite stays lean. */
static noinline enum ipsecmss_outcome
clamp_absent(unsigned char *tcp, unsigned int len, unsigned int room,
	     unsigned int clamp, unsigned int insert_mss,
	     struct ipsecmss_edit *edit)
{
	unsigned int hdrlen = tcp_hdr_len(tcp);
	unsigned int mss = insert_mss < clamp ? insert_mss : clamp;

	if (!insert_mss || hdrlen != len ||
	    hdrlen + IPSECMSS_OPT_MSS_LEN > IPSECMSS_TCP_HDR_MAX)
		return IPSECMSS_NO_ROOM;
	if (room < len + IPSECMSS_OPT_MSS_LEN) {
		edit->room_needed = len + IPSECMSS_OPT_MSS_LEN;
		return IPSECMSS_NO_ROOM;
	}

	insert_mss_opt(tcp, hdrlen, mss, edit);
	edit->new_mss = mss;
	return IPSECMSS_INSERTED;
}

enum ipsecmss_outcome ipsecmss_clamp(unsigned char *tcp, unsigned int len,
				     unsigned int room, unsigned int clamp,
				     unsigned int insert_mss,
				     struct ipsecmss_edit *edit)
{
	unsigned int off = 0, mss;

	edit_init(edit);
	if (!tcp || len < IPSECMSS_TCP_HDR_MIN || room < len)
		return IPSECMSS_MALFORMED;
	if (!ipsecmss_is_syn(tcp[IPSECMSS_TCP_FLAGS_OFF]))
		return IPSECMSS_NOT_SYN;
	if (clamp < 1 || clamp > U16_MAX_VAL)
		return IPSECMSS_MALFORMED;

	switch (ipsecmss_find_mss(tcp, len, &off)) {
	case IPSECMSS_WALK_MALFORMED:
		return IPSECMSS_MALFORMED;
	case IPSECMSS_WALK_ABSENT:
		return clamp_absent(tcp, len, room, clamp, insert_mss, edit);
	case IPSECMSS_WALK_FOUND:
		break;
	}

	mss = get_be16(tcp + off + 2);
	edit->old_mss = mss;
	edit->new_mss = mss;
	if (mss <= clamp)
		return IPSECMSS_ALREADY_LOW;

	rewrite_mss(tcp, off, clamp, edit);
	edit->new_mss = clamp;
	return IPSECMSS_LOWERED;
}

unsigned int ipsecmss_mss_for_mtu(unsigned int mtu, unsigned int overhead,
				  int ipv6)
{
	unsigned int hdrs = ipv6 ? IPSECMSS_IPV6_TCP_HDRS : IPSECMSS_IPV4_TCP_HDRS;
	unsigned int mss;

	if (overhead >= mtu || mtu - overhead < hdrs + IPSECMSS_MSS_FLOOR)
		return IPSECMSS_MSS_FLOOR;
	mss = mtu - overhead - hdrs;
	return mss > U16_MAX_VAL ? U16_MAX_VAL : mss;
}

#ifndef __KERNEL__	/* ESP sizing: userspace only (see the header) */
#define SIZE_SANE	0x10000u	/* no header, IV, ICV or block is this big */

static int esp_sane(const struct ipsecmss_esp *esp)
{
	unsigned int block = esp->block;

	if (!block || (block & (block - 1)) || block >= SIZE_SANE)
		return 0;
	return esp->outer_hdr < SIZE_SANE && esp->encap_hdr < SIZE_SANE &&
	       esp->iv < SIZE_SANE && esp->icv < SIZE_SANE &&
	       esp->inner_hdr < SIZE_SANE;
}

/* The kernel aligns the ESP payload to the cipher block rounded up to 4. */
static unsigned int esp_align(const struct ipsecmss_esp *esp)
{
	return esp->block < 4 ? 4 : esp->block;
}

/* Bytes in front of the padded part: outer IP, UDP, ESP header, IV. */
static unsigned int esp_head(const struct ipsecmss_esp *esp)
{
	return esp->outer_hdr + esp->encap_hdr + IPSECMSS_ESP_HDR + esp->iv;
}

unsigned int ipsecmss_esp_inner_max(unsigned int mtu,
				    const struct ipsecmss_esp *esp)
{
	unsigned int fixed, net_adj, align, body;

	if (!esp || !esp_sane(esp))
		return 0;
	align = esp_align(esp);
	/* Transport mode leaves the packet's own IP header out of the padding. */
	net_adj = esp->transport ? esp->inner_hdr : 0;
	fixed = esp_head(esp) + esp->icv + net_adj;
	if (mtu <= fixed)
		return 0;
	body = (mtu - fixed) & ~(align - 1);
	if (body < IPSECMSS_ESP_TRAILER)
		return 0;
	return body - IPSECMSS_ESP_TRAILER + net_adj;
}

unsigned int ipsecmss_esp_worst_overhead(const struct ipsecmss_esp *esp)
{
	if (!esp || !esp_sane(esp))
		return 0;
	return esp_head(esp) + esp->icv + IPSECMSS_ESP_TRAILER +
	       esp_align(esp) - 1;
}
#endif /* !__KERNEL__ */
