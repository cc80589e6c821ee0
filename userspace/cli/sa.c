// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmss sa: the host's SAs with the MTU of their route and their MSS;
 * for an SA of a route-based tunnel (XFRM interface, vti, vti6) also the
 * device and the MSS through it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <linux/udp.h>

#include "algs.h"
#include "report.h"
#include "tunnel.h"

/* Where an SA's MTU came from. */
struct sa_mtu {
	unsigned int mtu;	/* 0: unknown */
	const char *source;	/* option, route, link, reverse-route, reverse-link */
	char dev[IFNAME_LEN];
	char why[96];		/* when unknown */
};

/* The way out of an SA's packets: its tunnel device's link and mark. */
struct sa_path {
	unsigned int oif, mark;
};

/* The MTU toward @dst: the route's mtu metric, else its device's MTU. */
static int route_mtu(struct mnl_socket *nl, int family, const void *dst,
		     const void *src, const struct sa_path *p, int reverse,
		     struct sa_mtu *m, unsigned int *rtype)
{
	struct route_answer ra;
	struct link_answer la;

	/* A source that is not local makes the lookup fail: retry without. */
	if (route_get(nl, family, dst, src, p->oif, p->mark, &ra) < 0 &&
	    (!src || route_get(nl, family, dst, NULL, p->oif, p->mark,
			       &ra) < 0)) {
		snprintf(m->why, sizeof(m->why), "no route: %s",
			 strerror(errno));
		return -1;
	}
	*rtype = ra.type;
	if (ra.oif && link_get(nl, ra.oif, &la) == 0) {
		snprintf(m->dev, sizeof(m->dev), "%s", la.name);
	} else {
		la.mtu = 0;
		if (!ra.oif)
			snprintf(m->why, sizeof(m->why), "route has no device");
		else
			snprintf(m->why, sizeof(m->why), "device %u: %s",
				 ra.oif, strerror(errno));
	}
	if (ra.mtu) {
		m->mtu = ra.mtu;
		m->source = reverse ? "reverse-route" : "route";
	} else if (la.mtu) {
		m->mtu = la.mtu;
		m->source = reverse ? "reverse-link" : "link";
	} else {
		return -1;
	}
	if (m->mtu > MTU_MAX)
		m->mtu = MTU_MAX;	/* lo's 65536 */
	return 0;
}

/*
 * The outer MTU of an SA.  An outbound SA's packets follow the route to
 * its destination.  An inbound SA's destination is this host (a local
 * route): its packets come from the peer, so the route back to the peer
 * stands for that path.
 */
static void sa_find_mtu(struct mnl_socket *nl, const struct sa *sa,
			const struct sa_path *p, unsigned int override,
			struct sa_mtu *m)
{
	unsigned int rtype = 0;

	memset(m, 0, sizeof(*m));
	m->source = "-";
	if (override) {
		m->mtu = override;
		m->source = "option";
		return;
	}
	if (!nl) {
		snprintf(m->why, sizeof(m->why), "no rtnetlink socket");
		return;
	}
	if (sa->family != AF_INET && sa->family != AF_INET6) {
		snprintf(m->why, sizeof(m->why), "address family %d",
			 sa->family);
		return;
	}
	if (route_mtu(nl, sa->family, &sa->daddr, &sa->saddr, p, 0, m,
		      &rtype) < 0)
		return;
	if (rtype == RTN_LOCAL) {
		memset(m, 0, sizeof(*m));
		m->source = "-";
		route_mtu(nl, sa->family, &sa->saddr, &sa->daddr, p, 1, m,
			  &rtype);
	}
}

enum sa_status {
	SA_OK = 0,
	SA_NOT_ESP,
	SA_UNKNOWN_ALG,
	SA_BAD_MODE,
	SA_BAD_ENCAP,
	SA_BAD_FAMILY,
	SA_NO_MTU,
	SA_TOO_SMALL,
};

