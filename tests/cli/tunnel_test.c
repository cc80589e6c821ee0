// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of userspace/cli/tunnel.c: which route-based device an SA
 * belongs to, the flow mark of its look-ups and the MSS through it.  One
 * line per check, "ok DESCRIPTION" or "fail DESCRIPTION"; test_cli.sh
 * reports them.  Built and run by tests/cli/test_cli.sh (group tunnel).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tunnel.h"

static int failed;

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "fail", what);
	failed |= !ok;
}

static void addr(xfrm_address_t *a, int family, const char *s)
{
	memset(a, 0, sizeof(*a));
	inet_pton(family, s, a);
}

static struct sa sa_of(int family, const char *src, const char *dst,
		       unsigned int if_id, unsigned int mark,
		       unsigned int mask)
{
	struct sa sa;

	memset(&sa, 0, sizeof(sa));
	sa.family = family;
	addr(&sa.saddr, family, src);
	addr(&sa.daddr, family, dst);
	sa.if_id = if_id;
	sa.mark = mark;
	sa.mark_mask = mask;
	return sa;
}

static struct tunnel_dev vti_of(enum tunnel_kind kind, const char *name,
				const char *local, const char *remote,
				unsigned int ikey, unsigned int okey)
{
	int family = kind == TUNNEL_VTI6 ? AF_INET6 : AF_INET;
	struct tunnel_dev d;

	memset(&d, 0, sizeof(d));
	d.kind = kind;
	snprintf(d.name, sizeof(d.name), "%s", name);
	if (local)
		addr(&d.local, family, local);
	if (remote)
		addr(&d.remote, family, remote);
	d.ikey = ikey;
	d.okey = okey;
	return d;
}

/* The name of the device tunnel_for_sa() picks, "-" for none. */
static const char *owner(const struct tunnel_list *l, const struct sa *sa)
{
	const struct tunnel_dev *d = tunnel_for_sa(l, sa);

	return d ? d->name : "-";
}

static void test_xfrm(void)
{
	struct tunnel_dev devs[2] = { { .kind = TUNNEL_XFRM, .if_id = 5,
					.name = "ipsec5" },
				      { .kind = TUNNEL_XFRM, .if_id = 0,
					.name = "ipsec0" } };
	struct tunnel_list l = { devs, 2, 2 };
	struct sa sa;

	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 5, 0, 0);
	check(!strcmp(owner(&l, &sa), "ipsec5"), "xfrm: the SA of if_id 5 is ipsec5's");
	check(tunnel_mark(tunnel_for_sa(&l, &sa), &sa) == 0,
	      "xfrm: no flow mark of its own");
	sa = sa_of(AF_INET6, "fd00::1", "fd00::2", 5, 0, 0);
	check(!strcmp(owner(&l, &sa), "ipsec5"), "xfrm: an IPv6 SA of if_id 5 too");
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 6, 0, 0);
	check(!strcmp(owner(&l, &sa), "-"), "xfrm: if_id 6 has no device");
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 0, 0, 0);
	check(!strcmp(owner(&l, &sa), "-"),
	      "xfrm: an SA without if_id is no device's, not even if_id 0's");
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 0, 5, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "-"), "xfrm: a mark is not an if_id");
}

static void test_vti(void)
{
	struct tunnel_dev devs[3];
	struct tunnel_list l = { devs, 3, 3 };
	struct sa sa;

	devs[0] = vti_of(TUNNEL_VTI, "vti9", "10.0.0.1", "10.0.0.9", 9, 9);
	devs[1] = vti_of(TUNNEL_VTI, "vti0", "10.0.0.1", "10.0.0.2", 8, 7);
	devs[2] = vti_of(TUNNEL_VTI6, "vti6", NULL, NULL, 0x21, 0x21);

	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 0, 7, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "vti0"), "vti: outbound SA, mark = o_key, local -> remote");
	check(tunnel_mark(&devs[1], &sa) == 7, "vti: outbound look-ups carry the o_key");
	sa = sa_of(AF_INET, "10.0.0.2", "10.0.0.1", 0, 8, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "vti0"), "vti: inbound SA, mark = i_key, remote -> local");
	check(tunnel_mark(&devs[1], &sa) == 8, "vti: inbound look-ups carry the i_key");
	sa = sa_of(AF_INET, "10.0.0.2", "10.0.0.1", 0, 7, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "-"), "vti: the o_key the wrong way round is no device's");
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.3", 0, 7, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "-"), "vti: another peer is no device's");
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 0, 7, 0);
	check(!strcmp(owner(&l, &sa), "-"), "vti: an SA without a mark is no device's");
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 0, 0x7, 0xf);
	devs[1].okey = 0x57;
	check(!strcmp(owner(&l, &sa), "vti0"), "vti: the SA's mask applies to the key");
	devs[1].okey = 7;
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.9", 0, 9, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "vti9"), "vti: the first of several devices that matches");
	sa = sa_of(AF_INET6, "fd00::1", "fd00::2", 0, 0x21, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "vti6"), "vti6: no endpoints match any pair");
	sa = sa_of(AF_INET, "10.0.0.1", "10.0.0.2", 0, 0x21, 0xffffffff);
	check(!strcmp(owner(&l, &sa), "-"), "vti6: an IPv4 SA is not its");
}

/* min(device MTU, the SA's largest inner packet) less the headers, 88 at least. */
static void test_mss(void)
{
	static const unsigned int mtus[] = { 0, 100, 1280, 1400, 1438, 1439, 1500, 9000 };
	static const unsigned int inners[] = { 1390, 1438, 1500 };
	unsigned int i, j, v6, inner, want, got;
	char what[128];
	int ok = 1;

	for (i = 0; i < ARRAY_SIZE(mtus); i++)
		for (j = 0; j < ARRAY_SIZE(inners); j++)
			for (v6 = 0; v6 < 2; v6++) {
				inner = mtus[i] && mtus[i] < inners[j] ?
					mtus[i] : inners[j];
				want = inner - (v6 ? 60 : 40);
				if (inner < (v6 ? 60 : 40) + 88)
					want = 88;
				got = tunnel_mss(mtus[i], inners[j], (int)v6);
				if (got != want) {
					snprintf(what, sizeof(what),
						 "tunnel_mss(%u, %u, %u) = %u, want %u",
						 mtus[i], inners[j], v6, got, want);
					check(0, what);
					ok = 0;
				}
			}
	check(ok, "tunnel_mss: the smaller of device MTU and SA inner packet, less the headers, floored at 88 (48 cases)");
}

int main(void)
{
	test_xfrm();
	test_vti();
	test_mss();
	return failed;
}
