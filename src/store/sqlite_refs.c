/* Provenance in the SQLite case store: the reference and media_exif tables (a schema
 * step the backend runs on create and on read-write open, CREATE … IF NOT EXISTS),
 * media rows known by SHA-256 only, and the read-back that gives every file row its
 * references and EXIF. Statements are prepared once per connection and found again
 * through sqlite3_next_stmt, so the backend's handle needs no field of ours. */
#include <stdlib.h>
#include <string.h>

#include "sqlite_review.h"
#include "store_prov.h"
#include "sqlite_util.h"

#define PATH_SEP " \xe2\x80\xba " /* " › ", as the backend joins container chains */
#define MAX_CHAIN_DEPTH 10000

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS reference(id INTEGER PRIMARY KEY,"
    " exhibit INTEGER NOT NULL REFERENCES exhibit(id),"
    " source INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,"
    " artefact_file INTEGER REFERENCES file(id) ON DELETE SET NULL,"
    " parser TEXT NOT NULL, app TEXT, kind TEXT NOT NULL, record TEXT, peer TEXT,"
    " peer_name TEXT, chat TEXT, chat_name TEXT, time INTEGER, time_raw TEXT,"
    " time_src TEXT, time_what TEXT, url TEXT, referrer TEXT, path TEXT, name TEXT,"
    " thumb_path TEXT, mime TEXT, size INTEGER, owner TEXT, sha256 BLOB, note TEXT,"
    " media INTEGER REFERENCES media(id),"
    " file INTEGER REFERENCES file(id) ON DELETE SET NULL,"
    " thumb_file INTEGER REFERENCES file(id) ON DELETE SET NULL, link_how TEXT);"
    "CREATE INDEX IF NOT EXISTS reference_exhibit ON reference(exhibit);"
    "CREATE INDEX IF NOT EXISTS reference_source ON reference(source);"
    "CREATE INDEX IF NOT EXISTS reference_media ON reference(media);"
    "CREATE INDEX IF NOT EXISTS reference_file ON reference(file);"
    "CREATE INDEX IF NOT EXISTS reference_thumb_file ON reference(thumb_file);"
    "CREATE INDEX IF NOT EXISTS reference_artefact_file ON reference(artefact_file);"
    "CREATE TABLE IF NOT EXISTS media_exif(media INTEGER PRIMARY KEY REFERENCES media(id),"
    " container TEXT, make TEXT, model TEXT, software TEXT, artist TEXT, body_serial TEXT,"
    " lens_make TEXT, lens_model TEXT, lens_serial TEXT, owner_name TEXT,"
    " image_unique_id TEXT, datetime_original TEXT, offset_time_original TEXT,"
    " datetime TEXT, time_local INTEGER, time_utc INTEGER, gps_lat REAL, gps_lon REAL,"
    " gps_alt REAL, gps_time INTEGER, orientation INTEGER, thumb_length INTEGER,"
    " warning TEXT);"
    "CREATE INDEX IF NOT EXISTS media_exif_serial ON media_exif(body_serial);";

/* ---- small helpers -------------------------------------------------------------------- */


/* A statement of ours on this connection, prepared once: an idle one with the same
 * text is reused. The backend finalizes every statement left when it closes. */
static sqlite3_stmt *stmt(sqlite3 *db, const char *sql, struct ks_err *err)
{
	for (sqlite3_stmt *p = sqlite3_next_stmt(db, NULL); p; p = sqlite3_next_stmt(db, p)) {
		const char *t = sqlite3_sql(p);
		if (t && !sqlite3_stmt_busy(p) && strcmp(t, sql) == 0)
			return p;
	}
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL);
	if (rc != SQLITE_OK) {
		ks_sq_fail(db, rc, err, "prepare");
		return NULL;
	}
	return q;
}

static void done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

static int run(sqlite3 *db, sqlite3_stmt *q, const char *what, struct ks_err *err)
{
	int rc = sqlite3_step(q);
	done(q);
	return rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, what);
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static void bind_id(sqlite3_stmt *q, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(q, i, v);
}

static const char *col_text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

static const char *col_or_null(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : col_text(q, i);
}

static int64_t col_int(sqlite3_stmt *q, int i, int64_t none)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? none : sqlite3_column_int64(q, i);
}

static void col_hex(sqlite3_stmt *q, int i, char *out, int n)
{
	if (sqlite3_column_type(q, i) == SQLITE_BLOB && sqlite3_column_bytes(q, i) == n)
		ks_hex_encode(sqlite3_column_blob(q, i), (size_t)n, out);
	else
		out[0] = '\0';
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *q, int i)
{
	snprintf(dst, cap, "%s", col_text(q, i));
}

