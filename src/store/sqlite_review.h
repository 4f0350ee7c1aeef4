/* Private to the SQLite backend: the review tables' schema step and the grade overlay
 * that ks_store_files_each applies, both implemented in sqlite_review.c, plus the
 * accessor it uses to reach a handle's connection. */
#ifndef KESTREL_SQLITE_REVIEW_H
#define KESTREL_SQLITE_REVIEW_H

#include <sqlite3.h>

#include "store_impl.h"

/* The connection of an open SQLite case (sqlite_backend.c; also declared, the same,
 * in store_prov.h). */
sqlite3 *ks_store_sqlite_handle(struct ks_store *st);

/* Creates the review tables if they are missing (CREATE … IF NOT EXISTS): run by the
 * backend on create and on every read-write open, inside or outside a transaction. */
int ks_sq_review_schema(sqlite3 *db, struct ks_err *err);

/* Every media's grade, loaded once per walk of the files. A case without the review
 * tables (opened read-only before any review) has none. */
struct ks_sq_grades;
int ks_sq_grades_load(sqlite3 *db, struct ks_sq_grades **out, struct ks_err *err);
/* Fills r's grade fields from its media's grade. A verified or resolved grade is the
 * media's category (scheme: the grade's) whatever hash sets said. */
void ks_sq_grades_apply(const struct ks_sq_grades *g, struct ks_file_row *r);
void ks_sq_grades_free(struct ks_sq_grades *g); /* accepts NULL */

#endif
