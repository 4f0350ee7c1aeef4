/* kestrel store layer, review part: what grading needs kept in the case. Previews
 * (a small JPEG per media, a contact sheet for videos) and PDQ hashes written by the
 * scan; accounts; near-duplicate groups; grades with their second-grader check;
 * officers' exposure figures. Same rules as kestrel/store.h: writes inside
 * ks_store_begin/commit on a read-write handle; every function dispatches to the
 * backend's review table (SQLite: src/store/sqlite_review.c). */
#ifndef KESTREL_STORE_REVIEW_H
#define KESTREL_STORE_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"
#include "kestrel/store.h"

/* ---- previews and PDQ (written by the scan) ---------------------------------------- */
enum ks_preview_kind {
	KS_PREVIEW_NONE = 0,  /* could not be made (note says why) */
	KS_PREVIEW_STILL = 1, /* a reduced picture */
	KS_PREVIEW_SHEET = 2, /* a video's contact sheet */
};

struct ks_preview {
	int kind;	     /* enum ks_preview_kind */
	const uint8_t *jpeg; /* baseline JPEG, NULL for KS_PREVIEW_NONE */
	size_t len;
	uint32_t width, height;
	const char *note; /* why there is no preview, or NULL */
	int has_pdq;
	uint8_t pdq[32]; /* the 64 hex digits decoded (kestrel/index.h ks_pdq_words_to_bytes) */
	int pdq_quality; /* 0..100 */
	int pdq_mode;	 /* enum ks_pdq_mode */
};
/* Records the preview (and PDQ, if has_pdq) of a media; an existing one is kept. */
int ks_store_preview_put(struct ks_store *st, int64_t media_id, const struct ks_preview *p,
			 struct ks_err *err);
/* Appends the preview JPEG of media_id to out; *kind gets its enum ks_preview_kind.
 * KS_E_NOTFOUND when there is no preview (or the media does not exist). */
int ks_store_preview_get(struct ks_store *st, int64_t media_id, struct ks_buf *out, int *kind,
			 struct ks_err *err);

/* ---- accounts ----------------------------------------------------------------------- */
enum ks_role { KS_ROLE_GRADER = 1, KS_ROLE_VERIFIER = 2, KS_ROLE_ADMIN = 3 };
const char *ks_role_name(int role);  /* "grader" … ; "" for anything else */
int ks_role_parse(const char *name); /* enum ks_role, or 0 */

#define KS_USER_NAME_MAX 64  /* bytes, NUL included */
#define KS_USER_HASH_MAX 128 /* a libsodium crypto_pwhash_str string, NUL included */
struct ks_user {
	int64_t id;
	char name[KS_USER_NAME_MAX];
	int role;
	char pwhash[KS_USER_HASH_MAX];
	int64_t created;
};
/* Creates the account, or replaces role and password of an existing one; *created
 * (may be NULL) says which. name: 1..63 bytes of letters, digits, '.', '_', '-'. */
int ks_store_user_put(struct ks_store *st, const char *name, int role, const char *pwhash,
		      int *created, struct ks_err *err);
/* KS_E_NOTFOUND when there is no such account. */
int ks_store_user_get(struct ks_store *st, const char *name, struct ks_user *out,
		      struct ks_err *err);

/* ---- near-duplicate groups ----------------------------------------------------------- */
/* Marks media that a hash set has categorised (alert set with a category) or
 * known-good (ignore set) since the last call, so they leave the queue; *changed
 * (may be NULL) gets how many. Write transaction needed. */
int ks_store_review_refresh(struct ks_store *st, int64_t *changed, struct ks_err *err);

/* A picture or video not yet placed in a group. */
struct ks_review_new {
	int64_t media;
	int kind; /* enum ks_kind */
	int has_pdq;
	uint8_t pdq[32];
	int quality;
};
/* Every picture/video media not yet in a group, in id order, at most limit of them
 * (0: no limit); media known by hash only (no bytes, no preview) wait until their
 * bytes turn up. Without full, only media newer than the newest placed one are looked
 * at (cheap); full also finds older ones (a hash-only media completed since). fn
 * returns 0 to go on. */
