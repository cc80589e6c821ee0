/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_common.h - independent reference models shared by the fuzz targets.
 *
 * Nothing here calls the core: the option walk, the checksums and the ESP
 * packet size are written again from the contract in ipsecmss_core.h and
 * the RFCs, so that a fuzz target can compare the core against them.  A
 * violated property calls die(), which prints the reason and abort()s:
 * libFuzzer then saves the input as a crash.
 */
#ifndef _IPSECMSS_FUZZ_COMMON_H
#define _IPSECMSS_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipsecmss_core.h"
#include "../lib/csum_ref.h"

__attribute__((noreturn, format(printf, 1, 2)))
static inline void die(const char *fmt, ...)
{
	va_list ap;

	fputs("PROPERTY VIOLATED: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define REQUIRE(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

/* A copy of @n bytes in a buffer of exactly @size bytes (>= n), the rest 0xa5. */
static inline unsigned char *exact_copy(const uint8_t *src, size_t n, size_t size)
{
	unsigned char *p = malloc(size ? size : 1);

	if (!p)
		abort();
	memset(p, 0xa5, size);
	if (n)
		memcpy(p, src, n);
	return p;
}

static inline uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ----------------------------------------------------------- option walk */

/*
 * The walk of the contract: doff 5..15 within @len; EOL ends the list and
 * what follows it is ignored; NOP is one byte; any other option needs its
 * length byte inside the header, a length of at least 2 that stays inside
 * the header; an MSS option must be 4 long and appear once.
 */
static inline enum ipsecmss_walk ref_walk(const unsigned char *t, size_t len,
				   unsigned int *mss_off)
{
	size_t hl, i = 20;
	int seen = 0;

	if (len < 20)
		return IPSECMSS_WALK_MALFORMED;
	hl = (size_t)(t[12] >> 4) * 4;
	if (hl < 20 || hl > len)
		return IPSECMSS_WALK_MALFORMED;
	while (i < hl) {
		unsigned int kind = t[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl)
			return IPSECMSS_WALK_MALFORMED;
		olen = t[i + 1];
		if (olen < 2 || i + olen > hl)
			return IPSECMSS_WALK_MALFORMED;
		if (kind == 2) {
			if (olen != 4 || seen)
				return IPSECMSS_WALK_MALFORMED;
			seen = 1;
			*mss_off = (unsigned int)i;
		}
		i += olen;
	}
	return seen ? IPSECMSS_WALK_FOUND : IPSECMSS_WALK_ABSENT;
}

static inline int ref_is_syn(unsigned int flags)
{
	return (flags & 0x02) && !(flags & 0x04) && !(flags & 0x01);
}

/* -------------------------------------------------------------- checksums */

/* The model itself is tests/lib/csum_ref.h, shared with the unit tests. */

/* A pseudo-header of either family; the addresses come from @seed. */
static inline void pseudo_init(struct pseudo *ph, int v6, uint32_t seed)
{
	unsigned int i;

	ph->v6 = v6;
	for (i = 0; i < 16; i++) {
		seed = seed * 1103515245u + 12345u;
		ph->src[i] = (unsigned char)(seed >> 16);
		seed = seed * 1103515245u + 12345u;
		ph->dst[i] = (unsigned char)(seed >> 16);
	}
}

/* -------------------------------------------------------------- ESP model */

/* The rounded block, or 0 when @block is not a power of two. */
static inline uint64_t ref_align(uint32_t block)
{
	if (!block || (block & (block - 1)))
		return 0;
	return block < 4 ? 4 : block;
}

/*
 * Bytes on the wire for an inner packet of @n bytes, part by part as
 * RFC 4303 lays them out; UINT64_MAX when @n is too short to send
 * (transport mode keeps its own IP header in front).
 */
static inline uint64_t esp_wire(const struct ipsecmss_esp *e, uint64_t n)
{
	uint64_t b = ref_align(e->block), total = e->outer_hdr, payload;

	if (e->transport) {
		if (n < e->inner_hdr)
			return UINT64_MAX;
		total += e->inner_hdr;
		payload = n - e->inner_hdr;
	} else {
		payload = n;
	}
	total += e->encap_hdr + IPSECMSS_ESP_HDR + e->iv + payload;
	total += (b - (payload + IPSECMSS_ESP_TRAILER) % b) % b;	/* pad */
	total += IPSECMSS_ESP_TRAILER + e->icv;
	return total;
}

static inline int esp_fits(const struct ipsecmss_esp *e, uint64_t n, uint64_t mtu)
{
	uint64_t w = esp_wire(e, n);

	return w != UINT64_MAX && w <= mtu;
}

/* The smallest inner packet the SA can carry at all. */
static inline uint64_t esp_min_inner(const struct ipsecmss_esp *e)
{
	return e->transport ? e->inner_hdr : 0;
}

#endif /* _IPSECMSS_FUZZ_COMMON_H */
