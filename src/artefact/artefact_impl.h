/* Private to the artefact layer: the parser rows, and helpers the parsers share
 * (path patterns, text decoding, a per-row string arena, delivery of references,
 * column-adaptive SQL over a private SQLite copy). */
#ifndef KS_ARTEFACT_IMPL_H
#define KS_ARTEFACT_IMPL_H

#include <sqlite3.h>

#include "kestrel/artefact.h"

extern const struct ks_artefact_ops ks_art_whatsapp_android;
extern const struct ks_artefact_ops ks_art_whatsapp_ios;
extern const struct ks_artefact_ops ks_art_chrome;
extern const struct ks_artefact_ops ks_art_firefox;
extern const struct ks_artefact_ops ks_art_firefox_legacy;
extern const struct ks_artefact_ops ks_art_mediastore;
extern const struct ks_artefact_ops ks_art_minithumb;
extern const struct ks_artefact_ops ks_art_ios_photos;
extern const struct ks_artefact_ops ks_art_thumbcache;
extern const struct ks_artefact_ops ks_art_thumbsdb;
extern const struct ks_artefact_ops ks_art_xdg_thumb;

/* Longest string copied out of a store into a reference. */
#define KS_ART_TEXT_MAX 4096

/* ---- path patterns ---------------------------------------------------------------- */
/* The last component of a '/'-separated path (also splits on '\\'). */
const char *ks_art_basename(const char *path);
/* Shell-style match of a basename: '*' and '?' only; icase for Windows stores. */
int ks_art_glob(const char *pattern, const char *name, int icase);
/* Head starts with "SQLite format 3\0" (or no head given: then -1). */
int ks_art_sqlite_head(const uint8_t *head, size_t len);
/* Common probe: basename matches one of the NULL-terminated patterns, and the head
 * (if given) satisfies magic (may be NULL: any head). */
int ks_art_probe_name(const char *path, const char *const *patterns, int icase,
		      const uint8_t *head, size_t len,
		      int (*magic)(const uint8_t *head, size_t len));

/* ---- text ---------------------------------------------------------------------------- */
/* Standard base64 (padding optional, no whitespace) into out (cap bytes); returns the
 * decoded length or -1. */
int ks_art_base64(const char *in, size_t inlen, uint8_t *out, size_t cap);
/* A file:// URI into a path (percent-decoded; "file:///C:/x" -> "C:/x"); NULL if the
 * URI is not a file URI. Returns a pointer into the arena. */
struct ks_art_arena;
const char *ks_art_file_uri_path(struct ks_art_arena *a, const char *uri);

/* Bump allocator for the strings of one reference, reset per row. */
struct ks_art_arena {
	char *b;
	size_t n, cap;
};
void ks_art_arena_init(struct ks_art_arena *a, size_t cap);
void ks_art_arena_reset(struct ks_art_arena *a);
void ks_art_arena_release(struct ks_art_arena *a);
/* Copies up to n bytes of s (stopping at a NUL, cut at KS_ART_TEXT_MAX) into the
 * arena; NULL for NULL s or when the arena is full. */
