/* Accounts and sessions of the review server. Passwords are Argon2id strings made by
 * libsodium; a failed login costs the same whether or not the name exists, and
 * repeated failures by name or by address lock further tries out for a doubling
 * time. Sessions live in memory only (a restart logs everyone out): a random token
 * for the cookie, a second one for CSRF, idle and absolute expiry. */
#include <string.h>

#include <sodium.h>

#include "review_impl.h"

#define ABSOLUTE_HOURS 12
#define FREE_FAILS_NAME 4  /* failures of one name before it is locked out */
#define FREE_FAILS_ADDR 20 /* of one address (several officers may share one) */
#define FIRST_LOCK 5	   /* seconds; doubles with every further failure */
#define MAX_LOCK_SECONDS 900
#define STREAK_GAP 300 /* seconds without grading that end a stretch of grading */

int rv_password_hash(const char *password, char out[KS_USER_HASH_MAX], struct ks_err *err)
{
	if (sodium_init() < 0)
		return ks_err_set(err, KS_E_ENV, "libsodium cannot start");
	if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return ks_err_set(err, KS_E_ENV, "password hashing ran out of memory");
	return KS_OK;
}

int ks_review_user_set(const char *case_dir, const char *name, const char *role,
		       const char *password, const char *by, struct ks_err *err)
{
	struct ks_store *st = NULL;
	char hash[KS_USER_HASH_MAX];
	int r = ks_role_parse(role), created = 0, rc;
	if (!r)
		return ks_err_set(err, KS_E_USAGE, "role must be grader, verifier or admin");
	size_t plen = password ? strlen(password) : 0;
	if (plen < KS_PASSWORD_MIN || plen > KS_PASSWORD_MAX)
		return ks_err_set(err, KS_E_USAGE, "a password is %d to %d bytes long",
				  KS_PASSWORD_MIN, KS_PASSWORD_MAX);
	if ((rc = rv_password_hash(password, hash, err)) != KS_OK)
		return rc;
	if ((rc = ks_store_open(case_dir, 0, &st, err)) != KS_OK)
		goto out;
	if ((rc = ks_store_begin(st, err)) != KS_OK)
		goto out;
	rc = ks_store_user_put(st, name, r, hash, &created, err);
	if (rc == KS_OK) {
		char *d = ks_xasprintf("user %s role %s", name, role);
		rc = ks_store_audit(st, by, created ? "user.add" : "user.update", d, err);
		free(d);
	}
	if (rc == KS_OK)
		rc = ks_store_commit(st, err);
out:
	ks_store_rollback(st);
	ks_store_close(st);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

int rv_auth_init(struct rv_server *s, struct ks_err *err)
{
	if (sodium_init() < 0)
		return ks_err_set(err, KS_E_ENV, "libsodium cannot start");
	/* A hash to check unknown names against, so they take as long as known ones. */
	char pw[33];
	unsigned char rnd[16];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(pw, sizeof pw, rnd, sizeof rnd);
	return rv_password_hash(pw, s->dummy_hash, err);
}

static void random_hex(char out[RV_TOKEN_HEX + 1])
{
	unsigned char b[RV_TOKEN_HEX / 2];
	randombytes_buf(b, sizeof b);
	sodium_bin2hex(out, RV_TOKEN_HEX + 1, b, sizeof b);
}

/* The throttle slot of key (made on first use; the stalest is reused when full). */
static struct rv_throttle *throttle_slot(struct rv_server *s, const char *key)
{
	struct rv_throttle *free_slot = NULL, *oldest = &s->throttle[0];
	size_t n = sizeof s->throttle / sizeof s->throttle[0];
	for (size_t i = 0; i < n; i++) {
		struct rv_throttle *t = &s->throttle[i];
		if (t->key[0] && strcmp(t->key, key) == 0)
			return t;
		if (!t->key[0] && !free_slot)
			free_slot = t;
		if (t->until < oldest->until)
			oldest = t;
	}
	struct rv_throttle *t = free_slot ? free_slot : oldest;
	memset(t, 0, sizeof *t);
	snprintf(t->key, sizeof t->key, "%s", key);
	return t;
}

static void throttle_fail(struct rv_throttle *t, int free_fails, int64_t now)
{
	t->fails++;
	if (t->fails > free_fails) {
		int shift = t->fails - free_fails - 1;
		int64_t lock = shift >= 10 ? MAX_LOCK_SECONDS : (int64_t)FIRST_LOCK << shift;
		t->until = now + (lock > MAX_LOCK_SECONDS ? MAX_LOCK_SECONDS : lock);
	}
}

int rv_auth_login(struct rv_server *s, const char *name, const char *password, const char *client,
		  struct rv_session *out, int *retry, struct ks_err *err)
{
	char kn[96], ka[96];
	int64_t now = ks_time_now();
	snprintf(kn, sizeof kn, "u:%.80s", name);
	snprintf(ka, sizeof ka, "a:%.80s", client);
	*retry = 0;
	pthread_mutex_lock(&s->sess_lock);
	struct rv_throttle *tn = throttle_slot(s, kn), *ta = throttle_slot(s, ka);
	int64_t until = tn->until > ta->until ? tn->until : ta->until;
	pthread_mutex_unlock(&s->sess_lock);
	if (until > now) {
		*retry = (int)(until - now);
		return ks_err_set(err, KS_E_LIMIT, "too many failed logins: try again in %d s",
				  *retry);
	}

	struct ks_user u;
	struct ks_err uerr = {0};
	pthread_mutex_lock(&s->store_lock);
	int found = ks_store_user_get(s->st, name, &u, &uerr) == KS_OK;
	pthread_mutex_unlock(&s->store_lock);
	pthread_mutex_lock(&s->hash_lock);
	int ok = crypto_pwhash_str_verify(found ? u.pwhash : s->dummy_hash, password,
					  strlen(password)) == 0;
	pthread_mutex_unlock(&s->hash_lock);
	ok = ok && found;

	pthread_mutex_lock(&s->sess_lock);
	tn = throttle_slot(s, kn);
	ta = throttle_slot(s, ka);
	if (!ok) {
		throttle_fail(tn, FREE_FAILS_NAME, now);
		throttle_fail(ta, FREE_FAILS_ADDR, now);
		pthread_mutex_unlock(&s->sess_lock);
		return ks_err_set(err, KS_E_USAGE, "wrong name or password");
	}
	tn->fails = 0;
	tn->until = 0;
	ta->fails = 0;
	ta->until = 0;
	/* A free slot, or the least recently used session. */
	struct rv_session *slot = &s->sessions[0];
	for (size_t i = 0; i < RV_MAX_SESSIONS; i++) {
		struct rv_session *x = &s->sessions[i];
		if (!x->token[0]) {
			slot = x;
			break;
		}
		if (x->last_seen < slot->last_seen)
			slot = x;
	}
	memset(slot, 0, sizeof *slot);
	random_hex(slot->token);
	random_hex(slot->csrf);
	snprintf(slot->user, sizeof slot->user, "%s", u.name);
	slot->role = u.role;
	slot->created = slot->last_seen = now;
	*out = *slot;
	pthread_mutex_unlock(&s->sess_lock);
	sodium_memzero(&u, sizeof u);
	return KS_OK;
}

static struct rv_session *find(struct rv_server *s, const char *token)
{
	if (!token || strlen(token) != RV_TOKEN_HEX)
		return NULL;
	int64_t now = ks_time_now();
	for (size_t i = 0; i < RV_MAX_SESSIONS; i++) {
		struct rv_session *x = &s->sessions[i];
		if (!x->token[0] || sodium_memcmp(x->token, token, RV_TOKEN_HEX) != 0)
			continue;
		if (now - x->last_seen > (int64_t)s->idle_minutes * 60 ||
		    now - x->created > ABSOLUTE_HOURS * 3600) {
			x->token[0] = '\0'; /* expired; exposure still waits for the flush */
			return NULL;
		}
		return x;
	}
	return NULL;
}

int rv_session_get(struct rv_server *s, const char *token, struct rv_session *out)
{
	pthread_mutex_lock(&s->sess_lock);
	struct rv_session *x = find(s, token);
	if (x) {
		x->last_seen = ks_time_now();
		*out = *x;
	}
	pthread_mutex_unlock(&s->sess_lock);
	return x ? KS_OK : KS_E_NOTFOUND;
}

void rv_session_end(struct rv_server *s, const char *token)
{
	pthread_mutex_lock(&s->sess_lock);
	struct rv_session *x = find(s, token);
	if (x)
		x->token[0] = '\0';
	pthread_mutex_unlock(&s->sess_lock);
}

int rv_session_exposure(struct rv_server *s, const char *token, int64_t viewed, int64_t unblurred,
			int graded, int64_t *streak_seconds)
{
	int due = 0;
	int64_t now = ks_time_now(), streak = 0;
	pthread_mutex_lock(&s->sess_lock);
	struct rv_session *x = find(s, token);
	if (x) {
		x->viewed += viewed;
		x->unblurred += unblurred;
		if (graded) {
			int64_t gap = x->last_grade_at ? now - x->last_grade_at : STREAK_GAP + 1;
			if (gap <= STREAK_GAP)
				x->seconds += gap;
			else
				x->streak_start = now;
			x->last_grade_at = now;
		}
		if (x->last_grade_at && now - x->last_grade_at <= STREAK_GAP)
			streak = now - x->streak_start;
		due = streak >= (int64_t)s->break_minutes * 60;
	}
	pthread_mutex_unlock(&s->sess_lock);
	if (streak_seconds)
		*streak_seconds = streak;
	return due;
}

void rv_sessions_flush(struct rv_server *s)
{
	char day[32];
	ks_time_iso8601(ks_time_now(), day);
	day[10] = '\0';
	struct {
		char user[KS_USER_NAME_MAX];
		struct ks_welfare w;
	} pend[RV_MAX_SESSIONS];
	size_t n = 0;
	pthread_mutex_lock(&s->sess_lock);
	for (size_t i = 0; i < RV_MAX_SESSIONS; i++) {
		struct rv_session *x = &s->sessions[i];
		if (!x->user[0] || !(x->viewed || x->unblurred || x->seconds))
			continue;
		snprintf(pend[n].user, sizeof pend[n].user, "%s", x->user);
		pend[n].w = (struct ks_welfare){x->viewed, x->unblurred, x->seconds};
		x->viewed = x->unblurred = x->seconds = 0;
		n++;
	}
	pthread_mutex_unlock(&s->sess_lock);
	if (!n)
		return;
	struct ks_err err = {0};
	if (ks_store_begin(s->st, &err) != KS_OK) {
		ks_log(KS_LOG_WARN, "review: exposure figures not saved: %s", err.msg);
		return;
	}
	int rc = KS_OK;
	for (size_t i = 0; i < n && rc == KS_OK; i++)
		rc = ks_store_welfare_add(s->st, pend[i].user, day, &pend[i].w, &err);
	if (rc == KS_OK)
		rc = ks_store_commit(s->st, &err);
	if (rc != KS_OK) {
		ks_store_rollback(s->st);
		ks_log(KS_LOG_WARN, "review: exposure figures not saved: %s", err.msg);
	}
}
