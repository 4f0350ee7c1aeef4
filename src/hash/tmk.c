/* TMK+PDQF (see tmk.h): per frame, the PDQ float block of a 64x64 frame (PDQ's float
 * luma and DCT, kestrel's pdq.c); per video, the temporal match kernel features of
 * Poullot et al.: the frames' average, and for each period T and coefficient j the sums
 * of the L2-normalised frame features times cos(2 pi j t / T) and sin(...), then
 * normalised and weighted by the square roots of the kernel's Fourier coefficients.
 * The arithmetic is upstream's, type for type (float features, products with the
 * double cos/sin added into float sums in frame order), so equal frames give equal
 * bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/pdq.h"
#include "kestrel/tmk.h"

static const int32_t poullot_periods[KS_TMK_PERIODS] = {2731, 4391, 9767, 14653};

/* The kernel's Fourier coefficients (Poullot's, beta = 32): a0 = (I0(b) - e^-b) /
 * (2 sinh b), aj = Ij(b) / sinh b, with Ij the modified Bessel function of the first
 * kind, summed from its power series in long double (all terms positive). */
static long double bessel_i(int n, long double x)
{
	long double half = x / 2, term = 1, sum;
	for (int i = 1; i <= n; i++)
		term *= half / i;
	sum = term;
	for (int k = 1; k < 400; k++) {
		term *= half * half / ((long double)k * (k + n));
		sum += term;
		if (term < sum * 1e-22L)
			break;
	}
	return sum;
}

static void poullot_coefficients(float out[KS_TMK_COEFFS])
{
	const long double beta = 32;
	long double sh = sinhl(beta);
	out[0] = (float)(double)((bessel_i(0, beta) - expl(-beta)) / (2 * sh));
	for (int j = 1; j < KS_TMK_COEFFS; j++)
		out[j] = (float)(double)(bessel_i(j, beta) / sh);
}

struct ks_tmk *ks_tmk_new(void)
{
	struct ks_tmk *t = ks_xcalloc(1, sizeof *t);
	t->fps = KS_TMK_FPS;
	memcpy(t->periods, poullot_periods, sizeof t->periods);
	poullot_coefficients(t->coeffs);
	return t;
}

void ks_tmk_free(struct ks_tmk *t)
{
	free(t);
}

/* Upstream's vector helpers: float sums in index order, sqrt in float. */
static float norm_of(const float *v, int n)
{
	float s = 0;
	for (int i = 0; i < n; i++)
		s += v[i] * v[i];
	return sqrtf(s);
}

static void l2_normalize(float *v, int n)
{
	float nm = norm_of(v, n);
	if (nm > 0)
		for (int i = 0; i < n; i++)
			v[i] /= nm;
}