static int has_table(sqlite3 *db, const char *name, int *yes, struct ks_err *err)
{
	sqlite3_stmt *q =
	    stmt(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", err);
	if (!q)
		return KS_E_ENV;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ks_sq_fail(db, rc, err, "schema");
	*yes = rc == SQLITE_ROW;
	return KS_OK;
}

int ks_sqref_schema(sqlite3 *db, struct ks_err *err)
{
	int rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? KS_OK : ks_sq_fail(db, rc, err, "provenance schema");
}

/* ---- writing ---------------------------------------------------------------------------- */

static int sq_ref_add(struct ks_store *st, const struct ks_ref_rec *r, int64_t *id,
		      struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q =
	    stmt(db,
		 "INSERT INTO reference(exhibit, source, artefact_file, parser, app,"
		 " kind, record, peer, peer_name, chat, chat_name, time, time_raw,"
		 " time_src, time_what, url, referrer, path, name, thumb_path, mime,"
		 " size, owner, sha256, note, media, file, thumb_file, link_how)"
		 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		 " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27,"
		 " ?28, ?29)",
		 err);
	if (!q)
		return KS_E_ENV;
	sqlite3_bind_int64(q, 1, r->exhibit_id);
	sqlite3_bind_int64(q, 2, r->source_id);
	bind_id(q, 3, r->artefact_file_id);
	sqlite3_bind_text(q, 4, r->parser, -1, SQLITE_STATIC);
	bind_text(q, 5, r->app);
	sqlite3_bind_text(q, 6, r->kind, -1, SQLITE_STATIC);
	const char *texts[] = {r->record, r->peer, r->peer_name, r->chat, r->chat_name};
	for (int i = 0; i < 5; i++)
		bind_text(q, 7 + i, texts[i]);
	if (r->time)
		sqlite3_bind_int64(q, 12, r->time);
	bind_text(q, 13, r->time_raw);
	bind_text(q, 14, r->time_src);
	bind_text(q, 15, r->time_what);
	const char *more[] = {r->url, r->referrer, r->path, r->name, r->thumb_path, r->mime};
	for (int i = 0; i < 6; i++)
		bind_text(q, 16 + i, more[i]);
	if (r->size >= 0)
		sqlite3_bind_int64(q, 22, r->size);
	bind_text(q, 23, r->owner);
	if (r->sha256)
		sqlite3_bind_blob(q, 24, r->sha256, 32, SQLITE_STATIC);
	bind_text(q, 25, r->note);
	bind_id(q, 26, r->media_id);
	bind_id(q, 27, r->file_id);
	bind_id(q, 28, r->thumb_file_id);
	bind_text(q, 29, r->link_how);
	int rc = run(db, q, "reference", err);
	if (rc == KS_OK && id)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

static int sq_ref_set_link(struct ks_store *st, const struct ks_ref_link *l, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = stmt(db,
			       "UPDATE reference SET media = ?2, file = ?3, thumb_file = ?4,"
			       " link_how = ?5 WHERE id = ?1",
			       err);
	if (!q)
		return KS_E_ENV;
	sqlite3_bind_int64(q, 1, l->id);
	bind_id(q, 2, l->media_id);
	bind_id(q, 3, l->file_id);
	bind_id(q, 4, l->thumb_file_id);
	bind_text(q, 5, l->link_how);
	int rc = run(db, q, "reference link", err);
	if (rc == KS_OK && sqlite3_changes(db) != 1)
		rc = ks_err_set(err, KS_E_NOTFOUND, "case store: no reference %lld",
				(long long)l->id);
	return rc;
}

static int sq_media_by_sha256(struct ks_store *st, const uint8_t sha256[32], int kind, int64_t size,
			      int64_t *id, int *is_new, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = stmt(db, "SELECT id FROM media WHERE sha256 = ?1", err);
	if (!q)
		return KS_E_ENV;
	sqlite3_bind_blob(q, 1, sha256, 32, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(q, 0);
	done(q);
	if (rc == SQLITE_ROW) {
		if (is_new)
			*is_new = 0;
		return KS_OK;
	}
	if (rc != SQLITE_DONE)
		return ks_sq_fail(db, rc, err, "media lookup");
	/* valid 0 (ok) is a placeholder: nothing was validated, and the row is completed
	 * with the real verdict if the bytes turn up. */
	q = stmt(db,
		 "INSERT INTO media(sha256, md5, sha1, size, type, kind, valid)"
		 " VALUES(?1, NULL, NULL, ?2, 'hash-only', ?3, 0)",
		 err);
	if (!q)
		return KS_E_ENV;
	sqlite3_bind_blob(q, 1, sha256, 32, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, size > 0 ? size : 0);
	sqlite3_bind_int(q, 3, kind);
	rc = sqlite3_step(q);
	done(q);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_CONSTRAINT_NOTNULL)
			return ks_err_set(err, KS_E_UNSUPPORTED,
					  "this case was made before media could be known by their "
					  "SHA-256 only");
		return ks_sq_fail(db, rc, err, "media (hash only)");
	}
	*id = sqlite3_last_insert_rowid(db);
	if (is_new)
		*is_new = 1;
	return KS_OK;
}

int ks_sqref_media_complete(sqlite3 *db, int64_t id, const struct ks_media_rec *m, int *completed,
			    struct ks_err *err)
{
	sqlite3_stmt *q =
	    stmt(db,
		 "UPDATE media SET md5 = ?2, sha1 = ?3, size = ?4, type = ?5, kind = ?6,"
		 " width = ?7, height = ?8, valid = ?9 WHERE id = ?1 AND md5 IS NULL",
		 err);
	if (!q)
		return KS_E_ENV;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_blob(q, 2, m->d->md5, 16, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, m->d->sha1, 20, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)m->size);
	sqlite3_bind_text(q, 5, m->type ? m->type : "data", -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 6, m->kind);
	if (m->width)
		sqlite3_bind_int64(q, 7, m->width);
	if (m->height)
		sqlite3_bind_int64(q, 8, m->height);
	sqlite3_bind_int(q, 9, m->valid);
	int rc = run(db, q, "media completion", err);
	if (rc == KS_OK)
		*completed = sqlite3_changes(db) == 1;
	return rc;
}

