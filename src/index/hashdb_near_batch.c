/* Near lookup of many PDQ hashes at once: the multi-index hashing of hashdb_near.c
 * with its random memory fetches turned into sorting and streaming. One query at a
 * time, each bucket probe and each candidate is a cache miss somewhere in a file of
 * hundreds of megabytes, so a query costs thousands of memory latencies. Here a round
 * of queries goes through one substring table at a time: every bucket probe of every
 * query in the round is generated, radix-sorted by bucket, and the table's directory
 * and buckets are then read in address order (streaming, prefetcher-friendly); the
 * candidates of all tables are radix-sorted by row, and the hashes read in one pass in
 * file order.
 * The answers are those of ks_hashdb_near, query by query: the same thresholds, the
 * same check of every candidate's full distance, and the same rule that reports a row
 * only from the first table that can find it. Memory: the round's probes and at most
 * MAX_CANDS candidates (about 150 MB in all), whatever the file holds. */
#include <stdlib.h>
#include <string.h>

#include "hashdb_int.h"

#define ROUND_QUERIES 4096 /* queries per round (the probe's query field has 24 bits) */
#define MAX_CANDS (1u << 23) /* candidates checked at a time (64 MB, and as much to sort) */

/* Least-significant-digit radix sort of a[0..n) by bits [lo, lo + bits) of each
 * value, in passes of at most 8 bits through tmp (256 write streams stay cached);
 * the result is in a. */
static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n, unsigned lo, unsigned bits)
{
	uint64_t *src = a, *dst = tmp;
	size_t count[256];
	while (bits) {
		unsigned w = bits > 8 ? 8 : bits;
		uint64_t mask = (1u << w) - 1;
		memset(count, 0, sizeof(size_t) << w);
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> lo) & mask]++;
		size_t sum = 0;
		for (size_t b = 0; b <= mask; b++) {
			size_t c = count[b];
			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> lo) & mask]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
		lo += w;
		bits -= w;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
}

static unsigned bits_for(uint64_t n)
{
	unsigned b = 1;
	while (b < 64 && (n >> b))
		b++;
	return b;
}

struct round {
	const struct ks_hashdb *db;
	const uint8_t *pdqs;
	size_t first, nq; /* queries first .. first + nq of the call */
	int radius;
	const int *t;
	uint64_t (*q)[4]; /* the round's queries, loaded */
	uint32_t *qlow;	  /* the current table's low key bits per query */
	uint64_t *probe, *ptmp;
	size_t nprobe, cprobe;
	uint64_t *cand, *ctmp;
	size_t ncand;
	struct hdb_batch rep;
	int hits;
};

/* Checks the candidates gathered (row << 32 | table << 24 | query), in row order. */
static inline __attribute__((always_inline)) void check(struct round *r)
{
	const struct ks_hashdb *db = r->db;
	radix_sort(r->cand, r->ctmp, r->ncand, 32, bits_for(db->n_pdq));
	for (size_t k = 0; k < r->ncand; k++) {
		uint32_t row = (uint32_t)(r->cand[k] >> 32), qi = (uint32_t)r->cand[k] & 0xFFFFFF;
		int i = (int)(r->cand[k] >> 24) & 0xFF;
		if (k + 8 < r->ncand)
			__builtin_prefetch(db->pdq + 32 * (size_t)(r->cand[k + 8] >> 32));
		const uint8_t *h = db->pdq + 32 * (size_t)row;
		int d = hdb_dist4(r->q[qi], h);
		if (d > r->radius)
			continue;
		uint64_t w[4], xr[4];
		hdb_load4(h, w);
		for (int j = 0; j < 4; j++)
			xr[j] = r->q[qi][j] ^ w[j];
		int earlier = 0;
		for (int j = 0; j < i && !earlier; j++)
			if (r->t[j] >= 0 && hdb_dist_masked(xr, db->mih[j].mask) <= r->t[j])
				earlier = 1;
		if (earlier)
			continue; /* table j finds it */
		r->rep.query = r->first + qi;
		r->hits += hdb_report(db, T_PDQ, h, hdb_le32(db->pdq_pay + 4 * (size_t)row), row,
				      d, hdb_batch_hit, &r->rep);
	}
	r->ncand = 0;
}

static inline __attribute__((always_inline)) void add_cand(struct round *r, int i, uint32_t row,
							   uint32_t qi)
{
	if (row >= r->db->n_pdq)
		return; /* damaged file: never read outside the map */
	r->cand[r->ncand++] = (uint64_t)row << 32 | (uint64_t)i << 24 | qi;
	if (r->ncand == MAX_CANDS)
		check(r);
}

struct bucket {
	struct round *r;
	const uint8_t *ids; /* the bucket's row numbers (tables >= 1) */
	uint32_t lo, qi;
	int i, has_ids;
};

static inline __attribute__((always_inline)) void bucket_row(void *ctx, uint32_t j)
{
	struct bucket *b = ctx;
	add_cand(b->r, b->i, b->has_ids ? hdb_le32(b->ids + 4 * (size_t)(j - b->lo)) : j, b->qi);
}

