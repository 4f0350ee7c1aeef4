/* Private to the SQLite backend and its schema-step files: the few statement helpers
 * they all share, so that each file does not carry its own copy. */
#ifndef KS_SQLITE_UTIL_H
#define KS_SQLITE_UTIL_H

#include <sqlite3.h>

#include "kestrel/base.h"

/* A database failure: constraint violations are the caller's mistake (an id that does
 * not exist), anything else is the environment (locked, disk full, I/O). Returns the
 * status it set in err. */
int ks_sq_fail(sqlite3 *db, int rc, struct ks_err *err, const char *what);
/* Prepares sql into *q (NULL on failure). */
int ks_sq_prep(sqlite3 *db, const char *sql, sqlite3_stmt **q, struct ks_err *err,
	       const char *what);
/* Steps q (no rows expected) and resets it, keeping its bindings. */
int ks_sq_run(sqlite3 *db, sqlite3_stmt *q, struct ks_err *err, const char *what);

#endif
