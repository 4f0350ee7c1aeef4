/* PNG decoder over libpng: every bit depth and colour type, delivered as 8-bit grey or
 * RGB with alpha dropped (not composited) and palettes expanded, as ImageMagick's
 * `convert FILE pnm:-` gives them. 16-bit samples become 8 bits as ImageMagick scales
 * them, or keep their low byte with KS_DECODE_CIMG16 (what the PDQ reference hashes).
 * Non-interlaced pictures stream row by row; interlaced ones need a whole-frame buffer. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "decode_impl.h"

/* Largest ancillary chunk libpng may allocate (iCCP, zTXt, ...). */
#define PNG_CHUNK_MAX (8u << 20)

struct pstate {
	const uint8_t *data;
	size_t len, pos;
	struct ks_err *err;
	int status;
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct pstate *s = png_get_error_ptr(png);
	if (!s->status)
		s->status = ks_err_set(s->err, KS_E_EVIDENCE, "png: %s", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void on_read(png_structp png, png_bytep out, size_t n)
{
	struct pstate *s = png_get_io_ptr(png);
	if (n > s->len - s->pos) {
		s->status = ks_err_set(s->err, KS_E_EVIDENCE, "png: truncated at byte %zu", s->len);
		png_error(png, "truncated");
	}
	memcpy(out, s->data + s->pos, n);
	s->pos += n;
}

static int png_probe(const uint8_t *p, size_t n)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	return n >= 8 && memcmp(p, sig, 8) == 0;
}

/* ImageMagick's ScaleQuantumToChar for 16-bit quanta. */
static inline uint8_t scale16(unsigned hi, unsigned lo)
{
	unsigned q = hi << 8 | lo;
	return (uint8_t)(((q + 128u) - ((q + 128u) >> 8)) >> 8);
}

/* One libpng output row (nch channels of 1 or 2 bytes) to 8-bit grey or RGB. */
static void convert_row(const uint8_t *in, uint8_t *out, uint32_t w, int nch, int bytes,
			int low_byte)
{
	int keep = nch >= 3 ? 3 : 1;
	for (uint32_t x = 0; x < w; x++) {
		for (int c = 0; c < keep; c++) {
			const uint8_t *s = in + (size_t)c * bytes;
			if (bytes == 1)
				out[c] = s[0];
			else
				out[c] = low_byte ? s[1] : scale16(s[0], s[1]);
		}
		in += (size_t)nch * bytes;
		out += keep;
	}
}

static int png_run(png_structp const png, png_infop const info, struct pstate *const s,
		   struct ks_decoder *const d, const struct ks_decode_opts *const opts,
		   const struct ks_pixel_sink *const sink, struct ks_err *const err)
{
	int rc = 0;
	png_bytep *volatile rowptrs = NULL;

	if (setjmp(png_jmpbuf(png))) {
		rc = s->status < 0 ? s->status : KS_E_EVIDENCE;
		goto out;
	}
	png_read_info(png, info);
	png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
	int depth = png_get_bit_depth(png, info), ctype = png_get_color_type(png, info);
	int interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;

	if (ctype == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	else if ((ctype & PNG_COLOR_MASK_COLOR) == 0 && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (interlaced)
		png_set_interlace_handling(png);
	png_read_update_info(png, info);

	int nch = png_get_channels(png, info);
	int bytes = png_get_bit_depth(png, info) == 16 ? 2 : 1;
	size_t inrow = (size_t)w * (size_t)nch * (size_t)bytes;
	int outch = nch >= 3 ? 3 : 1;
	size_t outrow = (size_t)w * (size_t)outch;
	uint64_t mem = (uint64_t)inrow + outrow + (interlaced ? (uint64_t)inrow * h + 8ull * h : 0);
	rc = ks_decode_check(opts, "png", w, h, mem, err);
	if (rc)
		goto out;
	/* Deflate expands at most 1032:1, so a header that declares more filtered bytes
	 * than the file could hold is hostile or truncated: refuse before allocating. */
	uint64_t raw = ((uint64_t)png_get_rowbytes(png, info) + 1) * h;
	if (raw / 1032 > (uint64_t)s->len) {
		rc = ks_err_set(
		    err, KS_E_EVIDENCE,
		    "png: %ux%u needs %llu bytes of pixel data, more than %zu bytes can hold", w, h,
		    (unsigned long long)raw, s->len);
		goto out;
	}
	if (png_get_rowbytes(png, info) > inrow) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "png: unexpected row size");
		goto out;
	}

	struct ks_image_info ii = {
	    .format = "png",
	    .width = w,
	    .height = h,
	    .full_width = w,
	    .full_height = h,
	    .channels = outch,
	    .scale_num = 1,
	    .scale_denom = 1,
	    .depth = 8,
	};
	rc = sink->begin(sink->ctx, &ii, err);
	if (rc)
		goto out;

	int low = opts && (opts->flags & KS_DECODE_CIMG16);
	uint8_t *out = ks_decode_grow(&d->row, outrow + (interlaced ? 0 : inrow));
	if (interlaced) {
		uint8_t *frame = ks_decode_grow(&d->work, inrow * h);
		rowptrs = ks_xmalloc(sizeof(png_bytep) * h);
		for (png_uint_32 y = 0; y < h; y++)
			rowptrs[y] = frame + (size_t)y * inrow;
		png_read_image(png, rowptrs);
		for (png_uint_32 y = 0; y < h; y++) {
			convert_row(rowptrs[y], out, w, nch, bytes, low);
			rc = sink->rows(sink->ctx, y, 1, out, outrow, err);
			if (rc)
				goto out;
		}
	} else {
		uint8_t *in = out + outrow;
		for (png_uint_32 y = 0; y < h; y++) {
			png_read_row(png, in, NULL);
			convert_row(in, out, w, nch, bytes, low);
			rc = sink->rows(sink->ctx, y, 1, out, outrow, err);
			if (rc)
				goto out;
		}
	}
out:
	free(rowptrs);
	return rc;
}

static int png_decode(struct ks_decoder *d, void **slot, const uint8_t *data, size_t len,
		      const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		      struct ks_err *err)
{
	struct pstate s = {.data = data, .len = len, .err = err};
	const struct ks_decode_limits *lim = ks_decode_limits_of(opts);
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	int rc;

	(void)slot;
	if (!info) {
		rc = ks_err_set(err, KS_E_ENV, "png: cannot create the decoder");
		goto out;
	}
	png_set_read_fn(png, &s, on_read);
	png_set_user_limits(png, lim->max_side, lim->max_side);
	png_set_chunk_malloc_max(png, PNG_CHUNK_MAX);
	png_set_chunk_cache_max(png, 1000);
	rc = png_run(png, info, &s, d, opts, sink, err);
out:
	png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
	return rc;
}

const struct ks_decoder_ops ks_decode_png_ops = {
    .name = "png",
    .probe = png_probe,
    .decode = png_decode,
    .state_free = NULL,
};
