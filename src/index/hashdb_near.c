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
 * every row of table 0 the same way.
 *
 * A batch (ks_hashdb_near_batch) takes up to 32768 queries at a time table by table:
 * their probes of the table are radix-sorted by bucket, so that the table is read in
 * order and a bucket that several queries probe is read once, its tags compared with
 * all of theirs sixteen rows at a time; a survivor's tag and link are kept from the
 * scan, so its first step needs no fetch of its own row. The table's survivors then
 * take that step as a stream (first_steps: the next table's row, its key and its tag
 * checked against the ring's bounds, fetched a few survivors ahead; a single query's
 * survivors take it too), which stops about 85% of them, and the rest are walked
 * before the next table is scanned. A hash walked all the way round for a query has
 * its rows marked, so that the next tables' survivors of it stop after two steps (the
 * first-valid-start rule still decides who reports it when the marks are full). */
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
#define CLAIM_BITS 11	    /* the places the survivors start from, hashed (4 slots a row) */
#define BATCH_QUERIES 32768 /* a batch's queries searched together, at most (< 65536) */
#define BATCH_PROBES (1u << 20)
#define BATCH_SURV (1u << 19)	/* a batch's survivors gathered before they are walked */
#define BATCH_WALKED (1u << 17) /* hashes walked all the way round kept, at most */
#define BATCH_MIN 64
#define BUCKET_PROBES 32 /* a batch's probes of one bucket scanned together, at most */
#define BATCH_AHEAD 16	 /* a batch's buckets are prefetched this many probes ahead */

struct probe {
	uint32_t h;
	uint8_t table, d;
};

/* A query's keys and tags. */
struct qkeys {
	uint32_t key[MIH_MAX_TABLES];
	uint16_t tag[MIH_MAX_TABLES];
};

struct surv {
	uint32_t pos, key; /* the row's place in its table, and its key (the bucket) */
	uint32_t lo, hi;   /* the bucket's rows */
	uint32_t link;	   /* its link, read while the bucket was at hand (pre) */
	uint16_t qi, tag;  /* the query (of a batch), and the row's tag (pre) */
	uint8_t table, d;  /* d: the key's distance from the query's */
	uint8_t pre;
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
	uint32_t link;	       /* the start row's link if read (pre) */
	uint16_t tag;	       /* the row's tag (the start row's if pre) */
	uint16_t up;	       /* the walk it handed over to (itself if none) */
	uint16_t qi;	       /* the query (of a batch) */
	uint8_t s, j, steps, state, led, pre;
	uint8_t qh[32]; /* a batch's query (copied: its chunk's are read at random) */
};

enum { W_LIVE, W_DEAD, W_DONE, W_HANDED };

typedef int (*each_fn)(void *ctx, uint64_t row, const uint8_t hash[32], uint32_t payload);

/* A batch's work areas: one table's probes of a chunk of queries, sorted by bucket; the
 * table's survivors; and the rows of the hashes walked all the way round so far, by
 * query (a later table's survivor of one of them is not walked again). */
struct big {
	uint64_t *pr, *tmp; /* bucket << 37 | query << 21 | query's tag << 5 | key distance */
	size_t prcap;
	struct surv *sv;
	size_t svcap;
	uint32_t *first;	 /* by query: its last hash walked round + 1, 0 if none */
	uint32_t *walked, *next; /* such a hash's row in each table; the query's one before */
	size_t nwalked, walkedcap;
};

struct query {
	const struct ks_hashdb *db;
	const uint8_t (*qb)[32];  /* the queries: one, or a chunk of a batch */
	struct qkeys one;	  /* one query's keys and tags (a batch's are read from qb) */
	int radius, scan;	  /* scan: every row of table 0 is walked */
	int t[MIH_MAX_TABLES];	  /* per-table threshold, -1 = not searched */
	int lim[MIH_MAX_TABLES];  /* the ring's bound on key + tag distance */
	int cov[MIH_MAX_TABLES];  /* the ring's bound units of the keys a tag reaches */
	int ncov[MIH_MAX_TABLES]; /* and how many keys those are */
	ks_hashdb_hit_fn fn;
	void *ctx;
	each_fn each; /* instead of fn: every row with its payload (hdb_pdq_each) */
	int hits, stop;
	struct probe pr[PROBES];
	size_t np;
	struct hdb_batch *batch; /* a batch's report: its query = qbase + the walk's qi */
	size_t qbase, nq;
	struct surv *out; /* survivors gathered: sv, or a batch's big buffer */
	size_t ns, cap;
	struct surv sv[SURV];
	struct walk wk[SURV];
	uint32_t at[SURV][MIH_MAX_TABLES]; /* a batch's walks' rows in each table so far */
	uint16_t live[SURV], done[SURV];
	uint64_t claim[1u << CLAIM_BITS]; /* query << 37 | table << 32 | row */
	uint32_t claim_gen[1u << CLAIM_BITS];
	uint16_t claimer[1u << CLAIM_BITS];
	uint32_t gen;
	struct big *big; /* a batch's work areas */
};

