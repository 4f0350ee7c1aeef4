/* The SQLite store backend (the default): one case folder holds case.db in WAL mode
 * with foreign keys on and a busy timeout, so several readers and one writer can share
 * it. Statements for per-row work are prepared once per handle and reused; the
 * read-back walks prepare their own statements so callbacks may use the store. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "kestrel/category.h"
#include "kestrel/evidence.h"
#include "store_impl.h"
#include "store_prov.h"
#include "store_review_impl.h"
#include "sqlite_near.h"
#include "store_video_impl.h"
#include "sqlite_review.h"
#include "sqlite_util.h"

#define DB_NAME "case.db"
#define APP_ID 0x4b535452 /* "KSTR" in PRAGMA application_id */
#define BUSY_MS 30000
#define MAX_CHAIN_DEPTH 10000 /* guards the display-path walk against a damaged file table */
#define PATH_SEP " \xe2\x80\xba " /* " › " (U+203A) between container and member */

#ifndef KESTREL_VERSION
#define KESTREL_VERSION "0.1.0"
#endif

static const char schema_sql[] =
	"CREATE TABLE \"case\"(id INTEGER PRIMARY KEY CHECK(id = 1), ref TEXT NOT NULL,"
	" examiner TEXT NOT NULL, scheme TEXT NOT NULL, created INTEGER NOT NULL,"
	" kestrel_version TEXT NOT NULL, schema_version INTEGER NOT NULL);"
	"CREATE TABLE exhibit(id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE source(id INTEGER PRIMARY KEY,"
	" exhibit INTEGER NOT NULL REFERENCES exhibit(id), path TEXT NOT NULL,"
	" kind TEXT NOT NULL, size INTEGER NOT NULL, md5_before TEXT, sha1_before TEXT,"
	" md5_after TEXT, sha1_after TEXT, status TEXT NOT NULL, started INTEGER NOT NULL,"
	" finished INTEGER);"
	"CREATE INDEX source_exhibit ON source(exhibit);"
	"CREATE TABLE media(id INTEGER PRIMARY KEY, sha256 BLOB NOT NULL UNIQUE,"
	" md5 BLOB, sha1 BLOB, size INTEGER NOT NULL, type TEXT NOT NULL,"
	" kind INTEGER NOT NULL, width INTEGER, height INTEGER, valid INTEGER NOT NULL);"
	"CREATE INDEX media_md5 ON media(md5);"
	"CREATE INDEX media_sha1 ON media(sha1);"
	"CREATE TABLE file(id INTEGER PRIMARY KEY,"
	" exhibit INTEGER NOT NULL REFERENCES exhibit(id),"
	" source INTEGER NOT NULL REFERENCES source(id), media INTEGER REFERENCES media(id),"
	" parent INTEGER REFERENCES file(id), volume TEXT NOT NULL, path TEXT NOT NULL,"
	" state INTEGER NOT NULL, size INTEGER NOT NULL, mtime INTEGER, atime INTEGER,"
	" ctime INTEGER, crtime INTEGER, inode INTEGER, \"offset\" INTEGER, type TEXT NOT NULL,"
	" kind INTEGER NOT NULL, note TEXT, error TEXT);"
	"CREATE INDEX file_source ON file(source);"
	"CREATE INDEX file_media ON file(media);"
	"CREATE INDEX file_parent ON file(parent);"
	"CREATE TABLE hashset(id INTEGER PRIMARY KEY, name TEXT NOT NULL, format TEXT,"
	" scheme TEXT, role TEXT NOT NULL CHECK(role IN ('alert', 'ignore')),"
	" source_path TEXT, source_sha256 TEXT, imported INTEGER NOT NULL,"
	" entries INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE hashentry(id INTEGER PRIMARY KEY,"
	" hashset INTEGER NOT NULL REFERENCES hashset(id), md5 BLOB, sha1 BLOB, sha256 BLOB,"
	" scheme TEXT, category TEXT, size INTEGER, name TEXT, distributed INTEGER,"
	" series TEXT, photodna TEXT);"
	"CREATE INDEX hashentry_set ON hashentry(hashset);"
	"CREATE INDEX hashentry_md5 ON hashentry(md5);"
	"CREATE INDEX hashentry_sha1 ON hashentry(sha1);"
	"CREATE INDEX hashentry_sha256 ON hashentry(sha256);"
	"CREATE TABLE \"match\"(id INTEGER PRIMARY KEY,"
	" media INTEGER NOT NULL REFERENCES media(id),"
	" hashset INTEGER NOT NULL REFERENCES hashset(id), how TEXT NOT NULL, scheme TEXT,"
	" category TEXT, severity INTEGER NOT NULL, UNIQUE(media, hashset, how));"
	"CREATE INDEX match_set ON \"match\"(hashset);"
	"CREATE TABLE grade(id INTEGER PRIMARY KEY, media INTEGER NOT NULL REFERENCES media(id),"
	" who TEXT NOT NULL, at INTEGER NOT NULL, scheme TEXT NOT NULL, category TEXT,"
	" note TEXT);"
	"CREATE INDEX grade_media ON grade(media);"
	"CREATE TABLE audit(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, who TEXT NOT NULL,"
	" action TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL);";

