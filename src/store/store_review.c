/* The review front end of the store: checks arguments, refuses writes on read-only
 * handles and outside transactions, and dispatches to the backend's review table.
 * Role and state names live here so every backend spells them the same. */
#include <string.h>

#include "store_review_impl.h"

static const char *const role_names[] = {"", "grader", "verifier", "admin"};
static const char *const state_names[] = {"none", "pending", "verified", "disputed", "resolved"};

const char *ks_role_name(int role)
{
	return role >= KS_ROLE_GRADER && role <= KS_ROLE_ADMIN ? role_names[role] : "";
}

int ks_role_parse(const char *name)
{
	for (int i = KS_ROLE_GRADER; name && i <= KS_ROLE_ADMIN; i++)
		if (strcmp(name, role_names[i]) == 0)
			return i;
	return 0;
}

const char *ks_grade_state_name(int state)
{
	return state >= 0 && state <= KS_GRADE_RESOLVED ? state_names[state] : "none";
}

static const struct ks_store_review_ops *rops(struct ks_store *st, struct ks_err *err)
{
	if (!st) {
		ks_err_set(err, KS_E_USAGE, "no case store open");
		return NULL;
	}
	if (!st->ops->review)
		ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no review data",
			   st->ops->name);
	return st->ops->review;
}

/* Writes need a read-write handle and an open transaction (several rows change
 * together and must not be seen half done). */
static const struct ks_store_review_ops *wops(struct ks_store *st, struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	if (!r)
		return NULL;
	if (st->readonly) {
		ks_err_set(err, KS_E_USAGE, "the case is open read-only");
		return NULL;
	}
	if (!st->in_tx) {
		ks_err_set(err, KS_E_USAGE, "review writes need a transaction");
		return NULL;
	}
	return r;
}

#define NEED(r)                                                                                    \
	if (!(r))                                                                                  \
		return err ? err->status : KS_E_USAGE;

int ks_store_preview_put(struct ks_store *st, int64_t media_id, const struct ks_preview *p,
			 struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	if (!p || (p->kind != KS_PREVIEW_NONE && (!p->jpeg || !p->len)))
		return ks_err_set(err, KS_E_USAGE, "preview: no picture");
	if (p->has_pdq && (p->pdq_quality < 0 || p->pdq_quality > 100))
		return ks_err_set(err, KS_E_USAGE, "preview: PDQ quality out of range");
	return r->preview_put(st, media_id, p, err);
}

int ks_store_preview_get(struct ks_store *st, int64_t media_id, struct ks_buf *out, int *kind,
			 struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->preview_get(st, media_id, out, kind, err);
}

static int name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= KS_USER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int ks_store_user_put(struct ks_store *st, const char *name, int role, const char *pwhash,
		      int *created, struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	if (!name_ok(name))
		return ks_err_set(err, KS_E_USAGE,
				  "user: a name is 1-63 letters, digits, '.', '_' or '-'");
	if (!*ks_role_name(role))
		return ks_err_set(err, KS_E_USAGE, "user: role must be grader, verifier or admin");
	if (!pwhash || !*pwhash || strlen(pwhash) >= KS_USER_HASH_MAX)
		return ks_err_set(err, KS_E_USAGE, "user: bad password hash");
	return r->user_put(st, name, role, pwhash, created, err);
}

int ks_store_user_get(struct ks_store *st, const char *name, struct ks_user *out,
		      struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	if (!name_ok(name))
		return ks_err_set(err, KS_E_NOTFOUND, "no such user");
	return r->user_get(st, name, out, err);
}

int ks_store_review_refresh(struct ks_store *st, int64_t *changed, struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	int64_t c = 0;
	int rc = r->refresh(st, &c, err);
	if (changed)
		*changed = c;
	return rc;
}

int ks_store_review_unplaced(struct ks_store *st, size_t limit, int full,
			     int (*fn)(void *ctx, const struct ks_review_new *m), void *ctx,
			     struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->unplaced(st, limit, full, fn, ctx, err);
}

int ks_store_review_leaders(struct ks_store *st, int min_quality,
			    int (*fn)(void *ctx, int64_t group, const uint8_t pdq[32]), void *ctx,
			    struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->leaders(st, min_quality, fn, ctx, err);
}

int ks_store_review_place(struct ks_store *st, struct ks_review_place *v, size_t n,
			  struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	for (size_t i = 0; i < n; i++)
		if (v[i].dist < 0 || v[i].dist > 256 ||
		    (v[i].group < 0 && (uint64_t)-v[i].group > i))
			return ks_err_set(err, KS_E_USAGE, "place: bad element %zu", i);
	return r->place(st, v, n, err);
}

int ks_store_review_split(struct ks_store *st, int64_t media, int64_t *group, struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	return r->split(st, media, group, err);
}

int ks_store_queue_page(struct ks_store *st, int all, int64_t offset, int limit, int64_t *total,
			int (*fn)(void *ctx, const struct ks_queue_group *g), void *ctx,
			struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	if (offset < 0 || limit < 0)
		return ks_err_set(err, KS_E_USAGE, "queue: bad page");
	return r->queue_page(st, all, offset, limit, total, fn, ctx, err);
}

