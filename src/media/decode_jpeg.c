/* JPEG decoder over libjpeg-turbo. By default it is the library's default decode (ISLOW
 * IDCT, fancy upsampling), which is byte for byte what ImageMagick and hence the PDQ
 * reference see; CMYK/YCCK is turned into RGB as ImageMagick does. On request it
 * decodes at M/8 size through DCT scaling, delivers only the Y plane, or uses the fast
 * IDCT. One decompressor is kept per ks_decoder and reused. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "decode_impl.h"

/* A progressive picture with more scans than this is hostile (each scan re-walks the
 * whole coefficient buffer). */
#define MAX_SCANS 500

struct jstate {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr jerr;
	struct jpeg_progress_mgr progress;
	jmp_buf jmp;
	struct ks_err *err;
	int status; /* set by on_error, survives a NULL err */
	int truncated;
	int too_many_scans;
};

static void on_error(j_common_ptr c)
{
	struct jstate *s = (struct jstate *)c;
	char msg[JMSG_LENGTH_MAX];
	c->err->format_message(c, msg);
	if (s->too_many_scans)
		s->status = ks_err_set(s->err, KS_E_LIMIT, "jpeg: more than %d scans", MAX_SCANS);
	else if (c->err->msg_code == JERR_NO_BACKING_STORE ||
		 c->err->msg_code == JERR_OUT_OF_MEMORY)
		s->status = ks_err_set(s->err, KS_E_LIMIT, "jpeg: over the memory limit (%s)", msg);
	else
		s->status = ks_err_set(s->err, KS_E_EVIDENCE, "jpeg: %s", msg);
	longjmp(s->jmp, 1);
}

static void on_message(j_common_ptr c, int level)
{
	struct jstate *s = (struct jstate *)c;
	/* Warnings (level -1) are tolerated as ImageMagick tolerates them, except running
	 * out of data (end of file, or a marker where entropy-coded data should go): a
	 * truncated picture is reported, not hashed half grey, and a huge frame declared
	 * over a little data stops where the data does. */
	if (level < 0 && (c->err->msg_code == JWRN_JPEG_EOF || c->err->msg_code == JWRN_HIT_MARKER))
		s->truncated = 1;
}

static void on_progress(j_common_ptr c)
{
	struct jstate *s = (struct jstate *)c;
	j_decompress_ptr d = (j_decompress_ptr)c;
	if (d->input_scan_number > MAX_SCANS) {
		s->too_many_scans = 1;
		ERREXIT(c, JERR_NOT_COMPILED); /* any code: on_error reports too_many_scans */
	}
}

static void jstate_free(void *p)
{
	struct jstate *s = p;
	if (!s)
		return;
	jpeg_destroy_decompress(&s->cinfo);
	free(s);
}

static struct jstate *jstate_get(void **slot)
{
	struct jstate *s = *slot;
	if (s)
		return s;
	s = ks_xcalloc(1, sizeof *s);
	s->cinfo.err = jpeg_std_error(&s->jerr);
	s->jerr.error_exit = on_error;
	s->jerr.emit_message = on_message;
	jpeg_create_decompress(&s->cinfo);
	s->progress.progress_monitor = on_progress;
	s->cinfo.progress = &s->progress;
	*slot = s;
	return s;
}

static int jpeg_probe(const uint8_t *p, size_t n)
{
	return n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF;
}

/* ImageMagick reads CMYK samples as stored (Adobe-inverted) and turns them into RGB
 * with R = QuantumRange - (C*(QR-K)/QR + K) in 16 bits, then scales to 8 bits; that
 * equals round(c * k / 255) on the stored bytes, checked exhaustively. */
static void cmyk_to_rgb(uint8_t *row, uint32_t w)
{
	const uint8_t *in = row;
	uint8_t *out = row;
	for (uint32_t x = 0; x < w; x++, in += 4, out += 3) {
		unsigned k = in[3];
		uint8_t r = (uint8_t)((in[0] * k + 127) / 255);
		uint8_t g = (uint8_t)((in[1] * k + 127) / 255);
		uint8_t b = (uint8_t)((in[2] * k + 127) / 255);
		out[0] = r;
		out[1] = g;
		out[2] = b;
	}
}

/* Working memory libjpeg will take: coefficient buffers for every component when the
 * whole picture must be buffered (progressive, multi-scan), plus rows. */
static uint64_t jpeg_mem_estimate(j_decompress_ptr c)
{
	uint64_t mem = (uint64_t)c->image_width * 4 * 64;
	if (c->progressive_mode || jpeg_has_multiple_scans(c)) {
		for (int i = 0; i < c->num_components; i++) {
			jpeg_component_info *ci = &c->comp_info[i];
			uint64_t bw = ((uint64_t)c->image_width * ci->h_samp_factor +
				       8 * c->max_h_samp_factor - 1) /
				      (8 * (uint64_t)c->max_h_samp_factor);
			uint64_t bh = ((uint64_t)c->image_height * ci->v_samp_factor +
				       8 * c->max_v_samp_factor - 1) /
				      (8 * (uint64_t)c->max_v_samp_factor);
			mem += (bw + 2) * (bh + 2) * 128;
		}
	}
	return mem;
}

/* The part under setjmp: a separate function so that nothing it keeps in registers
 * was assigned after setjmp. */
