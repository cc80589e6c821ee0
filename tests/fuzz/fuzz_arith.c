// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_arith - the MSS and ESP arithmetic with hostile parameters.
 *
 * Input layout (big-endian 32-bit words, missing bytes read as 0):
 *   0 mtu   4 overhead   8 outer_hdr   12 encap_hdr   16 iv   20 block
 *   24 icv   28 transport   32 inner_hdr   36 flags (bit 0: inner IPv6)
 *   40-  bytes for csum_sum (mtu is its starting sum, overhead and block
 *        the check and diff given to csum_apply)
 *
 * Properties, each abort()ing when violated:
 *   - mss_for_mtu() is mtu - overhead - 40/60, floored at IPSECMSS_MSS_FLOOR (88) and
 *     capped at 65535, without wrapping;
 *   - esp_inner_max() is 0 for absurd parameters (block not a power of
 *     two, a size of 64 KiB or more); otherwise the packet it allows fits
 *     the MTU once built as RFC 4303 lays it out (outer header, UDP, ESP
 *     header, IV, payload, padding to the block, trailer, ICV) and one
 *     byte more does not; 0 only when nothing fits; monotone in the MTU;
 *   - csum_sum() is the one's complement sum of the bytes plus the given
 *     sum, folded, reading no byte past the end; csum_apply() replaces a
 *     checksum as RFC 1624 eqn. 3 does, for any 32-bit argument;
 *   - esp_worst_overhead() is 0 for absurd parameters; otherwise for a
 *     run of MTUs a packet of mtu - N bytes always fits, N is tight for
 *     some MTU of every block-sized window, and mss_for_mtu(mtu, N) never
 *     announces more than fits (above its floor).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SANE	0x10000u	/* sizes from here on are absurd */

static int esp_absurd(const struct ipsecmss_esp *e)
{
	return !ref_align(e->block) || e->block >= SANE ||
	       e->outer_hdr >= SANE || e->encap_hdr >= SANE || e->iv >= SANE ||
	       e->icv >= SANE || e->inner_hdr >= SANE;
}

static void check_mss_for_mtu(uint32_t mtu, uint32_t overhead, int v6)
{
	int64_t x = (int64_t)mtu - overhead - (v6 ? 60 : 40);
	int64_t flr = IPSECMSS_MSS_FLOOR, want;
	unsigned int got = ipsecmss_mss_for_mtu(mtu, overhead, v6);

	want = x < flr ? flr : x > 65535 ? 65535 : x;
	REQUIRE(got == want, "mss_for_mtu(%u, %u, %d) = %u, want %lld", mtu,
		overhead, v6, got, (long long)want);
}

static void check_inner_max(uint32_t mtu, const struct ipsecmss_esp *e)
{
	unsigned int got = ipsecmss_esp_inner_max(mtu, e);

	if (esp_absurd(e)) {
		REQUIRE(got == 0, "absurd SA: inner_max(%u) = %u", mtu, got);
		return;
	}
	if (got == 0) {
		REQUIRE(!esp_fits(e, esp_min_inner(e), mtu),
			"inner_max(%u) = 0 but %llu bytes fit", mtu,
			(unsigned long long)esp_min_inner(e));
		return;
	}
	REQUIRE(esp_fits(e, got, mtu), "inner_max(%u) = %u needs %llu bytes",
		mtu, got, (unsigned long long)esp_wire(e, got));
	REQUIRE(!esp_fits(e, (uint64_t)got + 1, mtu),
		"inner_max(%u) = %u, but %u fits", mtu, got, got + 1);
	if (mtu < UINT32_MAX) {
		unsigned int next = ipsecmss_esp_inner_max(mtu + 1, e);

		REQUIRE(next >= got, "inner_max(%u) = %u > inner_max(%u) = %u",
			mtu, got, mtu + 1, next);
	}
}

