/* kestrel picture decoders: the bytes of a picture in, rows of 8-bit grey or RGB pixels
 * out, streamed to a caller's sink so that a 12-megapixel photo never needs a
 * whole-picture buffer. Pixels are those ImageMagick's `convert FILE pnm:-` gives (the
 * PDQ reference decodes through it): libjpeg-turbo's default decode for JPEG, alpha
 * dropped (not composited), first frame only, EXIF orientation not applied. Declared
 * sizes and working memory are checked against limits before anything is allocated. */
#ifndef KESTREL_DECODE_H
#define KESTREL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

/* What a decoder is about to deliver. */
struct ks_image_info {
	const char *format;		  /* decoder name ("jpeg", "png", ...), static */
	uint32_t width, height;		  /* of the rows delivered */
	uint32_t full_width, full_height; /* as declared by the file */
	int channels;			  /* 1 = grey, 3 = RGB (R, G, B bytes) */
	unsigned scale_num, scale_denom;  /* width ~ full_width * num / denom (1/1 if
					     not reduced) */
	int luma_only;			  /* 1 if the grey rows are a JPEG's Y plane of a
					     colour picture (KS_DECODE_LUMA) */
	int depth;			  /* bits per sample ImageMagick gives the picture:
					     8, except 1 or 4 for BMPs with 1 or 4 bits per
					     pixel (its PNM output then uses that range) */
};

struct ks_decode_limits {
	uint32_t max_side;   /* largest declared width or height */
	uint64_t max_pixels; /* largest declared width * height */
	uint64_t max_mem;    /* largest working memory a decode may take, in bytes */
};
/* 65535 per side, 120 megapixels, 1 GiB. */
extern const struct ks_decode_limits ks_decode_default_limits;

enum ks_decode_flags {
	/* JPEG may be decoded at a reduced size through DCT scaling (M/8), the smallest
	 * whose sides both stay >= min_side (never below 1/8). */
	KS_DECODE_REDUCE = 1,
	/* Only luma is needed: a colour JPEG may deliver its Y plane as grey rows (its
	 * chroma is then never transformed). */
	KS_DECODE_LUMA = 2,
	/* Faster settings that change pixels slightly (JPEG: integer fast IDCT, no fancy
	 * upsampling). Without it the decode is libjpeg-turbo's default. */
	KS_DECODE_FAST = 4,
	/* 16-bit samples keep their low byte instead of being scaled to 8 bits: what the
	 * PDQ reference hashes (CImg casts ImageMagick's 16-bit PNM samples to uint8_t).
	 * Only for reproducing reference hashes; pictures for people never use it. */
	KS_DECODE_CIMG16 = 8,
};

struct ks_decode_opts {
	unsigned flags;			       /* enum ks_decode_flags */
	uint32_t min_side;		       /* with KS_DECODE_REDUCE */
	const struct ks_decode_limits *limits; /* NULL: ks_decode_default_limits */
};

/* The consumer of decoded rows. begin is called once before any row; rows delivers
 * rows y .. y+n-1 in order from the top, each info->width * info->channels bytes,
 * `stride` bytes apart (valid only during the call). A nonzero return (a negative
 * ks_status with err set) stops the decode and is returned by ks_decoder_run. */
struct ks_pixel_sink {
	int (*begin)(void *ctx, const struct ks_image_info *info, struct ks_err *err);
	int (*rows)(void *ctx, uint32_t y, uint32_t n, const uint8_t *pix, size_t stride,
		    struct ks_err *err);
	void *ctx;
};

/* Reusable decoder state (library handles, row buffers). One per thread. new never
 * fails (aborts on exhaustion). */
struct ks_decoder;
struct ks_decoder *ks_decoder_new(void);
void ks_decoder_free(struct ks_decoder *d); /* accepts NULL */

/* Name of the format whose signature starts data ("jpeg", "png", "gif", "bmp", "tiff",
 * "webp", "heif"), or NULL if no decoder claims it. */
const char *ks_decode_probe(const uint8_t *data, size_t len);

/* Decodes the picture in data[0..len) and streams it to sink. opts may be NULL (exact,
 * full size, default limits). Returns 0, or KS_E_EVIDENCE (damaged or truncated
 * picture), KS_E_UNSUPPORTED (no decoder, or a feature kestrel does not decode),
 * KS_E_LIMIT (declared size or memory above the limits), or the sink's status. Never
 * reads outside data[0..len); evidence bytes are never written. */
int ks_decoder_run(struct ks_decoder *d, const uint8_t *data, size_t len,
		   const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		   struct ks_err *err);

/* A whole decoded picture: info.height rows of info.width * info.channels bytes. */
struct ks_image {
	struct ks_image_info info;
	uint8_t *pixels;
	size_t cap; /* bytes allocated; reused by the next ks_decode_image */
};
/* Decodes into img (its buffer is reused and grown as needed). Same returns as
 * ks_decoder_run. */
int ks_decode_image(struct ks_decoder *d, const uint8_t *data, size_t len,
		    const struct ks_decode_opts *opts, struct ks_image *img, struct ks_err *err);
void ks_image_release(struct ks_image *img); /* frees pixels; accepts NULL */

#endif