static int sq_media_hash_only_each(struct ks_store *st, ks_media_sha256_fn fn, void *ctx,
				   struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(
	    db, "SELECT id, sha256 FROM media WHERE md5 IS NULL ORDER BY id", -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(db, rc, err, "media (hash only)");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 1) != 32)
			continue;
		if ((rc = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_blob(q, 1))) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "media (hash only)");
out:
	sqlite3_finalize(q);
	return rc;
}

static void bind_exif_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v[0])
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
}

static int sq_exif_put(struct ks_store *st, int64_t media_id, const struct ks_exif *x,
		       struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q =
	    stmt(db,
		 "INSERT INTO media_exif(media, container, make, model, software,"
		 " artist, body_serial, lens_make, lens_model, lens_serial, owner_name,"
		 " image_unique_id, datetime_original, offset_time_original, datetime,"
		 " time_local, time_utc, gps_lat, gps_lon, gps_alt, gps_time,"
		 " orientation, thumb_length, warning) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
		 " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
		 " ?21, ?22, ?23, ?24) ON CONFLICT(media) DO NOTHING",
		 err);
	if (!q)
		return KS_E_ENV;
	sqlite3_bind_int64(q, 1, media_id);
	const char *texts[] = {x->container,
			       x->make,
			       x->model,
			       x->software,
			       x->artist,
			       x->body_serial,
			       x->lens_make,
			       x->lens_model,
			       x->lens_serial,
			       x->owner_name,
			       x->image_unique_id,
			       x->datetime_original,
			       x->offset_time_original,
			       x->datetime};
	for (int i = 0; i < 14; i++)
		bind_exif_text(q, 2 + i, texts[i]);
	if (x->time_local)
		sqlite3_bind_int64(q, 16, x->time_local);
	if (x->has_time_utc)
		sqlite3_bind_int64(q, 17, x->time_utc);
	if (x->has_gps) {
		sqlite3_bind_double(q, 18, x->gps_lat);
		sqlite3_bind_double(q, 19, x->gps_lon);
		if (x->has_gps_alt)
			sqlite3_bind_double(q, 20, x->gps_alt);
	}
	if (x->gps_time)
		sqlite3_bind_int64(q, 21, x->gps_time);
	if (x->orientation)
		sqlite3_bind_int(q, 22, x->orientation);
	if (x->has_thumb)
		sqlite3_bind_int64(q, 23, (int64_t)x->thumb_length);
	bind_exif_text(q, 24, x->warning);
	return run(db, q, "EXIF", err);
}

/* ---- linking pass ------------------------------------------------------------------------ */

static int sq_ref_links_each(struct ks_store *st, int64_t exhibit_id, ks_ref_link_fn fn, void *ctx,
			     struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT id, parser, app, path, thumb_path, coalesce(media, 0),"
				    " coalesce(file, 0), coalesce(thumb_file, 0), link_how"
				    " FROM reference WHERE exhibit = ?1"
				    " AND (path IS NOT NULL OR thumb_path IS NOT NULL) ORDER BY id",
				    -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(db, rc, err, "references");
		goto out;
	}
	sqlite3_bind_int64(q, 1, exhibit_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_ref_link l = {
		    .id = sqlite3_column_int64(q, 0),
		    .parser = col_text(q, 1),
		    .app = col_or_null(q, 2),
		    .path = col_or_null(q, 3),
		    .thumb_path = col_or_null(q, 4),
		    .media_id = sqlite3_column_int64(q, 5),
		    .file_id = sqlite3_column_int64(q, 6),
		    .thumb_file_id = sqlite3_column_int64(q, 7),
		    .link_how = col_or_null(q, 8),
		};
		if ((rc = fn(ctx, &l)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "references");
out:
	sqlite3_finalize(q);
	return rc;
}

static int sq_exhibit_files_each(struct ks_store *st, int64_t exhibit_id, ks_file_brief_fn fn,
				 void *ctx, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT id, coalesce(media, 0), path, state FROM file"
				    " WHERE exhibit = ?1 ORDER BY id",
				    -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(db, rc, err, "files");
		goto out;
	}
	sqlite3_bind_int64(q, 1, exhibit_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_file_brief f = {
		    .file_id = sqlite3_column_int64(q, 0),
		    .media_id = sqlite3_column_int64(q, 1),
		    .path = col_text(q, 2),
		    .state = sqlite3_column_int(q, 3),
		};
		if ((rc = fn(ctx, &f)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "files");
out:
	sqlite3_finalize(q);
	return rc;
}

/* ---- categories of the media that references and EXIF point at ----------------------- */

void ks_sqref_msums_release(struct ks_sqref_msums *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->v[i].scheme);
		free(ms->v[i].category);
		free(ms->v[i].match);
	}
	free(ms->v);
	memset(ms, 0, sizeof *ms);
}

