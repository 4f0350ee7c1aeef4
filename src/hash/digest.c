/* MD5, SHA-1 and SHA-256 of one stream in a single pass (see hash.h), on OpenSSL's EVP
 * interface. Each update feeds the data to all digests a slice of at most 64 KiB at a
 * time, so the slice is still in cache when the second and third digest read it. The
 * EVP contexts and fetched algorithms live as long as the hasher and are reused. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "kestrel/hash.h"

/* Slice fed to every digest in turn: fits L2 with room to spare. */
#define SLICE (64u * 1024u)

/* One running digest: its context and the algorithm fetched once. */
struct run {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

struct ks_hasher {
	struct run r[3]; /* md5, sha1, sha256 */
};

struct ks_srchasher {
	struct run r[2]; /* md5, sha1 */
};

/* libcrypto failing on an algorithm it ships is an installation defect we cannot
 * work around mid-item (FIPS-only builds without MD5 land here): say so and stop. */
static void crypto_fail(const char *what)
{
	fprintf(stderr, "kestrel: libcrypto failed: %s\n", what);
	abort();
}

static void run_open(struct run *r, const char *alg)
{
	r->md = EVP_MD_fetch(NULL, alg, NULL);
	if (!r->md)
		crypto_fail(alg);
	r->ctx = EVP_MD_CTX_new();
	if (!r->ctx)
		crypto_fail("EVP_MD_CTX_new");
	if (EVP_DigestInit_ex(r->ctx, r->md, NULL) != 1)
		crypto_fail(alg);
}

static void run_close(struct run *r)
{
	EVP_MD_CTX_free(r->ctx);
	EVP_MD_free(r->md);
}

/* Feeds len bytes to every digest in runs[0..n), slice by slice. */
static void runs_update(struct run *runs, size_t n, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		size_t k = len < SLICE ? len : SLICE;
		for (size_t i = 0; i < n; i++)
			if (EVP_DigestUpdate(runs[i].ctx, p, k) != 1)
				crypto_fail("EVP_DigestUpdate");
		p += k;
		len -= k;
	}
}

/* Writes the digest into out (which holds exactly the digest size) and restarts. */
static void run_final(struct run *r, uint8_t *out)
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(r->ctx, out, &n) != 1)
		crypto_fail("EVP_DigestFinal_ex");
	if (EVP_DigestInit_ex(r->ctx, r->md, NULL) != 1)
		crypto_fail("EVP_DigestInit_ex");
}

struct ks_hasher *ks_hasher_new(void)
{
	struct ks_hasher *h = ks_xcalloc(1, sizeof *h);
	run_open(&h->r[0], "MD5");
	run_open(&h->r[1], "SHA1");
	run_open(&h->r[2], "SHA256");
	return h;
}

void ks_hasher_update(struct ks_hasher *h, const void *data, size_t len)
{
	runs_update(h->r, 3, data, len);
}

void ks_hasher_final(struct ks_hasher *h, struct ks_digests *out)
{
	run_final(&h->r[0], out->md5);
	run_final(&h->r[1], out->sha1);
	run_final(&h->r[2], out->sha256);
}

void ks_hasher_free(struct ks_hasher *h)
{
	if (!h)
		return;
	for (int i = 0; i < 3; i++)
		run_close(&h->r[i]);
	free(h);
}

void ks_hash_buffer(const void *data, size_t len, struct ks_digests *out)
{
	struct ks_hasher *h = ks_hasher_new();
	ks_hasher_update(h, data, len);
	ks_hasher_final(h, out);
	ks_hasher_free(h);
}

void ks_digests_to_hex(const struct ks_digests *d, struct ks_digests_hex *out)
{
	ks_hex_encode(d->md5, sizeof d->md5, out->md5);
	ks_hex_encode(d->sha1, sizeof d->sha1, out->sha1);
	ks_hex_encode(d->sha256, sizeof d->sha256, out->sha256);
}

struct ks_srchasher *ks_srchasher_new(void)
{
	struct ks_srchasher *h = ks_xcalloc(1, sizeof *h);
	run_open(&h->r[0], "MD5");
	run_open(&h->r[1], "SHA1");
	return h;
}

void ks_srchasher_update(struct ks_srchasher *h, const void *data, size_t len)
{
	runs_update(h->r, 2, data, len);
}

void ks_srchasher_update_one(struct ks_srchasher *h, int which, const void *data, size_t len)
{
	runs_update(&h->r[which ? 1 : 0], 1, data, len);
}

void ks_srchasher_final(struct ks_srchasher *h, uint8_t md5[16], uint8_t sha1[20])
{
	run_final(&h->r[0], md5);
	run_final(&h->r[1], sha1);
}

void ks_srchasher_free(struct ks_srchasher *h)
{
	if (!h)
		return;
	for (int i = 0; i < 2; i++)
		run_close(&h->r[i]);
	free(h);
}
