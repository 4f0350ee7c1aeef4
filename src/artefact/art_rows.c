/* Row helpers the SQLite parsers share: a column list appended to a SELECT, the
 * time and size of a reference read from a column, and the per-row loop that turns
 * each result row into a reference and delivers it. */
#include "artefact_impl.h"

void ks_art_cols(struct ks_buf *sql, sqlite3 *db, const char *alias, const char *table,
		 const char *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ks_buf_adds(sql, ", ");
		ks_art_col(sql, db, alias, table, cols[i]);
	}
}

void ks_art_time_col(struct ks_artefact_ref *r, struct ks_art_arena *a, sqlite3_stmt *st, int i,
		     int src, const char *what)
{
	r->time_raw = ks_art_raw(a, st, i);
	r->time_src = src;
	r->time = ks_time_to_unix(src, sqlite3_column_double(st, i));
	r->time_what = what;
}

void ks_art_size_col(struct ks_artefact_ref *r, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
		r->size = sqlite3_column_int64(st, i);
}

#define ROW_ARENA_BYTES (64 * 1024)

int ks_art_rows(struct ks_artefact_ctx *c, const struct ks_artefact_ops *ops, sqlite3 *db,
		const char *sql, const char *what, int kind, ks_art_row_fn fill, const void *arg,
		struct ks_err *err)
{
	struct ks_art_arena a;
	sqlite3_stmt *st = NULL;
	int rc;
	ks_art_arena_init(&a, ROW_ARENA_BYTES);
	rc = ks_art_prepare(db, sql, &st, what, err);
	if (rc != KS_OK)
		goto out;
	while ((rc = ks_art_step(db, st, what, err)) == 1) {
		struct ks_artefact_ref r;
		ks_art_arena_reset(&a);
		ks_art_ref_init(&r, kind);
		if (!fill(arg, st, &a, &r))
			continue;
		rc = ks_art_emit(c, ops, &r, &a, err);
		if (rc != KS_OK)
			goto out;
	}
out:
	sqlite3_finalize(st);
	ks_art_arena_release(&a);
	return rc;
}