const char *ks_art_strn(struct ks_art_arena *a, const char *s, size_t n);
const char *ks_art_printf(struct ks_art_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* UTF-16LE (nbytes, stops at a NUL unit) into UTF-8 in the arena. */
const char *ks_art_utf16(struct ks_art_arena *a, const uint8_t *p, size_t nbytes);

/* ---- delivery ---------------------------------------------------------------------- */
/* Fills r->parser/app(if NULL)/volume/artefact, drops thumbnails over the limit
 * (saying so in note, using the arena), counts against max_refs and calls the
 * callback. Returns what the callback returned, or KS_E_LIMIT (err set). */
int ks_art_emit(struct ks_artefact_ctx *c, const struct ks_artefact_ops *ops,
		struct ks_artefact_ref *r, struct ks_art_arena *a, struct ks_err *err);
/* A reference with every field empty (size -1). */
void ks_art_ref_init(struct ks_artefact_ref *r, int kind);

/* ---- SQLite ------------------------------------------------------------------------ */
sqlite3 *ks_art_db(struct ks_artefact_db *db);
/* Creates "<parent>/ks-artefact-XXXXXX" (mode 0700; parent NULL: $TMPDIR or /tmp).
 * Caller frees the name. */
char *ks_art_private_dir(const char *parent, struct ks_err *err);
/* Opens dir/store.db (written there with its companions as store.db-wal /
 * store.db-journal) as ks_artefact_db_open does; takes ownership of dir (the copy
 * is removed on close, or at once on failure). */
int ks_art_db_open_dir(char *dir, struct ks_artefact_db **out, struct ks_err *err);
/* A parser context with the defaults applied to lim (which may be NULL). */
void ks_art_ctx_init(struct ks_artefact_ctx *c, const char *volume, const char *path,
		     uint64_t tag, const struct ks_artefact_limits *lim, ks_ref_fn fn, void *ctx);
/* Limits with the defaults applied. */
void ks_art_fill_limits(struct ks_artefact_limits *o, const struct ks_artefact_limits *in);
int ks_art_has_table(sqlite3 *db, const char *table);
int ks_art_has_col(sqlite3 *db, const char *table, const char *col);
/* Appends "alias.col" when the column exists in table, else "NULL" (schemas drift
 * per app version: absent columns read as NULL). */
void ks_art_col(struct ks_buf *sql, sqlite3 *db, const char *alias, const char *table,
		const char *col);
/* Prepares sql; KS_E_EVIDENCE with SQLite's message on failure. */
int ks_art_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *what,
		   struct ks_err *err);
/* Column i as arena text (NULL for SQL NULL); blobs are taken as text. */
const char *ks_art_text(struct ks_art_arena *a, sqlite3_stmt *st, int i);
/* Raw text of column i as stored (numbers as SQLite prints them), for time_raw. */
const char *ks_art_raw(struct ks_art_arena *a, sqlite3_stmt *st, int i);
/* Fills r->sha256 from a hash column: base64 text of 32 bytes, 64 hex digits, or a
 * 32-byte blob. Returns 1 when set. */
int ks_art_sha256_col(struct ks_artefact_ref *r, sqlite3_stmt *st, int i);
/* Step result to status: SQLITE_ROW 1, SQLITE_DONE 0, else KS_E_EVIDENCE (err). */
int ks_art_step(sqlite3 *db, sqlite3_stmt *st, const char *what, struct ks_err *err);

/* ---- rows (art_rows.c) ------------------------------------------------------------- */
/* Appends ", " and ks_art_col for each of the n columns. */
void ks_art_cols(struct ks_buf *sql, sqlite3 *db, const char *alias, const char *table,
		 const char *const *cols, size_t n);
/* Sets r->time_raw (column i as stored), time_src = src, time (column i converted
 * from src) and time_what = what. */
void ks_art_time_col(struct ks_artefact_ref *r, struct ks_art_arena *a, sqlite3_stmt *st, int i,
		     int src, const char *what);
/* Sets r->size from column i when it holds an integer; leaves it alone otherwise. */
void ks_art_size_col(struct ks_artefact_ref *r, sqlite3_stmt *st, int i);
/* Fills r from the current row of st (r is fresh, of the kind given to ks_art_rows;
 * strings go into the arena a, which is reset per row). Returns 1 to deliver r, 0 to
 * skip the row. */
typedef int (*ks_art_row_fn)(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
			     struct ks_artefact_ref *r);
/* Runs sql over db and turns each row into a reference of kind through fill, which
 * ks_art_emit delivers as ops's. what names the store in errors. Returns KS_OK after
 * the last row, KS_E_EVIDENCE (err) when the query fails, or the first failure
 * ks_art_emit returned. */
int ks_art_rows(struct ks_artefact_ctx *c, const struct ks_artefact_ops *ops, sqlite3 *db,
		const char *sql, const char *what, int kind, ks_art_row_fn fill, const void *arg,
		struct ks_err *err);

#endif
