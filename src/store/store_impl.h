/* Private contract between the store front end (store.c) and its backends. A backend
 * is one `static const struct ks_store_ops` in its own file and one row in the
 * registry in store.c; its handle embeds struct ks_store as the first member so the
 * front end can dispatch without knowing the backend's type. */
#ifndef KESTREL_STORE_IMPL_H
#define KESTREL_STORE_IMPL_H

#include "kestrel/store.h"

/* First member of every backend's handle. */
struct ks_store {
	const struct ks_store_ops *ops;
	int readonly; /* opened for reading only: the front end refuses writes */
	int in_tx;    /* inside ks_store_begin / ks_store_begin_read */
};

struct ks_store_prov_ops; /* store_prov.h */
struct ks_store_review_ops; /* store_review_impl.h */
struct ks_store_video_ops; /* store_video_impl.h */

struct ks_store_ops {
	const char *name;
	/* Confidence 0..100 that case_dir holds a case of this backend. */
	int (*probe)(const char *case_dir);
	/* Makes the case's storage in the existing, empty-of-case folder case_dir and
	 * writes the case row (meta->created already filled). */
	int (*create)(const char *case_dir, const struct ks_case_meta *meta, struct ks_err *err);
	int (*open)(const char *case_dir, int readonly, struct ks_store **out, struct ks_err *err);
	void (*close)(struct ks_store *st);
	int (*get_case)(struct ks_store *st, struct ks_case_meta *out, struct ks_err *err);

	int (*begin)(struct ks_store *st, struct ks_err *err);
	int (*begin_read)(struct ks_store *st, struct ks_err *err);
	int (*commit)(struct ks_store *st, struct ks_err *err);
	int (*rollback)(struct ks_store *st);

	/* Appends one audit row; the front end has made sure a write transaction is
	 * open. prev_hash chaining is the backend's job (it knows the last row). */
	int (*audit)(struct ks_store *st, int64_t at, const char *who, const char *action,
		     const char *detail, struct ks_err *err);
	/* Calls fn for every audit row in seq order. */
	int (*audit_each)(struct ks_store *st,
			  int (*fn)(void *ctx, const struct ks_audit_row *r), void *ctx,
			  struct ks_err *err);

	int (*exhibit_get)(struct ks_store *st, const char *ref, int64_t *id, struct ks_err *err);
	int (*source_add)(struct ks_store *st, int64_t exhibit_id, const char *path,
			  const char *kind, uint64_t size, int64_t *id, struct ks_err *err);
	int (*source_set_hash)(struct ks_store *st, int64_t source_id, int after, const char *md5,
			       const char *sha1, struct ks_err *err);
	int (*source_finish)(struct ks_store *st, int64_t source_id, const char *status,
			     struct ks_err *err);
	int (*source_find)(struct ks_store *st, int64_t exhibit_id, const char *path, int64_t *id,
			   char **status, struct ks_err *err);
	int (*source_forget)(struct ks_store *st, int64_t source_id, struct ks_err *err);

	int (*media_put)(struct ks_store *st, const struct ks_media_rec *m, int64_t *id,
			 int *is_new, struct ks_err *err);
	int (*file_add)(struct ks_store *st, const struct ks_file_rec *f, int64_t *id,
			struct ks_err *err);

	int (*hashset_add)(struct ks_store *st, const struct ks_hashset_meta *m, int64_t *id,
			   struct ks_err *err);
	int (*hashset_set_count)(struct ks_store *st, int64_t id, int64_t entries,
				 struct ks_err *err);
	int (*hashentry_add)(struct ks_store *st, int64_t set_id, const struct ks_hash_entry *e,
			     struct ks_err *err);
	int (*hashsets_each)(struct ks_store *st, ks_hashset_fn fn, void *ctx, struct ks_err *err);
	int (*load_index)(struct ks_store *st, struct ks_index *idx, struct ks_err *err);
	int (*match_add)(struct ks_store *st, int64_t media_id, int64_t set_id, const char *how,
			 const char *scheme, const char *category, int severity,
			 struct ks_err *err);
	int (*media_each)(struct ks_store *st, ks_media_fn fn, void *ctx, struct ks_err *err);

	int (*files_each)(struct ks_store *st, ks_file_row_fn fn, void *ctx, struct ks_err *err);
	int (*sources_each)(struct ks_store *st, ks_source_row_fn fn, void *ctx,
			    struct ks_err *err);
	/* References, links, media known by hash only, EXIF; NULL: not kept. */
	const struct ks_store_prov_ops *prov;
	/* Previews, accounts, groups, grades, welfare; NULL: not kept. */
	const struct ks_store_review_ops *review;
	/* Video facts, vPDQ, PDQ of hash-set entries, video matches; NULL: not kept. */
	const struct ks_store_video_ops *video;
};

extern const struct ks_store_ops ks_store_sqlite_ops;

/* The audit chain's hash of one row: SHA-256 (hex) over
 * prev_hash|seq|at|who|action|detail, where the text fields have '\' and '|'
 * escaped with a backslash so that no two rows hash the same text. out: 65 bytes. */
void ks_store_audit_hash(const char *prev_hash, int64_t seq, int64_t at, const char *who,
			 const char *action, const char *detail, char out[65]);

#endif
