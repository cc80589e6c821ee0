// SPDX-License-Identifier: GPL-2.0
/*
 * Route-based tunnels, as the kernel's transmit finds their SAs:
 *  - an XFRM interface looks its bundle up with its own if_id
 *    (xfrm_lookup_with_ifid()), so its SAs are those with that if_id;
 *  - a vti / vti6 device sets the flow mark to its o_key on output (and
 *    the packet mark to its i_key on input), so its SAs are those whose
 *    mark matches that key, between the device's endpoints when it has
 *    them.
 * The packet sent through the device is then limited twice: by the
 * device's MTU and by what the SA lets through over the underlay route.
 */
#include <string.h>
#include <sys/socket.h>

#include "ipsecmss_core.h"
#include "tunnel.h"

const char *tunnel_kind_name(enum tunnel_kind kind)
{
	switch (kind) {
	case TUNNEL_XFRM:	return "xfrm";
	case TUNNEL_VTI:	return "vti";
	case TUNNEL_VTI6:	return "vti6";
	}
	return "other";
}

static int addr_is_any(const xfrm_address_t *a)
{
	static const xfrm_address_t any;

	return !memcmp(a, &any, sizeof(any));
}

/* A device endpoint matches the SA's address when it is set at all. */
static int endpoint_ok(const xfrm_address_t *dev, const xfrm_address_t *sa,
		       int family)
{
	size_t len = family == AF_INET6 ? 16 : 4;

	return addr_is_any(dev) || !memcmp(dev, sa, len);
}

static int mark_ok(unsigned int key, const struct sa *sa)
{
	return sa->mark_mask && (key & sa->mark_mask) == sa->mark;
}

/* Outbound (o_key, local -> remote) or inbound (i_key, remote -> local). */
static int vti_owns_sa(const struct tunnel_dev *d, const struct sa *sa)
{
	int family = d->kind == TUNNEL_VTI6 ? AF_INET6 : AF_INET;

	if (sa->family != family)
		return 0;
	if (mark_ok(d->okey, sa) &&
	    endpoint_ok(&d->local, &sa->saddr, family) &&
	    endpoint_ok(&d->remote, &sa->daddr, family))
		return 1;
	return mark_ok(d->ikey, sa) &&
	       endpoint_ok(&d->remote, &sa->saddr, family) &&
	       endpoint_ok(&d->local, &sa->daddr, family);
}

int tunnel_owns_sa(const struct tunnel_dev *d, const struct sa *sa)
{
	if (d->kind == TUNNEL_XFRM)
		return sa->if_id && sa->if_id == d->if_id;
	return vti_owns_sa(d, sa);
}

const struct tunnel_dev *tunnel_for_sa(const struct tunnel_list *l,
				       const struct sa *sa)
{
	size_t i;

	if (!sa->if_id && !sa->mark_mask)
		return NULL;
	for (i = 0; i < l->n; i++)
		if (tunnel_owns_sa(&l->v[i], sa))
			return &l->v[i];
	return NULL;
}

/*
 * The flow mark of the device's own lookups (vti: its key; an XFRM
 * interface leaves the packet's): the underlay route may depend on it.
 */
unsigned int tunnel_mark(const struct tunnel_dev *d, const struct sa *sa)
{
	if (!d || d->kind == TUNNEL_XFRM)
		return 0;
	return mark_ok(d->okey, sa) ? d->okey : d->ikey;
}

/*
 * The MSS of a TCP segment routed into the device: its inner packet must
 * fit both the device's MTU and what the SA carries over the underlay.
 */
unsigned int tunnel_mss(unsigned int dev_mtu, unsigned int sa_inner_max,
			int v6)
{
	unsigned int inner = dev_mtu && dev_mtu < sa_inner_max ?
			     dev_mtu : sa_inner_max;

	return ipsecmss_mss_for_mtu(inner, 0, v6);
}