/* Rows come in (media, set id, how) order, so the match text is in set order and
 * "first best" is the lowest set id on ties. */
int ks_sqref_msums_load(sqlite3 *db, const char *which, const char *scheme,
			struct ks_sqref_msums *ms, struct ks_err *err)
{
	sqlite3_stmt *q = NULL;
	struct ks_buf text = {0};
	struct ks_sqref_msum *cur = NULL;
	int best_pref = -1, best_sev = 0;
	char *sql =
	    ks_xasprintf("SELECT x.media, h.name, h.role, x.how, x.scheme, x.category,"
			 " x.severity, (SELECT scheme FROM \"case\" WHERE id = 1)"
			 " FROM \"match\" x JOIN hashset h ON h.id = x.hashset"
			 "%s%s%s ORDER BY x.media, x.hashset, x.how",
			 which ? " WHERE x.media IN (" : "", which ? which : "", which ? ")" : "");
	int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(db, rc, err, "matches");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t media = sqlite3_column_int64(q, 0);
		if (!cur || cur->media != media) {
			if (cur)
				cur->match = ks_buf_take(&text);
			if (ms->n == ms->cap) {
				ms->cap = ms->cap ? ms->cap * 2 : 64;
				ms->v = ks_xrealloc(ms->v, ms->cap * sizeof *ms->v);
			}
			cur = &ms->v[ms->n++];
			memset(cur, 0, sizeof *cur);
			cur->media = media;
			best_pref = -1;
		}
		const char *set_scheme = col_or_null(q, 4), *cat = col_or_null(q, 5);
		if (text.len)
			ks_buf_adds(&text, "; ");
		ks_buf_addf(&text, "%s (%s)", col_text(q, 1), col_text(q, 3));
		if (strcmp(col_text(q, 2), "ignore") == 0) {
			cur->known_good = 1;
		} else if (cat && set_scheme) {
			int pref = strcmp(set_scheme, scheme ? scheme : col_text(q, 7)) == 0,
			    sev = sqlite3_column_int(q, 6);
			if (pref > best_pref || (pref == best_pref && sev > best_sev)) {
				free(cur->scheme);
				free(cur->category);
				cur->scheme = ks_xstrdup(set_scheme);
				cur->category = ks_xstrdup(cat);
				best_pref = pref;
				best_sev = sev;
			}
		}
	}
	if (cur)
		cur->match = ks_buf_take(&text);
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "matches");
out:
	ks_buf_release(&text);
	sqlite3_finalize(q);
	return rc;
}

const struct ks_sqref_msum *ks_sqref_msum_find(const struct ks_sqref_msums *ms, int64_t media)
{
	size_t lo = 0, hi = ms->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ms->v[mid].media < media)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ms->n && ms->v[lo].media == media ? &ms->v[lo] : NULL;
}

/* The match summaries of the media that references and EXIF point at, with the review
 * grades that can overrule them. */
struct mcats {
	struct ks_sqref_msums sums;
	struct ks_sq_grades *grades; /* review grades (sqlite_review.c) */
};

static void mcats_release(struct mcats *m)
{
	ks_sqref_msums_release(&m->sums);
	ks_sq_grades_free(m->grades);
	m->grades = NULL;
}

/* Loads the matches of the media that the subquery `which` selects, by the backend's
 * rule (ks_sqref_msums_load), then the review grades. */
static int mcats_load(sqlite3 *db, const char *which, struct mcats *m, struct ks_err *err)
{
	int rc = ks_sqref_msums_load(db, which, NULL, &m->sums, err);
	if (rc == KS_OK)
		rc = ks_sq_grades_load(db, &m->grades, err);
	return rc;
}

/* The category a media counts under: its matches', unless a verified or resolved
 * review grade says otherwise (as ks_store_files_each says it). */
static void resolve(const struct mcats *cats, int64_t media, const char **scheme,
		    const char **category, const char **match, int *known_good)
{
	const struct ks_sqref_msum *c = media ? ks_sqref_msum_find(&cats->sums, media) : NULL;
	struct ks_file_row fr = {.media_id = media};
	if (c) {
		fr.scheme = c->scheme;
		fr.category = c->category;
		if (match)
			*match = c->match;
		if (known_good)
			*known_good = c->known_good;
	}
	if (media && cats->grades)
		ks_sq_grades_apply(cats->grades, &fr);
	*scheme = fr.scheme;
	*category = fr.category;
}

