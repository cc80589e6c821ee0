// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_clamp - ipsecmss_clamp() on arbitrary segments and parameters.
 *
 * Input layout (8 bytes of parameters, then the segment):
 *   0-1  clamp, big-endian (0 is out of the contract)
 *   2-3  insert_mss, big-endian (0: never insert)
 *   4    room: len + (low 4 bits); bit 7 set: len - 1 (out of the contract)
 *   5    bit 0: IPv6 pseudo-header; bit 1: keep the checksum field as given
 *        (else a correct one is written first); bit 2: clamp += 65536
 *        (out of the contract)
 *   6-7  seed of the pseudo-header addresses
 *   8-   the TCP segment, header first (at most 4096 bytes)
 *
 * The segment lives in a buffer of exactly @room bytes (or @len when room
 * is below it), so ASan catches any access past the room the core is
 * given.  Properties, each abort()ing when violated:
 *   - the outcome is the one the contract and a reference walk predict;
 *   - unchanged outcomes leave every byte of the buffer as it was, with a
 *     neutral csum_diff and grow 0;
 *   - LOWERED changes only the two MSS value bytes, to the clamp, and only
 *     ever lowers; INSERTED puts 02 04 <min(clamp, insert)> first, moves
 *     the other options down intact, bumps doff and keeps the reserved
 *     bits, writes nothing past len + 4;
 *   - the incrementally updated checksum (plus the pseudo-header length
 *     change on insertion) equals one computed from scratch, and a
 *     segment whose checksum was wrong stays exactly as wrong;
 *   - the result walks cleanly to an MSS <= clamp, and a second clamp is a
 *     no-op (ALREADY_LOW).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARAMS	8