static const char *const sa_status_names[] = {
	[SA_OK] = "ok",
	[SA_NOT_ESP] = "not_esp",
	[SA_UNKNOWN_ALG] = "unknown_algorithm",
	[SA_BAD_MODE] = "unsupported_mode",
	[SA_BAD_ENCAP] = "unsupported_encap",
	[SA_BAD_FAMILY] = "unsupported_family",
	[SA_NO_MTU] = "no_mtu",
	[SA_TOO_SMALL] = "mtu_too_small",
};

/* What the CLI makes of one SA. */
struct sa_view {
	enum sa_status status;
	char note[160];
	char suite[160];
	unsigned int block, iv, icv;
	struct sa_mtu mtu;
	struct esp_report r;
	const struct tunnel_dev *tun;	/* its route-based device, if any */
	char tun_link[IFNAME_LEN];	/* that device's underlay device */
};

static const char *proto_name(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_ESP:	return "esp";
	case IPPROTO_AH:	return "ah";
	case IPPROTO_COMP:	return "comp";
	default:		return "other";
	}
}

static const char *mode_name(unsigned int mode)
{
	switch (mode) {
	case XFRM_MODE_TRANSPORT:		return "transport";
	case XFRM_MODE_TUNNEL:			return "tunnel";
	case XFRM_MODE_ROUTEOPTIMIZATION:	return "ro";
	case XFRM_MODE_IN_TRIGGER:		return "in_trigger";
	case XFRM_MODE_BEET:			return "beet";
	default:				return "other";
	}
}

static const char *encap_name(const struct sa *sa)
{
	if (!sa->has_encap)
		return "-";
	switch (sa->encap_type) {
	case UDP_ENCAP_ESPINUDP:		return "espinudp";
	case UDP_ENCAP_ESPINUDP_NON_IKE:	return "espinudp-nonike";
	case TCP_ENCAP_ESPINTCP:		return "espintcp";
	default:				return "other";
	}
}

/* "NAME" for a table entry found exactly, else "KNAME/BITS". */
static void alg_label(char *buf, size_t len, const struct alg *a, int exact,
		      const char *kname, unsigned int bits)
{
	if (exact)
		snprintf(buf, len, "%s", a->name);
	else
		snprintf(buf, len, "%s/%u", kname, bits);
}

/*
 * Block, IV and ICV of the SA's algorithms from the table, the ICV taken
 * from the SA itself (its truncation) as the kernel's authsize is.
 */
static enum sa_status sa_lookup_algs(const struct sa *sa, struct sa_view *v)
{
	const struct alg *a, *h;
	char auth[96];
	int exact;

	if (sa->has_aead) {
		a = alg_by_kname(ALG_AEAD, sa->aead, sa->aead_icv_bits / 8,
				 &exact);
		if (!a || sa->aead_icv_bits % 8) {
			snprintf(v->note, sizeof(v->note),
				 "unknown algorithm '%s' (icv %u bits)",
				 sa->aead, sa->aead_icv_bits);
			return SA_UNKNOWN_ALG;
		}
		v->block = a->block;
		v->iv = a->iv;
		v->icv = sa->aead_icv_bits / 8;
		alg_label(v->suite, sizeof(v->suite), a, exact, sa->aead,
			  sa->aead_icv_bits);
		return SA_OK;
	}
	if (!sa->has_enc) {
		snprintf(v->note, sizeof(v->note),
			 "unknown algorithm: the SA has no encryption or AEAD algorithm");
		return SA_UNKNOWN_ALG;
	}
	a = alg_by_kname(ALG_ENC, sa->enc, 0, &exact);
	if (!a) {
		snprintf(v->note, sizeof(v->note), "unknown algorithm '%s'",
			 sa->enc);
		return SA_UNKNOWN_ALG;
	}
	v->block = a->block;
	v->iv = a->iv;
	v->icv = 0;
	snprintf(auth, sizeof(auth), "none");
	if (sa->has_auth) {
		h = alg_by_kname(ALG_AUTH, sa->auth, sa->auth_trunc_bits / 8,
				 &exact);
		if (!h || sa->auth_trunc_bits % 8 ||
		    (!sa->auth_trunc_bits && strcmp(sa->auth, "digest_null"))) {
			snprintf(v->note, sizeof(v->note),
				 "unknown algorithm '%s' (truncation %u bits)",
				 sa->auth, sa->auth_trunc_bits);
			return SA_UNKNOWN_ALG;
		}
		v->icv = sa->auth_trunc_bits / 8;
		alg_label(auth, sizeof(auth), h, exact, sa->auth,
			  sa->auth_trunc_bits);
	}
	snprintf(v->suite, sizeof(v->suite), "%s+%s", a->name, auth);
	return SA_OK;
}

