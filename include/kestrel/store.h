/* kestrel store layer: the case. One folder per case; case.db (SQLite, WAL) by
 * default. Backends are a table of function pointers (struct ks_store_ops) so a
 * PostgreSQL backend can follow; every public function below dispatches to the open
 * backend. Writes happen inside ks_store_begin/commit so a crash leaves the last
 * committed batch and nothing half-written. */
#ifndef KESTREL_STORE_H
#define KESTREL_STORE_H

#include <stdint.h>

#include "kestrel/base.h"
#include "kestrel/hash.h"
#include "kestrel/index.h"

struct ks_store;
struct ks_exif;    /* kestrel/exif.h */
struct ks_ref_row; /* below */
struct ks_video_row; /* kestrel/store_video.h */

/* Version of the case schema this build writes; a case with another version is
 * refused by ks_store_open (no silent migration of evidence records). */
#define KS_STORE_SCHEMA_VERSION 1

struct ks_case_meta {
	const char *ref;      /* case reference */
	const char *examiner; /* who created it */
	const char *scheme;   /* category scheme of the case: "uk" (default) or "vics-us" */
	int64_t created;
};

/* Creates CASE_DIR (must not hold a case yet) and its store with the default backend,
 * and writes the first audit row "case.create" (who = meta->examiner). meta->scheme
 * NULL means "uk"; meta->created 0 means now. */
int ks_store_create(const char *case_dir, const struct ks_case_meta *meta, struct ks_err *err);
/* Opens an existing case. readonly=1 for reports. */
int ks_store_open(const char *case_dir, int readonly, struct ks_store **out, struct ks_err *err);
void ks_store_close(struct ks_store *st); /* accepts NULL */
/* Case metadata; strings are owned by the store until close. */
int ks_store_get_case(struct ks_store *st, struct ks_case_meta *out, struct ks_err *err);

/* Write transaction (takes the write lock at once; waits up to the busy timeout for
 * other writers). Transactions do not nest: begin inside one is KS_E_USAGE. Every
 * write function below needs a handle opened read-write; ks_store_audit may also be
 * called outside a transaction (it then commits its own row). */
int ks_store_begin(struct ks_store *st, struct ks_err *err);
/* Read transaction: every read until commit/rollback sees one consistent snapshot
 * (reports read the case twice and must see the same case both times). */
int ks_store_begin_read(struct ks_store *st, struct ks_err *err);
int ks_store_commit(struct ks_store *st, struct ks_err *err);
int ks_store_rollback(struct ks_store *st); /* best effort, never fails loudly */

/* Appends to the hash-chained audit log (who, action, detail, time, hash of previous). */
int ks_store_audit(struct ks_store *st, const char *who, const char *action, const char *detail,
		   struct ks_err *err);
/* Recomputes the chain; KS_OK if intact, KS_E_EVIDENCE with the first bad row if not.
 * *rows (may be NULL) gets the number of rows checked and found good. The chain is
 * SHA-256 (hex) over prev_hash|seq|at|who|action|detail with backslash and '|' in the
 * text fields escaped by a backslash; the first row's prev_hash is 64 zeros. Rows
 * must be numbered 1, 2, 3 … without gaps. (Removing the newest rows cannot be seen
 * from the chain alone: export the head hash to detect that.) */
int ks_store_audit_verify(struct ks_store *st, int64_t *rows, struct ks_err *err);

struct ks_audit_row {
	int64_t seq, at;
	const char *who, *action, *detail;
	const char *prev_hash, *hash; /* hex */
};
/* Every audit row in seq order; strings are borrowed for the call. fn returns 0 to go
 * on, anything else stops the walk and is returned. */
int ks_store_audit_each(struct ks_store *st, int (*fn)(void *ctx, const struct ks_audit_row *r),
			void *ctx, struct ks_err *err);

/* ---- exhibits and sources ------------------------------------------------------ */
/* Get-or-create by reference. */
int ks_store_exhibit_get(struct ks_store *st, const char *ref, int64_t *id, struct ks_err *err);
int ks_store_source_add(struct ks_store *st, int64_t exhibit_id, const char *path, const char *kind,
			uint64_t size, int64_t *id, struct ks_err *err);
/* phase "before" or "after"; hex strings. Mismatch between the two is for callers
 * to report; the store records both. */
int ks_store_source_set_hash(struct ks_store *st, int64_t source_id, const char *phase,
			     const char *md5, const char *sha1, struct ks_err *err);
/* Marks a source's scan finished (status "complete" / "failed: …"). */
int ks_store_source_finish(struct ks_store *st, int64_t source_id, const char *status,
			   struct ks_err *err);