static void check_worst(uint32_t mtu0, const struct ipsecmss_esp *e, int v6)
{
	unsigned int n = ipsecmss_esp_worst_overhead(e);
	uint64_t b, span, m, lo, tight = 0;
	unsigned int hdrs = v6 ? 60 : 40, flr = IPSECMSS_MSS_FLOOR;

	if (esp_absurd(e)) {
		REQUIRE(n == 0, "absurd SA: worst_overhead %u", n);
		return;
	}
	b = ref_align(e->block);
	REQUIRE(n > 0, "worst_overhead 0 for a sane SA");
	/* Smallest MTU where mtu - n is an inner packet this SA can carry. */
	lo = (uint64_t)n + esp_min_inner(e);
	m = mtu0 < lo ? lo : mtu0;
	span = b <= 256 ? b : 256;
	if (m + span > UINT32_MAX)
		m = UINT32_MAX - span;
	if (m < lo)
		return;
	for (; span; span--, m++) {
		unsigned int in = ipsecmss_esp_inner_max((uint32_t)m, e);
		unsigned int mss = ipsecmss_mss_for_mtu((uint32_t)m, n, v6);

		REQUIRE(esp_fits(e, m - n, m),
			"worst_overhead %u: %llu bytes do not fit mtu %llu", n,
			(unsigned long long)(m - n), (unsigned long long)m);
		REQUIRE(in >= m - n, "worst_overhead %u: inner_max(%llu) = %u",
			n, (unsigned long long)m, in);
		if (in == m - n)
			tight++;
		if (m >= (uint64_t)n + hdrs + flr)
			REQUIRE(mss + hdrs <= in,
				"mss_for_mtu(%llu, %u) = %u, but only %u fit",
				(unsigned long long)m, n, mss, in - hdrs);
	}
	if (b <= 256)
		REQUIRE(tight, "worst_overhead %u never tight near mtu %u", n,
			mtu0);
}

static void check_csum(const uint8_t *data, size_t size, uint32_t sum,
		       uint32_t check, uint32_t diff)
{
	unsigned char *p = exact_copy(data, size, size);
	unsigned int got = ipsecmss_csum_sum(p, (unsigned int)size, sum);
	uint32_t want = ref_fold(ref_sum(data, size, 0) + (uint64_t)sum);

	REQUIRE(got <= 0xffff, "csum_sum gave %#x", got);
	REQUIRE(csum_eq(got, want), "csum_sum %04x, want %04x", got, want);
	free(p);

	got = ipsecmss_csum_apply(check, diff);
	want = ~ref_fold((~check & 0xffff) + (uint64_t)ref_fold(diff)) & 0xffff;
	REQUIRE(got <= 0xffff, "csum_apply gave %#x", got);
	REQUIRE(csum_eq(got, want), "csum_apply(%#x, %#x) = %04x, want %04x",
		check, diff, got, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t w[40] = { 0 };
	struct ipsecmss_esp e;
	uint32_t mtu, overhead;
	int v6;

	memcpy(w, data, size < sizeof(w) ? size : sizeof(w));
	mtu = be32(w);
	overhead = be32(w + 4);
	e.outer_hdr = be32(w + 8);
	e.encap_hdr = be32(w + 12);
	e.iv = be32(w + 16);
	e.block = be32(w + 20);
	e.icv = be32(w + 24);
	e.transport = be32(w + 28);
	e.inner_hdr = be32(w + 32);
	v6 = w[39] & 1;

	check_mss_for_mtu(mtu, overhead, v6);
	check_mss_for_mtu(mtu, overhead, !v6);
	check_inner_max(mtu, &e);
	check_inner_max(UINT32_MAX - mtu, &e);
	check_inner_max(mtu & 0xffff, &e);
	check_worst(mtu & 0xffff, &e, v6);
	if (size > sizeof(w) && size - sizeof(w) <= 4096)
		check_csum(data + sizeof(w), size - sizeof(w), mtu, overhead,
			   e.block);
	return 0;
}
