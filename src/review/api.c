/* The review server's JSON API. Every route names the least role it needs and whether
 * it changes the case; changes need the session's CSRF token in X-CSRF-Token and a
 * JSON body, and each one is written together with its audit row in one
 * transaction. Ids in paths are plain decimal numbers and only ever keys into the
 * case store: no path from a request reaches the file system. Verifiers work blind:
 * a pending grade's category is shown to its own grader only. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "kestrel/media.h"
#include "review_impl.h"

#define PAGE_MAX 500
#define GRADE_MAX 5000 /* media per grading call */

struct route;
typedef void (*handler)(struct rv_req *rq, struct rv_resp *rs, int64_t id);

/* ---- small helpers ---------------------------------------------------------------- */

/* A path id: 1..15 decimal digits, nothing else. */
static int parse_id(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return -1;
	*out = v;
	return 0;
}

static int64_t query_int(struct rv_req *rq, const char *name, int64_t dflt, int64_t lo, int64_t hi)
{
	const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!v || !*v)
		return dflt;
	char *end;
	long long x = strtoll(v, &end, 10);
	if (*end)
		return dflt;
	return x < lo ? lo : x > hi ? hi : x;
}

static const char *me(struct rv_req *rq)
{
	return rq->sess->user;
}

static void lock(struct rv_req *rq)
{
	pthread_mutex_lock(&rq->srv->store_lock);
}

static void unlock(struct rv_req *rq)
{
	pthread_mutex_unlock(&rq->srv->store_lock);
}

/* Maps a store failure to an HTTP answer. */
static void store_error(struct rv_resp *rs, const struct ks_err *err)
{
	int st = err->status == KS_E_NOTFOUND ? 404 : err->status == KS_E_USAGE ? 409 : 500;
	rv_error(rs, st, err->msg[0] ? err->msg : ks_status_name(err->status));
}

static void ok_json(struct rv_resp *rs)
{
	rs->status = 200;
	rs->type = NULL;
}

/* Answers a read that filled items: the store error, or the head (fmt), the items and
 * "]}". Releases items. */
static void list_answer(struct rv_resp *rs, int rc, const struct ks_err *err, struct ks_buf *items,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void list_answer(struct rv_resp *rs, int rc, const struct ks_err *err, struct ks_buf *items,
			const char *fmt, ...)
{
	if (rc != KS_OK) {
		store_error(rs, err);
	} else {
		va_list ap;
		ok_json(rs);
		va_start(ap, fmt);
		ks_buf_vaddf(&rs->body, fmt, ap);
		va_end(ap);
		ks_buf_add(&rs->body, items->data, items->len);
		ks_buf_adds(&rs->body, "]}");
	}
	ks_buf_release(items);
}

/* Folder and name of a path ("a/b/c.jpg" -> "a/b", "c.jpg"); the folder is copied
 * into dir (n bytes). */
static const char *folder_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(dir, n, "/");
		return path;
	}
	size_t k = (size_t)(slash - path);
	snprintf(dir, n, "%.*s", (int)(k < n - 1 ? k : n - 1), path);
	if (!dir[0])
		snprintf(dir, n, "/");
	return slash + 1;
}

static int valid_category(struct rv_server *s, const char *code)
{
	return code && ks_scheme_category(s->scheme, code) != NULL;
}

/* An audit detail listing media ids ("media 3,4,9"). */
static void add_ids(struct ks_buf *b, const int64_t *ids, size_t n)
{
	ks_buf_adds(b, "media ");
	for (size_t i = 0; i < n; i++)
		ks_buf_addf(b, "%s%lld", i ? "," : "", (long long)ids[i]);
}

/* Runs fn inside a write transaction with one audit row; the store lock is held. */
static int audited(struct rv_req *rq, const char *action, const char *detail, struct ks_err *err)
{
	return ks_store_audit(rq->srv->st, me(rq), action, detail, err);
}

/* Ends the transaction a change began: commits when rc is KS_OK, else rolls back; then
 * releases the store lock. On failure it answers (403 with the store's message for a
 * KS_E_USAGE refusal when usage_forbidden, else as store_error) and returns the status. */
