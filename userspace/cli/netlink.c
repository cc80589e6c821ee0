// SPDX-License-Identifier: GPL-2.0
/* The netlink/XFRM reader of ipsecmss(8): see netlink.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "cli.h"
#include "netlink.h"

/* The kernel sizes dump messages to the reader's buffer, up to 32 KiB. */
#define NL_BUF_SIZE	32768u

/*
 * Send the request @nlh and run @cb on every answer until the end of a
 * dump (NLMSG_DONE) or, for a single request, which must carry NLM_F_ACK,
 * the acknowledgement; -1 with errno set on failure (a netlink error
 * included).
 */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data)
{
	unsigned int portid = mnl_socket_get_portid(nl);
	unsigned int seq = nlh->nlmsg_seq;
	char *buf;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	buf = malloc(NL_BUF_SIZE);
	if (!buf)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl, buf, NL_BUF_SIZE);
		if (n <= 0) {
			ret = -1;
			if (n == 0)
				errno = EIO;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);
	free(buf);
	return ret < 0 ? -1 : 0;
}

struct mnl_socket *nl_open(int bus)
{
	struct mnl_socket *nl = mnl_socket_open(bus);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

void nl_close(struct mnl_socket *nl)
{
	if (nl)
		mnl_socket_close(nl);
}

/* A request header of @type with @flags and a fresh sequence number. */
static struct nlmsghdr *nl_request(char *buf, unsigned int type,
				   unsigned int flags)
{
	static unsigned int seq;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	if (!seq)
		seq = (unsigned int)time(NULL);
	nlh->nlmsg_type = (unsigned short)type;
	nlh->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
	nlh->nlmsg_seq = ++seq;
	return nlh;
}

/* The next free element of a growing array; NULL when out of memory. */
static void *list_slot(void **v, size_t *n, size_t *cap, size_t size)
{
	char *p;

	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;

		p = realloc(*v, c * size);
		if (!p)
			return NULL;
		*v = p;
		*cap = c;
	}
	p = (char *)*v + (*n)++ * size;
	memset(p, 0, size);
	return p;
}

/* Attributes by type into a table of max + 1 entries. */
struct attr_table {
	const struct nlattr **tb;
	unsigned int max;
};

