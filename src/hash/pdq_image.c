/* PDQ of a picture: decoded rows stream into a sink that keeps only the pixels the
 * reference's 512x512 nearest-neighbour resize would keep, turns them into float luma
 * and hands them to the core. Exact mode reproduces the reference's pixels, including
 * the way ImageMagick's PNM output shapes them (grey pictures as PGM, low-depth BMPs
 * at their own range); fast mode lets the JPEG decoder work at reduced size (DCT
 * scaling) and samples the same 512x512 grid, in full-picture coordinates, from the
 * smaller picture. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/decode.h"
#include "kestrel/pdq.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define SIDE KS_PDQ_RESIZE

/* Fast mode asks the JPEG decoder for the smallest M/8 scale whose sides stay at or
 * above this many pixels (or at full size when already smaller): 4000x3000 -> 1/8,
 * 1600x1200 -> 3/8, 640x480 -> full. Tuned on the reference's test pictures and the
 * synthetic disk's: lower values drift further from exact mode (256 px pictures at
 * half size are 8-30 bits off). Colour is decoded too: a luma-only decode (the JPEG's
 * own Y plane) costs 1.5 bits more on average and saves little at 1/8 scale. */
#define FAST_MIN_SIDE 360

struct ks_pdq {
	struct ks_decoder *dec;
	float *luma;	/* SIDE*SIDE */
	float *scratch; /* SIDE*SIDE */
	uint8_t *px;	/* sampled pixels, SIDE*SIDE*3 */
	uint32_t xmap[SIDE], ymap[SIDE];
	/* sink state for one picture */
	uint32_t in_w; /* width of the delivered rows */
	uint32_t out_w, out_h;
	uint32_t next_row; /* next output row to fill */
	int channels;
	int depth;
	int all_grey; /* every pixel so far had R == G == B */
	int all_mono; /* ... and was 0 or 255 (checked only when depth < 8) */
	int reduced;  /* the decoder changed pixels (scaled or luma only) */
	const char *format;
	uint32_t full_w, full_h;
	struct ks_decode_limits limits;
};

struct ks_pdq *ks_pdq_new(void)
{
	struct ks_pdq *p = ks_xcalloc(1, sizeof *p);
	p->dec = ks_decoder_new();
	p->luma = ks_xmalloc(sizeof(float) * SIDE * SIDE);
	p->scratch = ks_xmalloc(sizeof(float) * SIDE * SIDE);
	p->px = ks_xmalloc((size_t)SIDE * SIDE * 3);
	p->limits = ks_decode_default_limits;
	return p;
}

void ks_pdq_set_limits(struct ks_pdq *p, const struct ks_decode_limits *limits)
{
	p->limits = limits ? *limits : ks_decode_default_limits;
}

void ks_pdq_free(struct ks_pdq *p)
{
	if (!p)
		return;
	ks_decoder_free(p->dec);
	free(p->luma);
	free(p->scratch);
	free(p->px);
	free(p);
}

/* Output geometry: the grid the reference hashes, in coordinates of the full-size
 * picture (fw x fh), mapped onto the w x h rows actually delivered. CImg's nearest
 * resize takes source index floor(x * fw / 512), top-left aligned. */
static void plan(struct ks_pdq *p, uint32_t fw, uint32_t fh, uint32_t w, uint32_t h)
{
	int resize = fw > SIDE || fh > SIDE;
	p->out_w = resize ? SIDE : fw;
	p->out_h = resize ? SIDE : fh;
	for (uint32_t x = 0; x < p->out_w; x++) {
		uint64_t xo = resize ? ((uint64_t)x * fw) >> 9 : x;
		/* the delivered pixel whose footprint holds the centre of full pixel xo */
		uint64_t xs = w == fw ? xo : ((2 * xo + 1) * w) / (2 * (uint64_t)fw);
		p->xmap[x] = (uint32_t)(xs < w ? xs : w - 1);
	}
	for (uint32_t y = 0; y < p->out_h; y++) {
		uint64_t yo = resize ? ((uint64_t)y * fh) >> 9 : y;
		uint64_t ys = h == fh ? yo : ((2 * yo + 1) * h) / (2 * (uint64_t)fh);
		p->ymap[y] = (uint32_t)(ys < h ? ys : h - 1);
	}
}