static inline size_t claim_slot(uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - CLAIM_BITS));
}

/* The walk of query qi that started from row p of table j in this round of walks, or
 * -1. */
static inline int claimed(const struct query *q, unsigned qi, unsigned j, uint32_t p)
{
	uint64_t key = (uint64_t)qi << 37 | (uint64_t)j << 32 | p;
	for (size_t i = claim_slot(key);; i = (i + 1) & ((1u << CLAIM_BITS) - 1)) {
		if (q->claim_gen[i] != q->gen)
			return -1;
		if (q->claim[i] == key)
			return q->claimer[i];
	}
}

static inline void claim(struct query *q, unsigned qi, unsigned j, uint32_t p, unsigned who)
{
	uint64_t key = (uint64_t)qi << 37 | (uint64_t)j << 32 | p;
	size_t i = claim_slot(key);
	while (q->claim_gen[i] == q->gen)
		i = (i + 1) & ((1u << CLAIM_BITS) - 1);
	q->claim[i] = key;
	q->claim_gen[i] = q->gen;
	q->claimer[i] = (uint16_t)who;
}

/* Has query qi's walk from an earlier table gone all the way round through row p of
 * table j? */
static inline int marked(const struct big *g, int m, unsigned qi, int j, uint32_t p)
{
	for (uint32_t e = g->first[qi]; e; e = g->next[e - 1])
		if (g->walked[(size_t)(e - 1) * (size_t)m + (size_t)j] == p)
			return 1;
	return 0;
}

/* Query qi's hash walked all the way round: rows at[] of its tables. Once walkedcap are
 * kept, no more (the hash may then be walked again from a later table, and finish
 * reports it only from its first valid start). */
static void mark_rows(struct big *g, unsigned qi, const uint32_t *at, int m)
{
	if (g->nwalked == g->walkedcap)
		return;
	memcpy(g->walked + g->nwalked * (size_t)m, at, (size_t)m * sizeof *at);
	g->next[g->nwalked] = g->first[qi];
	g->first[qi] = (uint32_t)++g->nwalked;
}

/* Bucket b of table x: its rows [*lo, *hi). */
static inline void bucket_bounds(const struct hdb_mih *x, uint32_t b, uint32_t *lo, uint32_t *hi)
{
	*lo = hdb_le32(x->dir + 4 * (size_t)b);
	*hi = hdb_le32(x->dir + 4 * (size_t)b + 4);
}

/* Prefetches bucket b of table x (rows [lo, hi)): its tags, and its links too if asked,
 * at most n lines. */
HDB_PREFETCHER void prefetch_bucket(const struct hdb_mih *x, uint32_t b, uint32_t lo, uint32_t hi,
				    int links, int n)
{
	const uint8_t *t = hdb_tags(x, b, lo) + 2 * (size_t)lo;
	const uint8_t *e = links ? hdb_links(x, b, hi) + (((uint64_t)hi * x->lw + 7) >> 3)
				 : t + (hi > lo ? 2 * (size_t)(hi - lo) : 0);
	for (int l = 0; t < e && l < n; t += 64, l++)
		__builtin_prefetch(t);
}

/* Row p of bucket b (rows [lo, hi)) of table x: its tag (the bits after its key), and
 * its link to the same hash's row in the next table. */
static inline uint32_t row_tag(const struct hdb_mih *x, uint32_t b, uint32_t lo, uint32_t p)
{
	const uint8_t *tp = hdb_tags(x, b, lo) + 2 * (size_t)p;
	return tp[0] | (uint32_t)tp[1] << 8;
}

static inline uint32_t row_link(const struct hdb_mih *x, uint32_t b, uint32_t hi, uint32_t p)
{
	return hdb_field(hdb_links(x, b, hi), (uint64_t)x->lw * p, x->lw);
}

/* The table after j round the ring of m. */
static inline int next_table(int j, int m)
{
	return j + 1 == m ? 0 : j + 1;
}

/* A query's key and tag in table j: a batch's read from its hash h, one query's kept. */
static inline uint32_t q_key(const struct query *q, const uint8_t *h, int j)
{
	const struct hdb_mih *x = &q->db->mih[j];
	return q->big ? hdb_bits(h, x->off, x->len) : q->one.key[j];
}