static int attr_table_cb(const struct nlattr *attr, void *data)
{
	const struct attr_table *t = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

static int attr_fits(const struct nlattr *a, size_t len)
{
	return a && mnl_attr_get_payload_len(a) >= len;
}

static unsigned int attr_u32(const struct nlattr *a)
{
	return attr_fits(a, sizeof(unsigned int)) ? mnl_attr_get_u32(a) : 0;
}

/* ------------------------------------------------------------- SA dump */

/*
 * The payload of an algorithm attribute at least @len long (every
 * struct xfrm_algo* starts with the 64-byte name), its name copied to
 * @name and *@has set; NULL when absent or short.
 */
static const void *sa_alg(const struct nlattr *a, size_t len, int *has,
			  char *name)
{
	const struct xfrm_algo *algo;

	if (!attr_fits(a, len))
		return NULL;
	algo = mnl_attr_get_payload(a);
	memcpy(name, algo->alg_name, 64);
	name[64] = '\0';
	*has = 1;
	return algo;
}

static void sa_read_algs(struct sa *sa, const struct nlattr **tb)
{
	const struct xfrm_algo_aead *aead;
	const struct xfrm_algo_auth *auth;
	const struct xfrm_algo *enc;

	enc = sa_alg(tb[XFRMA_ALG_CRYPT], sizeof(*enc), &sa->has_enc, sa->enc);
	if (enc)
		sa->enc_key_bits = enc->alg_key_len;
	auth = sa_alg(tb[XFRMA_ALG_AUTH_TRUNC], sizeof(*auth), &sa->has_auth,
		      sa->auth);
	if (auth)
		sa->auth_trunc_bits = auth->alg_trunc_len;
	else	/* Not seen from a kernel that has AUTH_TRUNC: no ICV size. */
		sa_alg(tb[XFRMA_ALG_AUTH], sizeof(*enc), &sa->has_auth,
		       sa->auth);
	aead = sa_alg(tb[XFRMA_ALG_AEAD], sizeof(*aead), &sa->has_aead,
		      sa->aead);
	if (aead) {
		sa->aead_key_bits = aead->alg_key_len;
		sa->aead_icv_bits = aead->alg_icv_len;
	}
	if (attr_fits(tb[XFRMA_ENCAP], sizeof(struct xfrm_encap_tmpl))) {
		const struct xfrm_encap_tmpl *t = mnl_attr_get_payload(tb[XFRMA_ENCAP]);

		sa->has_encap = 1;
		sa->encap_type = t->encap_type;
	}
}

/* What ties an SA to a route-based tunnel: its if_id, its mark. */
static void sa_read_keys(struct sa *sa, const struct nlattr **tb)
{
	sa->if_id = attr_u32(tb[XFRMA_IF_ID]);
	if (attr_fits(tb[XFRMA_MARK], sizeof(struct xfrm_mark))) {
		const struct xfrm_mark *m = mnl_attr_get_payload(tb[XFRMA_MARK]);

		sa->mark = m->v;
		sa->mark_mask = m->m;
	}
}

static int sa_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[XFRMA_MAX + 1] = { NULL };
	struct attr_table t = { tb, XFRMA_MAX };
	const struct xfrm_usersa_info *info;
	struct sa_list *l = data;
	struct sa *sa;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*info))) {
		l->bad = 1;
		return MNL_CB_OK;
	}
	sa = list_slot((void **)&l->v, &l->n, &l->cap, sizeof(*sa));
	if (!sa)
		return MNL_CB_ERROR;
	info = mnl_nlmsg_get_payload(nlh);
	sa->family = info->family;
	sa->saddr = info->saddr;
	sa->daddr = info->id.daddr;
	sa->spi = ntohl(info->id.spi);
	sa->proto = info->id.proto;
	sa->mode = info->mode;
	sa->reqid = info->reqid;
	if (mnl_attr_parse(nlh, sizeof(*info), attr_table_cb, &t) < 0)
		l->bad = 1;
	sa_read_algs(sa, tb);
	sa_read_keys(sa, tb);
	return MNL_CB_OK;
}

int sa_dump(struct sa_list *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret;

	nl = nl_open(NETLINK_XFRM);
	if (!nl)
		return -1;
	nlh = nl_request(buf, XFRM_MSG_GETSA, NLM_F_DUMP);
	ret = nl_talk(nl, nlh, sa_msg_cb, l);
	mnl_socket_close(nl);
	return ret;
}

/* ------------------------------------------------------ route and link */

static int metrics_cb(const struct nlattr *attr, void *data)
{
	struct route_answer *a = data;

	if (mnl_attr_get_type(attr) == RTAX_MTU &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		a->mtu = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			a->oif = mnl_attr_get_u32(attr);
		break;
	case RTA_METRICS:
		mnl_attr_parse_nested(attr, metrics_cb, a);
		break;
	}
	return MNL_CB_OK;
}

static int route_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_answer *a = data;
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	a->found = 1;
	a->type = rtm->rtm_type;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, a);
	return MNL_CB_OK;
}

/*
 * RTM_GETROUTE for @dst (from @src when not NULL, out of @oif and with
 * the flow mark @mark when not 0), as `ip route get`.
 */
int route_get(struct mnl_socket *nl, int family, const void *dst,
	      const void *src, unsigned int oif, unsigned int mark,
	      struct route_answer *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int alen = family == AF_INET6 ? 16 : 4;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(a, 0, sizeof(*a));
	nlh = nl_request(buf, RTM_GETROUTE, NLM_F_ACK);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	if (src) {
		rtm->rtm_src_len = (unsigned char)(alen * 8);
		mnl_attr_put(nlh, RTA_SRC, alen, src);
	}
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, oif);
	if (mark)
		mnl_attr_put_u32(nlh, RTA_MARK, mark);
	if (nl_talk(nl, nlh, route_msg_cb, a) < 0)
		return -1;
	if (!a->found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* The attributes of an RTM_NEWLINK message, by type. */
static int link_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	struct attr_table t = { tb, IFLA_MAX };

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -1;
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), attr_table_cb,
			      &t) < 0 ? -1 : 0;
}

