/* Unit tests of the case store (SQLite backend): create/open, exhibits, media dedup,
 * display paths through containers, category choice over matches, known-good, the
 * audit chain (and that tampering with it is caught), read-only handles and rollback.
 * Hash sets and categories here are invented labels on made-up digests. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/store/store_impl.h"
#include "kestrel/category.h"
#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "kestrel/store.h"
#include "ktest.h"

/* Digests that differ by a seed byte: enough for a store that only compares them. */
static void fake_digests(struct ks_digests *d, int seed)
{
	memset(d, 0, sizeof *d);
	for (int i = 0; i < 16; i++)
		d->md5[i] = (uint8_t)(seed + i);
	for (int i = 0; i < 20; i++)
		d->sha1[i] = (uint8_t)(seed * 3 + i);
	for (int i = 0; i < 32; i++)
		d->sha256[i] = (uint8_t)(seed * 7 + i);
}

static int64_t put_media(struct ks_store *st, int seed, int kind, int *is_new)
{
	struct ks_digests d;
	fake_digests(&d, seed);
	struct ks_media_rec m = {.d = &d, .size = 1000 + (uint64_t)seed, .type = "jpeg",
				 .kind = kind, .width = 10, .height = 20, .valid = 0};
	int64_t id = 0;
	struct ks_err err = {0};
	int rc = ks_store_media_put(st, &m, &id, is_new, &err);
	CHECK(rc == KS_OK);
	if (rc)
		fprintf(stderr, "media_put: %s\n", err.msg);
	return id;
}

static int64_t add_file(struct ks_store *st, int64_t ex, int64_t src, int64_t media,
			int64_t parent, const char *path, int state, int kind)
{
	struct ks_file_rec f = {.exhibit_id = ex, .source_id = src, .media_id = media,
				.parent_id = parent, .volume = "", .path = path, .state = state,
				.size = 1234, .mtime = 1700000000, .offset = -1,
				.type = kind == KS_KIND_ARCHIVE ? "zip" : "jpeg", .kind = kind};
	int64_t id = 0;
	struct ks_err err = {0};
	int rc = ks_store_file_add(st, &f, &id, &err);
	CHECK(rc == KS_OK);
	if (rc)
		fprintf(stderr, "file_add %s: %s\n", path, err.msg);
	return id;
}

struct row_copy {
	int64_t file_id, media_id;
	char path[256], exhibit[32], category[8], scheme[16], match[128], md5[33];
	int in_container, known_good, state;
};

struct rows {
	struct row_copy r[32];
	int n;
};

static int collect(void *ctx, const struct ks_file_row *r)
{
	struct rows *rs = ctx;
	if (rs->n >= 32)
		return -1;
	struct row_copy *c = &rs->r[rs->n++];
	memset(c, 0, sizeof *c);
	c->file_id = r->file_id;
	c->media_id = r->media_id;
	snprintf(c->path, sizeof c->path, "%s", r->path);
	snprintf(c->exhibit, sizeof c->exhibit, "%s", r->exhibit);
	snprintf(c->category, sizeof c->category, "%s", r->category ? r->category : "-");
	snprintf(c->scheme, sizeof c->scheme, "%s", r->scheme ? r->scheme : "-");
	snprintf(c->match, sizeof c->match, "%s", r->match);
	snprintf(c->md5, sizeof c->md5, "%s", r->md5);
	c->in_container = r->in_container;
	c->known_good = r->known_good;
	c->state = r->state;
	return 0;
}

static const struct row_copy *row_by_path(const struct rows *rs, const char *path)
{
	for (int i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].path, path) == 0)
			return &rs->r[i];
	return NULL;
}