static int sink_begin(void *ctx, const struct ks_image_info *info, struct ks_err *err)
{
	struct ks_pdq *p = ctx;
	if (info->channels != 1 && info->channels != 3)
		return ks_err_set(err, KS_E_UNSUPPORTED, "pdq: %d channels", info->channels);
	if (!info->width || !info->height || info->width > info->full_width ||
	    info->height > info->full_height)
		return ks_err_set(err, KS_E_USAGE, "pdq: bad picture geometry");
	plan(p, info->full_width, info->full_height, info->width, info->height);
	p->in_w = info->width;
	p->format = info->format;
	p->full_w = info->full_width;
	p->full_h = info->full_height;
	p->reduced = info->luma_only || info->scale_num != info->scale_denom;
	p->channels = info->channels;
	p->depth = info->depth > 0 && info->depth < 8 ? info->depth : 8;
	p->all_grey = 1;
	p->all_mono = 1;
	p->next_row = 0;
	return 0;
}

static int row_is_grey(const uint8_t *row, uint32_t w)
{
	for (uint32_t x = 0; x < w; x++, row += 3)
		if (row[0] != row[1] || row[1] != row[2])
			return 0;
	return 1;
}

/* Every sample 0 or 255 (n samples). */
static int row_is_mono(const uint8_t *row, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (row[i] != 0 && row[i] != 255)
			return 0;
	return 1;
}

static int sink_rows(void *ctx, uint32_t y, uint32_t n, const uint8_t *pix, size_t stride,
		     struct ks_err *err)
{
	struct ks_pdq *p = ctx;
	const int ch = p->channels;
	const uint32_t *xm = p->xmap;
	for (uint32_t k = 0; k < n; k++, pix += stride) {
		uint32_t row = y + k;
		/* ImageMagick's PNM writer looks at every pixel, not just those kept */
		if (ch == 3 && p->all_grey && !row_is_grey(pix, p->in_w))
			p->all_grey = 0;
		if (p->depth < 8 && p->all_mono && !row_is_mono(pix, (size_t)p->in_w * ch))
			p->all_mono = 0;
		while (p->next_row < p->out_h && p->ymap[p->next_row] == row) {
			uint8_t *o = p->px + (size_t)p->next_row * p->out_w * ch;
			if (ch == 1) {
				for (uint32_t x = 0; x < p->out_w; x++)
					o[x] = pix[xm[x]];
			} else {
				for (uint32_t x = 0; x < p->out_w; x++, o += 3)
					memcpy(o, pix + 3 * (size_t)xm[x], 3);
			}
			p->next_row++;
		}
	}
	return 0;
}

/* ImageMagick writes a picture whose pixels are all grey as PGM, and the reference then
 * takes the grey value itself as luma (not 0.299 v + 0.587 v + 0.114 v, which can differ
 * in the last bit). A picture of depth d < 8 is written with samples scaled to 0 ..
 * 2^d - 1 (ScaleQuantumToAny, which truncates), unless it is black and white (then PBM: 0 and 255).
 */
