/* The SQLite backend's TMK+PDQF tables: each video's descriptor as the scan made it
 * with --tmk (video_tmk: status, why, frames, the .tmk bytes), known videos'
 * descriptors from imported .tmk files (hashentry_tmk), and the two scores of each
 * "tmk" video match (video_tmk_score; the match itself is a video_match row like the
 * others). Made by a schema step the backend runs on create and read-write open, so
 * cases made before it gain the tables; read-only opens of such cases see none. */
#include <stdlib.h>
#include <string.h>

#include "sqlite_review.h" /* ks_store_sqlite_handle */
#include "sqlite_util.h"
#include "store_video_impl.h"

static const char tmk_schema[] =
    "CREATE TABLE IF NOT EXISTS video_tmk(media INTEGER PRIMARY KEY REFERENCES media(id),"
    " status TEXT NOT NULL, why TEXT, frames INTEGER NOT NULL, work_seconds REAL, tmk BLOB);"
    "CREATE TABLE IF NOT EXISTS hashentry_tmk(entry INTEGER PRIMARY KEY"
    " REFERENCES hashentry(id), hashset INTEGER NOT NULL REFERENCES hashset(id),"
    " tmk BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS hashentry_tmk_set ON hashentry_tmk(hashset, entry);"
    "CREATE TABLE IF NOT EXISTS video_tmk_score(media INTEGER NOT NULL REFERENCES media(id),"
    " hashset INTEGER NOT NULL REFERENCES hashset(id), entry TEXT NOT NULL,"
    " level1 REAL NOT NULL, level2 REAL NOT NULL, PRIMARY KEY(media, hashset, entry))"
    " WITHOUT ROWID;";

int ks_sq_tmk_schema(sqlite3 *db, struct ks_err *err)
{
	return ks_sq_exec(db, tmk_schema, err, "TMK tables");
}

static char *dup_or_null(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? ks_xstrdup((const char *)t) : NULL;
}

/* ---- known videos ------------------------------------------------------------------- */

int ks_sq_tmk_entry(sqlite3 *db, int64_t entry_id, int64_t set_id, const struct ks_hash_entry *e,
		    struct ks_err *err)
{
	if (!e->tmk || !e->tmk_len)
		return KS_OK;
	sqlite3_stmt *q = NULL;
	int rc = ks_sq_prep(db, "INSERT INTO hashentry_tmk(entry, hashset, tmk) VALUES(?1, ?2, ?3)",
			    &q, err, "hash entry TMK");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, entry_id);
	sqlite3_bind_int64(q, 2, set_id);
	sqlite3_bind_blob64(q, 3, e->tmk, e->tmk_len, SQLITE_STATIC);
	rc = ks_sq_run(db, q, err, "hash entry TMK");
	sqlite3_finalize(q);
	return rc;
}

int ks_sq_tmk_entries_each(struct ks_store *st, int64_t set_id, ks_tmk_entry_fn fn, void *ctx,
			   struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	if (!ks_sq_has_table(db, "hashentry_tmk"))
		return KS_OK;
	int rc =
	    ks_sq_prep(db,
		       "SELECT t.hashset, h.role = 'ignore', e.scheme, e.category, e.name, t.tmk,"
		       " t.entry"
		       " FROM hashentry_tmk t JOIN hashentry e ON e.id = t.entry"
		       " JOIN hashset h ON h.id = t.hashset"
		       " WHERE ?1 <= 0 OR t.hashset = ?1 ORDER BY t.hashset, t.entry",
		       &q, err, "hash entry TMK");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, set_id);
	while ((rc = ks_sq_row(db, q, err, "hash entry TMK")) > 0) {
		struct ks_tmk_entry_row r = {
		    .set_id = sqlite3_column_int64(q, 0),
		    .ignorable = sqlite3_column_int(q, 1),
		    .scheme = (const char *)sqlite3_column_text(q, 2),
		    .category = (const char *)sqlite3_column_text(q, 3),
		    .name = (const char *)sqlite3_column_text(q, 4),
		    .tmk = sqlite3_column_blob(q, 5),
		    .len = (size_t)sqlite3_column_bytes(q, 5),
		    .entry = sqlite3_column_int64(q, 6),
		};
		if (!r.tmk)
			continue;
		if ((rc = fn(ctx, &r)) != 0)
			break;
	}
	sqlite3_finalize(q);
	return rc;
}

int ks_sq_tmk_entry_get(struct ks_store *st, int64_t entry, struct ks_buf *out,
			struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int rc = 0;
	if (ks_sq_has_table(db, "hashentry_tmk")) {
		rc = ks_sq_prep(db, "SELECT tmk FROM hashentry_tmk WHERE entry = ?1", &q, err,
				"hash entry TMK");
		if (rc)
			return rc;
		sqlite3_bind_int64(q, 1, entry);
		rc = ks_sq_row(db, q, err, "hash entry TMK");
	}
	const void *p = rc > 0 ? sqlite3_column_blob(q, 0) : NULL;
	int n = rc > 0 ? sqlite3_column_bytes(q, 0) : 0;
	if (p && n > 0) {
		ks_buf_add(out, p, (size_t)n);
		rc = KS_OK;
	} else if (rc >= 0) {
		rc = ks_err_set(err, KS_E_NOTFOUND, "hash entry %lld: no TMK", (long long)entry);
	}
	sqlite3_finalize(q);
	return rc;
}

/* ---- the scan's descriptors ------------------------------------------------------------ */

