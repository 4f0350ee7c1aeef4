/* Picture decoder registry and the shared plumbing: probing (one table row per format),
 * limits checked before allocation, and ks_decode_image, a sink that collects the rows
 * into one buffer. The formats themselves live in decode_<format>.c. */
#include <stdlib.h>
#include <string.h>

#include "decode_impl.h"

const struct ks_decode_limits ks_decode_default_limits = {
    .max_side = 65535,
    .max_pixels = 120000000ull,
    .max_mem = 1ull << 30,
};

static const struct ks_decoder_ops *const decoders[] = {
    &ks_decode_jpeg_ops, &ks_decode_png_ops,  &ks_decode_gif_ops,  &ks_decode_bmp_ops,
    &ks_decode_webp_ops, &ks_decode_tiff_ops, &ks_decode_heif_ops,
};
#define NDECODERS (sizeof decoders / sizeof decoders[0])
_Static_assert(NDECODERS <= KS_DECODER_MAX, "raise KS_DECODER_MAX");

struct ks_decoder *ks_decoder_new(void)
{
	return ks_xcalloc(1, sizeof(struct ks_decoder));
}

void ks_decoder_free(struct ks_decoder *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < NDECODERS; i++)
		if (d->state[i] && decoders[i]->state_free)
			decoders[i]->state_free(d->state[i]);
	ks_buf_release(&d->row);
	ks_buf_release(&d->work);
	free(d);
}

/* Index of the one decoder whose probe claims data; -1 if none, -2 if several (the
 * signatures are disjoint, so that would be our bug or a polyglot: refuse, not guess). */
static int find_decoder(const uint8_t *data, size_t len)
{
	int found = -1;
	for (size_t i = 0; i < NDECODERS; i++) {
		if (!decoders[i]->probe(data, len))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

const char *ks_decode_probe(const uint8_t *data, size_t len)
{
	int i = data ? find_decoder(data, len) : -1;
	return i >= 0 ? decoders[i]->name : NULL;
}

const struct ks_decode_limits *ks_decode_limits_of(const struct ks_decode_opts *opts)
{
	return opts && opts->limits ? opts->limits : &ks_decode_default_limits;
}

int ks_decode_check(const struct ks_decode_opts *opts, const char *fmt, uint64_t w, uint64_t h,
		    uint64_t mem, struct ks_err *err)
{
	const struct ks_decode_limits *l = ks_decode_limits_of(opts);
	if (w == 0 || h == 0)
		return ks_err_set(err, KS_E_EVIDENCE, "%s: zero picture size %llux%llu", fmt,
				  (unsigned long long)w, (unsigned long long)h);
	if (w > l->max_side || h > l->max_side)
		return ks_err_set(err, KS_E_LIMIT, "%s: declared size %llux%llu over the %u limit",
				  fmt, (unsigned long long)w, (unsigned long long)h, l->max_side);
	if (w * h > l->max_pixels)
		return ks_err_set(err, KS_E_LIMIT, "%s: %llux%llu is over %llu pixels", fmt,
				  (unsigned long long)w, (unsigned long long)h,
				  (unsigned long long)l->max_pixels);
	if (mem > l->max_mem)
		return ks_err_set(err, KS_E_LIMIT,
				  "%s: decoding %llux%llu needs %llu bytes, over the %llu limit",
				  fmt, (unsigned long long)w, (unsigned long long)h,
				  (unsigned long long)mem, (unsigned long long)l->max_mem);
	return 0;
}

uint8_t *ks_decode_grow(struct ks_buf *b, size_t n)
{
	if (b->cap < n + 1) {
		b->len = 0;
		ks_buf_reserve(b, n);
	}
	return b->data;
}

int ks_decoder_run(struct ks_decoder *d, const uint8_t *data, size_t len,
		   const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		   struct ks_err *err)
{
	if (!d || !sink || (!data && len))
		return ks_err_set(err, KS_E_USAGE, "decode: bad arguments");
	int i = data ? find_decoder(data, len) : -1;
	if (i == -2)
		return ks_err_set(err, KS_E_EVIDENCE, "decode: several formats claim the picture");
	if (i < 0)
		return ks_err_set(err, KS_E_UNSUPPORTED,
				  "decode: not a picture format kestrel decodes");
	return decoders[i]->decode(d, &d->state[i], data, len, opts, sink, err);
}

struct collect {
	struct ks_image *img;
	size_t rowbytes;
};

static int collect_begin(void *ctx, const struct ks_image_info *info, struct ks_err *err)
{
	struct collect *c = ctx;
	c->img->info = *info;
	c->rowbytes = (size_t)info->width * (size_t)info->channels;
	size_t need = c->rowbytes * info->height;
	if (c->img->cap < need) {
		free(c->img->pixels);
		c->img->pixels = ks_xmalloc(need);
		c->img->cap = need;
	}
	return 0;
}

static int collect_rows(void *ctx, uint32_t y, uint32_t n, const uint8_t *pix, size_t stride,
			struct ks_err *err)
{
	struct collect *c = ctx;
	for (uint32_t k = 0; k < n; k++)
		memcpy(c->img->pixels + (size_t)(y + k) * c->rowbytes, pix + k * stride,
		       c->rowbytes);
	return 0;
}

int ks_decode_image(struct ks_decoder *d, const uint8_t *data, size_t len,
		    const struct ks_decode_opts *opts, struct ks_image *img, struct ks_err *err)
{
	struct collect c = {.img = img};
	struct ks_pixel_sink sink = {.begin = collect_begin, .rows = collect_rows, .ctx = &c};
	if (!img)
		return ks_err_set(err, KS_E_USAGE, "decode: no image");
	return ks_decoder_run(d, data, len, opts, &sink, err);
}

void ks_image_release(struct ks_image *img)
{
	if (!img)
		return;
	free(img->pixels);
	img->pixels = NULL;
	img->cap = 0;
}
