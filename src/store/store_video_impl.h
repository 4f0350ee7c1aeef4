/* Private contract between the video front end (store_video.c) and the backends: the
 * video part of a backend is one more table of function pointers, reached from
 * struct ks_store_ops through its `video` member. Arguments are checked by the front
 * end before these are called. The SQLite backend also calls the sqlite_video.c
 * functions below directly (schema step, hash-set PDQ rows, file rows' video part). */
#ifndef KESTREL_STORE_VIDEO_IMPL_H
#define KESTREL_STORE_VIDEO_IMPL_H

#include <sqlite3.h>

#include "kestrel/store_video.h"
#include "store_impl.h"

struct ks_store_video_ops {
	int (*put)(struct ks_store *st, int64_t media, const struct ks_video_facts *f,
		   const struct ks_video_feature *feat, size_t n, int *stored, struct ks_err *err);
	int (*features_each)(struct ks_store *st, ks_video_features_fn fn, void *ctx,
			     struct ks_err *err);
	int (*pdq_entries_each)(struct ks_store *st, int64_t set_id, ks_pdq_entry_fn fn, void *ctx,
				struct ks_err *err);
	int (*match_add)(struct ks_store *st, const struct ks_video_match_rec *m,
			 struct ks_err *err);
	int (*get)(struct ks_store *st, int64_t media, struct ks_video_row **out,
		   struct ks_err *err);
	/* TMK+PDQF (sqlite_tmk.c for SQLite); NULL in a backend that keeps none */
	int (*tmk_put)(struct ks_store *st, int64_t media, const struct ks_video_tmk_facts *f,
		       const uint8_t *tmk, size_t len, int *stored, struct ks_err *err);
	int (*tmk_each)(struct ks_store *st, ks_video_tmk_fn fn, void *ctx, struct ks_err *err);
	int (*tmk_entries_each)(struct ks_store *st, int64_t set_id, ks_tmk_entry_fn fn, void *ctx,
				struct ks_err *err);
	int (*tmk_entry_get)(struct ks_store *st, int64_t entry, struct ks_buf *out,
			     struct ks_err *err);
};

extern const struct ks_store_video_ops ks_store_sqlite_video_ops;

/* Creates the video tables if they are missing (CREATE … IF NOT EXISTS): run by the
 * SQLite backend on create and on every read-write open. */
int ks_sq_video_schema(sqlite3 *db, struct ks_err *err);

/* Keeps the PDQ hash (and, for a frame of a known video, its frame and time) of the
 * hash-set entry just inserted as row entry_id of set set_id. Does nothing for an
 * entry without KS_HAS_PDQ. */
int ks_sq_video_entry_pdq(sqlite3 *db, int64_t entry_id, int64_t set_id,
			  const struct ks_hash_entry *e, struct ks_err *err);

/* The TMK+PDQF tables (sqlite_tmk.c): video_tmk (each video's descriptor and how it
 * went), hashentry_tmk (known videos' descriptors) and video_tmk_score (the two scores
 * of each "tmk" video match). Created if missing, on create and read-write open. */
int ks_sq_tmk_schema(sqlite3 *db, struct ks_err *err);
/* Keeps the descriptor of the hash-set entry just inserted (row entry_id of set
 * set_id); does nothing for an entry without one (e->tmk NULL). */
int ks_sq_tmk_entry(sqlite3 *db, int64_t entry_id, int64_t set_id, const struct ks_hash_entry *e,
		    struct ks_err *err);
/* Keeps a "tmk" match's scores (the larger sum replaces an earlier record). */
int ks_sq_tmk_score(sqlite3 *db, const struct ks_video_match_rec *m, struct ks_err *err);
/* Fills rows[0..n) with their TMK facts and their "tmk" matches' scores (strings
 * allocated: released by ks_sq_tmk_release). A case without the tables has none. */
int ks_sq_tmk_fill(sqlite3 *db, struct ks_video_row *rows, size_t n, struct ks_err *err);
void ks_sq_tmk_release(struct ks_video_row *r);
int ks_sq_tmk_put(struct ks_store *st, int64_t media, const struct ks_video_tmk_facts *f,
		  const uint8_t *tmk, size_t len, int *stored, struct ks_err *err);
int ks_sq_tmk_each(struct ks_store *st, ks_video_tmk_fn fn, void *ctx, struct ks_err *err);
int ks_sq_tmk_entries_each(struct ks_store *st, int64_t set_id, ks_tmk_entry_fn fn, void *ctx,
			   struct ks_err *err);
int ks_sq_tmk_entry_get(struct ks_store *st, int64_t entry, struct ks_buf *out,
			struct ks_err *err);

/* Every video row with its matches, loaded once per walk of the files; a case without
 * the video tables (opened read-only before any video scan) has none. */
struct ks_sq_videos;
int ks_sq_videos_load(sqlite3 *db, struct ks_sq_videos **out, struct ks_err *err);
/* Points r->video at its media's video row (NULL when none). */
void ks_sq_videos_apply(const struct ks_sq_videos *v, struct ks_file_row *r);
void ks_sq_videos_free(struct ks_sq_videos *v); /* accepts NULL */

#endif
