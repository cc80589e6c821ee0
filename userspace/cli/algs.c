// SPDX-License-Identifier: GPL-2.0
/* The algorithm table of ipsecmss(8) and its look-ups. */
#include <string.h>

#include "algs.h"
#include "cli.h"

#define KEYS_AES	{ 128, 192, 256 }
#define KEYS_NONE	{ 0 }

/* name, kernel name, label, kind, block, IV, ICV, salt bits, key bits */
static const struct alg algs[] = {
	/* encryption (with a separate --auth) */
	{ "aes-cbc", "cbc(aes)", "AES-CBC", ALG_ENC, 16, 16, 0, 0, KEYS_AES },
	{ "aes-ctr", "rfc3686(ctr(aes))", "AES-CTR", ALG_ENC, 1, 8, 0, 32, KEYS_AES },
	{ "3des-cbc", "cbc(des3_ede)", "3DES-CBC", ALG_ENC, 8, 8, 0, 0, { 192 } },
	{ "camellia-cbc", "cbc(camellia)", "Camellia-CBC", ALG_ENC, 16, 16, 0, 0, KEYS_AES },
	{ "null", "ecb(cipher_null)", "NULL encryption", ALG_ENC, 1, 0, 0, 0, KEYS_NONE },
	/* integrity (with --enc) */
	{ "none", "digest_null", "no integrity", ALG_AUTH, 0, 0, 0, 0, KEYS_NONE },
	{ "hmac-md5-96", "hmac(md5)", "HMAC-MD5-96", ALG_AUTH, 0, 0, 12, 0, KEYS_NONE },
	{ "hmac-sha1-96", "hmac(sha1)", "HMAC-SHA1-96", ALG_AUTH, 0, 0, 12, 0, KEYS_NONE },
	{ "hmac-sha256-128", "hmac(sha256)", "HMAC-SHA-256-128", ALG_AUTH, 0, 0, 16, 0, KEYS_NONE },
	{ "hmac-sha384-192", "hmac(sha384)", "HMAC-SHA-384-192", ALG_AUTH, 0, 0, 24, 0, KEYS_NONE },
	{ "hmac-sha512-256", "hmac(sha512)", "HMAC-SHA-512-256", ALG_AUTH, 0, 0, 32, 0, KEYS_NONE },
	/* combined mode (AEAD) */
	{ "aes-gcm-16", "rfc4106(gcm(aes))", "AES-GCM-16", ALG_AEAD, 1, 8, 16, 32, KEYS_AES },
	{ "aes-gcm-12", "rfc4106(gcm(aes))", "AES-GCM-12", ALG_AEAD, 1, 8, 12, 32, KEYS_AES },
	{ "aes-gcm-8", "rfc4106(gcm(aes))", "AES-GCM-8", ALG_AEAD, 1, 8, 8, 32, KEYS_AES },
	{ "aes-ccm-16", "rfc4309(ccm(aes))", "AES-CCM-16", ALG_AEAD, 1, 8, 16, 24, KEYS_AES },
	{ "aes-ccm-12", "rfc4309(ccm(aes))", "AES-CCM-12", ALG_AEAD, 1, 8, 12, 24, KEYS_AES },
	{ "aes-ccm-8", "rfc4309(ccm(aes))", "AES-CCM-8", ALG_AEAD, 1, 8, 8, 24, KEYS_AES },
	{ "chacha20-poly1305", "rfc7539esp(chacha20,poly1305)", "ChaCha20-Poly1305", ALG_AEAD,
	  1, 8, 16, 32, { 256 } },
};

const char *const alg_kind_names[] = {
	[ALG_ENC] = "encryption", [ALG_AUTH] = "integrity",
	[ALG_AEAD] = "AEAD",
};

const char *const alg_kind_opts[] = {
	[ALG_ENC] = "--enc", [ALG_AUTH] = "--auth", [ALG_AEAD] = "--aead",
};

const struct alg *alg_by_name(enum alg_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].kind == kind && strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/*
 * The table entry for a kernel name: the one whose ICV is @icv when there
 * is one (auth, aead), else the first of that name.
 */
const struct alg *alg_by_kname(enum alg_kind kind, const char *kname,
			       unsigned int icv, int *exact)
{
	const struct alg *first = NULL;
	size_t i;

	*exact = 0;
	for (i = 0; i < ARRAY_SIZE(algs); i++) {
		if (algs[i].kind != kind || strcmp(algs[i].kname, kname))
			continue;
		if (kind == ALG_ENC || algs[i].icv == icv) {
			*exact = 1;
			return &algs[i];
		}
		if (!first)
			first = &algs[i];
	}
	return first;
}

int alg_key_ok(const struct alg *a, unsigned int bits)
{
	unsigned int i;

	if (!a->key_bits[0])
		return bits == 0;
	for (i = 0; i < ARRAY_SIZE(a->key_bits) && a->key_bits[i]; i++)
		if (a->key_bits[i] == bits)
			return 1;
	return 0;
}

void alg_key_list(const struct alg *a, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	if (!a->key_bits[0]) {
		snprintf(buf, len, "none (the cipher has no key size to choose)");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(a->key_bits) && a->key_bits[i] && off < len;
	     i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u",
					i ? ", " : "", a->key_bits[i]);
}

void alg_list(FILE *f, enum alg_kind kind)
{
	size_t i;
	int n = 0;

	for (i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].kind == kind)
			fprintf(f, "%s%s", n++ ? ", " : "", algs[i].name);
}