/* The SA's route-based device, and the name of that device's link. */
static void sa_find_tunnel(struct mnl_socket *rt, const struct sa *sa,
			   const struct tunnel_list *tl, struct sa_view *v,
			   struct sa_path *p)
{
	struct link_answer la;

	memset(p, 0, sizeof(*p));
	v->tun = tunnel_for_sa(tl, sa);
	snprintf(v->tun_link, sizeof(v->tun_link), "-");
	if (!v->tun)
		return;
	p->oif = v->tun->link;
	p->mark = tunnel_mark(v->tun, sa);
	if (p->oif && rt && link_get(rt, p->oif, &la) == 0 && la.name[0])
		snprintf(v->tun_link, sizeof(v->tun_link), "%s", la.name);
}

static enum sa_status sa_analyse(const struct sa *sa, struct mnl_socket *rt,
				 const struct tunnel_list *tl,
				 unsigned int override, struct sa_view *v)
{
	struct ipsecmss_esp esp;
	struct sa_path path;
	enum sa_status st;
	int v6 = sa->family == AF_INET6;

	memset(v, 0, sizeof(*v));
	snprintf(v->suite, sizeof(v->suite), "-");
	v->mtu.source = "-";
	sa_find_tunnel(rt, sa, tl, v, &path);
	if (sa->proto != IPPROTO_ESP) {
		snprintf(v->note, sizeof(v->note),
			 "not ESP (%s): no ESP overhead to compute",
			 proto_name(sa->proto));
		return SA_NOT_ESP;
	}
	st = sa_lookup_algs(sa, v);
	if (st != SA_OK)
		return st;
	if (sa->family != AF_INET && sa->family != AF_INET6) {
		snprintf(v->note, sizeof(v->note), "address family %d",
			 sa->family);
		return SA_BAD_FAMILY;
	}
	if (sa->mode != XFRM_MODE_TUNNEL && sa->mode != XFRM_MODE_TRANSPORT) {
		snprintf(v->note, sizeof(v->note),
			 "mode %s: only tunnel and transport are computed (as by the kernel module)",
			 mode_name(sa->mode));
		return SA_BAD_MODE;
	}
	if (sa->has_encap && sa->encap_type != UDP_ENCAP_ESPINUDP) {
		snprintf(v->note, sizeof(v->note),
			 "encapsulation %s: only espinudp (RFC 3948) is computed",
			 encap_name(sa));
		return SA_BAD_ENCAP;
	}
	sa_find_mtu(rt, sa, &path, override, &v->mtu);
	if (!v->mtu.mtu) {
		snprintf(v->note, sizeof(v->note),
			 "route MTU unknown (%s): give --mtu", v->mtu.why);
		return SA_NO_MTU;
	}
	esp_describe(&esp, v6, sa->has_encap, sa->mode == XFRM_MODE_TRANSPORT,
		     v->block, v->iv, v->icv);
	report_compute(&v->r, &esp, v->mtu.mtu, v6);
	if (!v->r.inner_max) {
		snprintf(v->note, sizeof(v->note),
			 "MTU %u leaves no room for any packet", v->mtu.mtu);
		return SA_TOO_SMALL;
	}
	return SA_OK;
}

static void addr_str(int family, const xfrm_address_t *a, char *buf,
		     size_t len)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

