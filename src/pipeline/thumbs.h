/* Private to the pipeline: review previews made at scan time, while a worker holds an
 * item's bytes (the case keeps no copy of evidence, so this is the only chance). A
 * picture gets a small JPEG (EXIF orientation applied) and its PDQ (a video's contact
 * sheet comes with its fingerprint, vscan.h). The writer stores them with
 * ks_thumb_store. */
#ifndef KS_PIPELINE_THUMBS_H
#define KS_PIPELINE_THUMBS_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/store.h"

/* Long side of a picture preview, in pixels (never upscaled). */
#define KS_THUMB_SIDE 256

struct ks_thumb;

/* Makes the preview of a whole item data[0..len) of kind (enum ks_kind; pictures
 * only, else NULL). Never fails: a picture that cannot be decoded gets a
 * preview of kind "none" with a note saying why. Uses per-thread decoders. */
struct ks_thumb *ks_thumb_make(int kind, const uint8_t *data, size_t len);
void ks_thumb_free(struct ks_thumb *t); /* accepts NULL */

/* Records t as media_id's preview (a media's first preview is kept). Needs the
 * writer's transaction. */
int ks_thumb_store(struct ks_store *st, int64_t media_id, const struct ks_thumb *t,
		   struct ks_err *err);
/* The PDQ computed with t (fast mode), as the 16 words of struct ks_pdq_hash, and its
 * quality: 0, or -1 when t has none (not a picture, or undecodable). */
int ks_thumb_pdq(const struct ks_thumb *t, uint16_t w[16], int *quality);

#endif
