/* Statement helpers shared by the SQLite backend's files (see sqlite_util.h). */
#include "sqlite_util.h"

int ks_sq_fail(sqlite3 *db, int rc, struct ks_err *err, const char *what)
{
	int status = (rc & 0xff) == SQLITE_CONSTRAINT ? KS_E_USAGE : KS_E_ENV;
	return ks_err_set(err, status, "case store: %s: %s", what, sqlite3_errmsg(db));
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
