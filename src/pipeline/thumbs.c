/* Review previews made by the scan's workers: pictures are decoded at reduced size
 * (JPEG through DCT scaling), box-averaged on the fly into a preview of at most
 * KS_THUMB_SIDE pixels, turned upright by their EXIF orientation and encoded as JPEG;
 * their PDQ (fast mode) is computed beside. (A video's contact sheet is made by
 * vscan.c, from the frames vPDQ samples.) Decoders are kept per worker thread and
 * freed when the thread ends. */
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "kestrel/decode.h"
#include "kestrel/exif.h"
#include "kestrel/index.h"
#include "kestrel/media.h"
#include "kestrel/pdq.h"
#include "kestrel/store_review.h"
#include "thumbs.h"

#define THUMB_QUALITY 75

struct ks_thumb {
	struct ks_preview p;
	struct ks_buf jpeg;
	char note[600];
};

/* ---- per-thread workers' state ------------------------------------------------------ */

struct tstate {
	struct ks_decoder *dec;
	struct ks_pdq *pdq;
};

static pthread_key_t tkey;
static pthread_once_t tonce = PTHREAD_ONCE_INIT;

static void tstate_free(void *p)
{
	struct tstate *t = p;
	if (!t)
		return;
	ks_decoder_free(t->dec);
	ks_pdq_free(t->pdq);
	free(t);
}

static void tkey_make(void)
{
	if (pthread_key_create(&tkey, tstate_free) != 0)
		abort(); /* out of keys: the process cannot run the scan */
}

static struct tstate *tstate_get(void)
{
	pthread_once(&tonce, tkey_make);
	struct tstate *t = pthread_getspecific(tkey);
	if (!t) {
		t = ks_xcalloc(1, sizeof *t);
		t->dec = ks_decoder_new();
		t->pdq = ks_pdq_new();
		pthread_setspecific(tkey, t);
	}
	return t;
}

/* ---- streaming box downscale ---------------------------------------------------------- */

struct shrink {
	uint32_t sw, sh, tw, th;
	int ch;
	uint32_t cur; /* destination row being summed */
	uint32_t *sum, *count;
	uint8_t *out; /* th rows of tw * ch */
};

static int shrink_begin(void *ctx, const struct ks_image_info *info, struct ks_err *err)
{
	struct shrink *s = ctx;
	if (!info->width || !info->height || (info->channels != 1 && info->channels != 3))
		return ks_err_set(err, KS_E_UNSUPPORTED, "preview: %u channels", info->channels);
	s->sw = info->width;
	s->sh = info->height;
	s->ch = info->channels;
	uint32_t longer = s->sw > s->sh ? s->sw : s->sh;
	if (longer <= KS_THUMB_SIDE) {
		s->tw = s->sw;
		s->th = s->sh;
	} else {
		s->tw = (uint32_t)((uint64_t)s->sw * KS_THUMB_SIDE / longer);
		s->th = (uint32_t)((uint64_t)s->sh * KS_THUMB_SIDE / longer);
		s->tw = s->tw ? s->tw : 1;
		s->th = s->th ? s->th : 1;
	}
	s->sum = ks_xcalloc((size_t)s->tw * (size_t)s->ch, sizeof *s->sum);
	s->count = ks_xcalloc(s->tw, sizeof *s->count);
	s->out = ks_xcalloc((size_t)s->tw * s->th, (size_t)s->ch);
	s->cur = 0;
	return KS_OK;
}

static void shrink_flush(struct shrink *s)
{
	uint8_t *row = s->out + (size_t)s->cur * s->tw * (size_t)s->ch;
	for (uint32_t x = 0; x < s->tw; x++) {
		uint32_t n = s->count[x] ? s->count[x] : 1;
		for (int c = 0; c < s->ch; c++)
			row[x * (uint32_t)s->ch + (uint32_t)c] =
			    (uint8_t)((s->sum[x * (uint32_t)s->ch + (uint32_t)c] + n / 2) / n);
	}
	memset(s->sum, 0, (size_t)s->tw * (size_t)s->ch * sizeof *s->sum);
	memset(s->count, 0, s->tw * sizeof *s->count);
}

static int shrink_rows(void *ctx, uint32_t y, uint32_t n, const uint8_t *pix, size_t stride,
		       struct ks_err *err)
{
	struct shrink *s = ctx;
	for (uint32_t r = 0; r < n; r++) {
		uint32_t sy = y + r;
		if (sy >= s->sh)
			break;
		uint32_t dy = (uint32_t)((uint64_t)sy * s->th / s->sh);
		if (dy != s->cur) {
			shrink_flush(s);
			s->cur = dy;
		}
		const uint8_t *p = pix + (size_t)r * stride;
		for (uint32_t x = 0; x < s->sw; x++) {
			uint32_t dx = (uint32_t)((uint64_t)x * s->tw / s->sw);
			s->count[dx]++;
			for (int c = 0; c < s->ch; c++)
				s->sum[dx * (uint32_t)s->ch + (uint32_t)c] +=
				    p[x * (uint32_t)s->ch + (uint32_t)c];
		}
	}
	return KS_OK;
}

