/* PDQ near lookup in the index file: multi-index hashing must return exactly what a
 * brute-force scan of the entries returns, for clustered data (random originals with
 * variants 0-40 bits away, and skewed hashes sharing long runs of bits), many radii,
 * several sizes and forced table counts; and Meta's MIH vectors (100 needles, 1,350
 * haystack hashes, radius 31) give exactly the 250 expected pairs. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/index/hashdb_int.h"
#include "kestrel/index.h"
#include "ktest.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define QUERY_SHARE 5 /* the sanitizer build (-O0, 40 times slower): a fifth of the queries */
#else
#define QUERY_SHARE 1
#endif

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_hash(uint8_t h[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = next64();
		memcpy(h + 8 * i, &v, 8);
	}
}

static void flip(uint8_t h[32], int k)
{
	for (int i = 0; i < k; i++) {
		unsigned b = (unsigned)(next64() % 256);
		h[b >> 3] ^= (uint8_t)(0x80u >> (b & 7));
	}
}

static int dist(const uint8_t *a, const uint8_t *b)
{
	int d = 0;
	for (int i = 0; i < 32; i++)
		d += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

struct hit {
	uint8_t h[32];
	int d;
	uint32_t set;
	uint64_t ref;
};

struct hits {
	struct hit v[32768];
	int n, over;
};

static void on_hit(void *ctx, const struct ks_hashdb_hit *hit)
{
	struct hits *l = ctx;
	if (l->n == 32768) {
		l->over = 1;
		return;
	}
	memcpy(l->v[l->n].h, hit->hash, 32);
	l->v[l->n].d = hit->distance;
	l->v[l->n].set = hit->set;
	l->v[l->n].ref = hit->ref;
	l->n++;
}

static int by_ref(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static const char *dir;

/* Builds an index of n hashes (given) in two sets, with m tables (0 = auto). */
static struct ks_hashdb *build(const uint8_t (*hs)[32], size_t n, int m, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct ks_err err = {0};
	struct ks_hashdb_builder *b = NULL;
	struct ks_hashdb_build_opts o = {.mih_tables = m, .memory = 16u << 20};
	CHECK(ks_hashdb_builder_new(path, &o, &b, &err) == KS_OK);
	struct ks_hashdb_set s1 = {.name = "first", .scheme = "uk"};
	struct ks_hashdb_set s2 = {.name = "second", .scheme = "uk", .role = "ignore"};
	CHECK(ks_hashdb_builder_set(b, &s1, &err) == KS_OK);
	for (size_t i = 0; i < n; i++) {
		if (i == n / 2)
			CHECK(ks_hashdb_builder_set(b, &s2, &err) == KS_OK);
		struct ks_hash_entry e = {.has = KS_HAS_PDQ,
					  .scheme = "uk",
					  .category = i % 3 ? "A" : NULL,
					  .size = -1,
					  .distributed = -1,
					  .pdq_quality = 90};
		memcpy(e.pdq, hs[i], 32);
		CHECK(ks_hashdb_builder_add(b, &e, &err) == KS_OK);
	}
	int rc = ks_hashdb_builder_finish(b, &err);
	if (rc != KS_OK)
		fprintf(stderr, "finish: %s\n", err.msg);
	CHECK(rc == KS_OK);
	ks_hashdb_builder_free(b);
	struct ks_hashdb *db = NULL;
	CHECK(ks_hashdb_open(path, KS_HASHDB_VERIFY, &db, &err) == KS_OK);
	return db;
}

static struct hits got, ref;
static int shapes_shown;
static uint64_t exceptions;
static unsigned char *dup;

/* One query: MIH against the list itself (every hit a distinct row, its hash at its
 * distance within the radius, as many as the list holds within it) and, with scan,
 * against the linear scan row by row. Returns mismatches. */
static int compare(struct ks_hashdb *db, const uint8_t (*hs)[32], size_t n, const uint8_t q[32],
		   int r, int scan)
{
	got.n = ref.n = 0;
	got.over = ref.over = 0;
	int a = (r & 1) || r == 0 ? hdb_near_mih(db, q, r, on_hit, &got)
				  : ks_hashdb_near(db, q, r, on_hit, &got);
	int bad = 0;
	if (a != got.n || got.over)
		return 1;
	qsort(got.v, (size_t)got.n, sizeof got.v[0], by_ref);
	for (int i = 0; i < got.n; i++)
		if ((i && got.v[i].ref == got.v[i - 1].ref) || dist(got.v[i].h, q) != got.v[i].d ||
		    got.v[i].d > r)
			bad++;
	/* a hash twice in one set with one category is held once: dup[] marks the later
	 * copies */
	int expect = 0;
	for (size_t i = 0; i < n; i++)
		if (!dup[i] && dist(hs[i], q) <= r)
			expect++;
	if (expect != got.n) {
		fprintf(stderr, "tables %d, list %d\n", got.n, expect);
		bad++;
	}
	if (!scan)
		return bad;
	int b = ks_hashdb_near_scan(db, q, r, on_hit, &ref);
	if (b != ref.n || ref.over || ref.n != got.n)
		return bad + 1;
	qsort(ref.v, (size_t)ref.n, sizeof ref.v[0], by_ref);
	for (int i = 0; i < got.n; i++)
		if (got.v[i].ref != ref.v[i].ref || got.v[i].d != ref.v[i].d ||
		    memcmp(got.v[i].h, ref.v[i].h, 32))
			bad++;
	return bad;
}

/* (query, row, distance) triples, to compare ks_hashdb_near_batch with ks_hashdb_near */
struct triple {
	uint64_t q, ref;
	int d;
};
struct triples {
	struct triple *v;
	size_t n, cap;
	size_t query; /* for the one-at-a-time side */
};

static void add_triple(struct triples *t, size_t q, const struct ks_hashdb_hit *hit)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->v = realloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n++] = (struct triple){q, hit->ref, hit->distance};
}

