/* The SQLite backend's video tables: each video media's probe facts and how far the
 * scan got with it (video), its vPDQ features (video_frame), the PDQ hashes of
 * hash-set entries (hashentry_pdq: known stills, and frames of known videos from vPDQ
 * lists) and the details of video matches (video_match: frame, time, distance,
 * percentages). Made by a schema step the backend runs on create and read-write open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_review.h" /* ks_store_sqlite_handle */
#include "store_video_impl.h"
#include "sqlite_util.h"

static const char video_schema[] =
    "CREATE TABLE IF NOT EXISTS video(media INTEGER PRIMARY KEY REFERENCES media(id),"
    " status TEXT NOT NULL, container TEXT, vcodec TEXT, acodec TEXT, pix_fmt TEXT,"
    " duration REAL, fps REAL, width INTEGER, height INTEGER, creation_time INTEGER,"
    " bit_rate INTEGER, declared_frames INTEGER, marks INTEGER NOT NULL, why TEXT,"
    " frames_decoded INTEGER, frames_sampled INTEGER, reached REAL, work_seconds REAL,"
    " features INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS video_frame(media INTEGER NOT NULL REFERENCES media(id),"
    " seq INTEGER NOT NULL, frame INTEGER NOT NULL, seconds REAL NOT NULL,"
    " hash BLOB NOT NULL, quality INTEGER NOT NULL, PRIMARY KEY(media, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS hashentry_pdq(entry INTEGER PRIMARY KEY"
    " REFERENCES hashentry(id), hashset INTEGER NOT NULL REFERENCES hashset(id),"
    " hash BLOB NOT NULL, quality INTEGER, video_frame INTEGER NOT NULL DEFAULT 0,"
    " frame INTEGER, seconds REAL);"
    "CREATE INDEX IF NOT EXISTS hashentry_pdq_set ON hashentry_pdq(hashset, entry);"
    "CREATE TABLE IF NOT EXISTS video_match(id INTEGER PRIMARY KEY,"
    " media INTEGER NOT NULL REFERENCES media(id),"
    " hashset INTEGER NOT NULL REFERENCES hashset(id), how TEXT NOT NULL,"
    " entry TEXT NOT NULL, distance INTEGER, seconds REAL, frame INTEGER,"
    " query_pct REAL, target_pct REAL, scheme TEXT, category TEXT,"
    " UNIQUE(media, hashset, how, entry));";

int ks_sq_video_schema(sqlite3 *db, struct ks_err *err)
{
	return ks_sq_exec(db, video_schema, err, "video tables");
}

/* ---- helpers ------------------------------------------------------------------------ */

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

static const char *text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

static char *dup_text(sqlite3_stmt *q, int i)
{
	return ks_xstrdup(text(q, i));
}

static char *dup_text_or_null(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : ks_xstrdup(text(q, i));
}

static double col_real(sqlite3_stmt *q, int i, double dflt)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? dflt : sqlite3_column_double(q, i);
}

/* ---- videos and their features ------------------------------------------------------- */

