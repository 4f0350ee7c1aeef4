/* The SQLite backend's review tables: previews and PDQ written by the scan, accounts,
 * near-duplicate groups (review_group, review_item), grades with the second grader's
 * check (review_grade, each act also appended to the core grade table), undoable
 * actions and officers' exposure. The tables are made by a schema step (CREATE … IF
 * NOT EXISTS) that the backend runs on create and on read-write open. Group rows keep
 * running counts (size, members still to grade) so the queue is one index walk. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "sqlite_review.h"
#include "store_review_impl.h"
#include "sqlite_util.h"

#define PATH_SEP " \xe2\x80\xba " /* " › " between container and member, as files_each */
#define MAX_UP 64		  /* container depth walked for a display path */

static const char review_schema[] =
    "CREATE TABLE IF NOT EXISTS media_preview(media INTEGER PRIMARY KEY REFERENCES media(id),"
    " kind INTEGER NOT NULL, width INTEGER, height INTEGER, jpeg BLOB, note TEXT);"
    "CREATE TABLE IF NOT EXISTS media_pdq(media INTEGER PRIMARY KEY REFERENCES media(id),"
    " hash BLOB NOT NULL, quality INTEGER NOT NULL, mode INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS review_user(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " role INTEGER NOT NULL, pwhash TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS review_group(id INTEGER PRIMARY KEY, leader INTEGER NOT NULL,"
    " sortkey TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, open INTEGER NOT NULL DEFAULT 0,"
    " split INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS review_group_open ON review_group(sortkey, id) WHERE open > 0;"
    "CREATE INDEX IF NOT EXISTS review_group_key ON review_group(sortkey, id);"
    "CREATE TABLE IF NOT EXISTS review_item(media INTEGER PRIMARY KEY REFERENCES media(id),"
    " grp INTEGER NOT NULL REFERENCES review_group(id), dist INTEGER NOT NULL DEFAULT 0,"
    " known INTEGER NOT NULL DEFAULT 0, graded INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS review_item_grp ON review_item(grp, dist, media);"
    "CREATE TABLE IF NOT EXISTS review_action(id INTEGER PRIMARY KEY, who TEXT NOT NULL,"
    " kind TEXT NOT NULL, at INTEGER NOT NULL, undone INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS review_action_who ON review_action(who, id);"
    "CREATE TABLE IF NOT EXISTS review_grade(media INTEGER PRIMARY KEY REFERENCES media(id),"
    " scheme TEXT NOT NULL, category TEXT NOT NULL, grader TEXT NOT NULL,"
    " graded_at INTEGER NOT NULL, action INTEGER NOT NULL, state INTEGER NOT NULL,"
    " vcategory TEXT, verifier TEXT, verified_at INTEGER, vaction INTEGER, final TEXT,"
    " resolver TEXT, resolved_at INTEGER, note TEXT);"
    "CREATE INDEX IF NOT EXISTS review_grade_action ON review_grade(action);"
    "CREATE INDEX IF NOT EXISTS review_grade_vaction ON review_grade(vaction);"
    "CREATE INDEX IF NOT EXISTS review_grade_state ON review_grade(state);"
    "CREATE TABLE IF NOT EXISTS review_welfare(who TEXT NOT NULL, day TEXT NOT NULL,"
    " viewed INTEGER NOT NULL DEFAULT 0, unblurred INTEGER NOT NULL DEFAULT 0,"
    " seconds INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(who, day));";

/* A media is left out of the queue when a hash set decided: an alert match with a
 * category, or any match of an ignore (known-good) set. */
#define KNOWN_SQL                                                                                  \
	"EXISTS(SELECT 1 FROM \"match\" x JOIN hashset h ON h.id = x.hashset"                      \
	" WHERE x.media = %s AND (h.role = 'ignore' OR x.category IS NOT NULL))"

/* Where a media was first found: exhibit ref, unit separator, path (the smallest). */
#define FIRST_SQL                                                                                  \
	"coalesce((SELECT e.ref || char(31) || f.path FROM file f JOIN exhibit e"                  \
	" ON e.id = f.exhibit WHERE f.media = %s ORDER BY 1 LIMIT 1), '')"

int ks_sq_review_schema(sqlite3 *db, struct ks_err *err)
{
	int rc = sqlite3_exec(db, review_schema, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return ks_err_set(err, KS_E_ENV, "case store: review tables: %s",
				  sqlite3_errmsg(db));
	return KS_OK;
}

/* ---- helpers ------------------------------------------------------------------------ */




/* Runs one statement with up to three int64 parameters. */
static int exec3(sqlite3 *db, const char *sql, int n, int64_t a, int64_t b, int64_t c,
		 struct ks_err *err, const char *what)
{
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db, sql, &q, err, what);
	if (rc)
		return rc;
	int64_t v[3] = {a, b, c};
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(q, i + 1, v[i]);
	rc = ks_sq_run(db, q, err, what);
	sqlite3_finalize(q);
	return rc;
}

/* One int64 result of a query with one int64 parameter; *out = dflt when no row. */
static int query1(sqlite3 *db, const char *sql, int64_t param, int64_t dflt, int64_t *out,
		  struct ks_err *err)
{
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db, sql, &q, err, "query");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, param);
	rc = sqlite3_step(q);
	*out = dflt;
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(q, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "query");
	sqlite3_finalize(q);
	return rc;
}

static const char *text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