static inline uint32_t q_tag(const struct query *q, const uint8_t *h, int j)
{
	const struct hdb_mih *x = &q->db->mih[j];
	return q->big ? hdb_bits(h, x->off + x->len, MIH_TAG_BITS) : q->one.tag[j];
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
	if (q->big)
		mark_rows(q->big, w->qi, q->at[w - q->wk], db->m);
	uint64_t qq[4];
	hdb_load4(q->big ? w->qh : q->qb[0], qq);
	int dist = hdb_dist4(qq, w->h);
	if (dist > q->radius)
		return;
	if (w->starts != 1) {
		uint64_t v[4], xr[4];
		hdb_load4(w->h, v);
		for (int j = 0; j < 4; j++)
			xr[j] = qq[j] ^ v[j];
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
	if (q->batch)
		q->batch->query = q->qbase + w->qi;
	q->hits += hdb_report(db, T_PDQ, w->h, pay, w->entry, dist, q->fn, q->ctx);
}

/* Walks n survivors (at most SURV) round the ring, all a step at a time. */
static inline __attribute__((always_inline)) void verify(struct query *q, const struct surv *sv,
							 size_t n)
{
	const struct ks_hashdb *db = q->db;
	int m = db->m;
	size_t nl = 0, nd = 0;
	if (++q->gen == 0) {
		memset(q->claim_gen, 0, sizeof q->claim_gen);
		q->gen = 1;
	}
	for (size_t k = 0; k < n; k++) {
		const struct surv *v = &sv[k];
		const struct hdb_mih *x = &db->mih[v->table];
		struct walk *w = &q->wk[k];
		w->s = w->j = v->table;
		q->at[k][v->table] = v->pos;
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
		w->qi = v->qi;
		w->pre = v->pre;
		w->tag = v->tag;
		w->link = v->link;
		hdb_put_bits(w->h, x->off, x->len, v->key);
		if (q->big) {
			/* the query's hash, fetched a few survivors ahead. A batch's round of
			 * walks all start in one table, which no walk comes back to before it
			 * ends: no claims */
			if (k + 8 < n)
				__builtin_prefetch(q->qb[sv[k + 8].qi]);
			memcpy(w->qh, q->qb[v->qi], 32);
		} else if (!q->scan && claimed(q, v->qi, v->table, v->pos) < 0) {
			claim(q, v->qi, v->table, v->pos, (unsigned)k);
		}
		q->live[nl++] = (uint16_t)k;
	}
	while (nl) {
		/* each row's tag: the next keys' bits; the link's line prefetched for a row
		 * whose run of keys still fits (most do not, and their link is not read) */
		size_t keep = 0;
		for (size_t i = 0; i < nl; i++) {
			struct walk *w = &q->wk[q->live[i]];
			const struct hdb_mih *x = &db->mih[w->j];
			uint32_t tag = w->pre ? w->tag : row_tag(x, w->b, w->lo, w->p);
			hdb_put_bits(w->h, x->off + x->len, MIH_TAG_BITS, tag);
			if (w->steps == m - 1) {
				w->state = W_DONE;
				q->done[nd++] = q->live[i]; /* all keys spelled, table 0 met */
				continue;
			}
			/* the tag begins the next keys: their run must fit the ring too */
			if (!w->led && w->steps + q->ncov[w->j] <= m - 1 &&
			    w->sum + __builtin_popcount(tag ^ q_tag(q, w->qh, w->j)) >
				w->bound + q->cov[w->j] - 1) {
				w->state = W_DEAD;
				continue;
			}
			w->tag = (uint16_t)tag;
			if (!w->pre)
				__builtin_prefetch(hdb_links(x, w->b, w->hi) +
						   (((uint64_t)w->p * x->lw) >> 3));
			q->live[keep++] = q->live[i];
		}
		nl = keep;
		keep = 0;
		/* each row's link, and the next group's directory entry prefetched */
		for (size_t i = 0; i < nl; i++) {
			struct walk *w = &q->wk[q->live[i]];
			const struct hdb_mih *x = &db->mih[w->j];
			const struct hdb_mih *y = &db->mih[next_table(w->j, m)];
			w->b0 = hdb_group(y->len, w->tag, &w->nb);
			uint32_t v = w->pre ? w->link : row_link(x, w->b, w->hi, w->p);
			w->pre = 0;
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
			int jn = next_table(w->j, m);
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
			uint32_t lo, hi;
			bucket_bounds(y, b, &lo, &hi);
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
			w->sum = (int16_t)(w->sum + __builtin_popcount(b ^ q_key(q, w->qh, jn)));
			w->bound = (int16_t)(w->bound + q->t[jn] + 1);
			w->steps++;
			w->j = (uint8_t)jn;
			w->p = p;
			if (jn == 0)
				w->entry = p;
			q->at[q->live[i]][jn] = p;
			if (!w->led && w->sum > w->bound - 1) {
				w->state =
				    W_DEAD; /* s is not a start: another table finds the row */
				continue;
			}
			if (q->big && w->steps == 2 && marked(q->big, m, w->qi, jn, p)) {
				w->state =
				    W_DEAD; /* walked all the way round from an earlier table */
				continue;
			}
			int c = q->scan || q->big ? -1 : claimed(q, w->qi, (unsigned)jn, p);
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
			q->live[keep++] = q->live[i];
		}
		nl = keep;
	}
	for (size_t i = 0; i < nd && !q->stop; i++)
		finish(q, &q->wk[q->done[i]]);
}

#define FIRST_AHEAD 16 /* first_steps: a survivor's next row found this far ahead */

/* A survivor's tag and link read (pre), while its bucket is at hand. */
static inline void surv_read(const struct hdb_mih *x, struct surv *v)
{
	v->tag = (uint16_t)row_tag(x, v->key, v->lo, v->pos);
	v->link = row_link(x, v->key, v->hi, v->pos);
	v->pre = 1;
}

/* Survivors sv[0, n) taken a first step round the ring as a stream, before verify
 * walks them: the row in the next table their tag and link lead to, and the ring's
 * bounds checked on its key and on its tag, as verify's first two rounds do. Nearly
 * all stop there, and verify's rounds, which touch a walk's whole state three times a
 * step, are left the few that go on. Only rows whose own start cannot be valid are
 * dropped (a link to an exception is left to verify): the walk from a hash's first
 * valid start passes these checks, and a walk that would have handed over to a dropped
 * one goes on by itself. Returns how many are kept, in order at the front of sv. */
static size_t first_steps(struct query *q, struct surv *sv, size_t n)
{
	enum { GO, STOP, KEEP };
	const struct ks_hashdb *db = q->db;
	int m = db->m;
	struct {
		uint32_t b, lo, p;
		int32_t res;
		int sum, st;
	} r[4 * FIRST_AHEAD];
	size_t keep = 0, mask = 4 * FIRST_AHEAD - 1;
	for (size_t k = 0; k < n + 2 * FIRST_AHEAD; k++) {
		if (k < n) { /* the next table's bucket, from the tag and the link */
			struct surv *v = &sv[k];
			const struct hdb_mih *x = &db->mih[v->table];
			if (!v->pre) /* one query's: its bucket was scanned, its link fetched */
				surv_read(x, v);
			const struct hdb_mih *y = &db->mih[next_table(v->table, m)];
			uint32_t nb, b0 = hdb_group(y->len, v->tag, &nb), sub = v->link >> x->rb;
			r[k & mask].st = v->link == x->ones ? KEEP : sub >= nb ? STOP : GO;
			r[k & mask].b = b0 + sub;
			r[k & mask].res = (int32_t)hdb_unzigzag(v->link & ((1ull << x->rb) - 1));
			if (r[k & mask].st == GO) {
				__builtin_prefetch(y->dir + 4 * (size_t)(b0 + sub));
				__builtin_prefetch(q->qb[v->qi]);
			}
		}
		if (k >= FIRST_AHEAD && k - FIRST_AHEAD < n) { /* its row, and its key's distance */
			size_t a = (k - FIRST_AHEAD) & mask;
			const struct surv *v = &sv[k - FIRST_AHEAD];
			int i = v->table, jn = next_table(i, m);
			const struct hdb_mih *y = &db->mih[jn];
			if (r[a].st == GO) {
				uint32_t lo, hi;
				bucket_bounds(y, r[a].b, &lo, &hi);
				int64_t pp = (int64_t)hdb_link_pred(i, v->pos, v->lo, v->hi,
								    db->n_pdq, lo, hi) +
					     r[a].res;
				r[a].sum =
				    v->d + __builtin_popcount(r[a].b ^ q_key(q, q->qb[v->qi], jn));
				r[a].lo = lo;
				r[a].p = (uint32_t)pp;
				if (pp < lo || pp >= hi || r[a].sum > q->t[i] + q->t[jn] + 1)
					r[a].st = STOP;
				else
					__builtin_prefetch(hdb_tags(y, r[a].b, lo) +
							   2 * (size_t)pp);
			}
		}
		if (k >= 2 * FIRST_AHEAD) { /* its tag: the keys after the next */
			size_t a = (k - 2 * FIRST_AHEAD) & mask;
			const struct surv *v = &sv[k - 2 * FIRST_AHEAD];
			int i = v->table, jn = next_table(i, m);
			const struct hdb_mih *y = &db->mih[jn];
			if (r[a].st == GO && 1 + q->ncov[jn] <= m - 1) {
				uint32_t tag = row_tag(y, r[a].b, r[a].lo, r[a].p);
				if (r[a].sum +
					__builtin_popcount(tag ^ q_tag(q, q->qb[v->qi], jn)) >
				    q->t[i] + q->t[jn] + 1 + q->cov[jn])
					r[a].st = STOP;
			}
			if (r[a].st != STOP)
				sv[keep++] = *v;
		}
	}
	return keep;
}

/* Survivors gathered so far walked, SURV at a time. */
static inline __attribute__((always_inline)) void flush(struct query *q)
{
	size_t n = q->ns;
	q->ns = 0;
	if (!q->scan)
		n = first_steps(q, q->out, n);
	for (size_t a = 0; a < n && !q->stop; a += SURV)
		verify(q, q->out + a, n - a < SURV ? n - a : SURV);
}

/* Row pos of bucket key (rows [lo, hi)) of a table survives the tags for query qi. */
static inline __attribute__((always_inline)) void survive(struct query *q, unsigned qi,
							  uint32_t pos, unsigned table,
							  uint32_t key, int d, uint32_t lo,
							  uint32_t hi)
{
	struct surv *v = &q->out[q->ns];
	v->pos = pos;
	v->key = key;
	v->lo = lo;
	v->hi = hi;
	v->qi = (uint16_t)qi;
	v->table = (uint8_t)table;
	v->d = (uint8_t)d;
	const struct hdb_mih *x = &q->db->mih[table];
	if (q->big) { /* the bucket is at hand now, not when the row is walked */
		surv_read(x, v);
	} else {
		v->pre = 0;
		__builtin_prefetch(hdb_links(x, key, hi) + (((uint64_t)pos * x->lw) >> 3));
	}
	if (++q->ns == q->cap)
		flush(q);
}

/* The rows of bucket [lo, hi) of a table whose tags are within c bits of tag. */
static inline __attribute__((always_inline)) void
tags_plain(struct query *q, unsigned qi, unsigned tag, unsigned table, uint32_t from, uint32_t lo,
	   uint32_t hi, uint32_t key, int d, int c)
{
	/* the tags' place found once (row_tag would find it again for every row: survive's
	 * writes might change the table's fields, as far as the compiler knows) */
	const uint8_t *tags = hdb_tags(&q->db->mih[table], key, lo);
	for (uint32_t j = from; j < hi; j++) {
		unsigned v = (tags[2 * (size_t)j] | (unsigned)tags[2 * (size_t)j + 1] << 8) ^ tag;
		if (__builtin_popcount(v) <= c)
			survive(q, qi, j, table, key, d, lo, hi);
	}
}

/* A probe of a bucket: the query, its tag, and the bits its tags may differ by. */
struct bprobe {
	uint16_t qi, tag;
	int c, d;
};

#ifdef HDB_X86
#define TAG_HITS 64 /* tags_avx2: sixteen-row blocks with survivors noted before they survive */

/* A sixteen-row block from row at with survivors for probe k: bits 2i of ok, row at + i. */
struct tag_hit {
	uint32_t at, ok;
	size_t k;
};

/* The rows of the nh blocks noted by tags_avx2 survive. */
static inline __attribute__((always_inline)) void follow_hits(struct query *q, unsigned table,
							      uint32_t lo, uint32_t hi,
							      uint32_t key, const struct bprobe *bp,
							      const struct tag_hit *hit, size_t nh)
{
	for (size_t h = 0; h < nh; h++)
		for (uint32_t o = hit[h].ok; o; o &= o - 1)
			survive(q, bp[hit[h].k].qi, hit[h].at + ((unsigned)__builtin_ctz(o) >> 1),
				table, key, bp[hit[h].k].d, lo, hi);
}

/* The same for the n probes of one bucket (c < 16 each), a probe's sixteen tags at a
 * time: per-nibble counts from a table (PSHUFB), summed to 16-bit lanes, compared with
 * c. A bucket of 16 rows or more ends on its last sixteen, masked. The blocks with
 * survivors are noted and their rows survive after the loop, which then stays small
 * enough to keep its constants in registers. */
__attribute__((target("avx2,popcnt"))) static void tags_avx2(struct query *q, unsigned table,
							     uint32_t lo, uint32_t hi, uint32_t key,
							     const struct bprobe *bp, size_t n)
{
	const uint8_t *tags = hdb_tags(&q->db->mih[table], key, lo);
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1,
					     1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i nib = _mm256_set1_epi8(15), ones = _mm256_set1_epi8(1);
	uint32_t last = hi - 16, tail = ~0u << (2 * (16 - (hi - lo) % 16) % 32);
	struct tag_hit hit[TAG_HITS];
	size_t nh = 0;
	for (size_t k = 0; k < n; k++) {
		const __m256i qt = _mm256_set1_epi16((short)bp[k].tag);
		const __m256i c = _mm256_set1_epi16((short)bp[k].c);
		for (uint32_t j = lo; j < hi; j += 16) {
			/* the last sixteen, those before j masked */
			uint32_t at = j + 16 > hi ? last : j, keep = j + 16 > hi ? tail : ~0u;
			__m256i x = _mm256_xor_si256(
			    _mm256_loadu_si256(
				(const __m256i *)(const void *)(tags + 2 * (size_t)at)),
			    qt);
			__m256i cnt = _mm256_maddubs_epi16(
			    _mm256_add_epi8(
				_mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib)),
				_mm256_shuffle_epi8(
				    lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib))),
			    ones);
			uint32_t ok = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi16(cnt, c)) &
				      keep & 0x55555555u;
			if (ok) {
				hit[nh].at = at;
				hit[nh].ok = ok;
				hit[nh].k = k;
				if (++nh == TAG_HITS) {
					follow_hits(q, table, lo, hi, key, bp, hit, nh);
					nh = 0;
				}
			}
		}
	}
	follow_hits(q, table, lo, hi, key, bp, hit, nh);
}
#endif

