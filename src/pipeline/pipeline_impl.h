/* Private to the pipeline: the record of one examined item and the group of records
 * one top-level item produces (itself plus its archive members, parents first), and
 * the count the rematch walks after an import share. */
#ifndef KS_PIPELINE_IMPL_H
#define KS_PIPELINE_IMPL_H

#include <stdint.h>

#include "kestrel/evidence.h"
#include "kestrel/hash.h"
#include "kestrel/index.h"

struct ks_exif;
struct ks_prov;
struct ks_store;
struct ks_vfp;  /* vscan.h */
struct ks_vtmk; /* vscan_tmk.h */

struct ks_rec {
	char *volume, *path;
	int state;
	uint64_t size;
	int64_t mtime, atime, ctime, crtime;
	uint64_t inode;
	int64_t offset;
	int contiguous; /* bytes are one run from offset (ks_item_info.contiguous) */
	char type[16];
	int kind;
	int hashed;
	struct ks_digests d;
	uint32_t width, height;
	int valid;
	char *note, *error;
	int parent; /* index of the container record in the group, -1 for none */
	struct ks_exif *exif; /* a picture's EXIF (provenance.c), NULL if none */
	uint64_t prov_tag;    /* staged as an app store (provenance.c), 0 if not */
	struct ks_thumb *thumb; /* review preview and PDQ (thumbs.c), NULL if none */
	struct ks_vfp *vfp;     /* a video's probe facts and vPDQ (vscan.c), NULL if none */
	struct ks_vtmk *vtmk;   /* a video's TMK+PDQF (scan --tmk, vscan_tmk.c), or NULL */
};

struct ks_group {
	struct ks_rec *recs;
	size_t n, cap;
	int64_t source_id;
	uint64_t budget_bytes; /* returned to the budget when the writer is done */
	struct ks_prov *prov;  /* stages app stores found among archive members */
};

/* Limits on archive expansion, per top-level item. */
struct ks_expand_limits {
	int max_depth;
	uint64_t max_member_bytes;
	uint64_t max_total_bytes;
	uint32_t max_members;
	double video_seconds; /* fingerprint budget per video (vscan.c); 0 = default */
	double tmk_seconds;   /* TMK+PDQF budget per video (vscan_tmk.c); 0 = no TMK */
};

/* One stored media in a walk that matches the stored media again after an import
 * (the rematches of vscan.c, vscan_tmk.c and case_pdq.c): n is what matching it
 * returned, the number of matches recorded or a negative status. The media counts once
 * in *matched when it matched; returns n when it is a status (to stop the walk), else 0. */
static inline int ks_rematch_count(int64_t *matched, int n)
{
	if (n < 0)
		return n;
	*matched += n > 0;
	return 0;
}

struct ks_rec *ks_group_add(struct ks_group *g);
void ks_group_free(struct ks_group *g);
void ks_rec_set_note(struct ks_rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ks_rec_set_error(struct ks_rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Matches the digests given (NULL: not known) against idx and records the hits in the
 * store (match.c): the number of hits recorded, or a negative status. */
int ks_match_digests(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
		     const uint8_t md5[16], const uint8_t sha1[20], const uint8_t sha256[32],
		     struct ks_err *err);

/* Examines the record at index ri of g whose whole content is data[0..len): confirms
 * its type by structure, hashes it if it is media, a container or hash_all is set,
 * and expands archives into further records of g (recursively, within lim).
 * hasher is the calling worker's own. */
void ks_examine(struct ks_group *g, size_t ri, const uint8_t *data, size_t len, int hash_all,
		const struct ks_expand_limits *lim, struct ks_hasher *hasher);

#endif