/* if_id, mark and, for a route-based tunnel, its device and MSS. */
static void sa_record_tunnel(struct record *rec, const struct sa *sa,
			     const struct sa_view *v)
{
	const struct tunnel_dev *d = v->tun;
	char buf[32];

	if (sa->if_id)
		rec_uint(rec, "if_id", sa->if_id);
	if (sa->mark_mask) {
		snprintf(buf, sizeof(buf), "0x%x/0x%x", sa->mark,
			 sa->mark_mask);
		rec_str(rec, "mark", buf);
	}
	if (!d)
		return;
	rec_str(rec, "dev", d->name);
	rec_str(rec, "dev_kind", tunnel_kind_name(d->kind));
	rec_uint(rec, "dev_mtu", d->mtu);
	rec_str(rec, "dev_link", v->tun_link);
	rec_uint_or_na(rec, "dev_mss4", v->status == SA_OK && v->r.v4_ok,
		       tunnel_mss(d->mtu, v->r.inner_max, 0));
	rec_uint_or_na(rec, "dev_mss6", v->status == SA_OK && v->r.v6_ok,
		       tunnel_mss(d->mtu, v->r.inner_max, 1));
}

static void sa_print_record(const struct sa *sa, const struct sa_view *v,
			    enum out_format fmt)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], spi[16];
	struct record rec;

	addr_str(sa->family, &sa->saddr, src, sizeof(src));
	addr_str(sa->family, &sa->daddr, dst, sizeof(dst));
	snprintf(spi, sizeof(spi), "0x%08x", sa->spi);
	rec_begin(&rec, fmt);
	rec_str(&rec, "src", src);
	rec_str(&rec, "dst", dst);
	rec_str(&rec, "spi", spi);
	rec_str(&rec, "proto", proto_name(sa->proto));
	rec_str(&rec, "mode", mode_name(sa->mode));
	rec_str(&rec, "family", sa->family == AF_INET6 ? "ipv6" : "ipv4");
	rec_uint(&rec, "reqid", sa->reqid);
	rec_str(&rec, "enc", sa->has_enc ? sa->enc : "-");
	rec_uint_or_na(&rec, "enc_key_bits", sa->has_enc, sa->enc_key_bits);
	rec_str(&rec, "auth", sa->has_auth ? sa->auth : "-");
	rec_uint_or_na(&rec, "auth_trunc_bits", sa->has_auth,
		       sa->auth_trunc_bits);
	rec_str(&rec, "aead", sa->has_aead ? sa->aead : "-");
	rec_uint_or_na(&rec, "aead_icv_bits", sa->has_aead,
		       sa->aead_icv_bits);
	rec_uint(&rec, "natt",
		 sa->has_encap && sa->encap_type == UDP_ENCAP_ESPINUDP);
	rec_str(&rec, "encap", encap_name(sa));
	rec_str(&rec, "suite", v->suite);
	rec_str(&rec, "status", sa_status_names[v->status]);
	rec_uint_or_na(&rec, "mtu", v->mtu.mtu != 0, v->mtu.mtu);
	rec_str(&rec, "mtu_source", v->mtu.mtu ? v->mtu.source : "-");
	if (v->status == SA_OK)
		rec_report(&rec, &v->r);
	sa_record_tunnel(&rec, sa, v);
	rec_end(&rec);
}

static void sa_print_algs_text(const struct sa *sa)
{
	printf("  %-22s ", "Algorithms:");
	if (sa->has_aead)
		printf("aead %s (icv %u bits)", sa->aead, sa->aead_icv_bits);
	if (sa->has_enc)
		printf("enc %s (%u-bit key)", sa->enc, sa->enc_key_bits);
	if (sa->has_auth)
		printf("%sauth %s (truncated to %u bits)",
		       sa->has_enc || sa->has_aead ? ", " : "", sa->auth,
		       sa->auth_trunc_bits);
	if (!sa->has_aead && !sa->has_enc && !sa->has_auth)
		printf("none");
	printf("\n");
}

