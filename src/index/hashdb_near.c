/* Exact near lookup of PDQ hashes: multi-index hashing strengthened by the pigeonring
 * principle (Qin and Xiao, "Pigeonring: a principle for faster thresholded similarity
 * search", VLDB 2018). Written here because no C library does exact Hamming search
 * over an mmap'ed index file.
 *
 * The 256 bits are cut into m contiguous keys read as a ring (key m-1 is followed by
 * key 0). Give key i a threshold t_i with sum(t_i + 1) = r + 1. If two hashes are
 * within r, their per-key distances d_i have sum((t_i + 1) - d_i) >= 1, and by the
 * cycle lemma there is a start s from which every run of keys s, s+1, ..., s+l-1 has
 * distance at most sum(t_j + 1) - 1 over the run. In particular d_s <= t_s (the
 * plain pigeonhole: table s's bucket probes, all keys within t_s of the query's key),
 * and d_s + d_(s+1) <= t_s + t_(s+1) + 1 (the ring's second step). Each table keeps,
 * beside every row, a 16-bit tag: the hash bits right after the row's key, which are
 * the next key's (or the next keys'). A bucket's tags are scanned 16 at a time and a
 * row whose tag is too far for the second step is dropped without touching its hash:
 * at radius 31 over 10 million hashes that drops 99.7% of the rows the buckets hold,
 * so a query fetches about a hundred hashes instead of thousands. The hashes left are
 * checked in full, and a row is reported only by the table of its first valid start,
 * so each row once, with no per-query set.
 *
 * A query runs as a software pipeline over its bucket probes: the directory entry of
 * probe k + AHEAD is prefetched, the tags of probe k + TAGS_AHEAD, and probe k's tags
 * are scanned; the survivors' row numbers and hashes are then fetched in a batch. */
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HDB_X86 1
#endif

#include "hashdb_int.h"

/* ---- the cost model ----------------------------------------------------------------
 * Nanoseconds on a 2020s x86 server core with the file in the page cache, measured
 * with bench/index: a bucket probe (a directory entry and the first tag line, from
 * memory), a tag scanned, a row fetched and checked in full, and a hash of a linear
 * scan. They choose the table count at build time and scan-or-search at query time. */
#define NS_PROBE 50.0
#define NS_TAG 0.6
#define NS_ROW 60.0
#define NS_SCAN 3.0

static double ball(unsigned bits, int t)
{
	double v = 0, c = 1;
	for (int d = 0; d <= t && d <= (int)bits; d++) {
		v += c;
		c = c * (bits - d) / (d + 1);
	}
	return v;
}

/* P(a random 16-bit tag is within c bits of the query's). */
static double tag_pass(int c)
{
	return c < 0 ? 0 : ball(MIH_TAG_BITS, c) / 65536.0;
}

/* The thresholds for radius r over m tables: radius + 1 units spread evenly, the
 * first (longer) tables getting the remainder; -1 = the table is not searched. */
static int share(int radius, int m, int i)
{
	int need = radius + 1;
	return need / m + (i < need % m ? 1 : 0) - 1;
}

/* The ring's bound on table i's key plus what its tag covers: the tag's 16 bits are
 * the next keys' (one, or two if the next is shorter than 16 bits). */
static int tag_limit(const unsigned *len, const int *t, int m, int i)
{
	int bound = t[i] + 1;
	unsigned covered = 0;
	for (int j = i; covered < MIH_TAG_BITS;) {
		j = (j + 1) % m;
		bound += t[j] + 1;
		covered += len[j];
	}
	return bound - 1;
}

/* Expected nanoseconds to search one table of n rows with key bits len at threshold
 * t, its tags allowed lim - d bits at key distance d. */
static double table_cost(double n, unsigned len, int t, int lim)
{
	double cost = 0, per_bucket = n / (double)(1ull << len);
	for (int d = 0; d <= t && d <= (int)len; d++) {
		double probes = ball(len, d) - (d ? ball(len, d - 1) : 0);
		cost += probes * (NS_PROBE + per_bucket * (NS_TAG + tag_pass(lim - d) * NS_ROW));
	}
	return cost;
}