static const char *text_or_null(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : text(q, i);
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

static sqlite3 *dbof(struct ks_store *st)
{
	return ks_store_sqlite_handle(st);
}

/* The action row every grading act hangs from (undo finds it by who). */
static int action_new(sqlite3 *db, const char *who, const char *kind, int64_t *id,
		      struct ks_err *err)
{
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db, "INSERT INTO review_action(who, kind, at) VALUES(?1, ?2, ?3)", &q, err,
		      "action");
	if (rc)
		return rc;
	bind_text(q, 1, who);
	bind_text(q, 2, kind);
	sqlite3_bind_int64(q, 3, ks_time_now());
	rc = ks_sq_run(db, q, err, "action");
	sqlite3_finalize(q);
	if (rc == KS_OK)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

/* ---- previews ------------------------------------------------------------------------ */

static int r_preview_put(struct ks_store *st, int64_t media, const struct ks_preview *p,
			 struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q = NULL;
	int rc = ks_sq_prep(db,
		      "INSERT INTO media_preview(media, kind, width, height, jpeg, note)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(media) DO NOTHING",
		      &q, err, "preview");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, media);
	sqlite3_bind_int(q, 2, p->kind);
	sqlite3_bind_int64(q, 3, p->width);
	sqlite3_bind_int64(q, 4, p->height);
	if (p->jpeg && p->len)
		sqlite3_bind_blob64(q, 5, p->jpeg, p->len, SQLITE_STATIC);
	bind_text(q, 6, p->note);
	rc = ks_sq_run(db, q, err, "preview");
	sqlite3_finalize(q);
	if (rc || !p->has_pdq)
		return rc;
	if ((rc = ks_sq_prep(db,
		       "INSERT INTO media_pdq(media, hash, quality, mode) VALUES(?1, ?2, ?3, ?4)"
		       " ON CONFLICT(media) DO NOTHING",
		       &q, err, "pdq")))
		return rc;
	sqlite3_bind_int64(q, 1, media);
	sqlite3_bind_blob(q, 2, p->pdq, 32, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, p->pdq_quality);
	sqlite3_bind_int(q, 4, p->pdq_mode);
	rc = ks_sq_run(db, q, err, "pdq");
	sqlite3_finalize(q);
	return rc;
}

static int r_preview_get(struct ks_store *st, int64_t media, struct ks_buf *out, int *kind,
			 struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc =
	    ks_sq_prep(db, "SELECT kind, jpeg FROM media_preview WHERE media = ?1", &q, err, "preview");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, media);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 1) == SQLITE_BLOB &&
	    sqlite3_column_int(q, 0) != KS_PREVIEW_NONE) {
		if (kind)
			*kind = sqlite3_column_int(q, 0);
		ks_buf_add(out, sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1));
		rc = KS_OK;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		rc = ks_err_set(err, KS_E_NOTFOUND, "no preview of media %lld", (long long)media);
	} else {
		rc = ks_sq_fail(db, rc, err, "preview");
	}
	sqlite3_finalize(q);
	return rc;
}

/* ---- accounts ----------------------------------------------------------------------- */

static int r_user_put(struct ks_store *st, const char *name, int role, const char *pwhash,
		      int *created, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db, "SELECT 1 FROM review_user WHERE name = ?1", &q, err, "user");
	if (rc)
		return rc;
	bind_text(q, 1, name);
	int exists = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	if ((rc = ks_sq_prep(db,
		       "INSERT INTO review_user(name, role, pwhash, created) VALUES(?1, ?2, ?3, ?4)"
		       " ON CONFLICT(name) DO UPDATE SET role = excluded.role,"
		       " pwhash = excluded.pwhash",
		       &q, err, "user")))
		return rc;
	bind_text(q, 1, name);
	sqlite3_bind_int(q, 2, role);
	bind_text(q, 3, pwhash);
	sqlite3_bind_int64(q, 4, ks_time_now());
	rc = ks_sq_run(db, q, err, "user");
	sqlite3_finalize(q);
	if (created)
		*created = !exists;
	return rc;
}

static int r_user_get(struct ks_store *st, const char *name, struct ks_user *out,
		      struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db, "SELECT id, name, role, pwhash, created FROM review_user WHERE name = ?1",
		      &q, err, "user");
	if (rc)
		return rc;
	bind_text(q, 1, name);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		out->id = sqlite3_column_int64(q, 0);
		snprintf(out->name, sizeof out->name, "%s", text(q, 1));
		out->role = sqlite3_column_int(q, 2);
		snprintf(out->pwhash, sizeof out->pwhash, "%s", text(q, 3));
		out->created = sqlite3_column_int64(q, 4);
		rc = KS_OK;
	} else if (rc == SQLITE_DONE) {
		rc = ks_err_set(err, KS_E_NOTFOUND, "no such user");
	} else {
		rc = ks_sq_fail(db, rc, err, "user");
	}
	sqlite3_finalize(q);
	return rc;
}

/* ---- groups ----------------------------------------------------------------------------- */

static int r_refresh(struct ks_store *st, int64_t *changed, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	char sql[512];
	snprintf(sql, sizeof sql, "UPDATE review_item SET known = 1 WHERE known = 0 AND " KNOWN_SQL,
		 "review_item.media");
	int rc = exec3(db, sql, 0, 0, 0, 0, err, "refresh");
	if (rc)
		return rc;
	*changed = sqlite3_changes(db);
	if (*changed == 0)
		return KS_OK;
	return exec3(
	    db,
	    "UPDATE review_group SET open = (SELECT count(*) FROM review_item i"
	    " WHERE i.grp = review_group.id AND i.known = 0 AND i.graded = 0) WHERE open > 0",
	    0, 0, 0, 0, err, "refresh");
}

