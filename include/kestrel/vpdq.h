/* kestrel vPDQ: Meta's video PDQ — a PDQ hash per sampled frame with its frame number,
 * time and quality — computed over kestrel's frame sampler (kestrel/video.h), its text
 * form (the reference tools' "frame,quality,hash,seconds" lines), and matching (against
 * another video, as the reference's query/target match percentages, or against one
 * still picture's PDQ hash). */
#ifndef KESTREL_VPDQ_H
#define KESTREL_VPDQ_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"
#include "kestrel/pdq.h"
#include "kestrel/video.h"

/* One frame's fingerprint. */
struct ks_vpdq_feature {
	struct ks_pdq_hash hash;
	int quality;    /* 0..100, PDQ's */
	int64_t frame;  /* frame number in the stream */
	double seconds; /* presentation time from the start of the stream */
};

/* A video's fingerprint: features in presentation order. Zero-initialised is empty. */
struct ks_vpdq {
	struct ks_vpdq_feature *f;
	size_t n, cap;
};
void ks_vpdq_add(struct ks_vpdq *v, const struct ks_vpdq_feature *f);
void ks_vpdq_release(struct ks_vpdq *v); /* frees the features; accepts NULL */

/* Consecutive frames whose hash is within this distance of the last frame kept are
 * collapsed into it (a still scene makes one feature, not one per second). */
#define KS_VPDQ_COLLAPSE_DEFAULT 16
#define KS_VPDQ_NO_COLLAPSE (-1)   /* keep every sampled frame (the reference's output) */
#define KS_VPDQ_COLLAPSE_SAME (-2) /* collapse identical hashes only */

struct ks_vpdq_opts {
	struct ks_video_sample_opts sample; /* zeroed: key frames, at most 1 per second */
	int collapse; /* 0: KS_VPDQ_COLLAPSE_DEFAULT; 1..256: that distance; or one of
			 KS_VPDQ_NO_COLLAPSE, KS_VPDQ_COLLAPSE_SAME */
};

/* Samples v (see ks_video_sample), hashes every kept frame with PDQ (RGB; long side at
 * most opts->sample.max_side, 512 when 0, so the reference's 512 resize never applies;
 * a larger max_side such as UINT32_MAX hands PDQ the full-size frame, as the reference
 * tool does: slower, a few bits closer to its hashes), collapses near repeats and
 * appends the features to out. pdq is the caller's per-thread PDQ state (NULL: a
 * temporary one). also, if non-NULL, receives every sampled frame too (e.g.
 * ks_contact_add, so that one decode pass makes both the hash and the contact sheet).
 * opts may be NULL. Same returns as ks_video_sample; res may be NULL. */
int ks_vpdq_hash_video(struct ks_video *v, struct ks_pdq *pdq, const struct ks_vpdq_opts *opts,
		       ks_video_frame_fn also, void *also_ctx, struct ks_vpdq *out,
		       struct ks_video_result *res, struct ks_err *err);

/* Removes features within `distance` of the last feature kept before them (in order).
 * distance < 0 does nothing. */
void ks_vpdq_collapse(struct ks_vpdq *v, int distance);

/* Appends the reference's text form, one line per feature:
 * "frame,quality,hash,seconds\n" with the hash as 64 hex digits and seconds with three
 * decimals ("%.3f"), as vpdq-hash-video writes it. */
void ks_vpdq_format(const struct ks_vpdq *v, struct ks_buf *out);

/* Parses that text form (also the older files whose seconds have any precision; blank
 * lines and lines starting with '#' are skipped) and appends to out. Returns 0, or
 * KS_E_FORMAT naming the first bad line (out then holds the lines before it). */
int ks_vpdq_parse(const char *text, size_t len, struct ks_vpdq *out, struct ks_err *err);

/* The reference's brute-force video match: features with quality below min_quality
 * are ignored; a feature matches if some feature of the other video is at Hamming
 * distance strictly below `distance` (the reference's comparison). Fills the
 * percentages of query features found in target and of target features found in
 * query (0 when either side has no usable feature). The reference's defaults are
 * distance 31 and quality 50. */
void ks_vpdq_match(const struct ks_vpdq *query, const struct ks_vpdq *target, int distance,
		   int min_quality, double *query_pct, double *target_pct);

/* The feature nearest to a still picture's hash among those with quality >=
 * min_quality: returns its distance (0..256) and stores its index in *idx (may be
 * NULL), or returns -1 when no feature qualifies. */
int ks_vpdq_nearest(const struct ks_vpdq *v, const struct ks_pdq_hash *h, int min_quality,
		    size_t *idx);

#endif
