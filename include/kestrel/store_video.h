/* kestrel store, video part: what the scan learnt of each moving image (probe facts,
 * how far decoding got and why it stopped, the vPDQ frame fingerprints), the PDQ
 * hashes of hash-set entries (known stills, and frames of known videos from vPDQ
 * lists), and the details of video matches (which frame, at what time, how close).
 * Videos may also carry a TMK+PDQF descriptor (`scan --tmk`) and known videos come as
 * .tmk files too; a "tmk" match keeps upstream's two scores.
 * PDQ hashes are 32 bytes here as everywhere in the index: the 64 hex digits decoded
 * (ks_pdq_words_to_bytes). Writes need a read-write handle inside a transaction. */
#ifndef KESTREL_STORE_VIDEO_H
#define KESTREL_STORE_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/store.h"

/* What the scan recorded about one video media. Strings may be NULL ("" read back). */
struct ks_video_facts {
	const char *status; /* "ok", "partial" (decoded as far as it goes, marked),
			       "failed" (nothing decodable), "too-large" (not held
			       whole: not fingerprinted) */
	const char *container, *video_codec, *audio_codec, *pix_fmt;
	double duration; /* seconds, -1 unknown */
	double fps;	 /* -1 unknown */
	uint32_t width, height;
	int64_t creation_time; /* container's, Unix seconds, 0 none */
	int64_t bit_rate;
	uint64_t declared_frames;
	unsigned marks;		 /* enum ks_video_mark */
	const char *why;	 /* why it is marked, failed or not fingerprinted */
	uint64_t frames_decoded; /* frames the sampler decoded */
	uint64_t frames_sampled; /* frames kept and hashed (before collapsing) */
	double reached;		 /* seconds of video decoding reached */
	double work_seconds;	 /* wall time spent on it */
};

/* One vPDQ feature: a sampled frame's PDQ. */
struct ks_video_feature {
	int64_t frame;	/* frame number in the stream */
	double seconds; /* presentation time */
	uint8_t pdq[32];
	int quality; /* 0..100 */
};

/* Records a video's facts and its features (n may be 0). A media's first record is
 * kept, unless it has no feature and this one has: *stored is 1 when this record was
 * written (its frames are then the media's), 0 when an earlier one stays. */
int ks_store_video_put(struct ks_store *st, int64_t media_id, const struct ks_video_facts *f,
		       const struct ks_video_feature *feat, size_t n, int *stored,
		       struct ks_err *err);

/* Every fingerprinted video media (in media id order) with its features: fn gets
 * borrowed arrays; returning nonzero stops the walk and is returned. */
typedef int (*ks_video_features_fn)(void *ctx, int64_t media_id,
				    const struct ks_video_feature *feat, size_t n);
int ks_store_video_features_each(struct ks_store *st, ks_video_features_fn fn, void *ctx,
				 struct ks_err *err);

/* A PDQ hash of a hash-set entry: a known still, or a frame of a known video. */
struct ks_pdq_entry_row {
	int64_t set_id;
	int ignorable; /* the set's role is "ignore" */
	uint8_t pdq[32];
	int quality;		       /* -1 unknown */
	const char *scheme, *category; /* category of the entry (NULL: uncategorised) */
	const char *name;	       /* the entry's name (for a frame: its video), or NULL */
	int video_frame;	       /* 1: a frame of the known video `name` */
	int64_t frame;
	double seconds;
};
typedef int (*ks_pdq_entry_fn)(void *ctx, const struct ks_pdq_entry_row *e);
/* Every PDQ entry of set set_id (all sets when set_id <= 0), in (set, entry, frame)
 * order. Strings are borrowed for the call; fn returning nonzero stops the walk. */
int ks_store_pdq_entries_each(struct ks_store *st, int64_t set_id, ks_pdq_entry_fn fn, void *ctx,
			      struct ks_err *err);

/* How a video matched: the match table's row (how "pdq-frame", "vpdq" or "tmk", with
 * the distance and entry, as ks_store_match_near_add keeps them) and its details here. */