static void on_batch_hit(void *ctx, size_t query, const struct ks_hashdb_hit *hit)
{
	add_triple(ctx, query, hit);
}

static void on_single_hit(void *ctx, const struct ks_hashdb_hit *hit)
{
	struct triples *t = ctx;
	add_triple(t, t->query, hit);
}

static int by_triple(const void *a, const void *b)
{
	const struct triple *x = a, *y = b;
	if (x->q != y->q)
		return x->q < y->q ? -1 : 1;
	if (x->ref != y->ref)
		return x->ref < y->ref ? -1 : 1;
	return x->d - y->d;
}

/* The batched search gives every query the hits the single search gives it. */
static int compare_batch(struct ks_hashdb *db, const uint8_t (*qs)[32], size_t nq, int r)
{
	struct triples a = {0}, b = {0};
	/* odd radii through the tables whatever they cost, even ones as the library picks;
	 * 13 and 7 with small work areas: several chunks of queries, a table's survivors
	 * walked before it is done, and (13) only 4 hashes walked round kept */
	static const struct hdb_batch_limits tiny = {64, 700, 4}, small = {100, 100000, 10};
	const struct hdb_batch_limits *lim = r == 13 ? &tiny : r == 7 ? &small : NULL;
	int na = r & 1 ? hdb_near_batch_mih(db, (const uint8_t *)qs, nq, r, lim, on_batch_hit, &a)
		       : ks_hashdb_near_batch(db, (const uint8_t *)qs, nq, r, on_batch_hit, &a);
	for (size_t k = 0; k < nq; k++) {
		b.query = k;
		ks_hashdb_near(db, qs[k], r, on_single_hit, &b);
	}
	int bad = na != (int)a.n || a.n != b.n;
	if (!bad && a.n) {
		qsort(a.v, a.n, sizeof *a.v, by_triple);
		qsort(b.v, b.n, sizeof *b.v, by_triple);
		for (size_t i = 0; i < a.n; i++)
			bad += by_triple(&a.v[i], &b.v[i]) != 0;
	}
	if (bad)
		fprintf(stderr, "batch radius %d: %zu hits, single %zu\n", r, a.n, b.n);
	free(a.v);
	free(b.v);
	return bad;
}