int ks_store_review_unplaced(struct ks_store *st, size_t limit, int full,
			     int (*fn)(void *ctx, const struct ks_review_new *m), void *ctx,
			     struct ks_err *err);
/* The leader (first member) of every group that near-duplicates may join: groups not
 * made by a split, whose leader has a PDQ of at least min_quality. */
int ks_store_review_leaders(struct ks_store *st, int min_quality,
			    int (*fn)(void *ctx, int64_t group, const uint8_t pdq[32]), void *ctx,
			    struct ks_err *err);
/* One media to place. group > 0: an existing group; 0: a new group led by this
 * media (it sorts by the exhibit and path of the media's first occurrence); -k: the
 * new group made for element k-1 of the same batch. dist: PDQ distance to the
 * leader. On return every group is the real id. */
struct ks_review_place {
	int64_t media;
	int64_t group;
	int dist;
};
/* Places v[0..n) in order. Write transaction needed. */
int ks_store_review_place(struct ks_store *st, struct ks_review_place *v, size_t n,
			  struct ks_err *err);
/* Moves media out of its group into a new group of its own (a "split"): two frames of
 * one scene can differ in category. *group gets the new group. */
int ks_store_review_split(struct ks_store *st, int64_t media, int64_t *group, struct ks_err *err);

/* ---- the queue ------------------------------------------------------------------------ */
struct ks_queue_group {
	int64_t id;
	int64_t cover;	     /* media shown for the group (first open member) */
	int64_t size, open;  /* members, members still to grade */
	const char *exhibit; /* of the leader's first occurrence */
	const char *path;    /* its path (folder and name) */
};
/* Groups with members to grade (all groups if all), ordered by exhibit, then folder
 * and name, then id; offset/limit page through them. *total (may be NULL) gets the
 * number of such groups. Strings are borrowed for the call. */
int ks_store_queue_page(struct ks_store *st, int all, int64_t offset, int limit, int64_t *total,
			int (*fn)(void *ctx, const struct ks_queue_group *g), void *ctx,
			struct ks_err *err);

enum ks_grade_state {
	KS_GRADE_NONE = 0,     /* not graded */
	KS_GRADE_PENDING = 1,  /* graded once, waiting for the second grader */
	KS_GRADE_VERIFIED = 2, /* the second grader agreed */
	KS_GRADE_DISPUTED = 3, /* the second grader disagreed */
	KS_GRADE_RESOLVED = 4, /* a dispute settled by a verifier or admin */
};
const char *ks_grade_state_name(int state); /* "none", "pending", … */

struct ks_queue_member {
	int64_t media, group;
	int kind; /* enum ks_kind */
	const char *type;
	uint32_t width, height;
	int dist;	      /* PDQ distance to the group's leader */
	int known;	      /* categorised or known-good through a hash set */
	int state;	      /* enum ks_grade_state */
	const char *category; /* first grade (NULL if none): callers keep it from verifiers */
	const char *grader;
	const char *exhibit, *path; /* first occurrence */
};
/* Members of a group in (distance, media id) order. */
int ks_store_group_members(struct ks_store *st, int64_t group,
			   int (*fn)(void *ctx, const struct ks_queue_member *m), void *ctx,
			   struct ks_err *err);
/* The members of a group still to grade (neither known nor graded), in (distance, id)
 * order: *ids (the caller frees it) and *n. Cheaper than ks_store_group_members. */
int ks_store_group_open(struct ks_store *st, int64_t group, int64_t **ids, size_t *n,
			struct ks_err *err);
/* One media as a member row (its group, state, first occurrence). KS_E_NOTFOUND if it
 * is not in a group. */
int ks_store_review_member(struct ks_store *st, int64_t media,
			   int (*fn)(void *ctx, const struct ks_queue_member *m), void *ctx,
			   struct ks_err *err);