/* ---- reading references back ------------------------------------------------------------- */

/* Display paths of the file rows that references name, then every reference. */
static const char refs_sql[] =
    "WITH RECURSIVE need(id) AS ("
    " SELECT artefact_file FROM reference WHERE artefact_file IS NOT NULL"
    " UNION SELECT file FROM reference WHERE file IS NOT NULL"
    " UNION SELECT thumb_file FROM reference WHERE thumb_file IS NOT NULL),"
    " up(start, cur, disp, depth) AS ("
    " SELECT f.id, f.parent, f.path, 0 FROM file f JOIN need n ON n.id = f.id"
    " UNION ALL SELECT u.start, p.parent, p.path || '" PATH_SEP "' || u.disp, u.depth + 1"
    " FROM up u JOIN file p ON p.id = u.cur WHERE u.depth < 10000),"
    " disp(id, path) AS (SELECT start, disp FROM up WHERE cur IS NULL)"
    " SELECT r.id, e.ref, s.path, da.path, r.parser, r.app, r.kind, r.record, r.peer,"
    " r.peer_name, r.chat, r.chat_name, r.time, r.time_raw, r.time_src, r.time_what, r.url,"
    " r.referrer, r.path, r.name, r.thumb_path, r.mime, r.size, r.owner, r.sha256, r.note,"
    " coalesce(r.media, 0), coalesce(r.file, 0), coalesce(r.thumb_file, 0), r.link_how,"
    " df.path, dt.path, m.sha256, m.md5, m.kind,"
    " (SELECT count(*) FROM file x WHERE x.media = r.media), r.exhibit, r.source,"
    " coalesce(r.artefact_file, 0)"
    " FROM reference r JOIN exhibit e ON e.id = r.exhibit JOIN source s ON s.id = r.source"
    " LEFT JOIN disp da ON da.id = r.artefact_file LEFT JOIN disp df ON df.id = r.file"
    " LEFT JOIN disp dt ON dt.id = r.thumb_file LEFT JOIN media m ON m.id = r.media"
    " ORDER BY e.ref, r.id";

/* Hex buffers a row points into. */
struct ref_hex {
	char sha256[65], media_sha256[65], media_md5[33];
};

static void read_ref(sqlite3_stmt *q, const struct mcats *cats, struct ref_hex *hx,
		     struct ks_ref_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(q, 0);
	r->exhibit = col_text(q, 1);
	r->source = col_text(q, 2);
	r->artefact = col_text(q, 3);
	struct ks_ref_rec *x = &r->r;
	x->parser = col_text(q, 4);
	x->app = col_or_null(q, 5);
	x->kind = col_text(q, 6);
	x->record = col_or_null(q, 7);
	x->peer = col_or_null(q, 8);
	x->peer_name = col_or_null(q, 9);
	x->chat = col_or_null(q, 10);
	x->chat_name = col_or_null(q, 11);
	x->time = col_int(q, 12, 0);
	x->time_raw = col_or_null(q, 13);
	x->time_src = col_or_null(q, 14);
	x->time_what = col_or_null(q, 15);
	x->url = col_or_null(q, 16);
	x->referrer = col_or_null(q, 17);
	x->path = col_or_null(q, 18);
	x->name = col_or_null(q, 19);
	x->thumb_path = col_or_null(q, 20);
	x->mime = col_or_null(q, 21);
	x->size = col_int(q, 22, -1);
	x->owner = col_or_null(q, 23);
	col_hex(q, 24, hx->sha256, 32);
	x->sha256 = hx->sha256[0] ? sqlite3_column_blob(q, 24) : NULL;
	r->sha256 = hx->sha256;
	x->note = col_or_null(q, 25);
	x->media_id = sqlite3_column_int64(q, 26);
	x->file_id = sqlite3_column_int64(q, 27);
	x->thumb_file_id = sqlite3_column_int64(q, 28);
	x->link_how = col_or_null(q, 29);
	r->file = col_or_null(q, 30);
	r->thumb = col_or_null(q, 31);
	col_hex(q, 32, hx->media_sha256, 32);
	col_hex(q, 33, hx->media_md5, 16);
	r->media_sha256 = hx->media_sha256;
	r->media_md5 = hx->media_md5;
	r->media_kind = x->media_id ? (int)col_int(q, 34, -1) : -1;
	r->media_files = sqlite3_column_int64(q, 35);
	x->exhibit_id = sqlite3_column_int64(q, 36);
	x->source_id = sqlite3_column_int64(q, 37);
	x->artefact_file_id = sqlite3_column_int64(q, 38);
	r->match = "";
	resolve(cats, x->media_id, &r->scheme, &r->category, &r->match, &r->known_good);
}