static float dot_of(const float *a, const float *b, int n)
{
	float s = 0;
	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

void ks_tmk_add_feature(struct ks_tmk *t, const float feature[KS_TMK_DIM])
{
	float nf[KS_TMK_DIM];
	int frame = t->frames;
	for (int k = 0; k < KS_TMK_DIM; k++)
		t->average[k] += feature[k];
	memcpy(nf, feature, sizeof nf);
	l2_normalize(nf, KS_TMK_DIM);
	for (int i = 0; i < KS_TMK_PERIODS; i++) {
		double period = (double)t->periods[i];
		for (int k = 0; k < KS_TMK_DIM; k++)
			t->cos_f[i][0][k] += nf[k];
		for (int j = 1; j < KS_TMK_COEFFS; j++) {
			double arg = 2.0 * M_PI * (double)j * (double)frame / period;
			double c = cos(arg), s = sin(arg);
			float *cf = t->cos_f[i][j], *sf = t->sin_f[i][j];
			/* float += float * double: the sum is taken in double, then rounded */
			for (int k = 0; k < KS_TMK_DIM; k++) {
				cf[k] = (float)((double)cf[k] + (double)nf[k] * c);
				sf[k] = (float)((double)sf[k] + (double)nf[k] * s);
			}
		}
	}
	t->frames++;
}

void ks_tmk_add_rgb(struct ks_tmk *t, const uint8_t *rgb, size_t stride)
{
	float luma[KS_TMK_SIDE * KS_TMK_SIDE], feature[KS_TMK_DIM];
	int quality;
	/* PDQ's luma: 0.299 R + 0.587 G + 0.114 B, float coefficients, summed in order. */
	const float cr = 0.299f, cg = 0.587f, cb = 0.114f;
	for (int y = 0; y < KS_TMK_SIDE; y++) {
		const uint8_t *p = rgb + (size_t)y * stride;
		for (int x = 0; x < KS_TMK_SIDE; x++, p += 3)
			luma[y * KS_TMK_SIDE + x] =
			    cr * (float)p[0] + cg * (float)p[1] + cb * (float)p[2];
	}
	/* 64x64 is taken as is: no scratch is touched. */
	ks_pdq_float_luma(luma, luma, KS_TMK_SIDE, KS_TMK_SIDE, feature, &quality);
	ks_tmk_add_feature(t, feature);
}

void ks_tmk_finish(struct ks_tmk *t)
{
	if (t->finished)
		return;
	t->finished = 1;
	if (t->frames <= 0)
		return;
	for (int k = 0; k < KS_TMK_DIM; k++)
		t->average[k] /= (float)t->frames;
	for (int i = 0; i < KS_TMK_PERIODS; i++)
		for (int j = 0; j < KS_TMK_COEFFS; j++) {
			float w = sqrtf(t->coeffs[j]);
			l2_normalize(t->cos_f[i][j], KS_TMK_DIM);
			l2_normalize(t->sin_f[i][j], KS_TMK_DIM);
			for (int k = 0; k < KS_TMK_DIM; k++) {
				t->cos_f[i][j][k] *= w;
				t->sin_f[i][j][k] *= w;
			}
		}
}

/* ---- the file format ------------------------------------------------------------------ */

static void put32(struct ks_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	ks_buf_add(b, x, 4);
}

static void put_floats(struct ks_buf *b, const float *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &f[i], 4);
		put32(b, u);
	}
}

void ks_tmk_write(const struct ks_tmk *t, struct ks_buf *out)
{
	ks_buf_add(out, "TMK1FVECPDQF", 12);
	put32(out, (uint32_t)t->fps);
	put32(out, KS_TMK_PERIODS);
	put32(out, KS_TMK_COEFFS);
	put32(out, KS_TMK_DIM);
	put32(out, (uint32_t)t->frames);
	for (int i = 0; i < KS_TMK_PERIODS; i++)
		put32(out, (uint32_t)t->periods[i]);
	put_floats(out, t->coeffs, KS_TMK_COEFFS);
	put_floats(out, t->average, KS_TMK_DIM);
	put_floats(out, &t->cos_f[0][0][0], sizeof t->cos_f / sizeof(float));
	put_floats(out, &t->sin_f[0][0][0], sizeof t->sin_f / sizeof(float));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void get_floats(const uint8_t *p, float *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u = get32(p + 4 * i);
		memcpy(&f[i], &u, 4);
	}
}