/* Statements prepared once per handle (SQLITE_PREPARE_PERSISTENT) and reused. */
enum stmt_id {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_AUDIT_LAST,
	ST_AUDIT_INSERT,
	ST_EXHIBIT_FIND,
	ST_EXHIBIT_INSERT,
	ST_SOURCE_INSERT,
	ST_SOURCE_HASH_BEFORE,
	ST_SOURCE_HASH_AFTER,
	ST_SOURCE_FINISH,
	ST_SOURCE_FIND,
	ST_SOURCE_FORGET_FILES,
	ST_SOURCE_FORGET,
	ST_MEDIA_INSERT,
	ST_MEDIA_FIND,
	ST_FILE_INSERT,
	ST_HASHSET_INSERT,
	ST_HASHSET_COUNT,
	ST_HASHENTRY_INSERT,
	ST_MATCH_INSERT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_AUDIT_LAST] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
	[ST_AUDIT_INSERT] = "INSERT INTO audit(seq, at, who, action, detail, prev_hash, hash)"
			    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_EXHIBIT_FIND] = "SELECT id FROM exhibit WHERE ref = ?1",
	[ST_EXHIBIT_INSERT] = "INSERT INTO exhibit(ref, created) VALUES(?1, ?2)",
	[ST_SOURCE_INSERT] = "INSERT INTO source(exhibit, path, kind, size, status, started)"
			     " VALUES(?1, ?2, ?3, ?4, 'running', ?5)",
	[ST_SOURCE_HASH_BEFORE] = "UPDATE source SET md5_before = ?2, sha1_before = ?3"
				  " WHERE id = ?1",
	[ST_SOURCE_HASH_AFTER] = "UPDATE source SET md5_after = ?2, sha1_after = ?3"
				 " WHERE id = ?1",
	[ST_SOURCE_FINISH] = "UPDATE source SET status = ?2, finished = ?3 WHERE id = ?1",
	[ST_SOURCE_FIND] = "SELECT id, status FROM source WHERE exhibit = ?1 AND path = ?2"
			   " ORDER BY id DESC LIMIT 1",
	[ST_SOURCE_FORGET_FILES] = "DELETE FROM file WHERE source = ?1",
	[ST_SOURCE_FORGET] = "DELETE FROM source WHERE id = ?1",
	[ST_MEDIA_INSERT] = "INSERT INTO media(sha256, md5, sha1, size, type, kind, width, height,"
			    " valid) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
			    " ON CONFLICT(sha256) DO NOTHING",
	[ST_MEDIA_FIND] = "SELECT id FROM media WHERE sha256 = ?1",
	[ST_FILE_INSERT] = "INSERT INTO file(exhibit, source, media, parent, volume, path, state,"
			   " size, mtime, atime, ctime, crtime, inode, \"offset\", type, kind,"
			   " note, error) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			   " ?13, ?14, ?15, ?16, ?17, ?18)",
	[ST_HASHSET_INSERT] = "INSERT INTO hashset(name, format, scheme, role, source_path,"
			      " source_sha256, imported, entries)"
			      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_HASHSET_COUNT] = "UPDATE hashset SET entries = ?2 WHERE id = ?1",
	[ST_HASHENTRY_INSERT] = "INSERT INTO hashentry(hashset, md5, sha1, sha256, scheme,"
				" category, size, name, distributed, series, photodna)"
				" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_MATCH_INSERT] = "INSERT INTO \"match\"(media, hashset, how, scheme, category, severity)"
			    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
			    " ON CONFLICT(media, hashset, how) DO NOTHING",
};

struct sq_store {
	struct ks_store base; /* first: the front end's view */
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	char *ref, *examiner, *scheme;
	int64_t created;
};

static struct sq_store *sq(struct ks_store *st)
{
	return (struct sq_store *)st;
}

sqlite3 *ks_store_sqlite_handle(struct ks_store *st)
{
	return sq(st)->db;
}

static sqlite3_stmt *sq_stmt(struct sq_store *s, enum stmt_id id, struct ks_err *err)
{
	if (!s->stmt[id]) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			ks_sq_fail(s->db, rc, err, "prepare");
			s->stmt[id] = NULL;
			return NULL;
		}
	}
	return s->stmt[id];
}

static void sq_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows to its end, then resets it. */
static int sq_run(struct sq_store *s, sqlite3_stmt *st, const char *what, struct ks_err *err)
{
	int rc = sqlite3_step(st);
	sq_done(st);
	if (rc != SQLITE_DONE)
		return ks_sq_fail(s->db, rc, err, what);
	return KS_OK;
}

static int sq_exec_id(struct sq_store *s, enum stmt_id id, const char *what, struct ks_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, id, err);
	if (!st)
		return err ? err->status : KS_E_ENV;
	return sq_run(s, st, what, err);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Times of 0 mean unknown and are stored as NULL. */
