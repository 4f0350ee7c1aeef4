/* kestrel hash layer: MD5, SHA-1 and SHA-256 of one stream in a single pass
 * (OpenSSL libcrypto), and hex text of digests. PDQ and video fingerprints join here
 * in later issues. */
#ifndef KESTREL_HASH_H
#define KESTREL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

struct ks_digests {
	uint8_t md5[16];
	uint8_t sha1[20];
	uint8_t sha256[32];
};

/* Text forms, lower-case hex. */
struct ks_digests_hex {
	char md5[33];
	char sha1[41];
	char sha256[65];
};
void ks_digests_to_hex(const struct ks_digests *d, struct ks_digests_hex *out);

/* Streaming hasher for all three digests. new never fails (aborts on exhaustion or if
 * libcrypto lacks an algorithm); update may be called any number of times with any
 * length (0 included); final writes the digests and resets the hasher for the next
 * item (reuse one hasher per worker: no allocation per item). Not thread-safe: one
 * hasher per thread. */
struct ks_hasher;
struct ks_hasher *ks_hasher_new(void);
void ks_hasher_update(struct ks_hasher *h, const void *data, size_t len);
void ks_hasher_final(struct ks_hasher *h, struct ks_digests *out);
void ks_hasher_free(struct ks_hasher *h); /* accepts NULL */

/* One-shot convenience over a buffer (allocates a hasher; prefer a reused hasher in
 * loops). */
void ks_hash_buffer(const void *data, size_t len, struct ks_digests *out);

/* Streaming MD5 + SHA-1 only (source images: what E01 and examiners record). Same
 * contract as ks_hasher: final resets for reuse, free accepts NULL. */
struct ks_srchasher;
struct ks_srchasher *ks_srchasher_new(void);
void ks_srchasher_update(struct ks_srchasher *h, const void *data, size_t len);
/* Feeds only one of the two digests (which: 0 MD5, 1 SHA-1). Two threads may each feed
 * a different one at the same time, so a source hashes at the speed of the slower
 * digest, not of both added together. Each must see every byte, in order. */
void ks_srchasher_update_one(struct ks_srchasher *h, int which, const void *data, size_t len);
void ks_srchasher_final(struct ks_srchasher *h, uint8_t md5[16], uint8_t sha1[20]);
void ks_srchasher_free(struct ks_srchasher *h);

#endif