static void cut(int m, struct hdb_mih_shape *out)
{
	out->m = m;
	unsigned base = 256u / (unsigned)m, rem = 256u % (unsigned)m, off = 0;
	for (int i = 0; i < m; i++) {
		out->off[i] = (uint16_t)off;
		out->len[i] = (uint8_t)(base + ((unsigned)i < rem ? 1 : 0));
		off += out->len[i];
	}
}

static double shape_cost(double n, const struct hdb_mih_shape *sh, int radius, int *t)
{
	unsigned len[MIH_MAX_TABLES];
	for (int i = 0; i < sh->m; i++) {
		len[i] = sh->len[i];
		t[i] = share(radius, sh->m, i);
	}
	double cost = 0;
	for (int i = 0; i < sh->m; i++)
		cost += table_cost(n, len[i], t[i], tag_limit(len, t, sh->m, i));
	return cost;
}

void hdb_mih_shape(uint64_t n, int m, struct hdb_mih_shape *out)
{
	/* Keys of at most MIH_MAX_KEY_BITS (directories of at most 4 MiB a table); with m
	 * given, that many tables; otherwise the cheapest count at the default radius. */
	int lo = MIH_MIN_TABLES, hi = MIH_MAX_TABLES;
	if (m > 0)
		lo = hi = m < MIH_MIN_TABLES ? MIH_MIN_TABLES : m > MIH_MAX_TABLES ? MIH_MAX_TABLES : m;
	double best = -1;
	for (int mm = lo; mm <= hi; mm++) {
		struct hdb_mih_shape sh;
		int t[MIH_MAX_TABLES];
		cut(mm, &sh);
		double cost = shape_cost((double)n, &sh, KS_PDQ_RADIUS_DEFAULT, t);
		if (best < 0 || cost < best) {
			best = cost;
			*out = sh;
		}
	}
}

double hdb_near_plan(const struct ks_hashdb *db, int radius, int *t)
{
	struct hdb_mih_shape sh = {.m = db->m};
	for (int i = 0; i < db->m; i++) {
		sh.off[i] = (uint16_t)db->mih[i].off;
		sh.len[i] = (uint8_t)db->mih[i].len;
	}
	return shape_cost((double)db->n_pdq, &sh, radius, t);
}

/* ---- the query, built for plain C, POPCNT, and AVX2 ------------------------------- */

#define PROBES 1024 /* bucket probes generated at a time */
#define AHEAD 32 /* directory entries prefetched this many probes ahead */
#define TAGS_AHEAD 12
#define RING 64
#define SURV 512 /* rows whose hashes are fetched at a time */
#define TAG_LINES 16 /* a bucket's tag lines prefetched at most */

struct probe {
	uint32_t h;
	uint8_t table, d;
};

struct surv {
	uint32_t pos; /* the row's place in its table, then its row number */
	uint32_t table;
};

struct query {
	const struct ks_hashdb *db;
	uint64_t q[4];
	int radius, scan;	 /* scan: a linear scan is cheaper than the tables */
	int t[MIH_MAX_TABLES];	 /* per-table threshold, -1 = not searched */
	int lim[MIH_MAX_TABLES]; /* the ring's bound on key + tag distance */
	uint32_t key[MIH_MAX_TABLES];
	uint16_t tag[MIH_MAX_TABLES];
	ks_hashdb_hit_fn fn;
	void *ctx;
	int hits;
	struct probe pr[PROBES];
	size_t np;
	struct surv sv[SURV];
	size_t ns;
};

/* Is s a start from which every run of keys stays within the ring's bounds? */
static int ring_start(const struct query *q, const int *d, int s)
{
	int m = q->db->m, sum = 0, bound = 0;
	for (int l = 0; l < m; l++) {
		int j = (s + l) % m;
		sum += d[j];
		bound += q->t[j] + 1;
		if (sum > bound - 1)
			return 0;
	}
	return 1;
}

