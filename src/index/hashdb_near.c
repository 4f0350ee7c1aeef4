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

#define CAND_BATCH 256
#define BUCKET_BATCH 64

void hdb_mih_shape(uint64_t n, int m, struct hdb_mih_shape *out)
{
	if (m <= 0) {
		/* m ~ 256 / log2 n is the known optimum (Norouzi et al.) */
		unsigned l2 = 0;
		for (uint64_t v = n > 1 ? n : 2; v; v >>= 1)
			l2++;
		m = (int)((256 + l2 / 2) / l2);
	}
	if (m < 10)
		m = 10; /* substrings of at most 26 bits: directories of at most 2^18 */
	if (m > MIH_MAX_TABLES)
		m = MIH_MAX_TABLES;
	out->m = m;
	unsigned base = 256u / (unsigned)m, rem = 256u % (unsigned)m, off = 0;
	for (int i = 0; i < m; i++) {
		unsigned len = base + ((unsigned)i < rem ? 1 : 0);
		out->off[i] = (uint16_t)off;
		out->len[i] = (uint8_t)len;
		out->lb[i] = (uint8_t)(len > 8 ? 8 : 0);
		out->hb[i] = (uint8_t)(len - out->lb[i]);
		off += len;
	}
}

/* ---- popcount, built twice: plain and with the POPCNT instruction ------------------- */

struct query {
	const struct ks_hashdb *db;
	uint64_t q[4];
	int radius;
	int t[MIH_MAX_TABLES]; /* per-table threshold, -1 = table not searched */
	ks_hashdb_hit_fn fn;
	void *ctx;
	int hits;
	uint32_t cand[CAND_BATCH]; /* positions in the current table */
	size_t ncand;
};

static inline __attribute__((always_inline)) int dist4(const uint64_t *a, const uint8_t *h)
{
	uint64_t w[4];
	hdb_load4(h, w);
	return __builtin_popcountll(a[0] ^ w[0]) + __builtin_popcountll(a[1] ^ w[1]) +
	       __builtin_popcountll(a[2] ^ w[2]) + __builtin_popcountll(a[3] ^ w[3]);
}

static inline __attribute__((always_inline)) int dist_masked(const uint64_t *x, const uint64_t *m)
{
	return __builtin_popcountll(x[0] & m[0]) + __builtin_popcountll(x[1] & m[1]) +
	       __builtin_popcountll(x[2] & m[2]) + __builtin_popcountll(x[3] & m[3]);
}

/* Verifies the candidates of table i gathered in q->cand. */
static inline __attribute__((always_inline)) void flush(struct query *q, int i)
{
	const struct ks_hashdb *db = q->db;
	const struct hdb_mih *x = &db->mih[i];
	uint32_t rows[CAND_BATCH];
	size_t n = q->ncand;
	q->ncand = 0;
	if (x->ids) {
		for (size_t k = 0; k < n; k++)
			__builtin_prefetch(x->ids + 4 * (size_t)q->cand[k]);
		for (size_t k = 0; k < n; k++) {
			rows[k] = hdb_le32(x->ids + 4 * (size_t)q->cand[k]);
			if (rows[k] < db->n_pdq)
				__builtin_prefetch(db->pdq + 32 * (size_t)rows[k]);
		}
	} else {
		memcpy(rows, q->cand, n * sizeof *rows);
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t r = rows[k];
		if (r >= db->n_pdq)
			continue; /* damaged file: never read outside the map */
		const uint8_t *h = db->pdq + 32 * (size_t)r;
		int d = dist4(q->q, h);
		if (d > q->radius)
			continue;
		uint64_t w[4], xr[4];
		hdb_load4(h, w);
		for (int j = 0; j < 4; j++)
			xr[j] = q->q[j] ^ w[j];
		int earlier = 0;
		for (int j = 0; j < i && !earlier; j++)
			if (q->t[j] >= 0 && dist_masked(xr, db->mih[j].mask) <= q->t[j])
				earlier = 1;
		if (earlier)
			continue; /* table j found (or finds) it */
		q->hits += hdb_report(db, T_PDQ, h, hdb_le32(db->pdq_pay + 4 * (size_t)r), r, d,
				      q->fn, q->ctx);
	}
}

/* Per-byte popcount of eight bytes, each <= allowed -> its top bit set in the result. */
static inline __attribute__((always_inline)) uint64_t bytes_within(uint64_t v, unsigned allowed)
{
	const uint64_t ones = 0x0101010101010101ULL;
	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FULL; /* 0..8 per byte */
	/* byte + (127 - allowed) has its top bit set iff byte > allowed */
	uint64_t over = (v + ones * (127 - allowed)) & (ones * 0x80);
	return ~over & (ones * 0x80);
}

struct bucket {
	uint32_t lo, hi;
	unsigned allowed;
};