static int change_end(struct rv_req *rq, struct rv_resp *rs, int rc, struct ks_err *err,
		      int usage_forbidden)
{
	if (rc == KS_OK)
		rc = ks_store_commit(rq->srv->st, err);
	if (rc != KS_OK)
		ks_store_rollback(rq->srv->st);
	unlock(rq);
	if (rc == KS_E_USAGE && usage_forbidden)
		rv_error(rs, 403, err->msg);
	else if (rc != KS_OK)
		store_error(rs, err);
	return rc;
}

static void welfare_json(struct rv_req *rq, struct ks_buf *b);

/* ---- sessions ------------------------------------------------------------------------ */

static void h_login(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct rv_json *j = rv_json_parse(rq->body, rq->body_len);
	const char *name = rv_json_get_str(j, "name"), *pw = rv_json_get_str(j, "password");
	struct ks_err err = {0};
	struct rv_session sess;
	int retry = 0;
	if (!name || !pw || strlen(pw) > KS_PASSWORD_MAX || strlen(name) >= KS_USER_NAME_MAX) {
		rv_error(rs, 400, "name and password are required");
		goto out;
	}
	int rc = rv_auth_login(rq->srv, name, pw, rq->client, &sess, &retry, &err);
	char *d = ks_xasprintf("from %s%s%s", rq->client, rc ? ": " : "", rc ? err.msg : "");
	struct ks_err aerr = {0};
	lock(rq);
	int arc = ks_store_audit(rq->srv->st, name,
				 rc == KS_OK ? "review.login" : "review.login.fail", d, &aerr);
	unlock(rq);
	free(d);
	if (rc == KS_E_LIMIT) {
		rv_error(rs, 429, err.msg);
		goto out;
	}
	if (rc != KS_OK) {
		rv_error(rs, 401, "wrong name or password");
		goto out;
	}
	if (arc != KS_OK) {
		/* No session without its audit row. */
		rv_session_end(rq->srv, sess.token);
		rv_error(rs, 500, aerr.msg);
		goto out;
	}
	snprintf(rs->cookie, sizeof rs->cookie,
		 "ks_session=%s; Path=/; HttpOnly; SameSite=Strict%s", sess.token,
		 rq->srv->tls ? "; Secure" : "");
	ok_json(rs);
	ks_buf_adds(&rs->body, "{\"user\":");
	rv_json_str(&rs->body, sess.user);
	ks_buf_adds(&rs->body, ",\"role\":");
	rv_json_str(&rs->body, ks_role_name(sess.role));
	ks_buf_adds(&rs->body, ",\"csrf\":");
	rv_json_str(&rs->body, sess.csrf);
	ks_buf_adds(&rs->body, "}");
out:
	if (pw)
		sodium_memzero((void *)pw, strlen(pw));
	rv_json_free(j);
}

static void h_logout(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct ks_err err = {0};
	rv_session_end(rq->srv, rq->sess->token);
	lock(rq);
	rv_sessions_flush(rq->srv);
	audited(rq, "review.logout", "", &err);
	unlock(rq);
	snprintf(rs->cookie, sizeof rs->cookie,
		 "ks_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
		 rq->srv->tls ? "; Secure" : "");
	ok_json(rs);
	ks_buf_adds(&rs->body, "{\"ok\":true}");
}

static int on_mix(void *ctx, const char *category, int64_t n)
{
	struct ks_buf *b = ctx;
	if (b->data[b->len - 1] != '{')
		ks_buf_adds(b, ",");
	rv_json_str(b, category);
	ks_buf_addf(b, ":%lld", (long long)n);
	return 0;
}

/* Today's exposure of the caller and the mix of categories they gave. */
static void welfare_json(struct rv_req *rq, struct ks_buf *b)
{
	char day[32];
	struct ks_welfare w;
	struct ks_err err = {0};
	ks_time_iso8601(ks_time_now(), day);
	day[10] = '\0';
	int64_t streak = 0;
	int due = rv_session_exposure(rq->srv, rq->sess->token, 0, 0, 0, &streak);
	lock(rq);
	rv_sessions_flush(rq->srv);
	ks_buf_adds(b, "{\"mix\":{");
	int rc = ks_store_welfare_get(rq->srv->st, me(rq), day, &w, on_mix, b, &err);
	unlock(rq);
	if (rc != KS_OK)
		memset(&w, 0, sizeof w);
	ks_buf_addf(b,
		    "},\"day\":\"%s\",\"viewed\":%lld,\"unblurred\":%lld,\"minutes\":%lld,"
		    "\"streak_minutes\":%lld,\"break_minutes\":%d,\"break_due\":%s}",
		    day, (long long)w.viewed, (long long)w.unblurred, (long long)(w.seconds / 60),
		    (long long)(streak / 60), rq->srv->break_minutes, due ? "true" : "false");
}

