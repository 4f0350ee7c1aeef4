/* Exact near lookup of PDQ hashes: multi-index hashing strengthened by the pigeonring
 * principle (Qin and Xiao, "Pigeonring: a principle for faster thresholded similarity
 * search", VLDB 2018), over tables that hold the hashes themselves. Written here because
 * no C library does exact Hamming search over an mmap'ed index file.
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
 * row whose tag is too far for the second step is dropped: at radius 31 over 10
 * million hashes that drops 99.7% of the rows the buckets hold.
 *
 * There is no array of hashes: each row also links to the same hash's row in the next
 * table (hashdb_format.h), whose bucket is the next key and whose tag the bits after
 * it. A surviving row is followed round the ring one table at a time, the run of keys
 * from its table checked against the ring's bounds at every step, so that a row that
 * cannot match stops after a step or two; one that goes all the way round has spelled
 * its whole hash and met its row of table 0, which numbers it (its payload). So every
 * table costs a tag and a link a row, 3 bytes at 10 million hashes, and the index
 * about 47 bytes an entry where a hash array and row numbers took 113. A row is
 * reported only by the table of its first valid start, so each row once, with no
 * per-query set.
 *
 * A query runs as a software pipeline over its bucket probes: the directory entry of
 * probe k + AHEAD is prefetched, the tags of probe k + TAGS_AHEAD, and probe k's tags
 * are scanned. The survivors are then walked together, a step each in turn, every
 * step's next rows prefetched for all of them before any is read. A linear scan walks
 * every row of table 0 the same way. */
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
 * memory), a tag scanned, a survivor's first step round the ring, and a row of a
 * linear scan (a step or two). They choose the table count at build time and
 * scan-or-search at query time. */
#define NS_PROBE 50.0
#define NS_TAG 0.6
#define NS_STEP 40.0
#define NS_SCAN 40.0

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

/* How many keys table i's tag reaches into. */
static int tag_keys(const unsigned *len, int m, int i)
{
	int k = 0;
	for (unsigned covered = 0; covered < MIH_TAG_BITS; k++)
		covered += len[(i + 1 + k) % m];
	return k;
}

/* Expected nanoseconds to search one table of n rows with key bits len at threshold
 * t, its tags allowed lim - d bits at key distance d. */
