/* The exact index: lookups by each digest kind, the strongest digest reported once per
 * (set, entry), several sets holding one hash, misses, duplicates held once, and a
 * randomized 100k-entry index checked against a brute-force scan, also from two
 * threads at once. Digests and categories are invented. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/index.h"
#include "ktest.h"

struct hitlist {
	struct ks_index_hit h[64];
	int n;
};

static void on_hit(void *ctx, const struct ks_index_hit *hit)
{
	struct hitlist *l = ctx;
	if (l->n < 64)
		l->h[l->n] = *hit;
	l->n++;
}

static void fill(uint8_t *d, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(seed * 131 + i * 7 + (seed >> 8));
}

static const struct ks_index_hit *find_set(const struct hitlist *l, int64_t set)
{
	for (int i = 0; i < l->n && i < 64; i++)
		if (l->h[i].set_id == set)
			return &l->h[i];
	return NULL;
}

static void test_basic(void)
{
	struct ks_index *idx = ks_index_new();
	struct ks_hash_entry a = {.has = KS_HAS_MD5 | KS_HAS_SHA1, .scheme = "uk", .category = "A"};
	fill(a.md5, 16, 1);
	fill(a.sha1, 20, 2);
	struct ks_hash_entry b = {.has = KS_HAS_SHA256, .scheme = "vics-us", .category = NULL};
	fill(b.sha256, 32, 3);
	struct ks_hash_entry c = {.has = KS_HAS_MD5, .scheme = "vics-us", .category = "2"};
	memcpy(c.md5, a.md5, 16); /* another set holds a's MD5 */
	struct ks_hash_entry none = {.has = 0, .scheme = "uk"};

	ks_index_add(idx, 10, 0, &a);
	ks_index_add(idx, 20, 1, &b);
	ks_index_add(idx, 30, 0, &c);
	ks_index_add(idx, 40, 0, &none); /* no digest: ignored */
	ks_index_add(idx, 10, 0, &a);	 /* the same entry again: held once */
	CHECK(ks_index_count(idx) == 3);

	struct hitlist l = {.n = 0};
	/* by MD5: both sets */
	CHECK(ks_index_lookup(idx, a.md5, NULL, NULL, on_hit, &l) == 2);
	CHECK(l.n == 2);
	const struct ks_index_hit *h = find_set(&l, 10);
	CHECK(h && strcmp(h->how, "md5") == 0 && strcmp(h->scheme, "uk") == 0 &&
	      strcmp(h->category, "A") == 0 && h->ignorable == 0);
	h = find_set(&l, 30);
	CHECK(h && strcmp(h->how, "md5") == 0 && strcmp(h->category, "2") == 0);

	/* by SHA-1 only */
	l.n = 0;
	CHECK(ks_index_lookup(idx, NULL, a.sha1, NULL, on_hit, &l) == 1);
	CHECK(l.n == 1 && l.h[0].set_id == 10 && strcmp(l.h[0].how, "sha1") == 0);

	/* MD5 and SHA-1 both match entry a: one hit for set 10, reported as sha1 */
	l.n = 0;
	CHECK(ks_index_lookup(idx, a.md5, a.sha1, b.sha256, on_hit, &l) == 3);
	h = find_set(&l, 10);
	CHECK(h && strcmp(h->how, "sha1") == 0);
	h = find_set(&l, 20);
	CHECK(h && strcmp(h->how, "sha256") == 0 && h->category == NULL && h->ignorable == 1 &&
	      strcmp(h->scheme, "vics-us") == 0);
	h = find_set(&l, 30);
	CHECK(h && strcmp(h->how, "md5") == 0);
	int tens = 0;
	for (int i = 0; i < l.n; i++)
		tens += l.h[i].set_id == 10;
	CHECK(tens == 1);

	/* misses */
	uint8_t z16[16] = {0}, z20[20] = {0}, z32[32] = {0};
	l.n = 0;
	CHECK(ks_index_lookup(idx, z16, z20, z32, on_hit, &l) == 0);
	CHECK(ks_index_lookup(idx, NULL, NULL, NULL, on_hit, &l) == 0);
	uint8_t sha256_from_md5[32] = {0};
	memcpy(sha256_from_md5, a.md5, 16);
	CHECK(ks_index_lookup(idx, NULL, NULL, sha256_from_md5, on_hit, &l) == 0);
	CHECK(l.n == 0);
	/* no callback: still counts */
	CHECK(ks_index_lookup(idx, a.md5, NULL, NULL, NULL, NULL) == 2);

	/* the same digests in the same set but another category are two entries */
	struct ks_hash_entry a2 = a;
	a2.category = "B";
	ks_index_add(idx, 10, 0, &a2);
	CHECK(ks_index_count(idx) == 4);
	/* a subset of a's digests is another entry too */
	struct ks_hash_entry a3 = a;
	a3.has = KS_HAS_MD5;
	ks_index_add(idx, 10, 0, &a3);
	CHECK(ks_index_count(idx) == 5);
	l.n = 0;
	CHECK(ks_index_lookup(idx, a.md5, NULL, NULL, on_hit, &l) == 4);

	/* strings are copied: the caller's buffers may change */
	char cat[8] = "C";
	struct ks_hash_entry d = {.has = KS_HAS_MD5, .scheme = "uk", .category = cat};
	fill(d.md5, 16, 99);
	ks_index_add(idx, 50, 0, &d);
	cat[0] = 'X';
	l.n = 0;
	CHECK(ks_index_lookup(idx, d.md5, NULL, NULL, on_hit, &l) == 1);
	CHECK(l.n == 1 && strcmp(l.h[0].category, "C") == 0);

	ks_index_free(idx);
	ks_index_free(NULL);
	CHECK(ks_index_count(NULL) == 0);
}