static void h_me(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	const struct ks_scheme *sc = rq->srv->scheme;
	ok_json(rs);
	ks_buf_adds(&rs->body, "{\"user\":");
	rv_json_str(&rs->body, me(rq));
	ks_buf_adds(&rs->body, ",\"role\":");
	rv_json_str(&rs->body, ks_role_name(rq->sess->role));
	ks_buf_adds(&rs->body, ",\"csrf\":");
	rv_json_str(&rs->body, rq->sess->csrf);
	ks_buf_adds(&rs->body, ",\"scheme\":");
	rv_json_str(&rs->body, sc->name);
	ks_buf_adds(&rs->body, ",\"categories\":[");
	for (int i = 0; i < sc->ncats; i++) {
		ks_buf_adds(&rs->body, i ? ",{\"code\":" : "{\"code\":");
		rv_json_str(&rs->body, sc->cats[i].code);
		ks_buf_adds(&rs->body, ",\"label\":");
		rv_json_str(&rs->body, sc->cats[i].label);
		ks_buf_addf(&rs->body, ",\"severity\":%d}", sc->cats[i].severity);
	}
	ks_buf_adds(&rs->body, "],\"welfare\":");
	welfare_json(rq, &rs->body);
	ks_buf_adds(&rs->body, "}");
}

static void h_welfare(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	ok_json(rs);
	welfare_json(rq, &rs->body);
}

/* ---- queue, groups, media --------------------------------------------------------------- */

struct list_ctx {
	struct ks_buf *b;
	int n;
	const char *viewer;
	int blind;
};

static int on_group(void *ctx, const struct ks_queue_group *g)
{
	struct list_ctx *c = ctx;
	char dir[1024];
	const char *name = folder_of(g->path, dir, sizeof dir);
	ks_buf_addf(c->b, "%s{\"id\":%lld,\"cover\":%lld,\"size\":%lld,\"open\":%lld,\"exhibit\":",
		    c->n++ ? "," : "", (long long)g->id, (long long)g->cover, (long long)g->size,
		    (long long)g->open);
	rv_json_str(c->b, g->exhibit);
	ks_buf_adds(c->b, ",\"folder\":");
	rv_json_str(c->b, dir);
	ks_buf_adds(c->b, ",\"name\":");
	rv_json_str(c->b, name);
	ks_buf_adds(c->b, "}");
	return 0;
}

static void h_queue(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	int64_t offset = query_int(rq, "offset", 0, 0, INT64_MAX / 2);
	int limit = (int)query_int(rq, "limit", 100, 1, PAGE_MAX);
	int all = (int)query_int(rq, "all", 0, 0, 1);
	int64_t total = 0;
	struct ks_err err = {0};
	struct ks_buf items = {0};
	struct list_ctx c = {.b = &items};
	ks_buf_adds(&items, "");
	lock(rq);
	int rc = ks_store_queue_page(rq->srv->st, all, offset, limit, &total, on_group, &c, &err);
	unlock(rq);
	list_answer(rs, rc, &err, &items, "{\"total\":%lld,\"offset\":%lld,\"all\":%s,\"groups\":[",
		    (long long)total, (long long)offset, all ? "true" : "false");
}

static void member_json(struct ks_buf *b, const struct ks_queue_member *m, const char *viewer,
			int blind)
{
	char dir[1024];
	const char *name = folder_of(m->path, dir, sizeof dir);
	/* A pending or disputed first grade is shown to its own grader only. */
	int show = !blind && m->category &&
		   ((m->grader && strcmp(m->grader, viewer) == 0) ||
		    m->state == KS_GRADE_VERIFIED || m->state == KS_GRADE_RESOLVED);
	ks_buf_addf(b,
		    "{\"media\":%lld,\"group\":%lld,\"kind\":\"%s\",\"type\":", (long long)m->media,
		    (long long)m->group, m->kind == KS_KIND_VIDEO ? "video" : "picture");
	rv_json_str(b, m->type);
	ks_buf_addf(b,
		    ",\"width\":%u,\"height\":%u,\"dist\":%d,\"known\":%s,\"state\":\"%s\","
		    "\"category\":",
		    m->width, m->height, m->dist, m->known ? "true" : "false",
		    ks_grade_state_name(m->state));
	rv_json_str_or_null(b, show ? m->category : NULL);
	ks_buf_adds(b, ",\"mine\":");
	ks_buf_adds(b, m->grader && strcmp(m->grader, viewer) == 0 ? "true" : "false");
	ks_buf_adds(b, ",\"exhibit\":");
	rv_json_str(b, m->exhibit);
	ks_buf_adds(b, ",\"folder\":");
	rv_json_str(b, dir);
	ks_buf_adds(b, ",\"name\":");
	rv_json_str(b, name);
	ks_buf_adds(b, "}");
}

