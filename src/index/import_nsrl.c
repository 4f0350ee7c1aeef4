/* NSRL reference data: RDSv3 SQLite databases (table FILE; the minimal flavour may lack
 * columns, so they are looked up with PRAGMA table_info) opened read-only and immutable,
 * and the legacy RDS 2.x NSRLFile.txt quoted CSV. Both are format "nsrl"; the run tells
 * them apart by the SQLite magic. Entries carry no category: the set's role ("ignore")
 * is the caller's business. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "index_int.h"

static const char sqlite_magic[16] = "SQLite format 3";

/* Returns a pointer to the start of needle in head (case-insensitive), or NULL. */
static const uint8_t *find_ci(const uint8_t *head, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp((const char *)head + i, needle, n) == 0)
			return head + i;
	return NULL;
}

static int nsrl_probe(const uint8_t *head, size_t len, const char *path)
{
	if (len >= 16 && memcmp(head, sqlite_magic, 16) == 0) {
		/* The schema sits in page 1 of a small or fresh database. */
		if (find_ci(head, len, "CREATE TABLE FILE") && find_ci(head, len, "package_id"))
			return 90;
		return 60;
	}
	size_t i = ks_import_bom(head, len);
	const char *s = (const char *)head + i;
	size_t n = len - i;
	if ((n >= 7 && memcmp(s, "\"SHA-1\"", 7) == 0) ||
	    (n >= 9 && memcmp(s, "\"SHA-256\"", 9) == 0)) {
		const char *eol = memchr(s, '\n', n);
		size_t ll = eol ? (size_t)(eol - s) : n;
		if (find_ci((const uint8_t *)s, ll, "\"FileName\""))
			return 95;
	}
	return 0;
}

/* ---- legacy NSRLFile.txt ------------------------------------------------------------ */

#define NSRL_MAXF 32

static int nsrl_text(const char *path, const char *scheme, ks_entry_fn fn, void *ctx,
		     struct ks_err *err)
{
	struct ks_lines lr;
	char *f[NSRL_MAXF];
	size_t fl[NSRL_MAXF];
	int c_sha1 = -1, c_md5 = -1, c_sha256 = -1, c_name = -1, c_size = -1, need = 0;
	uint64_t entries = 0;
	int rc = ks_lines_open(&lr, path, err);
	if (rc < 0)
		goto out;
	for (;;) {
		char *line;
		size_t len;
		rc = ks_lines_next(&lr, &line, &len, err);
		if (rc <= 0)
			break;
		unsigned long long ln = (unsigned long long)lr.lineno;
		if (len == 0)
			continue;
		int nf = ks_csv_split(line, len, ',', f, fl, NSRL_MAXF);
		if (nf < 0) {
			rc = ks_err_set(err, KS_E_FORMAT, "line %llu: malformed CSV", ln);
			goto out;
		}
		if (ln == 1) {
			for (int i = 0; i < nf; i++) {
				int *slot = strcasecmp(f[i], "SHA-1") == 0	? &c_sha1
					    : strcasecmp(f[i], "MD5") == 0	? &c_md5
					    : strcasecmp(f[i], "SHA-256") == 0	? &c_sha256
					    : strcasecmp(f[i], "FileName") == 0 ? &c_name
					    : strcasecmp(f[i], "FileSize") == 0 ? &c_size
										: NULL;
				if (slot && *slot < 0) {
					*slot = i;
					need = i + 1 > need ? i + 1 : need;
				}
			}
			if (c_sha1 < 0 && c_md5 < 0 && c_sha256 < 0) {
				rc = ks_err_set(err, KS_E_FORMAT,
						"line 1: not an NSRLFile.txt header (no \"SHA-1\", "
						"\"MD5\" or \"SHA-256\" column)");
				goto out;
			}
			continue;
		}
		if (nf < need) {
			rc = ks_err_set(err, KS_E_FORMAT, "line %llu: %d fields, %d expected", ln,
					nf, need);
			goto out;
		}
		struct ks_hash_entry e = {.scheme = scheme, .size = -1, .distributed = -1};
		int bad = -1;
		if (c_sha1 >= 0 && fl[c_sha1]) {
			if (ks_hex_field(f[c_sha1], fl[c_sha1], e.sha1, 20) < 0)
				bad = c_sha1;
			e.has |= KS_HAS_SHA1;
		}
		if (c_md5 >= 0 && fl[c_md5]) {
			if (ks_hex_field(f[c_md5], fl[c_md5], e.md5, 16) < 0)
				bad = c_md5;
			e.has |= KS_HAS_MD5;
		}
		if (c_sha256 >= 0 && fl[c_sha256]) {
			if (ks_hex_field(f[c_sha256], fl[c_sha256], e.sha256, 32) < 0)
				bad = c_sha256;
			e.has |= KS_HAS_SHA256;
		}
		if (bad >= 0) {
			char ex[80];
			ks_quote_excerpt(f[bad], fl[bad], ex);
			rc = ks_err_set(err, KS_E_FORMAT, "line %llu: bad hash \"%s\"", ln, ex);
			goto out;
		}
		if (!e.has) {
			rc = ks_err_set(err, KS_E_FORMAT, "line %llu: no hash", ln);
			goto out;
		}
		if (c_name >= 0 && fl[c_name])
			e.name = f[c_name];
		if (c_size >= 0)
			e.size = ks_parse_size(f[c_size], fl[c_size]);
		entries++;
		int frc = fn(ctx, &e);
		if (frc < 0) {
			rc = ks_import_stopped(frc, entries, err);
			goto out;
		}
	}
	if (rc == 0 && lr.lineno == 0)
		rc = ks_err_set(err, KS_E_FORMAT, "empty file");
out:
	ks_lines_close(&lr);
	return rc < 0 ? rc : KS_OK;
}