/* ---- randomized against brute force -------------------------------------------------- */

#define N 100000
#define NSETS 7

struct ref {
	int64_t set;
	int ign;
	unsigned has;
	uint8_t md5[16], sha1[20], sha256[32];
	int cat; /* index into cats, -1 = NULL */
};

static const char *const cats[] = {"A", "B", "C", "N"};
static struct ref *refs;
static struct ks_index *ridx;

static uint64_t rng_state = 0x853c49e6748fea9bULL;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}
static void rnd_bytes(uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)rnd();
}

struct tuple {
	int64_t set;
	int how; /* 0 md5 1 sha1 2 sha256 */
	int cat;
	int ign;
};

static int tuple_cmp(const void *a, const void *b)
{
	const struct tuple *x = a, *y = b;
	if (x->set != y->set)
		return x->set < y->set ? -1 : 1;
	if (x->how != y->how)
		return x->how - y->how;
	if (x->cat != y->cat)
		return x->cat - y->cat;
	return x->ign - y->ign;
}

static int same_ref(const struct ref *a, const struct ref *b)
{
	return a->set == b->set && a->ign == b->ign && a->cat == b->cat && a->has == b->has &&
	       (!(a->has & KS_HAS_MD5) || !memcmp(a->md5, b->md5, 16)) &&
	       (!(a->has & KS_HAS_SHA1) || !memcmp(a->sha1, b->sha1, 20)) &&
	       (!(a->has & KS_HAS_SHA256) || !memcmp(a->sha256, b->sha256, 32));
}

/* Orders refs so that exact duplicates are neighbours. */
static int ref_cmp(const void *pa, const void *pb)
{
	const struct ref *a = &refs[*(const int *)pa], *b = &refs[*(const int *)pb];
	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	if (a->ign != b->ign || a->cat != b->cat || a->has != b->has)
		return a->ign != b->ign	  ? a->ign - b->ign
		       : a->cat != b->cat ? a->cat - b->cat
					  : (int)a->has - (int)b->has;
	int c = 0;
	if (!c && (a->has & KS_HAS_MD5))
		c = memcmp(a->md5, b->md5, 16);
	if (!c && (a->has & KS_HAS_SHA1))
		c = memcmp(a->sha1, b->sha1, 20);
	if (!c && (a->has & KS_HAS_SHA256))
		c = memcmp(a->sha256, b->sha256, 32);
	return c;
}