static void make_luma(struct ks_pdq *p)
{
	uint8_t lut[256];
	size_t n = (size_t)p->out_w * p->out_h;
	for (unsigned v = 0; v < 256; v++)
		lut[v] = (uint8_t)v;
	if (p->depth < 8 && !(p->all_grey && p->all_mono)) {
		unsigned range = (1u << p->depth) - 1;
		for (unsigned v = 0; v < 256; v++)
			lut[v] = (uint8_t)(range * v / 255); /* truncated, as ImageMagick 6.9 */
	}
	if (p->channels == 1) {
		for (size_t i = 0; i < n; i++)
			p->luma[i] = (float)lut[p->px[i]];
	} else if (p->all_grey) {
		for (size_t i = 0; i < n; i++)
			p->luma[i] = (float)lut[p->px[3 * i]];
	} else {
		/* The reference's luma, 0.299f * R + 0.587f * G + 0.114f * B summed left to
		 * right in float: each product is rounded once whether it is computed per
		 * pixel or looked up, so tables give the same bits. */
		float tr[256], tg[256], tb[256];
		for (unsigned v = 0; v < 256; v++) {
			tr[v] = 0.299f * (float)lut[v];
			tg[v] = 0.587f * (float)lut[v];
			tb[v] = 0.114f * (float)lut[v];
		}
		for (size_t i = 0; i < n; i++) {
			const uint8_t *q = p->px + 3 * i;
			p->luma[i] = tr[q[0]] + tg[q[1]] + tb[q[2]];
		}
	}
}

static void finish(struct ks_pdq *p, struct ks_pdq_hash *hash,
		   struct ks_pdq_hash dih[KS_PDQ_NDIHEDRAL], int *quality)
{
	make_luma(p);
	ks_pdq_hash_luma(p->luma, p->scratch, p->out_h, p->out_w, hash, dih, quality);
}

int ks_pdq_hash_pixels(struct ks_pdq *p, const uint8_t *pix, uint32_t width, uint32_t height,
		       int channels, size_t stride, struct ks_pdq_hash *hash,
		       struct ks_pdq_hash dih[KS_PDQ_NDIHEDRAL], int *quality)
{
	struct ks_image_info info = {
	    .format = "pixels",
	    .width = width,
	    .height = height,
	    .full_width = width,
	    .full_height = height,
	    .channels = channels,
	    .scale_num = 1,
	    .scale_denom = 1,
	    .depth = 8,
	};
	if (!p || !pix || !width || !height || (!hash && !dih) || !quality ||
	    stride < (size_t)width * (size_t)(channels > 0 ? channels : 0))
		return KS_E_USAGE;
	if (sink_begin(p, &info, NULL))
		return KS_E_USAGE;
	if (sink_rows(p, 0, height, pix, stride, NULL))
		return KS_E_USAGE;
	finish(p, hash, dih, quality);
	return 0;
}

int ks_pdq_hash_image(struct ks_pdq *p, const uint8_t *data, size_t len, int mode, unsigned flags,
		      struct ks_pdq_result *res, struct ks_err *err)
{
	struct ks_pixel_sink sink = {.begin = sink_begin, .rows = sink_rows, .ctx = p};
	struct ks_decode_opts opts = {.flags = KS_DECODE_CIMG16};
	int rc;

	if (!p || !res || (!data && len) || (mode != KS_PDQ_EXACT && mode != KS_PDQ_FAST))
		return ks_err_set(err, KS_E_USAGE, "pdq: bad arguments");
	memset(res, 0, sizeof *res);
	opts.limits = &p->limits;
	if (mode == KS_PDQ_FAST) {
		opts.flags |= KS_DECODE_REDUCE;
		opts.min_side = FAST_MIN_SIDE;
	}
	p->out_w = p->out_h = p->next_row = 0;
	rc = ks_decoder_run(p->dec, data, len, &opts, &sink, err);
	if (rc)
		return rc;
	if (p->next_row != p->out_h)
		return ks_err_set(err, KS_E_EVIDENCE, "pdq: decoder delivered %u of %u rows",
				  p->next_row, p->out_h);
	finish(p, &res->hash, (flags & KS_PDQ_WANT_DIHEDRAL) ? res->dih : NULL, &res->quality);
	res->mode = p->reduced ? KS_PDQ_FAST : KS_PDQ_EXACT;
	res->format = p->format;
	res->width = p->full_w;
	res->height = p->full_h;
	return 0;
}
