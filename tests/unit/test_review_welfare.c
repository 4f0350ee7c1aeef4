/* The review server's welfare clock: minutes graded add up only across short gaps, a
 * break prompt comes after break_minutes of continuous grading, a pause of five
 * minutes or more starts a new stretch, and idle sessions expire. Drives the session
 * table directly (no HTTP), moving its clocks instead of waiting. */
#include <stdlib.h>
#include <string.h>

#include "../../src/review/review_impl.h"
#include "ktest.h"

static struct rv_server srv;

static struct rv_session *session(void)
{
	struct rv_session *x = &srv.sessions[0];
	memset(x, 0, sizeof *x);
	memset(x->token, 'a', RV_TOKEN_HEX);
	memset(x->csrf, 'b', RV_TOKEN_HEX);
	snprintf(x->user, sizeof x->user, "g1");
	x->role = KS_ROLE_GRADER;
	x->created = x->last_seen = ks_time_now();
	return x;
}

int main(void)
{
	pthread_mutex_init(&srv.sess_lock, NULL);
	srv.break_minutes = 45;
	srv.idle_minutes = 30;
	struct rv_session *x = session();
	int64_t now = ks_time_now(), streak = 0;

	/* The first grade starts a stretch: no prompt. */
	CHECK(rv_session_exposure(&srv, x->token, 0, 0, 1, &streak) == 0);
	CHECK(streak < 5 && x->seconds == 0);

	/* Grading for 50 minutes with one-minute gaps: minutes add up, a break is due. */
	x->streak_start = now - 50 * 60;
	x->last_grade_at = now - 60;
	CHECK(rv_session_exposure(&srv, x->token, 0, 0, 1, &streak) == 1);
	CHECK(streak >= 50 * 60 && x->seconds >= 60);

	/* Views and unblurs are counted without touching the clock. */
	int64_t secs = x->seconds;
	rv_session_exposure(&srv, x->token, 3, 1, 0, NULL);
	CHECK(x->viewed == 3 && x->unblurred == 1 && x->seconds == secs);

	/* After a pause of ten minutes the stretch starts again and the gap is not
	 * counted as grading. */
	x->last_grade_at = now - 600;
	CHECK(rv_session_exposure(&srv, x->token, 0, 0, 1, &streak) == 0);
	CHECK(streak < 5 && x->seconds == secs);

	/* Not grading for a while: no prompt even within a long stretch. */
	x->streak_start = now - 3600;
	x->last_grade_at = now - 400;
	CHECK(rv_session_exposure(&srv, x->token, 0, 0, 0, &streak) == 0);

	/* A shorter break setting prompts sooner. */
	srv.break_minutes = 10;
	x->streak_start = now - 11 * 60;
	x->last_grade_at = now - 30;
	CHECK(rv_session_exposure(&srv, x->token, 0, 0, 1, &streak) == 1);

	/* Sessions: lookup by token, idle expiry, end. */
	struct rv_session copy;
	CHECK(rv_session_get(&srv, x->token, &copy) == KS_OK && strcmp(copy.user, "g1") == 0);
	char wrong[RV_TOKEN_HEX + 1];
	memset(wrong, 'c', RV_TOKEN_HEX);
	wrong[RV_TOKEN_HEX] = '\0';
	CHECK(rv_session_get(&srv, wrong, &copy) == KS_E_NOTFOUND);
	CHECK(rv_session_get(&srv, "short", &copy) == KS_E_NOTFOUND);
	x->last_seen = now - 31 * 60;
	CHECK(rv_session_get(&srv, x->token, &copy) == KS_E_NOTFOUND);
	x = session();
	rv_session_end(&srv, x->token);
	CHECK(rv_session_get(&srv, x->token, &copy) == KS_E_NOTFOUND);
	return ktest_done();
}