static int v_put(struct ks_store *st, int64_t media, const struct ks_video_facts *f,
		 const struct ks_video_feature *feat, size_t n, int *stored, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int64_t old = -1;
	*stored = 0;
	/* A media's first record stays, unless it has no feature and this one has. */
	int rc = ks_sq_int64_by(db, "SELECT features FROM video WHERE media = ?1", media, &old, err,
				"video");
	if (rc < 0)
		return rc;
	if (old > 0 || (old == 0 && n == 0))
		return KS_OK;
	if (old == 0) {
		char sql[96];
		snprintf(sql, sizeof sql, "DELETE FROM video_frame WHERE media = %lld",
			 (long long)media);
		if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
			return ks_sq_fail(db, rc, err, "video");
	}
	rc = ks_sq_prep(db,
		  "INSERT OR REPLACE INTO video(media, status, container, vcodec, acodec, pix_fmt,"
		  " duration, fps, width, height, creation_time, bit_rate, declared_frames, marks,"
		  " why, frames_decoded, frames_sampled, reached, work_seconds, features)"
		  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		  " ?17, ?18, ?19, ?20)",
		  &q, err, "video");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, media);
	bind_text(q, 2, f->status ? f->status : "ok");
	bind_text(q, 3, f->container);
	bind_text(q, 4, f->video_codec);
	bind_text(q, 5, f->audio_codec);
	bind_text(q, 6, f->pix_fmt);
	if (f->duration >= 0)
		sqlite3_bind_double(q, 7, f->duration);
	if (f->fps > 0)
		sqlite3_bind_double(q, 8, f->fps);
	if (f->width)
		sqlite3_bind_int64(q, 9, f->width);
	if (f->height)
		sqlite3_bind_int64(q, 10, f->height);
	if (f->creation_time)
		sqlite3_bind_int64(q, 11, f->creation_time);
	if (f->bit_rate > 0)
		sqlite3_bind_int64(q, 12, f->bit_rate);
	if (f->declared_frames)
		sqlite3_bind_int64(q, 13, (int64_t)f->declared_frames);
	sqlite3_bind_int64(q, 14, f->marks);
	bind_text(q, 15, f->why && *f->why ? f->why : NULL);
	sqlite3_bind_int64(q, 16, (int64_t)f->frames_decoded);
	sqlite3_bind_int64(q, 17, (int64_t)f->frames_sampled);
	sqlite3_bind_double(q, 18, f->reached);
	sqlite3_bind_double(q, 19, f->work_seconds);
	sqlite3_bind_int64(q, 20, (int64_t)n);
	rc = ks_sq_run(db, q, err, "video");
	sqlite3_finalize(q);
	q = NULL;
	if (rc)
		return rc;
	if (n && (rc = ks_sq_prep(db,
			    "INSERT INTO video_frame(media, seq, frame, seconds, hash, quality)"
			    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
			    &q, err, "video frame")))
		return rc;
	for (size_t i = 0; i < n && rc == KS_OK; i++) {
		sqlite3_bind_int64(q, 1, media);
		sqlite3_bind_int64(q, 2, (int64_t)i);
		sqlite3_bind_int64(q, 3, feat[i].frame);
		sqlite3_bind_double(q, 4, feat[i].seconds);
		sqlite3_bind_blob(q, 5, feat[i].pdq, 32, SQLITE_STATIC);
		sqlite3_bind_int(q, 6, feat[i].quality);
		rc = ks_sq_run(db, q, err, "video frame");
	}
	sqlite3_finalize(q);
	if (rc == KS_OK)
		*stored = 1;
	return rc;
}

static int v_features_each(struct ks_store *st, ks_video_features_fn fn, void *ctx,
			   struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	struct ks_video_feature *feat = NULL;
	size_t n = 0, cap = 0;
	int64_t cur = 0;
	if (!ks_sq_has_table(db, "video_frame"))
		return KS_OK;
	int rc = ks_sq_prep(db,
		      "SELECT media, frame, seconds, hash, quality FROM video_frame"
		      " ORDER BY media, seq",
		      &q, err, "video frames");
	if (rc)
		return rc;
	while ((rc = ks_sq_row(db, q, err, "video frames")) > 0) {
		int64_t media = sqlite3_column_int64(q, 0);
		if (media != cur && n) {
			if ((rc = fn(ctx, cur, feat, n)) != 0)
				goto out;
			n = 0;
		}
		cur = media;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			feat = ks_xrealloc(feat, cap * sizeof *feat);
		}
		struct ks_video_feature *f = &feat[n++];
		memset(f, 0, sizeof *f);
		f->frame = sqlite3_column_int64(q, 1);
		f->seconds = sqlite3_column_double(q, 2);
		if (sqlite3_column_bytes(q, 3) == 32)
			memcpy(f->pdq, sqlite3_column_blob(q, 3), 32);
		f->quality = sqlite3_column_int(q, 4);
	}
	if (rc == KS_OK && n)
		rc = fn(ctx, cur, feat, n);
