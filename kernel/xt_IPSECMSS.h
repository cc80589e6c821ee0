/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xt_IPSECMSS - the kernel/userspace contract of the IPSECMSS target.
 *
 * Shared by the kernel module and the iptables extension: fixed-width
 * fields, no pointers, the same layout on every architecture.
 */
#ifndef _XT_IPSECMSS_H
#define _XT_IPSECMSS_H

#include <linux/types.h>

/* How the clamp is chosen.  Zero is never a valid mode. */
enum xt_ipsecmss_mode {
	XT_IPSECMSS_MODE_SET_MSS	= 1,	/* lower the MSS to @mss */
	XT_IPSECMSS_MODE_PMTU_OVERHEAD	= 2,	/* path MTU - @overhead - IP/TCP */
	XT_IPSECMSS_MODE_PMTU_AUTO	= 3,	/* path MTU less each SA's exact ESP cost */
	__XT_IPSECMSS_MODE_MAX,
};

/* Limits checked by both halves. */
#define XT_IPSECMSS_MSS_MIN		1
#define XT_IPSECMSS_MSS_MAX		65535
#define XT_IPSECMSS_OVERHEAD_MAX	1024

struct xt_ipsecmss_tginfo {
	__u8	mode;		/* enum xt_ipsecmss_mode */
	__u8	flags;		/* reserved, must be zero */
	__u16	mss;		/* XT_IPSECMSS_MODE_SET_MSS only, else zero */
	__u16	overhead;	/* XT_IPSECMSS_MODE_PMTU_OVERHEAD only, else zero */
	__u16	reserved;	/* must be zero */
};

#endif /* _XT_IPSECMSS_H */