int ks_tmk_read(const uint8_t *data, size_t len, struct ks_tmk *t, struct ks_err *err)
{
	if (len < 32 || memcmp(data, "TMK1FVEC", 8) != 0)
		return ks_err_set(err, KS_E_FORMAT, "tmk: not a TMK feature-vector file");
	if (memcmp(data + 8, "PDQF", 4) != 0)
		return ks_err_set(err, KS_E_FORMAT, "tmk: frame features are not PDQF");
	if (get32(data + 16) != KS_TMK_PERIODS || get32(data + 20) != KS_TMK_COEFFS ||
	    get32(data + 24) != KS_TMK_DIM)
		return ks_err_set(
		    err, KS_E_FORMAT,
		    "tmk: %u periods, %u coefficients, %u dimensions (expected %d, %d, %d)",
		    get32(data + 16), get32(data + 20), get32(data + 24), KS_TMK_PERIODS,
		    KS_TMK_COEFFS, KS_TMK_DIM);
	if (len != KS_TMK_FILE_BYTES)
		return ks_err_set(err, KS_E_FORMAT, "tmk: %zu bytes, expected %d", len,
				  KS_TMK_FILE_BYTES);
	if (get32(data + 12) > 1000 || get32(data + 28) > INT32_MAX)
		return ks_err_set(err, KS_E_FORMAT, "tmk: bad frame rate or frame count");
	memset(t, 0, sizeof *t);
	t->fps = (int32_t)get32(data + 12);
	t->frames = (int32_t)get32(data + 28);
	const uint8_t *p = data + 32;
	for (int i = 0; i < KS_TMK_PERIODS; i++, p += 4) {
		uint32_t v = get32(p);
		if (v == 0 || v > 1000000)
			return ks_err_set(err, KS_E_FORMAT, "tmk: period %d is %u", i, v);
		t->periods[i] = (int32_t)v;
	}
	get_floats(p, t->coeffs, KS_TMK_COEFFS);
	p += 4 * KS_TMK_COEFFS;
	get_floats(p, t->average, KS_TMK_DIM);
	p += 4 * KS_TMK_DIM;
	get_floats(p, &t->cos_f[0][0][0], sizeof t->cos_f / sizeof(float));
	p += sizeof t->cos_f;
	get_floats(p, &t->sin_f[0][0][0], sizeof t->sin_f / sizeof(float));
	t->finished = 1;
	return KS_OK;
}

/* ---- scores ---------------------------------------------------------------------------- */

double ks_tmk_level1_avg(const float a[KS_TMK_DIM], const float b[KS_TMK_DIM])
{
	float na = norm_of(a, KS_TMK_DIM), nb = norm_of(b, KS_TMK_DIM);
	if (na == 0 || nb == 0)
		return 0;
	return dot_of(a, b, KS_TMK_DIM) / (na * nb);
}

double ks_tmk_level1(const struct ks_tmk *a, const struct ks_tmk *b)
{
	return ks_tmk_level1_avg(a->average, b->average);
}

double ks_tmk_level2(const struct ks_tmk *a, const struct ks_tmk *b)
{
	/* The kernel at alignment: a0 + 2 (a1 + ... ), as upstream normalises. */
	float norm = a->coeffs[0];
	for (int j = 1; j < KS_TMK_COEFFS; j++)
		norm += 2.0f * a->coeffs[j];
	double best = -INFINITY;
	for (int i = 0; i < KS_TMK_PERIODS; i++) {
		float cc[KS_TMK_COEFFS], ss[KS_TMK_COEFFS], sc[KS_TMK_COEFFS], cs[KS_TMK_COEFFS];
		for (int j = 0; j < KS_TMK_COEFFS; j++) {
			cc[j] = dot_of(a->cos_f[i][j], b->cos_f[i][j], KS_TMK_DIM);
			ss[j] = dot_of(a->sin_f[i][j], b->sin_f[i][j], KS_TMK_DIM);
			sc[j] = dot_of(a->sin_f[i][j], b->cos_f[i][j], KS_TMK_DIM);
			cs[j] = dot_of(a->cos_f[i][j], b->sin_f[i][j], KS_TMK_DIM);
		}
		int period = a->periods[i];
		float top = -INFINITY;
		/* Every offset modulo the period; cos/sin of j*delta by the recurrence
		 * upstream uses (numerically the same kernel). */
		for (int off = 0; off < period; off++) {
			double delta = 2.0 * M_PI * (double)off / (double)period;
			double k = cc[0], cj = 1, sj = 0;
			double beta = sin(delta), alpha = sin(delta / 2);
			alpha = 2 * alpha * alpha;
			for (int j = 1; j < KS_TMK_COEFFS; j++) {
				double nc = alpha * cj + beta * sj, ns = alpha * sj - beta * cj;
				cj -= nc;
				sj -= ns;
				k += cj * (cc[j] + ss[j]) + sj * (sc[j] - cs[j]);
			}
			if (off == 0 || k > top)
				top = (float)k;
		}
		if (top > best)
			best = top;
	}
	return norm > 0 ? best / norm : 0;
}
