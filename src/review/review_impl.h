/* Private to the review layer: the server's state, sessions, the request seen by the
 * API handlers, JSON helpers and the embedded web assets. */
#ifndef KS_REVIEW_IMPL_H
#define KS_REVIEW_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kestrel/category.h"
#include "kestrel/review.h"
#include "kestrel/store_review.h"

/* One web asset built into the binary (generated from src/review/web/). */
struct ks_review_asset {
	const char *name; /* "app.js" */
	const unsigned char *data;
	size_t len;
};
extern const struct ks_review_asset ks_review_assets[];
extern const size_t ks_review_nassets;
const struct ks_review_asset *ks_review_asset_find(const char *name);

#define RV_TOKEN_HEX 64 /* 32 random bytes */
#define RV_MAX_SESSIONS 256

struct rv_session {
	char token[RV_TOKEN_HEX + 1];
	char csrf[RV_TOKEN_HEX + 1];
	char user[KS_USER_NAME_MAX];
	int role;
	int64_t created, last_seen;
	/* exposure not yet written to the store (flushed by the main loop) */
	int64_t viewed, unblurred, seconds;
	int64_t last_grade_at, streak_start;
};

struct rv_throttle {
	char key[96]; /* "u:name" or "a:address" */
	int fails;
	int64_t until;
};

struct rv_server {
	const struct ks_review_opts *o;
	struct ks_store *st;
	pthread_mutex_t store_lock; /* one connection, one request at a time on it */
	const struct ks_scheme *scheme;
	char scheme_name[32];
	int tls;
	int break_minutes, idle_minutes, threshold;
	pthread_mutex_t sess_lock;
	struct rv_session sessions[RV_MAX_SESSIONS];
	struct rv_throttle throttle[512];
	pthread_mutex_t hash_lock; /* Argon2id checks one at a time (64 MiB each) */
	char dummy_hash[KS_USER_HASH_MAX];
};

/* A request as the API handlers see it. */
struct rv_req {
	struct rv_server *srv;
	const char *method, *path, *query_all; /* query_all unused: see rv_query */
	void *conn;			       /* struct MHD_Connection */
	struct rv_session *sess;	       /* copy of the caller's session, or NULL */
	const char *body;
	size_t body_len;
	const char *client; /* client address text */
};

/* What a handler answers. */
struct rv_resp {
	int status;
	const char *type; /* content type; NULL: application/json */
	struct ks_buf body;
	char cookie[256]; /* Set-Cookie value, "" for none */
};

/* ---- sessions and passwords (auth.c) ---- */
int rv_auth_init(struct rv_server *s, struct ks_err *err);
/* Checks name/password, with throttling by name and by address. On success fills
 * *out with a new session. Returns 0, KS_E_USAGE (bad credentials), KS_E_LIMIT
 * (throttled: *retry gets seconds). */
int rv_auth_login(struct rv_server *s, const char *name, const char *password, const char *client,
		  struct rv_session *out, int *retry, struct ks_err *err);
/* Finds the live session of token (idle and absolute expiry applied) and copies it
 * into *out, touching it. 0 or KS_E_NOTFOUND. */
int rv_session_get(struct rv_server *s, const char *token, struct rv_session *out);
void rv_session_end(struct rv_server *s, const char *token);
/* Adds exposure to a session and returns the break state (1: a break is due). For a
 * grading act (graded = 1) the continuous-grading clock is advanced. */
int rv_session_exposure(struct rv_server *s, const char *token, int64_t viewed, int64_t unblurred,
			int graded, int64_t *streak_seconds);
/* Writes every session's pending exposure to the store (caller holds store_lock). */
void rv_sessions_flush(struct rv_server *s);
int rv_password_hash(const char *password, char out[KS_USER_HASH_MAX], struct ks_err *err);

/* ---- API (api.c) ---- */
void rv_api(struct rv_req *rq, struct rv_resp *rs);

/* ---- JSON (json.c) ---- */
void rv_json_str(struct ks_buf *b, const char *s);
void rv_json_str_or_null(struct ks_buf *b, const char *s);
void rv_json_time(struct ks_buf *b, int64_t t);
void rv_error(struct rv_resp *rs, int status, const char *msg);
/* Parsed request body (yajl tree); accessors return NULL/-1 when absent or mistyped. */
struct rv_json;
struct rv_json *rv_json_parse(const char *text, size_t len);
void rv_json_free(struct rv_json *j);
const char *rv_json_get_str(struct rv_json *j, const char *key);
int rv_json_get_int(struct rv_json *j, const char *key, int64_t *out);
/* An array of integers under key: *out (caller frees) and *n; -1 if absent/mistyped
 * or longer than max. */
int rv_json_get_ints(struct rv_json *j, const char *key, size_t max, int64_t **out, size_t *n);

#endif