/* Fetches and checks the survivors gathered so far. */
static inline __attribute__((always_inline)) void verify(struct query *q)
{
	const struct ks_hashdb *db = q->db;
	size_t n = q->ns;
	q->ns = 0;
	for (size_t k = 0; k < n; k++) {
		const struct hdb_mih *x = &db->mih[q->sv[k].table];
		if (x->iw)
			__builtin_prefetch(x->ids + (size_t)x->iw * q->sv[k].pos);
	}
	for (size_t k = 0; k < n; k++) {
		const struct hdb_mih *x = &db->mih[q->sv[k].table];
		if (x->iw) {
			const uint8_t *p = x->ids + (size_t)x->iw * q->sv[k].pos;
			uint32_t r = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
			if (x->iw == 4)
				r |= (uint32_t)p[3] << 24;
			q->sv[k].pos = r;
		}
		if (q->sv[k].pos < db->n_pdq)
			__builtin_prefetch(db->pdq + 32 * (size_t)q->sv[k].pos);
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t r = q->sv[k].pos;
		int i = (int)q->sv[k].table;
		if (r >= db->n_pdq)
			continue; /* damaged file: never read outside the map */
		const uint8_t *h = db->pdq + 32 * (size_t)r;
		int dist = hdb_dist4(q->q, h);
		if (dist > q->radius)
			continue;
		uint64_t w[4], xr[4];
		hdb_load4(h, w);
		for (int j = 0; j < 4; j++)
			xr[j] = q->q[j] ^ w[j];
		int d[MIH_MAX_TABLES];
		for (int j = 0; j < db->m; j++)
			d[j] = hdb_dist_masked(xr, db->mih[j].mask);
		if (!ring_start(q, d, i))
			continue; /* not a start: another table finds it */
		int first = 1;
		for (int j = 0; j < i && first; j++)
			if (ring_start(q, d, j))
				first = 0;
		if (first)
			q->hits += hdb_report(db, T_PDQ, h, hdb_le32(db->pdq_pay + 4 * (size_t)r), r,
					      dist, q->fn, q->ctx);
	}
}

static inline __attribute__((always_inline)) void survive(struct query *q, uint32_t pos,
							  unsigned table)
{
	q->sv[q->ns].pos = pos;
	q->sv[q->ns].table = table;
	if (++q->ns == SURV)
		verify(q);
}

/* The rows of bucket [lo, hi) of a table whose tags are within c bits of tag. */
static inline __attribute__((always_inline)) void tags_plain(struct query *q, unsigned table,
							     uint32_t lo, uint32_t hi,
							     unsigned tag, int c)
{
	const uint8_t *tags = q->db->mih[table].tags;
	for (uint32_t j = lo; j < hi; j++) {
		unsigned v = (tags[2 * (size_t)j] | (unsigned)tags[2 * (size_t)j + 1] << 8) ^ tag;
		if (__builtin_popcount(v) <= c)
			survive(q, j, table);
	}
}

#ifdef HDB_X86
/* The same sixteen tags at a time: per-nibble counts from a table (PSHUFB), summed to
 * 16-bit lanes, compared with c. */
__attribute__((target("avx2,popcnt"))) static void tags_avx2(struct query *q, unsigned table,
								 uint32_t lo, uint32_t hi,
								 unsigned tag, int c)
{
	const uint8_t *tags = q->db->mih[table].tags;
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1,
					     1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i nib = _mm256_set1_epi8(15), ones = _mm256_set1_epi8(1);
	const __m256i vt = _mm256_set1_epi16((short)tag), vc = _mm256_set1_epi16((short)c);
	uint32_t j = lo;
	for (; j + 16 <= hi; j += 16) {
		__m256i x = _mm256_xor_si256(
		    _mm256_loadu_si256((const __m256i *)(const void *)(tags + 2 * (size_t)j)), vt);
		__m256i n = _mm256_add_epi8(
		    _mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib)),
		    _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)));
		__m256i cnt = _mm256_maddubs_epi16(n, ones);
		uint32_t ok = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi16(cnt, vc)) &
			      0x55555555u;
		while (ok) {
			unsigned k = (unsigned)__builtin_ctz(ok) >> 1;
			ok &= ok - 1;
			survive(q, j + k, table);
		}
	}
	tags_plain(q, table, j, hi, tag, c);
}
#endif

