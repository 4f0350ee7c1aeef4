/* Private to the store layer: the provenance half of a backend (references from app
 * stores, their links, media known by SHA-256 only, EXIF). A backend points at one
 * `const struct ks_store_prov_ops` from its struct ks_store_ops (member prov); the
 * front end (store_prov.c) checks arguments and dispatches. The SQLite version lives
 * in sqlite_refs.c, with the hooks the SQLite backend calls. */
#ifndef KS_STORE_PROV_H
#define KS_STORE_PROV_H

#include <sqlite3.h>

#include "kestrel/exif.h"
#include "store_impl.h"

struct ks_store_prov_ops {
	int (*ref_add)(struct ks_store *st, const struct ks_ref_rec *r, int64_t *id,
		       struct ks_err *err);
	int (*ref_links_each)(struct ks_store *st, int64_t exhibit_id, ks_ref_link_fn fn, void *ctx,
			      struct ks_err *err);
	int (*ref_set_link)(struct ks_store *st, const struct ks_ref_link *l, struct ks_err *err);
	int (*exhibit_files_each)(struct ks_store *st, int64_t exhibit_id, ks_file_brief_fn fn,
				  void *ctx, struct ks_err *err);
	int (*media_by_sha256)(struct ks_store *st, const uint8_t sha256[32], int kind,
			       int64_t size, int64_t *id, int *is_new, struct ks_err *err);
	int (*media_hash_only_each)(struct ks_store *st, ks_media_sha256_fn fn, void *ctx,
				    struct ks_err *err);
	int (*exif_put)(struct ks_store *st, int64_t media_id, const struct ks_exif *x,
			struct ks_err *err);
	int (*refs_each)(struct ks_store *st, ks_ref_row_fn fn, void *ctx, struct ks_err *err);
	int (*exif_each)(struct ks_store *st, ks_exif_row_fn fn, void *ctx, struct ks_err *err);
};

/* ---- SQLite (sqlite_refs.c) ------------------------------------------------------- */
extern const struct ks_store_prov_ops ks_store_sqlite_prov_ops;

/* The connection of an open SQLite store (sqlite_backend.c). */
sqlite3 *ks_store_sqlite_handle(struct ks_store *st);

/* Schema step: creates the provenance tables if they do not exist. The backend runs
 * it inside case creation and on every read-write open. */
int ks_sqref_schema(sqlite3 *db, struct ks_err *err);

/* Completes a media row known by hash only with the digests and facts of m; *done is
 * 1 when the row was such a row (and is now complete), 0 otherwise. */
int ks_sqref_media_complete(sqlite3 *db, int64_t id, const struct ks_media_rec *m, int *done,
			    struct ks_err *err);

/* Provenance for files_each: loads every reference once, then fills refs/nrefs/exif
 * of each row (pointers valid until the next row or the free). */
struct ks_sqref_attach;
int ks_sqref_attach_new(sqlite3 *db, struct ks_sqref_attach **out, struct ks_err *err);
int ks_sqref_attach_row(struct ks_sqref_attach *a, struct ks_file_row *r, struct ks_err *err);
void ks_sqref_attach_free(struct ks_sqref_attach *a); /* accepts NULL */

/* What the matches say about one media, as files_each says it: the category (a
 * category in the case's scheme beats other schemes, then higher severity, then the
 * lower hash-set id; ignore-role sets only mark known-good) and the match text. */
struct ks_sqref_msum {
	int64_t media;
	char *scheme, *category; /* NULL: uncategorised */
	char *match;             /* "set (how); …" */
	int known_good;
};
struct ks_sqref_msums {
	struct ks_sqref_msum *v; /* by media id */
	size_t n, cap;
};
/* Appends to *ms the summaries of every media with a match, or only of those the
 * subquery `which` selects (NULL: all). scheme is the case's scheme, or NULL to read it
 * from the case row. On failure *ms may hold part; release it either way. */
int ks_sqref_msums_load(sqlite3 *db, const char *which, const char *scheme,
			struct ks_sqref_msums *ms, struct ks_err *err);
/* The summary of one media, or NULL when it has no match. */
const struct ks_sqref_msum *ks_sqref_msum_find(const struct ks_sqref_msums *ms, int64_t media);
void ks_sqref_msums_release(struct ks_sqref_msums *ms); /* back to empty */

#endif