static int on_member(void *ctx, const struct ks_queue_member *m)
{
	struct list_ctx *c = ctx;
	if (c->n++)
		ks_buf_adds(c->b, ",");
	member_json(c->b, m, c->viewer, c->blind);
	return 0;
}

static void h_group(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	struct ks_err err = {0};
	struct ks_buf items = {0};
	struct list_ctx c = {.b = &items, .viewer = me(rq)};
	lock(rq);
	int rc = ks_store_group_members(rq->srv->st, id, on_member, &c, &err);
	unlock(rq);
	list_answer(rs, rc, &err, &items, "{\"id\":%lld,\"members\":[", (long long)id);
}

static const char *const state_names[] = {"live", "deleted", "carved", "cache"};

static int on_occurrence(void *ctx, const struct ks_file_row *r)
{
	struct list_ctx *c = ctx;
	ks_buf_adds(c->b, c->n++ ? ",{\"exhibit\":" : "{\"exhibit\":");
	rv_json_str(c->b, r->exhibit);
	ks_buf_adds(c->b, ",\"source\":");
	rv_json_str(c->b, r->source);
	ks_buf_adds(c->b, ",\"path\":");
	rv_json_str(c->b, r->path);
	ks_buf_adds(c->b, ",\"state\":");
	rv_json_str(c->b, r->state >= 0 && r->state < 4 ? state_names[r->state] : "other");
	ks_buf_addf(c->b, ",\"in_container\":%s,\"size\":%llu,\"type\":",
		    r->in_container ? "true" : "false", (unsigned long long)r->size);
	rv_json_str(c->b, r->type);
	ks_buf_adds(c->b, ",\"mtime\":");
	rv_json_time(c->b, r->mtime);
	ks_buf_adds(c->b, ",\"atime\":");
	rv_json_time(c->b, r->atime);
	ks_buf_adds(c->b, ",\"ctime\":");
	rv_json_time(c->b, r->ctime);
	ks_buf_adds(c->b, ",\"crtime\":");
	rv_json_time(c->b, r->crtime);
	ks_buf_adds(c->b, ",\"md5\":");
	rv_json_str(c->b, r->md5);
	ks_buf_adds(c->b, ",\"sha256\":");
	rv_json_str(c->b, r->sha256);
	ks_buf_adds(c->b, "}");
	return 0;
}

static int on_exif(void *ctx, const char *field, const char *value)
{
	struct list_ctx *c = ctx;
	ks_buf_adds(c->b, c->n++ ? "," : "");
	rv_json_str(c->b, field);
	ks_buf_adds(c->b, ":");
	rv_json_str(c->b, value);
	return 0;
}

static void h_media(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	struct ks_err err = {0};
	struct ks_buf m = {0}, occ = {0}, exif = {0};
	struct list_ctx cm = {.b = &m, .viewer = me(rq)}, co = {.b = &occ}, ce = {.b = &exif};
	lock(rq);
	int rc = ks_store_review_member(rq->srv->st, id, on_member, &cm, &err);
	if (rc == KS_OK)
		rc = ks_store_media_files(rq->srv->st, id, on_occurrence, &co, &err);
	if (rc == KS_OK)
		rc = ks_store_media_exif_fields(rq->srv->st, id, on_exif, &ce, &err);
	unlock(rq);
	if (rc != KS_OK) {
		store_error(rs, &err);
	} else {
		ok_json(rs);
		ks_buf_adds(&rs->body, "{\"media\":");
		ks_buf_add(&rs->body, m.data, m.len);
		ks_buf_adds(&rs->body, ",\"occurrences\":[");
		ks_buf_add(&rs->body, occ.data, occ.len);
		ks_buf_adds(&rs->body, "],\"exif\":");
		if (ce.n) {
			ks_buf_adds(&rs->body, "{");
			ks_buf_add(&rs->body, exif.data, exif.len);
			ks_buf_adds(&rs->body, "}}");
		} else {
			ks_buf_adds(&rs->body, "null}");
		}
	}
	ks_buf_release(&m);
	ks_buf_release(&occ);
	ks_buf_release(&exif);
}

