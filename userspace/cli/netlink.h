/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The netlink/XFRM reader of ipsecmss(8): the SA dump (NETLINK_XFRM), the
 * route and link look-ups and the route-based tunnel devices (rtnetlink).
 * What it reads is plain data; tunnel.c and sa.c interpret it.
 */
#ifndef IPSECMSS_NETLINK_H
#define IPSECMSS_NETLINK_H

#include <stddef.h>
#include <linux/xfrm.h>

struct mnl_socket;

/* IFNAMSIZ, without <net/if.h>, which <linux/if.h> cannot stand. */
#define IFNAME_LEN	16

/* One SA as the kernel dumped it. */
struct sa {
	int family;
	xfrm_address_t saddr, daddr;
	unsigned int spi;	/* host order */
	unsigned int proto, mode, reqid;
	int has_enc, has_auth, has_aead, has_encap;
	char enc[65], auth[65], aead[65];
	unsigned int enc_key_bits, auth_trunc_bits, aead_key_bits;
	unsigned int aead_icv_bits;
	unsigned int encap_type;
	unsigned int if_id;		/* XFRMA_IF_ID, 0: none */
	unsigned int mark, mark_mask;	/* XFRMA_MARK, mask 0: none */
};

struct sa_list {
	struct sa *v;
	size_t n, cap;
	int bad;	/* a message too short to be an SA */
};

enum tunnel_kind { TUNNEL_XFRM, TUNNEL_VTI, TUNNEL_VTI6 };

/*
 * A route-based IPsec device: an XFRM interface (its SAs and policies
 * carry its if_id) or a VTI / vti6 device (the flow mark of its output is
 * the o_key, of its input the i_key).
 */
struct tunnel_dev {
	enum tunnel_kind kind;
	unsigned int ifindex;
	char name[IFNAME_LEN];
	unsigned int mtu;
	unsigned int link;	/* the underlay device's ifindex, 0: any */
	unsigned int if_id;	/* xfrm */
	unsigned int ikey, okey;	/* vti, host order */
	xfrm_address_t local, remote;	/* vti, all zero: any */
};

struct tunnel_list {
	struct tunnel_dev *v;
	size_t n, cap;
};

struct route_answer {
	unsigned int mtu;	/* RTAX_MTU of the route, 0 if none */
	unsigned int oif;
	unsigned int type;	/* RTN_* */
	int found;
};

struct link_answer {
	unsigned int mtu;
	char name[IFNAME_LEN];
};

struct mnl_socket *nl_open(int bus);
void nl_close(struct mnl_socket *nl);
int sa_dump(struct sa_list *l);
int tunnel_dump(struct mnl_socket *nl, struct tunnel_list *l);
int route_get(struct mnl_socket *nl, int family, const void *dst,
	      const void *src, unsigned int oif, unsigned int mark,
	      struct route_answer *a);
int link_get(struct mnl_socket *nl, unsigned int ifindex,
	     struct link_answer *a);

#endif