static int r_unplaced(struct ks_store *st, size_t limit, int full,
		      int (*fn)(void *ctx, const struct ks_review_new *m), void *ctx,
		      struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	/* Media are placed in id order, so everything up to the largest placed id is
	 * placed, but for hash-only media completed since: the cheap walk starts after
	 * it, the full one looks at every media. */
	int rc = ks_sq_prep(db,
		      full ? "SELECT m.id, m.kind, p.hash, p.quality FROM media m"
			     " LEFT JOIN media_pdq p ON p.media = m.id"
			     " WHERE NOT EXISTS(SELECT 1 FROM review_item i WHERE i.media = m.id)"
			     " AND m.kind IN (?1, ?2) AND m.type != 'hash-only' ORDER BY m.id"
			     " LIMIT ?3"
			   : "SELECT m.id, m.kind, p.hash, p.quality FROM media m"
			     " LEFT JOIN media_pdq p ON p.media = m.id"
			     " WHERE m.id > coalesce((SELECT max(media) FROM review_item), 0)"
			     " AND m.kind IN (?1, ?2) AND m.type != 'hash-only' ORDER BY m.id"
			     " LIMIT ?3",
		      &q, err, "unplaced");
	if (rc)
		return rc;
	sqlite3_bind_int(q, 1, KS_KIND_PICTURE);
	sqlite3_bind_int(q, 2, KS_KIND_VIDEO);
	sqlite3_bind_int64(q, 3, limit ? (int64_t)limit : -1);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_review_new m = {
		    .media = sqlite3_column_int64(q, 0),
		    .kind = sqlite3_column_int(q, 1),
		};
		if (sqlite3_column_type(q, 2) == SQLITE_BLOB && sqlite3_column_bytes(q, 2) == 32) {
			m.has_pdq = 1;
			memcpy(m.pdq, sqlite3_column_blob(q, 2), 32);
			m.quality = sqlite3_column_int(q, 3);
		}
		if ((rc = fn(ctx, &m)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "unplaced");
out:
	sqlite3_finalize(q);
	return rc;
}

static int r_leaders(struct ks_store *st, int min_quality,
		     int (*fn)(void *ctx, int64_t group, const uint8_t pdq[32]), void *ctx,
		     struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc =
	    ks_sq_prep(db,
		 "SELECT g.id, p.hash FROM review_group g JOIN media_pdq p ON p.media = g.leader"
		 " WHERE g.split = 0 AND p.quality >= ?1 ORDER BY g.id",
		 &q, err, "leaders");
	if (rc)
		return rc;
	sqlite3_bind_int(q, 1, min_quality);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 1) != 32)
			continue;
		if ((rc = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_blob(q, 1))) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "leaders");
out:
	sqlite3_finalize(q);
	return rc;
}

static int group_new(sqlite3 *db, int64_t leader, int split, int64_t *id, struct ks_err *err)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "INSERT INTO review_group(leader, sortkey, split) VALUES(?1, " FIRST_SQL ", ?2)",
		 "?1");
	int rc = exec3(db, sql, 2, leader, split, 0, err, "group");
	if (rc == KS_OK)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

static int r_place(struct ks_store *st, struct ks_review_place *v, size_t n, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *grp = NULL, *item = NULL, *count = NULL;
	char sql[512];
	snprintf(sql, sizeof sql,
		 "INSERT INTO review_group(leader, sortkey, split) VALUES(?1, " FIRST_SQL ", 0)",
		 "?1");
	int rc = ks_sq_prep(db, sql, &grp, err, "place");
	snprintf(
	    sql, sizeof sql,
	    "INSERT INTO review_item(media, grp, dist, known, graded) VALUES(?1, ?2, ?3, " KNOWN_SQL
	    ", EXISTS(SELECT 1 FROM review_grade WHERE media = ?1))",
	    "?1");
	if (rc == KS_OK)
		rc = ks_sq_prep(db, sql, &item, err, "place");
	if (rc == KS_OK)
		rc = ks_sq_prep(db,
			  "UPDATE review_group SET size = size + 1, open = open + (SELECT known = 0"
			  " AND graded = 0 FROM review_item WHERE media = ?1) WHERE id = ?2",
			  &count, err, "place");
	for (size_t i = 0; i < n && rc == KS_OK; i++) {
		struct ks_review_place *p = &v[i];
		if (p->group < 0) {
			p->group = v[-p->group - 1].group;
		} else if (p->group == 0) {
			sqlite3_bind_int64(grp, 1, p->media);
			if ((rc = ks_sq_run(db, grp, err, "place")))
				break;
			p->group = sqlite3_last_insert_rowid(db);
		}
		sqlite3_bind_int64(item, 1, p->media);
		sqlite3_bind_int64(item, 2, p->group);
		sqlite3_bind_int(item, 3, p->dist);
		if ((rc = ks_sq_run(db, item, err, "place")))
			break;
		sqlite3_bind_int64(count, 1, p->media);
		sqlite3_bind_int64(count, 2, p->group);
		rc = ks_sq_run(db, count, err, "place");
	}
	sqlite3_finalize(grp);
	sqlite3_finalize(item);
	sqlite3_finalize(count);
	return rc;
}

static int r_split(struct ks_store *st, int64_t media, int64_t *group, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	int64_t old, size, open;
	int rc = query1(db, "SELECT grp FROM review_item WHERE media = ?1", media, 0, &old, err);
	if (rc)
		return rc;
	if (!old)
		return ks_err_set(err, KS_E_NOTFOUND, "media %lld is in no group",
				  (long long)media);
	if ((rc = query1(db, "SELECT size FROM review_group WHERE id = ?1", old, 0, &size, err)))
		return rc;
	if (size <= 1) {
		*group = old; /* already alone */
		return KS_OK;
	}
	if ((rc = query1(db, "SELECT known = 0 AND graded = 0 FROM review_item WHERE media = ?1",
			 media, 0, &open, err)))
		return rc;
	if ((rc = group_new(db, media, 1, group, err)))
		return rc;
	if ((rc = exec3(db, "UPDATE review_item SET grp = ?2, dist = 0 WHERE media = ?1", 2, media,
			*group, 0, err, "split")) ||
	    (rc = exec3(db, "UPDATE review_group SET size = 1, open = ?2 WHERE id = ?1", 2, *group,
			open, 0, err, "split")) ||
	    (rc = exec3(db,
			"UPDATE review_group SET size = size - 1, open = open - ?2 WHERE id = ?1",
			2, old, open, 0, err, "split")))
		return rc;
	/* A group whose leader left is led by its nearest remaining member. */
	return exec3(
	    db,
	    "UPDATE review_group SET leader = (SELECT media FROM review_item WHERE grp = ?1"
	    " ORDER BY dist, media LIMIT 1) WHERE id = ?1 AND leader = ?2",
	    2, old, media, 0, err, "split");
}

/* Splits "exhibit<US>path" into its halves (in place). */
static void split_key(char *key, const char **exhibit, const char **path)
{
	char *us = strchr(key, '\x1f');
	*exhibit = key;
	*path = "";
	if (us) {
		*us = '\0';
		*path = us + 1;
	}
}