out:
	sqlite3_finalize(q);
	free(feat);
	return rc;
}

/* ---- hash-set PDQ entries ------------------------------------------------------------- */

int ks_sq_video_entry_pdq(sqlite3 *db, int64_t entry_id, int64_t set_id,
			  const struct ks_hash_entry *e, struct ks_err *err)
{
	if (!(e->has & KS_HAS_PDQ))
		return KS_OK;
	sqlite3_stmt *q = NULL;
	int rc = ks_sq_prep(db,
		      "INSERT INTO hashentry_pdq(entry, hashset, hash, quality, video_frame, frame,"
		      " seconds) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		      &q, err, "hash entry PDQ");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, entry_id);
	sqlite3_bind_int64(q, 2, set_id);
	sqlite3_bind_blob(q, 3, e->pdq, 32, SQLITE_STATIC);
	if (e->pdq_quality >= 0)
		sqlite3_bind_int(q, 4, e->pdq_quality);
	sqlite3_bind_int(q, 5, e->video_frame ? 1 : 0);
	if (e->video_frame) {
		sqlite3_bind_int64(q, 6, e->frame);
		sqlite3_bind_double(q, 7, e->seconds);
	}
	rc = ks_sq_run(db, q, err, "hash entry PDQ");
	sqlite3_finalize(q);
	return rc;
}

static int v_pdq_entries_each(struct ks_store *st, int64_t set_id, ks_pdq_entry_fn fn, void *ctx,
			      struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	if (!ks_sq_has_table(db, "hashentry_pdq"))
		return KS_OK;
	int rc = ks_sq_prep(db,
		      "SELECT p.hashset, h.role = 'ignore', p.hash, coalesce(p.quality, -1),"
		      " e.scheme, e.category, e.name, p.video_frame, coalesce(p.frame, 0),"
		      " coalesce(p.seconds, 0) FROM hashentry_pdq p"
		      " JOIN hashentry e ON e.id = p.entry JOIN hashset h ON h.id = p.hashset"
		      " WHERE ?1 <= 0 OR p.hashset = ?1 ORDER BY p.hashset, p.entry",
		      &q, err, "hash entry PDQ");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, set_id);
	while ((rc = ks_sq_row(db, q, err, "hash entry PDQ")) > 0) {
		struct ks_pdq_entry_row r = {
		    .set_id = sqlite3_column_int64(q, 0),
		    .ignorable = sqlite3_column_int(q, 1),
		    .quality = sqlite3_column_int(q, 3),
		    .scheme = sqlite3_column_type(q, 4) == SQLITE_NULL ? NULL : text(q, 4),
		    .category = sqlite3_column_type(q, 5) == SQLITE_NULL ? NULL : text(q, 5),
		    .name = sqlite3_column_type(q, 6) == SQLITE_NULL ? NULL : text(q, 6),
		    .video_frame = sqlite3_column_int(q, 7),
		    .frame = sqlite3_column_int64(q, 8),
		    .seconds = sqlite3_column_double(q, 9),
		};
		if (sqlite3_column_bytes(q, 2) != 32)
			continue;
		memcpy(r.pdq, sqlite3_column_blob(q, 2), 32);
		if ((rc = fn(ctx, &r)) != 0)
			break;
	}
	sqlite3_finalize(q);
	return rc;
}

/* ---- match details --------------------------------------------------------------------- */

static int has_column(sqlite3 *db, const char *table, const char *col)
{
	sqlite3_stmt *q = NULL;
	char sql[128];
	int yes = 0;
	snprintf(sql, sizeof sql, "PRAGMA table_info(\"%s\")", table);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW) {
			const unsigned char *name = sqlite3_column_text(q, 1);
			if (name && strcmp((const char *)name, col) == 0)
				yes = 1;
		}
	sqlite3_finalize(q);
	return yes;
}

/* The match table's row: the most serious category wins, then the closest frame. The
 * distance and matched columns come from the near-match schema step (sqlite_near.c). */