static int sq_refs_each(struct ks_store *st, ks_ref_row_fn fn, void *ctx, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	struct mcats cats = {0};
	sqlite3_stmt *q = NULL;
	int yes = 0;
	int rc = has_table(db, "reference", &yes, err);
	if (rc != KS_OK || !yes)
		goto out;
	if ((rc = mcats_load(db, "SELECT media FROM reference WHERE media IS NOT NULL", &cats,
			     err)) != KS_OK)
		goto out;
	if ((rc = sqlite3_prepare_v2(db, refs_sql, -1, &q, NULL)) != SQLITE_OK) {
		rc = ks_sq_fail(db, rc, err, "references");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_ref_row r;
		struct ref_hex hx;
		read_ref(q, &cats, &hx, &r);
		if ((rc = fn(ctx, &r)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "references");
out:
	sqlite3_finalize(q);
	mcats_release(&cats);
	return rc;
}

/* ---- EXIF read-back --------------------------------------------------------------------- */

#define EXIF_COLS                                                                                  \
	"x.container, x.make, x.model, x.software, x.artist, x.body_serial, x.lens_make,"          \
	" x.lens_model, x.lens_serial, x.owner_name, x.image_unique_id, x.datetime_original,"      \
	" x.offset_time_original, x.datetime, x.time_local, x.time_utc, x.gps_lat, x.gps_lon,"     \
	" x.gps_alt, x.gps_time, x.orientation, x.thumb_length, x.warning"

/* Fills *x from the EXIF_COLS starting at column i. */
static void read_exif(sqlite3_stmt *q, int i, struct ks_exif *x)
{
	memset(x, 0, sizeof *x);
	copy_text(x->container, sizeof x->container, q, i);
	struct {
		char *p;
		size_t n;
	} t[] = {
	    {x->make, sizeof x->make},
	    {x->model, sizeof x->model},
	    {x->software, sizeof x->software},
	    {x->artist, sizeof x->artist},
	    {x->body_serial, sizeof x->body_serial},
	    {x->lens_make, sizeof x->lens_make},
	    {x->lens_model, sizeof x->lens_model},
	    {x->lens_serial, sizeof x->lens_serial},
	    {x->owner_name, sizeof x->owner_name},
	    {x->image_unique_id, sizeof x->image_unique_id},
	    {x->datetime_original, sizeof x->datetime_original},
	    {x->offset_time_original, sizeof x->offset_time_original},
	    {x->datetime, sizeof x->datetime},
	};
	for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
		copy_text(t[k].p, t[k].n, q, i + 1 + (int)k);
	x->time_local = col_int(q, i + 14, 0);
	x->has_time_utc = sqlite3_column_type(q, i + 15) != SQLITE_NULL;
	x->time_utc = col_int(q, i + 15, 0);
	x->has_gps = sqlite3_column_type(q, i + 16) != SQLITE_NULL &&
		     sqlite3_column_type(q, i + 17) != SQLITE_NULL;
	if (x->has_gps) {
		x->gps_lat = sqlite3_column_double(q, i + 16);
		x->gps_lon = sqlite3_column_double(q, i + 17);
	}
	x->has_gps_alt = x->has_gps && sqlite3_column_type(q, i + 18) != SQLITE_NULL;
	if (x->has_gps_alt)
		x->gps_alt = sqlite3_column_double(q, i + 18);
	x->gps_time = col_int(q, i + 19, 0);
	x->orientation = (int)col_int(q, i + 20, 0);
	x->has_thumb = sqlite3_column_type(q, i + 21) != SQLITE_NULL;
	x->thumb_length = (uint64_t)col_int(q, i + 21, 0);
	copy_text(x->warning, sizeof x->warning, q, i + 22);
}

static int sq_exif_each(struct ks_store *st, ks_exif_row_fn fn, void *ctx, struct ks_err *err)
{
	sqlite3 *db = ks_store_sqlite_handle(st);
	struct mcats cats = {0};
	sqlite3_stmt *q = NULL;
	struct ks_exif *x = ks_xmalloc(sizeof *x);
	int yes = 0;
	int rc = has_table(db, "media_exif", &yes, err);
	if (rc != KS_OK || !yes)
		goto out;
	if ((rc = mcats_load(db, "SELECT media FROM media_exif", &cats, err)) != KS_OK)
		goto out;
	char sql[2048];
	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE first(media, id) AS (SELECT media, min(id) FROM file"
		 " WHERE media IN (SELECT media FROM media_exif) GROUP BY media),"
		 " up(start, cur, disp, depth) AS (SELECT f.id, f.parent, f.path, 0 FROM file f"
		 " JOIN first n ON n.id = f.id UNION ALL SELECT u.start, p.parent,"
		 " p.path || '%s' || u.disp, u.depth + 1 FROM up u JOIN file p ON p.id = u.cur"
		 " WHERE u.depth < %d),"
		 " disp(id, path) AS (SELECT start, disp FROM up WHERE cur IS NULL)"
		 " SELECT x.media, m.sha256, m.md5, m.kind, e.ref, d.path, " EXIF_COLS
		 " FROM media_exif x JOIN media m ON m.id = x.media"
		 " LEFT JOIN first fi ON fi.media = x.media LEFT JOIN file f ON f.id = fi.id"
		 " LEFT JOIN exhibit e ON e.id = f.exhibit LEFT JOIN disp d ON d.id = fi.id"
		 " ORDER BY coalesce(x.body_serial, ''), coalesce(x.make, ''),"
		 " coalesce(x.model, ''), m.sha256",
		 PATH_SEP, MAX_CHAIN_DEPTH);
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL)) != SQLITE_OK) {
		rc = ks_sq_fail(db, rc, err, "EXIF");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char sha[65], md5[33];
		col_hex(q, 1, sha, 32);
		col_hex(q, 2, md5, 16);
		read_exif(q, 6, x);
		struct ks_exif_row r = {
		    .media_id = sqlite3_column_int64(q, 0),
		    .sha256 = sha,
		    .md5 = md5,
		    .kind = sqlite3_column_int(q, 3),
		    .exhibit = col_text(q, 4),
		    .path = col_text(q, 5),
		    .exif = x,
		};
		resolve(&cats, r.media_id, &r.scheme, &r.category, NULL, NULL);
		if ((rc = fn(ctx, &r)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "EXIF");
out:
	sqlite3_finalize(q);
	mcats_release(&cats);
	free(x);
	return rc;
}

/* ---- files_each attachment ------------------------------------------------------------ */

/* Strings of the loaded references, in large blocks freed together. */
struct pool {
	char **blocks;
	size_t n;
	char *cur;
	size_t left;
};

static const char *pool_dup(struct pool *p, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	if (n > p->left) {
		size_t sz = n > 65536 ? n : 65536;
		p->blocks = ks_xrealloc(p->blocks, (p->n + 1) * sizeof *p->blocks);
		p->cur = p->blocks[p->n++] = ks_xmalloc(sz);
		p->left = sz;
	}
	char *d = p->cur;
	memcpy(d, s, n);
	p->cur += n;
	p->left -= n;
	return d;
}

static void pool_release(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->blocks[i]);
	free(p->blocks);
	memset(p, 0, sizeof *p);
}