/* The rows of bucket [a, b) of a table that the tags let through for each of n probes
 * (their key at distance d, their tags within c = the ring's bound - d). */
static inline __attribute__((always_inline)) void bucket_rows(struct query *q, unsigned table,
							      uint32_t a, uint32_t b, uint32_t key,
							      struct bprobe *bp, size_t n, int simd)
{
	if (b <= a)
		return;
	size_t ns = 0;
	for (size_t k = 0; k < n; k++) {
		int c = q->lim[table] - bp[k].d;
		if (c < 0)
			continue;
		if (c >= MIH_TAG_BITS) {
			for (uint32_t j = a; j < b; j++)
				survive(q, bp[k].qi, j, table, key, bp[k].d, a, b);
			continue;
		}
		bp[k].c = c;
#ifdef HDB_X86
		if (simd && b - a >= 16) {
			bp[ns++] = bp[k];
			continue;
		}
#endif
		tags_plain(q, bp[k].qi, bp[k].tag, table, a, a, b, key, bp[k].d, c);
	}
#ifdef HDB_X86
	if (ns)
		tags_avx2(q, table, a, b, key, bp, ns);
#endif
	(void)simd;
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
			bucket_bounds(x, p->h, &lo[k2 % RING], &hi[k2 % RING]);
			prefetch_bucket(x, p->h, lo[k2 % RING], hi[k2 % RING], 0, TAG_LINES);
		}
		if (k >= AHEAD) {
			size_t k3 = k - AHEAD;
			const struct probe *p = &q->pr[k3];
			struct bprobe bp = {0, q->one.tag[p->table], 0, p->d};
			bucket_rows(q, p->table, lo[k3 % RING], hi[k3 % RING], p->h, &bp, 1, simd);
		}
	}
}