static int r_queue_page(struct ks_store *st, int all, int64_t offset, int limit, int64_t *total,
			int (*fn)(void *ctx, const struct ks_queue_group *g), void *ctx,
			struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q = NULL;
	int rc;
	char *key = NULL;
	if (total && (rc = query1(db,
				  all ? "SELECT count(*) FROM review_group WHERE size > ?1"
				      : "SELECT count(*) FROM review_group WHERE open > ?1",
				  0, 0, total, err)))
		return rc;
	const char *sql =
	    all ? "SELECT g.id, g.size, g.open, g.sortkey, (SELECT i.media FROM review_item i"
		  " WHERE i.grp = g.id ORDER BY i.dist, i.media LIMIT 1) FROM review_group g"
		  " INDEXED BY review_group_key WHERE g.size > 0 ORDER BY g.sortkey, g.id"
		  " LIMIT ?1 OFFSET ?2"
		: "SELECT g.id, g.size, g.open, g.sortkey, (SELECT i.media FROM review_item i"
		  " WHERE i.grp = g.id AND i.known = 0 AND i.graded = 0 ORDER BY i.dist, i.media"
		  " LIMIT 1) FROM review_group g INDEXED BY review_group_open WHERE g.open > 0"
		  " ORDER BY g.sortkey, g.id LIMIT ?1 OFFSET ?2";
	if ((rc = ks_sq_prep(db, sql, &q, err, "queue")))
		return rc;
	sqlite3_bind_int(q, 1, limit);
	sqlite3_bind_int64(q, 2, offset);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		free(key);
		key = ks_xstrdup(text(q, 3));
		struct ks_queue_group g = {
		    .id = sqlite3_column_int64(q, 0),
		    .size = sqlite3_column_int64(q, 1),
		    .open = sqlite3_column_int64(q, 2),
		    .cover = sqlite3_column_int64(q, 4),
		};
		split_key(key, &g.exhibit, &g.path);
		if ((rc = fn(ctx, &g)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "queue");
out:
	free(key);
	sqlite3_finalize(q);
	return rc;
}

#define MEMBER_COLS                                                                                \
	"SELECT i.media, i.grp, m.kind, m.type, m.width, m.height, i.dist, i.known,"               \
	" coalesce(r.state, 0), r.category, r.grader, " FIRST_SQL                                  \
	" FROM review_item i JOIN media m ON m.id = i.media"                                       \
	" LEFT JOIN review_grade r ON r.media = i.media"

static int member_row(sqlite3_stmt *q, int blind,
		      int (*fn)(void *ctx, const struct ks_queue_member *m), void *ctx)
{
	char *key = ks_xstrdup(text(q, 11));
	struct ks_queue_member m = {
	    .media = sqlite3_column_int64(q, 0),
	    .group = sqlite3_column_int64(q, 1),
	    .kind = sqlite3_column_int(q, 2),
	    .type = text(q, 3),
	    .width = (uint32_t)sqlite3_column_int64(q, 4),
	    .height = (uint32_t)sqlite3_column_int64(q, 5),
	    .dist = sqlite3_column_int(q, 6),
	    .known = sqlite3_column_int(q, 7),
	    .state = sqlite3_column_int(q, 8),
	    .category = blind ? NULL : text_or_null(q, 9),
	    .grader = blind ? NULL : text_or_null(q, 10),
	};
	split_key(key, &m.exhibit, &m.path);
	int rc = fn(ctx, &m);
	free(key);
	return rc;
}

static int r_members(struct ks_store *st, int64_t group, int64_t media,
		     int (*fn)(void *ctx, const struct ks_queue_member *m), void *ctx,
		     struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	char sql[1024];
	snprintf(sql, sizeof sql,
		 group ? MEMBER_COLS " WHERE i.grp = ?1 ORDER BY i.dist, i.media"
		       : MEMBER_COLS " WHERE i.media = ?1",
		 "i.media");
	int rc = ks_sq_prep(db, sql, &q, err, "members");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, group ? group : media);
	int seen = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		seen++;
		if ((rc = member_row(q, 0, fn, ctx)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "members");
	if (rc == KS_OK && !seen)
		rc = ks_err_set(err, KS_E_NOTFOUND, "no such %s", group ? "group" : "media");
out:
	sqlite3_finalize(q);
	return rc;
}

static int r_group_open(struct ks_store *st, int64_t group, int64_t **ids, size_t *n,
			struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	size_t cap = 0;
	int rc = ks_sq_prep(db,
		      "SELECT media FROM review_item WHERE grp = ?1 AND known = 0 AND graded = 0"
		      " ORDER BY dist, media",
		      &q, err, "group");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, group);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*ids = ks_xrealloc(*ids, cap * sizeof **ids);
		}
		(*ids)[(*n)++] = sqlite3_column_int64(q, 0);
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "group");
	sqlite3_finalize(q);
	return rc;
}

static int r_exif_fields(struct ks_store *st, int64_t media,
			 int (*fn)(void *ctx, const char *field, const char *value), void *ctx,
			 struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q = NULL;
	/* Read generically: the provenance part owns the table and its columns. */
	if (sqlite3_prepare_v2(db, "SELECT * FROM media_exif WHERE media = ?1", -1, &q, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(q);
		return KS_OK; /* a case without EXIF records */
	}
	sqlite3_bind_int64(q, 1, media);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		rc = KS_OK;
		for (int i = 0; i < sqlite3_column_count(q) && rc == KS_OK; i++) {
			const char *name = sqlite3_column_name(q, i);
			if (!name || strcmp(name, "media") == 0 ||
			    sqlite3_column_type(q, i) == SQLITE_NULL ||
			    sqlite3_column_type(q, i) == SQLITE_BLOB || !*text(q, i))
				continue;
			rc = fn(ctx, name, text(q, i));
		}
	} else {
		rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "exif");
	}
	sqlite3_finalize(q);
	return rc;
}

