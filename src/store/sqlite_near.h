/* Private to the SQLite backend: the schema step that gives the match table its
 * near-match columns (distance, matched entry), implemented in sqlite_near.c. */
#ifndef KESTREL_SQLITE_NEAR_H
#define KESTREL_SQLITE_NEAR_H

#include <sqlite3.h>

#include "kestrel/base.h"

/* Adds "distance" (Hamming distance of a near match; NULL for exact digests) and
 * "matched" (the hex hash of the entry matched) to the match table when missing: run
 * by the backend on create and on every read-write open. */
int ks_sq_near_schema(sqlite3 *db, struct ks_err *err);

#endif
