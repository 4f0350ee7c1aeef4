/* Private to the pipeline: provenance wiring (provenance.c). During the walk the
 * reader offers app stores (chat databases, thumbnail caches, browser histories) to
 * the artefact stage; the writer notes the file row each store became; after the
 * walk the stores are parsed into references, thumbnails held inside them become
 * items (state cache), and references are linked to media by SHA-256, thumbnail or
 * path. Workers read the EXIF of pictures and make embedded thumbnails child items. */
#ifndef KS_PIPELINE_PROVENANCE_H
#define KS_PIPELINE_PROVENANCE_H

#include "kestrel/evidence.h"
#include "kestrel/index.h"
#include "kestrel/store.h"
#include "pipeline_impl.h"

/* Path of the child record made from a picture's EXIF thumbnail. */
#define KS_PROV_EXIF_THUMB "exif-thumbnail"

struct ks_prov;

/* Per scan: the stage's private copies go under <case_dir>/tmp (made 0700). */
int ks_prov_new(const char *case_dir, struct ks_prov **out, struct ks_err *err);
void ks_prov_free(struct ks_prov *p); /* accepts NULL; deletes every private copy */

/* Reader, for every top-level item once its head is read: stages the item if it is
 * an app store (or a -wal / -journal of one). A store over the limits or unreadable
 * is noted on r (its file row); r->prov_tag is set when staged. Returns KS_OK, or
 * KS_E_ENV when the private directory fails. */
int ks_prov_offer(struct ks_prov *p, const struct ks_item_info *info, struct ks_item_reader *rd,
		  const uint8_t *head, size_t hlen, struct ks_rec *r, struct ks_err *err);

/* Worker, for an archive member (record ri of g, whole content data[0..len) unless
 * truncated): stages it if it is an app store, as ks_prov_offer does. Thread-safe. */
void ks_prov_offer_member(struct ks_group *g, size_t ri, const uint8_t *data, size_t len,
			  int truncated);

/* Writer: the record tagged tag (r->prov_tag) became file row file_id. Thread-safe
 * against ks_prov_offer. */
void ks_prov_note_file(struct ks_prov *p, uint64_t tag, int64_t file_id);

/* One source's provenance run (after the walk, with the writer finished). */
struct ks_prov_run {
	struct ks_store *st;
	const struct ks_index *idx; /* may be NULL */
	int64_t exhibit_id, source_id;
	int hash_all;
	const struct ks_expand_limits *lim;
	ks_problem_fn problem; /* a store that cannot be parsed; may be NULL */
	void *problem_ctx;
	const char *who; /* for the audit row ("scan.artefacts"); NULL: "" */
	/* out: what was added */
	uint64_t refs, files, media, pictures, videos, matches, errors;
};
/* Parses every store staged for the source, records the references (and an audit row
 * saying how many stores and references), makes items of
 * the thumbnails held in the stores (hashed, matched, parent = the store's file row),
 * links references to media (best first: the SHA-256 the app recorded, the file its
 * path names, the thumbnail it held, a thumbnail file it names), then forgets the
 * staged stores.
 * Returns KS_OK or an environment error. */
int ks_prov_finish(struct ks_prov *p, struct ks_prov_run *run, struct ks_err *err);

/* Links the references of an exhibit that name a path or thumbnail path to the
 * exhibit's file rows, archive members included (suffix match). Needs a write
 * transaction. */
int ks_prov_link_exhibit(struct ks_store *st, int64_t exhibit_id, struct ks_err *err);

/* Worker: reads the EXIF of the picture record ri (data: what is held of it) into
 * its record, and makes its embedded thumbnail a child record examined like any
 * item (path KS_PROV_EXIF_THUMB, the picture's state). */
void ks_prov_exif(struct ks_group *g, size_t ri, const uint8_t *data, size_t len, int hash_all,
		  const struct ks_expand_limits *lim, struct ks_hasher *hasher);

/* Matches every media known by SHA-256 only against idx (after a hash-set import);
 * *matched (may be NULL) is increased by the media that got a hit. */
int ks_prov_rematch(struct ks_store *st, const struct ks_index *idx, int64_t *matched,
		    struct ks_err *err);

#endif