static int r_media_files(struct ks_store *st, int64_t media, ks_file_row_fn fn, void *ctx,
			 struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	char sql[1800];
	/* Display paths are built upwards from each occurrence to its outermost file. */
	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE up(id, disp, parent, depth) AS ("
		 " SELECT id, path, parent, 0 FROM file WHERE media = ?1"
		 " UNION ALL"
		 " SELECT u.id, p.path || '%s' || u.disp, p.parent, u.depth + 1 FROM up u"
		 " JOIN file p ON p.id = u.parent WHERE u.depth < %d)"
		 " SELECT f.id, f.media, coalesce(f.parent, 0), e.ref, s.path, f.volume, u.disp,"
		 " f.state, f.size, f.mtime, f.atime, f.ctime, f.crtime, f.\"offset\", f.type,"
		 " f.kind, m.valid, lower(hex(m.md5)), lower(hex(m.sha1)),"
		 " lower(hex(m.sha256)), f.note, f.error"
		 " FROM up u JOIN file f ON f.id = u.id JOIN exhibit e ON e.id = f.exhibit"
		 " JOIN source s ON s.id = f.source JOIN media m ON m.id = f.media"
		 " WHERE u.parent IS NULL ORDER BY e.ref, u.disp, f.id",
		 PATH_SEP, MAX_UP);
	int rc = ks_sq_prep(db, sql, &q, err, "occurrences");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, media);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char md5[33], sha1[41], sha256[65];
		snprintf(md5, sizeof md5, "%s", text(q, 17));
		snprintf(sha1, sizeof sha1, "%s", text(q, 18));
		snprintf(sha256, sizeof sha256, "%s", text(q, 19));
		struct ks_file_row r = {
		    .file_id = sqlite3_column_int64(q, 0),
		    .media_id = sqlite3_column_int64(q, 1),
		    .parent_id = sqlite3_column_int64(q, 2),
		    .exhibit = text(q, 3),
		    .source = text(q, 4),
		    .volume = text(q, 5),
		    .path = text(q, 6),
		    .state = sqlite3_column_int(q, 7),
		    .size = (uint64_t)sqlite3_column_int64(q, 8),
		    .mtime = sqlite3_column_int64(q, 9),
		    .atime = sqlite3_column_int64(q, 10),
		    .ctime = sqlite3_column_int64(q, 11),
		    .crtime = sqlite3_column_int64(q, 12),
		    .offset = sqlite3_column_type(q, 13) == SQLITE_NULL
				  ? -1
				  : sqlite3_column_int64(q, 13),
		    .type = text(q, 14),
		    .kind = sqlite3_column_int(q, 15),
		    .valid = sqlite3_column_int(q, 16),
		    .md5 = md5,
		    .sha1 = sha1,
		    .sha256 = sha256,
		    .match = "",
		    .note = text_or_null(q, 20),
		    .error = text_or_null(q, 21),
		};
		r.in_container = r.parent_id != 0;
		if ((rc = fn(ctx, &r)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "occurrences");
out:
	sqlite3_finalize(q);
	return rc;
}

/* ---- grading ------------------------------------------------------------------------------ */

/* Appends one act to the core grade table (who, when, scheme, category, note): the
 * history of every grade, verification, resolution and undo. */
static int history(sqlite3 *db, sqlite3_stmt **q, int64_t media, const char *who,
		   const char *scheme, const char *category, const char *note, struct ks_err *err)
{
	int rc;
	if (!*q && (rc = ks_sq_prep(db,
			      "INSERT INTO grade(media, who, at, scheme, category, note)"
			      " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
			      q, err, "grade history")))
		return rc;
	sqlite3_bind_int64(*q, 1, media);
	bind_text(*q, 2, who);
	sqlite3_bind_int64(*q, 3, ks_time_now());
	bind_text(*q, 4, scheme);
	bind_text(*q, 5, category);
	bind_text(*q, 6, note);
	return ks_sq_run(db, *q, err, "grade history");
}

static int r_grade(struct ks_store *st, const int64_t *media, size_t n, const char *who,
		   const char *scheme, const char *category, int64_t *done, int64_t *action,
		   struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *ins = NULL, *item = NULL, *grp = NULL, *hist = NULL;
	int64_t *gid = NULL, *gcount = NULL; /* open members graded, per group */
	size_t ng = 0, gcap = 0;
	int rc = action_new(db, who, "grade", action, err);
	if (rc)
		goto out;
	if ((rc =
		 ks_sq_prep(db,
		      "INSERT INTO review_grade(media, scheme, category, grader, graded_at, action,"
		      " state) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 1) ON CONFLICT(media) DO NOTHING",
		      &ins, err, "grade")) ||
	    (rc = ks_sq_prep(db,
		       "UPDATE review_item SET graded = 1 WHERE media = ?1 AND graded = 0"
		       " RETURNING grp, known",
		       &item, err, "grade")) ||
	    (rc = ks_sq_prep(db, "UPDATE review_group SET open = open - ?2 WHERE id = ?1", &grp, err,
		       "grade")))
		goto out;
	int64_t now = ks_time_now();
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(ins, 1, media[i]);
		bind_text(ins, 2, scheme);
		bind_text(ins, 3, category);
		bind_text(ins, 4, who);
		sqlite3_bind_int64(ins, 5, now);
		sqlite3_bind_int64(ins, 6, *action);
		if ((rc = ks_sq_run(db, ins, err, "grade")))
			goto out;
		if (sqlite3_changes(db) == 0)
			continue; /* graded already */
		(*done)++;
		sqlite3_bind_int64(item, 1, media[i]);
		rc = sqlite3_step(item);
		if (rc == SQLITE_ROW && sqlite3_column_int(item, 1) == 0) {
			int64_t g = sqlite3_column_int64(item, 0);
			size_t k = 0;
			while (k < ng && gid[k] != g)
				k++;
			if (k == ng) {
				if (ng == gcap) {
					gcap = gcap ? gcap * 2 : 8;
					gid = ks_xrealloc(gid, gcap * sizeof *gid);
					gcount = ks_xrealloc(gcount, gcap * sizeof *gcount);
				}
				gid[ng] = g;
				gcount[ng++] = 0;
			}
			gcount[k]++;
		}
		while (rc == SQLITE_ROW)
			rc = sqlite3_step(item);
		sqlite3_reset(item);
		if (rc != SQLITE_DONE) {
			rc = ks_sq_fail(db, rc, err, "grade");
			goto out;
		}
		if ((rc = history(db, &hist, media[i], who, scheme, category, "grade", err)))
			goto out;
	}
	for (size_t k = 0; k < ng; k++) {
		sqlite3_bind_int64(grp, 1, gid[k]);
		sqlite3_bind_int64(grp, 2, gcount[k]);
		if ((rc = ks_sq_run(db, grp, err, "grade")))
			goto out;
	}
	rc = KS_OK;
	if (*done == 0)
		rc = exec3(db, "DELETE FROM review_action WHERE id = ?1", 1, *action, 0, 0, err,
			   "grade");
