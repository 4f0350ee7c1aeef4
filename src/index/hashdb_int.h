/* The opened index file as the reader's parts share it (private to the index layer):
 * pointers into the map for every section, validated at open so that lookups need
 * only check the values they follow (row numbers, payloads, record offsets). */
#ifndef KS_HASHDB_INT_H
#define KS_HASHDB_INT_H

#include <string.h>

#include "hashdb_format.h"
#include "kestrel/index.h"

/* A helper that does nothing but prefetch: always inlined, since GCC (12, -O2) finds
 * such a function free of side effects and deletes the calls to it, prefetches and all,
 * where it does not inline it. */
#define HDB_PREFETCHER static inline __attribute__((always_inline))

struct hdb_table {
	const uint8_t *rows; /* slots of digest + u32 payload, sorted; fillers among them */
	uint64_t n;	     /* rows (slots that are not fillers) */
	uint64_t slots, homes;
	unsigned rsz, dlen;
	uint64_t bytes;
};

struct hdb_mih {
	unsigned off, len;    /* the key: hash bits [off, off + len) */
	unsigned lw, rb;      /* bits per link, of which the residue's */
	uint32_t ones;	      /* a link of lw one bits: see exc */
	const uint8_t *dir;   /* (1 << len) + 1 u32 bucket bounds */
	const uint8_t *rows;  /* bucket by bucket, tags then links (hashdb_format.h) */
	const uint8_t *exc;   /* nexc (row, link) pairs of u32 for links of all one bits */
	uint64_t nexc;
	uint64_t mask[4]; /* the key's bits in the hash, as loaded by hdb_load4 */
};

struct hdb_class {
	uint32_t set;
	const char *scheme, *category;
	int ignorable;
};

struct ks_hashdb {
	const uint8_t *map;
	size_t size;
	const uint8_t *sect; /* section table */
	uint32_t nsect;
	uint32_t version;
	int64_t created;
	const char *strings;
	uint64_t strings_len;
	struct ks_hashdb_set *sets;
	size_t nsets;
	struct hdb_class *cls;
	size_t ncls;
	struct hdb_table t[3];
	const uint8_t *pdq_pay; /* n_pdq payloads of pay_bytes, in table 0's order */
	unsigned pay_bytes;
	uint64_t n_pdq, pdq_bytes;
	int m;
	struct hdb_mih mih[MIH_MAX_TABLES];
	const uint8_t *rec_off; /* nrec + 1 u64 */
	const uint8_t *rec_data;
	uint64_t nrec, rec_bytes;
	uint64_t entries;
	int fast; /* 0: plain C, 1: the CPU has POPCNT, 2: and AVX2 */
};

static inline void hdb_load4(const uint8_t *h, uint64_t w[4])
{
	memcpy(w, h, 32);
}

/* Hamming distance of the loaded query a and the hash at h; of x restricted to mask m;
 * always inlined, so that callers built for POPCNT use the instruction. */
static inline __attribute__((always_inline)) int hdb_dist4(const uint64_t *a, const uint8_t *h)
{
	uint64_t w[4];
	hdb_load4(h, w);
	return __builtin_popcountll(a[0] ^ w[0]) + __builtin_popcountll(a[1] ^ w[1]) +
	       __builtin_popcountll(a[2] ^ w[2]) + __builtin_popcountll(a[3] ^ w[3]);
}

static inline __attribute__((always_inline)) int hdb_dist_masked(const uint64_t *x,
								 const uint64_t *m)
{
	return __builtin_popcountll(x[0] & m[0]) + __builtin_popcountll(x[1] & m[1]) +
	       __builtin_popcountll(x[2] & m[2]) + __builtin_popcountll(x[3] & m[3]);
}

/* Next combination of the same number of set bits (Gosper). */
static inline uint32_t hdb_next_comb(uint32_t v)
{
	uint32_t t = v | (v - 1);
	return (t + 1) | (((~t & -~t) - 1) >> (__builtin_ctz(v) + 1));
}

/* A batch lookup's report: fn told the query (ks_hashdb_batch_fn) behind a
 * ks_hashdb_hit_fn; hdb_batch_hit is that ks_hashdb_hit_fn (ctx a struct hdb_batch). */
struct hdb_batch {
	ks_hashdb_batch_fn fn;
	void *ctx;
	size_t query;
};
void hdb_batch_hit(void *ctx, const struct ks_hashdb_hit *h);

/* Calls fn for row `row` of table `table` (T_*) with the given payload and digest;
 * resolves class or record. Returns 1 if reported, 0 if the payload is damaged. */
int hdb_report(const struct ks_hashdb *db, unsigned table, const uint8_t *digest, uint32_t payload,
	       uint64_t row, int distance, ks_hashdb_hit_fn fn, void *ctx);

/* ks_hashdb_near without the fallback to a linear scan (for the tests). */
int hdb_near_mih(const struct ks_hashdb *db, const uint8_t pdq[32], int radius, ks_hashdb_hit_fn fn,
		 void *ctx);

/* ks_hashdb_near_batch without the fallback to a linear scan, its work areas' limits
 * given (NULL: the defaults), for the tests: queries searched together (fewer than 64:
 * one at a time), survivors gathered before they are walked, hashes walked all the way
 * round kept (their rows marked). */
struct hdb_batch_limits {
	size_t queries, survivors, walked;
};
int hdb_near_batch_mih(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		       const struct hdb_batch_limits *lim, ks_hashdb_batch_fn fn, void *ctx);

/* The tags of bucket b (rows [lo, hi)) of table x: row r's at + 2 r. */
static inline const uint8_t *hdb_tags(const struct hdb_mih *x, uint32_t b, uint32_t lo)
{
	return x->rows + (((uint64_t)x->lw * lo) >> 3) + b;
}

/* Where the links of bucket b (rows [lo, hi)) of table x are read from: row r's at bit
 * lw r on. */
static inline const uint8_t *hdb_links(const struct hdb_mih *x, uint32_t b, uint32_t hi)
{
	return x->rows + 2 * (size_t)hi + b;
}

/* PDQ row r's payload (r < n_pdq). */
static inline uint32_t hdb_pdq_pay(const struct ks_hashdb *db, uint64_t r)
{
	const uint8_t *p = db->pdq_pay + (size_t)db->pay_bytes * r;
	uint32_t v = 0;
	for (unsigned k = 0; k < db->pay_bytes; k++)
		v |= (uint32_t)p[k] << (8 * k);
	return v;
}

/* Calls fn for every PDQ row in table 0's order with its hash (spelled out from the
 * tables) and payload; stops at fn's first negative return, which it returns. */
int hdb_pdq_each(const struct ks_hashdb *db,
		 int (*fn)(void *ctx, uint64_t row, const uint8_t hash[32], uint32_t payload),
		 void *ctx);

/* Each MIH table's threshold for radius (t[i], -1 = not searched) and the expected
 * cost of the search in nanoseconds, for comparing with a linear scan's. */
double hdb_near_plan(const struct ks_hashdb *db, int radius, int *t);

#endif