static inline __attribute__((always_inline)) void run_probes(struct query *q, int simd)
{
	const struct ks_hashdb *db = q->db;
	uint32_t lo[RING], hi[RING];
	size_t np = q->np;
	q->np = 0;
	for (size_t k = 0; k < np + AHEAD; k++) {
		if (k < np) {
			const struct probe *p = &q->pr[k];
			__builtin_prefetch(db->mih[p->table].dir + 4 * (size_t)p->h);
		}
		if (k >= AHEAD - TAGS_AHEAD && k - (AHEAD - TAGS_AHEAD) < np) {
			size_t k2 = k - (AHEAD - TAGS_AHEAD);
			const struct probe *p = &q->pr[k2];
			const struct hdb_mih *x = &db->mih[p->table];
			uint32_t a = hdb_le32(x->dir + 4 * (size_t)p->h);
			uint32_t b = hdb_le32(x->dir + 4 * (size_t)p->h + 4);
			lo[k2 % RING] = a;
			hi[k2 % RING] = b;
			const uint8_t *t = x->tags + 2 * (size_t)a;
			size_t span = 2 * (size_t)(b - a);
			for (size_t o = 0; o < span && o < 64 * TAG_LINES; o += 64)
				__builtin_prefetch(t + o);
		}
		if (k >= AHEAD) {
			size_t k3 = k - AHEAD;
			const struct probe *p = &q->pr[k3];
			uint32_t a = lo[k3 % RING], b = hi[k3 % RING];
			if (b <= a)
				continue;
			int c = q->lim[p->table] - p->d;
			if (c >= MIH_TAG_BITS) {
				for (uint32_t j = a; j < b; j++)
					survive(q, j, p->table);
				continue;
			}
#ifdef HDB_X86
			if (simd && b - a >= 16) {
				tags_avx2(q, p->table, a, b, q->tag[p->table], c);
				continue;
			}
#endif
			(void)simd;
			tags_plain(q, p->table, a, b, q->tag[p->table], c);
		}
	}
}

static inline __attribute__((always_inline)) void run_mih(struct query *q, int simd)
{
	const struct ks_hashdb *db = q->db;
	uint8_t qb[32];
	memcpy(qb, q->q, 32);
	for (int i = 0; i < db->m; i++) {
		const struct hdb_mih *x = &db->mih[i];
		q->key[i] = hdb_bits(qb, x->off, x->len);
		q->tag[i] = (uint16_t)hdb_bits(qb, x->off + x->len, MIH_TAG_BITS);
	}
	for (int i = 0; i < db->m; i++) {
		if (q->t[i] < 0)
			continue;
		const struct hdb_mih *x = &db->mih[i];
		unsigned t = (unsigned)q->t[i];
		for (unsigned d = 0; d <= t && d <= x->len; d++) {
			uint32_t flips = d ? (1u << d) - 1 : 0;
			for (;;) {
				struct probe *p = &q->pr[q->np++];
				p->h = q->key[i] ^ flips;
				p->table = (uint8_t)i;
				p->d = (uint8_t)d;
				if (q->np == PROBES)
					run_probes(q, simd);
				if (!d || d == x->len)
					break;
				flips = hdb_next_comb(flips);
				if (flips >> x->len)
					break;
			}
		}
	}
	run_probes(q, simd);
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
	run_mih(q, 0);
}

static void scan_plain(struct query *q)
{
	run_scan(q);
}

#ifdef HDB_X86
__attribute__((target("popcnt"))) static void mih_popcnt(struct query *q)
{
	run_mih(q, 0);
}

__attribute__((target("avx2,popcnt"))) static void mih_avx2(struct query *q)
{
	run_mih(q, 1);
}

__attribute__((target("popcnt"))) static void scan_popcnt(struct query *q)
{
	run_scan(q);
}
#else
#define mih_popcnt mih_plain
#define mih_avx2 mih_plain
#define scan_popcnt scan_plain
#endif