/* The probes of a table with keys of len bits at threshold t: every mask of at most t
 * bits, fewest first (d bits). for (flips_start(...); ...; flips_next(...)). */
struct flips {
	uint32_t mask;
	unsigned d, t, len;
};

static inline void flips_start(struct flips *f, unsigned len, unsigned t)
{
	f->mask = 0;
	f->d = 0;
	f->t = t;
	f->len = len;
}

static inline int flips_next(struct flips *f)
{
	if (f->d && f->d < f->len) {
		uint32_t next = hdb_next_comb(f->mask);
		if (!(next >> f->len)) {
			f->mask = next;
			return 1;
		}
	}
	if (++f->d > f->t || f->d > f->len)
		return 0;
	f->mask = (1u << f->d) - 1;
	return 1;
}

static inline __attribute__((always_inline)) void run_mih(struct query *q, int simd)
{
	const struct ks_hashdb *db = q->db;
	for (int i = 0; i < db->m; i++) {
		if (q->t[i] < 0)
			continue;
		struct flips f;
		flips_start(&f, db->mih[i].len, (unsigned)q->t[i]);
		do {
			struct probe *p = &q->pr[q->np++];
			p->h = q->one.key[i] ^ f.mask;
			p->table = (uint8_t)i;
			p->d = (uint8_t)f.d;
			if (q->np == PROBES)
				run_probes(q, simd);
		} while (flips_next(&f));
	}
	run_probes(q, simd);
	flush(q);
}