static void bind_time(sqlite3_stmt *st, int i, int64_t t)
{
	if (t)
		sqlite3_bind_int64(st, i, t);
	else
		sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static const char *col_text_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : col_text(st, i);
}

/* Copies a digest blob of exactly n bytes; returns 0, or -1 (wrong size or NULL). */
static int col_digest(sqlite3_stmt *st, int i, uint8_t *out, int n)
{
	if (sqlite3_column_type(st, i) != SQLITE_BLOB || sqlite3_column_bytes(st, i) != n)
		return -1;
	memcpy(out, sqlite3_column_blob(st, i), (size_t)n);
	return 0;
}

static void col_hex(sqlite3_stmt *st, int i, char *out, int n)
{
	uint8_t d[32];
	if (n > 32 || col_digest(st, i, d, n) != 0)
		out[0] = '\0';
	else
		ks_hex_encode(d, (size_t)n, out);
}

static char *db_path(const char *case_dir)
{
	return ks_xasprintf("%s/%s", case_dir, DB_NAME);
}

static int sq_probe(const char *case_dir)
{
	char *p = db_path(case_dir);
	struct stat sb;
	int ok = stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
	free(p);
	return ok ? 100 : 0;
}

static void sq_close(struct ks_store *st)
{
	struct sq_store *s = sq(st);
	if (!s)
		return;
	if (s->db && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (sqlite3_stmt *p; s->db && (p = sqlite3_next_stmt(s->db, NULL));)
		sqlite3_finalize(p); /* kept by sqlite_refs.c */
	sqlite3_close(s->db);
	free(s->ref);
	free(s->examiner);
	free(s->scheme);
	free(s);
}

/* Opens the database file and sets the per-connection pragmas. */
static int sq_connect(const char *path, int flags, struct sq_store **out, struct ks_err *err)
{
	struct sq_store *s = ks_xcalloc(1, sizeof *s);
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_err_set(err, KS_E_ENV, "case store %s: %s", path,
				s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_MS);
	/* A larger page cache keeps the indexes of a 100k-file scan in memory; temporary
	 * b-trees (the sort of files_each) stay in memory too. */
	rc = sqlite3_exec(s->db,
			  "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;"
			  " PRAGMA temp_store = MEMORY",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, path);
		goto out;
	}
	rc = KS_OK;
out:
	if (rc != KS_OK) {
		sq_close(&s->base);
		s = NULL;
	}
	*out = s;
	return rc;
}

static int sq_audit_insert(struct sq_store *s, int64_t at, const char *who, const char *action,
			   const char *detail, struct ks_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, ST_AUDIT_LAST, err);
	if (!st)
		return err ? err->status : KS_E_ENV;
	char prev[65];
	int64_t seq = 1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0) + 1;
		snprintf(prev, sizeof prev, "%s", col_text(st, 1));
	} else if (rc == SQLITE_DONE) {
		memset(prev, '0', 64);
		prev[64] = '\0';
	} else {
		sq_done(st);
		return ks_sq_fail(s->db, rc, err, "audit");
	}
	sq_done(st);

	char hash[65];
	ks_store_audit_hash(prev, seq, at, who, action, detail, hash);
	if (!(st = sq_stmt(s, ST_AUDIT_INSERT, err)))
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, at);
	bind_text(st, 3, who);
	bind_text(st, 4, action);
	bind_text(st, 5, detail);
	bind_text(st, 6, prev);
	bind_text(st, 7, hash);
	return sq_run(s, st, "audit", err);
}