int ks_sq_tmk_put(struct ks_store *st, int64_t media, const struct ks_video_tmk_facts *f,
		  const uint8_t *tmk, size_t len, int *stored, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int64_t old = -1;
	*stored = 0;
	/* A media's first record stays, unless it has no descriptor and this one has. */
	int rc = ks_sq_int64_by(db, "SELECT tmk IS NOT NULL FROM video_tmk WHERE media = ?1", media,
				&old, err, "video TMK");
	if (rc < 0)
		return rc;
	if (old == 1 || (old == 0 && !tmk))
		return KS_OK;
	rc = ks_sq_prep(db,
			"INSERT OR REPLACE INTO video_tmk(media, status, why, frames, work_seconds,"
			" tmk) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
			&q, err, "video TMK");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, media);
	sqlite3_bind_text(q, 2, f->status ? f->status : "ok", -1, SQLITE_STATIC);
	if (f->why && *f->why)
		sqlite3_bind_text(q, 3, f->why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, f->frames);
	sqlite3_bind_double(q, 5, f->work_seconds);
	if (tmk && len)
		sqlite3_bind_blob64(q, 6, tmk, len, SQLITE_STATIC);
	rc = ks_sq_run(db, q, err, "video TMK");
	sqlite3_finalize(q);
	if (rc == KS_OK)
		*stored = 1;
	return rc;
}

int ks_sq_tmk_each(struct ks_store *st, ks_video_tmk_fn fn, void *ctx, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	if (!ks_sq_has_table(db, "video_tmk"))
		return KS_OK;
	int rc =
	    ks_sq_prep(db, "SELECT media, tmk FROM video_tmk WHERE tmk IS NOT NULL ORDER BY media",
		       &q, err, "video TMK");
	if (rc)
		return rc;
	while ((rc = ks_sq_row(db, q, err, "video TMK")) > 0) {
		const void *b = sqlite3_column_blob(q, 1);
		size_t n = (size_t)sqlite3_column_bytes(q, 1);
		if (b && (rc = fn(ctx, sqlite3_column_int64(q, 0), b, n)) != 0)
			break;
	}
	sqlite3_finalize(q);
	return rc;
}

/* ---- match scores and reading back ------------------------------------------------------ */

int ks_sq_tmk_score(sqlite3 *db, const struct ks_video_match_rec *m, struct ks_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc =
	    ks_sq_prep(db,
		       "INSERT INTO video_tmk_score(media, hashset, entry, level1, level2)"
		       " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(media, hashset, entry) DO UPDATE"
		       " SET level1 = excluded.level1, level2 = excluded.level2"
		       " WHERE excluded.level1 + excluded.level2 >"
		       " video_tmk_score.level1 + video_tmk_score.level2",
		       &q, err, "TMK match");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, m->media_id);
	sqlite3_bind_int64(q, 2, m->set_id);
	sqlite3_bind_text(q, 3, m->entry ? m->entry : "", -1, SQLITE_STATIC);
	sqlite3_bind_double(q, 4, m->level1);
	sqlite3_bind_double(q, 5, m->level2);
	rc = ks_sq_run(db, q, err, "TMK match");
	sqlite3_finalize(q);
	return rc;
}

int ks_sq_tmk_fill(sqlite3 *db, struct ks_video_row *rows, size_t n, struct ks_err *err)
{
	sqlite3_stmt *fq = NULL, *sq = NULL;
	int rc = KS_OK;
	if (!n || !ks_sq_has_table(db, "video_tmk"))
		return KS_OK;
	if ((rc = ks_sq_prep(
		 db, "SELECT status, why, frames, work_seconds FROM video_tmk WHERE media = ?1",
		 &fq, err, "video TMK")) ||
	    (rc = ks_sq_prep(
		 db,
		 "SELECT s.level1, s.level2 FROM video_tmk_score s JOIN hashset h"
		 " ON h.id = s.hashset WHERE s.media = ?1 AND h.name = ?2 AND s.entry = ?3"
		 " ORDER BY s.level1 + s.level2 DESC LIMIT 1",
		 &sq, err, "TMK match")))
		goto out;
	for (size_t i = 0; i < n && rc == KS_OK; i++) {
		struct ks_video_row *r = &rows[i];
		sqlite3_bind_int64(fq, 1, r->media_id);
		int step = sqlite3_step(fq);
		if (step == SQLITE_ROW) {
			r->tmk.status = dup_or_null(fq, 0);
			r->tmk.why = dup_or_null(fq, 1);
			r->tmk.frames = sqlite3_column_int64(fq, 2);
			r->tmk.work_seconds = sqlite3_column_double(fq, 3);
		} else if (step != SQLITE_DONE) {
			rc = ks_sq_fail(db, step, err, "video TMK");
		}
		sqlite3_reset(fq);
		for (size_t k = 0; k < r->nmatches && rc == KS_OK; k++) {
			struct ks_video_match_row *m = (struct ks_video_match_row *)&r->matches[k];
			if (strcmp(m->how, "tmk") != 0)
				continue;
			sqlite3_bind_int64(sq, 1, r->media_id);
			sqlite3_bind_text(sq, 2, m->set, -1, SQLITE_STATIC);
			sqlite3_bind_text(sq, 3, m->entry, -1, SQLITE_STATIC);
			step = sqlite3_step(sq);
			if (step == SQLITE_ROW) {
				m->level1 = sqlite3_column_double(sq, 0);
				m->level2 = sqlite3_column_double(sq, 1);
			} else if (step != SQLITE_DONE) {
				rc = ks_sq_fail(db, step, err, "TMK match");
			}
			sqlite3_reset(sq);
		}
	}
out:
	sqlite3_finalize(fq);
	sqlite3_finalize(sq);
	return rc;
}

void ks_sq_tmk_release(struct ks_video_row *r)
{
	free((char *)r->tmk.status);
	free((char *)r->tmk.why);
	r->tmk.status = r->tmk.why = NULL;
}
