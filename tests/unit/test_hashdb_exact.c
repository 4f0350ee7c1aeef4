/* Exact lookup of MD5, SHA-1 and SHA-256 against a plain reference: tables of many sizes
 * (below the search window of 6 slots, at it, at twice it, up to 100,000 rows), holding
 * random digests, digests that share their first 8 bytes, a crowd of 200 digests sharing
 * their first 4 bytes (their rows pushed far past their homes, and every row after them:
 * the window misses and the search gallops), a run of consecutive values, the smallest
 * and largest digests (windows at both ends of the slots, the last ones past the last
 * home), digests in one set or both, rows whose entry is a record. Every query (present,
 * differing in the last byte, in the first 8 bytes, random, extreme) must get exactly
 * the sets holding it, from ks_hashdb_lookup, from ks_hashdb_lookup_batch on the mapped
 * file and on the preloaded one; the table must count its rows and not its filler slots,
 * and the walk over all entries must not see a filler. A table of one digest held by 40
 * sets, among rows that share its home, must give all 40 to single and batched lookups
 * alike. Digests are invented. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/index.h"
#include "ktest.h"

static uint64_t rng = 0x1234567;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void random_digest(uint8_t *d, unsigned len)
{
	for (unsigned i = 0; i < len; i += 8) {
		uint64_t v = next();
		memcpy(d + i, &v, len - i < 8 ? len - i : 8);
	}
}

static unsigned dlen;

static int cmp_d(const void *a, const void *b)
{
	return memcmp(a, b, dlen);
}

struct found {
	unsigned *sets; /* per query: bit s for set s; bit 8 for a hit of the wrong kind */
	unsigned *count;
	size_t n;
	unsigned kind;
};

static void note(struct found *f, size_t q, const struct ks_hashdb_hit *h, const uint8_t *key)
{
	if (q >= f->n)
		return;
	f->count[q]++;
	f->sets[q] |= h->set < 8 ? 1u << h->set : 0;
	if (h->kind != f->kind || memcmp(h->hash, key, dlen) != 0)
		f->sets[q] |= 1u << 8;
}

struct single_ctx {
	struct found *f;
	size_t q;
	const uint8_t *key;
};

static void on_single(void *ctx, const struct ks_hashdb_hit *h)
{
	struct single_ctx *c = ctx;
	note(c->f, c->q, h, c->key);
}

struct batch_ctx {
	struct found *f;
	const uint8_t *keys;
};

static void on_batch(void *ctx, size_t q, const struct ks_hashdb_hit *h)
{
	struct batch_ctx *c = ctx;
	note(c->f, q, h, c->keys + q * dlen);
}

/* One table of kind (n random digests plus the shaped ones), checked query by query. */
static int count_entry(void *ctx, uint32_t set, const struct ks_hash_entry *e)
{
	(void)set;
	if (e->has)
		(*(uint64_t *)ctx)++;
	return 0;
}

static void on_count(void *ctx, const struct ks_hashdb_hit *h)
{
	(void)h;
	(*(int *)ctx)++;
}

static void on_count_batch(void *ctx, size_t q, const struct ks_hashdb_hit *h)
{
	(void)h;
	((int *)ctx)[q]++;
}

/* One MD5 in 40 sets, 30 more sharing its first 8 bytes (so its home) in set 0, and a
 * few far away: the 40 rows and their neighbours fill the slots well past the home. */
static void check_many_sets(const char *dir)
{
	char path[600];
	snprintf(path, sizeof path, "%s/exact-many.kix", dir);
	struct ks_err err = {0};
	struct ks_hashdb_builder *b = NULL;
	CHECK(ks_hashdb_builder_new(path, NULL, &b, &err) == KS_OK);
	if (!b)
		return;
	uint8_t key[16];
	random_digest(key, 16);
	key[15] = 100;
	for (unsigned s = 0; s < 40; s++) {
		char name[16];
		snprintf(name, sizeof name, "s%u", s);
		struct ks_hashdb_set set = {.name = name, .scheme = "uk"};
		CHECK(ks_hashdb_builder_set(b, &set, &err) == KS_OK);
		struct ks_hash_entry e = {.has = KS_HAS_MD5,
					  .scheme = "uk",
					  .category = "A",
					  .size = -1,
					  .distributed = -1};
		memcpy(e.md5, key, 16);
		CHECK(ks_hashdb_builder_add(b, &e, &err) == KS_OK);
		for (int k = 0; s == 0 && k < 30; k++) {
			memcpy(e.md5, key, 16);
			e.md5[15] = (uint8_t)(key[15] + 1 + k);
			CHECK(ks_hashdb_builder_add(b, &e, &err) == KS_OK);
		}
		for (int k = 0; s == 1 && k < 5; k++) {
			random_digest(e.md5, 16);
			CHECK(ks_hashdb_builder_add(b, &e, &err) == KS_OK);
		}
	}
	CHECK(ks_hashdb_builder_finish(b, &err) == KS_OK);
	ks_hashdb_builder_free(b);
	struct ks_hashdb *db = NULL;
	CHECK(ks_hashdb_open(path, 0, &db, &err) == KS_OK);
	if (db) {
		/* the key (40 hits), one of the 30 (one), absent ones after the 30 and
		 * just before the key */
		uint8_t q[4][16];
		for (int i = 0; i < 4; i++)
			memcpy(q[i], key, 16);
		q[1][15] = 101;
		q[2][15] = 131;
		q[3][15] = 99;
		const int want[4] = {40, 1, 0, 0};
		int got[4] = {0}, batch[4] = {0};
		for (int i = 0; i < 4; i++)
			ks_hashdb_lookup(db, KS_HAS_MD5, q[i], on_count, &got[i]);
		int tb = ks_hashdb_lookup_batch(db, KS_HAS_MD5, q[0], 4, on_count_batch, batch);
		for (int i = 0; i < 4; i++) {
			CHECK(got[i] == want[i]);
			CHECK(batch[i] == want[i]);
		}
		CHECK(tb == got[0] + got[1] + got[2] + got[3]);
		ks_hashdb_close(db);
	}
	remove(path);
}