static int match_row(sqlite3 *db, const struct ks_video_match_rec *m, struct ks_err *err)
{
	sqlite3_stmt *q = NULL;
	int near = has_column(db, "match", "distance");
	int rc =
	    ks_sq_prep(db,
		 near ? "INSERT INTO \"match\"(media, hashset, how, scheme, category, severity,"
			" distance, matched) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			" ON CONFLICT(media, hashset, how) DO UPDATE SET"
			" scheme = excluded.scheme, category = excluded.category,"
			" severity = excluded.severity, distance = excluded.distance,"
			" matched = excluded.matched"
			" WHERE excluded.severity > \"match\".severity OR (excluded.severity ="
			" \"match\".severity AND excluded.distance < \"match\".distance)"
		      : "INSERT INTO \"match\"(media, hashset, how, scheme, category, severity)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(media, hashset, how) DO UPDATE"
			" SET scheme = excluded.scheme, category = excluded.category,"
			" severity = excluded.severity"
			" WHERE excluded.severity > \"match\".severity",
		 &q, err, "video match");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, m->media_id);
	sqlite3_bind_int64(q, 2, m->set_id);
	bind_text(q, 3, m->how);
	bind_text(q, 4, m->scheme);
	bind_text(q, 5, m->category);
	sqlite3_bind_int(q, 6, m->category ? m->severity : -1);
	if (near) {
		if (m->distance >= 0)
			sqlite3_bind_int(q, 7, m->distance);
		bind_text(q, 8, m->entry);
	}
	rc = ks_sq_run(db, q, err, "video match");
	sqlite3_finalize(q);
	return rc;
}

static int v_match_add(struct ks_store *st, const struct ks_video_match_rec *m, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int rc = match_row(db, m, err);
	if (rc)
		return rc;
	/* A closer frame or a larger share replaces the earlier record. */
	rc = ks_sq_prep(db,
		  "INSERT INTO video_match(media, hashset, how, entry, distance, seconds, frame,"
		  " query_pct, target_pct, scheme, category)"
		  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		  " ON CONFLICT(media, hashset, how, entry) DO UPDATE SET"
		  " distance = excluded.distance, seconds = excluded.seconds,"
		  " frame = excluded.frame, query_pct = excluded.query_pct,"
		  " target_pct = excluded.target_pct"
		  " WHERE excluded.query_pct + excluded.target_pct >"
		  " video_match.query_pct + video_match.target_pct"
		  " OR (excluded.query_pct + excluded.target_pct ="
		  " video_match.query_pct + video_match.target_pct"
		  " AND excluded.distance < video_match.distance)",
		  &q, err, "video match");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, m->media_id);
	sqlite3_bind_int64(q, 2, m->set_id);
	bind_text(q, 3, m->how);
	bind_text(q, 4, m->entry ? m->entry : "");
	sqlite3_bind_int(q, 5, m->distance);
	sqlite3_bind_double(q, 6, m->seconds);
	sqlite3_bind_int64(q, 7, m->frame);
	sqlite3_bind_double(q, 8, m->query_pct);
	sqlite3_bind_double(q, 9, m->target_pct);
	bind_text(q, 10, m->scheme);
	bind_text(q, 11, m->category);
	rc = ks_sq_run(db, q, err, "video match");
	sqlite3_finalize(q);
	if (rc == KS_OK && strcmp(m->how, "tmk") == 0) /* its two scores (sqlite_tmk.c) */
		rc = ks_sq_tmk_score(db, m, err);
	return rc;
}

/* ---- reading back ------------------------------------------------------------------------ */

#define VIDEO_COLS                                                                                 \
	"v.media, v.status, v.container, v.vcodec, v.acodec, v.pix_fmt, v.duration, v.fps,"        \
	" v.width, v.height, v.creation_time, v.bit_rate, v.declared_frames, v.marks, v.why,"      \
	" v.frames_decoded, v.frames_sampled, v.reached, v.work_seconds, v.features"
