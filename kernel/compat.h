/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the one place where kernel API differences between the
 * supported kernels (Debian 12's 6.1 and the 6.12 backport) are handled,
 * so that xt_IPSECMSS.c never tests LINUX_VERSION_CODE itself.
 */
#ifndef _IPSECMSS_COMPAT_H
#define _IPSECMSS_COMPAT_H

#include <linux/version.h>

#endif /* _IPSECMSS_COMPAT_H */