static int exec_sql(const char *case_dir, const char *sql)
{
	char path[512];
	snprintf(path, sizeof path, "%s/case.db", case_dir);
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static int64_t count_rows(const char *case_dir, const char *table)
{
	char path[512], sql[128];
	snprintf(path, sizeof path, "%s/case.db", case_dir);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t n = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

struct src_copy {
	int n;
	char path[64], md5b[33], md5a[33], status[32];
	uint64_t size;
};

static int collect_src(void *ctx, const struct ks_source_row *r)
{
	struct src_copy *s = ctx;
	s->n++;
	snprintf(s->path, sizeof s->path, "%s", r->path);
	snprintf(s->md5b, sizeof s->md5b, "%s", r->md5_before);
	snprintf(s->md5a, sizeof s->md5a, "%s", r->md5_after);
	snprintf(s->status, sizeof s->status, "%s", r->status);
	s->size = r->size;
	return 0;
}

static void test_create_open(const char *dir)
{
	struct ks_err err = {0};
	struct ks_case_meta meta = {.ref = "OP-TEST-1", .examiner = "examiner one", .scheme = "uk",
				    .created = 1700000000};
	CHECK(ks_store_create(dir, &meta, &err) == KS_OK);
	/* A second create on the same folder must not clobber the case. */
	CHECK(ks_store_create(dir, &meta, &err) == KS_E_USAGE);
	struct ks_case_meta bad = meta;
	bad.scheme = "no-such-scheme";
	char other[600];
	snprintf(other, sizeof other, "%s-other", dir);
	CHECK(ks_store_create(other, &bad, &err) == KS_E_USAGE);

	struct ks_store *st = NULL;
	CHECK(ks_store_open(dir, 0, &st, &err) == KS_OK);
	struct ks_case_meta got;
	CHECK(ks_store_get_case(st, &got, &err) == KS_OK);
	CHECK_STR(got.ref, "OP-TEST-1");
	CHECK_STR(got.examiner, "examiner one");
	CHECK_STR(got.scheme, "uk");
	CHECK(got.created == 1700000000);
	ks_store_close(st);

	st = NULL;
	CHECK(ks_store_open(other, 1, &st, &err) == KS_E_NOTFOUND);
	CHECK(st == NULL);
	CHECK(count_rows(dir, "audit") == 1);
}

static void test_round_trip(const char *dir)
{
	struct ks_err err = {0};
	struct ks_store *st = NULL;
	CHECK(ks_store_open(dir, 0, &st, &err) == KS_OK);
	if (!st)
		return;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_begin(st, &err) == KS_E_USAGE); /* no nesting */

	int64_t ex1 = 0, ex1b = 0, ex2 = 0;
	CHECK(ks_store_exhibit_get(st, "EX-1", &ex1, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(st, "EX-1", &ex1b, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(st, "EX-2", &ex2, &err) == KS_OK);
	CHECK(ex1 > 0 && ex1 == ex1b && ex2 != ex1);

	int64_t s1 = 0, s2 = 0;
	CHECK(ks_store_source_add(st, ex1, "/evidence/disk1.E01", "ewf", 4096, &s1, &err) == KS_OK);
	CHECK(ks_store_source_add(st, ex2, "/evidence/stick.dd", "raw", 8192, &s2, &err) == KS_OK);
	CHECK(ks_store_source_add(st, 9999, "/nowhere", "raw", 1, &s2, &err) == KS_E_USAGE);
	CHECK(ks_store_source_set_hash(st, s1, "before", "0123456789ABCDEF0123456789abcdef",
				       "0123456789abcdef0123456789abcdef01234567", &err) == KS_OK);
	CHECK(ks_store_source_set_hash(st, s1, "after", "0123456789abcdef0123456789abcdef",
				       "0123456789abcdef0123456789abcdef01234567", &err) == KS_OK);
	CHECK(ks_store_source_set_hash(st, s1, "during", NULL, NULL, &err) == KS_E_USAGE);
	CHECK(ks_store_source_set_hash(st, s1, "after", "xyz", NULL, &err) == KS_E_USAGE);
	CHECK(ks_store_source_set_hash(st, 424242, "after", NULL, NULL, &err) == KS_E_NOTFOUND);
	CHECK(ks_store_source_finish(st, s1, "complete", &err) == KS_OK);

	/* Media dedup by SHA-256. */
	int is_new = -1;
	int64_t m1 = put_media(st, 1, KS_KIND_PICTURE, &is_new);
	CHECK(is_new == 1);
	int64_t m1b = put_media(st, 1, KS_KIND_PICTURE, &is_new);
	CHECK(is_new == 0);
	CHECK(m1 == m1b);
	int64_t m2 = put_media(st, 2, KS_KIND_PICTURE, &is_new);
	int64_t m3 = put_media(st, 3, KS_KIND_VIDEO, &is_new);
	int64_t m4 = put_media(st, 4, KS_KIND_PICTURE, &is_new);
	int64_t m5 = put_media(st, 5, KS_KIND_ARCHIVE, &is_new);
	CHECK(m2 != m1 && m3 != m2 && m4 != m3 && m5 != m4);

	/* Files: a zip holding a picture and a nested zip holding another. */
	int64_t zip = add_file(st, ex1, s1, m5, 0, "/archive/file8.zip", KS_STATE_LIVE,
			       KS_KIND_ARCHIVE);
	int64_t member = add_file(st, ex1, s1, m1, zip, "file8.jpg", KS_STATE_LIVE,
				  KS_KIND_PICTURE);
	int64_t inner = add_file(st, ex1, s1, 0, zip, "inner/deep.zip", KS_STATE_LIVE,
				 KS_KIND_ARCHIVE);
	add_file(st, ex1, s1, m2, inner, "x.jpg", KS_STATE_LIVE, KS_KIND_PICTURE);
	add_file(st, ex1, s1, m1, 0, "/DCIM/a.jpg", KS_STATE_DELETED, KS_KIND_PICTURE);
	add_file(st, ex1, s1, m3, 0, "/Movies/clip.mp4", KS_STATE_LIVE, KS_KIND_VIDEO);
	add_file(st, ex1, s1, m4, 0, "/Web/stock.jpg", KS_STATE_LIVE, KS_KIND_PICTURE);
	add_file(st, ex2, s2, m1, 0, "/copy.jpg", KS_STATE_CARVED, KS_KIND_PICTURE);
	add_file(st, ex1, s1, 0, 0, "/notes.txt", KS_STATE_LIVE, KS_KIND_OTHER);
	CHECK(member > zip && inner > member);
	/* A parent that does not exist is refused (foreign keys are on). */
	struct ks_file_rec orphan = {.exhibit_id = ex1, .source_id = s1, .parent_id = 777777,
				     .path = "lost.jpg", .offset = -1};
	int64_t oid;
	CHECK(ks_store_file_add(st, &orphan, &oid, &err) == KS_E_USAGE);

	/* Hash sets: two alert sets (uk), one vics-us alert set, one ignore set. */
	struct ks_hashset_meta hs1 = {.name = "set-one", .format = "md5", .scheme = "uk",
				      .role = "alert"};
	struct ks_hashset_meta hs2 = {.name = "set-two", .format = "sha1", .scheme = "uk",
				      .role = "alert"};
	struct ks_hashset_meta hs3 = {.name = "vics-set", .format = "vics", .scheme = "vics-us",
				      .role = "alert"};
	struct ks_hashset_meta hs4 = {.name = "known-good", .format = "nsrl", .role = "ignore"};
	struct ks_hashset_meta hsbad = {.name = "x", .role = "maybe"};
	int64_t h1, h2, h3, h4, hb;
	CHECK(ks_store_hashset_add(st, &hs1, &h1, &err) == KS_OK);
	CHECK(ks_store_hashset_add(st, &hs2, &h2, &err) == KS_OK);
	CHECK(ks_store_hashset_add(st, &hs3, &h3, &err) == KS_OK);
	CHECK(ks_store_hashset_add(st, &hs4, &h4, &err) == KS_OK);
	CHECK(ks_store_hashset_add(st, &hsbad, &hb, &err) == KS_E_USAGE);
	struct ks_hash_entry e = {.has = KS_HAS_MD5, .scheme = "uk", .category = "C", .size = -1,
				  .distributed = -1};
	memset(e.md5, 0xab, sizeof e.md5);
	CHECK(ks_store_hashentry_add(st, h1, &e, &err) == KS_OK);
	CHECK(ks_store_hashset_set_count(st, h1, 1, &err) == KS_OK);
	struct ks_hash_entry none = {0};
	CHECK(ks_store_hashentry_add(st, h1, &none, &err) == KS_E_USAGE);

	/* m1: C in set-one and A in set-two: A wins (more severe). */
	CHECK(ks_store_match_add(st, m1, h1, "md5", "uk", "C", 1, &err) == KS_OK);
	CHECK(ks_store_match_add(st, m1, h2, "sha1", "uk", "A", 3, &err) == KS_OK);
	CHECK(ks_store_match_add(st, m1, h2, "sha1", "uk", "A", 3, &err) == KS_OK); /* dup */
	/* m2: vics "1" (severity 4 there) and uk B: the case's scheme wins. */
	CHECK(ks_store_match_add(st, m2, h3, "md5", "vics-us", "1", 4, &err) == KS_OK);
	CHECK(ks_store_match_add(st, m2, h2, "md5", "uk", "B", 2, &err) == KS_OK);
	/* m3: only vics-us. */
	CHECK(ks_store_match_add(st, m3, h3, "sha256", "vics-us", "2", 3, &err) == KS_OK);
	/* m4: known good only. */
	CHECK(ks_store_match_add(st, m4, h4, "sha1", NULL, NULL, -1, &err) == KS_OK);
	/* the uncategorised alert match does not give m4 a category either */
	CHECK(ks_store_match_add(st, m4, h1, "md5", "uk", NULL, -1, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);

	struct rows rs = {0};
	CHECK(ks_store_files_each(st, collect, &rs, &err) == KS_OK);
	CHECK(rs.n == 9);
	/* Stable order: exhibit ref, source path, display path, id. */
	static const char *const order[] = {
		"/DCIM/a.jpg",
		"/Movies/clip.mp4",
		"/Web/stock.jpg",
		"/archive/file8.zip",
		"/archive/file8.zip \xe2\x80\xba file8.jpg",
		"/archive/file8.zip \xe2\x80\xba inner/deep.zip",
		"/archive/file8.zip \xe2\x80\xba inner/deep.zip \xe2\x80\xba x.jpg",
		"/notes.txt",
		"/copy.jpg",
	};
	for (int i = 0; i < 9 && i < rs.n; i++)
		CHECK_STR(rs.r[i].path, order[i]);

	const struct row_copy *r = row_by_path(&rs, "/archive/file8.zip \xe2\x80\xba file8.jpg");
	CHECK(r && r->in_container == 1 && r->media_id == m1);
	if (r) {
		CHECK_STR(r->category, "A");
		CHECK_STR(r->scheme, "uk");
		CHECK_STR(r->match, "set-one (md5); set-two (sha1)");
		CHECK(r->known_good == 0);
		CHECK_STR(r->md5, "0102030405060708090a0b0c0d0e0f10");
	}
	r = row_by_path(&rs, "/copy.jpg");
	CHECK(r && r->media_id == m1 && r->in_container == 0 && r->state == KS_STATE_CARVED);
	if (r) {
		CHECK_STR(r->exhibit, "EX-2");
		CHECK_STR(r->category, "A");
	}
	r = row_by_path(&rs, "/archive/file8.zip \xe2\x80\xba inner/deep.zip \xe2\x80\xba x.jpg");
	CHECK(r && r->in_container == 1);
	if (r) {
		CHECK_STR(r->category, "B");
		CHECK_STR(r->scheme, "uk");
		CHECK_STR(r->match, "set-two (md5); vics-set (md5)");
	}
	r = row_by_path(&rs, "/Movies/clip.mp4");
	if (r) {
		CHECK_STR(r->category, "2");
		CHECK_STR(r->scheme, "vics-us");
	}
	r = row_by_path(&rs, "/Web/stock.jpg");
	CHECK(r != NULL);
	if (r) {
		CHECK(r->known_good == 1);
		CHECK_STR(r->category, "-");
		CHECK_STR(r->scheme, "-");
		CHECK_STR(r->match, "set-one (md5); known-good (sha1)");
	}
	r = row_by_path(&rs, "/notes.txt");
	CHECK(r && r->media_id == 0);
	if (r) {
		CHECK_STR(r->md5, "");
		CHECK_STR(r->match, "");
	}

	struct src_copy sc = {0};
	CHECK(ks_store_sources_each(st, collect_src, &sc, &err) == KS_OK);
	CHECK(sc.n == 2);
	ks_store_close(st);

	CHECK(count_rows(dir, "source") == 2);
	CHECK(count_rows(dir, "media") == 5);
	CHECK(count_rows(dir, "\"match\"") == 7);
}

static int stop_first(void *ctx, const struct ks_source_row *r)
{
	struct src_copy *s = ctx;
	collect_src(ctx, r);
	return s->n == 1 ? 42 : 0;
}

static void test_sources(const char *dir)
{
	struct ks_err err = {0};
	struct ks_store *st = NULL;
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	if (!st)
		return;
	struct src_copy sc = {0};
	CHECK(ks_store_sources_each(st, stop_first, &sc, &err) == 42);
	CHECK(sc.n == 1);
	CHECK_STR(sc.path, "/evidence/disk1.E01");
	CHECK_STR(sc.md5b, "0123456789abcdef0123456789abcdef");
	CHECK_STR(sc.md5a, "0123456789abcdef0123456789abcdef");
	CHECK_STR(sc.status, "complete");
	CHECK(sc.size == 4096);
	ks_store_close(st);
}

static int count_sets(void *ctx, const struct ks_hashset_meta *m)
{
	int *n = ctx;
	(*n)++;
	if (*n == 4) {
		CHECK_STR(m->name, "known-good");
		CHECK_STR(m->role, "ignore");
	}
	if (*n == 1) {
		CHECK_STR(m->scheme, "uk");
		CHECK(m->entries == 1);
	}
	return 0;
}

static void on_hit(void *ctx, const struct ks_index_hit *h)
{
	int *n = ctx;
	(*n)++;
	CHECK_STR(h->category, "C");
	CHECK(h->ignorable == 0);
}

static void test_index(const char *dir)
{
	struct ks_err err = {0};
	struct ks_store *st = NULL;
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	if (!st)
		return;
	int n = 0;
	CHECK(ks_store_hashsets_each(st, count_sets, &n, &err) == KS_OK);
	CHECK(n == 4);
	struct ks_index *idx = ks_index_new();
	CHECK(ks_store_load_index(st, idx, &err) == KS_OK);
	CHECK(ks_index_count(idx) == 1);
	uint8_t md5[16];
	memset(md5, 0xab, sizeof md5);
	int hits = 0;
	CHECK(ks_index_lookup(idx, md5, NULL, NULL, on_hit, &hits) == 1);
	CHECK(hits == 1);
	ks_index_free(idx);
	ks_store_close(st);
}

static void test_readonly(const char *dir)
{
	struct ks_err err = {0};
	struct ks_store *st = NULL;
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	if (!st)
		return;
	int64_t id = 0;
	CHECK(ks_store_exhibit_get(st, "EX-NEW", &id, &err) == KS_E_USAGE);
	CHECK(ks_store_begin(st, &err) == KS_E_USAGE);
	CHECK(ks_store_audit(st, "x", "try", "", &err) == KS_E_USAGE);
	/* Below the front end the database itself is read-only too. */
	st->readonly = 0;
	CHECK(ks_store_exhibit_get(st, "EX-NEW", &id, &err) == KS_E_ENV);
	st->readonly = 1;
	/* A read snapshot is allowed. */
	CHECK(ks_store_begin_read(st, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	ks_store_close(st);
	CHECK(count_rows(dir, "exhibit") == 2);
}

static void test_rollback(const char *dir)
{
	struct ks_err err = {0};
	struct ks_store *st = NULL;
	int64_t files = count_rows(dir, "file"), media = count_rows(dir, "media");
	CHECK(ks_store_open(dir, 0, &st, &err) == KS_OK);
	if (!st)
		return;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	int64_t ex = 0, src = 0;
	CHECK(ks_store_exhibit_get(st, "EX-ROLLED", &ex, &err) == KS_OK);
	CHECK(ks_store_source_add(st, ex, "/evidence/gone.dd", "raw", 1, &src, &err) == KS_OK);
	int is_new;
	int64_t m = put_media(st, 99, KS_KIND_PICTURE, &is_new);
	add_file(st, ex, src, m, 0, "/gone.jpg", KS_STATE_LIVE, KS_KIND_PICTURE);
	CHECK(ks_store_audit(st, "tester", "inside", "rolled back", &err) == KS_OK);
	CHECK(ks_store_rollback(st) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_E_USAGE); /* nothing open any more */
	ks_store_close(st);
	CHECK(count_rows(dir, "exhibit") == 2);
	CHECK(count_rows(dir, "source") == 2);
	CHECK(count_rows(dir, "file") == files);
	CHECK(count_rows(dir, "media") == media);

	/* Closing with a transaction open rolls it back too. */
	st = NULL;
	CHECK(ks_store_open(dir, 0, &st, &err) == KS_OK);
	if (!st)
		return;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(st, "EX-ABANDONED", &ex, &err) == KS_OK);
	ks_store_close(st);
	CHECK(count_rows(dir, "exhibit") == 2);
}

static void test_audit(const char *dir)
{
	struct ks_err err = {0};
	struct ks_store *st = NULL;
	CHECK(ks_store_open(dir, 0, &st, &err) == KS_OK);
	if (!st)
		return;
	CHECK(ks_store_audit(st, "examiner one", "scan.start", "exhibit=EX-1", &err) == KS_OK);
	CHECK(ks_store_audit(st, "exam|iner", "odd\\chars", "a|b\\c", &err) == KS_OK);
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_audit(st, "examiner two", "report", "html", &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	int64_t rows = 0;
	CHECK(ks_store_audit_verify(st, &rows, &err) == KS_OK);
	CHECK(rows == 4);
	ks_store_close(st);

	/* Someone edits row 3 behind kestrel's back. */
	CHECK(exec_sql(dir, "UPDATE audit SET detail = 'a|b\\d' WHERE seq = 3") == SQLITE_OK);
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	if (!st)
		return;
	rows = -1;
	CHECK(ks_store_audit_verify(st, &rows, &err) == KS_E_EVIDENCE);
	CHECK(rows == 2);
	CHECK(strstr(err.msg, "row 3") != NULL);
	ks_store_close(st);

	/* Moving a '|' between fields is caught too (the escaping keeps fields apart). */
	CHECK(exec_sql(dir, "UPDATE audit SET detail = 'a|b\\c' WHERE seq = 3") == SQLITE_OK);
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	CHECK(ks_store_audit_verify(st, &rows, &err) == KS_OK && rows == 4);
	ks_store_close(st);
	CHECK(exec_sql(dir, "UPDATE audit SET who = 'exam', action = 'iner|odd\\chars'"
			    " WHERE seq = 3") == SQLITE_OK);
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	CHECK(ks_store_audit_verify(st, &rows, &err) == KS_E_EVIDENCE);
	ks_store_close(st);
	CHECK(exec_sql(dir, "UPDATE audit SET who = 'exam|iner', action = 'odd\\chars'"
			    " WHERE seq = 3") == SQLITE_OK);

	/* Deleting a row in the middle breaks the numbering. */
	CHECK(exec_sql(dir, "DELETE FROM audit WHERE seq = 2") == SQLITE_OK);
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	CHECK(ks_store_audit_verify(st, &rows, &err) == KS_E_EVIDENCE);
	CHECK(rows == 1);
	ks_store_close(st);
}

int main(void)
{
	const char *tmp = ktest_tmpdir();
	if (!tmp) {
		fprintf(stderr, "no temporary folder\n");
		return 1;
	}
	char dir[512];
	snprintf(dir, sizeof dir, "%s/case", tmp);
	test_create_open(dir);
	test_round_trip(dir);
	test_sources(dir);
	test_index(dir);
	test_readonly(dir);
	test_rollback(dir);
	test_audit(dir);
	return ktest_done();
}
