/* Private to the pipeline: near matching of a new media's PDQ, taken from the preview
 * the workers made (index_scan.c). */
#ifndef KS_PIPELINE_INDEX_SCAN_H
#define KS_PIPELINE_INDEX_SCAN_H

#include "kestrel/index.h"
#include "kestrel/store.h"
#include "thumbs.h"

/* Looks up t's PDQ (if it has one of quality >= KS_PDQ_QUALITY_FLOOR) in the index
 * files attached to idx and records each match with its distance. Returns the number
 * of matches recorded (0 without a PDQ or an attached file) or a negative status.
 * Needs the writer's transaction. */
int ks_match_thumb_near(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
			const struct ks_thumb *t, struct ks_err *err);

#endif