out:
	free(gid);
	free(gcount);
	sqlite3_finalize(ins);
	sqlite3_finalize(item);
	sqlite3_finalize(grp);
	sqlite3_finalize(hist);
	return rc;
}

static int r_verify(struct ks_store *st, const int64_t *media, size_t n, const char *who,
		    const char *category, int64_t *agreed, int64_t *disputed, int64_t *action,
		    struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *look = NULL, *upd = NULL, *hist = NULL;
	int rc =
	    ks_sq_prep(db, "SELECT grader, state, category, scheme FROM review_grade WHERE media = ?1",
		 &look, err, "verify");
	if (rc)
		goto out;
	/* First pass: nobody verifies their own grade, not even one of many. */
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(look, 1, media[i]);
		int own = sqlite3_step(look) == SQLITE_ROW && strcmp(text(look, 0), who) == 0;
		sqlite3_reset(look);
		if (own) {
			rc = ks_err_set(err, KS_E_USAGE,
					"media %lld was graded by %s, who cannot"
					" verify their own grade",
					(long long)media[i], who);
			goto out;
		}
	}
	if ((rc = action_new(db, who, "verify", action, err)))
		goto out;
	if ((rc = ks_sq_prep(db,
		       "UPDATE review_grade SET vcategory = ?2, verifier = ?3, verified_at = ?4,"
		       " vaction = ?5, state = ?6 WHERE media = ?1 AND state = 1",
		       &upd, err, "verify")))
		goto out;
	int64_t now = ks_time_now();
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(look, 1, media[i]);
		rc = sqlite3_step(look);
		if (rc != SQLITE_ROW || sqlite3_column_int(look, 1) != KS_GRADE_PENDING) {
			sqlite3_reset(look);
			continue;
		}
		int same = strcmp(text(look, 2), category) == 0;
		char *scheme = ks_xstrdup(text(look, 3));
		sqlite3_reset(look);
		sqlite3_bind_int64(upd, 1, media[i]);
		bind_text(upd, 2, category);
		bind_text(upd, 3, who);
		sqlite3_bind_int64(upd, 4, now);
		sqlite3_bind_int64(upd, 5, *action);
		sqlite3_bind_int(upd, 6, same ? KS_GRADE_VERIFIED : KS_GRADE_DISPUTED);
		rc = ks_sq_run(db, upd, err, "verify");
		if (rc == KS_OK)
			rc = history(db, &hist, media[i], who, scheme, category,
				     same ? "verify: agreed" : "verify: disputed", err);
		free(scheme);
		if (rc)
			goto out;
		if (same)
			(*agreed)++;
		else
			(*disputed)++;
	}
	rc = KS_OK;
	if (*agreed + *disputed == 0)
		rc = exec3(db, "DELETE FROM review_action WHERE id = ?1", 1, *action, 0, 0, err,
			   "verify");
out:
	sqlite3_finalize(look);
	sqlite3_finalize(upd);
	sqlite3_finalize(hist);
	return rc;
}

static int r_resolve(struct ks_store *st, int64_t media, const char *who, const char *category,
		     const char *note, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q = NULL, *hist = NULL;
	int rc =
	    ks_sq_prep(db,
		 "UPDATE review_grade SET state = 4, final = ?2, resolver = ?3, resolved_at = ?4,"
		 " note = ?5 WHERE media = ?1 AND state = 3",
		 &q, err, "resolve");
	if (rc)
		return rc;
	sqlite3_bind_int64(q, 1, media);
	bind_text(q, 2, category);
	bind_text(q, 3, who);
	sqlite3_bind_int64(q, 4, ks_time_now());
	bind_text(q, 5, note);
	rc = ks_sq_run(db, q, err, "resolve");
	if (rc == KS_OK && sqlite3_changes(db) != 1)
		rc = ks_err_set(err, KS_E_USAGE, "media %lld has no dispute to resolve",
				(long long)media);
	sqlite3_finalize(q);
	if (rc)
		return rc;
	char *h = ks_xasprintf("resolve: %s", note);
	sqlite3_stmt *sq = NULL;
	rc = ks_sq_prep(db, "SELECT scheme FROM review_grade WHERE media = ?1", &sq, err, "resolve");
	if (rc == KS_OK) {
		sqlite3_bind_int64(sq, 1, media);
		sqlite3_step(sq);
		rc = history(db, &hist, media, who, text(sq, 0), category, h, err);
	}
	sqlite3_finalize(sq);
	sqlite3_finalize(hist);
	free(h);
	return rc;
}

static int undo_grade(sqlite3 *db, int64_t action, const char *who, int64_t *n, struct ks_err *err)
{
	sqlite3_stmt *q = NULL, *hist = NULL;
	int64_t *ids = NULL;
	size_t nids = 0, cap = 0;
	char **schemes = NULL;
	int rc = ks_sq_prep(db, "SELECT media, scheme FROM review_grade WHERE action = ?1 AND state = 1",
		      &q, err, "undo");
	if (rc)
		goto out;
	sqlite3_bind_int64(q, 1, action);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (nids == cap) {
			cap = cap ? cap * 2 : 64;
			ids = ks_xrealloc(ids, cap * sizeof *ids);
			schemes = ks_xrealloc(schemes, cap * sizeof *schemes);
		}
		schemes[nids] = ks_xstrdup(text(q, 1));
		ids[nids++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE) {
		rc = ks_sq_fail(db, rc, err, "undo");
		goto out;
	}
	rc = KS_OK;
	for (size_t i = 0; i < nids && rc == KS_OK; i++) {
		rc = exec3(db,
			   "UPDATE review_group SET open = open + 1 WHERE id = (SELECT grp FROM"
			   " review_item WHERE media = ?1 AND known = 0 AND graded = 1)",
			   1, ids[i], 0, 0, err, "undo");
		if (rc == KS_OK)
			rc = exec3(db, "UPDATE review_item SET graded = 0 WHERE media = ?1", 1,
				   ids[i], 0, 0, err, "undo");
		if (rc == KS_OK)
			rc = exec3(db, "DELETE FROM review_grade WHERE media = ?1", 1, ids[i], 0, 0,
				   err, "undo");
		if (rc == KS_OK)
			rc = history(db, &hist, ids[i], who, schemes[i], NULL, "undo grade", err);
	}
	*n = (int64_t)nids;
out:
	for (size_t i = 0; i < nids; i++)
		free(schemes[i]);
	free(schemes);
	free(ids);
	sqlite3_finalize(q);
	sqlite3_finalize(hist);
	return rc;
}

