/* Tests for the hash layer's digests: published vectors, chunked against one-shot
 * (OpenSSL's own EVP_Digest as the reference), hasher reuse, the source hasher, and a
 * throughput figure (printed, not asserted). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kestrel/hash.h"
#include "ktest.h"

static void ref_digest(const char *alg, const void *p, size_t n, uint8_t *out)
{
	unsigned int len = 0;
	EVP_MD *md = EVP_MD_fetch(NULL, alg, NULL);
	CHECK(md != NULL);
	CHECK(EVP_Digest(p, n, out, &len, md, NULL) == 1);
	EVP_MD_free(md);
}

static void check_vectors(void)
{
	struct ks_digests d;
	struct ks_digests_hex x;

	ks_hash_buffer("abc", 3, &d);
	ks_digests_to_hex(&d, &x);
	CHECK_STR(x.md5, "900150983cd24fb0d6963f7d28e17f72");
	CHECK_STR(x.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
	CHECK_STR(x.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	ks_hash_buffer("", 0, &d);
	ks_digests_to_hex(&d, &x);
	CHECK_STR(x.md5, "d41d8cd98f00b204e9800998ecf8427e");
	CHECK_STR(x.sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	CHECK_STR(x.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* Two blocks' worth: exercises padding across a block boundary. */
	const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	ks_hash_buffer(s, strlen(s), &d);
	ks_digests_to_hex(&d, &x);
	CHECK_STR(x.sha1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	CHECK_STR(x.sha256, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK_STR(x.md5, "8215ef0796a20bcaaae116d3876c664a");
}

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 11);
	}
	return p;
}

/* 1 MiB of pattern: one-shot, odd-sized chunks, chunks bigger than the internal slice,
 * byte at a time for the head, all against OpenSSL's one-shot. Also reuse after final. */
static void check_chunked(void)
{
	const size_t n = 1u << 20;
	uint8_t *p = pattern(n);
	uint8_t md5[16], sha1[20], sha256[32];
	ref_digest("MD5", p, n, md5);
	ref_digest("SHA1", p, n, sha1);
	ref_digest("SHA256", p, n, sha256);

	struct ks_digests d;
	ks_hash_buffer(p, n, &d);
	CHECK(memcmp(d.md5, md5, 16) == 0);
	CHECK(memcmp(d.sha1, sha1, 20) == 0);
	CHECK(memcmp(d.sha256, sha256, 32) == 0);

	static const size_t steps[] = {1, 7, 4093, 65536, 65537, 300000};
	struct ks_hasher *h = ks_hasher_new();
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		size_t off = 0;
		/* The first 100 bytes one at a time, then steps[s] at a time. */
		for (; off < 100; off++)
			ks_hasher_update(h, p + off, 1);
		ks_hasher_update(h, p + off, 0);
		while (off < n) {
			size_t k = n - off < steps[s] ? n - off : steps[s];
			ks_hasher_update(h, p + off, k);
			off += k;
		}
		memset(&d, 0, sizeof d);
		ks_hasher_final(h, &d); /* also resets h for the next round */
		CHECK(memcmp(d.md5, md5, 16) == 0);
		CHECK(memcmp(d.sha1, sha1, 20) == 0);
		CHECK(memcmp(d.sha256, sha256, 32) == 0);
	}
	/* After a final, a fresh item starts clean: "abc" gives its vector. */
	ks_hasher_update(h, "abc", 3);
	ks_hasher_final(h, &d);
	struct ks_digests_hex x;
	ks_digests_to_hex(&d, &x);
	CHECK_STR(x.md5, "900150983cd24fb0d6963f7d28e17f72");
	ks_hasher_free(h);
	ks_hasher_free(NULL);

	struct ks_srchasher *sh = ks_srchasher_new();
	uint8_t m[16], s1[20];
	ks_srchasher_update(sh, p, 12345);
	ks_srchasher_update(sh, p + 12345, n - 12345);
	ks_srchasher_final(sh, m, s1);
	CHECK(memcmp(m, md5, 16) == 0);
	CHECK(memcmp(s1, sha1, 20) == 0);
	ks_srchasher_update(sh, "", 0);
	ks_srchasher_final(sh, m, s1);
	char hx[41];
	ks_hex_encode(s1, 20, hx);
	CHECK_STR(hx, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	ks_srchasher_free(sh);
	ks_srchasher_free(NULL);
	free(p);
}

/* Throughput of the three-digest pass over 32 MiB in 1 MiB reads (as the reader
 * feeds it), beside the sum of the three digests run separately for comparison. */
static void measure(void)
{
	const size_t n = 32u << 20, rd = 1u << 20;
	uint8_t *p = pattern(n);
	struct ks_hasher *h = ks_hasher_new();
	struct ks_digests d;
	double t0 = ks_time_mono();
	for (size_t off = 0; off < n; off += rd)
		ks_hasher_update(h, p + off, rd);
	ks_hasher_final(h, &d);
	double t1 = ks_time_mono();
	uint8_t out[32];
	ref_digest("MD5", p, n, out);
	ref_digest("SHA1", p, n, out);
	ref_digest("SHA256", p, n, out);
	double t2 = ks_time_mono();
	printf("hasher: MD5+SHA-1+SHA-256 one pass %.0f MB/s; three separate passes %.0f MB/s\n",
	       (double)n / 1e6 / (t1 - t0 > 1e-9 ? t1 - t0 : 1e-9),
	       (double)n / 1e6 / (t2 - t1 > 1e-9 ? t2 - t1 : 1e-9));
	CHECK(memcmp(d.sha256, out, 32) == 0);
	ks_hasher_free(h);
	free(p);
}

int main(void)
{
	check_vectors();
	check_chunked();
	measure();
	return ktest_done();
}