static void h_thumb(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	struct ks_err err = {0};
	int kind = 0;
	lock(rq);
	int rc = ks_store_preview_get(rq->srv->st, id, &rs->body, &kind, &err);
	unlock(rq);
	if (rc != KS_OK) {
		store_error(rs, &err);
		return;
	}
	rv_session_exposure(rq->srv, rq->sess->token, 1, 0, 0, NULL);
	rs->status = 200;
	rs->type = "image/jpeg";
}

static void h_unblur(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct rv_json *j = rv_json_parse(rq->body, rq->body_len);
	int64_t media = 0;
	struct ks_err err = {0};
	if (rv_json_get_int(j, "media", &media) != 0 || media <= 0) {
		rv_error(rs, 400, "media is required");
		goto out;
	}
	char d[64];
	snprintf(d, sizeof d, "media %lld", (long long)media);
	lock(rq);
	int rc = audited(rq, "review.unblur", d, &err);
	unlock(rq);
	if (rc != KS_OK) {
		store_error(rs, &err);
		goto out;
	}
	rv_session_exposure(rq->srv, rq->sess->token, 0, 1, 0, NULL);
	ok_json(rs);
	ks_buf_adds(&rs->body, "{\"ok\":true}");
out:
	rv_json_free(j);
}

/* ---- grading -------------------------------------------------------------------------------- */

struct open_ctx {
	int64_t *ids;
	size_t n, cap;
};

static void break_json(struct rv_req *rq, struct ks_buf *b, int graded)
{
	int64_t streak = 0;
	int due = rv_session_exposure(rq->srv, rq->sess->token, 0, 0, graded, &streak);
	ks_buf_addf(b, ",\"break_due\":%s,\"streak_minutes\":%lld", due ? "true" : "false",
		    (long long)(streak / 60));
}

static void h_grade(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct rv_json *j = rv_json_parse(rq->body, rq->body_len);
	const char *cat = rv_json_get_str(j, "category");
	struct open_ctx oc = {0};
	int64_t group = 0, done = 0, action = 0;
	struct ks_err err = {0};
	struct ks_buf d = {0};
	int rc;
	if (!valid_category(rq->srv, cat)) {
		rv_error(rs, 400, "category is not one of the case's scheme");
		goto out;
	}
	if (rv_json_get_int(j, "group", &group) == 0) {
		if (group <= 0) {
			rv_error(rs, 400, "bad group");
			goto out;
		}
	} else if (rv_json_get_ints(j, "media", GRADE_MAX, &oc.ids, &oc.n) != 0 || !oc.n) {
		rv_error(rs, 400, "media (a list of ids) or group is required");
		goto out;
	}
	lock(rq);
	rc = KS_OK;
	if (group)
		rc = ks_store_group_open(rq->srv->st, group, &oc.ids, &oc.n, &err);
	if (rc == KS_OK)
		rc = ks_store_begin(rq->srv->st, &err);
	if (rc == KS_OK)
		rc = ks_store_grade(rq->srv->st, oc.ids, oc.n, me(rq), rq->srv->scheme_name, cat,
				    &done, &action, &err);
	if (rc == KS_OK && done) {
		ks_buf_addf(&d, "%s:%s ", rq->srv->scheme_name, cat);
		if (group)
			ks_buf_addf(&d, "group %lld ", (long long)group);
		add_ids(&d, oc.ids, oc.n);
		ks_buf_addf(&d, " (%lld graded, action %lld)", (long long)done, (long long)action);
		rc = audited(rq, "review.grade", (const char *)d.data, &err);
	}
	if (change_end(rq, rs, rc, &err, 0) != KS_OK)
		goto out;
	ok_json(rs);
	ks_buf_addf(&rs->body, "{\"graded\":%lld,\"action\":%lld", (long long)done,
		    (long long)action);
	break_json(rq, &rs->body, done > 0);
	ks_buf_adds(&rs->body, "}");
out:
	ks_buf_release(&d);
	free(oc.ids);
	rv_json_free(j);
}

