/* SPDX-License-Identifier: GPL-2.0 */
/*
 * csum_ref.h - the independent checksum model of the unit tests
 * (tests/unit/test_core.c) and the fuzz targets (tests/fuzz/): one's
 * complement arithmetic byte by byte, the TCP pseudo-header of either
 * family, a segment's checksum from scratch and the pseudo-header length
 * change.  Nothing here calls the core, so the tests can compare the core
 * against it.
 */
#ifndef _IPSECMSS_CSUM_REF_H
#define _IPSECMSS_CSUM_REF_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t ref_sum(const unsigned char *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static inline uint32_t ref_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

/* 0x0000 and 0xffff are the same number in one's complement. */
static inline int csum_eq(uint32_t a, uint32_t b)
{
	return (a == 0xffff ? 0 : a) == (b == 0xffff ? 0 : b);
}

/* A pseudo-header of either family (IPv4: the first 4 bytes of each). */
struct pseudo {
	int v6;
	unsigned char src[16], dst[16];
};

static inline uint32_t pseudo_sum(const struct pseudo *ph, uint32_t len)
{
	uint32_t s = 0;

	if (ph->v6) {
		s = ref_sum(ph->src, 16, s);
		s = ref_sum(ph->dst, 16, s);
		s += (len >> 16) + (len & 0xffff) + 6;
	} else {
		s = ref_sum(ph->src, 4, s);
		s = ref_sum(ph->dst, 4, s);
		s += 6 + (len & 0xffff);
	}
	return s;
}

/* The checksum of a segment computed from scratch (its field read as 0). */
static inline uint32_t tcp_csum(const struct pseudo *ph, const unsigned char *t,
				uint32_t len)
{
	uint32_t s = pseudo_sum(ph, len);

	s = ref_sum(t, 16, s);
	s = ref_sum(t + 18, len - 18, s);
	return ~ref_fold(s) & 0xffff;
}

/* The receiver's check: the sum over everything, the field included. */
static inline uint32_t tcp_verify(const struct pseudo *ph, const unsigned char *t,
				  uint32_t len)
{
	return ref_fold(ref_sum(t, len, pseudo_sum(ph, len)));
}

/*
 * What the kernel does to the pseudo-header part when a segment grows:
 * replace the old length word(s) by the new ones (inet_proto_csum_replace
 * with a pseudohdr flag, or the IPv6 payload length fix).
 */
static inline uint32_t len_diff(int v6, uint32_t old_len, uint32_t new_len)
{
	uint32_t s;

	if (v6)
		s = (~old_len >> 16 & 0xffff) + (~old_len & 0xffff) +
		    (new_len >> 16) + (new_len & 0xffff);
	else
		s = (~old_len & 0xffff) + (new_len & 0xffff);
	return ref_fold(s);
}

#endif /* _IPSECMSS_CSUM_REF_H */