struct ks_video_match_rec {
	int64_t media_id, set_id;
	const char *how;   /* "pdq-frame": one of its frames is near a known still (or a
			      frame of a known video); "vpdq": enough of its frames are
			      in a known video; "tmk": its TMK+PDQF scores against a known
			      video's reach the thresholds (distance -1, no frame) */
	const char *entry; /* the known entry's name, or the hex of its hash */
	int distance;	   /* Hamming distance of the frame (vpdq: the closest frame) */
	double seconds;	   /* time of that frame in this video */
	int64_t frame;
	double query_pct;      /* vpdq: % of this video's frames found in the known one */
	double target_pct;     /* vpdq: % of the known video's frames found in this one */
	double level1, level2; /* tmk: upstream's two scores against the known video */
	const char *scheme, *category;
	int severity; /* of the category in its scheme, -1 uncategorised */
};
/* Records a video match: its row in the match table (per media, set and how, the most
 * serious and then the closest is kept) and its details (per media, set, how and
 * entry, a closer frame or a larger share replaces an earlier record). */
int ks_store_video_match_add(struct ks_store *st, const struct ks_video_match_rec *m,
			     struct ks_err *err);

/* ---- TMK+PDQF (kestrel/tmk.h): made by `scan --tmk`, known videos from .tmk files ---- */

/* What the scan made of a video's TMK+PDQF. */
struct ks_video_tmk_facts {
	const char *status; /* "ok"; "partial" (decoding stopped early: budget, truncated or
			       damaged; the descriptor covers the frames reached); "failed"
			       (no frame: no descriptor) */
	const char *why;    /* why it is partial or failed, or NULL */
	int64_t frames;	    /* frames in the descriptor (15 a second of video) */
	double work_seconds;
};
/* Records media_id's TMK+PDQF: facts and the .tmk bytes (tmk NULL / len 0 when it
 * failed). A media's first record is kept unless it has no descriptor and this one
 * has; *stored (may be NULL) says whether this one was written. */
int ks_store_video_tmk_put(struct ks_store *st, int64_t media_id,
			   const struct ks_video_tmk_facts *f, const uint8_t *tmk, size_t len,
			   int *stored, struct ks_err *err);
/* Every media's stored descriptor (.tmk bytes, borrowed for the call), in media id
 * order; fn returning nonzero stops the walk and is returned. */
typedef int (*ks_video_tmk_fn)(void *ctx, int64_t media_id, const uint8_t *tmk, size_t len);
int ks_store_video_tmk_each(struct ks_store *st, ks_video_tmk_fn fn, void *ctx, struct ks_err *err);
/* A known video's descriptor, from an imported .tmk file (ks_hash_entry.tmk). */
struct ks_tmk_entry_row {
	int64_t set_id;
	int64_t entry;		       /* the hash entry's id (ks_store_tmk_entry_get) */
	int ignorable;		       /* the set's role is "ignore" */
	const char *scheme, *category; /* category of the entry (NULL: uncategorised) */
	const char *name;	       /* the entry's name (the file's), or NULL */
	const uint8_t *tmk;	       /* .tmk bytes */
	size_t len;
};
typedef int (*ks_tmk_entry_fn)(void *ctx, const struct ks_tmk_entry_row *e);
/* Every TMK entry of set set_id (all sets when <= 0), in (set, entry) order; strings and
 * bytes borrowed for the call; fn returning nonzero stops the walk. */
int ks_store_tmk_entries_each(struct ks_store *st, int64_t set_id, ks_tmk_entry_fn fn, void *ctx,
			      struct ks_err *err);
/* The .tmk bytes of hash entry `entry` appended to out; KS_E_NOTFOUND if it has none. */
int ks_store_tmk_entry_get(struct ks_store *st, int64_t entry, struct ks_buf *out,
			   struct ks_err *err);

/* Reading back, with a file row (ks_file_row.video) and on its own. */
struct ks_video_match_row {
	const char *set; /* hash-set name */
	const char *how, *entry;
	int distance;
	double seconds;
	int64_t frame;
	double query_pct, target_pct;
	double level1, level2; /* tmk */
	const char *scheme, *category;
};
struct ks_video_row {
	int64_t media_id;
	struct ks_video_facts f;		  /* strings "" when unknown */
	struct ks_video_tmk_facts tmk;		  /* status NULL when the scan made none */
	uint64_t features;			  /* vPDQ features stored (after collapsing) */
	const struct ks_video_match_row *matches; /* by (how, set, time) */
	size_t nmatches;
};
/* The video row of one media, allocated (free with ks_video_row_free); *out NULL when
 * the media has none. */
int ks_store_video_get(struct ks_store *st, int64_t media_id, struct ks_video_row **out,
		       struct ks_err *err);
void ks_video_row_free(struct ks_video_row *r); /* accepts NULL */

#endif
