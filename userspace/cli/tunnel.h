/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Route-based tunnels: which XFRM interface or VTI device an SA belongs
 * to, and the MSS through that device.  Pure functions, no netlink, so
 * that tests/cli/tunnel_test.c can run them.
 */
#ifndef IPSECMSS_TUNNEL_H
#define IPSECMSS_TUNNEL_H

#include "netlink.h"

const char *tunnel_kind_name(enum tunnel_kind kind);
int tunnel_owns_sa(const struct tunnel_dev *d, const struct sa *sa);
const struct tunnel_dev *tunnel_for_sa(const struct tunnel_list *l,
				       const struct sa *sa);
unsigned int tunnel_mark(const struct tunnel_dev *d, const struct sa *sa);
unsigned int tunnel_mss(unsigned int dev_mtu, unsigned int sa_inner_max,
			int v6);

#endif