static int sq_create(const char *case_dir, const struct ks_case_meta *meta, struct ks_err *err)
{
	char *path = db_path(case_dir);
	struct sq_store *s = NULL;
	sqlite3_stmt *st = NULL;
	int made = 0, rc;
	char *detail = NULL;

	/* O_EXCL: two creators racing for one folder cannot both win. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = ks_err_set(err, errno == EEXIST ? KS_E_USAGE : KS_E_ENV, "create %s: %s", path,
				strerror(errno));
		goto out;
	}
	close(fd);
	made = 1;
	if ((rc = sq_connect(path, SQLITE_OPEN_READWRITE, &s, err)) != KS_OK)
		goto out;
	char pragmas[160];
	snprintf(pragmas, sizeof pragmas,
		 "PRAGMA journal_mode = WAL; PRAGMA application_id = %d; PRAGMA user_version = %d",
		 APP_ID, KS_STORE_SCHEMA_VERSION);
	if ((rc = sqlite3_exec(s->db, pragmas, NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL)) != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "create schema");
		goto out;
	}
	if ((rc = ks_sqref_schema(s->db, err)) != KS_OK ||
	    (rc = ks_sq_review_schema(s->db, err)) != KS_OK ||
	    (rc = ks_sq_near_schema(s->db, err)) != KS_OK ||
	    (rc = ks_sq_video_schema(s->db, err)) != KS_OK ||
	    (rc = ks_sq_tmk_schema(s->db, err)) != KS_OK)
		goto out;
	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO \"case\"(id, ref, examiner, scheme, created,"
				" kestrel_version, schema_version) VALUES(1, ?1, ?2, ?3, ?4, ?5, ?6)",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "create case");
		goto out;
	}
	bind_text(st, 1, meta->ref);
	bind_text(st, 2, meta->examiner);
	bind_text(st, 3, meta->scheme);
	sqlite3_bind_int64(st, 4, meta->created);
	bind_text(st, 5, KESTREL_VERSION);
	sqlite3_bind_int(st, 6, KS_STORE_SCHEMA_VERSION);
	if ((rc = sq_run(s, st, "create case", err)) != KS_OK)
		goto out;
	detail = ks_xasprintf("ref=%s scheme=%s kestrel=%s schema=%d", meta->ref, meta->scheme,
			      KESTREL_VERSION, KS_STORE_SCHEMA_VERSION);
	if ((rc = sq_audit_insert(s, ks_time_now(), meta->examiner, "case.create", detail, err)))
		goto out;
	if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "create commit");
		goto out;
	}
	rc = KS_OK;
out:
	sqlite3_finalize(st);
	if (s)
		sq_close(&s->base);
	if (rc != KS_OK && made) {
		unlink(path);
		char *side = ks_xasprintf("%s-wal", path);
		unlink(side);
		free(side);
		side = ks_xasprintf("%s-shm", path);
		unlink(side);
		free(side);
	}
	free(detail);
	free(path);
	return rc;
}

static int sq_open(const char *case_dir, int readonly, struct ks_store **out, struct ks_err *err)
{
	char *path = db_path(case_dir);
	struct sq_store *s = NULL;
	sqlite3_stmt *st = NULL;
	int rc = sq_connect(path, readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, &s, err);
	if (rc != KS_OK)
		goto out;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA application_id", -1, &st, NULL);
	if (rc != SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = ks_sq_fail(s->db, rc, err, path);
		goto out;
	}
	if (sqlite3_column_int(st, 0) != APP_ID) {
		rc = ks_err_set(err, KS_E_USAGE, "%s is not a kestrel case", path);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_prepare_v2(s->db,
				"SELECT ref, examiner, scheme, created, schema_version FROM \"case\""
				" WHERE id = 1",
				-1, &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		rc = ks_err_set(err, KS_E_ENV, "%s: cannot read the case: %s", path,
				sqlite3_errmsg(s->db));
		goto out;
	}
	if (sqlite3_column_int(st, 4) != KS_STORE_SCHEMA_VERSION) {
		rc = ks_err_set(err, KS_E_UNSUPPORTED,
				"%s has case schema %d; this kestrel reads schema %d", path,
				sqlite3_column_int(st, 4), KS_STORE_SCHEMA_VERSION);
		goto out;
	}
	if (!readonly && ((rc = ks_sqref_schema(s->db, err)) != KS_OK ||
			  (rc = ks_sq_review_schema(s->db, err)) != KS_OK ||
			  (rc = ks_sq_near_schema(s->db, err)) != KS_OK ||
			  (rc = ks_sq_video_schema(s->db, err)) != KS_OK ||
			  (rc = ks_sq_tmk_schema(s->db, err)) != KS_OK))
		goto out;
	s->ref = ks_xstrdup(col_text(st, 0));
	s->examiner = ks_xstrdup(col_text(st, 1));
	s->scheme = ks_xstrdup(col_text(st, 2));
	s->created = sqlite3_column_int64(st, 3);
	rc = KS_OK;
out:
	sqlite3_finalize(st);
	if (rc != KS_OK && s) {
		sq_close(&s->base);
		s = NULL;
	}
	*out = s ? &s->base : NULL;
	free(path);
	return rc;
}

static int sq_get_case(struct ks_store *st, struct ks_case_meta *out, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	out->ref = s->ref;
	out->examiner = s->examiner;
	out->scheme = s->scheme;
	out->created = s->created;
	return KS_OK;
}

static int sq_begin(struct ks_store *st, struct ks_err *err)
{
	return sq_exec_id(sq(st), ST_BEGIN, "begin", err);
}

static int sq_begin_read(struct ks_store *st, struct ks_err *err)
{
	return sq_exec_id(sq(st), ST_BEGIN_READ, "begin", err);
}

static int sq_commit(struct ks_store *st, struct ks_err *err)
{
	return sq_exec_id(sq(st), ST_COMMIT, "commit", err);
}

static int sq_rollback(struct ks_store *st)
{
	struct sq_store *s = sq(st);
	if (sqlite3_get_autocommit(s->db))
		return KS_OK;
	return sq_exec_id(s, ST_ROLLBACK, "rollback", NULL);
}

static int sq_audit(struct ks_store *st, int64_t at, const char *who, const char *action,
		    const char *detail, struct ks_err *err)
{
	return sq_audit_insert(sq(st), at, who, action, detail, err);
}

static int sq_audit_each(struct ks_store *st, int (*fn)(void *ctx, const struct ks_audit_row *r),
			 void *ctx, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT seq, at, who, action, detail, prev_hash, hash FROM audit"
				    " ORDER BY seq",
				    -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "audit log");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_audit_row r = {
			.seq = sqlite3_column_int64(q, 0),
			.at = sqlite3_column_int64(q, 1),
			.who = col_text(q, 2),
			.action = col_text(q, 3),
			.detail = col_text(q, 4),
			.prev_hash = col_text(q, 5),
			.hash = col_text(q, 6),
		};
		if ((rc = fn(ctx, &r)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(s->db, rc, err, "audit log");
out:
	sqlite3_finalize(q);
	return rc;
}

/* ---- exhibits and sources ------------------------------------------------------------ */

static int sq_exhibit_get(struct ks_store *st, const char *ref, int64_t *id, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_EXHIBIT_FIND, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	bind_text(q, 1, ref);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		sq_done(q);
		return KS_OK;
	}
	sq_done(q);
	if (rc != SQLITE_DONE)
		return ks_sq_fail(s->db, rc, err, "exhibit");
	if (!(q = sq_stmt(s, ST_EXHIBIT_INSERT, err)))
		return err ? err->status : KS_E_ENV;
	bind_text(q, 1, ref);
	sqlite3_bind_int64(q, 2, ks_time_now());
	if ((rc = sq_run(s, q, "exhibit", err)) != KS_OK)
		return rc;
	*id = sqlite3_last_insert_rowid(s->db);
	return KS_OK;
}

