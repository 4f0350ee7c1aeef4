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
