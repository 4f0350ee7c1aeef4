/* Private contract between the review front end (store_review.c) and the backends:
 * the review part of a backend is one more table of function pointers, reached from
 * struct ks_store_ops through its `review` member. Arguments are checked by the front
 * end before these are called. */
#ifndef KESTREL_STORE_REVIEW_IMPL_H
#define KESTREL_STORE_REVIEW_IMPL_H

#include "kestrel/store_review.h"
#include "store_impl.h"

struct ks_store_review_ops {
	int (*preview_put)(struct ks_store *st, int64_t media, const struct ks_preview *p,
			   struct ks_err *err);
	int (*preview_get)(struct ks_store *st, int64_t media, struct ks_buf *out, int *kind,
			   struct ks_err *err);
	int (*user_put)(struct ks_store *st, const char *name, int role, const char *pwhash,
			int *created, struct ks_err *err);
	int (*user_get)(struct ks_store *st, const char *name, struct ks_user *out,
			struct ks_err *err);
	int (*refresh)(struct ks_store *st, int64_t *changed, struct ks_err *err);
	int (*unplaced)(struct ks_store *st, size_t limit, int full,
			int (*fn)(void *ctx, const struct ks_review_new *m), void *ctx,
			struct ks_err *err);
	int (*leaders)(struct ks_store *st, int min_quality,
		       int (*fn)(void *ctx, int64_t group, const uint8_t pdq[32]), void *ctx,
		       struct ks_err *err);
	int (*place)(struct ks_store *st, struct ks_review_place *v, size_t n, struct ks_err *err);
	int (*split)(struct ks_store *st, int64_t media, int64_t *group, struct ks_err *err);
	int (*queue_page)(struct ks_store *st, int all, int64_t offset, int limit, int64_t *total,
			  int (*fn)(void *ctx, const struct ks_queue_group *g), void *ctx,
			  struct ks_err *err);
	int (*members)(struct ks_store *st, int64_t group, int64_t media,
		       int (*fn)(void *ctx, const struct ks_queue_member *m), void *ctx,
		       struct ks_err *err);
	int (*group_open)(struct ks_store *st, int64_t group, int64_t **ids, size_t *n,
			  struct ks_err *err);
	int (*exif_fields)(struct ks_store *st, int64_t media,
			   int (*fn)(void *ctx, const char *field, const char *value), void *ctx,
			   struct ks_err *err);
	int (*media_files)(struct ks_store *st, int64_t media, ks_file_row_fn fn, void *ctx,
			   struct ks_err *err);
	int (*grade)(struct ks_store *st, const int64_t *media, size_t n, const char *who,
		     const char *scheme, const char *category, int64_t *done, int64_t *action,
		     struct ks_err *err);
	int (*verify)(struct ks_store *st, const int64_t *media, size_t n, const char *who,
		      const char *category, int64_t *agreed, int64_t *disputed, int64_t *action,
		      struct ks_err *err);
	int (*resolve)(struct ks_store *st, int64_t media, const char *who, const char *category,
		       const char *note, struct ks_err *err);
	int (*undo)(struct ks_store *st, const char *who, const char **kind, int64_t *n,
		    struct ks_err *err);
	int (*verify_page)(struct ks_store *st, const char *who, int64_t offset, int limit,
			   int64_t *total, int (*fn)(void *ctx, const struct ks_queue_member *m),
			   void *ctx, struct ks_err *err);
	int (*disputes)(struct ks_store *st, int (*fn)(void *ctx, const struct ks_dispute *d),
			void *ctx, struct ks_err *err);
	int (*counts)(struct ks_store *st, struct ks_review_counts *out, struct ks_err *err);
	int (*final_each)(struct ks_store *st,
			  int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
			  struct ks_err *err);
	int (*welfare_add)(struct ks_store *st, const char *who, const char *day,
			   const struct ks_welfare *add, struct ks_err *err);
	int (*welfare_get)(struct ks_store *st, const char *who, const char *day,
			   struct ks_welfare *out,
			   int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
			   struct ks_err *err);
};

extern const struct ks_store_review_ops ks_store_sqlite_review_ops;

#endif