static double table_cost(double n, unsigned len, int t, int lim)
{
	double cost = 0, per_bucket = n / (double)(1ull << len);
	for (int d = 0; d <= t && d <= (int)len; d++) {
		double probes = ball(len, d) - (d ? ball(len, d - 1) : 0);
		cost += probes * (NS_PROBE + per_bucket * (NS_TAG + tag_pass(lim - d) * NS_STEP));
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

/* Expected bytes an entry: payload, tag and link per table, directories. A link's
 * residue is about normal, with a standard deviation of sqrt(rows / 2) for buckets of
 * that many rows (two places of a bucket's rows estimated by their share), and takes
 * the bits for 3.5 of them either way. */
static double shape_bytes(double n, const struct hdb_mih_shape *sh, unsigned pay_bytes)
{
	double bytes = pay_bytes;
	for (int i = 0; i < sh->m; i++) {
		unsigned len = sh->len[(i + 1) % sh->m], rb = 1;
		double span = 7 * __builtin_sqrt(n / (double)(1u << len) / 2) + 1;
		while (rb < 32 && (double)(1ull << rb) < span)
			rb++;
		bytes += (MIH_TAG_BITS + hdb_link_sub_bits(len) + rb) / 8.0 +
			 4.0 * (double)((1u << sh->len[i]) + 1) / n;
	}
	return bytes;
}

void hdb_mih_shape(uint64_t n, int m, unsigned pay_bytes, struct hdb_mih_shape *out)
{
	/* Keys of at most MIH_MAX_KEY_BITS (directories of at most 4 MiB a table); with m
	 * given, that many tables; otherwise the cheapest count at the default radius
	 * among those within MIH_ENTRY_BYTES an entry, or of all if none is. */
	int lo = MIH_MIN_TABLES, hi = MIH_MAX_TABLES;
	if (m > 0)
		lo = hi = m < MIH_MIN_TABLES   ? MIH_MIN_TABLES
			  : m > MIH_MAX_TABLES ? MIH_MAX_TABLES
					       : m;
	double best = -1;
	int best_fits = 0;
	for (int mm = lo; mm <= hi; mm++) {
		struct hdb_mih_shape sh;
		int t[MIH_MAX_TABLES];
		cut(mm, &sh);
		double cost = shape_cost((double)n, &sh, KS_PDQ_RADIUS_DEFAULT, t);
		int fits = n && shape_bytes((double)n, &sh, pay_bytes) <= MIH_ENTRY_BYTES;
		if (best < 0 || (fits && !best_fits) || (fits == best_fits && cost < best)) {
			best = cost;
			best_fits = fits;
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
#define AHEAD 48    /* directory entries prefetched this many probes ahead */
#define TAGS_AHEAD 24
#define RING 64
#define SURV 512     /* rows walked at a time */
#define TAG_LINES 16 /* a bucket's tag lines prefetched at most */
#define NO_ROW 0xFFFFFFFFu
#define CLAIM_BITS 11 /* the places the survivors start from, hashed (4 slots a row) */

struct probe {
	uint32_t h;
	uint8_t table, d;
};

struct surv {
	uint32_t pos, key; /* the row's place in its table, and its key (the bucket) */
	uint32_t lo, hi;   /* the bucket's rows */
	uint8_t table, d;  /* d: the key's distance from the query's */
};

/* A row followed round the ring from table s. A hash within the radius survives in
 * several tables; the walk that steps onto another's starting row hands over to it (it
 * would spell the same hash), which then stands for both starts and stops checking the
 * ring's bounds (a start it stands for may be valid where its own is not). */
struct walk {
	uint8_t h[32];	       /* the hash as far as spelled out */
	uint32_t p, b, lo, hi; /* its row in table j, its bucket and the bucket's rows */
	uint32_t entry;	       /* its row of table 0 once met, else NO_ROW */
	uint32_t b0, nb, sub;  /* the next step: the tag's group, the bucket in it */
	int32_t res;	       /* and the distance from the predicted row */
	uint32_t to;	       /* or the row itself (an exception: sub = NO_ROW) */
	uint32_t starts;       /* the tables of the starts it stands for */
	int16_t sum, bound;    /* distance over keys s..j, and the ring's bound on it + 1 */
	uint16_t up;	       /* the walk it handed over to (itself if none) */
	uint8_t s, j, steps, state, led;
};

enum { W_LIVE, W_DEAD, W_DONE, W_HANDED };

typedef int (*each_fn)(void *ctx, uint64_t row, const uint8_t hash[32], uint32_t payload);

struct query {
	const struct ks_hashdb *db;
	uint64_t q[4];
	int radius, scan;	  /* scan: every row of table 0 is walked */
	int t[MIH_MAX_TABLES];	  /* per-table threshold, -1 = not searched */
	int lim[MIH_MAX_TABLES];  /* the ring's bound on key + tag distance */
	int cov[MIH_MAX_TABLES];  /* the ring's bound units of the keys a tag reaches */
	int ncov[MIH_MAX_TABLES]; /* and how many keys those are */
	uint32_t key[MIH_MAX_TABLES];
	uint16_t tag[MIH_MAX_TABLES];
	ks_hashdb_hit_fn fn;
	void *ctx;
	each_fn each; /* instead of fn: every row with its payload (hdb_pdq_each) */
	int hits, stop;
	struct probe pr[PROBES];
	size_t np;
	struct surv sv[SURV];
	size_t ns;
	struct walk wk[SURV];
	uint16_t live[SURV], done[SURV];
	uint64_t claim[1u << CLAIM_BITS]; /* generation << 40 | table << 32 | row */
	uint16_t claimer[1u << CLAIM_BITS];
	uint64_t gen;
};

static inline size_t claim_slot(uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - CLAIM_BITS));
}

/* The walk that started from row p of table j in this round of walks, or -1. */
static inline int claimed(const struct query *q, unsigned j, uint32_t p)
{
	uint64_t key = q->gen << 40 | (uint64_t)j << 32 | p;
	for (size_t i = claim_slot(key);; i = (i + 1) & ((1u << CLAIM_BITS) - 1)) {
		if (q->claim[i] == key)
			return q->claimer[i];
		if (q->claim[i] >> 40 != q->gen)
			return -1;
	}
}

static inline void claim(struct query *q, unsigned j, uint32_t p, unsigned who)
{
	uint64_t key = q->gen << 40 | (uint64_t)j << 32 | p;
	size_t i = claim_slot(key);
	while (q->claim[i] >> 40 == q->gen)
		i = (i + 1) & ((1u << CLAIM_BITS) - 1);
	q->claim[i] = key;
	q->claimer[i] = (uint16_t)who;
}

static inline unsigned walk_root(const struct query *q, unsigned w)
{
	while (q->wk[w].up != w)
		w = q->wk[w].up;
	return w;
}

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

/* The row of the next table that row p of table x links to, from x's exceptions
 * (NO_ROW if the file is damaged). */
static uint32_t exception(const struct hdb_mih *x, uint32_t p)
{
	uint64_t lo = 0, hi = x->nexc;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (hdb_le32(x->exc + 8 * mid) < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->nexc && hdb_le32(x->exc + 8 * lo) == p ? hdb_le32(x->exc + 8 * lo + 4)
							      : NO_ROW;
}

/* A walk that went all the way round: reported if within the radius and it stands
 * for the hash's first valid start (which is among the survivors of some round of
 * walks, and only one). */
static inline __attribute__((always_inline)) void finish(struct query *q, const struct walk *w)
{
	const struct ks_hashdb *db = q->db;
	if (w->entry >= db->n_pdq)
		return; /* damaged file: never read outside the map */
	int dist = hdb_dist4(q->q, w->h);
	if (dist > q->radius)
		return;
	if (w->starts != 1) {
		uint64_t v[4], xr[4];
		hdb_load4(w->h, v);
		for (int j = 0; j < 4; j++)
			xr[j] = q->q[j] ^ v[j];
		int d[MIH_MAX_TABLES], first = 0;
		for (int j = 0; j < db->m; j++)
			d[j] = hdb_dist_masked(xr, db->mih[j].mask);
		while (first < db->m && !ring_start(q, d, first))
			first++;
		if (first == db->m || !(w->starts >> first & 1))
			return; /* another round of walks reports it */
	}
	uint32_t pay = hdb_pdq_pay(db, w->entry);
	if (q->each) {
		int rc = q->each(q->ctx, w->entry, w->h, pay);
		if (rc < 0 && !q->stop)
			q->stop = rc;
		return;
	}
	q->hits += hdb_report(db, T_PDQ, w->h, pay, w->entry, dist, q->fn, q->ctx);
}

/* Walks the survivors gathered so far round the ring, all a step at a time. */
static inline __attribute__((always_inline)) void verify(struct query *q)
{
	const struct ks_hashdb *db = q->db;
	int m = db->m;
	size_t n = q->ns, nl = 0, nd = 0;
	q->ns = 0;
	if (++q->gen == 1u << 24) {
		memset(q->claim, 0, sizeof q->claim);
		q->gen = 1;
	}
	for (size_t k = 0; k < n; k++) {
		const struct surv *v = &q->sv[k];
		const struct hdb_mih *x = &db->mih[v->table];
		struct walk *w = &q->wk[k];
		w->s = w->j = v->table;
		w->p = v->pos;
		w->b = v->key;
		w->lo = v->lo;
		w->hi = v->hi;
		w->steps = 0;
		w->entry = v->table == 0 ? v->pos : NO_ROW;
		w->sum = v->d;
		w->bound = (int16_t)(q->t[v->table] + 1);
		w->starts = 1u << v->table;
		w->up = (uint16_t)k;
		w->state = W_LIVE;
		w->led = 0;
		hdb_put_bits(w->h, x->off, x->len, v->key);
		if (!q->scan && claimed(q, v->table, v->pos) < 0)
			claim(q, v->table, v->pos, (unsigned)k);
		q->live[nl++] = (uint16_t)k;
	}
	while (nl) {
		/* each row's tag and link, and the next group's directory entry prefetched */
		size_t keep = 0;
		for (size_t i = 0; i < nl; i++) {
			struct walk *w = &q->wk[q->live[i]];
			const struct hdb_mih *x = &db->mih[w->j];
			const uint8_t *tp = hdb_tags(x, w->b, w->lo) + 2 * (size_t)w->p;
			uint32_t tag = tp[0] | (uint32_t)tp[1] << 8;
			hdb_put_bits(w->h, x->off + x->len, MIH_TAG_BITS, tag);
			if (w->steps == m - 1) {
				w->state = W_DONE;
				q->done[nd++] = q->live[i]; /* all keys spelled, table 0 met */
				continue;
			}
			/* the tag begins the next keys: their run must fit the ring too */
			if (!w->led && w->steps + q->ncov[w->j] <= m - 1 &&
			    w->sum + __builtin_popcount(tag ^ q->tag[w->j]) >
				w->bound + q->cov[w->j] - 1) {
				w->state = W_DEAD;
				continue;
			}
			const struct hdb_mih *y = &db->mih[w->j + 1 == m ? 0 : w->j + 1];
			w->b0 = hdb_group(y->len, tag, &w->nb);
			uint32_t v =
			    hdb_field(hdb_links(x, w->b, w->hi), (uint64_t)x->lw * w->p, x->lw);
			if (v == x->ones) {
				w->sub = NO_ROW;
				w->to = exception(x, w->p);
				if (w->to == NO_ROW) {
					w->state = W_DEAD;
					continue;
				}
			} else {
				w->sub = v >> x->rb;
				w->res = (int32_t)hdb_unzigzag(v & ((1ull << x->rb) - 1));
				if (w->sub >= w->nb) {
					w->state = W_DEAD; /* damaged file */
					continue;
				}
			}
			__builtin_prefetch(y->dir + 4 * (size_t)w->b0 +
					   4 * (w->sub == NO_ROW ? 0 : w->sub));
			q->live[keep++] = q->live[i];
		}
		nl = keep;
		keep = 0;
		/* the step: the row in the next table, its key, the run's distance */
		for (size_t i = 0; i < nl; i++) {
			struct walk *w = &q->wk[q->live[i]];
			int jn = w->j + 1 == m ? 0 : w->j + 1;
			const struct hdb_mih *y = &db->mih[jn];
			uint32_t b = w->b0, p;
			if (w->sub == NO_ROW) { /* an exception: the row itself, in the group */
				p = w->to;
				if (p < hdb_le32(y->dir + 4 * (size_t)b) ||
				    p >= hdb_le32(y->dir + 4 * ((size_t)b + w->nb))) {
					w->state = W_DEAD; /* damaged file */
					continue;
				}
				while (b + 1 < w->b0 + w->nb &&
				       hdb_le32(y->dir + 4 * ((size_t)b + 1)) <= p)
					b++;
			} else {
				b += w->sub;
			}
			uint32_t lo = hdb_le32(y->dir + 4 * (size_t)b),
				 hi = hdb_le32(y->dir + 4 * (size_t)b + 4);
			if (w->sub != NO_ROW) {
				int64_t pp = (int64_t)hdb_link_pred(w->j, w->p, w->lo, w->hi,
								    db->n_pdq, lo, hi) +
					     w->res;
				if (pp < lo || pp >= hi) {
					w->state = W_DEAD; /* damaged file */
					continue;
				}
				p = (uint32_t)pp;
			}
			if (w->nb >
			    1) /* a key longer than the tag: the rest from the row's bucket */
				hdb_put_bits(w->h, y->off, y->len, b);
			w->lo = lo;
			w->hi = hi;
			w->sum = (int16_t)(w->sum + __builtin_popcount(b ^ q->key[jn]));
			w->bound = (int16_t)(w->bound + q->t[jn] + 1);
			w->steps++;
			w->j = (uint8_t)jn;
			w->p = p;
			if (jn == 0)
				w->entry = p;
			if (!w->led && w->sum > w->bound - 1) {
				w->state =
				    W_DEAD; /* s is not a start: another table finds the row */
				continue;
			}
			int c = q->scan ? -1 : claimed(q, (unsigned)jn, p);
			if (c >= 0) {
				unsigned r = walk_root(q, (unsigned)c), me = q->live[i];
				if (r != me && q->wk[r].state != W_DEAD) {
					q->wk[r].starts |= w->starts; /* the same hash: hand over */
					q->wk[r].led = 1;
					w->up = (uint16_t)r;
					w->state = W_HANDED;
					continue;
				}
			}
			w->b = b;
			__builtin_prefetch(hdb_tags(y, b, lo) + 2 * (size_t)p);
			__builtin_prefetch(hdb_links(y, b, hi) + (((uint64_t)p * y->lw) >> 3));
			q->live[keep++] = q->live[i];
		}
		nl = keep;
	}
	for (size_t i = 0; i < nd && !q->stop; i++)
		finish(q, &q->wk[q->done[i]]);
}

static inline __attribute__((always_inline)) void survive(struct query *q, uint32_t pos,
							  unsigned table, uint32_t key, int d,
							  uint32_t lo, uint32_t hi)
{
	struct surv *v = &q->sv[q->ns];
	v->pos = pos;
	v->key = key;
	v->lo = lo;
	v->hi = hi;
	v->table = (uint8_t)table;
	v->d = (uint8_t)d;
	const struct hdb_mih *x = &q->db->mih[table];
	__builtin_prefetch(hdb_links(x, key, hi) + (((uint64_t)pos * x->lw) >> 3));
	if (++q->ns == SURV)
		verify(q);
}

/* The rows of bucket [lo, hi) of a table whose tags are within c bits of tag. */
static inline __attribute__((always_inline)) void tags_plain(struct query *q, unsigned table,
							     uint32_t from, uint32_t lo,
							     uint32_t hi, uint32_t key, int d,
							     int c)
{
	const uint8_t *tags = hdb_tags(&q->db->mih[table], key, lo);
	unsigned tag = q->tag[table];
	for (uint32_t j = from; j < hi; j++) {
		unsigned v = (tags[2 * (size_t)j] | (unsigned)tags[2 * (size_t)j + 1] << 8) ^ tag;
		if (__builtin_popcount(v) <= c)
			survive(q, j, table, key, d, lo, hi);
	}
}

#ifdef HDB_X86
/* The same sixteen tags at a time: per-nibble counts from a table (PSHUFB), summed to
 * 16-bit lanes, compared with c. */
__attribute__((target("avx2,popcnt"))) static void
tags_avx2(struct query *q, unsigned table, uint32_t lo, uint32_t hi, uint32_t key, int d, int c)
{
	const uint8_t *tags = hdb_tags(&q->db->mih[table], key, lo);
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1,
					     1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i nib = _mm256_set1_epi8(15), ones = _mm256_set1_epi8(1);
	const __m256i vt = _mm256_set1_epi16((short)q->tag[table]),
		      vc = _mm256_set1_epi16((short)c);
	uint32_t j = lo;
	for (; j + 16 <= hi; j += 16) {
		__m256i x = _mm256_xor_si256(
		    _mm256_loadu_si256((const __m256i *)(const void *)(tags + 2 * (size_t)j)), vt);
		__m256i n = _mm256_add_epi8(
		    _mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib)),
		    _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)));
		__m256i cnt = _mm256_maddubs_epi16(n, ones);
		uint32_t ok =
		    ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi16(cnt, vc)) & 0x55555555u;
		while (ok) {
			unsigned k = (unsigned)__builtin_ctz(ok) >> 1;
			ok &= ok - 1;
			survive(q, j + k, table, key, d, lo, hi);
		}
	}
	tags_plain(q, table, j, lo, hi, key, d, c);
}
#endif

