/* Exact near lookup of PDQ hashes: multi-index hashing. The 256 bits are cut into m
 * contiguous substrings (m about 256 / log2 n); if two hashes are within distance r,
 * then for thresholds t_i with sum(t_i + 1) >= r + 1 some substring i differs in at
 * most t_i bits (pigeonhole). Each table holds the rows ordered by that substring's
 * high bits (a directory of bucket bounds) with its low 8 bits kept per row, so a
 * query enumerates the high-bit neighbours within t_i, scans those buckets' low bytes
 * eight at a time, and checks the candidates' full distance. A row reachable from an
 * earlier table is reported only there, so each row is reported once without any
 * per-query set. Candidate rows are fetched in batches with prefetching. */
#include <stdlib.h>
#include <string.h>

#include "hashdb_int.h"

#define CAND_BATCH 512

static double ball(unsigned bits, int t)
{
	double v = 0, c = 1;
	for (int d = 0; d <= t && d <= (int)bits; d++) {
		v += c;
		c = c * (bits - d) / (d + 1);
	}
	return v;
}

/* Expected cost of searching one table at threshold t over n rows, in random cache
 * line fetches (what bounds a query): a directory entry and the low bytes per bucket
 * visited, the row number and the hash per candidate. */
static double table_cost(double n, unsigned len, unsigned hb, unsigned lb, int t)
{
	if (t < 0)
		return 0;
	double buckets = ball(hb, t);
	double per_bucket = n / (double)(1ull << hb) * (lb ? 1 : 4) / 64;
	double cands = ball(len, t) * n / (double)(1ull << len);
	return buckets * (1 + (per_bucket > 1 ? per_bucket : 1)) + cands * 1.5;
}

/* The thresholds for radius r over m tables: radius + 1 units spread evenly, the
 * first (longer) tables getting the remainder. */
static int share(int radius, int m, int i)
{
	int need = radius + 1;
	return need / m + (i < need % m ? 1 : 0) - 1;
}

static void cut(int m, unsigned lb_max, unsigned hb_max, struct hdb_mih_shape *out)
{
	out->m = m;
	unsigned base = 256u / (unsigned)m, rem = 256u % (unsigned)m, off = 0;
	for (int i = 0; i < m; i++) {
		unsigned len = base + ((unsigned)i < rem ? 1 : 0);
		unsigned lb = len > lb_max ? lb_max : len;
		if (len - lb > hb_max)
			lb = len - hb_max;
		out->off[i] = (uint16_t)off;
		out->len[i] = (uint8_t)len;
		out->lb[i] = (uint8_t)lb;
		out->hb[i] = (uint8_t)(len - lb);
		off += len;
	}
}

void hdb_mih_shape(uint64_t n, int m, struct hdb_mih_shape *out)
{
	/* Substrings of 8..26 bits; high parts of at most 20 bits (directories of at most
	 * 4 MiB a table); up to 8 low bits kept per row. With m given, only the split of
	 * each key is chosen; otherwise m too, by the cost model at the default radius. */
	int lo = 10, hi = MIH_MAX_TABLES;
	if (m > 0)
		lo = hi = m < 10 ? 10 : m > MIH_MAX_TABLES ? MIH_MAX_TABLES : m;
	double best = -1;
	for (int mm = lo; mm <= hi; mm++)
		for (unsigned lb = 0; lb <= 8; lb++) {
			struct hdb_mih_shape sh;
			cut(mm, lb, 20, &sh);
			double cost = 0;
			for (int i = 0; i < mm; i++)
				cost += table_cost((double)n, sh.len[i], sh.hb[i], sh.lb[i],
						   share(KS_PDQ_RADIUS_DEFAULT, mm, i));
			if (best < 0 || cost < best) {
				best = cost;
				*out = sh;
			}
		}
}

/* ---- the query, built twice: plain and with the POPCNT instruction -----------------
 * Memory latency, not arithmetic, bounds a query, so its work runs in rounds that keep
 * many loads in flight: enumerate up to ROUND buckets over all tables (prefetching
 * their directory entries), read their bounds (prefetching their low bytes), scan them
 * (prefetching the row numbers of candidates, which lie just after the low bytes),
 * then fetch the candidates' hashes (prefetched) and check them. */

#define ROUND 256

struct pend {
	uint32_t h;
	uint8_t table, allowed;
};

struct cand {
	const uint8_t *idp; /* where the row number is; NULL for table 0 */
	uint32_t row;	    /* table 0: the row; else filled from idp */
	uint8_t table;
};

struct query {
	const struct ks_hashdb *db;
	uint64_t q[4];
	int radius;
	int t[MIH_MAX_TABLES]; /* per-table threshold, -1 = table not searched */
	uint32_t qh[MIH_MAX_TABLES], qlow[MIH_MAX_TABLES];
	ks_hashdb_hit_fn fn;
	void *ctx;
	int hits;
	struct pend pend[ROUND];
	size_t npend;
	struct cand cand[CAND_BATCH];
	size_t ncand;
};