static int sq_source_add(struct ks_store *st, int64_t exhibit_id, const char *path,
			 const char *kind, uint64_t size, int64_t *id, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_SOURCE_INSERT, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, exhibit_id);
	bind_text(q, 2, path);
	bind_text(q, 3, kind);
	sqlite3_bind_int64(q, 4, (int64_t)size);
	sqlite3_bind_int64(q, 5, ks_time_now());
	int rc = sq_run(s, q, "source", err);
	if (rc == KS_OK)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* Runs an UPDATE that must touch exactly one row. */
static int sq_update_one(struct sq_store *s, sqlite3_stmt *q, const char *what, int64_t id,
			 struct ks_err *err)
{
	int rc = sq_run(s, q, what, err);
	if (rc == KS_OK && sqlite3_changes(s->db) != 1)
		rc = ks_err_set(err, KS_E_NOTFOUND, "case store: %s: no row %lld", what,
				(long long)id);
	return rc;
}

static int sq_source_set_hash(struct ks_store *st, int64_t source_id, int after, const char *md5,
			      const char *sha1, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, after ? ST_SOURCE_HASH_AFTER : ST_SOURCE_HASH_BEFORE, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, source_id);
	bind_text(q, 2, md5);
	bind_text(q, 3, sha1);
	return sq_update_one(s, q, "source hash", source_id, err);
}

static int sq_source_finish(struct ks_store *st, int64_t source_id, const char *status,
			    struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_SOURCE_FINISH, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, source_id);
	bind_text(q, 2, status);
	sqlite3_bind_int64(q, 3, ks_time_now());
	return sq_update_one(s, q, "source finish", source_id, err);
}

static int sq_source_find(struct ks_store *st, int64_t exhibit_id, const char *path, int64_t *id,
			  char **status, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_SOURCE_FIND, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, exhibit_id);
	bind_text(q, 2, path);
	*id = 0;
	*status = NULL;
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		const unsigned char *t = sqlite3_column_text(q, 1);
		*status = ks_xstrdup(t ? (const char *)t : "");
	}
	sq_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ks_sq_fail(s->db, rc, err, "source find");
	return KS_OK;
}

static int sq_source_forget(struct ks_store *st, int64_t source_id, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_SOURCE_FORGET_FILES, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, source_id);
	int rc = sq_run(s, q, "source forget", err);
	if (rc != KS_OK)
		return rc;
	if (!(q = sq_stmt(s, ST_SOURCE_FORGET, err)))
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, source_id);
	return sq_update_one(s, q, "source forget", source_id, err);
}

/* ---- media and files ------------------------------------------------------------------ */

static int sq_media_put(struct ks_store *st, const struct ks_media_rec *m, int64_t *id,
			int *is_new, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_MEDIA_INSERT, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_blob(q, 1, m->d->sha256, 32, SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, m->d->md5, 16, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, m->d->sha1, 20, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)m->size);
	bind_text(q, 5, m->type ? m->type : "data");
	sqlite3_bind_int(q, 6, m->kind);
	if (m->width)
		sqlite3_bind_int64(q, 7, m->width);
	if (m->height)
		sqlite3_bind_int64(q, 8, m->height);
	sqlite3_bind_int(q, 9, m->valid);
	int rc = sq_run(s, q, "media", err);
	if (rc != KS_OK)
		return rc;
	if (sqlite3_changes(s->db) == 1) {
		*id = sqlite3_last_insert_rowid(s->db);
		if (is_new)
			*is_new = 1;
		return KS_OK;
	}
	if (!(q = sq_stmt(s, ST_MEDIA_FIND, err)))
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_blob(q, 1, m->d->sha256, 32, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(q, 0);
	sq_done(q);
	if (rc != SQLITE_ROW)
		return ks_sq_fail(s->db, rc, err, "media lookup");
	/* A media known by its SHA-256 only (from an app's record) gets its bytes' facts
	 * and counts as new, so that it is matched on every digest. */
	int completed = 0;
	if ((rc = ks_sqref_media_complete(s->db, *id, m, &completed, err)) != KS_OK)
		return rc;
	if (is_new)
		*is_new = completed;
	return KS_OK;
}