static void check_table(const char *dir, unsigned kind, unsigned len, size_t n)
{
	dlen = len;
	size_t cap = n + 400;
	uint8_t *d = calloc(cap, len);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		random_digest(d + len * m++, len);
	if (n >= 8) {
		/* digests sharing their first 8 bytes, differing after */
		for (int c = 0; c < 5; c++) {
			uint8_t base[32];
			random_digest(base, len);
			for (int k = 0; k < 3; k++) {
				memcpy(d + len * m, base, len);
				d[len * m + len - 1] = (uint8_t)(k * 40);
				d[len * m + 8] ^= (uint8_t)k;
				m++;
			}
		}
		/* a crowded bucket: 200 digests whose first 4 bytes are zero */
		for (int k = 0; k < 200; k++) {
			random_digest(d + len * m, len);
			memset(d + len * m, 0, 4);
			m++;
		}
		/* a run of consecutive first-8-byte values: one end of a bucket crowded */
		uint64_t v0 = next();
		for (int k = 0; k < 60; k++) {
			random_digest(d + len * m, len);
			uint64_t v = v0 + (uint64_t)k;
			for (int b = 0; b < 8; b++)
				d[len * m + b] = (uint8_t)(v >> (56 - 8 * b));
			m++;
		}
		/* the smallest and the largest digest */
		memset(d + len * m++, 0, len);
		memset(d + len * m++, 0xFF, len);
	}
	qsort(d, m, len, cmp_d);
	size_t u = 0; /* unique, sorted */
	for (size_t i = 0; i < m; i++)
		if (u == 0 || memcmp(d + len * (u - 1), d + len * i, len) != 0)
			memmove(d + len * u++, d + len * i, len);
	/* set 0 holds digest i unless i % 3 == 2, set 1 unless i % 3 == 0; some of set 1's
	 * entries carry a name (so that their rows point at records) */
	char path[600];
	snprintf(path, sizeof path, "%s/exact-%u-%zu.kix", dir, kind, n);
	struct ks_err err = {0};
	struct ks_hashdb_builder *b = NULL;
	CHECK(ks_hashdb_builder_new(path, NULL, &b, &err) == KS_OK);
	if (!b) {
		free(d);
		return;
	}
	for (unsigned s = 0; s < 2; s++) {
		char name[16];
		snprintf(name, sizeof name, "set%u", s);
		struct ks_hashdb_set set = {.name = name, .scheme = "uk"};
		CHECK(ks_hashdb_builder_set(b, &set, &err) == KS_OK);
		for (size_t i = 0; i < u; i++) {
			if (i % 3 == (s ? 0 : 2))
				continue;
			struct ks_hash_entry e = {.has = kind,
						  .scheme = "uk",
						  .category = s ? "A" : "C",
						  .name = s && i % 7 == 0 ? "named" : NULL,
						  .size = -1,
						  .distributed = -1};
			memcpy(kind == KS_HAS_MD5    ? e.md5
			       : kind == KS_HAS_SHA1 ? e.sha1
						     : e.sha256,
			       d + len * i, len);
			CHECK(ks_hashdb_builder_add(b, &e, &err) == KS_OK);
		}
	}
	CHECK(ks_hashdb_builder_finish(b, &err) == KS_OK);
	ks_hashdb_builder_free(b);

	/* queries: every digest, and beside each one a near miss */
	size_t nq = 6 * u + 100 + 2;
	uint8_t *q = calloc(nq, len);
	unsigned *want = calloc(nq, sizeof *want);
	size_t k = 0;
	for (size_t i = 0; i < u; i++) {
		const uint8_t *x = d + len * i;
		for (int v = 0; v < 6; v++) {
			uint8_t *y = q + len * k++;
			memcpy(y, x, len);
			if (v == 1)
				y[len - 1] ^= 1; /* differs in the last byte */
			else if (v == 2)
				y[7] ^= 1; /* in the first 8 bytes */
			else if (v == 3)
				y[8] ^= 0x80; /* just after them */
			else if (v == 4)
				y[0] ^= 0x40; /* in the bucket's bits */
			else if (v == 5)
				random_digest(y, len);
		}
	}
	for (int i = 0; i < 100; i++)
		random_digest(q + len * k++, len);
	memset(q + len * k++, 0, len);
	memset(q + len * k++, 0xFF, len);
	for (size_t i = 0; i < nq; i++) {
		const uint8_t *hit = u ? bsearch(q + len * i, d, u, len, cmp_d) : NULL;
		if (hit) {
			size_t j = (size_t)(hit - d) / len;
			want[i] = (j % 3 != 2 ? 1u : 0) | (j % 3 != 0 ? 2u : 0);
		}
	}

	struct ks_hashdb *db = NULL, *mem = NULL;
	CHECK(ks_hashdb_open(path, 0, &db, &err) == KS_OK);
	CHECK(ks_hashdb_open(path, KS_HASHDB_PRELOAD, &mem, &err) == KS_OK);
	if (db && mem) {
		struct found f[3];
		for (int r = 0; r < 3; r++)
			f[r] = (struct found){calloc(nq, sizeof(unsigned)),
					      calloc(nq, sizeof(unsigned)), nq, kind};
		int total = 0;
		for (size_t i = 0; i < nq; i++) {
			struct single_ctx c = {&f[0], i, q + len * i};
			total += ks_hashdb_lookup(db, kind, q + len * i, on_single, &c);
		}
		struct batch_ctx bc = {&f[1], q}, bm = {&f[2], q};
		/* rows, not slots: a row per set holding digest i (set 0 unless i % 3 == 2,
		 * set 1 unless i % 3 == 0) */
		size_t rows = 0;
		for (size_t i = 0; i < u; i++)
			rows += (i % 3 != 2) + (i % 3 != 0);
		struct ks_hashdb_info in;
		ks_hashdb_get_info(db, &in);
		uint64_t nt = kind == KS_HAS_MD5    ? in.n_md5
			      : kind == KS_HAS_SHA1 ? in.n_sha1
						    : in.n_sha256;
		CHECK(nt == rows);
		uint64_t seen = 0;
		CHECK(ks_hashdb_each(db, -1, count_entry, &seen, &err) == KS_OK);
		CHECK(seen == rows);
		int tb = ks_hashdb_lookup_batch(db, kind, q, nq, on_batch, &bc);
		int tm = ks_hashdb_lookup_batch(mem, kind, q, nq, on_batch, &bm);
		size_t bad[3] = {0, 0, 0}, expect = 0;
		for (size_t i = 0; i < nq; i++) {
			unsigned nw = (unsigned)__builtin_popcount(want[i]);
			expect += nw;
			for (int r = 0; r < 3; r++)
				bad[r] += f[r].sets[i] != want[i] || f[r].count[i] != nw;
		}
		if (bad[0] || bad[1] || bad[2] || (size_t)total != expect || (size_t)tb != expect ||
		    (size_t)tm != expect)
			fprintf(stderr,
				"kind %u, %zu digests: %zu/%zu/%zu of %zu queries wrong "
				"(single/batched/preloaded), hits %d/%d/%d of %zu\n",
				kind, u, bad[0], bad[1], bad[2], nq, total, tb, tm, expect);
		CHECK(bad[0] == 0 && bad[1] == 0 && bad[2] == 0);
		CHECK((size_t)total == expect && (size_t)tb == expect && (size_t)tm == expect);
		/* a batch split anywhere answers the same */
		if (nq > 70) {
			struct found g = {calloc(nq, sizeof(unsigned)),
					  calloc(nq, sizeof(unsigned)), nq, kind};
			struct batch_ctx c1 = {&g, q}, c2 = {&g, q};
			int t1 = ks_hashdb_lookup_batch(db, kind, q, 1, on_batch, &c1);
			/* the second part's query numbers restart at 0: shift its keys */
			struct found h = {g.sets + 1, g.count + 1, nq - 1, kind};
			c2.f = &h;
			c2.keys = q + len;
			int t2 = ks_hashdb_lookup_batch(db, kind, q + len, nq - 1, on_batch, &c2);
			CHECK(t1 + t2 == (int)expect);
			CHECK(memcmp(g.sets, want, nq * sizeof *want) == 0);
			free(g.sets);
			free(g.count);
		}
		for (int r = 0; r < 3; r++) {
			free(f[r].sets);
			free(f[r].count);
		}
	}
	ks_hashdb_close(db);
	ks_hashdb_close(mem);
	remove(path);
	free(want);
	free(q);
	free(d);
}

int main(void)
{
	const char *dir = ktest_tmpdir();
	static const size_t sizes[] = {0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 15, 40, 1000, 100000};
	static const unsigned kinds[3] = {KS_HAS_MD5, KS_HAS_SHA1, KS_HAS_SHA256};
	static const unsigned lens[3] = {16, 20, 32};
	for (int t = 0; t < 3; t++)
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
			check_table(dir, kinds[t], lens[t], sizes[i]);
	check_many_sets(dir);
	return ktest_done();
}