static void h_undo(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct ks_err err = {0};
	const char *kind = "";
	int64_t n = 0;
	lock(rq);
	int rc = ks_store_begin(rq->srv->st, &err);
	if (rc == KS_OK)
		rc = ks_store_review_undo(rq->srv->st, me(rq), &kind, &n, &err);
	if (rc == KS_OK) {
		char d[96];
		snprintf(d, sizeof d, "%s of %lld media undone", kind, (long long)n);
		rc = audited(rq, "review.undo", d, &err);
	}
	if (change_end(rq, rs, rc, &err, 0) != KS_OK)
		return;
	ok_json(rs);
	ks_buf_addf(&rs->body, "{\"undone\":\"%s\",\"media\":%lld}", kind, (long long)n);
}

static void h_split(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct rv_json *j = rv_json_parse(rq->body, rq->body_len);
	int64_t media = 0, group = 0;
	struct ks_err err = {0};
	if (rv_json_get_int(j, "media", &media) != 0 || media <= 0) {
		rv_error(rs, 400, "media is required");
		goto out;
	}
	lock(rq);
	int rc = ks_store_begin(rq->srv->st, &err);
	if (rc == KS_OK)
		rc = ks_store_review_split(rq->srv->st, media, &group, &err);
	if (rc == KS_OK) {
		char d[96];
		snprintf(d, sizeof d, "media %lld to group %lld", (long long)media,
			 (long long)group);
		rc = audited(rq, "review.split", d, &err);
	}
	if (change_end(rq, rs, rc, &err, 0) != KS_OK)
		goto out;
	ok_json(rs);
	ks_buf_addf(&rs->body, "{\"group\":%lld}", (long long)group);
out:
	rv_json_free(j);
}

static void h_verify_queue(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	int64_t offset = query_int(rq, "offset", 0, 0, INT64_MAX / 2);
	int limit = (int)query_int(rq, "limit", 100, 1, PAGE_MAX);
	int64_t total = 0;
	struct ks_err err = {0};
	struct ks_buf items = {0};
	struct list_ctx c = {.b = &items, .viewer = me(rq), .blind = 1};
	lock(rq);
	int rc =
	    ks_store_verify_page(rq->srv->st, me(rq), offset, limit, &total, on_member, &c, &err);
	unlock(rq);
	list_answer(rs, rc, &err, &items, "{\"total\":%lld,\"offset\":%lld,\"items\":[",
		    (long long)total, (long long)offset);
}

static void h_verify(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct rv_json *j = rv_json_parse(rq->body, rq->body_len);
	const char *cat = rv_json_get_str(j, "category");
	int64_t *ids = NULL, agreed = 0, disputed = 0, action = 0;
	size_t n = 0;
	struct ks_err err = {0};
	struct ks_buf d = {0};
	if (!valid_category(rq->srv, cat)) {
		rv_error(rs, 400, "category is not one of the case's scheme");
		goto out;
	}
	if (rv_json_get_ints(j, "media", GRADE_MAX, &ids, &n) != 0 || !n) {
		rv_error(rs, 400, "media (a list of ids) is required");
		goto out;
	}
	lock(rq);
	int rc = ks_store_begin(rq->srv->st, &err);
	if (rc == KS_OK)
		rc = ks_store_grade_verify(rq->srv->st, ids, n, me(rq), cat, &agreed, &disputed,
					   &action, &err);
	if (rc == KS_OK && agreed + disputed) {
		ks_buf_addf(&d, "%s:%s ", rq->srv->scheme_name, cat);
		add_ids(&d, ids, n);
		ks_buf_addf(&d, " (%lld agreed, %lld disputed, action %lld)", (long long)agreed,
			    (long long)disputed, (long long)action);
		rc = audited(rq, "review.verify", (const char *)d.data, &err);
	}
	if (change_end(rq, rs, rc, &err, 1) != KS_OK)
		goto out;
	ok_json(rs);
	ks_buf_addf(&rs->body, "{\"agreed\":%lld,\"disputed\":%lld,\"action\":%lld",
		    (long long)agreed, (long long)disputed, (long long)action);
	break_json(rq, &rs->body, agreed + disputed > 0);
	ks_buf_adds(&rs->body, "}");
out:
	ks_buf_release(&d);
	free(ids);
	rv_json_free(j);
}