/* The rows of bucket [a, b) of a table, key at distance d, that the tags let through. */
static inline __attribute__((always_inline)) void
bucket_rows(struct query *q, unsigned table, uint32_t a, uint32_t b, uint32_t key, int d, int simd)
{
	int c = q->lim[table] - d;
	if (c < 0 || b <= a)
		return;
	if (c >= MIH_TAG_BITS) {
		for (uint32_t j = a; j < b; j++)
			survive(q, j, table, key, d, a, b);
		return;
	}
#ifdef HDB_X86
	if (simd && b - a >= 16) {
		tags_avx2(q, table, a, b, key, d, c);
		return;
	}
#endif
	(void)simd;
	tags_plain(q, table, a, a, b, key, d, c);
}

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
			const uint8_t *t = hdb_tags(x, p->h, a) + 2 * (size_t)a;
			size_t span = b > a ? 2 * (size_t)(b - a) : 0;
			for (size_t o = 0; o < span && o < 64 * TAG_LINES; o += 64)
				__builtin_prefetch(t + o);
		}
		if (k >= AHEAD) {
			size_t k3 = k - AHEAD;
			const struct probe *p = &q->pr[k3];
			bucket_rows(q, p->table, lo[k3 % RING], hi[k3 % RING], p->h, p->d, simd);
		}
	}
}