/* Searches table i for the round's queries. */
static inline __attribute__((always_inline)) void table_round(struct round *r, int i)
{
	const struct ks_hashdb *db = r->db;
	const struct hdb_mih *x = &db->mih[i];
	unsigned t = (unsigned)r->t[i];
	/* every probe: bucket (high bits) << 32 | allowed low-bit distance << 24 | query */
	r->nprobe = 0;
	for (size_t k = 0; k < r->nq; k++) {
		uint32_t key = hdb_bits(r->pdqs + 32 * (r->first + k), x->off, x->len);
		uint32_t qh = key >> x->lb;
		r->qlow[k] = key & ((1u << x->lb) - 1);
		for (unsigned d = 0; d <= t && d <= x->hb; d++) {
			uint32_t flips = d ? (1u << d) - 1 : 0;
			for (;;) {
				if (r->nprobe == r->cprobe) {
					r->cprobe *= 2;
					r->probe = ks_xrealloc(r->probe, r->cprobe * sizeof *r->probe);
					r->ptmp = ks_xrealloc(r->ptmp, r->cprobe * sizeof *r->ptmp);
				}
				r->probe[r->nprobe++] = (uint64_t)(qh ^ flips) << 32 |
							(uint64_t)(t - d) << 24 | k;
				if (!d)
					break;
				flips = hdb_next_comb(flips);
				if (flips >> x->hb)
					break;
			}
		}
	}
	radix_sort(r->probe, r->ptmp, r->nprobe, 32, x->hb);
	size_t width = (size_t)x->lw + x->iw;
	for (size_t p = 0; p < r->nprobe; p++) {
		uint32_t h = (uint32_t)(r->probe[p] >> 32);
		unsigned allowed = (unsigned)(r->probe[p] >> 24) & 0xFF;
		uint32_t qi = (uint32_t)r->probe[p] & 0xFFFFFF;
		if (p + 16 < r->nprobe) {
			uint32_t nh = (uint32_t)(r->probe[p + 16] >> 32);
			__builtin_prefetch(x->dir + 4 * (size_t)nh);
		}
		uint32_t lo = hdb_le32(x->dir + 4 * (size_t)h), hi = hdb_le32(x->dir + 4 * (size_t)h + 4);
		if (hi <= lo)
			continue;
		const uint8_t *base = x->rows ? x->rows + width * lo : NULL;
		struct bucket b = {r, base ? base + (size_t)x->lw * (hi - lo) : NULL, lo, qi, i,
				   x->iw != 0};
		hdb_bucket_rows(base, x->lw, x->lb, lo, hi, r->qlow[qi], allowed, bucket_row, &b);
	}
}

static inline __attribute__((always_inline)) void run_round(struct round *r)
{
	for (size_t k = 0; k < r->nq; k++)
		hdb_load4(r->pdqs + 32 * (r->first + k), r->q[k]);
	for (int i = 0; i < r->db->m; i++)
		if (r->t[i] >= 0)
			table_round(r, i);
	check(r); /* every table's candidates at once: the hashes are read in one pass */
}

static void round_plain(struct round *r)
{
	run_round(r);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt"))) static void round_popcnt(struct round *r)
{
	run_round(r);
}
#else
#define round_popcnt round_plain
#endif

static int near_batch(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		      int force, ks_hashdb_batch_fn fn, void *ctx)
{
	if (!db || !pdqs || radius < 0 || !db->n_pdq || !n)
		return 0;
	if (radius > 256)
		radius = 256;
	int t[MIH_MAX_TABLES];
	int hits = 0;
	if (hdb_near_plan(db, radius, t) >= (double)db->n_pdq / 8 && !force) {
		/* a linear scan is cheaper: query by query (ks_hashdb_near scans) */
		struct hdb_batch rep = {fn, ctx, 0};
		for (size_t k = 0; k < n; k++) {
			rep.query = k;
			hits += ks_hashdb_near(db, pdqs + 32 * k, radius, hdb_batch_hit, &rep);
		}
		return hits;
	}
	size_t rq = n < ROUND_QUERIES ? n : ROUND_QUERIES;
	struct round r = {.db = db, .pdqs = pdqs, .radius = radius, .t = t};
	r.rep.fn = fn;
	r.rep.ctx = ctx;
	r.q = ks_xmalloc(rq * sizeof *r.q);
	r.qlow = ks_xmalloc(rq * sizeof *r.qlow);
	r.cprobe = rq * 256;
	r.probe = ks_xmalloc(r.cprobe * sizeof *r.probe);
	r.ptmp = ks_xmalloc(r.cprobe * sizeof *r.ptmp);
	r.cand = ks_xmalloc(MAX_CANDS * sizeof *r.cand);
	r.ctmp = ks_xmalloc(MAX_CANDS * sizeof *r.ctmp);
	for (size_t first = 0; first < n; first += rq) {
		r.first = first;
		r.nq = n - first < rq ? n - first : rq;
		if (db->fast)
			round_popcnt(&r);
		else
			round_plain(&r);
	}
	hits = r.hits;
	free(r.q);
	free(r.qlow);
	free(r.probe);
	free(r.ptmp);
	free(r.cand);
	free(r.ctmp);
	return hits;
}

int ks_hashdb_near_batch(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
			 ks_hashdb_batch_fn fn, void *ctx)
{
	return near_batch(db, pdqs, n, radius, 0, fn, ctx);
}

int hdb_near_batch_mih(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		       ks_hashdb_batch_fn fn, void *ctx)
{
	return near_batch(db, pdqs, n, radius, 1, fn, ctx);
}