/* Turns the preview upright: EXIF orientation o (2..8) of a w x h picture. */
static uint8_t *orient(const uint8_t *in, uint32_t *w, uint32_t *h, int ch, int o)
{
	uint32_t W = *w, H = *h;
	int swap = o >= 5;
	uint32_t ow = swap ? H : W, oh = swap ? W : H;
	uint8_t *out = ks_xmalloc((size_t)ow * oh * (size_t)ch);
	for (uint32_t dy = 0; dy < oh; dy++)
		for (uint32_t dx = 0; dx < ow; dx++) {
			uint32_t sx, sy;
			switch (o) {
			case 2:
				sx = W - 1 - dx;
				sy = dy;
				break;
			case 3:
				sx = W - 1 - dx;
				sy = H - 1 - dy;
				break;
			case 4:
				sx = dx;
				sy = H - 1 - dy;
				break;
			case 5:
				sx = dy;
				sy = dx;
				break;
			case 6:
				sx = dy;
				sy = H - 1 - dx;
				break;
			case 7:
				sx = W - 1 - dy;
				sy = H - 1 - dx;
				break;
			default:
				sx = W - 1 - dy;
				sy = dx;
				break; /* 8 */
			}
			memcpy(out + ((size_t)dy * ow + dx) * (size_t)ch,
			       in + ((size_t)sy * W + sx) * (size_t)ch, (size_t)ch);
		}
	*w = ow;
	*h = oh;
	return out;
}

/* ---- JPEG ------------------------------------------------------------------------------- */

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	unsigned char *mem; /* here, not in locals, so they survive the longjmp */
	unsigned long memlen;
};

static void jerr_exit(j_common_ptr cinfo)
{
	longjmp(((struct jerr *)cinfo->err)->jb, 1);
}

static void jerr_silent(j_common_ptr cinfo)
{
	(void)cinfo;
}

static int jpeg_encode(const uint8_t *pix, uint32_t w, uint32_t h, int ch, struct ks_buf *out)
{
	struct jpeg_compress_struct c;
	struct jerr je;
	memset(&je, 0, sizeof je);
	memset(&c, 0, sizeof c);
	c.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = jerr_exit;
	je.pub.output_message = jerr_silent;
	if (setjmp(je.jb)) {
		jpeg_destroy_compress(&c);
		free(je.mem);
		return -1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &je.mem, &je.memlen);
	c.image_width = w;
	c.image_height = h;
	c.input_components = ch;
	c.in_color_space = ch == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, THUMB_QUALITY, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(pix + (size_t)c.next_scanline * w * (size_t)ch);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	ks_buf_add(out, je.mem, je.memlen);
	jpeg_destroy_compress(&c);
	free(je.mem);
	return 0;
}

/* ---- pictures ------------------------------------------------------------------ */

static void picture(struct ks_thumb *t, const uint8_t *data, size_t len)
{
	struct tstate *ts = tstate_get();
	struct ks_err err = {0};
	struct shrink s = {0};
	struct ks_pdq_result res;
	uint8_t *up = NULL;

	if (ks_pdq_hash_image(ts->pdq, data, len, KS_PDQ_FAST, 0, &res, &err) == KS_OK) {
		t->p.has_pdq = 1;
		ks_pdq_words_to_bytes(res.hash.w, t->p.pdq);
		t->p.pdq_quality = res.quality;
		t->p.pdq_mode = res.mode;
	}

	struct ks_decode_opts opts = {.flags = KS_DECODE_REDUCE, .min_side = KS_THUMB_SIDE};
	struct ks_pixel_sink sink = {.begin = shrink_begin, .rows = shrink_rows, .ctx = &s};
	ks_err_clear(&err);
	int rc = ks_decoder_run(ts->dec, data, len, &opts, &sink, &err);
	if (rc != KS_OK || !s.out) {
		snprintf(t->note, sizeof t->note, "no preview: %s",
			 err.msg[0] ? err.msg : ks_status_name(rc));
		goto out;
	}
	shrink_flush(&s);
	uint32_t w = s.tw, h = s.th;
	const uint8_t *pix = s.out;
	struct ks_exif x;
	if (ks_exif_parse(data, len, &x, NULL) == KS_OK && x.orientation >= 2 && x.orientation <= 8)
		pix = up = orient(s.out, &w, &h, s.ch, x.orientation);
	if (jpeg_encode(pix, w, h, s.ch, &t->jpeg) != 0) {
		snprintf(t->note, sizeof t->note, "no preview: JPEG encoder failed");
		goto out;
	}
	t->p.kind = KS_PREVIEW_STILL;
	t->p.width = w;
	t->p.height = h;
out:
	free(up);
	free(s.sum);
	free(s.count);
	free(s.out);
}

struct ks_thumb *ks_thumb_make(int kind, const uint8_t *data, size_t len)
{
	if (kind != KS_KIND_PICTURE || !data || !len)
		return NULL;
	struct ks_thumb *t = ks_xcalloc(1, sizeof *t);
	picture(t, data, len);
	return t;
}

void ks_thumb_free(struct ks_thumb *t)
{
	if (!t)
		return;
	ks_buf_release(&t->jpeg);
	free(t);
}

int ks_thumb_store(struct ks_store *st, int64_t media_id, const struct ks_thumb *t,
		   struct ks_err *err)
{
	if (!t || !media_id)
		return KS_OK;
	struct ks_preview p = t->p;
	p.jpeg = t->p.kind != KS_PREVIEW_NONE ? t->jpeg.data : NULL;
	p.len = t->p.kind != KS_PREVIEW_NONE ? t->jpeg.len : 0;
	p.note = t->note[0] ? t->note : NULL;
	return ks_store_preview_put(st, media_id, &p, err);
}

int ks_thumb_pdq(const struct ks_thumb *t, uint16_t w[16], int *quality)
{
	if (!t || !t->p.has_pdq)
		return -1;
	/* the bytes are the hex text decoded, word 15 first (ks_pdq_words_to_bytes) */
	for (int i = 0; i < 16; i++)
		w[15 - i] = (uint16_t)(t->p.pdq[2 * i] << 8 | t->p.pdq[2 * i + 1]);
	*quality = t->p.pdq_quality;
	return 0;
}