static inline __attribute__((always_inline)) void scan_buckets(struct query *q, int i,
								const struct bucket *bk, size_t nb,
								unsigned qlow)
{
	const struct hdb_mih *x = &q->db->mih[i];
	for (size_t b = 0; b < nb; b++) {
		uint32_t j = bk[b].lo, hi = bk[b].hi;
		unsigned allowed = bk[b].allowed;
		if (!x->low || allowed >= x->lb) {
			for (; j < hi; j++) {
				q->cand[q->ncand++] = j;
				if (q->ncand == CAND_BATCH)
					flush(q, i);
			}
			continue;
		}
		const uint64_t spread = 0x0101010101010101ULL * qlow;
		for (; j + 8 <= hi; j += 8) {
			uint64_t v;
			memcpy(&v, x->low + j, 8);
			uint64_t hit = bytes_within(v ^ spread, allowed);
			while (hit) {
				unsigned k = (unsigned)__builtin_ctzll(hit) >> 3;
				hit &= hit - 1;
				q->cand[q->ncand++] = j + k;
				if (q->ncand == CAND_BATCH)
					flush(q, i);
			}
		}
		for (; j < hi; j++) {
			if ((unsigned)__builtin_popcount((x->low[j] ^ qlow) & 0xFFu) <= allowed) {
				q->cand[q->ncand++] = j;
				if (q->ncand == CAND_BATCH)
					flush(q, i);
			}
		}
	}
}

/* Next combination of the same number of set bits (Gosper). */
static inline uint32_t next_comb(uint32_t v)
{
	uint32_t t = v | (v - 1);
	return (t + 1) | (((~t & -~t) - 1) >> (__builtin_ctz(v) + 1));
}

static inline __attribute__((always_inline)) void search_table(struct query *q, int i)
{
	const struct hdb_mih *x = &q->db->mih[i];
	uint8_t qb[32];
	memcpy(qb, q->q, 32);
	uint32_t key = hdb_bits(qb, x->off, x->len);
	uint32_t qh = key >> x->lb, qlow = key & ((1u << x->lb) - 1);
	unsigned t = (unsigned)q->t[i];
	struct bucket bk[BUCKET_BATCH];
	size_t nb = 0;
	for (unsigned d = 0; d <= t && d <= x->hb; d++) {
		uint32_t flips = d ? (1u << d) - 1 : 0;
		for (;;) {
			uint32_t h = qh ^ flips;
			uint32_t lo = hdb_le32(x->dir + 4 * (size_t)h), hi = hdb_le32(x->dir + 4 * (size_t)h + 4);
			if (hi > lo) {
				if (x->low)
					__builtin_prefetch(x->low + lo);
				bk[nb++] = (struct bucket){lo, hi, t - d};
				if (nb == BUCKET_BATCH) {
					scan_buckets(q, i, bk, nb, qlow);
					nb = 0;
				}
			}
			if (!d)
				break;
			flips = next_comb(flips);
			if (flips >> x->hb)
				break;
		}
	}
	scan_buckets(q, i, bk, nb, qlow);
	if (q->ncand)
		flush(q, i);
}

static inline __attribute__((always_inline)) void run_mih(struct query *q)
{
	for (int i = 0; i < q->db->m; i++)
		if (q->t[i] >= 0)
			search_table(q, i);
}

static inline __attribute__((always_inline)) void run_scan(struct query *q)
{
	const struct ks_hashdb *db = q->db;
	for (uint64_t r = 0; r < db->n_pdq; r++) {
		const uint8_t *h = db->pdq + 32 * r;
		int d = dist4(q->q, h);
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

static double ball(unsigned bits, int t)
{
	double v = 0, c = 1;
	for (int d = 0; d <= t && d <= (int)bits; d++) {
		v += c;
		c = c * (bits - d) / (d + 1);
	}
	return v;
}

/* Spreads radius + 1 over the tables (the longer tables, first, get the extra unit)
 * and returns the expected cost in rough nanoseconds, to compare with a linear scan
 * (about one per row): a random access per bucket, the buckets' low bytes, and a
 * random access per candidate. */
static double plan(const struct ks_hashdb *db, int radius, int *t)
{
	int m = db->m, need = radius + 1;
	double cost = 0, n = (double)db->n_pdq;
	for (int i = 0; i < m; i++) {
		int share = need / m + (i < need % m ? 1 : 0);
		t[i] = share - 1;
		if (t[i] < 0)
			continue;
		const struct hdb_mih *x = &db->mih[i];
		double buckets = ball(x->hb, t[i]);
		cost += buckets * 20 + buckets * n / (double)(1ull << x->hb) * 0.15 +
			ball(x->len, t[i]) * n / (double)(1ull << x->len) * 20;
	}
	return cost;
}

static void load_query(struct query *q, const struct ks_hashdb *db, const uint8_t pdq[32],
		       int radius, ks_hashdb_hit_fn fn, void *ctx)
{
	memset(q, 0, sizeof *q);
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

int ks_hashdb_near(const struct ks_hashdb *db, const uint8_t pdq[32], int radius,
		   ks_hashdb_hit_fn fn, void *ctx)
{
	if (!db || !pdq || radius < 0 || !db->n_pdq)
		return 0;
	if (radius > 256)
		radius = 256;
	struct query q;
	load_query(&q, db, pdq, radius, fn, ctx);
	/* when a linear scan is cheaper (large radius, few rows), scan */
	if (plan(db, radius, q.t) >= (double)db->n_pdq)
		return ks_hashdb_near_scan(db, pdq, radius, fn, ctx);
	if (db->fast)
		mih_popcnt(&q);
	else
		mih_plain(&q);
	return q.hits;
}

void ks_pdq_words_to_bytes(const uint16_t w[16], uint8_t out[32])
{
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (uint8_t)(w[15 - i] >> 8);
		out[2 * i + 1] = (uint8_t)w[15 - i];
	}
}