/* Brute force: every distinct entry matching any digest, strongest digest. */
static int brute(const uint8_t *md5, const uint8_t *sha1, const uint8_t *sha256, struct tuple *out,
		 int max)
{
	int n = 0, nm = 0, matched[256];
	for (int i = 0; i < N; i++) {
		const struct ref *r = &refs[i];
		int how = -1;
		if (sha256 && (r->has & KS_HAS_SHA256) && !memcmp(r->sha256, sha256, 32))
			how = 2;
		else if (sha1 && (r->has & KS_HAS_SHA1) && !memcmp(r->sha1, sha1, 20))
			how = 1;
		else if (md5 && (r->has & KS_HAS_MD5) && !memcmp(r->md5, md5, 16))
			how = 0;
		if (how < 0)
			continue;
		/* an exact duplicate matches too, so it is among the earlier matches */
		int dup = 0;
		for (int j = 0; j < nm && !dup; j++)
			dup = same_ref(&refs[matched[j]], r);
		if (dup)
			continue;
		if (nm < 256)
			matched[nm++] = i;
		if (n < max)
			out[n] = (struct tuple){r->set, how, r->cat, r->ign};
		n++;
	}
	return n;
}

/* Field by field: struct padding makes memcmp meaningless here. */
static int same_tuples(const struct tuple *a, const struct tuple *b, int n)
{
	for (int i = 0; i < n; i++)
		if (tuple_cmp(&a[i], &b[i]) != 0)
			return 0;
	return 1;
}

struct tcoll {
	struct tuple t[256];
	int n;
};

static void on_tuple(void *ctx, const struct ks_index_hit *h)
{
	struct tcoll *c = ctx;
	int cat = -1;
	for (int i = 0; i < 4; i++)
		if (h->category && strcmp(h->category, cats[i]) == 0)
			cat = i;
	int how = strcmp(h->how, "md5") == 0 ? 0 : strcmp(h->how, "sha1") == 0 ? 1 : 2;
	if (c->n < 256)
		c->t[c->n] = (struct tuple){h->set_id, how, cat, h->ignorable};
	c->n++;
}

/* Runs one query both ways; returns 1 if they agree. */
static int agree(const uint8_t *md5, const uint8_t *sha1, const uint8_t *sha256, int *nhits)
{
	struct tuple want[256];
	struct tcoll got = {.n = 0};
	int nw = brute(md5, sha1, sha256, want, 256);
	int ng = ks_index_lookup(ridx, md5, sha1, sha256, on_tuple, &got);
	*nhits = ng;
	if (nw != ng || got.n != ng || nw > 256)
		return 0;
	qsort(want, (size_t)nw, sizeof *want, tuple_cmp);
	qsort(got.t, (size_t)ng, sizeof *got.t, tuple_cmp);
	return same_tuples(want, got.t, nw);
}

/* Query q: mostly digests of existing entries (mixed across entries), some random. */
static void make_query(unsigned q, uint8_t md5[16], uint8_t sha1[20], uint8_t sha256[32],
		       const uint8_t **pm, const uint8_t **ps1, const uint8_t **ps2)
{
	uint64_t saved = rng_state;
	rng_state = 0x9e3779b97f4a7c15ULL * (q + 1);
	const struct ref *a = &refs[rnd() % N], *b = &refs[rnd() % N];
	switch (q % 5) {
	case 0: /* everything of one entry */
		memcpy(md5, a->md5, 16), memcpy(sha1, a->sha1, 20), memcpy(sha256, a->sha256, 32);
		break;
	case 1: /* digests of two different entries */
		memcpy(md5, a->md5, 16), memcpy(sha1, b->sha1, 20), rnd_bytes(sha256, 32);
		break;
	case 2: /* a miss */
		rnd_bytes(md5, 16), rnd_bytes(sha1, 20), rnd_bytes(sha256, 32);
		break;
	default:
		memcpy(md5, b->md5, 16), rnd_bytes(sha1, 20), memcpy(sha256, a->sha256, 32);
	}
	*pm = rnd() % 4 ? md5 : NULL;
	*ps1 = rnd() % 4 ? sha1 : NULL;
	*ps2 = rnd() % 4 ? sha256 : NULL;
	rng_state = saved;
}

