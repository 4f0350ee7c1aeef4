/* PDQ core on a float luma buffer: Jarosz box filters, 64x64 decimation, quality,
 * 16x16 DCT, median threshold, dihedral variants, hex text. Every floating-point
 * operation is done in the reference's order and precision (float, no contraction),
 * because the test vectors demand identical bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/pdq.h"

#define DS 64 /* decimated side */

const char *ks_pdq_mode_name(int mode)
{
	return mode == KS_PDQ_FAST ? "fast" : "exact";
}

void ks_pdq_to_hex(const struct ks_pdq_hash *h, char out[KS_PDQ_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	char *o = out;
	for (int i = 15; i >= 0; i--) {
		unsigned w = h->w[i];
		*o++ = digits[(w >> 12) & 15];
		*o++ = digits[(w >> 8) & 15];
		*o++ = digits[(w >> 4) & 15];
		*o++ = digits[w & 15];
	}
	*o = '\0';
}

int ks_pdq_from_hex(const char *hex, size_t len, struct ks_pdq_hash *h)
{
	if (!hex || len != KS_PDQ_HEX_LEN)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned w = 0;
		for (int d = 0; d < 4; d++) {
			int v = ks_hex_digit(hex[(15 - i) * 4 + d]);
			if (v < 0)
				return -1;
			w = (w << 4) | (unsigned)v;
		}
		h->w[i] = (uint16_t)w;
	}
	return 0;
}

int ks_pdq_distance(const struct ks_pdq_hash *a, const struct ks_pdq_hash *b)
{
	int d = 0;
	for (int i = 0; i < 16; i++)
		d += __builtin_popcount((unsigned)(a->w[i] ^ b->w[i]));
	return d;
}

int ks_pdq_weight(const struct ks_pdq_hash *h)
{
	int d = 0;
	for (int i = 0; i < 16; i++)
		d += __builtin_popcount(h->w[i]);
	return d;
}

/* (old + 2*new - 1) / (2*new) with new = 64: the per-pass box width. */
static uint32_t jarosz_window(uint32_t old)
{
	return (old + 2 * DS - 1) / (2 * DS);
}

/* The reference divides each running sum by the current window count. For a count
 * that is a power of two, multiplying by its reciprocal gives the same correctly
 * rounded float (both are the exact quotient, rounded once), so those divisions
 * become multiplications; counts like 3 keep the division. */
static inline int is_pow2(int n)
{
	return n > 0 && (n & (n - 1)) == 0;
}

/* One running-sum box pass along rows, as the reference's box1DFloat on each row: the
 * window is [i - (w - half), i + half - 1] cut at the ends, the sum is kept in a float
 * with the add before the subtract, and each output is sum / current count. Rows are
 * taken nb at a time so that their independent sums overlap in the pipeline. Only
 * columns with keep[c] set are written (all when keep is NULL). */
static inline __attribute__((always_inline)) void box_rows_bundle(const float *restrict in,
								  float *restrict out,
								  uint32_t cols, uint32_t w,
								  const uint8_t *keep, int nb)
{
	uint32_t half = (w + 2) / 2;
	uint32_t p1 = half - 1, p2 = w - half + 1, p3 = cols - w, p4 = half - 1;
	uint32_t li = 0, ri = 0, oi = 0;
	float s[8] = {0};
	int cur = 0;

	for (uint32_t i = 0; i < p1; i++, ri++) {
		for (int k = 0; k < nb; k++)
			s[k] += in[(size_t)k * cols + ri];
		cur++;
	}
	for (uint32_t i = 0; i < p2; i++, ri++, oi++) {
		cur++;
		for (int k = 0; k < nb; k++)
			s[k] += in[(size_t)k * cols + ri];
		if (!keep || keep[oi])
			for (int k = 0; k < nb; k++)
				out[(size_t)k * cols + oi] = s[k] / (float)cur;
	}
	const float inv = 1.0f / (float)cur;
	const int pow2 = is_pow2(cur);
	for (uint32_t i = 0; i < p3; i++, li++, ri++, oi++) {
		for (int k = 0; k < nb; k++) {
			s[k] += in[(size_t)k * cols + ri];
			s[k] -= in[(size_t)k * cols + li];
		}
		if (!keep || keep[oi]) {
			if (pow2)
				for (int k = 0; k < nb; k++)
					out[(size_t)k * cols + oi] = s[k] * inv;
			else
				for (int k = 0; k < nb; k++)
					out[(size_t)k * cols + oi] = s[k] / (float)cur;
		}
	}
	for (uint32_t i = 0; i < p4; i++, li++, oi++) {
		cur--;
		for (int k = 0; k < nb; k++)
			s[k] -= in[(size_t)k * cols + li];
		if (!keep || keep[oi])
			for (int k = 0; k < nb; k++)
				out[(size_t)k * cols + oi] = s[k] / (float)cur;
	}
}