/* The latest source recorded for (exhibit, path): *id = 0 when there is none; else
 * *status gets its status text ("running" while a scan is in progress or was
 * interrupted, "complete", …), which the caller frees. */
int ks_store_source_find(struct ks_store *st, int64_t exhibit_id, const char *path, int64_t *id,
			 char **status, struct ks_err *err);
/* Deletes a source and every file occurrence found in it (media rows, which other
 * sources may share, stay): how an interrupted scan of that source is redone. */
int ks_store_source_forget(struct ks_store *st, int64_t source_id, struct ks_err *err);

/* ---- media (unique content) and files (each occurrence) -------------------------- */
struct ks_media_rec {
	const struct ks_digests *d;
	uint64_t size;
	const char *type; /* media type name ("jpeg"), "data" when unknown */
	int kind;         /* enum ks_kind */
	uint32_t width, height;
	int valid;        /* enum ks_valid */
};
/* Inserts the media or finds it by SHA-256; *is_new tells which. */
int ks_store_media_put(struct ks_store *st, const struct ks_media_rec *m, int64_t *id, int *is_new,
		       struct ks_err *err);

struct ks_file_rec {
	int64_t exhibit_id, source_id;
	int64_t media_id;  /* 0: content not hashed (non-media without --hash-all) */
	int64_t parent_id; /* file id of the container (archive) or 0 */
	const char *volume;
	const char *path;  /* for archive members: path inside the archive */
	int state;         /* enum ks_state */
	uint64_t size;
	int64_t mtime, atime, ctime, crtime;
	uint64_t inode;
	int64_t offset;    /* -1 unknown */
	const char *type;  /* media type name or "data" */
	int kind;
	const char *note;  /* may be NULL */
	const char *error; /* bad-evidence error for this item, or NULL */
};
int ks_store_file_add(struct ks_store *st, const struct ks_file_rec *f, int64_t *id,
		      struct ks_err *err);

/* ---- hash sets and matches ------------------------------------------------------ */
struct ks_hashset_meta {
	int64_t id;
	const char *name;
	const char *format;     /* importer name */
	const char *scheme;     /* stored scheme of its categories */
	const char *role;       /* "alert" or "ignore" */
	const char *source_path;
	const char *source_sha256;
	int64_t imported;
	int64_t entries;
};
int ks_store_hashset_add(struct ks_store *st, const struct ks_hashset_meta *m, int64_t *id,
			 struct ks_err *err);
int ks_store_hashset_set_count(struct ks_store *st, int64_t id, int64_t entries, struct ks_err *err);
int ks_store_hashentry_add(struct ks_store *st, int64_t set_id, const struct ks_hash_entry *e,
			   struct ks_err *err);
typedef int (*ks_hashset_fn)(void *ctx, const struct ks_hashset_meta *m);
int ks_store_hashsets_each(struct ks_store *st, ks_hashset_fn fn, void *ctx, struct ks_err *err);
/* Loads every entry of every set into idx (the in-memory exact index). */
int ks_store_load_index(struct ks_store *st, struct ks_index *idx, struct ks_err *err);

/* Records that media matched an entry of a set (duplicates are ignored). severity is
 * the category's severity in its scheme (-1 for uncategorised), used to pick the
 * most serious match as the media's category. */
int ks_store_match_add(struct ks_store *st, int64_t media_id, int64_t set_id, const char *how,
		       const char *scheme, const char *category, int severity, struct ks_err *err);
/* Records a near (PDQ) match, how "pdq", with its Hamming distance and the hex hash of
 * the entry matched (match.distance, match.matched). Per (media, set) the closest
 * entry is kept (on a tie, the more serious category). */
int ks_store_match_near_add(struct ks_store *st, int64_t media_id, int64_t set_id,
			    const char *scheme, const char *category, int severity, int distance,
			    const char *matched, struct ks_err *err);

/* Every media's PDQ of quality >= min_quality, in media id order (for near matching
 * after an import): hash as 32 bytes (kestrel/index.h). fn returning nonzero stops the
 * walk and is returned. KS_E_UNSUPPORTED from a store that keeps none. */
typedef int (*ks_media_pdq_fn)(void *ctx, int64_t media_id, const uint8_t pdq[32], int quality);
int ks_store_media_pdq_each(struct ks_store *st, int min_quality, ks_media_pdq_fn fn, void *ctx,
			    struct ks_err *err);

typedef int (*ks_media_fn)(void *ctx, int64_t media_id, const struct ks_digests *d);
/* Every media, in id order (for matching again after an import). */
int ks_store_media_each(struct ks_store *st, ks_media_fn fn, void *ctx, struct ks_err *err);