static void build_random(void)
{
	refs = calloc(N, sizeof *refs);
	ridx = ks_index_new();
	for (int i = 0; i < N; i++) {
		struct ref *r = &refs[i];
		r->set = 1 + rnd() % NSETS;
		r->ign = r->set == NSETS;
		r->cat = (int)(rnd() % 5) - 1;
		r->has = 1 + rnd() % 7;
		unsigned k = rnd() % 100;
		if (i > 0 && k < 10) {
			/* shares digests with an earlier entry, often in another set */
			const struct ref *o = &refs[rnd() % (unsigned)i];
			memcpy(r->md5, o->md5, 16);
			memcpy(r->sha1, o->sha1, 20);
			memcpy(r->sha256, o->sha256, 32);
			if (k < 3)
				r->has = o->has; /* sometimes an exact duplicate */
			if (k < 2) {
				r->set = o->set, r->ign = o->ign, r->cat = o->cat;
			}
		} else {
			rnd_bytes(r->md5, 16);
			rnd_bytes(r->sha1, 20);
			rnd_bytes(r->sha256, 32);
		}
		struct ks_hash_entry e = {
		    .has = r->has, .scheme = "uk", .category = r->cat < 0 ? NULL : cats[r->cat]};
		memcpy(e.md5, r->md5, 16);
		memcpy(e.sha1, r->sha1, 20);
		memcpy(e.sha256, r->sha256, 32);
		ks_index_add(ridx, r->set, r->ign, &e);
	}
}

#define NQ 1000

static void *worker(void *arg)
{
	long bad = 0;
	for (unsigned q = 0; q < NQ; q++) {
		uint8_t m[16], s1[20], s2[32];
		const uint8_t *pm, *ps1, *ps2;
		make_query(q, m, s1, s2, &pm, &ps1, &ps2);
		struct tcoll got = {.n = 0};
		struct tcoll again = {.n = 0};
		ks_index_lookup(ridx, pm, ps1, ps2, on_tuple, &got);
		ks_index_lookup(ridx, pm, ps1, ps2, on_tuple, &again);
		if (got.n != again.n || !same_tuples(got.t, again.t, got.n < 256 ? got.n : 256))
			bad++;
	}
	return (void *)bad;
}

static void test_random(void)
{
	build_random();
	int *order = malloc(N * sizeof *order), distinct = 0;
	for (int i = 0; i < N; i++)
		order[i] = i;
	qsort(order, N, sizeof *order, ref_cmp);
	for (int i = 0; i < N; i++)
		distinct += i == 0 || !same_ref(&refs[order[i - 1]], &refs[order[i]]);
	free(order);
	CHECK(ks_index_count(ridx) == (size_t)distinct);
	size_t mem = ks_index_memory(ridx);
	printf("100k entries: %zu distinct, %zu bytes (%.1f per entry)\n", ks_index_count(ridx),
	       mem, (double)mem / (double)distinct);
	CHECK(mem < (size_t)distinct * 300);

	int bad = 0, hits = 0, multi = 0, misses = 0;
	for (unsigned q = 0; q < NQ; q++) {
		uint8_t m[16], s1[20], s2[32];
		const uint8_t *pm, *ps1, *ps2;
		make_query(q, m, s1, s2, &pm, &ps1, &ps2);
		int nh;
		if (!agree(pm, ps1, ps2, &nh))
			bad++;
		hits += nh > 0;
		multi += nh > 1;
		misses += nh == 0;
	}
	printf("%d queries: %d with hits, %d with several, %d misses, %d disagreements\n", NQ, hits,
	       multi, misses, bad);
	CHECK(bad == 0);
	CHECK(hits > NQ / 3 && multi > 20 && misses > NQ / 10);

	/* Two threads at once see the same answers. */
	pthread_t t[2];
	void *r[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], &r[i]);
	CHECK(r[0] == NULL && r[1] == NULL);

	ks_index_free(ridx);
	free(refs);
}

int main(void)
{
	test_basic();
	test_random();
	return ktest_done();
}