static void differential(size_t n, int m, int clustered, int nq)
{
	nq = nq / QUERY_SHARE > 10 ? nq / QUERY_SHARE : nq;
	uint8_t(*hs)[32] = malloc((n ? n : 1) * 32);
	size_t orig = clustered ? n / 8 + 1 : n;
	for (size_t i = 0; i < n; i++) {
		if (i < orig) {
			random_hash(hs[i]);
			if (clustered == 2) /* skewed: long shared runs of zero bits */
				memset(hs[i] + (i % 4) * 6, 0, 12);
		} else {
			memcpy(hs[i], hs[next64() % orig], 32);
			flip(hs[i], (int)(next64() % 41));
		}
	}
	if (n > 3)
		memcpy(hs[n - 1], hs[1], 32); /* one hash in both sets */
	dup = calloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i && !dup[i]; j++)
			if ((i < n / 2) == (j < n / 2) && (i % 3 != 0) == (j % 3 != 0) &&
			    hs[i][0] == hs[j][0] && memcmp(hs[i], hs[j], 32) == 0)
				dup[i] = 1;
	char name[64];
	snprintf(name, sizeof name, "near-%zu-%d-%d.kix", n, m, clustered);
	struct ks_hashdb *db = build((const uint8_t(*)[32])hs, n, m, name);
	if (!db) {
		free(hs);
		free(dup);
		return;
	}
	/* odd radii (and 0) always go through the tables, even ones may be scanned */
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	uint64_t exc = 0;
	for (int i = 0; i < db->m; i++)
		exc += db->mih[i].nexc;
	if (shapes_shown++ < 12)
		fprintf(stderr, "n=%zu: %d tables, %llu links in the exceptions\n", n,
			in.mih_tables, (unsigned long long)exc);
	exceptions += exc;
	static const int radii[] = {0, 1, 2, 5, 8, 13, 16, 22, 31, 32, 33, 40, 47, 63, 64, 90, 256};
	int bad = 0, total_hits = 0;
	for (int k = 0; k < nq; k++) {
		uint8_t q[32];
		if (n && k % 4 != 3) {
			memcpy(q, hs[next64() % n], 32);
			flip(q, (int)(next64() % 48));
		} else {
			random_hash(q);
		}
		int r = radii[next64() % (sizeof radii / sizeof radii[0])];
		if (k % 5 == 0)
			r = 31;
		int b = compare(db, (const uint8_t(*)[32])hs, n, q, r, k % 8 == 0);
		if (b && bad < 5)
			fprintf(stderr,
				"n=%zu m=%d clustered=%d query %d radius %d: %d mismatches "
				"(tables %d)\n",
				n, m, clustered, k, r, b, got.n);
		bad += b;
		total_hits += got.n;
	}
	/* with 8-bit keys a wide odd radius lets the tags pass every row (the path that
	 * skips the tag scan), still through the tables */
	if (in.mih_tables == 32 && n)
		for (int k = 0; k < 2 / QUERY_SHARE + 1; k++) {
			uint8_t q[32];
			memcpy(q, hs[next64() % n], 32);
			flip(q, (int)(next64() % 120));
			bad += compare(db, (const uint8_t(*)[32])hs, n, q, 201, k == 0);
		}
	/* the builds for CPUs without AVX2, and without POPCNT, on the same queries */
	int fast = db->fast;
	for (int f = 0; f < fast; f++) {
		db->fast = f;
		for (int k = 0; k < 30 / QUERY_SHARE && n; k++) {
			uint8_t q[32];
			memcpy(q, hs[next64() % n], 32);
			flip(q, (int)(next64() % 48));
			bad += compare(db, (const uint8_t(*)[32])hs, n, q, k % 2 ? 31 : 13, k < 2);
		}
	}
	db->fast = fast;
	CHECK(bad == 0);
	if (n > 100 && 4 * total_hits < nq)
		fprintf(stderr, "n=%zu m=%d: %d hits for %d queries\n", n, m, total_hits, nq);
	if (n > 100) /* the queries did find things (most are near an entry) */
		CHECK(4 * total_hits >= nq);
	/* the batched search: the same hits for every query, at several radii (enough
	 * queries to be searched together, in more than one chunk of 64) */
	if (nq < 64 + 96 / QUERY_SHARE)
		nq = 64 + 96 / QUERY_SHARE;
	uint8_t(*qs)[32] = malloc((size_t)nq * 32);
	for (int k = 0; k < nq; k++) {
		if (n && k % 4 != 3) {
			memcpy(qs[k], hs[next64() % n], 32);
			flip(qs[k], (int)(next64() % 48));
		} else {
			random_hash(qs[k]);
		}
	}
	static const int bradii[] = {31, 13, 7, 0, 24, 40}; /* sanitizers: the first three */
	int bbad = 0;
	for (size_t k = 0; k < (QUERY_SHARE > 1 ? 3 : sizeof bradii / sizeof bradii[0]); k++)
		bbad += compare_batch(db, (const uint8_t(*)[32])qs, (size_t)nq, bradii[k]);
	CHECK(bbad == 0);
	free(qs);
	ks_hashdb_close(db);
	free(hs);
	free(dup);
}