static void box_rows(const float *in, float *out, uint32_t rows, uint32_t cols, uint32_t w,
		     const uint8_t *keep)
{
	uint32_t r = 0;
	for (; r + 8 <= rows; r += 8)
		box_rows_bundle(in + (size_t)r * cols, out + (size_t)r * cols, cols, w, keep, 8);
	for (; r < rows; r++)
		box_rows_bundle(in + (size_t)r * cols, out + (size_t)r * cols, cols, w, keep, 1);
}

/* One output row of the column pass: o[j] = sum[j] / c for the chosen columns. */
static inline void col_out(const float *restrict sum, float *restrict o, uint32_t cols,
			   const uint32_t *list, uint32_t nlist, int c)
{
	if (is_pow2(c)) {
		const float inv = 1.0f / (float)c;
		if (list)
			for (uint32_t k = 0; k < nlist; k++)
				o[list[k]] = sum[k] * inv;
		else
			for (uint32_t j = 0; j < cols; j++)
				o[j] = sum[j] * inv;
	} else {
		const float fc = (float)c;
		if (list)
			for (uint32_t k = 0; k < nlist; k++)
				o[list[k]] = sum[k] / fc;
		else
			for (uint32_t j = 0; j < cols; j++)
				o[j] = sum[j] / fc;
	}
}

/* Four columns at a time through GCC/Clang vector types: lane-wise float adds,
 * subtracts, multiplies and divides are the scalar IEEE operations, so the bits are
 * those of the scalar loop. One full-window row: sum += r; sum -= l; o = sum / c. */
typedef float v4sf __attribute__((vector_size(16)));

