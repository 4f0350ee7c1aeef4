/* Contact sheets (see video.h): sampled frames shrunk into tiles, thinned evenly so
 * memory stays bounded whatever the video's length, laid out in a grid with each
 * tile's time drawn in a small built-in font, and encoded as JPEG in memory with
 * libjpeg-turbo. A grader sees the video's content without playing it. */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "kestrel/video.h"

struct tile {
	uint8_t *rgb; /* tile_w * tile_h * 3 */
	double pts;
};

struct ks_contact {
	struct ks_contact_opts o;
	uint32_t tile_w, tile_h; /* fixed by the first frame's aspect ratio */
	struct tile *tiles;
	size_t n, cap;   /* cap = 2 * max_tiles */
	uint64_t offered; /* frames offered so far */
	uint64_t stride;  /* keep every stride-th offered frame */
};

struct ks_contact *ks_contact_new(const struct ks_contact_opts *opts)
{
	struct ks_contact *c = ks_xcalloc(1, sizeof *c);
	if (opts)
		c->o = *opts;
	if (!c->o.columns)
		c->o.columns = 4;
	if (!c->o.max_tiles)
		c->o.max_tiles = 24;
	if (c->o.max_tiles > 1024)
		c->o.max_tiles = 1024;
	if (!c->o.tile_width)
		c->o.tile_width = 240;
	if (c->o.tile_width < 32)
		c->o.tile_width = 32;
	if (c->o.tile_width > 1024)
		c->o.tile_width = 1024;
	if (c->o.quality <= 0 || c->o.quality > 100)
		c->o.quality = 80;
	c->cap = 2 * (size_t)c->o.max_tiles;
	c->tiles = ks_xcalloc(c->cap, sizeof *c->tiles);
	c->stride = 1;
	return c;
}

void ks_contact_free(struct ks_contact *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->tiles[i].rgb);
	free(c->tiles);
	free(c);
}

size_t ks_contact_count(const struct ks_contact *c)
{
	return c->n < c->o.max_tiles ? c->n : c->o.max_tiles;
}

/* Area-average resample of a 1- or 3-channel picture into an RGB tile (nearest
 * sample when enlarging). */
static void shrink(const struct ks_video_frame *f, uint8_t *dst, uint32_t tw, uint32_t th)
{
	int ch = f->channels;
	for (uint32_t y = 0; y < th; y++) {
		uint32_t y0 = (uint32_t)((uint64_t)y * f->height / th);
		uint32_t y1 = (uint32_t)((uint64_t)(y + 1) * f->height / th);
		if (y1 <= y0)
			y1 = y0 + 1;
		for (uint32_t x = 0; x < tw; x++) {
			uint32_t x0 = (uint32_t)((uint64_t)x * f->width / tw);
			uint32_t x1 = (uint32_t)((uint64_t)(x + 1) * f->width / tw);
			if (x1 <= x0)
				x1 = x0 + 1;
			uint64_t sum[3] = {0, 0, 0};
			for (uint32_t sy = y0; sy < y1; sy++) {
				const uint8_t *row = f->pix + (size_t)sy * f->stride;
				for (uint32_t sx = x0; sx < x1; sx++)
					for (int k = 0; k < 3; k++)
						sum[k] += row[(size_t)sx * ch + (ch == 3 ? k : 0)];
			}
			uint64_t cnt = (uint64_t)(y1 - y0) * (x1 - x0);
			uint8_t *o = dst + ((size_t)y * tw + x) * 3;
			for (int k = 0; k < 3; k++)
				o[k] = (uint8_t)((sum[k] + cnt / 2) / cnt);
		}
	}
}

int ks_contact_add(void *sheet, const struct ks_video_frame *f, struct ks_err *err)
{
	(void)err;
	struct ks_contact *c = sheet;
	if (!f->width || !f->height || (f->channels != 1 && f->channels != 3))
		return KS_OK;
	uint64_t k = c->offered++;
	if (k % c->stride)
		return KS_OK;
	if (!c->tile_w) {
		c->tile_w = c->o.tile_width;
		double th = (double)c->tile_w * f->height / f->width;
		c->tile_h = (uint32_t)fmin(fmax(lround(th), 16), 2.0 * c->tile_w);
	}
	if (c->n == c->cap) {
		/* Keep every other tile and every other future frame: the sheet stays
		 * evenly spread over everything offered. */
		size_t j = 0;
		for (size_t i = 0; i < c->n; i++) {
			if (i % 2 == 0)
				c->tiles[j++] = c->tiles[i];
			else
				free(c->tiles[i].rgb);
		}
		c->n = j;
		c->stride *= 2;
		if (k % c->stride)
			return KS_OK;
	}
	struct tile *t = &c->tiles[c->n++];
	t->rgb = ks_xmalloc((size_t)c->tile_w * c->tile_h * 3);
	t->pts = f->pts;
	shrink(f, t->rgb, c->tile_w, c->tile_h);
	return KS_OK;
}

/* ---- a 5x7 font for the time labels ---- */