int ks_store_group_members(struct ks_store *st, int64_t group,
			   int (*fn)(void *ctx, const struct ks_queue_member *m), void *ctx,
			   struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->members(st, group, 0, fn, ctx, err);
}

int ks_store_review_member(struct ks_store *st, int64_t media,
			   int (*fn)(void *ctx, const struct ks_queue_member *m), void *ctx,
			   struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->members(st, 0, media, fn, ctx, err);
}

int ks_store_group_open(struct ks_store *st, int64_t group, int64_t **ids, size_t *n,
			struct ks_err *err)
{
	*ids = NULL;
	*n = 0;
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->group_open(st, group, ids, n, err);
}

int ks_store_media_exif_fields(struct ks_store *st, int64_t media,
			       int (*fn)(void *ctx, const char *field, const char *value),
			       void *ctx, struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->exif_fields(st, media, fn, ctx, err);
}

int ks_store_media_files(struct ks_store *st, int64_t media, ks_file_row_fn fn, void *ctx,
			 struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->media_files(st, media, fn, ctx, err);
}

int ks_store_grade(struct ks_store *st, const int64_t *media, size_t n, const char *who,
		   const char *scheme, const char *category, int64_t *done, int64_t *action,
		   struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	if ((!media && n) || !who || !*who || !scheme || !category || !*category)
		return ks_err_set(err, KS_E_USAGE, "grade: who, scheme and category are required");
	int64_t d = 0, a = 0;
	int rc = r->grade(st, media, n, who, scheme, category, &d, &a, err);
	if (done)
		*done = d;
	if (action)
		*action = a;
	return rc;
}

int ks_store_grade_verify(struct ks_store *st, const int64_t *media, size_t n, const char *who,
			  const char *category, int64_t *agreed, int64_t *disputed, int64_t *action,
			  struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	if ((!media && n) || !who || !*who || !category || !*category)
		return ks_err_set(err, KS_E_USAGE, "verify: who and category are required");
	int64_t ag = 0, di = 0, a = 0;
	int rc = r->verify(st, media, n, who, category, &ag, &di, &a, err);
	if (agreed)
		*agreed = ag;
	if (disputed)
		*disputed = di;
	if (action)
		*action = a;
	return rc;
}

int ks_store_grade_resolve(struct ks_store *st, int64_t media, const char *who,
			   const char *category, const char *note, struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	if (!who || !*who || !category || !*category)
		return ks_err_set(err, KS_E_USAGE, "resolve: who and category are required");
	if (!note || !*note)
		return ks_err_set(err, KS_E_USAGE, "resolve: a note is required");
	return r->resolve(st, media, who, category, note, err);
}

int ks_store_review_undo(struct ks_store *st, const char *who, const char **kind, int64_t *n,
			 struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	const char *k = "";
	int64_t c = 0;
	int rc = r->undo(st, who ? who : "", &k, &c, err);
	if (kind)
		*kind = k;
	if (n)
		*n = c;
	return rc;
}

int ks_store_verify_page(struct ks_store *st, const char *who, int64_t offset, int limit,
			 int64_t *total, int (*fn)(void *ctx, const struct ks_queue_member *m),
			 void *ctx, struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	if (offset < 0 || limit < 0)
		return ks_err_set(err, KS_E_USAGE, "verify queue: bad page");
	return r->verify_page(st, who ? who : "", offset, limit, total, fn, ctx, err);
}

int ks_store_disputes_each(struct ks_store *st, int (*fn)(void *ctx, const struct ks_dispute *d),
			   void *ctx, struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->disputes(st, fn, ctx, err);
}

int ks_store_review_counts(struct ks_store *st, struct ks_review_counts *out, struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	memset(out, 0, sizeof *out);
	return r->counts(st, out, err);
}

int ks_store_review_final_each(struct ks_store *st,
			       int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
			       struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	return r->final_each(st, fn, ctx, err);
}

int ks_store_welfare_add(struct ks_store *st, const char *who, const char *day,
			 const struct ks_welfare *add, struct ks_err *err)
{
	const struct ks_store_review_ops *r = wops(st, err);
	NEED(r);
	if (!who || !*who || !day || strlen(day) != 10 || !add)
		return ks_err_set(err, KS_E_USAGE, "welfare: who and day are required");
	return r->welfare_add(st, who, day, add, err);
}

int ks_store_welfare_get(struct ks_store *st, const char *who, const char *day,
			 struct ks_welfare *out,
			 int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
			 struct ks_err *err)
{
	const struct ks_store_review_ops *r = rops(st, err);
	NEED(r);
	memset(out, 0, sizeof *out);
	if (!who || !day)
		return ks_err_set(err, KS_E_USAGE, "welfare: who and day are required");
	return r->welfare_get(st, who, day, out, fn, ctx, err);
}