static void test_mih_vectors(void)
{
	const char *shared = ktest_shared();
	if (!shared) {
		fprintf(stderr, "SHARED not set: skipping the MIH vectors\n");
		return;
	}
	char p[512];
	static uint8_t hay[2000][32], nee[200][32];
	size_t nh = 0, nn = 0;
	char line[256];
	snprintf(p, sizeof p, "%s/testdata/pdq/mih/haystack.txt", shared);
	FILE *f = fopen(p, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof line, f) && nh < 2000)
		if (ks_hex_decode(line, 64, hay[nh], 32) == 0)
			nh++;
	fclose(f);
	snprintf(p, sizeof p, "%s/testdata/pdq/mih/needles.txt", shared);
	f = fopen(p, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof line, f) && nn < 200)
		if (ks_hex_decode(line, 64, nee[nn], 32) == 0)
			nn++;
	fclose(f);
	CHECK(nh == 1350 && nn == 100);

	/* expected pairs as "needle_line haystack_hash distance" strings */
	snprintf(p, sizeof p, "%s/testdata/pdq/mih/expected-matches-d31.tsv", shared);
	f = fopen(p, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	static char expect[400][100], seen[400][100];
	int ne = 0, ns = 0;
	while (fgets(line, sizeof line, f)) {
		int nl, hl, d;
		char nhx[80], hhx[80];
		if (sscanf(line, "%d %d %d %70s %70s", &nl, &hl, &d, nhx, hhx) == 5 && ne < 400)
			snprintf(expect[ne++], 100, "%d %s %d", nl, hhx, d);
	}
	fclose(f);
	CHECK(ne == 250);

	for (int m = 0; m <= 32; m += 16) {
		char name[32];
		snprintf(name, sizeof name, "mih-%d.kix", m);
		struct ks_hashdb *db = build((const uint8_t(*)[32])hay, nh, m, name);
		if (!db)
			return;
		ns = 0;
		for (size_t i = 0; i < nn; i++) {
			got.n = 0;
			hdb_near_mih(db, nee[i], 31, on_hit, &got);
			for (int k = 0; k < got.n && ns < 400; k++) {
				char hx[65];
				ks_hex_encode(got.v[k].h, 32, hx);
				snprintf(seen[ns++], 100, "%zu %s %d", i + 1, hx, got.v[k].d);
			}
		}
		CHECK(ns == 250);
		int missing = 0;
		for (int a = 0; a < ne; a++) {
			int found = 0;
			for (int b = 0; b < ns && !found; b++)
				found = strcmp(expect[a], seen[b]) == 0;
			if (!found && missing++ < 3)
				fprintf(stderr, "m=%d: expected pair not found: %s\n", m,
					expect[a]);
		}
		CHECK(missing == 0);
		ks_hashdb_close(db);
	}
}