struct ks_sqref_attach {
	sqlite3 *db;
	int have_exif;
	struct ks_ref_row *refs; /* in (exhibit, id) order as loaded */
	size_t n, cap;
	struct ks_ref_row **by_media, **by_thumb; /* sorted by media / thumb file, then id */
	struct ks_ref_row **row;		  /* the current file row's references */
	uint8_t (*sha)[32];			  /* r.sha256 bytes of each reference */
	struct pool pool;
	struct ks_exif exif;
};

static int keep_ref(void *ctx, const struct ks_ref_row *r)
{
	struct ks_sqref_attach *a = ctx;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->refs = ks_xrealloc(a->refs, a->cap * sizeof *a->refs);
		a->sha = ks_xrealloc(a->sha, a->cap * sizeof *a->sha);
	}
	struct ks_ref_row *d = &a->refs[a->n];
	struct pool *p = &a->pool;
	*d = *r;
	d->exhibit = pool_dup(p, r->exhibit);
	d->source = pool_dup(p, r->source);
	d->artefact = pool_dup(p, r->artefact);
	const char **s[] = {&d->r.parser,   &d->r.app,	     &d->r.kind,      &d->r.record,
			    &d->r.peer,	    &d->r.peer_name, &d->r.chat,      &d->r.chat_name,
			    &d->r.time_raw, &d->r.time_src,  &d->r.time_what, &d->r.url,
			    &d->r.referrer, &d->r.path,	     &d->r.name,      &d->r.thumb_path,
			    &d->r.mime,	    &d->r.owner,     &d->r.note,      &d->r.link_how,
			    &d->sha256,	    &d->file,	     &d->thumb,	      &d->media_sha256,
			    &d->media_md5,  &d->scheme,	     &d->category,    &d->match};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		*s[i] = pool_dup(p, *s[i]);
	if (r->r.sha256)
		memcpy(a->sha[a->n], r->r.sha256, 32);
	d->r.sha256 = NULL; /* set once the array stops moving */
	a->n++;
	return 0;
}