/* ---- entry points ------------------------------------------------------------------ */

/* Sets q up for radius over db: the tables' thresholds and ring bounds, or a linear
 * scan when that is cheaper (large radius, few rows) or asked for (scan 1; force:
 * never). Done once for a batch. */
static void plan(struct query *q, const struct ks_hashdb *db, int radius, int scan, int force)
{
	q->db = db;
	q->radius = radius > 256 ? 256 : radius;
	q->scan = scan || (hdb_near_plan(db, q->radius, q->t) >= (double)db->n_pdq * NS_SCAN &&
			   !force);
	if (q->scan)
		return;
	unsigned len[MIH_MAX_TABLES];
	for (int j = 0; j < db->m; j++)
		len[j] = db->mih[j].len;
	for (int i = 0; i < db->m; i++)
		q->lim[i] = tag_limit(len, q->t, db->m, i);
}

/* One query of a planned q. */
static int run(struct query *q, const uint8_t pdq[32], ks_hashdb_hit_fn fn, void *ctx)
{
	const struct ks_hashdb *db = q->db;
	q->np = q->ns = 0;
	q->hits = 0;
	hdb_load4(pdq, q->q);
	q->fn = fn;
	q->ctx = ctx;
	if (q->scan && db->fast)
		scan_popcnt(q);
	else if (q->scan)
		scan_plain(q);
	else if (db->fast == 2)
		mih_avx2(q);
	else if (db->fast)
		mih_popcnt(q);
	else
		mih_plain(q);
	return q->hits;
}

static int near_one(const struct ks_hashdb *db, const uint8_t pdq[32], int radius, int scan,
		    int force, ks_hashdb_hit_fn fn, void *ctx)
{
	if (!db || !pdq || radius < 0 || !db->n_pdq)
		return 0;
	struct query q; /* 12 KB */
	plan(&q, db, radius, scan, force);
	return run(&q, pdq, fn, ctx);
}

int ks_hashdb_near_scan(const struct ks_hashdb *db, const uint8_t pdq[32], int radius,
			ks_hashdb_hit_fn fn, void *ctx)
{
	return near_one(db, pdq, radius, 1, 0, fn, ctx);
}

int ks_hashdb_near(const struct ks_hashdb *db, const uint8_t pdq[32], int radius,
		   ks_hashdb_hit_fn fn, void *ctx)
{
	return near_one(db, pdq, radius, 0, 0, fn, ctx);
}

int hdb_near_mih(const struct ks_hashdb *db, const uint8_t pdq[32], int radius, ks_hashdb_hit_fn fn,
		 void *ctx)
{
	return near_one(db, pdq, radius, 0, 1, fn, ctx);
}

/* Many queries: each one is already a pipeline of hundreds of independent fetches,
 * so a batch is the queries in turn with one work area. */
static int near_many(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		     int force, ks_hashdb_batch_fn fn, void *ctx)
{
	if (!db || !pdqs || radius < 0 || !db->n_pdq)
		return 0;
	struct query *q = ks_xmalloc(sizeof *q);
	plan(q, db, radius, 0, force);
	struct hdb_batch b = {fn, ctx, 0};
	int hits = 0;
	for (size_t i = 0; i < n; i++) {
		b.query = i;
		hits += run(q, pdqs + 32 * i, hdb_batch_hit, &b);
	}
	free(q);
	return hits;
}

int ks_hashdb_near_batch(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
			 ks_hashdb_batch_fn fn, void *ctx)
{
	return near_many(db, pdqs, n, radius, 0, fn, ctx);
}

int hdb_near_batch_mih(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		       ks_hashdb_batch_fn fn, void *ctx)
{
	return near_many(db, pdqs, n, radius, 1, fn, ctx);
}

void ks_pdq_words_to_bytes(const uint16_t w[16], uint8_t out[32])
{
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (uint8_t)(w[15 - i] >> 8);
		out[2 * i + 1] = (uint8_t)w[15 - i];
	}
}