static int r_undo(struct ks_store *st, const char *who, const char **kind, int64_t *n,
		  struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q = NULL;
	int64_t action = 0;
	int is_grade = 0, rc;
	/* The latest action of who that still has something to undo (grades someone has
	 * since verified, and verifications since resolved, stay). */
	if ((rc = ks_sq_prep(db,
		       "SELECT a.id, a.kind FROM review_action a WHERE a.who = ?1 AND a.undone = 0"
		       " AND ((a.kind = 'grade' AND EXISTS(SELECT 1 FROM review_grade g"
		       " WHERE g.action = a.id AND g.state = 1)) OR (a.kind = 'verify' AND"
		       " EXISTS(SELECT 1 FROM review_grade g WHERE g.vaction = a.id AND g.state IN"
		       " (2, 3)))) ORDER BY a.id DESC LIMIT 1",
		       &q, err, "undo")))
		return rc;
	bind_text(q, 1, who);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		action = sqlite3_column_int64(q, 0);
		is_grade = strcmp(text(q, 1), "grade") == 0;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ks_sq_fail(db, rc, err, "undo");
	if (!action)
		return ks_err_set(err, KS_E_NOTFOUND, "nothing to undo");
	if (is_grade) {
		*kind = "grade";
		rc = undo_grade(db, action, who, n, err);
	} else {
		*kind = "verify";
		rc = exec3(
		    db,
		    "UPDATE review_grade SET state = 1, vcategory = NULL, verifier = NULL,"
		    " verified_at = NULL, vaction = NULL WHERE vaction = ?1 AND state IN (2, 3)",
		    1, action, 0, 0, err, "undo");
		*n = sqlite3_changes(db);
	}
	if (rc == KS_OK)
		rc = exec3(db, "UPDATE review_action SET undone = 1 WHERE id = ?1", 1, action, 0, 0,
			   err, "undo");
	return rc;
}

static int r_verify_page(struct ks_store *st, const char *who, int64_t offset, int limit,
			 int64_t *total, int (*fn)(void *ctx, const struct ks_queue_member *m),
			 void *ctx, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc;
	if (total) {
		if ((rc = ks_sq_prep(db,
			       "SELECT count(*) FROM review_grade WHERE state = 1 AND grader != ?1",
			       &q, err, "verify queue")))
			return rc;
		bind_text(q, 1, who);
		*total = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
		sqlite3_finalize(q);
	}
	char sql[1024];
	snprintf(sql, sizeof sql,
		 MEMBER_COLS
		 " JOIN review_group g ON g.id = i.grp WHERE r.state = 1 AND r.grader != ?1"
		 " ORDER BY g.sortkey, i.grp, i.dist, i.media LIMIT ?2 OFFSET ?3",
		 "i.media");
	if ((rc = ks_sq_prep(db, sql, &q, err, "verify queue")))
		return rc;
	bind_text(q, 1, who);
	sqlite3_bind_int(q, 2, limit);
	sqlite3_bind_int64(q, 3, offset);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((rc = member_row(q, 1, fn, ctx)) != 0)
			goto out;
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "verify queue");
out:
	sqlite3_finalize(q);
	return rc;
}

static int r_disputes(struct ks_store *st, int (*fn)(void *ctx, const struct ks_dispute *d),
		      void *ctx, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db,
		      "SELECT media, category, grader, graded_at, vcategory, verifier, verified_at"
		      " FROM review_grade WHERE state = 3 ORDER BY verified_at, media",
		      &q, err, "disputes");
	if (rc)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_dispute d = {
		    .media = sqlite3_column_int64(q, 0),
		    .category = text(q, 1),
		    .grader = text(q, 2),
		    .graded_at = sqlite3_column_int64(q, 3),
		    .vcategory = text(q, 4),
		    .verifier = text(q, 5),
		    .verified_at = sqlite3_column_int64(q, 6),
		};
		if ((rc = fn(ctx, &d)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "disputes");
out:
	sqlite3_finalize(q);
	return rc;
}

static int r_counts(struct ks_store *st, struct ks_review_counts *out, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db,
		      "SELECT (SELECT count(*) FROM review_group WHERE open > 0),"
		      " (SELECT coalesce(sum(open), 0) FROM review_group WHERE open > 0),"
		      " (SELECT count(*) FROM review_item WHERE known = 1),"
		      " (SELECT count(*) FROM review_grade WHERE state = 1),"
		      " (SELECT count(*) FROM review_grade WHERE state = 2),"
		      " (SELECT count(*) FROM review_grade WHERE state = 3),"
		      " (SELECT count(*) FROM review_grade WHERE state = 4)",
		      &q, err, "counts");
	if (rc)
		return rc;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		out->groups_open = sqlite3_column_int64(q, 0);
		out->media_open = sqlite3_column_int64(q, 1);
		out->known = sqlite3_column_int64(q, 2);
		out->pending = sqlite3_column_int64(q, 3);
		out->verified = sqlite3_column_int64(q, 4);
		out->disputed = sqlite3_column_int64(q, 5);
		out->resolved = sqlite3_column_int64(q, 6);
		rc = KS_OK;
	} else {
		rc = ks_sq_fail(db, rc, err, "counts");
	}
	sqlite3_finalize(q);
	return rc;
}

static int cat_counts(sqlite3 *db, const char *sql, const char *who,
		      int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
		      struct ks_err *err)
{
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db, sql, &q, err, "category counts");
	if (rc)
		return rc;
	if (who)
		bind_text(q, 1, who);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((rc = fn(ctx, text(q, 0), sqlite3_column_int64(q, 1))) != 0)
			goto out;
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "category counts");
out:
	sqlite3_finalize(q);
	return rc;
}