static void sha(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned len;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

/* Rows damaged under valid checksums (as a faulty builder would leave them): opening
 * succeeds, lookups stay inside the map, and ks_hashdb_verify finds the tables spell a
 * hash out of order. */
static void test_damaged_link(void)
{
	static uint8_t hs[3000][32];
	for (size_t i = 0; i < 3000; i++)
		random_hash(hs[i]);
	dup = calloc(3000, 1);
	struct ks_hashdb *db = build((const uint8_t(*)[32])hs, 3000, 16, "damaged.kix");
	free(dup);
	if (!db)
		return;
	struct ks_err err = {0};
	CHECK(ks_hashdb_verify(db, &err) == KS_OK);
	ks_hashdb_close(db);
	char path[512];
	snprintf(path, sizeof path, "%s/damaged.kix", dir);
	FILE *f = fopen(path, "r+b");
	CHECK(f != NULL);
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size_t size = (size_t)ftell(f);
	uint8_t *d = malloc(size);
	rewind(f);
	CHECK(fread(d, 1, size, f) == size);
	uint64_t toff = hdb_le64(d + HDR_TABLE_OFF);
	uint32_t ns = hdb_le32(d + HDR_NSECT);
	int damaged = 0;
	for (uint32_t i = 0; i < ns; i++) {
		uint8_t *e = d + toff + (size_t)i * HDB_SECTION_SIZE;
		uint64_t off = hdb_le64(e + 8), sz = hdb_le64(e + 16);
		if (hdb_le32(e) == SEC_MIH_ROWS && hdb_le32(e + 4) == 5) {
			for (uint64_t k = 0; k + 8 < sz; k += 7)
				d[off + k] ^= 0x5A; /* many tags and links of table 5 */
			sha(d + off, (size_t)sz, e + 32);
			damaged = 1;
		}
	}
	CHECK(damaged);
	sha(d + toff, (size_t)ns * HDB_SECTION_SIZE, d + HDR_TABLE_SHA);
	sha(d, HDR_SHA, d + HDR_SHA);
	rewind(f);
	CHECK(fwrite(d, 1, size, f) == size);
	fclose(f);
	free(d);
	CHECK(ks_hashdb_open(path, KS_HASHDB_VERIFY, &db, &err) != KS_OK); /* walks them */
	CHECK(strstr(err.msg, "out of order") != NULL);
	CHECK(ks_hashdb_open(path, 0, &db, &err) == KS_OK);
	if (!db)
		return;
	CHECK(ks_hashdb_verify(db, &err) == KS_E_FORMAT);
	CHECK(strstr(err.msg, "PDQ tables are damaged") != NULL);
	for (int k = 0; k < 50; k++) { /* answers may be wrong, never a crash */
		struct hits *h = &got;
		h->n = 0;
		ks_hashdb_near(db, hs[k * 37], 31, on_hit, h);
		ks_hashdb_lookup(db, KS_HAS_PDQ, hs[k * 37], on_hit, h);
	}
	ks_hashdb_close(db);
}

int main(void)
{
	dir = ktest_tmpdir();
	test_mih_vectors();
	test_damaged_link();
	differential(0, 0, 0, 10);
	differential(1, 0, 0, 50);
	differential(7, 0, 1, 100);
	differential(300, 0, 1, 300);
	differential(5000, 0, 1, 600);
	differential(5000, 10, 2, 250);
	differential(20000, 0, 1, 200);
	differential(20000, 16, 0, 100);
	/* keys of 18-19, 12-13 and 10-11 bits: tags that cover part of the next key, or
	 * one key and part of another */
	differential(20000, 14, 1, 60);
	differential(20000, 20, 1, 60);
	differential(20000, 24, 2, 60);
	differential(20000, 32, 2, 100);
	CHECK(exceptions > 0); /* links kept in the exceptions were followed too */
	return ktest_done();
}
