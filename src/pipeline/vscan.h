/* Private to the pipeline: videos during a scan. A worker (or, for a video too large
 * to hold, the reader through the evidence) probes each video and computes its vPDQ
 * and its review contact sheet in one decode pass under a per-item budget; the writer
 * stores them and matches the frames against the
 * case's known stills (PDQ) and known videos (vPDQ lists); an import matches the
 * stored videos against a new set. */
#ifndef KS_PIPELINE_VSCAN_H
#define KS_PIPELINE_VSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/evidence.h"
#include "kestrel/index.h"
#include "kestrel/pipeline.h"
#include "kestrel/store.h"
#include "kestrel/video.h"

/* Default wall-time budget to fingerprint one video, seconds. */
#define KS_VSCAN_SECONDS 60.0

/* What the scan learnt of one video: probe facts, marks, vPDQ features. */
struct ks_vfp;

/* Probes and fingerprints a whole video held in data[0..len) within `seconds` of wall
 * time (0: KS_VSCAN_SECONDS). Never fails: a video that cannot be read gets a record
 * saying why. Uses a per-thread PDQ state. */
struct ks_vfp *ks_vfp_make_mem(const uint8_t *data, size_t len, double seconds);
/* The same over an evidence item read through rd (size bytes), for videos too large to
 * hold in memory; rd is only used during the call. */
struct ks_vfp *ks_vfp_make_reader(struct ks_item_reader *rd, uint64_t size, double seconds);
/* The same over bytes 0..size) read through read(ctx, ...) (kestrel/video.h), e.g. a
 * carved video longer than a carving window, read through the medium; only used during
 * the call. */
struct ks_vfp *ks_vfp_make_read(ks_video_read_fn read, void *ctx, uint64_t size, double seconds);
/* A video that was not fingerprinted because only held of its size bytes were kept. */
struct ks_vfp *ks_vfp_not_held(uint64_t size, size_t held);
void ks_vfp_free(struct ks_vfp *f); /* accepts NULL */
/* The record's status ("ok" "partial" "failed" "too-large") and number of features. */
const char *ks_vfp_status(const struct ks_vfp *f, size_t *features);

/* The case's known stills and known videos, loaded for matching. */
struct ks_vmatch;
/* Loads the PDQ entries of set set_id (all sets when <= 0) from the store; idx (may be
 * NULL) is consulted as well through its near lookup (index files attached to it).
 * o may be NULL (defaults). */
int ks_vmatch_load(struct ks_store *st, const struct ks_index *idx,
		   const struct ks_video_match_opts *o, int64_t set_id, struct ks_vmatch **out,
		   struct ks_err *err);
void ks_vmatch_free(struct ks_vmatch *vm); /* accepts NULL */
/* The known stills are reachable through idx as well (the case's PDQ lists attached to
 * it as an index file): forgets the loaded copy, so that each is reported once. */
void ks_vmatch_stills_in_index(struct ks_vmatch *vm);

/* In the writer's transaction: records f as media_id's video and its contact sheet as
 * the media's preview (a media's first record and preview are kept) and, when it was
 * recorded, matches its frames (vm may be NULL: no
 * matching). Returns the number of matches recorded (>= 0) or a negative status. */
int ks_vfp_store(struct ks_store *st, const struct ks_vmatch *vm, int64_t media_id,
		 const struct ks_vfp *f, struct ks_err *err);

/* After importing set set_id (inside the import's transaction): matches every stored
 * video's frames against that set's PDQ entries. *matched (may be NULL) is increased
 * by the number of videos that matched. */
int ks_vmatch_rematch(struct ks_store *st, int64_t set_id, int64_t *matched, struct ks_err *err);

/* ---- shared with vscan_tmk.c, which walks the same videos for TMK+PDQF -------------- */

struct ks_video_match_rec; /* kestrel/store_video.h */

/* The decoding limits for one video: the defaults with `seconds` of wall time (dflt when
 * seconds <= 0). */
void ks_vscan_limits(struct ks_video_limits *lim, double seconds, double dflt);
/* Copies s into dst[n], cut if longer. */
void ks_vscan_copy(char *dst, size_t n, const char *s);
/* A ks_video_read_fn over an evidence item; ctx is its struct ks_item_reader. */
int64_t ks_vscan_item_read(void *ctx, uint64_t off, uint8_t *buf, size_t n);
/* Records m (set_id and the fields of its kind of match filled in) as media_id's video
 * match `how` with the known entry named entry, of scheme and category: the scheme is
 * kept only with a category, and the severity is the category's in its scheme. Returns
 * ks_store_video_match_add's status. */
int ks_vscan_record(struct ks_store *st, int64_t media_id, const char *how,
		    struct ks_video_match_rec *m, const char *entry, const char *scheme,
		    const char *category, struct ks_err *err);

#endif