static const uint8_t glyphs[][7] = {
	{0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, /* 0 */
	{0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}, /* 1 */
	{0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, /* 2 */
	{0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}, /* 3 */
	{0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, /* 4 */
	{0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}, /* 5 */
	{0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, /* 6 */
	{0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* 7 */
	{0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, /* 8 */
	{0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}, /* 9 */
	{0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}, /* : */
	{0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}, /* - */
};

static const uint8_t *glyph(char ch)
{
	if (ch >= '0' && ch <= '9')
		return glyphs[ch - '0'];
	if (ch == ':')
		return glyphs[10];
	if (ch == '-')
		return glyphs[11];
	return NULL;
}

static void fill_rect(uint8_t *img, uint32_t iw, uint32_t ih, uint32_t x, uint32_t y, uint32_t w,
		      uint32_t h, uint8_t v)
{
	for (uint32_t yy = y; yy < y + h && yy < ih; yy++)
		for (uint32_t xx = x; xx < x + w && xx < iw; xx++)
			memset(img + ((size_t)yy * iw + xx) * 3, v, 3);
}

/* Draws text with its bottom-left corner at (x, y_bottom) on a black box. */
static void draw_label(uint8_t *img, uint32_t iw, uint32_t ih, uint32_t x, uint32_t y_bottom,
		       const char *text, uint32_t scale)
{
	uint32_t n = (uint32_t)strlen(text);
	uint32_t cw = 6 * scale, chh = 7 * scale, pad = scale + 1;
	uint32_t bw = n * cw - scale + 2 * pad, bh = chh + 2 * pad;
	if (y_bottom < bh)
		return;
	uint32_t by = y_bottom - bh;
	fill_rect(img, iw, ih, x, by, bw, bh, 0);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *g = glyph(text[i]);
		if (!g)
			continue;
		for (uint32_t r = 0; r < 7; r++)
			for (uint32_t col = 0; col < 5; col++)
				if (g[r] & (0x10 >> col))
					fill_rect(img, iw, ih, x + pad + i * cw + col * scale,
						  by + pad + r * scale, scale, scale, 255);
	}
}

static void time_label(double t, char out[48])
{
	if (isnan(t) || t < 0) {
		snprintf(out, 48, "--:--");
		return;
	}
	long long s = t < 1e9 ? (long long)floor(t) : 999999999LL;
	snprintf(out, 48, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

/* ---- JPEG ---- */

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	unsigned char *mem; /* kept here (not in locals) so they survive the longjmp */
	unsigned long memlen;
};

static void jerr_exit(j_common_ptr cinfo)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	longjmp(e->jb, 1);
}

static void jerr_silent(j_common_ptr cinfo)
{
	(void)cinfo;
}

static int encode_jpeg(const uint8_t *rgb, uint32_t w, uint32_t h, int quality, struct ks_buf *out,
		       struct ks_err *err)
{
	struct jpeg_compress_struct c;
	struct jerr je;
	memset(&je, 0, sizeof je);
	c.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = jerr_exit;
	je.pub.output_message = jerr_silent;
	if (setjmp(je.jb)) {
		jpeg_destroy_compress(&c);
		free(je.mem);
		return ks_err_set(err, KS_E_ENV, "JPEG encoder failed");
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &je.mem, &je.memlen);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * w * 3);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	ks_buf_add(out, je.mem, je.memlen);
	jpeg_destroy_compress(&c);
	free(je.mem);
	return KS_OK;
}

int ks_contact_render(struct ks_contact *c, struct ks_buf *out, struct ks_err *err)
{
	const uint32_t gap = 4;
	uint32_t tw = c->tile_w ? c->tile_w : c->o.tile_width;
	uint32_t th = c->tile_h ? c->tile_h : tw * 3 / 4;
	size_t n = ks_contact_count(c);
	size_t shown = n ? n : 1;
	uint32_t cols = (uint32_t)(shown < c->o.columns ? shown : c->o.columns);
	uint32_t rows = (uint32_t)((shown + cols - 1) / cols);
	uint32_t iw = cols * tw + (cols + 1) * gap, ih = rows * th + (rows + 1) * gap;
	uint8_t *img = ks_xmalloc((size_t)iw * ih * 3);
	memset(img, 32, (size_t)iw * ih * 3);
	uint32_t scale = tw >= 160 ? 2 : 1;
	char label[48];
	for (size_t i = 0; i < shown; i++) {
		uint32_t x = gap + (uint32_t)(i % cols) * (tw + gap);
		uint32_t y = gap + (uint32_t)(i / cols) * (th + gap);
		if (!n) {
			fill_rect(img, iw, ih, x, y, tw, th, 128);
			time_label(NAN, label);
		} else {
			/* Evenly spread over the tiles held (which are evenly spread too). */
			const struct tile *t = &c->tiles[i * c->n / n];
			for (uint32_t r = 0; r < th; r++)
				memcpy(img + ((size_t)(y + r) * iw + x) * 3,
				       t->rgb + (size_t)r * tw * 3, (size_t)tw * 3);
			time_label(t->pts, label);
		}
		draw_label(img, iw, ih, x, y + th, label, scale);
	}
	int rc = encode_jpeg(img, iw, ih, c->o.quality, out, err);
	free(img);
	return rc;
}

int ks_video_contact_sheet(struct ks_video *v, const struct ks_video_sample_opts *opts,
			   const struct ks_contact_opts *copts, struct ks_buf *out,
			   struct ks_video_result *res, struct ks_err *err)
{
	struct ks_contact *c = ks_contact_new(copts);
	int rc = ks_video_sample(v, opts, ks_contact_add, c, res, err);
	if (rc == KS_OK)
		rc = ks_contact_render(c, out, err);
	ks_contact_free(c);
	return rc;
}