static int on_dispute(void *ctx, const struct ks_dispute *x)
{
	struct list_ctx *c = ctx;
	ks_buf_addf(c->b, "%s{\"media\":%lld,\"category\":", c->n++ ? "," : "",
		    (long long)x->media);
	rv_json_str(c->b, x->category);
	ks_buf_adds(c->b, ",\"grader\":");
	rv_json_str(c->b, x->grader);
	ks_buf_adds(c->b, ",\"graded_at\":");
	rv_json_time(c->b, x->graded_at);
	ks_buf_adds(c->b, ",\"vcategory\":");
	rv_json_str(c->b, x->vcategory);
	ks_buf_adds(c->b, ",\"verifier\":");
	rv_json_str(c->b, x->verifier);
	ks_buf_adds(c->b, ",\"verified_at\":");
	rv_json_time(c->b, x->verified_at);
	ks_buf_adds(c->b, "}");
	return 0;
}

static void h_disputes(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct ks_err err = {0};
	struct ks_buf items = {0};
	struct list_ctx c = {.b = &items};
	lock(rq);
	int rc = ks_store_disputes_each(rq->srv->st, on_dispute, &c, &err);
	unlock(rq);
	list_answer(rs, rc, &err, &items, "{\"disputes\":[");
}

struct grader_ctx {
	char grader[KS_USER_NAME_MAX];
};

static int on_grader(void *ctx, const struct ks_queue_member *m)
{
	struct grader_ctx *g = ctx;
	snprintf(g->grader, sizeof g->grader, "%s", m->grader ? m->grader : "");
	return 0;
}

static void h_resolve(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct rv_json *j = rv_json_parse(rq->body, rq->body_len);
	const char *cat = rv_json_get_str(j, "category"), *note = rv_json_get_str(j, "note");
	int64_t media = 0;
	struct ks_err err = {0};
	struct grader_ctx g = {{0}};
	if (rv_json_get_int(j, "media", &media) != 0 || media <= 0 ||
	    !valid_category(rq->srv, cat)) {
		rv_error(rs, 400, "media and a category of the case's scheme are required");
		goto out;
	}
	if (!note || !*note || strlen(note) > 2000) {
		rv_error(rs, 400, "a note (up to 2000 bytes) is required");
		goto out;
	}
	lock(rq);
	int rc = ks_store_review_member(rq->srv->st, media, on_grader, &g, &err);
	if (rc == KS_OK && strcmp(g.grader, me(rq)) == 0)
		rc = ks_err_set(&err, KS_E_USAGE,
				"the first grader cannot resolve their own dispute");
	if (rc == KS_OK)
		rc = ks_store_begin(rq->srv->st, &err);
	if (rc == KS_OK)
		rc = ks_store_grade_resolve(rq->srv->st, media, me(rq), cat, note, &err);
	if (rc == KS_OK) {
		char *d = ks_xasprintf("%s:%s media %lld: %s", rq->srv->scheme_name, cat,
				       (long long)media, note);
		rc = audited(rq, "review.resolve", d, &err);
		free(d);
	}
	if (change_end(rq, rs, rc, &err, 1) != KS_OK)
		goto out;
	ok_json(rs);
	ks_buf_adds(&rs->body, "{\"ok\":true}");
out:
	rv_json_free(j);
}

static int on_final(void *ctx, const char *category, int64_t n)
{
	return on_mix(ctx, category, n);
}

static void h_counts(struct rv_req *rq, struct rv_resp *rs, int64_t id)
{
	(void)id;
	struct ks_review_counts c;
	struct ks_err err = {0};
	struct ks_buf fin = {0};
	ks_buf_adds(&fin, "{");
	lock(rq);
	int rc = ks_store_review_counts(rq->srv->st, &c, &err);
	if (rc == KS_OK)
		rc = ks_store_review_final_each(rq->srv->st, on_final, &fin, &err);
	unlock(rq);
	if (rc != KS_OK) {
		store_error(rs, &err);
	} else {
		ok_json(rs);
		ks_buf_addf(
		    &rs->body,
		    "{\"groups_open\":%lld,\"media_open\":%lld,\"known\":%lld,\"pending\":%lld,"
		    "\"verified\":%lld,\"disputed\":%lld,\"resolved\":%lld,\"final\":%s}}",
		    (long long)c.groups_open, (long long)c.media_open, (long long)c.known,
		    (long long)c.pending, (long long)c.verified, (long long)c.disputed,
		    (long long)c.resolved, (const char *)fin.data);
	}
	ks_buf_release(&fin);
}