/* ---- RDSv3 SQLite ----------------------------------------------------------------- */

/* "file:" URI for path, percent-encoding everything but unreserved characters and '/',
 * asking SQLite to treat the file as immutable (no locks, no journal, no writes). */
static char *immutable_uri(const char *path)
{
	struct ks_buf b = {0};
	ks_buf_adds(&b, path[0] == '/' ? "file://" : "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '.' || *p == '_' || *p == '-' ||
		    *p == '~')
			ks_buf_add(&b, p, 1);
		else
			ks_buf_addf(&b, "%%%02X", *p);
	}
	ks_buf_adds(&b, "?immutable=1");
	return ks_buf_take(&b);
}

/* Reads column col of the row as a digest of n bytes: hex text (either case) or a raw
 * blob. Returns 1 if set, 0 if NULL/empty, -1 if malformed. */
static int column_digest(sqlite3_stmt *st, int col, uint8_t *out, size_t n)
{
	int t = sqlite3_column_type(st, col);
	if (t == SQLITE_NULL)
		return 0;
	if (t == SQLITE_BLOB && (size_t)sqlite3_column_bytes(st, col) == n) {
		memcpy(out, sqlite3_column_blob(st, col), n);
		return 1;
	}
	const char *s = (const char *)sqlite3_column_text(st, col);
	int len = sqlite3_column_bytes(st, col);
	if (!s || len == 0)
		return 0;
	return ks_hex_field(s, (size_t)len, out, n) < 0 ? -1 : 1;
}

