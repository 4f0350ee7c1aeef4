/* kestrel TMK+PDQF: Meta's second video fingerprint (ThreatExchange's tmk), a
 * whole-video descriptor made from every frame: frames resampled to 15 per second and
 * 64x64 RGB, each frame's PDQ float block (PDQF, 256 floats), and their temporal
 * match kernel features (a pure average, and cos/sin Fourier features over four
 * periods), written in upstream's .tmk file format, bit for bit as tmk-hash-video
 * writes it when given the same frames. Matching uses upstream's two-level score. */
#ifndef KESTREL_TMK_H
#define KESTREL_TMK_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"
#include "kestrel/video.h"

#define KS_TMK_FPS 15		 /* frames per second the video is resampled to */
#define KS_TMK_SIDE 64		 /* frames are KS_TMK_SIDE x KS_TMK_SIDE RGB */
#define KS_TMK_PERIODS 4	 /* Poullot's periods, in frames: 2731 4391 9767 14653 */
#define KS_TMK_COEFFS 32	 /* Fourier coefficients per period */
#define KS_TMK_DIM 256		 /* PDQF: the 16x16 DCT block of PDQ as floats */
#define KS_TMK_FILE_BYTES 263344 /* header 32, periods, coefficients, average, cos, sin */

/* Upstream's suggested thresholds for a match (both levels). */
#define KS_TMK_LEVEL1_DEFAULT 0.7
#define KS_TMK_LEVEL2_DEFAULT 0.7

struct ks_tmk {
	int32_t fps, frames; /* frames: how many were ingested */
	int32_t periods[KS_TMK_PERIODS];
	float coeffs[KS_TMK_COEFFS];
	float average[KS_TMK_DIM];
	float cos_f[KS_TMK_PERIODS][KS_TMK_COEFFS][KS_TMK_DIM];
	float sin_f[KS_TMK_PERIODS][KS_TMK_COEFFS][KS_TMK_DIM];
	int finished;
};

/* A new, empty descriptor (about 270 KB) ready to take frames; never fails. */
struct ks_tmk *ks_tmk_new(void);
void ks_tmk_free(struct ks_tmk *t); /* accepts NULL */

/* Ingests the next frame: 64x64 RGB (3 bytes a pixel, rows stride bytes apart), as
 * frame number t->frames. The frames must already be resampled to KS_TMK_FPS and
 * scaled to 64x64 the way upstream's ffmpeg command does it (`ffmpeg -i VIDEO -s 64:64
 * -an -f rawvideo -c:v rawvideo -pix_fmt rgb24 -r 15 pipe:1`). */
void ks_tmk_add_rgb(struct ks_tmk *t, const uint8_t *rgb, size_t stride);
/* The same from a frame feature already computed (256 floats, PDQF). */
void ks_tmk_add_feature(struct ks_tmk *t, const float feature[KS_TMK_DIM]);
/* Ends ingestion: averages and normalises (as upstream's finishFrameFeatureIngest).
 * Call once; no frames may be added after. */
void ks_tmk_finish(struct ks_tmk *t);

/* Computes the TMK+PDQF of the open video v into t (from ks_tmk_new, no frames yet) and
 * finishes it: every frame decoded and resampled as upstream's ffmpeg command does
 * (ks_video_frames_cfr at 64x64, 15 fps), so that the .tmk is the one tmk-hash-video
 * writes. Costs a full decode of the video (every frame, where vPDQ sampling decodes
 * key frames only). Under v's budget: a video stopped early
 * gives the descriptor of the frames reached (res->marks and why say so; t->frames
 * counts them). Same returns as ks_video_frames_cfr; res may be NULL. */
int ks_tmk_hash_video(struct ks_video *v, struct ks_tmk *t, struct ks_video_result *res,
		      struct ks_err *err);

/* Appends the finished descriptor in upstream's .tmk format (KS_TMK_FILE_BYTES bytes,
 * little-endian, magic "TMK1" "FVEC" "PDQF"). */
void ks_tmk_write(const struct ks_tmk *t, struct ks_buf *out);
/* Parses a .tmk file of this kind (PDQF, 15 fps, 4 periods, 32 coefficients, 256
 * dimensions) into t (finished). Returns 0 or KS_E_FORMAT naming what is wrong;
 * never reads outside data[0..len). */
int ks_tmk_read(const uint8_t *data, size_t len, struct ks_tmk *t, struct ks_err *err);

/* Upstream's level-1 score: the cosine of the two pure averages (-1..1). */
double ks_tmk_level1(const struct ks_tmk *a, const struct ks_tmk *b);
/* The same from the averages alone (t->average), for holding many known videos. */
double ks_tmk_level1_avg(const float a[KS_TMK_DIM], const float b[KS_TMK_DIM]);
/* Upstream's level-2 score: the best time-aligned kernel score over the periods,
 * normalised by the kernel's value at alignment (about -1..1). */
double ks_tmk_level2(const struct ks_tmk *a, const struct ks_tmk *b);

#endif