static int sq_file_add(struct ks_store *st, const struct ks_file_rec *f, int64_t *id,
		       struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_FILE_INSERT, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, f->exhibit_id);
	sqlite3_bind_int64(q, 2, f->source_id);
	if (f->media_id)
		sqlite3_bind_int64(q, 3, f->media_id);
	if (f->parent_id)
		sqlite3_bind_int64(q, 4, f->parent_id);
	bind_text(q, 5, f->volume ? f->volume : "");
	bind_text(q, 6, f->path);
	sqlite3_bind_int(q, 7, f->state);
	sqlite3_bind_int64(q, 8, (int64_t)f->size);
	bind_time(q, 9, f->mtime);
	bind_time(q, 10, f->atime);
	bind_time(q, 11, f->ctime);
	bind_time(q, 12, f->crtime);
	if (f->inode)
		sqlite3_bind_int64(q, 13, (int64_t)f->inode);
	if (f->offset >= 0)
		sqlite3_bind_int64(q, 14, f->offset);
	bind_text(q, 15, f->type ? f->type : "data");
	sqlite3_bind_int(q, 16, f->kind);
	bind_text(q, 17, f->note);
	bind_text(q, 18, f->error);
	int rc = sq_run(s, q, "file", err);
	if (rc == KS_OK && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* ---- hash sets and matches ---------------------------------------------------------- */

static int sq_hashset_add(struct ks_store *st, const struct ks_hashset_meta *m, int64_t *id,
			  struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_HASHSET_INSERT, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	bind_text(q, 1, m->name);
	bind_text(q, 2, m->format);
	bind_text(q, 3, m->scheme);
	bind_text(q, 4, m->role ? m->role : "alert");
	bind_text(q, 5, m->source_path);
	bind_text(q, 6, m->source_sha256);
	sqlite3_bind_int64(q, 7, m->imported ? m->imported : ks_time_now());
	sqlite3_bind_int64(q, 8, m->entries);
	int rc = sq_run(s, q, "hash set", err);
	if (rc == KS_OK)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static int sq_hashset_set_count(struct ks_store *st, int64_t id, int64_t entries,
				struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_HASHSET_COUNT, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, entries);
	return sq_update_one(s, q, "hash set count", id, err);
}

static int sq_hashentry_add(struct ks_store *st, int64_t set_id, const struct ks_hash_entry *e,
			    struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_HASHENTRY_INSERT, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, set_id);
	if (e->has & KS_HAS_MD5)
		sqlite3_bind_blob(q, 2, e->md5, 16, SQLITE_STATIC);
	if (e->has & KS_HAS_SHA1)
		sqlite3_bind_blob(q, 3, e->sha1, 20, SQLITE_STATIC);
	if (e->has & KS_HAS_SHA256)
		sqlite3_bind_blob(q, 4, e->sha256, 32, SQLITE_STATIC);
	bind_text(q, 5, e->scheme);
	bind_text(q, 6, e->category);
	if (e->size >= 0)
		sqlite3_bind_int64(q, 7, e->size);
	bind_text(q, 8, e->name);
	if (e->distributed >= 0)
		sqlite3_bind_int(q, 9, e->distributed);
	bind_text(q, 10, e->series);
	bind_text(q, 11, e->photodna);
	int rc = sq_run(s, q, "hash entry", err);
	if (rc == KS_OK && (e->has & KS_HAS_PDQ)) /* PDQ and vPDQ entries (sqlite_video.c) */
		rc = ks_sq_video_entry_pdq(s->db, sqlite3_last_insert_rowid(s->db), set_id, e, err);
	if (rc == KS_OK && e->tmk) /* known videos' TMK+PDQF (sqlite_tmk.c) */
		rc = ks_sq_tmk_entry(s->db, sqlite3_last_insert_rowid(s->db), set_id, e, err);
	return rc;
}

