/* Statement helpers shared by the SQLite backend's files (see sqlite_util.h). */
#include "sqlite_util.h"

int ks_sq_fail(sqlite3 *db, int rc, struct ks_err *err, const char *what)
{
	int status = (rc & 0xff) == SQLITE_CONSTRAINT ? KS_E_USAGE : KS_E_ENV;
	return ks_err_set(err, status, "case store: %s: %s", what, sqlite3_errmsg(db));
}

int ks_sq_exec(sqlite3 *db, const char *sql, struct ks_err *err, const char *what)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ks_err_set(err, KS_E_ENV, "case store: %s: %s", what, sqlite3_errmsg(db));
	return KS_OK;
}

int ks_sq_prep(sqlite3 *db, const char *sql, sqlite3_stmt **q, struct ks_err *err,
	       const char *what)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, q, NULL);
	if (rc != SQLITE_OK) {
		*q = NULL;
		return ks_sq_fail(db, rc, err, what);
	}
	return KS_OK;
}

int ks_sq_run(sqlite3 *db, sqlite3_stmt *q, struct ks_err *err, const char *what)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return ks_sq_fail(db, rc, err, what);
	return KS_OK;
}

int ks_sq_row(sqlite3 *db, sqlite3_stmt *q, struct ks_err *err, const char *what)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return ks_sq_fail(db, rc, err, what);
}

int ks_sq_int64_by(sqlite3 *db, const char *sql, int64_t id, int64_t *val, struct ks_err *err,
		   const char *what)
{
	sqlite3_stmt *q = NULL;
	int rc = ks_sq_prep(db, sql, &q, err, what);
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		*val = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return ks_sq_fail(db, step, err, what);
	return step == SQLITE_ROW;
}

int ks_sq_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(q) == SQLITE_ROW;
	}
	sqlite3_finalize(q);
	return yes;
}