static inline __attribute__((always_inline)) void run_mih(struct query *q, int simd)
{
	const struct ks_hashdb *db = q->db;
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

/* Every row of table 0, bucket by bucket (the plan's thresholds are the radius for
 * table 0 and none for the others, so a walk stops once its distance passes it). */
static inline __attribute__((always_inline)) void run_scan(struct query *q, int simd)
{
	const struct hdb_mih *x = &q->db->mih[0];
	uint32_t nb = 1u << x->len;
	for (uint32_t b = 0; b < nb && !q->stop; b++) {
		uint32_t lo = hdb_le32(x->dir + 4 * (size_t)b),
			 hi = hdb_le32(x->dir + 4 * (size_t)b + 4);
		bucket_rows(q, 0, lo, hi, b, __builtin_popcount(b ^ q->key[0]), simd);
	}
	verify(q);
}

static inline __attribute__((always_inline)) void search(struct query *q, int simd)
{
	if (q->scan)
		run_scan(q, simd);
	else
		run_mih(q, simd);
}

static void search_plain(struct query *q)
{
	search(q, 0);
}

#ifdef HDB_X86
__attribute__((target("popcnt"))) static void search_popcnt(struct query *q)
{
	search(q, 0);
}

__attribute__((target("avx2,popcnt"))) static void search_avx2(struct query *q)
{
	search(q, 1);
}
#else
#define search_popcnt search_plain
#define search_avx2 search_plain
#endif

/* ---- entry points ------------------------------------------------------------------ */

/* Sets q up for radius over db: the tables' thresholds and ring bounds, or a linear
 * scan when that is cheaper (large radius, few rows) or asked for (scan 1; force:
 * never). Done once for a batch. */
static void plan(struct query *q, const struct ks_hashdb *db, int radius, int scan, int force)
{
	q->db = db;
	q->radius = radius > 256 ? 256 : radius;
	q->scan =
	    scan || (hdb_near_plan(db, q->radius, q->t) >= (double)db->n_pdq * NS_SCAN && !force);
	q->each = NULL;
	q->stop = 0;
	unsigned len[MIH_MAX_TABLES];
	for (int j = 0; j < db->m; j++) {
		len[j] = db->mih[j].len;
		if (q->scan)
			q->t[j] = j ? -1 : q->radius;
	}
	for (int i = 0; i < db->m; i++) {
		q->lim[i] = tag_limit(len, q->t, db->m, i);
		q->cov[i] = q->lim[i] - q->t[i];
		q->ncov[i] = tag_keys(len, db->m, i);
	}
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
	for (int i = 0; i < db->m; i++) {
		const struct hdb_mih *x = &db->mih[i];
		q->key[i] = hdb_bits(pdq, x->off, x->len);
		q->tag[i] = (uint16_t)hdb_bits(pdq, x->off + x->len, MIH_TAG_BITS);
	}
	if (db->fast == 2)
		search_avx2(q);
	else if (db->fast)
		search_popcnt(q);
	else
		search_plain(q);
	return q->hits;
}

static struct query *new_query(void)
{
	struct query *q = ks_xmalloc(sizeof *q);
	q->gen = 0;
	memset(q->claim, 0, sizeof q->claim);
	return q;
}

static int near_one(const struct ks_hashdb *db, const uint8_t pdq[32], int radius, int scan,
		    int force, ks_hashdb_hit_fn fn, void *ctx)
{
	if (!db || !pdq || radius < 0 || !db->n_pdq)
		return 0;
	struct query *q = new_query();
	plan(q, db, radius, scan, force);
	int hits = run(q, pdq, fn, ctx);
	free(q);
	return hits;
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

int hdb_pdq_each(const struct ks_hashdb *db, each_fn fn, void *ctx)
{
	if (!db || !db->n_pdq)
		return 0;
	struct query *q = new_query();
	static const uint8_t zero[32];
	plan(q, db, 256, 1, 0);
	q->each = fn;
	run(q, zero, NULL, ctx);
	int rc = q->stop;
	free(q);
	return rc;
}

/* Many queries: each one is already a pipeline of hundreds of independent fetches,
 * so a batch is the queries in turn with one work area. */
static int near_many(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		     int force, ks_hashdb_batch_fn fn, void *ctx)
{
	if (!db || !pdqs || radius < 0 || !db->n_pdq)
		return 0;
	struct query *q = new_query();
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
