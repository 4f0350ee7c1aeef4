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
/* Runs sql, one or more statements that give no rows (a schema step's tables): any
 * failure is the environment's ("case store: <what>: <SQLite's message>"). */
int ks_sq_exec(sqlite3 *db, const char *sql, struct ks_err *err, const char *what);
/* Prepares sql into *q (NULL on failure). */
int ks_sq_prep(sqlite3 *db, const char *sql, sqlite3_stmt **q, struct ks_err *err,
	       const char *what);
/* Steps q (no rows expected) and resets it, keeping its bindings. */
int ks_sq_run(sqlite3 *db, sqlite3_stmt *q, struct ks_err *err, const char *what);
/* Steps q once: 1 when a row is ready, 0 when there are no more, or the status it set
 * in err (ks_sq_fail). */
int ks_sq_row(sqlite3 *db, sqlite3_stmt *q, struct ks_err *err, const char *what);
/* The first column of the one row sql gives with ?1 bound to id, into *val: returns 1,
 * or 0 when there is no row (*val untouched), or the status set in err. */
int ks_sq_int64_by(sqlite3 *db, const char *sql, int64_t id, int64_t *val, struct ks_err *err,
		   const char *what);
/* Does the table exist? (A case opened read-only may predate a schema step's tables.)
 * 0 when it cannot tell. */
int ks_sq_has_table(sqlite3 *db, const char *name);

#endif