/* Fetches and checks the candidates gathered so far. */
static inline __attribute__((always_inline)) void verify(struct query *q)
{
	const struct ks_hashdb *db = q->db;
	size_t n = q->ncand;
	q->ncand = 0;
	for (size_t k = 0; k < n; k++) {
		struct cand *c = &q->cand[k];
		if (c->idp)
			c->row = hdb_le32(c->idp);
		if (c->row < db->n_pdq)
			__builtin_prefetch(db->pdq + 32 * (size_t)c->row);
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t r = q->cand[k].row;
		int i = q->cand[k].table;
		if (r >= db->n_pdq)
			continue; /* damaged file: never read outside the map */
		const uint8_t *h = db->pdq + 32 * (size_t)r;
		int d = hdb_dist4(q->q, h);
		if (d > q->radius)
			continue;
		uint64_t w[4], xr[4];
		hdb_load4(h, w);
		for (int j = 0; j < 4; j++)
			xr[j] = q->q[j] ^ w[j];
		int earlier = 0;
		for (int j = 0; j < i && !earlier; j++)
			if (q->t[j] >= 0 && hdb_dist_masked(xr, db->mih[j].mask) <= q->t[j])
				earlier = 1;
		if (earlier)
			continue; /* table j finds it */
		q->hits += hdb_report(db, T_PDQ, h, hdb_le32(db->pdq_pay + 4 * (size_t)r), r, d,
				      q->fn, q->ctx);
	}
}

static inline __attribute__((always_inline)) void add_cand(struct query *q, int i,
							   const struct hdb_mih *x,
							   const uint8_t *base, uint32_t lo,
							   uint32_t hi, uint32_t j)
{
	struct cand *c = &q->cand[q->ncand++];
	c->table = (uint8_t)i;
	if (x->iw) {
		c->idp = base + (size_t)x->lw * (hi - lo) + 4 * (size_t)(j - lo);
		__builtin_prefetch(c->idp);
	} else {
		c->idp = NULL;
		c->row = j;
	}
	if (q->ncand == CAND_BATCH)
		verify(q);
}

struct bucket {
	struct query *q;
	const struct hdb_mih *x;
	const uint8_t *base;
	uint32_t lo, hi;
	int i;
};

static inline __attribute__((always_inline)) void bucket_row(void *ctx, uint32_t j)
{
	struct bucket *b = ctx;
	add_cand(b->q, b->i, b->x, b->base, b->lo, b->hi, j);
}

static inline __attribute__((always_inline)) void scan_bucket(struct query *q, int i, uint32_t lo,
							      uint32_t hi, unsigned allowed)
{
	const struct hdb_mih *x = &q->db->mih[i];
	struct bucket b = {q, x, x->rows ? x->rows + (size_t)(x->lw + x->iw) * lo : NULL, lo, hi, i};
	hdb_bucket_rows(b.base, x->lw, x->lb, lo, hi, q->qlow[i], allowed, bucket_row, &b);
}

/* Reads the pending buckets' bounds, prefetches their low bytes, scans them. */
static inline __attribute__((always_inline)) void round_(struct query *q)
{
	struct {
		uint32_t lo, hi;
		uint8_t table, allowed;
	} bk[ROUND];
	size_t nb = 0;
	for (size_t k = 0; k < q->npend; k++) {
		const struct pend *p = &q->pend[k];
		const struct hdb_mih *x = &q->db->mih[p->table];
		uint32_t lo = hdb_le32(x->dir + 4 * (size_t)p->h);
		uint32_t hi = hdb_le32(x->dir + 4 * (size_t)p->h + 4);
		if (hi <= lo)
			continue;
		if (x->rows) {
			const uint8_t *a = x->rows + (size_t)(x->lw + x->iw) * lo;
			size_t span = x->lw ? hi - lo : 4 * (size_t)(hi - lo);
			for (size_t o = 0; o < span && o < 1024; o += 64)
				__builtin_prefetch(a + o);
		}
		bk[nb].lo = lo;
		bk[nb].hi = hi;
		bk[nb].table = p->table;
		bk[nb].allowed = p->allowed;
		nb++;
	}
	q->npend = 0;
	for (size_t k = 0; k < nb; k++)
		scan_bucket(q, bk[k].table, bk[k].lo, bk[k].hi, bk[k].allowed);
}