static void sa_print_tunnel_text(const struct sa *sa, const struct sa_view *v)
{
	const struct tunnel_dev *d = v->tun;

	if (sa->if_id)
		printf("  %-22s %u\n", "if_id:", sa->if_id);
	if (sa->mark_mask)
		printf("  %-22s 0x%x/0x%x\n", "Mark:", sa->mark, sa->mark_mask);
	if (!d) {
		if (sa->if_id || sa->mark_mask)
			printf("  %-22s none of this if_id or key\n",
			       "Tunnel device:");
		return;
	}
	printf("  %-22s %s (%s, MTU %u, link %s)\n", "Tunnel device:",
	       d->name, tunnel_kind_name(d->kind), d->mtu, v->tun_link);
	if (v->status != SA_OK)
		return;
	if (v->r.v4_ok)
		printf("  %-24s %u\n", "Exact MSS via dev, IPv4:",
		       tunnel_mss(d->mtu, v->r.inner_max, 0));
	if (v->r.v6_ok)
		printf("  %-24s %u\n", "Exact MSS via dev, IPv6:",
		       tunnel_mss(d->mtu, v->r.inner_max, 1));
}

static void sa_print_text(const struct sa *sa, const struct sa_view *v)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	addr_str(sa->family, &sa->saddr, src, sizeof(src));
	addr_str(sa->family, &sa->daddr, dst, sizeof(dst));
	printf("SA %s -> %s spi 0x%08x %s %s reqid %u\n", src, dst, sa->spi,
	       proto_name(sa->proto), mode_name(sa->mode), sa->reqid);
	sa_print_algs_text(sa);
	if (strcmp(v->suite, "-"))
		printf("  %-22s %s\n", "Suite:", v->suite);
	printf("  %-22s %s\n", "NAT-T:", sa->has_encap ? encap_name(sa) : "no");
	if (v->mtu.mtu) {
		printf("  %-22s %u (%s", "Route MTU:", v->mtu.mtu,
		       v->mtu.source);
		if (v->mtu.dev[0])
			printf(", dev %s", v->mtu.dev);
		printf(")\n");
	}
	sa_print_tunnel_text(sa, v);
	if (v->status != SA_OK) {
		printf("  %-22s %s\n", "Note:", v->note);
		return;
	}
	report_print_text("  ", &v->r, 3);
}

void sa_usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " sa [--mtu N] [--format text|kv|json]\n");
	fprintf(f, "The host's IPsec SAs (netlink XFRM dump) with their ESP overhead, largest\n");
	fprintf(f, "inner packet and exact MSS for inner IPv4 and IPv6; for an SA of an XFRM\n");
	fprintf(f, "interface (its if_id) or a vti/vti6 device (its key as the SA's mark), also\n");
	fprintf(f, "the device and the exact MSS through it.\n");
	fprintf(f, "  --mtu N            use this outer MTU instead of the route's\n");
	usage_format(f);
}

static void sa_print_all(const struct sa_list *l, struct mnl_socket *rt,
			 const struct tunnel_list *tl, const struct cli_opts *o)
{
	struct sa_view v;
	size_t i;

	if (o->format == FMT_TEXT && !l->n)
		printf("No SAs.\n");
	list_begin(o->format);
	for (i = 0; i < l->n; i++) {
		v.status = sa_analyse(&l->v[i], rt, tl, o->mtu, &v);
		list_sep(o->format, (unsigned int)i);
		if (o->format != FMT_TEXT) {
			sa_print_record(&l->v[i], &v, o->format);
			continue;
		}
		if (i)
			printf("\n");
		sa_print_text(&l->v[i], &v);
	}
	list_end(o->format);
}

int sa_main(const struct command *cmd, int argc, char **argv)
{
	struct tunnel_list tl = { NULL, 0, 0 };
	struct sa_list l = { NULL, 0, 0, 0 };
	struct mnl_socket *rt;
	struct cli_opts o;
	int rc;

	rc = cli_parse(cmd, argc, argv, &o);
	if (rc)
		return rc;
	if (sa_dump(&l) < 0) {
		runtime_error("cannot dump the SAs (netlink XFRM_MSG_GETSA): %s%s",
			      strerror(errno),
			      errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		free(l.v);
		return EXIT_RUNTIME;
	}
	if (l.bad)
		runtime_error("warning: some SA messages were malformed");
	rt = nl_open(NETLINK_ROUTE);
	if (rt && tunnel_dump(rt, &tl) < 0)
		runtime_error("warning: cannot list the tunnel devices: %s",
			      strerror(errno));
	sa_print_all(&l, rt, &tl, &o);
	nl_close(rt);
	free(tl.v);
	free(l.v);
	return 0;
}
