/* The opened index file as the reader's parts share it (private to the index layer):
 * pointers into the map for every section, validated at open so that lookups need
 * only check the values they follow (row numbers, payloads, record offsets). */
#ifndef KS_HASHDB_INT_H
#define KS_HASHDB_INT_H

#include <string.h>

#include "hashdb_format.h"
#include "kestrel/index.h"

struct hdb_table {
	const uint8_t *rows; /* digest + u32 payload */
	uint64_t n;
	unsigned rsz, dlen;
	const uint8_t *dir; /* (1 << bits) + 1 u32 bounds, monotonic, last == n */
	unsigned bits;
	uint64_t bytes;
};

struct hdb_mih {
	unsigned off, len, hb, lb;
	const uint8_t *dir;  /* (1 << hb) + 1 u32 bounds */
	const uint8_t *rows; /* buckets: low bytes then row numbers (SEC_MIH_ROWS) */
	unsigned lw, iw;     /* bytes per row of low bits (0/1) and of row number (0/4) */
	uint64_t mask[4];    /* the table's bits in the hash, as loaded by hdb_load4 */
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
	const uint8_t *pdq; /* n_pdq x 32 bytes, sorted */
	const uint8_t *pdq_pay;
	uint64_t n_pdq, pdq_bytes;
	int m;
	struct hdb_mih mih[MIH_MAX_TABLES];
	const uint8_t *rec_off; /* nrec + 1 u64 */
	const uint8_t *rec_data;
	uint64_t nrec, rec_bytes;
	uint64_t entries;
	int fast; /* the CPU has POPCNT */
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

/* Per-byte popcount of eight bytes, each <= allowed -> its top bit set in the result. */
static inline __attribute__((always_inline)) uint64_t hdb_bytes_within(uint64_t v,
									unsigned allowed)
{
	const uint64_t ones = 0x0101010101010101ULL;
	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FULL; /* 0..8 per byte */
	/* byte + (127 - allowed) has its top bit set iff byte > allowed */
	uint64_t over = (v + ones * (127 - allowed)) & (ones * 0x80);
	return ~over & (ones * 0x80);
}

/* The rows j of a substring table's bucket [lo, hi) whose low key bits are within
 * `allowed` bits of qlow: emit(ctx, j) for each, in order (every row when the table
 * keeps no low bits, lw 0, or allowed covers them). low: the bucket's low bytes, one a
 * row. Always inlined, so that emit is too. */
static inline __attribute__((always_inline)) void
hdb_bucket_rows(const uint8_t *low, unsigned lw, unsigned lb, uint32_t lo, uint32_t hi,
		unsigned qlow, unsigned allowed, void (*emit)(void *ctx, uint32_t j), void *ctx)
{
	if (!lw || allowed >= lb) {
		for (uint32_t j = lo; j < hi; j++)
			emit(ctx, j);
		return;
	}
	const uint64_t spread = 0x0101010101010101ULL * qlow;
	uint32_t j = lo;
	for (; j + 8 <= hi; j += 8) {
		uint64_t v;
		memcpy(&v, low + (j - lo), 8);
		uint64_t hit = hdb_bytes_within(v ^ spread, allowed);
		while (hit) {
			unsigned k = (unsigned)__builtin_ctzll(hit) >> 3;
			hit &= hit - 1;
			emit(ctx, j + k);
		}
	}
	for (; j < hi; j++)
		if ((unsigned)__builtin_popcount((low[j - lo] ^ qlow) & 0xFFu) <= allowed)
			emit(ctx, j);
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

/* ks_hashdb_near_batch without the fallback to a linear scan (for the tests). */
int hdb_near_batch_mih(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
		       ks_hashdb_batch_fn fn, void *ctx);

/* Each MIH table's threshold for radius (t[i], -1 = not searched) and the expected
 * cost of the search in random fetches (above n_pdq / 8 a linear scan is cheaper). */
double hdb_near_plan(const struct ks_hashdb *db, int radius, int *t);

#endif
