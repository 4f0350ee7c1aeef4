/* kestrel PDQ: Meta's 256-bit perceptual picture hash, computed operation for operation
 * as the reference (facebook/ThreatExchange pdq/cpp) does, so that exact mode gives the
 * reference's bits; plus a fast mode for scans that decodes JPEGs at reduced size.
 * The float-luma core is independent of decoding; the picture entry points decode
 * through the media layer's decoders (kestrel/decode.h). */
#ifndef KESTREL_PDQ_H
#define KESTREL_PDQ_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

/* A PDQ hash: 16 words of 16 bits. Bit k (k = 16*row + col of the 16x16 DCT block) is
 * bit (k & 15) of w[k >> 4]. */
struct ks_pdq_hash {
	uint16_t w[16];
};

#define KS_PDQ_HEX_LEN 64
/* Quality below this (0..100) makes a hash unreliable for near matching. */
#define KS_PDQ_MIN_QUALITY 50
/* Sides below this are not hashed: all-zero hash, quality 0 (as the reference). */
#define KS_PDQ_MIN_DIM 5
/* Pictures with either side above this are first resized to exactly this square. */
#define KS_PDQ_RESIZE 512

/* The eight dihedral variants, in the reference tool's output order. */
enum ks_pdq_dihedral {
	KS_PDQ_ORIG = 0,
	KS_PDQ_ROT90,
	KS_PDQ_ROT180,
	KS_PDQ_ROT270,
	KS_PDQ_FLIPX,
	KS_PDQ_FLIPY,
	KS_PDQ_FLIPPLUS1,
	KS_PDQ_FLIPMINUS1,
	KS_PDQ_NDIHEDRAL
};

/* How a hash was made (stored beside it: the two are not interchangeable bit for bit). */
enum ks_pdq_mode {
	KS_PDQ_EXACT = 0, /* the reference's pixels and arithmetic: identical bits */
	KS_PDQ_FAST = 1,  /* JPEG decoded at reduced size, luma only: close, not identical */
};
const char *ks_pdq_mode_name(int mode); /* "exact", "fast" */

/* Hex text: 64 lower-case digits, word 15 first (the reference's "%04hx" x16), i.e.
 * the hash read as a big-endian 256-bit integer whose bit k is coefficient k. */
void ks_pdq_to_hex(const struct ks_pdq_hash *h, char out[KS_PDQ_HEX_LEN + 1]);
/* Parses exactly 64 hex digits (either case); -1 on a bad digit or length, else 0. */
int ks_pdq_from_hex(const char *hex, size_t len, struct ks_pdq_hash *h);
/* Hamming distance, 0..256. */
int ks_pdq_distance(const struct ks_pdq_hash *a, const struct ks_pdq_hash *b);
/* Number of set bits (128 for a typical hash, 0 for a flat or tiny picture). */
int ks_pdq_weight(const struct ks_pdq_hash *h);

/* Reusable working memory for hashing (buffers sized for a 512x512 picture and a
 * picture decoder). One per thread; new never fails (aborts on exhaustion). */
struct ks_pdq;
struct ks_pdq *ks_pdq_new(void);
void ks_pdq_free(struct ks_pdq *p); /* accepts NULL */
struct ks_decode_limits;
/* Limits on declared sizes and decoder memory for ks_pdq_hash_image (copied); NULL
 * restores the defaults (ks_decode_default_limits in kestrel/decode.h). */
void ks_pdq_set_limits(struct ks_pdq *p, const struct ks_decode_limits *limits);

/* The core, on a float luma buffer (rows x cols, row-major), exactly as the reference's
 * pdqHash256FromFloatLuma (dih == NULL) or pdqDihedralHash256esFromFloatLuma (dih !=
 * NULL: fills dih[0..7] in enum ks_pdq_dihedral order; hash may then be NULL).
 * luma is overwritten (it is the filter's working buffer); scratch must hold rows*cols
 * floats. Sides under KS_PDQ_MIN_DIM give all-zero hashes and quality 0. No resizing
 * happens here: the caller applies the 512 rule (ks_pdq_hash_rgb does). */
void ks_pdq_hash_luma(float *luma, float *scratch, uint32_t rows, uint32_t cols,
		      struct ks_pdq_hash *hash, struct ks_pdq_hash dih[KS_PDQ_NDIHEDRAL],
		      int *quality);

/* The reference's pdqFloat256FromFloatLuma: the same core up to the 16x16 DCT block,
 * returned as floats (row-major, coefficient k at out[k]) instead of bits; the input
 * is taken as is when it is exactly 64x64 (the reference's shortcut for frames
 * already downscaled, used by TMK+PDQF). luma and scratch as for ks_pdq_hash_luma.
 * Sides under KS_PDQ_MIN_DIM give zeros and quality 0. */
void ks_pdq_float_luma(float *luma, float *scratch, uint32_t rows, uint32_t cols, float out[256],
		       int *quality);

/* The reference's pipeline from 8-bit pixels (channels 1 = grey used as luma, 3 = RGB):
 * nearest-neighbour resize to 512x512 when either side is over 512, float luma, core.
 * stride is the distance between rows in bytes. Returns 0, or KS_E_USAGE for bad
 * arguments. dih may be NULL. */
int ks_pdq_hash_pixels(struct ks_pdq *p, const uint8_t *pix, uint32_t width, uint32_t height,
		       int channels, size_t stride, struct ks_pdq_hash *hash,
		       struct ks_pdq_hash dih[KS_PDQ_NDIHEDRAL], int *quality);

/* Result of hashing one picture file. */
struct ks_pdq_result {
	struct ks_pdq_hash hash;
	struct ks_pdq_hash dih[KS_PDQ_NDIHEDRAL]; /* only with KS_PDQ_WANT_DIHEDRAL */
	int quality;				  /* 0..100 */
	int mode;				  /* enum ks_pdq_mode actually used */
	const char *format;			  /* decoder that read it ("jpeg", ...) */
	uint32_t width, height;			  /* the picture's declared size */
};

enum ks_pdq_flags {
	KS_PDQ_WANT_DIHEDRAL = 1, /* also fill res->dih */
};

/* Decodes a picture held in memory (any format the media layer decodes) and hashes it
 * in mode `mode` (enum ks_pdq_mode). Formats other than JPEG are hashed the same way
 * in both modes. Returns 0 and fills *res, or a negative ks_status with err set:
 * KS_E_EVIDENCE (damaged or hostile picture), KS_E_UNSUPPORTED (not a picture kestrel
 * decodes), KS_E_LIMIT (declared size or memory above the limits). Never reads outside
 * data[0..len). */
int ks_pdq_hash_image(struct ks_pdq *p, const uint8_t *data, size_t len, int mode, unsigned flags,
		      struct ks_pdq_result *res, struct ks_err *err);

#endif