/* Every occurrence of one media as file rows (exhibit, display path, state, times,
 * type, digests; the category fields are left empty), in exhibit and path order. */
int ks_store_media_files(struct ks_store *st, int64_t media, ks_file_row_fn fn, void *ctx,
			 struct ks_err *err);

/* The media's EXIF as the scan recorded it (kestrel/store.h ks_store_exif_put), as
 * (field, text) pairs for the fields that have a value; nothing when none was kept. */
int ks_store_media_exif_fields(struct ks_store *st, int64_t media,
			       int (*fn)(void *ctx, const char *field, const char *value),
			       void *ctx, struct ks_err *err);

/* ---- grading ---------------------------------------------------------------------------- */
/* Grades media[0..n) as category (of scheme) by who: media already graded are left as
 * they are. *done gets how many were graded, *action the action's id (for undo).
 * Write transaction needed. */
int ks_store_grade(struct ks_store *st, const int64_t *media, size_t n, const char *who,
		   const char *scheme, const char *category, int64_t *done, int64_t *action,
		   struct ks_err *err);
/* The second grade of pending media by who: equal categories verify, different ones
 * become disputes. A media graded by who is refused (KS_E_USAGE, nothing written); a
 * media that is not pending is left as it is. *agreed / *disputed get the counts. */
int ks_store_grade_verify(struct ks_store *st, const int64_t *media, size_t n, const char *who,
			  const char *category, int64_t *agreed, int64_t *disputed, int64_t *action,
			  struct ks_err *err);
/* Settles a dispute with the final category and a note (required). KS_E_USAGE if the
 * media is not disputed. */
int ks_store_grade_resolve(struct ks_store *st, int64_t media, const char *who,
			   const char *category, const char *note, struct ks_err *err);
/* Undoes who's latest action that can still be undone (a grade whose media no one has
 * verified yet, or a verification not yet resolved). *kind gets "grade" or "verify"
 * (static) and *n the media restored; KS_E_NOTFOUND when there is nothing to undo. */
int ks_store_review_undo(struct ks_store *st, const char *who, const char **kind, int64_t *n,
			 struct ks_err *err);

/* Pending media graded by someone other than who (the verifier's blind queue), in queue
 * order. Members come without category or grader. */
int ks_store_verify_page(struct ks_store *st, const char *who, int64_t offset, int limit,
			 int64_t *total, int (*fn)(void *ctx, const struct ks_queue_member *m),
			 void *ctx, struct ks_err *err);

struct ks_dispute {
	int64_t media;
	const char *category, *grader; /* first grade */
	int64_t graded_at;
	const char *vcategory, *verifier; /* second grade */
	int64_t verified_at;
};
int ks_store_disputes_each(struct ks_store *st, int (*fn)(void *ctx, const struct ks_dispute *d),
			   void *ctx, struct ks_err *err);

/* ---- figures ---------------------------------------------------------------------------- */
struct ks_review_counts {
	int64_t groups_open, media_open; /* still to grade */
	int64_t known;			 /* left out because a hash set decided */
	int64_t pending, verified, disputed, resolved;
};
int ks_store_review_counts(struct ks_store *st, struct ks_review_counts *out, struct ks_err *err);
/* Final categories (verified or resolved grades): fn per (category, media count). */
int ks_store_review_final_each(struct ks_store *st,
			       int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
			       struct ks_err *err);

/* One officer's exposure on one day (UTC "YYYY-MM-DD"). */
struct ks_welfare {
	int64_t viewed, unblurred, seconds;
};
/* Adds to who's figures for day (creating the row). */
int ks_store_welfare_add(struct ks_store *st, const char *who, const char *day,
			 const struct ks_welfare *add, struct ks_err *err);
/* who's figures for day (zeros when none) and, through fn (may be NULL), the mix of
 * categories who gave as first or second grader, all days. */
int ks_store_welfare_get(struct ks_store *st, const char *who, const char *day,
			 struct ks_welfare *out,
			 int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
			 struct ks_err *err);

#endif