static inline __attribute__((always_inline)) void run_mih(struct query *q)
{
	const struct ks_hashdb *db = q->db;
	uint8_t qb[32];
	memcpy(qb, q->q, 32);
	for (int i = 0; i < db->m; i++) {
		if (q->t[i] < 0)
			continue;
		const struct hdb_mih *x = &db->mih[i];
		uint32_t key = hdb_bits(qb, x->off, x->len);
		q->qh[i] = key >> x->lb;
		q->qlow[i] = key & ((1u << x->lb) - 1);
	}
	for (int i = 0; i < db->m; i++) {
		if (q->t[i] < 0)
			continue;
		const struct hdb_mih *x = &db->mih[i];
		unsigned t = (unsigned)q->t[i];
		for (unsigned d = 0; d <= t && d <= x->hb; d++) {
			uint32_t flips = d ? (1u << d) - 1 : 0;
			for (;;) {
				uint32_t h = q->qh[i] ^ flips;
				__builtin_prefetch(x->dir + 4 * (size_t)h);
				struct pend *p = &q->pend[q->npend++];
				p->h = h;
				p->table = (uint8_t)i;
				p->allowed = (uint8_t)(t - d);
				if (q->npend == ROUND)
					round_(q);
				if (!d)
					break;
				flips = hdb_next_comb(flips);
				if (flips >> x->hb)
					break;
			}
		}
	}
	round_(q);
	verify(q);
}

static inline __attribute__((always_inline)) void run_scan(struct query *q)
{
	const struct ks_hashdb *db = q->db;
	for (uint64_t r = 0; r < db->n_pdq; r++) {
		const uint8_t *h = db->pdq + 32 * r;
		int d = hdb_dist4(q->q, h);
		if (d <= q->radius)
			q->hits += hdb_report(db, T_PDQ, h, hdb_le32(db->pdq_pay + 4 * r), r, d,
					      q->fn, q->ctx);
	}
}

static void mih_plain(struct query *q)
{
	run_mih(q);
}

static void scan_plain(struct query *q)
{
	run_scan(q);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt"))) static void mih_popcnt(struct query *q)
{
	run_mih(q);
}

__attribute__((target("popcnt"))) static void scan_popcnt(struct query *q)
{
	run_scan(q);
}
#else
#define mih_popcnt mih_plain
#define scan_popcnt scan_plain
#endif

/* ---- choosing thresholds ------------------------------------------------------------- */

/* Sets each table's threshold for radius and returns the expected cost (as
 * table_cost) for comparing with a linear scan. */
double hdb_near_plan(const struct ks_hashdb *db, int radius, int *t)
{
	double cost = 0;
	for (int i = 0; i < db->m; i++) {
		const struct hdb_mih *x = &db->mih[i];
		t[i] = share(radius, db->m, i);
		cost += table_cost((double)db->n_pdq, x->len, x->hb, x->lb, t[i]);
	}
	return cost;
}

static void load_query(struct query *q, const struct ks_hashdb *db, const uint8_t pdq[32],
		       int radius, ks_hashdb_hit_fn fn, void *ctx)
{
	q->npend = q->ncand = 0;
	q->hits = 0;
	q->db = db;
	hdb_load4(pdq, q->q);
	q->radius = radius;
	q->fn = fn;
	q->ctx = ctx;
}

int ks_hashdb_near_scan(const struct ks_hashdb *db, const uint8_t pdq[32], int radius,
			ks_hashdb_hit_fn fn, void *ctx)
{
	if (!db || !pdq || radius < 0 || !db->n_pdq)
		return 0;
	struct query q;
	load_query(&q, db, pdq, radius, fn, ctx);
	if (db->fast)
		scan_popcnt(&q);
	else
		scan_plain(&q);
	return q.hits;
}

static int near(const struct ks_hashdb *db, const uint8_t pdq[32], int radius, int force,
		ks_hashdb_hit_fn fn, void *ctx)
{
	if (!db || !pdq || radius < 0 || !db->n_pdq)
		return 0;
	if (radius > 256)
		radius = 256;
	struct query q;
	load_query(&q, db, pdq, radius, fn, ctx);
	/* when a linear scan is cheaper (large radius, few rows), scan: it reads the
	 * hashes in order, two to a cache line, far cheaper than random fetches */
	if (hdb_near_plan(db, radius, q.t) >= (double)db->n_pdq / 8 && !force)
		return ks_hashdb_near_scan(db, pdq, radius, fn, ctx);
	if (db->fast)
		mih_popcnt(&q);
	else
		mih_plain(&q);
	return q.hits;
}

int ks_hashdb_near(const struct ks_hashdb *db, const uint8_t pdq[32], int radius,
		   ks_hashdb_hit_fn fn, void *ctx)
{
	return near(db, pdq, radius, 0, fn, ctx);
}

int hdb_near_mih(const struct ks_hashdb *db, const uint8_t pdq[32], int radius, ks_hashdb_hit_fn fn,
		 void *ctx)
{
	return near(db, pdq, radius, 1, fn, ctx);
}

void ks_pdq_words_to_bytes(const uint16_t w[16], uint8_t out[32])
{
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (uint8_t)(w[15 - i] >> 8);
		out[2 * i + 1] = (uint8_t)w[15 - i];
	}
}