static int sq_hashsets_each(struct ks_store *st, ks_hashset_fn fn, void *ctx, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT id, name, format, scheme, role, source_path,"
				    " source_sha256, imported, entries FROM hashset ORDER BY id",
				    -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "hash sets");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_hashset_meta m = {
			.id = sqlite3_column_int64(q, 0),
			.name = col_text(q, 1),
			.format = col_text_or_null(q, 2),
			.scheme = col_text_or_null(q, 3),
			.role = col_text(q, 4),
			.source_path = col_text_or_null(q, 5),
			.source_sha256 = col_text_or_null(q, 6),
			.imported = sqlite3_column_int64(q, 7),
			.entries = sqlite3_column_int64(q, 8),
		};
		if ((rc = fn(ctx, &m)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(s->db, rc, err, "hash sets");
out:
	sqlite3_finalize(q);
	return rc;
}

static int sq_load_index(struct ks_store *st, struct ks_index *idx, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(
		s->db,
		"SELECT e.hashset, h.role, e.md5, e.sha1, e.sha256, e.scheme, e.category, e.size,"
		" e.name, e.distributed, e.series, e.photodna"
		" FROM hashentry e JOIN hashset h ON h.id = e.hashset ORDER BY e.id",
		-1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "load index");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_hash_entry e = {0};
		if (col_digest(q, 2, e.md5, 16) == 0)
			e.has |= KS_HAS_MD5;
		if (col_digest(q, 3, e.sha1, 20) == 0)
			e.has |= KS_HAS_SHA1;
		if (col_digest(q, 4, e.sha256, 32) == 0)
			e.has |= KS_HAS_SHA256;
		if (!e.has)
			continue; /* nothing to match on */
		e.scheme = col_text_or_null(q, 5);
		e.category = col_text_or_null(q, 6);
		e.size = sqlite3_column_type(q, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 7);
		e.name = col_text_or_null(q, 8);
		e.distributed = sqlite3_column_type(q, 9) == SQLITE_NULL ? -1
									 : sqlite3_column_int(q, 9);
		e.series = col_text_or_null(q, 10);
		e.photodna = col_text_or_null(q, 11);
		ks_index_add(idx, sqlite3_column_int64(q, 0),
			     strcmp(col_text(q, 1), "ignore") == 0, &e);
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(s->db, rc, err, "load index");
out:
	sqlite3_finalize(q);
	return rc;
}

static int sq_match_add(struct ks_store *st, int64_t media_id, int64_t set_id, const char *how,
			const char *scheme, const char *category, int severity,
			struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = sq_stmt(s, ST_MATCH_INSERT, err);
	if (!q)
		return err ? err->status : KS_E_ENV;
	sqlite3_bind_int64(q, 1, media_id);
	sqlite3_bind_int64(q, 2, set_id);
	bind_text(q, 3, how);
	bind_text(q, 4, scheme);
	bind_text(q, 5, category);
	sqlite3_bind_int(q, 6, category ? severity : -1);
	return sq_run(s, q, "match", err);
}

static int sq_media_each(struct ks_store *st, ks_media_fn fn, void *ctx, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(s->db, "SELECT id, md5, sha1, sha256 FROM media WHERE md5 IS NOT NULL ORDER BY id",
				    -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "media");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_digests d;
		if (col_digest(q, 1, d.md5, 16) || col_digest(q, 2, d.sha1, 20) ||
		    col_digest(q, 3, d.sha256, 32)) {
			rc = ks_err_set(err, KS_E_ENV, "case store: media %lld has damaged digests",
					(long long)sqlite3_column_int64(q, 0));
			goto out;
		}
		if ((rc = fn(ctx, sqlite3_column_int64(q, 0), &d)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(s->db, rc, err, "media");
out:
	sqlite3_finalize(q);
	return rc;
}

/* ---- reading back ---------------------------------------------------------------------- */

static int64_t col_time(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, i);
}

static int sq_files_each(struct ks_store *st, ks_file_row_fn fn, void *ctx, struct ks_err *err)
{
	struct sq_store *s = sq(st);
	struct ks_sqref_msums ms = {0};
	sqlite3_stmt *q = NULL;
	struct ks_sqref_attach *prov = NULL;
	struct ks_sq_grades *grades = NULL;
	struct ks_sq_videos *videos = NULL;
	int rc = ks_sqref_msums_load(s->db, NULL, s->scheme, &ms, err);
	if (rc == KS_OK)
		rc = ks_sqref_attach_new(s->db, &prov, err);
	if (rc == KS_OK)
		rc = ks_sq_grades_load(s->db, &grades, err);
	if (rc == KS_OK)
		rc = ks_sq_videos_load(s->db, &videos, err);
	if (rc != KS_OK)
		goto out;
	/* The display path follows the parent chain from the outermost file down. */
	char sql[1600];
	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE chain(id, disp, depth) AS ("
		 " SELECT id, path, 0 FROM file WHERE parent IS NULL"
		 " UNION ALL"
		 " SELECT f.id, c.disp || '%s' || f.path, c.depth + 1 FROM file f"
		 " JOIN chain c ON f.parent = c.id WHERE c.depth < %d)"
		 " SELECT f.id, coalesce(f.media, 0), coalesce(f.parent, 0), e.ref, s.path,"
		 " f.volume, c.disp, f.state, f.size, f.mtime, f.atime, f.ctime, f.crtime,"
		 " f.\"offset\", f.type, f.kind, m.valid, m.md5, m.sha1, m.sha256, f.note, f.error"
		 " FROM chain c JOIN file f ON f.id = c.id JOIN exhibit e ON e.id = f.exhibit"
		 " JOIN source s ON s.id = f.source LEFT JOIN media m ON m.id = f.media"
		 " ORDER BY e.ref, s.path, c.disp, f.id",
		 PATH_SEP, MAX_CHAIN_DEPTH);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "files");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char md5[33], sha1[41], sha256[65];
		col_hex(q, 17, md5, 16);
		col_hex(q, 18, sha1, 20);
		col_hex(q, 19, sha256, 32);
		struct ks_file_row r = {
			.file_id = sqlite3_column_int64(q, 0),
			.media_id = sqlite3_column_int64(q, 1),
			.parent_id = sqlite3_column_int64(q, 2),
			.exhibit = col_text(q, 3),
			.source = col_text(q, 4),
			.volume = col_text(q, 5),
			.path = col_text(q, 6),
			.state = sqlite3_column_int(q, 7),
			.size = (uint64_t)sqlite3_column_int64(q, 8),
			.mtime = col_time(q, 9),
			.atime = col_time(q, 10),
			.ctime = col_time(q, 11),
			.crtime = col_time(q, 12),
			.offset = sqlite3_column_type(q, 13) == SQLITE_NULL ? -1
									     : sqlite3_column_int64(q, 13),
			.type = col_text(q, 14),
			.kind = sqlite3_column_int(q, 15),
			.valid = sqlite3_column_type(q, 16) == SQLITE_NULL ? -1
									    : sqlite3_column_int(q, 16),
			.md5 = md5,
			.sha1 = sha1,
			.sha256 = sha256,
			.match = "",
			.note = col_text_or_null(q, 20),
			.error = col_text_or_null(q, 21),
		};
		/* a cached thumbnail's parent is the cache it came from, not a container */
		r.in_container = r.parent_id != 0 && r.state != KS_STATE_CACHE;
		if ((rc = ks_sqref_attach_row(prov, &r, err)) != KS_OK)
			goto out;
		const struct ks_sqref_msum *m =
		    r.media_id ? ks_sqref_msum_find(&ms, r.media_id) : NULL;
		if (m) {
			r.scheme = m->scheme;
			r.category = m->category;
			r.match = m->match;
			r.known_good = m->known_good;
		}
		ks_sq_grades_apply(grades, &r);
		ks_sq_videos_apply(videos, &r);
		if ((rc = fn(ctx, &r)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(s->db, rc, err, "files");
out:
	sqlite3_finalize(q);
	ks_sqref_msums_release(&ms);
	ks_sqref_attach_free(prov);
	ks_sq_grades_free(grades);
	ks_sq_videos_free(videos);
	return rc;
}

static int sq_sources_each(struct ks_store *st, ks_source_row_fn fn, void *ctx,
			   struct ks_err *err)
{
	struct sq_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT e.ref, s.path, s.kind, s.status, s.size, s.md5_before,"
				    " s.sha1_before, s.md5_after, s.sha1_after FROM source s"
				    " JOIN exhibit e ON e.id = s.exhibit ORDER BY e.ref, s.path, s.id",
				    -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = ks_sq_fail(s->db, rc, err, "sources");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_source_row r = {
			.exhibit = col_text(q, 0),
			.path = col_text(q, 1),
			.kind = col_text(q, 2),
			.status = col_text(q, 3),
			.size = (uint64_t)sqlite3_column_int64(q, 4),
			.md5_before = col_text(q, 5),
			.sha1_before = col_text(q, 6),
			.md5_after = col_text(q, 7),
			.sha1_after = col_text(q, 8),
		};
		if ((rc = fn(ctx, &r)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(s->db, rc, err, "sources");
out:
	sqlite3_finalize(q);
	return rc;
}

const struct ks_store_ops ks_store_sqlite_ops = {
	.name = "sqlite",
	.probe = sq_probe,
	.create = sq_create,
	.open = sq_open,
	.close = sq_close,
	.get_case = sq_get_case,
	.begin = sq_begin,
	.begin_read = sq_begin_read,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.audit = sq_audit,
	.audit_each = sq_audit_each,
	.exhibit_get = sq_exhibit_get,
	.source_add = sq_source_add,
	.source_set_hash = sq_source_set_hash,
	.source_finish = sq_source_finish,
	.source_find = sq_source_find,
	.source_forget = sq_source_forget,
	.media_put = sq_media_put,
	.file_add = sq_file_add,
	.hashset_add = sq_hashset_add,
	.hashset_set_count = sq_hashset_set_count,
	.hashentry_add = sq_hashentry_add,
	.hashsets_each = sq_hashsets_each,
	.load_index = sq_load_index,
	.match_add = sq_match_add,
	.media_each = sq_media_each,
	.files_each = sq_files_each,
	.sources_each = sq_sources_each,
	.prov = &ks_store_sqlite_prov_ops,
	.review = &ks_store_sqlite_review_ops,
	.video = &ks_store_sqlite_video_ops,
};
