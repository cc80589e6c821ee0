/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ESP algorithms the CLI knows: the one place with block, IV and ICV
 * sizes.  The ESP arithmetic itself is kernel/ipsecmss_core.c's.
 */
#ifndef IPSECMSS_ALGS_H
#define IPSECMSS_ALGS_H

#include <stddef.h>
#include <stdio.h>

enum alg_kind { ALG_ENC, ALG_AUTH, ALG_AEAD };

/*
 * One ESP algorithm: what decides its size on the wire.  The kernel names
 * are the canonical ones the kernel stores in an SA (and dumps back), the
 * sizes those of the crypto API's transform (crypto_aead_blocksize,
 * crypto_aead_ivsize, crypto_aead_authsize for ESP).
 */
struct alg {
	const char *name;	/* the CLI's name */
	const char *kname;	/* the kernel's name in XFRMA_ALG_* */
	const char *label;	/* for humans */
	enum alg_kind kind;
	unsigned int block;	/* cipher block size (enc, aead) */
	unsigned int iv;	/* IV bytes in each packet (enc, aead) */
	unsigned int icv;	/* ICV bytes (auth, aead) */
	unsigned int salt_bits;	/* key bits an SA holds beyond the cipher key */
	unsigned int key_bits[4]; /* valid cipher key sizes, 0-terminated */
};

extern const char *const alg_kind_names[];
extern const char *const alg_kind_opts[];

const struct alg *alg_by_name(enum alg_kind kind, const char *name);
const struct alg *alg_by_kname(enum alg_kind kind, const char *kname,
			       unsigned int icv, int *exact);
int alg_key_ok(const struct alg *a, unsigned int bits);
void alg_key_list(const struct alg *a, char *buf, size_t len);
void alg_list(FILE *f, enum alg_kind kind);

#endif
