/* Private to the pipeline: TMK+PDQF during a scan (`scan --tmk`). A worker (or, for a
 * video too large to hold, the reader through the evidence) decodes every frame of
 * each video into its TMK+PDQF under its own time budget; the writer stores the
 * descriptor and matches it against the case's known videos imported as .tmk files
 * (upstream's level-1 and level-2 scores, both at or above the thresholds: a "tmk"
 * match with both scores); an import of .tmk files matches the stored descriptors. */
#ifndef KS_PIPELINE_VSCAN_TMK_H
#define KS_PIPELINE_VSCAN_TMK_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/evidence.h"
#include "kestrel/pipeline.h"
#include "kestrel/store.h"
#include "kestrel/video.h"

/* Default wall-time budget for one video's TMK+PDQF (a full decode), seconds. */
#define KS_VTMK_SECONDS 300.0

/* One video's descriptor as a worker made it (or why there is none). */
struct ks_vtmk;
/* Decodes the whole video in data[0..len) within `seconds` of wall time (0:
 * KS_VTMK_SECONDS). Never fails: a video that cannot be read gets a record saying why. */
struct ks_vtmk *ks_vtmk_make_mem(const uint8_t *data, size_t len, double seconds);
/* The same over bytes 0..size) read through read(ctx, ...), used during the call only. */
struct ks_vtmk *ks_vtmk_make_read(ks_video_read_fn read, void *ctx, uint64_t size, double seconds);
/* The same over an evidence item (size bytes read through rd). */
struct ks_vtmk *ks_vtmk_make_reader(struct ks_item_reader *rd, uint64_t size, double seconds);
void ks_vtmk_free(struct ks_vtmk *t); /* accepts NULL */

/* The case's known videos' descriptors (TMK entries of set set_id, all sets when <= 0)
 * and the thresholds (o->tmk_level1/2, 0: 0.7 each; o may be NULL). */
struct ks_vtmk_known;
int ks_vtmk_load(struct ks_store *st, const struct ks_video_match_opts *o, int64_t set_id,
		 struct ks_vtmk_known **out, struct ks_err *err);
void ks_vtmk_known_free(struct ks_vtmk_known *k); /* accepts NULL */

/* In the writer's transaction: records t as media_id's TMK+PDQF (a media's first record
 * is kept) and, when it was recorded, matches it against k (may be NULL). Returns the
 * number of matches recorded (>= 0) or a negative status. t NULL: nothing. */
int ks_vtmk_store(struct ks_store *st, const struct ks_vtmk_known *k, int64_t media_id,
		  const struct ks_vtmk *t, struct ks_err *err);

/* After importing set set_id (inside the import's transaction): matches every stored
 * descriptor against that set's TMK entries; *matched (may be NULL) is increased by
 * the number of videos that matched. */
int ks_vtmk_rematch(struct ks_store *st, int64_t set_id, int64_t *matched, struct ks_err *err);

#endif