static void link_name(const struct nlattr *a, char *name, size_t len)
{
	if (a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(name, len, "%s", mnl_attr_get_str(a));
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	struct link_answer *a = data;

	if (link_attrs(nlh, tb) == 0) {
		a->mtu = attr_u32(tb[IFLA_MTU]);
		link_name(tb[IFLA_IFNAME], a->name, sizeof(a->name));
	}
	return MNL_CB_OK;
}

int link_get(struct mnl_socket *nl, unsigned int ifindex,
	     struct link_answer *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	memset(a, 0, sizeof(*a));
	nlh = nl_request(buf, RTM_GETLINK, NLM_F_ACK);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	return nl_talk(nl, nlh, link_msg_cb, a);
}

/* ------------------------------------------------------ tunnel devices */

/* IFLA_INFO_KIND of the route-based IPsec devices. */
static int tunnel_kind(const char *kind, enum tunnel_kind *k)
{
	if (!strcmp(kind, "xfrm"))
		*k = TUNNEL_XFRM;
	else if (!strcmp(kind, "vti"))
		*k = TUNNEL_VTI;
	else if (!strcmp(kind, "vti6"))
		*k = TUNNEL_VTI6;
	else
		return -1;
	return 0;
}

/* An address attribute of a vti (4 bytes) or vti6 (16) device. */
static void vti_addr(const struct nlattr *a, xfrm_address_t *addr)
{
	unsigned int len = a ? mnl_attr_get_payload_len(a) : 0;

	if (len == 4 || len == 16)
		memcpy(addr, mnl_attr_get_payload(a), len);
}

static void tunnel_read_data(struct tunnel_dev *d, const struct nlattr *data)
{
	/* One table for both kinds: vti's numbering is the longer. */
	const struct nlattr *tb[IFLA_VTI_MAX + 1] = { NULL };
	struct attr_table t = { tb, IFLA_VTI_MAX };

	_Static_assert(IFLA_XFRM_MAX <= IFLA_VTI_MAX, "attribute table");

	if (!data || mnl_attr_parse_nested(data, attr_table_cb, &t) < 0)
		return;
	if (d->kind == TUNNEL_XFRM) {
		d->link = attr_u32(tb[IFLA_XFRM_LINK]);
		d->if_id = attr_u32(tb[IFLA_XFRM_IF_ID]);
		return;
	}
	d->link = attr_u32(tb[IFLA_VTI_LINK]);
	d->ikey = ntohl(attr_u32(tb[IFLA_VTI_IKEY]));
	d->okey = ntohl(attr_u32(tb[IFLA_VTI_OKEY]));
	vti_addr(tb[IFLA_VTI_LOCAL], &d->local);
	vti_addr(tb[IFLA_VTI_REMOTE], &d->remote);
}

static int tunnel_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	const struct nlattr *info[IFLA_INFO_MAX + 1] = { NULL };
	struct attr_table t = { info, IFLA_INFO_MAX };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct tunnel_list *l = data;
	struct tunnel_dev *d;
	enum tunnel_kind kind;

	if (link_attrs(nlh, tb) < 0 || !tb[IFLA_LINKINFO] ||
	    mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_table_cb, &t) < 0 ||
	    !info[IFLA_INFO_KIND] ||
	    mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_NUL_STRING) < 0 ||
	    tunnel_kind(mnl_attr_get_str(info[IFLA_INFO_KIND]), &kind) < 0)
		return MNL_CB_OK;
	d = list_slot((void **)&l->v, &l->n, &l->cap, sizeof(*d));
	if (!d)
		return MNL_CB_ERROR;
	d->kind = kind;
	d->ifindex = (unsigned int)ifi->ifi_index;
	d->mtu = attr_u32(tb[IFLA_MTU]);
	link_name(tb[IFLA_IFNAME], d->name, sizeof(d->name));
	tunnel_read_data(d, info[IFLA_INFO_DATA]);
	return MNL_CB_OK;
}

/* Every XFRM interface, vti and vti6 device of this network namespace. */
int tunnel_dump(struct mnl_socket *nl, struct tunnel_list *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = nl_request(buf, RTM_GETLINK, NLM_F_DUMP);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return nl_talk(nl, nlh, tunnel_msg_cb, l);
}