static inline v4sf ld4(const float *p)
{
	v4sf v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void st4(float *p, v4sf v)
{
	memcpy(p, &v, sizeof v);
}

static void col_step(float *restrict sum, const float *restrict r, const float *restrict l,
		     float *restrict o, uint32_t n, int c)
{
	uint32_t j = 0;
	if (is_pow2(c)) {
		const float inv = 1.0f / (float)c;
		const v4sf vinv = {inv, inv, inv, inv};
		for (; j + 4 <= n; j += 4) {
			v4sf v = ld4(sum + j) + ld4(r + j);
			v = v - ld4(l + j);
			st4(sum + j, v);
			st4(o + j, v * vinv);
		}
		for (; j < n; j++) {
			sum[j] += r[j];
			sum[j] -= l[j];
			o[j] = sum[j] * inv;
		}
	} else {
		const float fc = (float)c;
		const v4sf vc = {fc, fc, fc, fc};
		for (; j + 4 <= n; j += 4) {
			v4sf v = ld4(sum + j) + ld4(r + j);
			v = v - ld4(l + j);
			st4(sum + j, v);
			st4(o + j, v / vc);
		}
		for (; j < n; j++) {
			sum[j] += r[j];
			sum[j] -= l[j];
			o[j] = sum[j] / fc;
		}
	}
}

/* The same pass down columns: column j sees exactly the operations box1DFloat would do
 * on it, but rows are walked in memory order. With list, only those nlist columns
 * (sum[k] belongs to column list[k]). */
static void box_cols(const float *in, float *out, uint32_t rows, uint32_t cols, uint32_t w,
		     float *restrict sum, const uint32_t *list, uint32_t nlist)
{
	uint32_t half = (w + 2) / 2;
	uint32_t p1 = half - 1, p2 = w - half + 1, p3 = rows - w, p4 = half - 1;
	const float *r = in, *l = in;
	float *o = out;
	uint32_t n = list ? nlist : cols;
	int cur = 0;

	for (uint32_t k = 0; k < n; k++)
		sum[k] = 0.0f;
	for (uint32_t i = 0; i < p1; i++, r += cols) {
		if (list)
			for (uint32_t k = 0; k < n; k++)
				sum[k] += r[list[k]];
		else
			for (uint32_t j = 0; j < n; j++)
				sum[j] += r[j];
		cur++;
	}
	for (uint32_t i = 0; i < p2; i++, r += cols, o += cols) {
		cur++;
		if (list)
			for (uint32_t k = 0; k < n; k++)
				sum[k] += r[list[k]];
		else
			for (uint32_t j = 0; j < n; j++)
				sum[j] += r[j];
		col_out(sum, o, cols, list, n, cur);
	}
	for (uint32_t i = 0; i < p3; i++, r += cols, l += cols, o += cols) {
		if (list) {
			for (uint32_t k = 0; k < n; k++) {
				sum[k] += r[list[k]];
				sum[k] -= l[list[k]];
			}
			col_out(sum, o, cols, list, n, cur);
		} else {
			col_step(sum, r, l, o, n, cur);
		}
	}
	for (uint32_t i = 0; i < p4; i++, l += cols, o += cols) {
		cur--;
		if (list)
			for (uint32_t k = 0; k < n; k++)
				sum[k] -= l[list[k]];
		else
			for (uint32_t j = 0; j < n; j++)
				sum[j] -= l[j];
		col_out(sum, o, cols, list, n, cur);
	}
}

static uint32_t decimate_index(int i, uint32_t n)
{
	return (uint32_t)(((i + 0.5) * n) / DS);
}

/* Two passes of rows-then-columns boxes (the reference's PDQ_NUM_JAROSZ_XY_PASSES is
 * 2); the result ends in buf1. Decimation then reads only DS columns, so the second
 * pass computes (and divides) only what those columns need: each column's sums are
 * independent of the others, so every value used is bit for bit the reference's. */
static void jarosz(float *buf1, float *buf2, uint32_t rows, uint32_t cols)
{
	uint32_t wr = jarosz_window(cols), wc = jarosz_window(rows);
	uint8_t keepbuf[KS_PDQ_RESIZE];
	float sumbuf[KS_PDQ_RESIZE];
	uint32_t list[DS], nlist = 0;
	uint8_t *keep = cols <= KS_PDQ_RESIZE ? keepbuf : ks_xmalloc(cols);
	float *sum = cols <= KS_PDQ_RESIZE ? sumbuf : ks_xmalloc(sizeof(float) * cols);

	memset(keep, 0, cols);
	for (int j = 0; j < DS; j++) {
		uint32_t c = decimate_index(j, cols);
		if (!keep[c])
			list[nlist++] = c;
		keep[c] = 1;
	}
	box_rows(buf1, buf2, rows, cols, wr, NULL);
	box_cols(buf2, buf1, rows, cols, wc, sum, NULL, 0);
	box_rows(buf1, buf2, rows, cols, wr, keep);
	box_cols(buf2, buf1, rows, cols, wc, sum, list, nlist);
	if (keep != keepbuf)
		free(keep);
	if (sum != sumbuf)
		free(sum);
}

static void decimate(const float *in, uint32_t rows, uint32_t cols, float out[DS][DS])
{
	for (int i = 0; i < DS; i++) {
		uint32_t ii = decimate_index(i, rows);
		for (int j = 0; j < DS; j++)
			out[i][j] = in[(size_t)ii * cols + decimate_index(j, cols)];
	}
}

static int quality_metric(float a[DS][DS])
{
	int sum = 0;
	for (int i = 0; i < DS - 1; i++)
		for (int j = 0; j < DS; j++) {
			float u = a[i][j], v = a[i + 1][j];
			int d = (int)(((u - v) * 100) / 255);
			sum += abs(d);
		}
	for (int i = 0; i < DS; i++)
		for (int j = 0; j < DS - 1; j++) {
			float u = a[i][j], v = a[i][j + 1];
			int d = (int)(((u - v) * 100) / 255);
			sum += abs(d);
		}
	int q = sum / 90;
	return q > 100 ? 100 : q;
}

/* D[i][j] = sqrt(2/64) * cos(pi/128 * (i+1) * (2j+1)): the scale factor is rounded to
 * float first, the product is taken in double and rounded to float (as upstream). */
static float dct_matrix[16][DS];
static int dct_ready;

static void dct_init(void)
{
	if (__atomic_load_n(&dct_ready, __ATOMIC_ACQUIRE))
		return;
	static float m[16][DS];
	const double pi = 3.14159265358979323846;
	const float scale = (float)sqrt(2.0 / 64.0);
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < DS; j++)
			m[i][j] = (float)((double)scale * cos((pi / 2.0 / 64.0) * (double)(i + 1) *
							      (double)(2 * j + 1)));
	/* Racing threads compute identical values; the copy is idempotent. */
	memcpy(dct_matrix, m, sizeof m);
	__atomic_store_n(&dct_ready, 1, __ATOMIC_RELEASE);
}

