// SPDX-License-Identifier: GPL-2.0
/*
 * micro - instructions per SYN of the core (kernel/ipsecmss_core.c), for
 * the SYN option layouts Linux, Windows and macOS really send.
 *
 *   micro                      check every case once, list them
 *   micro LAYOUT OP [N]        run one case N times (default 10000)
 *
 * The figure is taken under callgrind (tests/bench/run.sh does it):
 *
 *   valgrind --tool=callgrind --callgrind-out-file=F ./micro linux rewrite 10000
 *
 * and is the inclusive instruction count of the measured function divided
 * by its number of calls, both read from F: exact and the same from run
 * to run, whatever the machine.  Ops:
 *   walk     ipsecmss_find_mss() on the SYN (validate every option, find MSS)
 *   rewrite  ipsecmss_clamp() lowering MSS 1460 to 1344 (walk + rewrite +
 *            checksum difference)
 *   insert   ipsecmss_clamp() on the same SYN without its MSS option, with
 *            room: the option is inserted first and the others moved down
 *   tcpmss   reference: xt_TCPMSS's option loop and incremental checksum
 *            (tcpmss_mangle_packet(), transcribed) doing the rewrite
 * Each call gets a fresh copy of the header (copied outside the measured
 * function).  Userspace -O2 code of the same source the module compiles;
 * the kernel's build flags differ a little.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipsecmss_core.h"

#define CLAMP		1344
#define SYN_MSS		1460
#define HDR_ROOM	64

struct layout {
	const char *name;
	const char *what;
	unsigned int optlen;
	unsigned char opts[40];
};

/* The options after the 20-byte header, MSS 1460 first as each OS sends it. */
static const struct layout layouts[] = {
	{ "linux", "MSS,SACK_PERM,TS,NOP,WS (Linux 6.x)", 20,
	  { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 1, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 } },
	{ "windows", "MSS,NOP,WS,NOP,NOP,SACK_PERM (Windows 10/11)", 12,
	  { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 } },
	{ "macos", "MSS,NOP,WS,NOP,NOP,TS,SACK_PERM,EOL,EOL (macOS)", 24,
	  { 2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
	    4, 2, 0, 0 } },
};

/* The segment, its length and a pristine copy to restore it from. */
static unsigned char pristine[HDR_ROOM], seg[HDR_ROOM];
static unsigned int seglen;

/* A SYN with the layout's options, without the MSS option if !with_mss. */
static void build(const struct layout *l, int with_mss)
{
	unsigned int skip = with_mss ? 0 : 4, n = l->optlen - skip;

	memset(pristine, 0, sizeof(pristine));
	pristine[0] = 0xc3; pristine[1] = 0x50;		/* sport 50000 */
	pristine[2] = 0x01; pristine[3] = 0xbb;		/* dport 443 */
	pristine[4] = 0x12; pristine[5] = 0x34; pristine[6] = 0x56; pristine[7] = 0x78;
	pristine[12] = (unsigned char)(((20 + n) / 4) << 4);
	pristine[13] = IPSECMSS_TCP_SYN;
	pristine[14] = 0xfa; pristine[15] = 0xf0;	/* window 64240 */
	pristine[16] = 0xab; pristine[17] = 0xcd;	/* some checksum */
	memcpy(pristine + 20, l->opts + skip, n);
	seglen = 20 + n;
}

static void restore(void)
{
	memcpy(seg, pristine, sizeof(seg));
}

/* ------------------------------------------- the reference: xt_TCPMSS -- */

static uint16_t ref_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* csum_replace2() of include/net/checksum.h, on a host-order field. */
static void ref_csum_replace2(uint16_t *sum, uint16_t old, uint16_t new)
{
	uint32_t s = (uint16_t)~*sum;

	s += (uint16_t)~old;
	s += new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = (uint16_t)~s;
}

/* tcpmss_mangle_packet()'s option loop, for a header of @len bytes. */
__attribute__((__noinline__)) int ref_tcpmss_mangle(unsigned char *tcph,
						unsigned int len,
						unsigned int newmss)
{
	unsigned int tcp_hdrlen = (unsigned int)(tcph[12] >> 4) * 4, i;
	unsigned char *opt = tcph;

	if (len < tcp_hdrlen || tcp_hdrlen < 20)
		return -1;
	for (i = 20; i <= tcp_hdrlen - 4; i += opt[i + 1] ? opt[i + 1] : 1) {
		if (opt[i] == 2 && opt[i + 1] == 4) {
			uint16_t oldmss = ref_get16(opt + i + 2), check;

			if (oldmss <= newmss)
				return 0;
			opt[i + 2] = (unsigned char)(newmss >> 8);
			opt[i + 3] = (unsigned char)newmss;
			check = ref_get16(tcph + 16);
			ref_csum_replace2(&check, oldmss, (uint16_t)newmss);
			tcph[16] = (unsigned char)(check >> 8);
			tcph[17] = (unsigned char)check;
			return 0;
		}
	}
	return 1;
}

