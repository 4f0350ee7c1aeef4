/* Private copies of SQLite evidence: the store with its -wal and -journal is written
 * into a fresh 0700 directory, opened read-write so SQLite replays the WAL (rows only
 * in the WAL count) or rolls back a hot journal, then locked down (query_only, no
 * checkpoint on close, defensive, untrusted schema). Plus the column-adaptive query
 * helpers the SQLite parsers share, and the parse entry points. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artefact_impl.h"

struct ks_artefact_db {
	sqlite3 *h;
	char *dir;  /* private directory, removed on close */
	char *file; /* dir/store.db */
};

static const char *const copy_names[] = {"store.db", "store.db-wal", "store.db-journal",
					 "store.db-shm"};

static void fill_limits(struct ks_artefact_limits *o, const struct ks_artefact_limits *in)
{
	memset(o, 0, sizeof *o);
	if (in)
		*o = *in;
	if (!o->max_db_bytes)
		o->max_db_bytes = 2ull << 30;
	if (!o->max_cache_bytes)
		o->max_cache_bytes = 1ull << 30;
	if (!o->max_thumb_bytes)
		o->max_thumb_bytes = 16u << 20;
	if (!o->max_refs)
		o->max_refs = 50000000ull;
}

/* Creates "<parent>/ks-artefact-XXXXXX" (mode 0700). Caller frees. */
char *ks_art_private_dir(const char *parent, struct ks_err *err)
{
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	char *dir = ks_xasprintf("%s/ks-artefact-XXXXXX", parent);
	if (!mkdtemp(dir)) {
		ks_err_set(err, KS_E_ENV, "cannot create a private directory under %s: %s", parent,
			   strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* Writes len bytes to a new file dir/name (must not exist). */
static int write_new(const char *dir, const char *name, const uint8_t *p, size_t len,
		     struct ks_err *err)
{
	int rc = KS_OK;
	char *path = ks_xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = ks_err_set(err, KS_E_ENV, "%s: %s", path, strerror(errno));
		goto out;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = ks_err_set(err, KS_E_ENV, "%s: write: %s", path, strerror(errno));
			goto out;
		}
		done += (size_t)w;
	}
out:
	if (fd >= 0 && close(fd) != 0 && rc == KS_OK)
		rc = ks_err_set(err, KS_E_ENV, "%s: close: %s", path, strerror(errno));
	free(path);
	return rc;
}

static void remove_copy(const char *dir)
{
	if (!dir)
		return;
	for (size_t i = 0; i < sizeof copy_names / sizeof copy_names[0]; i++) {
		char *p = ks_xasprintf("%s/%s", dir, copy_names[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

void ks_artefact_db_close(struct ks_artefact_db *db)
{
	if (!db)
		return;
	sqlite3_close_v2(db->h);
	remove_copy(db->dir);
	free(db->dir);
	free(db->file);
	free(db);
}

/* Opens dir/store.db (already written, with whatever companions). Takes dir. */
int ks_art_db_open_dir(char *dir, struct ks_artefact_db **out, struct ks_err *err)
{
	int rc = KS_OK;
	struct ks_artefact_db *db = ks_xcalloc(1, sizeof *db);
	db->dir = dir;
	db->file = ks_xasprintf("%s/store.db", dir);
	*out = NULL;
	int src = sqlite3_open_v2(db->file, &db->h,
				  SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
				  NULL);
	if (src != SQLITE_OK) {
		rc = ks_err_set(err, KS_E_ENV, "sqlite cannot open the private copy: %s",
				db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(src));
		goto out;
	}
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	sqlite3_limit(db->h, SQLITE_LIMIT_LENGTH, 256 << 20);
	sqlite3_busy_timeout(db->h, 0);
	/* The first read replays the WAL / rolls back a hot journal (on the copy) and
	 * tells a database from anything else. Only then is the connection locked. */
	char *msg = NULL;
	src = sqlite3_exec(db->h, "PRAGMA cell_size_check=ON; SELECT count(*) FROM sqlite_master;",
			   NULL, NULL, &msg);
	if (src != SQLITE_OK) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "not a readable SQLite database: %s",
				msg ? msg : sqlite3_errstr(src));
		sqlite3_free(msg);
		goto out;
	}
	if (sqlite3_exec(db->h, "PRAGMA query_only=1;", NULL, NULL, &msg) != SQLITE_OK) {
		rc = ks_err_set(err, KS_E_ENV, "sqlite: %s", msg ? msg : "query_only");
		sqlite3_free(msg);
		goto out;
	}
	*out = db;
	db = NULL;
out:
	ks_artefact_db_close(db);
	return rc;
}

int ks_artefact_db_open(const char *tmp_parent, const uint8_t *bytes, size_t dblen,
			const uint8_t *wal, size_t wallen, const uint8_t *journal,
			size_t journallen, const struct ks_artefact_limits *lim,
			struct ks_artefact_db **out, struct ks_err *err)
{
	struct ks_artefact_limits l;
	fill_limits(&l, lim);
	*out = NULL;
	uint64_t total = (uint64_t)dblen + (wal ? wallen : 0) + (journal ? journallen : 0);
	if (total > l.max_db_bytes)
		return ks_err_set(err, KS_E_LIMIT, "SQLite store of %llu bytes over the %llu limit",
				  (unsigned long long)total, (unsigned long long)l.max_db_bytes);
	char *dir = ks_art_private_dir(tmp_parent, err);
	if (!dir)
		return KS_E_ENV;
	int rc = write_new(dir, "store.db", bytes, dblen, err);
	if (rc == KS_OK && wal)
		rc = write_new(dir, "store.db-wal", wal, wallen, err);
	if (rc == KS_OK && journal)
		rc = write_new(dir, "store.db-journal", journal, journallen, err);
	if (rc != KS_OK) {
		remove_copy(dir);
		free(dir);
		return rc;
	}
	return ks_art_db_open_dir(dir, out, err);
}

struct sqlite3 *ks_artefact_db_handle(struct ks_artefact_db *db)
{
	return db->h;
}

sqlite3 *ks_art_db(struct ks_artefact_db *db)
{
	return db->h;
}

/* ---- parse entry points ------------------------------------------------------------ */

void ks_art_ctx_init(struct ks_artefact_ctx *c, const char *volume, const char *path,
		     uint64_t tag, const struct ks_artefact_limits *lim, ks_ref_fn fn, void *ctx)
{
	memset(c, 0, sizeof *c);
	c->volume = volume ? volume : "";
	c->path = path ? path : "";
	c->tag = tag;
	fill_limits(&c->lim, lim);
	c->fn = fn;
	c->fn_ctx = ctx;
}

int ks_artefact_parse_db(const struct ks_artefact_ops *ops, const char *volume, const char *path,
			 struct ks_artefact_db *db, const struct ks_artefact_limits *lim,
			 ks_ref_fn fn, void *ctx, struct ks_err *err)
{
	if (!ops || ops->input != KS_ARTEFACT_SQLITE || !ops->parse_db)
		return ks_err_set(err, KS_E_USAGE, "%s is not an SQLite parser",
				  ops ? ops->name : "(null)");
	struct ks_artefact_ctx c;
	ks_art_ctx_init(&c, volume, path, 0, lim, fn, ctx);
	return ops->parse_db(&c, db, err);
}

int ks_artefact_parse_bytes(const struct ks_artefact_ops *ops, const char *volume,
			    const char *path, const uint8_t *data, size_t len,
			    const struct ks_artefact_limits *lim, ks_ref_fn fn, void *ctx,
			    struct ks_err *err)
{
	if (!ops || ops->input != KS_ARTEFACT_BYTES || !ops->parse_bytes)
		return ks_err_set(err, KS_E_USAGE, "%s is not a binary-store parser",
				  ops ? ops->name : "(null)");
	struct ks_artefact_ctx c;
	ks_art_ctx_init(&c, volume, path, 0, lim, fn, ctx);
	if (len > c.lim.max_cache_bytes)
		return ks_err_set(err, KS_E_LIMIT, "%s: %zu bytes over the cache limit", c.path, len);
	return ops->parse_bytes(&c, data, len, err);
}

void ks_art_fill_limits(struct ks_artefact_limits *o, const struct ks_artefact_limits *in)
{
	fill_limits(o, in);
}

/* ---- query helpers ----------------------------------------------------------------- */

int ks_art_has_table(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') "
			       "AND name = ?1 COLLATE NOCASE",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

int ks_art_has_col(sqlite3 *db, const char *table, const char *col)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

void ks_art_col(struct ks_buf *sql, sqlite3 *db, const char *alias, const char *table,
		const char *col)
{
	if (table && ks_art_has_col(db, table, col))
		ks_buf_addf(sql, "%s.\"%s\"", alias, col);
	else
		ks_buf_adds(sql, "NULL");
}

int ks_art_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *what,
		   struct ks_err *err)
{
	*st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		int rc = ks_err_set(err, KS_E_EVIDENCE, "%s: %s", what, sqlite3_errmsg(db));
		sqlite3_finalize(*st);
		*st = NULL;
		return rc;
	}
	return KS_OK;
}

int ks_art_step(sqlite3 *db, sqlite3_stmt *st, const char *what, struct ks_err *err)
{
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		return 1;
	if (src == SQLITE_DONE)
		return 0;
	return ks_err_set(err, KS_E_EVIDENCE, "%s: %s", what, sqlite3_errmsg(db));
}

const char *ks_art_text(struct ks_art_arena *a, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	const char *s = (const char *)sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	return s ? ks_art_strn(a, s, (size_t)n) : NULL;
}

const char *ks_art_raw(struct ks_art_arena *a, sqlite3_stmt *st, int i)
{
	int t = sqlite3_column_type(st, i);
	if (t == SQLITE_NULL || t == SQLITE_BLOB)
		return NULL;
	return ks_art_text(a, st, i);
}

int ks_art_sha256_col(struct ks_artefact_ref *r, sqlite3_stmt *st, int i)
{
	int t = sqlite3_column_type(st, i);
	if (t == SQLITE_NULL)
		return 0;
	if (t == SQLITE_BLOB) {
		const void *b = sqlite3_column_blob(st, i);
		if (b && sqlite3_column_bytes(st, i) == 32) {
			memcpy(r->sha256, b, 32);
			r->has_sha256 = 1;
			return 1;
		}
		if (sqlite3_column_bytes(st, i) != 44 && sqlite3_column_bytes(st, i) != 64)
			return 0;
	}
	const char *s = (const char *)sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	if (!s)
		return 0;
	uint8_t h[33];
	if (n == 64 && ks_hex_decode(s, 64, h, 32) == 0) {
		memcpy(r->sha256, h, 32);
		r->has_sha256 = 1;
		return 1;
	}
	if ((n == 43 || n == 44) && ks_art_base64(s, (size_t)n, h, sizeof h) == 32) {
		memcpy(r->sha256, h, 32);
		r->has_sha256 = 1;
		return 1;
	}
	return 0;
}
