/* Private to the picture decoders (src/media/decode*.c): the per-format ops table and
 * the shared decoder state. Each format is one file with one `const struct
 * ks_decoder_ops` and one row in decode.c's registry. */
#ifndef KESTREL_DECODE_IMPL_H
#define KESTREL_DECODE_IMPL_H

#include "kestrel/decode.h"

#define KS_DECODER_MAX 16

struct ks_decoder;

struct ks_decoder_ops {
	const char *name;
	/* 1 if data starts with this format's signature (len may be short). */
	int (*probe)(const uint8_t *data, size_t len);
	/* Decodes to the sink; *state is this format's slot in the decoder (NULL the first
	 * time), kept between pictures so library handles are reused. */
	int (*decode)(struct ks_decoder *d, void **state, const uint8_t *data, size_t len,
		      const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		      struct ks_err *err);
	/* Frees what decode left in *state (may be NULL). */
	void (*state_free)(void *state);
};

struct ks_decoder {
	void *state[KS_DECODER_MAX];
	struct ks_buf row;  /* row buffer(s) */
	struct ks_buf work; /* whole-frame buffer for formats that need one */
};

extern const struct ks_decoder_ops ks_decode_jpeg_ops;
extern const struct ks_decoder_ops ks_decode_png_ops;
extern const struct ks_decoder_ops ks_decode_gif_ops;
extern const struct ks_decoder_ops ks_decode_bmp_ops;
extern const struct ks_decoder_ops ks_decode_webp_ops;
extern const struct ks_decoder_ops ks_decode_tiff_ops;
extern const struct ks_decoder_ops ks_decode_heif_ops;

/* The limits in force for opts (never NULL). */
const struct ks_decode_limits *ks_decode_limits_of(const struct ks_decode_opts *opts);
/* Checks a declared size and the working memory it implies against the limits, before
 * anything is allocated. Returns 0 or KS_E_LIMIT / KS_E_EVIDENCE (zero side) with err. */
int ks_decode_check(const struct ks_decode_opts *opts, const char *fmt, uint64_t w, uint64_t h,
		    uint64_t mem, struct ks_err *err);
/* b's memory grown to at least n bytes (contents not kept); returns b->data. */
uint8_t *ks_decode_grow(struct ks_buf *b, size_t n);

/* Little/big-endian readers; callers check bounds first. */
static inline uint32_t ks_rd_le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static inline uint32_t ks_rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint32_t ks_rd_be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | (uint32_t)p[1];
}
static inline uint32_t ks_rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#endif