static void require_unchanged(const unsigned char *t, const unsigned char *orig,
			      size_t len, size_t bufsize, const char *what)
{
	size_t i;

	for (i = 0; i < bufsize; i++)
		REQUIRE(t[i] == (i < len ? orig[i] : 0xa5),
			"%s: byte %zu changed %02x -> %02x", what, i,
			i < len ? orig[i] : 0xa5, t[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int clamp, insert, len, room, bufsize, roff = 0, v = 0;
	unsigned int old_check = 0, new_check, hl = 0, i;
	enum ipsecmss_outcome got, want;
	enum ipsecmss_walk walk;
	struct ipsecmss_edit e, e2;
	unsigned char orig[4096 + 4], *t;
	struct pseudo ph;
	int in_contract, syn, mode;

	if (size < PARAMS || size > PARAMS + 4096)
		return 0;
	clamp = be16(data);
	insert = be16(data + 2);
	mode = data[5];
	if (mode & 4)
		clamp += 0x10000;
	len = (unsigned int)(size - PARAMS);
	room = len + (data[4] & 0x0f);
	if ((data[4] & 0x80) && len)
		room = len - 1;
	bufsize = room > len ? room : len;
	pseudo_init(&ph, mode & 1, be16(data + 6));

	memcpy(orig, data + PARAMS, len);
	if (len >= 20 && !(mode & 2)) {
		uint32_t c = tcp_csum(&ph, orig, len);

		orig[16] = (unsigned char)(c >> 8);
		orig[17] = (unsigned char)c;
	}
	if (len >= 18)
		old_check = be16(orig + 16);

	t = exact_copy(orig, len, bufsize);
	memset(&e, 0x5a, sizeof(e));
	got = ipsecmss_clamp(t, len, room, clamp, insert, &e);
	REQUIRE(got < IPSECMSS_OUTCOME_MAX, "outcome %d", (int)got);

	in_contract = clamp >= 1 && clamp <= 65535 && room >= len;
	if (!in_contract) {
		REQUIRE(got != IPSECMSS_LOWERED && got != IPSECMSS_INSERTED,
			"outcome %d with clamp %u room %u len %u", (int)got,
			clamp, room, len);
		require_unchanged(t, orig, len, bufsize, "out of contract");
		REQUIRE(e.grow == 0, "grow %u out of contract", e.grow);
		free(t);
		return 0;
	}

	/* What the contract says should happen. */
	walk = ref_walk(orig, len, &roff);
	syn = len >= 14 && ref_is_syn(orig[13]);
	if (len >= 20)
		hl = (unsigned int)(orig[12] >> 4) * 4;
	if (len < 20) {
		want = IPSECMSS_MALFORMED;
		if (got == IPSECMSS_NOT_SYN && len >= 14 && !syn)
			want = got;	/* either is fair */
	} else if (!syn) {
		want = IPSECMSS_NOT_SYN;
		if (walk == IPSECMSS_WALK_MALFORMED && got == IPSECMSS_MALFORMED)
			want = got;	/* either is fair */
	} else if (walk == IPSECMSS_WALK_MALFORMED) {
		want = IPSECMSS_MALFORMED;
	} else if (walk == IPSECMSS_WALK_FOUND) {
		v = be16(orig + roff + 2);
		want = v > clamp ? IPSECMSS_LOWERED : IPSECMSS_ALREADY_LOW;
	} else if (insert && hl == len && hl + 4 <= 60 && room >= len + 4) {
		want = IPSECMSS_INSERTED;
	} else {
		want = IPSECMSS_NO_ROOM;
	}
	REQUIRE(got == want, "outcome %d, want %d (len %u hl %u room %u clamp "
		"%u insert %u)", (int)got, (int)want, len, hl, room, clamp,
		insert);

	/* The bytes. */
	switch (got) {
	case IPSECMSS_LOWERED:
		REQUIRE(e.grow == 0, "grow %u on LOWERED", e.grow);
		REQUIRE(e.old_mss == v && e.new_mss == clamp && clamp < v,
			"old %u new %u, want %u -> %u", e.old_mss, e.new_mss, v,
			clamp);
		for (i = 0; i < bufsize; i++) {
			if (i == roff + 2 || i == roff + 3)
				continue;
			REQUIRE(t[i] == (i < len ? orig[i] : 0xa5),
				"LOWERED changed byte %u (mss at %u)", i, roff);
		}
		REQUIRE(be16(t + roff + 2) == clamp, "mss bytes %04x, want %04x",
			be16(t + roff + 2), clamp);
		break;
	case IPSECMSS_INSERTED: {
		unsigned int m = insert < clamp ? insert : clamp;

		REQUIRE(e.grow == 4, "grow %u on INSERTED", e.grow);
		REQUIRE(e.old_mss == 0 && e.new_mss == m,
			"old %u new %u, want 0 -> %u", e.old_mss, e.new_mss, m);
		REQUIRE(!memcmp(t, orig, 12), "INSERTED changed bytes 0..11");
		REQUIRE(t[12] == (((hl / 4 + 1) << 4) | (orig[12] & 0x0f)),
			"byte 12 %02x from %02x", t[12], orig[12]);
		REQUIRE(!memcmp(t + 13, orig + 13, 7),
			"INSERTED changed bytes 13..19");
		REQUIRE(t[20] == 2 && t[21] == 4 && be16(t + 22) == m,
			"inserted %02x %02x %04x, want 02 04 %04x", t[20], t[21],
			be16(t + 22), m);
		REQUIRE(!memcmp(t + 24, orig + 20, hl - 20),
			"options not moved down intact");
		for (i = len + 4; i < bufsize; i++)
			REQUIRE(t[i] == 0xa5, "INSERTED wrote byte %u", i);
		break;
	}
	default:
		require_unchanged(t, orig, len, bufsize, "unchanged outcome");
		REQUIRE(e.grow == 0, "grow %u on outcome %d", e.grow, (int)got);
		if (got == IPSECMSS_ALREADY_LOW)
			REQUIRE(e.old_mss == v && e.new_mss == v && v <= clamp,
				"ALREADY_LOW old %u new %u, mss %u clamp %u",
				e.old_mss, e.new_mss, v, clamp);
		REQUIRE(csum_eq(ipsecmss_csum_apply(old_check, e.csum_diff),
				old_check), "csum_diff %04x on outcome %d",
			e.csum_diff, (int)got);
		break;
	}
	if (got == IPSECMSS_NO_ROOM && insert && hl == len && hl + 4 <= 60)
		REQUIRE(e.room_needed == len + 4, "room_needed %u, want %u",
			e.room_needed, len + 4);
	else
		REQUIRE(e.room_needed == 0, "room_needed %u on outcome %d",
			e.room_needed, (int)got);

	/* The checksum, as the kernel would update it. */
	if (got == IPSECMSS_LOWERED || got == IPSECMSS_INSERTED) {
		unsigned int nlen = len + e.grow;
		uint32_t v_old = tcp_verify(&ph, orig, len), v_new;

		REQUIRE(e.csum_diff <= 0xffff, "csum_diff %#x not folded",
			e.csum_diff);
		new_check = ipsecmss_csum_apply(old_check, e.csum_diff);
		if (e.grow)
			new_check = ipsecmss_csum_apply(new_check,
						len_diff(ph.v6, len, nlen));
		REQUIRE(new_check <= 0xffff, "csum_apply gave %#x", new_check);
		if (!(mode & 2))
			REQUIRE(csum_eq(new_check, tcp_csum(&ph, t, nlen)),
				"checksum %04x, from scratch %04x (%s, diff %04x)",
				new_check, tcp_csum(&ph, t, nlen),
				ph.v6 ? "v6" : "v4", e.csum_diff);
		t[16] = (unsigned char)(new_check >> 8);
		t[17] = (unsigned char)new_check;
		v_new = tcp_verify(&ph, t, nlen);
		REQUIRE(csum_eq(v_old, v_new), "verification sum %04x -> %04x",
			v_old, v_new);

		/* The result walks to the new MSS, and clamping again is a no-op. */
		walk = ref_walk(t, nlen, &roff);
		REQUIRE(walk == IPSECMSS_WALK_FOUND && be16(t + roff + 2) ==
			e.new_mss && e.new_mss <= clamp,
			"result walks to %d, mss %u", (int)walk,
			walk == IPSECMSS_WALK_FOUND ? be16(t + roff + 2) : 0);
		memcpy(orig, t, nlen);
		got = ipsecmss_clamp(t, nlen, bufsize, clamp, insert, &e2);
		REQUIRE(got == IPSECMSS_ALREADY_LOW, "second clamp: outcome %d",
			(int)got);
		require_unchanged(t, orig, nlen, nlen, "second clamp");
	}
	free(t);
	return 0;
}