/* ---- routing ------------------------------------------------------------------------------- */

struct route {
	const char *method;
	const char *path; /* exact, or a prefix ending in '/' followed by an id */
	int with_id;
	int role;   /* least role; 0: no session needed */
	int change; /* needs the CSRF token */
	handler fn;
};

static const struct route routes[] = {
    {"POST", "/api/login", 0, 0, 0, h_login},
    {"POST", "/api/logout", 0, KS_ROLE_GRADER, 1, h_logout},
    {"GET", "/api/me", 0, KS_ROLE_GRADER, 0, h_me},
    {"GET", "/api/welfare", 0, KS_ROLE_GRADER, 0, h_welfare},
    {"GET", "/api/queue", 0, KS_ROLE_GRADER, 0, h_queue},
    {"GET", "/api/counts", 0, KS_ROLE_GRADER, 0, h_counts},
    {"GET", "/api/group/", 1, KS_ROLE_GRADER, 0, h_group},
    {"GET", "/api/media/", 1, KS_ROLE_GRADER, 0, h_media},
    {"GET", "/api/thumb/", 1, KS_ROLE_GRADER, 0, h_thumb},
    {"POST", "/api/unblur", 0, KS_ROLE_GRADER, 1, h_unblur},
    {"POST", "/api/grade", 0, KS_ROLE_GRADER, 1, h_grade},
    {"POST", "/api/undo", 0, KS_ROLE_GRADER, 1, h_undo},
    {"POST", "/api/split", 0, KS_ROLE_GRADER, 1, h_split},
    {"GET", "/api/verify", 0, KS_ROLE_VERIFIER, 0, h_verify_queue},
    {"POST", "/api/verify", 0, KS_ROLE_VERIFIER, 1, h_verify},
    {"GET", "/api/disputes", 0, KS_ROLE_VERIFIER, 0, h_disputes},
    {"POST", "/api/resolve", 0, KS_ROLE_VERIFIER, 1, h_resolve},
};

static int json_body(struct rv_req *rq)
{
	const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
	return ct && strncmp(ct, "application/json", 16) == 0;
}

/* A cross-site page cannot send JSON without a preflight we never answer, and the
 * session cookie is SameSite=Strict; an Origin, when sent, must still be our own. */
static int same_origin(struct rv_req *rq)
{
	const char *origin = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Host");
	if (!origin)
		return 1;
	if (!host)
		return 0;
	const char *p = strstr(origin, "://");
	return p && strcmp(p + 3, host) == 0;
}

void rv_api(struct rv_req *rq, struct rv_resp *rs)
{
	const struct route *r = NULL;
	int64_t id = 0;
	int path_known = 0;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route *x = &routes[i];
		size_t n = strlen(x->path);
		int match = x->with_id ? strncmp(rq->path, x->path, n) == 0
				       : strcmp(rq->path, x->path) == 0;
		if (!match)
			continue;
		path_known = 1;
		if (strcmp(rq->method, x->method) != 0)
			continue;
		if (x->with_id && parse_id(rq->path + n, &id) != 0) {
			rv_error(rs, 404, "not found");
			return;
		}
		r = x;
		break;
	}
	if (!r) {
		rv_error(rs, path_known ? 405 : 404,
			 path_known ? "method not allowed" : "not found");
		return;
	}
	if (r->role && !rq->sess) {
		rv_error(rs, 401, "log in first");
		return;
	}
	if (r->role && rq->sess->role < r->role) {
		rv_error(rs, 403, "your role does not allow this");
		return;
	}
	if (strcmp(r->method, "POST") == 0) {
		if (!json_body(rq) || !same_origin(rq)) {
			rv_error(rs, 403, "changes must come from this application as JSON");
			return;
		}
		if (r->change) {
			const char *t =
			    MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
			if (!t || strlen(t) != RV_TOKEN_HEX ||
			    sodium_memcmp(t, rq->sess->csrf, RV_TOKEN_HEX) != 0) {
				rv_error(rs, 403, "missing or wrong CSRF token");
				return;
			}
		}
	}
	r->fn(rq, rs, id);
}
