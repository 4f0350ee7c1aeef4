/* Private to the pipeline: the case's own PDQ lists as an index file (case_pdq.c). */
#ifndef KS_PIPELINE_CASE_PDQ_H
#define KS_PIPELINE_CASE_PDQ_H

#include "kestrel/index.h"
#include "kestrel/store.h"

/* Builds an index file of the known stills' PDQ hashes in the case's hash sets (PDQ
 * lists imported into the case; frames of known videos are left to the video stage),
 * opens it and attaches it to idx, so that ks_index_lookup_pdq near-matches pictures
 * against them as against index files. *out gets the open file (close it after the
 * scan), or NULL when the case holds no such hashes. The file is written in case_dir
 * and unlinked once open. */
int ks_case_pdq_attach(struct ks_store *st, struct ks_index *idx, const char *case_dir,
		       struct ks_hashdb **out, struct ks_err *err);

/* After importing set set_id (inside the import's transaction): every stored
 * picture's PDQ (quality >= KS_PDQ_QUALITY_FLOOR) is looked up within the default
 * radius in the set's known stills and the matches recorded as the scan records them.
 * *matched (may be NULL) is increased by the number of media that matched. */
int ks_case_pdq_rematch(struct ks_store *st, int64_t set_id, const char *case_dir,
			int64_t *matched, struct ks_err *err);

#endif