/* ---- reading back: one row per file occurrence ---------------------------------- */
struct ks_file_row {
	int64_t file_id, media_id, parent_id;
	const char *exhibit;   /* exhibit reference */
	const char *source;    /* evidence path */
	const char *volume;
	const char *path;      /* full display path: container chain joined with " › " */
	int state;
	int in_container;      /* 1 if inside an archive or document */
	uint64_t size;
	int64_t mtime, atime, ctime, crtime;
	int64_t offset;
	const char *type;
	int kind;
	int valid;             /* of the media, -1 when not hashed */
	const char *md5, *sha1, *sha256; /* hex, "" when not hashed */
	const char *scheme;    /* category scheme, NULL when uncategorised */
	const char *category;  /* most serious category over alert matches, NULL if none:
	                          matches in the case's scheme win over other schemes, then
	                          higher severity, then the lower hash-set id */
	const char *match;     /* "set-name (md5)", "; "-joined, "" if none */
	int known_good;        /* matched an ignore-role set */
	const char *note, *error;
	/* Provenance: the references that point at this media or name this occurrence
	 * as their thumbnail (reference id order), and the media's EXIF; NULL/0 when
	 * none. Borrowed for the call like the rest. */
	const struct ks_ref_row *const *refs;
	size_t nrefs;
	const struct ks_exif *exif;
	/* Review (kestrel/store_review.h): the media's grade state (enum ks_grade_state,
	 * 0 = not graded), who graded and who verified it (NULL if nobody). A verified or
	 * resolved grade is the row's category (scheme and category above). */
	int grade_state;
	const char *grader, *verifier;
	/* Video (kestrel/store_video.h): the media's probe facts, fingerprint count and
	 * video matches with frame times; NULL when it is not a video the scan looked at. */
	const struct ks_video_row *video;
};
typedef int (*ks_file_row_fn)(void *ctx, const struct ks_file_row *r);
/* Every file row in a stable order (exhibit ref, source path, display path, file id):
 * the same case gives the same sequence. Strings are borrowed for the call; fn returns
 * 0 to go on, anything else stops the walk and is returned. */
int ks_store_files_each(struct ks_store *st, ks_file_row_fn fn, void *ctx, struct ks_err *err);

struct ks_source_row {
	const char *exhibit, *path, *kind, *status;
	uint64_t size;
	const char *md5_before, *sha1_before, *md5_after, *sha1_after;
};
typedef int (*ks_source_row_fn)(void *ctx, const struct ks_source_row *r);
/* Every source in (exhibit ref, path, id) order; hashes "" when not recorded. */
int ks_store_sources_each(struct ks_store *st, ks_source_row_fn fn, void *ctx, struct ks_err *err);

/* ---- provenance: references from app stores, EXIF (store_prov.c) ------------------ */
/* One reference found in an app store (chat message, download record, thumbnail
 * cache entry, media catalogue row): what the store says, and what the scan linked it
 * to. Strings may be NULL (the store has no value). */
struct ks_ref_rec {
	int64_t exhibit_id, source_id;
	int64_t artefact_file_id; /* file row of the store itself, 0 unknown */
	const char *parser, *app; /* "whatsapp-android", "WhatsApp" */
	const char *kind;         /* "sent" "received" "download" "thumbnail" "media-store" */
	const char *record;       /* locator inside the store: "message 12" */
	const char *peer, *peer_name, *chat, *chat_name;
	int64_t time;             /* Unix seconds UTC, 0 unknown */
	const char *time_raw, *time_src, *time_what; /* as stored, its unit, what it dates */
	const char *url, *referrer, *path, *name, *thumb_path, *mime;
	int64_t size; /* bytes per the store, -1 unknown */
	const char *owner;
	const uint8_t *sha256; /* the 32 bytes the app recorded for the media, or NULL */
	const char *note;
	/* Links, 0 / NULL for none. */
	int64_t media_id;      /* the media it points at */
	int64_t file_id;       /* the occurrence its path names */
	int64_t thumb_file_id; /* its thumbnail: an item made from the store's bytes, or the
	                          file its thumb_path names */
	const char *link_how;  /* how media_id was found: "sha256" "path" "thumbnail"
	                          "thumb_path" */
};
/* Records a reference; *id (may be NULL) gets its id. Needs a write transaction. */
int ks_store_ref_add(struct ks_store *st, const struct ks_ref_rec *r, int64_t *id,
		     struct ks_err *err);

