/* Near matches in the SQLite case: the match table's distance and matched-entry
 * columns (added by a schema step, so cases made before them gain them on the next
 * read-write open) and the insert that keeps, per (media, set), the closest PDQ
 * match (on a tie, the most serious category). */
#include <string.h>

#include "sqlite_near.h"
#include "store_impl.h"
#include "sqlite_util.h"

sqlite3 *ks_store_sqlite_handle(struct ks_store *st);


static int has_column(sqlite3 *db, const char *table, const char *col, int *yes, struct ks_err *err)
{
	sqlite3_stmt *q = NULL;
	char sql[128];
	snprintf(sql, sizeof sql, "PRAGMA table_info(\"%s\")", table);
	int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return ks_sq_fail(db, rc, err, "near-match schema");
	*yes = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(q, 1);
		if (name && strcmp((const char *)name, col) == 0)
			*yes = 1;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "near-match schema");
}

int ks_sq_near_schema(sqlite3 *db, struct ks_err *err)
{
	int yes = 0, rc = has_column(db, "match", "distance", &yes, err);
	if (rc < 0 || yes)
		return rc;
	rc = sqlite3_exec(db,
			  "ALTER TABLE \"match\" ADD COLUMN distance INTEGER;"
			  "ALTER TABLE \"match\" ADD COLUMN matched TEXT;",
			  NULL, NULL, NULL);
	return rc == SQLITE_OK ? KS_OK : ks_sq_fail(db, rc, err, "near-match schema");
}

int ks_store_match_near_add(struct ks_store *st, int64_t media_id, int64_t set_id,
			    const char *scheme, const char *category, int severity, int distance,
			    const char *matched, struct ks_err *err)
{
	if (!st)
		return ks_err_set(err, KS_E_USAGE, "no case store open");
	if (st->readonly)
		return ks_err_set(err, KS_E_USAGE, "the case is open read-only");
	if (st->ops != &ks_store_sqlite_ops)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no near matches",
				  st->ops->name);
	if (category && !scheme)
		return ks_err_set(err, KS_E_USAGE, "match: a category needs its scheme");
	if (distance < 0 || distance > 256 || !matched)
		return ks_err_set(err, KS_E_USAGE, "near match: bad distance or entry");
	sqlite3 *db = ks_store_sqlite_handle(st);
	static const char sql[] =
	    "INSERT INTO \"match\"(media, hashset, how, scheme, category, severity, distance,"
	    " matched) VALUES(?1, ?2, 'pdq', ?3, ?4, ?5, ?6, ?7)"
	    " ON CONFLICT(media, hashset, how) DO UPDATE SET scheme = excluded.scheme,"
	    " category = excluded.category, severity = excluded.severity,"
	    " distance = excluded.distance, matched = excluded.matched"
	    " WHERE excluded.distance < \"match\".distance OR (excluded.distance ="
	    " \"match\".distance AND excluded.severity > \"match\".severity)";
	sqlite3_stmt *q = NULL;
	for (sqlite3_stmt *p = sqlite3_next_stmt(db, NULL); p; p = sqlite3_next_stmt(db, p)) {
		const char *t = sqlite3_sql(p);
		if (t && !sqlite3_stmt_busy(p) && strcmp(t, sql) == 0) {
			q = p;
			break;
		}
	}
	int rc;
	if (!q && (rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL)) !=
		      SQLITE_OK)
		return ks_sq_fail(db, rc, err, "near match");
	sqlite3_bind_int64(q, 1, media_id);
	sqlite3_bind_int64(q, 2, set_id);
	if (scheme)
		sqlite3_bind_text(q, 3, scheme, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 3);
	if (category)
		sqlite3_bind_text(q, 4, category, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 4);
	sqlite3_bind_int(q, 5, category ? severity : -1);
	sqlite3_bind_int(q, 6, distance);
	sqlite3_bind_text(q, 7, matched, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "near match");
}

int ks_store_media_pdq_each(struct ks_store *st, int min_quality, ks_media_pdq_fn fn, void *ctx,
			    struct ks_err *err)
{
	if (!st)
		return ks_err_set(err, KS_E_USAGE, "no case store open");
	if (st->ops != &ks_store_sqlite_ops)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no PDQ hashes",
				  st->ops->name);
	sqlite3 *db = ks_store_sqlite_handle(st);
	sqlite3_stmt *q = NULL;
	int rc = ks_sq_prep(db,
			    "SELECT media, hash, quality FROM media_pdq WHERE quality >= ?1"
			    " ORDER BY media",
			    &q, err, "media PDQ");
	if (rc)
		return rc;
	sqlite3_bind_int(q, 1, min_quality);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(q, 1);
		if (!h || sqlite3_column_bytes(q, 1) != 32)
			continue;
		int r = fn(ctx, sqlite3_column_int64(q, 0), h, sqlite3_column_int(q, 2));
		if (r) {
			sqlite3_finalize(q);
			return r;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "media PDQ");
}