/* Sorts a[0, n) by bits [sh, sh + len) (len <= 22), least significant digit first;
 * returns where the result is (a or tmp). */
static uint64_t *sort_probes(uint64_t *a, uint64_t *tmp, size_t n, unsigned sh, unsigned len)
{
	uint32_t cnt[2048];
	unsigned passes = (len + 10) / 11, bits = passes ? (len + passes - 1) / passes : 0;
	uint32_t mask = (1u << bits) - 1;
	for (unsigned p = 0; p < passes; p++, sh += bits) {
		memset(cnt, 0, (mask + 1) * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[a[i] >> sh & mask]++;
		uint32_t sum = 0;
		for (uint32_t d = 0; d <= mask; d++) {
			uint32_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[a[i] >> sh & mask]++] = a[i];
		uint64_t *t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/* A chunk of a batch (q->qb[0, q->nq)), table by table: every query's probes sorted by
 * bucket, so that the table is read in order and a bucket that several queries probe
 * is read once, then the table's survivors walked (their rows read as the buckets
 * were scanned). */
static inline __attribute__((always_inline)) void run_batch(struct query *q, int simd)
{
	const struct ks_hashdb *db = q->db;
	struct big *g = q->big;
	memset(g->first, 0, q->nq * sizeof *g->first);
	g->nwalked = 0;
	for (int i = 0; i < db->m && !q->stop; i++) {
		if (q->t[i] < 0)
			continue;
		const struct hdb_mih *x = &db->mih[i];
		size_t np = 0;
		for (size_t k = 0; k < q->nq; k++) {
			uint64_t key = q_key(q, q->qb[k], i),
				 v = (uint64_t)k << 21 | (uint64_t)q_tag(q, q->qb[k], i) << 5;
			struct flips f;
			flips_start(&f, x->len, (unsigned)q->t[i]);
			do
				g->pr[np++] = (key ^ f.mask) << 37 | v | f.d;
			while (flips_next(&f));
		}
		const uint64_t *pr = sort_probes(g->pr, g->tmp, np, 37, x->len);
		uint32_t at = NO_ROW, lo = 0, hi = 0, ahead = NO_ROW;
		for (size_t k = 0; k < np; k++) {
			if (k + BATCH_AHEAD < np &&
			    (uint32_t)(pr[k + BATCH_AHEAD] >> 37) != ahead) {
				ahead = (uint32_t)(pr[k + BATCH_AHEAD] >> 37);
				uint32_t a, b;
				bucket_bounds(x, ahead, &a, &b);
				prefetch_bucket(x, ahead, a, b, 1, 2 * TAG_LINES);
			}
			uint32_t h = (uint32_t)(pr[k] >> 37);
			if (h != at) {
				at = h;
				bucket_bounds(x, h, &lo, &hi);
			}
			/* the bucket's probes, all at once */
			struct bprobe bp[BUCKET_PROBES];
			size_t n = 0;
			for (;; k++) {
				uint64_t v = pr[k];
				bp[n++] = (struct bprobe){(uint16_t)(v >> 21), (uint16_t)(v >> 5),
							  0, (int)(v & 31)};
				if (n == BUCKET_PROBES || k + 1 == np ||
				    (uint32_t)(pr[k + 1] >> 37) != h)
					break;
			}
			bucket_rows(q, (unsigned)i, lo, hi, h, bp, n, simd);
		}
		flush(q);
	}
}

/* Every row of table 0, bucket by bucket (the plan's thresholds are the radius for
 * table 0 and none for the others, so a walk stops once its distance passes it). */
static inline __attribute__((always_inline)) void run_scan(struct query *q, int simd)
{
	const struct hdb_mih *x = &q->db->mih[0];
	uint32_t nb = 1u << x->len;
	for (uint32_t b = 0; b < nb && !q->stop; b++) {
		uint32_t lo, hi;
		bucket_bounds(x, b, &lo, &hi);
		struct bprobe bp = {0, q->one.tag[0], 0, __builtin_popcount(b ^ q->one.key[0])};
		bucket_rows(q, 0, lo, hi, b, &bp, 1, simd);
	}
	flush(q);
}

static inline __attribute__((always_inline)) void search(struct query *q, int simd)
{
	if (q->scan)
		run_scan(q, simd);
	else if (q->big)
		run_batch(q, simd);
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

static void qkeys_of(const struct ks_hashdb *db, const uint8_t pdq[32], struct qkeys *h)
{
	for (int i = 0; i < db->m; i++) {
		const struct hdb_mih *x = &db->mih[i];
		h->key[i] = hdb_bits(pdq, x->off, x->len);
		h->tag[i] = (uint16_t)hdb_bits(pdq, x->off + x->len, MIH_TAG_BITS);
	}
}

/* The search of a set-up q, by the CPU's instruction set. */
static void dispatch(struct query *q)
{
	q->np = q->ns = 0;
	q->hits = 0;
	if (q->db->fast == 2)
		search_avx2(q);
	else if (q->db->fast)
		search_popcnt(q);
	else
		search_plain(q);
}

/* One query of a planned q. */
static int run(struct query *q, const uint8_t pdq[32], ks_hashdb_hit_fn fn, void *ctx)
{
	qkeys_of(q->db, pdq, &q->one);
	q->qb = (const uint8_t(*)[32])pdq;
	q->out = q->sv;
	q->cap = SURV;
	q->fn = fn;
	q->ctx = ctx;
	dispatch(q);
	return q->hits;
}

static struct query *new_query(void)
{
	struct query *q = ks_xmalloc(sizeof *q);
	q->gen = 0;
	memset(q->claim_gen, 0, sizeof q->claim_gen);
	q->big = NULL;
	q->batch = NULL;
	q->qbase = 0;
	q->nq = 1;
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

/* Queries a batch searches at a time: as many as BATCH_PROBES probes of a table allow,
 * at most lim->queries and n; 0 if fewer than BATCH_MIN (one at a time is then faster).
 * *per_table: the most probes a query makes in a table. */
static size_t batch_chunk(const struct query *q, size_t n, const struct hdb_batch_limits *lim,
			  size_t *per_table)
{
	double most = 1;
	for (int i = 0; i < q->db->m; i++)
		if (q->t[i] >= 0 && ball(q->db->mih[i].len, q->t[i]) > most)
			most = ball(q->db->mih[i].len, q->t[i]);
	*per_table = (size_t)most;
	size_t c = most * (double)lim->queries > BATCH_PROBES ? (size_t)(BATCH_PROBES / most)
							      : lim->queries;
	if (c > n)
		c = n;
	return c < BATCH_MIN ? 0 : c;
}

static struct big *big_new(size_t chunk, size_t per_table, const struct hdb_batch_limits *lim)
{
	struct big *g = ks_xmalloc(sizeof *g);
	g->prcap = chunk * per_table;
	g->pr = ks_xmalloc(g->prcap * sizeof *g->pr);
	g->tmp = ks_xmalloc(g->prcap * sizeof *g->tmp);
	g->svcap = lim->survivors;
	g->sv = ks_xmalloc(g->svcap * sizeof *g->sv);
	g->first = ks_xmalloc(chunk * sizeof *g->first);
	g->walkedcap = lim->walked < 8 * chunk ? lim->walked : 8 * chunk;
	g->walked =
	    ks_xmalloc((g->walkedcap ? g->walkedcap : 1) * MIH_MAX_TABLES * sizeof *g->walked);
	g->next = ks_xmalloc((g->walkedcap ? g->walkedcap : 1) * sizeof *g->next);
	return g;
}

static void big_free(struct big *g)
{
	free(g->pr);
	free(g->tmp);
	free(g->sv);
	free(g->first);
	free(g->walked);
	free(g->next);
	free(g);
}

/* Many queries: a chunk at a time, sorted and streamed (run_batch), when there are
 * enough of them and the tables are searched; else one at a time with one work area. */
static int near_many(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		     int force, const struct hdb_batch_limits *lim, ks_hashdb_batch_fn fn,
		     void *ctx)
{
	static const struct hdb_batch_limits dflt = {BATCH_QUERIES, BATCH_SURV, BATCH_WALKED};
	if (!lim)
		lim = &dflt;
	if (!db || !pdqs || radius < 0 || !db->n_pdq)
		return 0;
	struct query *q = new_query();
	plan(q, db, radius, 0, force);
	struct hdb_batch b = {fn, ctx, 0};
	size_t per_table, chunk = q->scan || n < BATCH_MIN ? 0 : batch_chunk(q, n, lim, &per_table);
	int hits = 0;
	if (!chunk) {
		for (size_t i = 0; i < n; i++) {
			b.query = i;
			hits += run(q, pdqs + 32 * i, hdb_batch_hit, &b);
		}
		free(q);
		return hits;
	}
	struct big *g = big_new(chunk, per_table, lim);
	q->big = g;
	q->out = g->sv;
	q->cap = g->svcap;
	q->batch = &b;
	q->fn = hdb_batch_hit;
	q->ctx = &b;
	for (size_t a = 0; a < n; a += chunk) {
		q->qbase = a;
		q->nq = n - a < chunk ? n - a : chunk;
		q->qb = (const uint8_t(*)[32])(pdqs + 32 * a);
		dispatch(q);
		hits += q->hits;
	}
	big_free(g);
	free(q);
	return hits;
}

int ks_hashdb_near_batch(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
			 ks_hashdb_batch_fn fn, void *ctx)
{
	return near_many(db, pdqs, n, radius, 0, NULL, fn, ctx);
}

int hdb_near_batch_mih(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		       const struct hdb_batch_limits *lim, ks_hashdb_batch_fn fn, void *ctx)
{
	return near_many(db, pdqs, n, radius, 1, lim, fn, ctx);
}

void ks_pdq_words_to_bytes(const uint16_t w[16], uint8_t out[32])
{
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (uint8_t)(w[15 - i] >> 8);
		out[2 * i + 1] = (uint8_t)w[15 - i];
	}
}
