// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_walk - ipsecmss_find_mss() on arbitrary bytes.
 *
 * Input: a TCP segment, header first.  It is copied into a buffer of
 * exactly its size so that ASan catches any read past @len.  Properties:
 * the result equals the reference walk of fuzz_common.h; a found option
 * is an MSS option of length 4 inside the header; the segment is not
 * written.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int off = 0xdeadbeef, roff = 0xdeadbeef, hl;
	enum ipsecmss_walk got, want;
	unsigned char *t;

	if (size > 4096)
		return 0;
	t = exact_copy(data, size, size);
	got = ipsecmss_find_mss(t, (unsigned int)size, &off);
	want = ref_walk(t, size, &roff);

	REQUIRE(got == want, "find_mss %d, reference %d", (int)got, (int)want);
	REQUIRE(!memcmp(t, data, size), "find_mss wrote the segment");
	if (got == IPSECMSS_WALK_FOUND) {
		hl = (unsigned int)(t[12] >> 4) * 4;
		REQUIRE(off == roff, "mss_off %u, reference %u", off, roff);
		REQUIRE(off >= 20 && off + 4 <= hl && hl <= size,
			"mss_off %u outside the %u-byte header", off, hl);
		REQUIRE(t[off] == 2 && t[off + 1] == 4,
			"mss_off %u points at %02x %02x", off, t[off],
			t[off + 1]);
	}
	free(t);
	return 0;
}
