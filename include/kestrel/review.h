/* kestrel review layer: grading the unknown remainder. Near-duplicate grouping by PDQ,
 * officers' accounts (Argon2id through libsodium) and the review server (HTTP through
 * libmicrohttpd, JSON API, a web UI built into the binary, nothing loaded from
 * outside). The data it works on lives in the case (kestrel/store_review.h). */
#ifndef KESTREL_REVIEW_H
#define KESTREL_REVIEW_H

#include <signal.h>
#include <stdint.h>

#include "kestrel/base.h"
#include "kestrel/store.h"

/* ---- near-duplicate groups ------------------------------------------------------- */
#define KS_REVIEW_DEFAULT_THRESHOLD 31 /* PDQ distance within which pictures stack */
#define KS_REVIEW_MIN_QUALITY 50       /* PDQ quality below which a picture stands alone */

struct ks_review_group_stats {
	int64_t placed; /* media placed in a group by this call */
	int64_t joined; /* ... of which joined an existing group */
	int64_t known;	/* media newly left out because a hash set decided */
};
/* Brings the case's groups up to date: media a hash set has since categorised leave
 * the queue, and every picture or video not yet placed is placed, in media id order:
 * a picture whose PDQ (quality >= KS_REVIEW_MIN_QUALITY) lies within threshold of a
 * group leader's joins the nearest such group (ties: the older group); anything else
 * leads a group of its own. Placement never moves a media already placed (splits
 * stay split). threshold 0 means the default. full: also look for media older than
 * the newest placed one (ks_store_review_unplaced; the server does it on start). st
 * must be read-write and outside a transaction (commits in batches). stats may be
 * NULL. */
int ks_review_group_update(struct ks_store *st, int threshold, int full,
			   struct ks_review_group_stats *stats, struct ks_err *err);

/* ---- accounts ----------------------------------------------------------------------- */
#define KS_PASSWORD_MIN 10 /* bytes */
#define KS_PASSWORD_MAX 1024
/* Creates the account or sets its role and password (hashed with Argon2id), and
 * audits it ("user.add" / "user.update", who = by). password: KS_PASSWORD_MIN ..
 * KS_PASSWORD_MAX bytes. */
int ks_review_user_set(const char *case_dir, const char *name, const char *role,
		       const char *password, const char *by, struct ks_err *err);

/* ---- the server ----------------------------------------------------------------------- */
struct ks_review_opts {
	const char *listen;   /* "ADDR:PORT" ("[v6]:PORT"); NULL: 127.0.0.1:8443. Port 0
				 picks a free port. */
	const char *tls_cert; /* PEM files: both or neither */
	const char *tls_key;
	int insecure;	   /* allow plain HTTP on a non-loopback address */
	int threshold;	   /* PDQ grouping threshold; 0: default */
	int break_minutes; /* continuous grading before a break prompt; 0: 45 */
	int idle_minutes;  /* a session unused this long ends; 0: 30 */
	/* Called once the server listens, with its URL (e.g. for the cli to print). */
	void (*ready)(void *ctx, const char *url);
	void *ready_ctx;
};
/* Serves the case until *stop becomes nonzero (a signal handler sets it), then shuts
 * down cleanly. Refuses a non-loopback address without TLS unless opts->insecure.
 * Returns 0 after a clean stop, or a negative ks_status (cannot open the case, bind,
 * or read the TLS files). */
int ks_review_serve(const char *case_dir, const struct ks_review_opts *opts,
		    volatile sig_atomic_t *stop, struct ks_err *err);

#endif