/* -------------------------------------------------------------- cases -- */

static volatile unsigned int sink;

__attribute__((__noinline__)) static void run_walk(unsigned long n)
{
	unsigned int off = 0;

	while (n--)
		sink += ipsecmss_find_mss(seg, seglen, &off) + off;
}

__attribute__((__noinline__)) static void run_clamp(unsigned long n)
{
	struct ipsecmss_edit edit;

	while (n--) {
		restore();
		sink += ipsecmss_clamp(seg, seglen, HDR_ROOM, CLAMP,
				       IPSECMSS_DEFAULT_MSS_V4, &edit);
	}
}

__attribute__((__noinline__)) static void run_tcpmss(unsigned long n)
{
	while (n--) {
		restore();
		sink += (unsigned int)ref_tcpmss_mangle(seg, seglen, CLAMP);
	}
}

static const char *const ops[] = { "walk", "rewrite", "insert", "tcpmss" };

/* The function whose inclusive cost is the op's figure. */
static const char *const op_fn[] = {
	"ipsecmss_find_mss", "ipsecmss_clamp", "ipsecmss_clamp", "ref_tcpmss_mangle",
};

static int setup(const struct layout *l, unsigned int op)
{
	build(l, op != 2);
	restore();
	return 0;
}

static void run(unsigned int op, unsigned long n)
{
	switch (op) {
	case 0: run_walk(n); break;
	case 1: case 2: run_clamp(n); break;
	case 3: run_tcpmss(n); break;
	}
}

/* Once each, checked: the outcome and the checksum difference are right. */
static int check_case(const struct layout *l, unsigned int op)
{
	unsigned int off = 0, before, after, check;
	struct ipsecmss_edit edit;
	int out;

	setup(l, op);
	before = ipsecmss_csum_sum(seg, seglen, 0);
	switch (op) {
	case 0:
		return ipsecmss_find_mss(seg, seglen, &off) == IPSECMSS_WALK_FOUND &&
		       off == 20;
	case 1:
	case 2:
		out = ipsecmss_clamp(seg, seglen, HDR_ROOM, CLAMP,
				     IPSECMSS_DEFAULT_MSS_V4, &edit);
		if (out != (op == 1 ? IPSECMSS_LOWERED : IPSECMSS_INSERTED))
			return 0;
		/* With the updated checksum in place the one's complement sum of
		 * the header is what it was: the checksum still verifies.
		 */
		check = ipsecmss_csum_apply(ref_get16(seg + 16), edit.csum_diff);
		seg[16] = (unsigned char)(check >> 8);
		seg[17] = (unsigned char)check;
		after = ipsecmss_csum_sum(seg, seglen + edit.grow, 0);
		return (after % 0xffff) == (before % 0xffff) &&
		       edit.new_mss == (op == 1 ? CLAMP : IPSECMSS_DEFAULT_MSS_V4);
	case 3:
		if (ref_tcpmss_mangle(seg, seglen, CLAMP) != 0)
			return 0;
		return ref_get16(seg + 22) == CLAMP;
	}
	return 0;
}

static int find(const char *name, const char *const *names, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

int main(int argc, char **argv)
{
	const unsigned int nl = sizeof(layouts) / sizeof(layouts[0]);
	const unsigned int no = sizeof(ops) / sizeof(ops[0]);
	const char *lnames[8];
	unsigned long n = 10000;
	unsigned int i, j, bad = 0;
	int li, oi;

	for (i = 0; i < nl; i++)
		lnames[i] = layouts[i].name;
	if (argc == 1) {
		for (i = 0; i < nl; i++)
			for (j = 0; j < no; j++) {
				int ok = check_case(&layouts[i], j);

				printf("case %s %s fn=%s hdr=%u %s # %s\n", layouts[i].name,
				       ops[j], op_fn[j], seglen, ok ? "ok" : "WRONG",
				       layouts[i].what);
				bad += !ok;
			}
		return bad ? 1 : 0;
	}
	if (argc < 3 || argc > 4)
		goto usage;
	li = find(argv[1], lnames, nl);
	oi = find(argv[2], ops, no);
	if (li < 0 || oi < 0)
		goto usage;
	if (argc == 4)
		n = strtoul(argv[3], NULL, 0);
	if (!check_case(&layouts[li], (unsigned int)oi)) {
		fprintf(stderr, "micro: %s %s gives a wrong result\n", argv[1], argv[2]);
		return 1;
	}
	setup(&layouts[li], (unsigned int)oi);
	run((unsigned int)oi, n);
	printf("fn=%s calls=%lu\n", op_fn[oi], n);
	return 0;
usage:
	fprintf(stderr, "usage: micro [linux|windows|macos walk|rewrite|insert|tcpmss [N]]\n");
	return 2;
}