#define MATCH_COLS                                                                                 \
	"m.media, coalesce(h.name, ''), m.how, m.entry, coalesce(m.distance, -1),"                 \
	" coalesce(m.seconds, 0), coalesce(m.frame, 0), coalesce(m.query_pct, 0),"                 \
	" coalesce(m.target_pct, 0), m.scheme, m.category"

static void row_from(sqlite3_stmt *q, struct ks_video_row *r)
{
	memset(r, 0, sizeof *r);
	r->media_id = sqlite3_column_int64(q, 0);
	struct ks_video_facts *f = &r->f;
	f->status = dup_text(q, 1);
	f->container = dup_text(q, 2);
	f->video_codec = dup_text(q, 3);
	f->audio_codec = dup_text(q, 4);
	f->pix_fmt = dup_text(q, 5);
	f->duration = col_real(q, 6, -1);
	f->fps = col_real(q, 7, -1);
	f->width = (uint32_t)sqlite3_column_int64(q, 8);
	f->height = (uint32_t)sqlite3_column_int64(q, 9);
	f->creation_time = sqlite3_column_int64(q, 10);
	f->bit_rate = sqlite3_column_int64(q, 11);
	f->declared_frames = (uint64_t)sqlite3_column_int64(q, 12);
	f->marks = (unsigned)sqlite3_column_int64(q, 13);
	f->why = dup_text(q, 14);
	f->frames_decoded = (uint64_t)sqlite3_column_int64(q, 15);
	f->frames_sampled = (uint64_t)sqlite3_column_int64(q, 16);
	f->reached = col_real(q, 17, 0);
	f->work_seconds = col_real(q, 18, 0);
	r->features = (uint64_t)sqlite3_column_int64(q, 19);
}

static void match_from(sqlite3_stmt *q, struct ks_video_match_row *m)
{
	m->set = dup_text(q, 1);
	m->how = dup_text(q, 2);
	m->entry = dup_text(q, 3);
	m->distance = sqlite3_column_int(q, 4);
	m->seconds = sqlite3_column_double(q, 5);
	m->frame = sqlite3_column_int64(q, 6);
	m->query_pct = sqlite3_column_double(q, 7);
	m->target_pct = sqlite3_column_double(q, 8);
	m->scheme = dup_text_or_null(q, 9);
	m->category = dup_text_or_null(q, 10);
}

static void row_release(struct ks_video_row *r)
{
	free((char *)r->f.status);
	free((char *)r->f.container);
	free((char *)r->f.video_codec);
	free((char *)r->f.audio_codec);
	free((char *)r->f.pix_fmt);
	free((char *)r->f.why);
	ks_sq_tmk_release(r);
	for (size_t i = 0; i < r->nmatches; i++) {
		const struct ks_video_match_row *m = &r->matches[i];
		free((char *)m->set);
		free((char *)m->how);
		free((char *)m->entry);
		free((char *)m->scheme);
		free((char *)m->category);
	}
	free((void *)r->matches);
}

void ks_video_row_free(struct ks_video_row *r)
{
	if (!r)
		return;
	row_release(r);
	free(r);
}

static void add_match(struct ks_video_row *r, size_t *cap, sqlite3_stmt *q)
{
	struct ks_video_match_row *ms = (struct ks_video_match_row *)r->matches;
	if (r->nmatches == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		ms = ks_xrealloc(ms, *cap * sizeof *ms);
		r->matches = ms;
	}
	match_from(q, &ms[r->nmatches++]);
}

