/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the one place where kernel API differences between the
 * supported kernels are handled, so that the module's .c files never test
 * LINUX_VERSION_CODE themselves.
 *
 * Supported and tested (tests/kernels/, make check): Debian 11's 5.10,
 * Debian 12's 6.1, its 6.12 backport and the newest Debian kernel (7.3,
 * Debian 13's backport), each built with its own release's gcc and W=1.
 *
 * Today there is no difference to handle: every interface the module uses
 * (the xtables target API, skb_ensure_writable(), dst_mtu() of a route or
 * xfrm bundle, DST_XFRM_QUEUE, xfrm_lookup() and xfrm_lookup_with_ifid(),
 * struct xfrm_if's p.if_id, p.link and net, struct ip_tunnel's and struct
 * ip6_tnl's parms.o_key and net, l3mdev_master_ifindex_rcu(),
 * proc_create_net_single(), per-CPU counters; for the lookup cache
 * dst_check(), rt6_get_cookie(), rt_genid_ipv4() / rt_genid_ipv6(),
 * xfrm_dst_child(), xfrm_policy_walk() and struct xfrm_selector's port
 * masks, netdevice notifiers) has the same form on all of them.  A
 * difference found by a new kernel gets a helper here, named for what it
 * does, with the kernel version that changed it.  Older kernels are
 * untested: dkms.conf's BUILD_EXCLUSIVE_KERNEL leaves them out.
 */
#ifndef _IPSECMSS_COMPAT_H
#define _IPSECMSS_COMPAT_H

#include <linux/version.h>

#endif /* _IPSECMSS_COMPAT_H */