static int nsrl_sqlite(const char *path, const char *scheme, ks_entry_fn fn, void *ctx,
		       struct ks_err *err)
{
	static const char *const want[] = {"sha256", "sha1", "md5", "file_name", "file_size"};
	int have[5] = {0};
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct ks_buf sql = {0};
	uint64_t row = 0;
	int rc = KS_OK;
	char *uri = immutable_uri(path);
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		rc = ks_err_set(err, KS_E_ENV, "cannot open SQLite database: %s",
				db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA table_info(\"FILE\")", -1, &st, NULL) != SQLITE_OK) {
		rc = ks_err_set(err, KS_E_FORMAT, "not a readable SQLite database: %s",
				sqlite3_errmsg(db));
		goto out;
	}
	int ncols = 0, s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		ncols++;
		for (int i = 0; i < 5; i++)
			if (name && strcasecmp(name, want[i]) == 0)
				have[i] = 1;
	}
	if (s != SQLITE_DONE) {
		rc = ks_err_set(err, KS_E_FORMAT, "not a readable SQLite database: %s",
				sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (ncols == 0) {
		rc = ks_err_set(err, KS_E_FORMAT,
				"SQLite database has no FILE table (not an NSRL RDSv3 database)");
		goto out;
	}
	if (!have[0] && !have[1] && !have[2]) {
		rc = ks_err_set(err, KS_E_FORMAT,
				"NSRL FILE table has no sha256, sha1 or md5 column");
		goto out;
	}
	ks_buf_adds(&sql, "SELECT ");
	for (int i = 0; i < 5; i++)
		ks_buf_addf(&sql, "%s%s", i ? ", " : "", have[i] ? want[i] : "NULL");
	ks_buf_adds(&sql, " FROM \"FILE\"");
	if (sqlite3_prepare_v2(db, (const char *)sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = ks_err_set(err, KS_E_FORMAT, "cannot read the FILE table: %s",
				sqlite3_errmsg(db));
		goto out;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct ks_hash_entry e = {.scheme = scheme, .size = -1, .distributed = -1};
		int r256 = column_digest(st, 0, e.sha256, 32);
		int r1 = column_digest(st, 1, e.sha1, 20);
		int r5 = column_digest(st, 2, e.md5, 16);
		row++;
		if (r256 < 0 || r1 < 0 || r5 < 0) {
			rc = ks_err_set(err, KS_E_FORMAT, "FILE row %llu: malformed %s",
					(unsigned long long)row,
					r256 < 0 ? "sha256"
					: r1 < 0 ? "sha1"
						 : "md5");
			goto out;
		}
		e.has = (r256 ? KS_HAS_SHA256 : 0) | (r1 ? KS_HAS_SHA1 : 0) | (r5 ? KS_HAS_MD5 : 0);
		if (!e.has)
			continue; /* a row without any hash matches nothing */
		e.name = (const char *)sqlite3_column_text(st, 3);
		if (e.name && !*e.name)
			e.name = NULL;
		if (sqlite3_column_type(st, 4) == SQLITE_INTEGER)
			e.size = sqlite3_column_int64(st, 4);
		else if (sqlite3_column_type(st, 4) == SQLITE_TEXT)
			e.size = ks_parse_size((const char *)sqlite3_column_text(st, 4),
					       (size_t)sqlite3_column_bytes(st, 4));
		if (e.size < -1)
			e.size = -1;
		int frc = fn(ctx, &e);
		if (frc < 0) {
			rc = ks_import_stopped(frc, row, err);
			goto out;
		}
	}
	if (s != SQLITE_DONE)
		rc = ks_err_set(err, KS_E_FORMAT, "reading the FILE table at row %llu: %s",
				(unsigned long long)row + 1, sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	ks_buf_release(&sql);
	free(uri);
	return rc;
}

static int nsrl_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		    struct ks_err *err)
{
	struct ks_err local;
	const char *scheme, *category;
	uint8_t magic[16];
	if (!err)
		err = &local;
	ks_err_clear(err);
	/* NSRL files are never categorised; only the numbering of o is used. */
	struct ks_import_opts plain = {.scheme = o ? o->scheme : NULL};
	int rc = ks_import_fixed_category(&plain, &scheme, &category, err);
	if (rc < 0)
		return rc;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ks_err_set(err, KS_E_ENV, "cannot open file");
	size_t n = fread(magic, 1, sizeof magic, f);
	fclose(f);
	if (n == sizeof magic && memcmp(magic, sqlite_magic, 16) == 0)
		return nsrl_sqlite(path, scheme, fn, ctx, err);
	return nsrl_text(path, scheme, fn, ctx, err);
}

const struct ks_importer_ops ks_import_nsrl_ops = {"nsrl", nsrl_probe, nsrl_run, NULL};