static int r_final_each(struct ks_store *st, int (*fn)(void *ctx, const char *category, int64_t n),
			void *ctx, struct ks_err *err)
{
	return cat_counts(dbof(st),
			  "SELECT CASE state WHEN 2 THEN category ELSE final END AS c, count(*)"
			  " FROM review_grade WHERE state IN (2, 4) GROUP BY c ORDER BY c",
			  NULL, fn, ctx, err);
}

static int r_welfare_add(struct ks_store *st, const char *who, const char *day,
			 const struct ks_welfare *add, struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc =
	    ks_sq_prep(db,
		 "INSERT INTO review_welfare(who, day, viewed, unblurred, seconds)"
		 " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(who, day) DO UPDATE SET"
		 " viewed = viewed + excluded.viewed, unblurred = unblurred + excluded.unblurred,"
		 " seconds = seconds + excluded.seconds",
		 &q, err, "welfare");
	if (rc)
		return rc;
	bind_text(q, 1, who);
	bind_text(q, 2, day);
	sqlite3_bind_int64(q, 3, add->viewed);
	sqlite3_bind_int64(q, 4, add->unblurred);
	sqlite3_bind_int64(q, 5, add->seconds);
	rc = ks_sq_run(db, q, err, "welfare");
	sqlite3_finalize(q);
	return rc;
}

static int r_welfare_get(struct ks_store *st, const char *who, const char *day,
			 struct ks_welfare *out,
			 int (*fn)(void *ctx, const char *category, int64_t n), void *ctx,
			 struct ks_err *err)
{
	sqlite3 *db = dbof(st);
	sqlite3_stmt *q;
	int rc = ks_sq_prep(db,
		      "SELECT viewed, unblurred, seconds FROM review_welfare WHERE who = ?1 AND"
		      " day = ?2",
		      &q, err, "welfare");
	if (rc)
		return rc;
	bind_text(q, 1, who);
	bind_text(q, 2, day);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		out->viewed = sqlite3_column_int64(q, 0);
		out->unblurred = sqlite3_column_int64(q, 1);
		out->seconds = sqlite3_column_int64(q, 2);
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "welfare");
	sqlite3_finalize(q);
	if (rc || !fn)
		return rc;
	return cat_counts(db,
			  "SELECT c, count(*) FROM (SELECT category AS c FROM review_grade WHERE"
			  " grader = ?1 UNION ALL SELECT vcategory FROM review_grade WHERE"
			  " verifier = ?1) GROUP BY c ORDER BY c",
			  who, fn, ctx, err);
}

const struct ks_store_review_ops ks_store_sqlite_review_ops = {
    .preview_put = r_preview_put,
    .preview_get = r_preview_get,
    .user_put = r_user_put,
    .user_get = r_user_get,
    .refresh = r_refresh,
    .unplaced = r_unplaced,
    .leaders = r_leaders,
    .place = r_place,
    .split = r_split,
    .queue_page = r_queue_page,
    .members = r_members,
    .group_open = r_group_open,
    .exif_fields = r_exif_fields,
    .media_files = r_media_files,
    .grade = r_grade,
    .verify = r_verify,
    .resolve = r_resolve,
    .undo = r_undo,
    .verify_page = r_verify_page,
    .disputes = r_disputes,
    .counts = r_counts,
    .final_each = r_final_each,
    .welfare_add = r_welfare_add,
    .welfare_get = r_welfare_get,
};

/* ---- the grade overlay of files_each --------------------------------------------------------- */

struct sq_grade {
	int64_t media;
	int state;
	char *scheme, *category, *grader, *verifier;
};

struct ks_sq_grades {
	struct sq_grade *v;
	size_t n;
};

int ks_sq_grades_load(sqlite3 *db, struct ks_sq_grades **out, struct ks_err *err)
{
	struct ks_sq_grades *g = ks_xcalloc(1, sizeof *g);
	sqlite3_stmt *q = NULL;
	size_t cap = 0;
	*out = g;
	int rc =
	    sqlite3_prepare_v2(db,
			       "SELECT media, state, scheme, CASE state WHEN 4 THEN final ELSE"
			       " category END, grader, verifier FROM review_grade ORDER BY media",
			       -1, &q, NULL);
	if (rc != SQLITE_OK) {
		/* No review tables: a case never reviewed, opened read-only. */
		sqlite3_finalize(q);
		return KS_OK;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (g->n == cap) {
			cap = cap ? cap * 2 : 256;
			g->v = ks_xrealloc(g->v, cap * sizeof *g->v);
		}
		struct sq_grade *x = &g->v[g->n++];
		x->media = sqlite3_column_int64(q, 0);
		x->state = sqlite3_column_int(q, 1);
		x->scheme = ks_xstrdup(text(q, 2));
		x->category = ks_xstrdup(text(q, 3));
		x->grader = ks_xstrdup(text(q, 4));
		x->verifier = text_or_null(q, 5) ? ks_xstrdup(text(q, 5)) : NULL;
	}
	rc = rc == SQLITE_DONE ? KS_OK : ks_sq_fail(db, rc, err, "grades");
	sqlite3_finalize(q);
	return rc;
}

void ks_sq_grades_apply(const struct ks_sq_grades *g, struct ks_file_row *r)
{
	if (!g || !r->media_id)
		return;
	size_t lo = 0, hi = g->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->v[mid].media < r->media_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= g->n || g->v[lo].media != r->media_id)
		return;
	const struct sq_grade *x = &g->v[lo];
	r->grade_state = x->state;
	r->grader = x->grader;
	r->verifier = x->verifier;
	if (x->state == KS_GRADE_VERIFIED || x->state == KS_GRADE_RESOLVED) {
		r->scheme = x->scheme;
		r->category = x->category;
	}
}

void ks_sq_grades_free(struct ks_sq_grades *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].scheme);
		free(g->v[i].category);
		free(g->v[i].grader);
		free(g->v[i].verifier);
	}
	free(g->v);
	free(g);
}