static int by_media(const void *x, const void *y)
{
	const struct ks_ref_row *a = *(struct ks_ref_row *const *)x,
				*b = *(struct ks_ref_row *const *)y;
	if (a->r.media_id != b->r.media_id)
		return a->r.media_id < b->r.media_id ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int by_thumb(const void *x, const void *y)
{
	const struct ks_ref_row *a = *(struct ks_ref_row *const *)x,
				*b = *(struct ks_ref_row *const *)y;
	if (a->r.thumb_file_id != b->r.thumb_file_id)
		return a->r.thumb_file_id < b->r.thumb_file_id ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

int ks_sqref_attach_new(sqlite3 *db, struct ks_sqref_attach **out, struct ks_err *err)
{
	struct ks_sqref_attach *a = ks_xcalloc(1, sizeof *a);
	int rc;
	a->db = db;
	*out = NULL;
	if ((rc = has_table(db, "media_exif", &a->have_exif, err)) != KS_OK)
		goto out;
	int yes = 0;
	if ((rc = has_table(db, "reference", &yes, err)) != KS_OK)
		goto out;
	if (yes) {
		struct mcats cats = {0};
		sqlite3_stmt *q = NULL;
		rc = mcats_load(db, "SELECT media FROM reference WHERE media IS NOT NULL", &cats,
				err);
		if (rc == KS_OK &&
		    (rc = sqlite3_prepare_v2(db, refs_sql, -1, &q, NULL)) != SQLITE_OK)
			rc = ks_sq_fail(db, rc, err, "references");
		while (rc == KS_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
			struct ks_ref_row r;
			struct ref_hex hx;
			read_ref(q, &cats, &hx, &r);
			rc = keep_ref(a, &r);
		}
		if (rc == SQLITE_DONE)
			rc = KS_OK;
		else if (rc > 0)
			rc = ks_sq_fail(db, rc, err, "references");
		sqlite3_finalize(q);
		mcats_release(&cats);
		if (rc != KS_OK)
			goto out;
	}
	a->by_media = ks_xcalloc(a->n + 1, sizeof *a->by_media);
	a->by_thumb = ks_xcalloc(a->n + 1, sizeof *a->by_thumb);
	a->row = ks_xcalloc(a->n + 1, sizeof *a->row);
	for (size_t i = 0; i < a->n; i++) {
		if (a->refs[i].sha256[0])
			a->refs[i].r.sha256 = a->sha[i];
		a->by_media[i] = a->by_thumb[i] = &a->refs[i];
	}
	if (a->n) {
		qsort(a->by_media, a->n, sizeof *a->by_media, by_media);
		qsort(a->by_thumb, a->n, sizeof *a->by_thumb, by_thumb);
	}
	rc = KS_OK;
out:
	if (rc != KS_OK) {
		ks_sqref_attach_free(a);
		a = NULL;
	}
	*out = a;
	return rc;
}

/* First index in v (sorted by key) whose key is >= k. */
static size_t lower(struct ks_ref_row **v, size_t n, int64_t k, int thumb)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t x = thumb ? v[mid]->r.thumb_file_id : v[mid]->r.media_id;
		if (x < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ks_sqref_attach_row(struct ks_sqref_attach *a, struct ks_file_row *r, struct ks_err *err)
{
	size_t k = 0;
	r->refs = NULL;
	r->nrefs = 0;
	r->exif = NULL;
	if (a->n) {
		/* Merge the two id-ordered runs: by media, and by this file as thumbnail. */
		size_t i = r->media_id ? lower(a->by_media, a->n, r->media_id, 0) : a->n;
		size_t j = lower(a->by_thumb, a->n, r->file_id, 1);
		for (;;) {
			struct ks_ref_row *x = i < a->n && a->by_media[i]->r.media_id == r->media_id
						   ? a->by_media[i]
						   : NULL;
			struct ks_ref_row *y =
			    j < a->n && a->by_thumb[j]->r.thumb_file_id == r->file_id
				? a->by_thumb[j]
				: NULL;
			if (!x && !y)
				break;
			if (x && (!y || x->id <= y->id)) {
				a->row[k++] = x;
				i++;
				if (y && y->id == x->id)
					j++;
			} else {
				a->row[k++] = y;
				j++;
			}
		}
		r->refs = (const struct ks_ref_row *const *)a->row;
		r->nrefs = k;
	}
	if (a->have_exif && r->media_id) {
		sqlite3_stmt *q =
		    stmt(a->db, "SELECT " EXIF_COLS " FROM media_exif x WHERE x.media = ?1", err);
		if (!q)
			return KS_E_ENV;
		sqlite3_bind_int64(q, 1, r->media_id);
		int rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			read_exif(q, 0, &a->exif);
			r->exif = &a->exif;
		}
		done(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return ks_sq_fail(a->db, rc, err, "EXIF");
	}
	return KS_OK;
}

void ks_sqref_attach_free(struct ks_sqref_attach *a)
{
	if (!a)
		return;
	pool_release(&a->pool);
	free(a->refs);
	free(a->sha);
	free(a->by_media);
	free(a->by_thumb);
	free(a->row);
	free(a);
}

const struct ks_store_prov_ops ks_store_sqlite_prov_ops = {
    .ref_add = sq_ref_add,
    .ref_links_each = sq_ref_links_each,
    .ref_set_link = sq_ref_set_link,
    .exhibit_files_each = sq_exhibit_files_each,
    .media_by_sha256 = sq_media_by_sha256,
    .media_hash_only_each = sq_media_hash_only_each,
    .exif_put = sq_exif_put,
    .refs_each = sq_refs_each,
    .exif_each = sq_exif_each,
};
