/* Fuzz target for the index file reader. The input is an index file; when it has the
 * magic, the harness first recomputes the checksums of the sections, the section table
 * and the header (so that mutations reach the structure checks instead of stopping at
 * a checksum), then opens it and runs exact lookups, near lookups (through the tables
 * and by scan, whose answers must agree; one at a time and batched), entry decoding and
 * the walk over all entries.
 * A damaged file may give wrong answers, never a read outside the map or a crash. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/index/hashdb_format.h"
#include "fuzz_import_common.h"
#include "kestrel/index.h"

static void sha(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned len;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

static void fix_checksums(uint8_t *d, size_t n)
{
	if (n < HDB_HEADER_SIZE || memcmp(d, HDB_MAGIC, 8) != 0)
		return;
	hdb_put64(d + HDR_FILESIZE, n);
	uint64_t toff = hdb_le64(d + HDR_TABLE_OFF);
	uint32_t ns = hdb_le32(d + HDR_NSECT);
	if (ns <= HDB_MAX_SECTIONS && toff <= n && (uint64_t)ns * HDB_SECTION_SIZE <= n - toff) {
		for (uint32_t i = 0; i < ns; i++) {
			uint8_t *e = d + toff + (size_t)i * HDB_SECTION_SIZE;
			uint64_t off = hdb_le64(e + 8), size = hdb_le64(e + 16);
			if (off <= toff && size <= toff - off)
				sha(d + off, (size_t)size, e + 32);
		}
		sha(d + toff, (size_t)ns * HDB_SECTION_SIZE, d + HDR_TABLE_SHA);
	}
	sha(d, HDR_SHA, d + HDR_SHA);
}

struct hits {
	uint64_t n, dist_sum;
	const struct ks_hashdb *db;
};

static void on_hit(void *ctx, const struct ks_hashdb_hit *h)
{
	struct hits *c = ctx;
	c->n++;
	c->dist_sum += (uint64_t)h->distance;
	struct ks_hash_entry e;
	if (ks_hashdb_entry(c->db, h, &e) == KS_OK && e.name)
		(void)strlen(e.name);
	if (h->scheme)
		(void)strlen(h->scheme);
	if (h->category)
		(void)strlen(h->category);
}

static int on_entry(void *ctx, uint32_t set, const struct ks_hash_entry *e)
{
	if (!e->has || (e->has & ~15u))
		abort();
	if (e->name)
		(void)strlen(e->name);
	if (e->series)
		(void)strlen(e->series);
	if (e->photodna)
		(void)strlen(e->photodna);
	(*(uint64_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d = malloc(size ? size : 1);
	memcpy(d, data, size);
	fix_checksums(d, size);
	char path[64];
	int fd = fz_memfd("fuzz_hashdb", d, size, path);
	if (fd < 0) {
		free(d);
		return 0;
	}
	struct ks_err err = {0};
	struct ks_hashdb *db = NULL;
	if (ks_hashdb_open(path, 0, &db, &err) == KS_OK) {
		struct ks_hashdb_info in;
		ks_hashdb_get_info(db, &in);
		for (size_t i = 0; i < in.nsets; i++) {
			const struct ks_hashdb_set *s = ks_hashdb_set_at(db, i);
			(void)strlen(s->name);
			(void)strlen(s->sources);
		}
		struct hits h = {.db = db};
		/* digests taken from the input itself, so some are found */
		uint8_t q[32] = {0};
		for (size_t k = 0; k < 4; k++) {
			if (size >= 32)
				memcpy(q, d + (size - 32) * k / 3, 32);
			ks_hashdb_lookup(db, KS_HAS_MD5, q, on_hit, &h);
			ks_hashdb_lookup(db, KS_HAS_SHA1, q, on_hit, &h);
			ks_hashdb_lookup(db, KS_HAS_SHA256, q, on_hit, &h);
			ks_hashdb_lookup(db, KS_HAS_PDQ, q, on_hit, &h);
			struct hits a = {.db = db}, b = {.db = db};
			ks_hashdb_near(db, q, 31, on_hit, &a);
			ks_hashdb_near_scan(db, q, 31, on_hit, &b);
			ks_hashdb_near(db, q, 90, on_hit, &h);
			(void)a;
			(void)b;
		}
		/* 64 near queries at once (searched together, table by table), from the
		 * input's bytes */
		static uint8_t nq[64][32];
		for (size_t k = 0; k < 64; k++)
			for (size_t b = 0; b < 32; b++)
				nq[k][b] =
				    (uint8_t)(size ? d[(k * 37 + b) % size] ^ (k & 1 ? b : 0) : k);
		ks_hashdb_near_batch(db, &nq[0][0], 64, 31, NULL, NULL);
		/* batched, over the input's bytes read as digests */
		for (unsigned kind = KS_HAS_MD5; kind <= KS_HAS_SHA256; kind <<= 1) {
			size_t len = kind == KS_HAS_MD5 ? 16 : kind == KS_HAS_SHA1 ? 20 : 32;
			ks_hashdb_lookup_batch(db, kind, d, size / len < 200 ? size / len : 200,
					       NULL, NULL);
		}
		uint64_t n = 0;
		ks_hashdb_each(db, -1, on_entry, &n, &err);
		ks_hashdb_verify(db, &err);
		ks_hashdb_close(db);
	} else if (!err.msg[0]) {
		abort();
	}
	close(fd);
	free(d);
	return 0;
}