static int jpeg_run(struct jstate *const s, struct ks_decoder *const d, const uint8_t *data,
		    size_t len, const struct ks_decode_opts *const opts,
		    const struct ks_pixel_sink *const sink, struct ks_err *const err)
{
	j_decompress_ptr const c = &s->cinfo;
	unsigned flags = opts ? opts->flags : 0;
	int rc = 0;

	s->err = err;
	s->status = 0;
	s->truncated = 0;
	s->too_many_scans = 0;
	if (setjmp(s->jmp)) {
		rc = s->status < 0 ? s->status : KS_E_EVIDENCE;
		goto out;
	}
	c->mem->max_memory_to_use = (long)ks_decode_limits_of(opts)->max_mem;
	jpeg_mem_src(c, data, (unsigned long)len);
	if (jpeg_read_header(c, TRUE) != JPEG_HEADER_OK) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "jpeg: no image in the stream");
		goto out;
	}
	if (s->truncated) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "jpeg: truncated in the header");
		goto out;
	}
	uint64_t mem = jpeg_mem_estimate(c);
	rc = ks_decode_check(opts, "jpeg", c->image_width, c->image_height, mem, err);
	if (rc)
		goto out;
	/* A multi-scan picture buffers every coefficient before the first row comes out.
	 * Past 256 MiB, ask for at least one byte of file per KiB of buffer, so that a
	 * header on a few bytes cannot make us take hundreds of megabytes. */
	if (mem > (256ull << 20) && mem / 1024 > (uint64_t)len) {
		rc = ks_err_set(err, KS_E_EVIDENCE,
				"jpeg: %ux%u multi-scan picture on only %zu bytes", c->image_width,
				c->image_height, len);
		goto out;
	}

	int cmyk = 0;
	switch (c->jpeg_color_space) {
	case JCS_GRAYSCALE:
		c->out_color_space = JCS_GRAYSCALE;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		c->out_color_space = JCS_CMYK;
		cmyk = 1;
		break;
	case JCS_YCbCr:
	case JCS_RGB:
		c->out_color_space = (flags & KS_DECODE_LUMA) ? JCS_GRAYSCALE : JCS_RGB;
		break;
	default:
		rc = ks_err_set(err, KS_E_UNSUPPORTED, "jpeg: colour space %d with %d components",
				(int)c->jpeg_color_space, c->num_components);
		goto out;
	}
	if (flags & KS_DECODE_FAST) {
		c->dct_method = JDCT_IFAST;
		c->do_fancy_upsampling = FALSE;
	}
	c->scale_num = 8;
	c->scale_denom = 8;
	if ((flags & KS_DECODE_REDUCE) && opts->min_side) {
		/* a side already under min_side may not shrink at all */
		uint64_t mw = c->image_width < opts->min_side ? c->image_width : opts->min_side;
		uint64_t mh = c->image_height < opts->min_side ? c->image_height : opts->min_side;
		for (unsigned m = 1; m < 8; m++) {
			uint64_t w = ((uint64_t)c->image_width * m + 7) / 8;
			uint64_t h = ((uint64_t)c->image_height * m + 7) / 8;
			if (w >= mw && h >= mh) {
				c->scale_num = m;
				break;
			}
		}
	}
	if (!jpeg_start_decompress(c)) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "jpeg: cannot start decompression");
		goto out;
	}

	struct ks_image_info info = {
	    .format = "jpeg",
	    .width = c->output_width,
	    .height = c->output_height,
	    .full_width = c->image_width,
	    .full_height = c->image_height,
	    .channels = cmyk ? 3 : c->output_components,
	    .scale_num = c->scale_num,
	    .scale_denom = c->scale_denom,
	    .depth = 8,
	    .luma_only =
		c->out_color_space == JCS_GRAYSCALE && c->jpeg_color_space != JCS_GRAYSCALE,
	};
	if (info.channels != 1 && info.channels != 3) {
		rc = ks_err_set(err, KS_E_UNSUPPORTED, "jpeg: %d output components", info.channels);
		goto out;
	}
	rc = sink->begin(sink->ctx, &info, err);
	if (rc)
		goto out;

	unsigned nrows = c->rec_outbuf_height > 0 ? (unsigned)c->rec_outbuf_height : 1;
	JSAMPROW rows[16];
	if (nrows > 16)
		nrows = 16;
	size_t stride = (size_t)c->output_width * (size_t)c->output_components;
	uint8_t *buf = ks_decode_grow(&d->row, stride * nrows);
	for (unsigned k = 0; k < nrows; k++)
		rows[k] = buf + k * stride;

	while (c->output_scanline < c->output_height) {
		uint32_t y = c->output_scanline;
		JDIMENSION got = jpeg_read_scanlines(c, rows, nrows);
		if (s->truncated) {
			rc = ks_err_set(err, KS_E_EVIDENCE, "jpeg: truncated at row %u of %u", y,
					c->output_height);
			goto out;
		}
		if (got == 0) {
			rc = ks_err_set(err, KS_E_EVIDENCE, "jpeg: no rows decoded at row %u", y);
			goto out;
		}
		if (cmyk)
			for (JDIMENSION k = 0; k < got; k++)
				cmyk_to_rgb(rows[k], c->output_width);
		rc = sink->rows(sink->ctx, y, got, buf, stride, err);
		if (rc)
			goto out;
	}
out:
	/* Never jpeg_finish_decompress: the tail after the last row is not needed. */
	jpeg_abort_decompress(c);
	s->err = NULL;
	return rc;
}

static int jpeg_decode(struct ks_decoder *d, void **slot, const uint8_t *data, size_t len,
		       const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		       struct ks_err *err)
{
	return jpeg_run(jstate_get(slot), d, data, len, opts, sink, err);
}

const struct ks_decoder_ops ks_decode_jpeg_ops = {
    .name = "jpeg",
    .probe = jpeg_probe,
    .decode = jpeg_decode,
    .state_free = jstate_free,
};