/* B = (D A) D^T with float sums in k order 0..63. */
static void dct64to16(float a[DS][DS], float b[16][16])
{
	float t[16][DS];
	dct_init();
	for (int i = 0; i < 16; i++) {
		const float *d = dct_matrix[i];
		float acc[DS];
		for (int j = 0; j < DS; j++)
			acc[j] = 0.0f;
		for (int k = 0; k < DS; k++) {
			float dk = d[k];
			for (int j = 0; j < DS; j++)
				acc[j] += dk * a[k][j];
		}
		memcpy(t[i], acc, sizeof acc);
	}
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++) {
			const float *d = dct_matrix[j];
			float s = 0.0f;
			for (int k = 0; k < DS; k++)
				s += t[i][k] * d[k];
			b[i][j] = s;
		}
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* The reference takes Torben's median, which for 256 values is the 128th smallest; any
 * exact selection of that order statistic gives the same value. */
static void to_bits(float b[16][16], struct ks_pdq_hash *h)
{
	float v[256];
	memcpy(v, b, sizeof v);
	qsort(v, 256, sizeof(float), cmp_float);
	float median = v[127];
	memset(h, 0, sizeof *h);
	const float *f = &b[0][0];
	for (int k = 0; k < 256; k++)
		if (f[k] > median)
			h->w[k >> 4] |= (uint16_t)(1u << (k & 15));
}

/* Each variant is a transpose and/or sign flips of the original DCT block. */
static void dihedral(float a[16][16], struct ks_pdq_hash out[KS_PDQ_NDIHEDRAL])
{
	float t[16][16];
	to_bits(a, &out[KS_PDQ_ORIG]);
	for (int v = KS_PDQ_ROT90; v < KS_PDQ_NDIHEDRAL; v++) {
		for (int i = 0; i < 16; i++)
			for (int j = 0; j < 16; j++) {
				float x = a[i][j];
				switch (v) {
				case KS_PDQ_ROT90:
					t[j][i] = (j & 1) ? x : -x;
					break;
				case KS_PDQ_ROT180:
					t[i][j] = ((i + j) & 1) ? -x : x;
					break;
				case KS_PDQ_ROT270:
					t[j][i] = (i & 1) ? x : -x;
					break;
				case KS_PDQ_FLIPX:
					t[i][j] = (i & 1) ? x : -x;
					break;
				case KS_PDQ_FLIPY:
					t[i][j] = (j & 1) ? x : -x;
					break;
				case KS_PDQ_FLIPPLUS1:
					t[j][i] = x;
					break;
				default: /* KS_PDQ_FLIPMINUS1 */
					t[j][i] = ((i + j) & 1) ? -x : x;
					break;
				}
			}
		to_bits(t, &out[v]);
	}
}

void ks_pdq_float_luma(float *luma, float *scratch, uint32_t rows, uint32_t cols, float out[256],
		       int *quality)
{
	float a[DS][DS], b[16][16];
	if (rows < KS_PDQ_MIN_DIM || cols < KS_PDQ_MIN_DIM) {
		memset(out, 0, sizeof(float) * 256);
		*quality = 0;
		return;
	}
	if (rows == DS && cols == DS) {
		memcpy(a, luma, sizeof a);
	} else {
		jarosz(luma, scratch, rows, cols);
		decimate(luma, rows, cols, a);
	}
	*quality = quality_metric(a);
	dct64to16(a, b);
	memcpy(out, b, sizeof b);
}

void ks_pdq_hash_luma(float *luma, float *scratch, uint32_t rows, uint32_t cols,
		      struct ks_pdq_hash *hash, struct ks_pdq_hash dih[KS_PDQ_NDIHEDRAL],
		      int *quality)
{
	float a[DS][DS], b[16][16];

	if (rows < KS_PDQ_MIN_DIM || cols < KS_PDQ_MIN_DIM) {
		if (hash)
			memset(hash, 0, sizeof *hash);
		if (dih)
			memset(dih, 0, sizeof(struct ks_pdq_hash) * KS_PDQ_NDIHEDRAL);
		*quality = 0;
		return;
	}
	/* The single-hash path copies a 64x64 input as is; the dihedral path of the
	 * reference has no such shortcut and always filters. */
	if (!dih && rows == DS && cols == DS) {
		memcpy(a, luma, sizeof a);
	} else {
		jarosz(luma, scratch, rows, cols);
		decimate(luma, rows, cols, a);
	}
	*quality = quality_metric(a);
	dct64to16(a, b);
	if (dih) {
		dihedral(b, dih);
		if (hash)
			*hash = dih[KS_PDQ_ORIG];
	} else {
		to_bits(b, hash);
	}
}