/* What the linking pass needs of a reference. */
struct ks_ref_link {
	int64_t id;
	const char *parser, *app, *path, *thumb_path;
	int64_t media_id, file_id, thumb_file_id;
	const char *link_how;
};
typedef int (*ks_ref_link_fn)(void *ctx, const struct ks_ref_link *l);
/* References of an exhibit that carry a path or a thumb_path, in id order. Strings are
 * borrowed for the call; fn returns 0 to go on. Do not write references from fn. */
int ks_store_ref_links_each(struct ks_store *st, int64_t exhibit_id, ks_ref_link_fn fn, void *ctx,
			    struct ks_err *err);
/* Sets media_id, file_id, thumb_file_id and link_how of reference l->id. */
int ks_store_ref_set_link(struct ks_store *st, const struct ks_ref_link *l, struct ks_err *err);

/* An occurrence as the linking pass sees it (path: as recorded, for an archive
 * member the path inside its archive). */
struct ks_file_brief {
	int64_t file_id, media_id;
	const char *path;
	int state;
};
typedef int (*ks_file_brief_fn)(void *ctx, const struct ks_file_brief *f);
/* Every file row of an exhibit, in id order. */
int ks_store_exhibit_files_each(struct ks_store *st, int64_t exhibit_id, ks_file_brief_fn fn,
				void *ctx, struct ks_err *err);

/* The media with this SHA-256, or a new one known by that hash only (an app recorded
 * the hash of a picture whose bytes are gone): md5/sha1 unknown, type "hash-only",
 * kind (enum ks_kind) and size (-1 unknown) as the store says. *is_new is 1 when
 * inserted. When the bytes turn up later, ks_store_media_put completes that row and
 * reports it as new, so it is matched on every digest. KS_E_UNSUPPORTED for a case
 * made before media could be known by hash only. */
int ks_store_media_by_sha256(struct ks_store *st, const uint8_t sha256[32], int kind, int64_t size,
			     int64_t *id, int *is_new, struct ks_err *err);
typedef int (*ks_media_sha256_fn)(void *ctx, int64_t media_id, const uint8_t sha256[32]);
/* Every media known by its SHA-256 only, in id order (ks_store_media_each skips them). */
int ks_store_media_hash_only_each(struct ks_store *st, ks_media_sha256_fn fn, void *ctx,
				  struct ks_err *err);

/* Records the EXIF of a media (kestrel/exif.h); the first record of a media is kept. */
int ks_store_exif_put(struct ks_store *st, int64_t media_id, const struct ks_exif *x,
		      struct ks_err *err);

/* A reference read back, with what it is linked to. */
struct ks_ref_row {
	int64_t id;
	const char *exhibit, *source; /* exhibit reference, evidence path */
	const char *artefact;  /* display path of the store's file, "" if unknown */
	struct ks_ref_rec r;   /* as recorded (r.sha256: 32 bytes or NULL) */
	const char *sha256;    /* hex of r.sha256, "" when none */
	const char *file;      /* display path of r.file_id, NULL when none */
	const char *thumb;     /* display path of r.thumb_file_id, NULL when none */
	/* The linked media (r.media_id != 0): */
	const char *media_sha256, *media_md5; /* hex; media_md5 "" when known by hash only */
	int media_kind;        /* enum ks_kind, -1 when not linked */
	int64_t media_files;   /* its occurrences in the case (0: known by hash only) */
	const char *scheme, *category; /* most serious category, as ks_file_row; NULL */
	const char *match;     /* "set (how); …", "" when none */
	int known_good;
};
typedef int (*ks_ref_row_fn)(void *ctx, const struct ks_ref_row *r);
/* Every reference in (exhibit reference, id) order; borrowed strings; fn returns 0 to
 * go on. An older case without the reference table has none. */
int ks_store_refs_each(struct ks_store *st, ks_ref_row_fn fn, void *ctx, struct ks_err *err);

struct ks_exif_row {
	int64_t media_id;
	const char *sha256, *md5; /* hex */
	int kind;
	const char *exhibit, *path;    /* its first occurrence (display path) */
	const char *scheme, *category; /* as ks_file_row */
	const struct ks_exif *exif;
};
typedef int (*ks_exif_row_fn)(void *ctx, const struct ks_exif_row *r);
/* Every media with EXIF, in (body serial, make, model, SHA-256) order. */
int ks_store_exif_each(struct ks_store *st, ks_exif_row_fn fn, void *ctx, struct ks_err *err);

/* ---- backends --------------------------------------------------------------------- */
/* Implementations embed nothing; each is one static const struct in its own file and
 * one row in the registry (store.c). The SQLite backend is the default. */
struct ks_store_ops;
const struct ks_store_ops *ks_store_backend(const char *name);

#endif