static int v_get(struct ks_store *st, int64_t media, struct ks_video_row **out, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	struct ks_video_row *r = NULL;
	*out = NULL;
	if (!ks_sq_has_table(db, "video"))
		return KS_OK;
	int rc =
	    ks_sq_prep(db, "SELECT " VIDEO_COLS " FROM video v WHERE v.media = ?1", &q, err, "video");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, media);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		r = ks_xcalloc(1, sizeof *r);
		row_from(q, r);
	} else if (step != SQLITE_DONE) {
		rc = ks_sq_fail(db, step, err, "video");
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc || !r)
		goto out;
	if ((rc = ks_sq_prep(
		 db,
		 "SELECT " MATCH_COLS " FROM video_match m LEFT JOIN hashset h"
		 " ON h.id = m.hashset WHERE m.media = ?1 ORDER BY m.how, m.hashset, m.seconds,"
		 " m.id",
		 &q, err, "video matches")))
		goto out;
	sqlite3_bind_int64(q, 1, media);
	size_t cap = 0;
	while ((rc = ks_sq_row(db, q, err, "video matches")) > 0)
		add_match(r, &cap, q);
	if (rc == KS_OK) /* TMK facts and scores (sqlite_tmk.c) */
		rc = ks_sq_tmk_fill(db, r, 1, err);
out:
	sqlite3_finalize(q);
	if (rc) {
		ks_video_row_free(r);
		return rc;
	}
	*out = r;
	return KS_OK;
}

/* ---- file rows --------------------------------------------------------------------------- */

struct ks_sq_videos {
	struct ks_video_row *rows; /* by media id */
	size_t n;
};

static struct ks_video_row *rows_find(const struct ks_sq_videos *v, int64_t media)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->rows[mid].media_id < media)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->n && v->rows[lo].media_id == media ? &v->rows[lo] : NULL;
}

int ks_sq_videos_load(sqlite3 *db, struct ks_sq_videos **out, struct ks_err *err)
{
	struct ks_sq_videos *v = ks_xcalloc(1, sizeof *v);
	sqlite3_stmt *q = NULL;
	size_t cap = 0;
	int rc = KS_OK;
	*out = v;
	if (!ks_sq_has_table(db, "video"))
		return KS_OK;
	if ((rc =
		 ks_sq_prep(db, "SELECT " VIDEO_COLS " FROM video v ORDER BY v.media", &q, err, "video")))
		return rc;
	while ((rc = ks_sq_row(db, q, err, "video")) > 0) {
		if (v->n == cap) {
			cap = cap ? 2 * cap : 16;
			v->rows = ks_xrealloc(v->rows, cap * sizeof *v->rows);
		}
		row_from(q, &v->rows[v->n++]);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc)
		return rc;
	if ((rc = ks_sq_prep(db,
		       "SELECT " MATCH_COLS " FROM video_match m LEFT JOIN hashset h"
		       " ON h.id = m.hashset ORDER BY m.media, m.how, m.hashset, m.seconds, m.id",
		       &q, err, "video matches")))
		return rc;
	struct ks_video_row *cur = NULL;
	size_t mcap = 0;
	while ((rc = ks_sq_row(db, q, err, "video matches")) > 0) {
		int64_t media = sqlite3_column_int64(q, 0);
		if (!cur || cur->media_id != media) {
			cur = rows_find(v, media);
			mcap = 0;
		}
		if (cur)
			add_match(cur, &mcap, q);
	}
	sqlite3_finalize(q);
	if (rc == KS_OK) /* TMK facts and scores (sqlite_tmk.c) */
		rc = ks_sq_tmk_fill(db, v->rows, v->n, err);
	return rc;
}

void ks_sq_videos_apply(const struct ks_sq_videos *v, struct ks_file_row *r)
{
	r->video = v && r->media_id ? rows_find(v, r->media_id) : NULL;
}

void ks_sq_videos_free(struct ks_sq_videos *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		row_release(&v->rows[i]);
	free(v->rows);
	free(v);
}

const struct ks_store_video_ops ks_store_sqlite_video_ops = {
    .put = v_put,
    .features_each = v_features_each,
    .pdq_entries_each = v_pdq_entries_each,
    .match_add = v_match_add,
    .get = v_get,
    .tmk_put = ks_sq_tmk_put,
    .tmk_each = ks_sq_tmk_each,
    .tmk_entries_each = ks_sq_tmk_entries_each,
    .tmk_entry_get = ks_sq_tmk_entry_get,
};
