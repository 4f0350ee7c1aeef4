/* Private to the pipeline: carving (`kestrel scan --carve`), which joins the evidence
 * layer's regions (unallocated blocks, gaps, unrecognised images) with the media
 * layer's signature search and measuring. Carved items become groups that flow
 * through the same workers and writer as the file system's items. */
#ifndef KS_CARVE_IMPL_H
#define KS_CARVE_IMPL_H

#include <stdatomic.h>
#include <stdint.h>

#include "kestrel/evidence.h"
#include "kestrel/thread.h"
#include "pipeline_impl.h"

/* What the carver needs from the scan it runs in. */
struct ks_carve_env {
	struct ks_budget *budget;
	uint64_t budget_total; /* the budget's size: no window may need more than a part */
	/* Hands a group and the bytes of its first record (data[0..len), for which len
	 * bytes of the budget are held) to the workers; takes both. */
	void (*submit)(void *ctx, struct ks_group *g, uint8_t *data, size_t len);
	void *ctx;
	int64_t source_id;
	const struct ks_expand_limits *lim;
	struct ks_hasher *hasher;     /* the reader's, for items too long to hold */
	_Atomic uint64_t *bytes_read; /* progress, may be NULL */
	_Atomic int *failed;	      /* set by the writer on an environment error */
};

struct ks_carver;

/* One carver per source, made before the walk (it learns the walk's items) and
 * freed after the workers are done. si is the source's info. */
struct ks_carver *ks_carver_new(const struct ks_carve_env *env, const struct ks_source_info *si);
void ks_carver_free(struct ks_carver *c); /* accepts NULL */

/* Tells the carver about an item of the walk (from the reader's callback), of the
 * kind its head sniffed as: items with a known image offset are what carved hits
 * are de-duplicated against. */
void ks_carver_note_item(struct ks_carver *c, const struct ks_item_info *info, int kind);

/* Whether the reader should read an item of this kind whole so that the workers
 * can look inside it for embedded pictures and videos (files the default scan
 * reads only the head of). A loose-file source whose content has no type is
 * carved as a region instead. */
int ks_carver_wants_item(const struct ks_carver *c, const struct ks_item_info *info, int kind);

/* After the walk, in the reader thread: carves every region of src
 * (ks_source_carve_regions) and submits each carved item. De-duplication rule: a
 * hit is not a second occurrence, and is not submitted, when it starts at the image
 * offset of an item the walk reported and is as long (or, cut short, no longer), or
 * when it lies inside a walked item whose bytes are one run (ks_item_info.
 * contiguous): what is inside such an item is reported with it (embedded items as
 * its children, with their image offsets; archive members; the item itself).
 * Returns KS_OK or an environment error (err set). */
int ks_carver_run(struct ks_carver *c, struct ks_source *src, ks_problem_fn problem, void *pctx,
		  struct ks_err *err);

/* Worker side: looks inside record ri of g, held whole in data[0..len), for embedded
 * pictures and videos (in files of no media type and in documents: anywhere; after
 * the end of a picture or video: in what follows it; never inside archives, whose
 * members are expanded, nor in carved items) and adds each as a child record
 * "@<offset>" of ri, examined (typed, validated, hashed) with hasher. */
void ks_carve_embedded(struct ks_group *g, size_t ri, const uint8_t *data, size_t len,
		       const struct ks_expand_limits *lim, struct ks_hasher *hasher);

/* Reader side, for an item too large to hold (size > what the reader buffers): the
 * same search streamed through rd in chunks, each find read, examined here with
 * hasher and added as a child of ri. Memory stays within the env's budget. */
void ks_carve_embedded_stream(struct ks_carver *c, struct ks_group *g, size_t ri,
			      struct ks_item_reader *rd, uint64_t size, struct ks_hasher *hasher);

#endif
