/* Unit tests of the report layer: a small case built through the store API with known
 * figures (distinct media per category, exhibit and location, known-good, a scheme
 * other than the case's), checked in the JSON (parsed with yajl) and CSV output; the
 * HTML loads nothing from outside and escapes names; two runs differ only in the
 * generated line; `files` JSON lines parse and carry every key. Hash sets and
 * categories are invented labels on made-up digests. */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "../../src/report/report_impl.h"
#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "kestrel/report.h"
#include "kestrel/store.h"
#include "ktest.h"

struct fixture {
	struct ks_store *st;
	int64_t ex_a, ex_b, src_a, src_b;
	int64_t set_uk, set_vics, set_good;
};

static int64_t media(struct fixture *fx, int seed, int kind)
{
	struct ks_digests d;
	for (int i = 0; i < 16; i++)
		d.md5[i] = (uint8_t)(seed * 5 + i);
	for (int i = 0; i < 20; i++)
		d.sha1[i] = (uint8_t)(seed * 11 + i);
	for (int i = 0; i < 32; i++)
		d.sha256[i] = (uint8_t)(seed * 13 + i);
	struct ks_media_rec m = {.d = &d, .size = 100, .type = kind == KS_KIND_VIDEO ? "mp4" : "png",
				 .kind = kind, .valid = 0};
	int64_t id = 0;
	int is_new;
	struct ks_err err = {0};
	CHECK(ks_store_media_put(fx->st, &m, &id, &is_new, &err) == KS_OK);
	return id;
}

static int64_t file(struct fixture *fx, int b, int64_t m, int64_t parent, const char *path,
		    int state, int kind, const char *note, const char *error)
{
	struct ks_file_rec f = {
		.exhibit_id = b ? fx->ex_b : fx->ex_a,
		.source_id = b ? fx->src_b : fx->src_a,
		.media_id = m,
		.parent_id = parent,
		.volume = b ? "" : "p1 fat32 @1048576",
		.path = path,
		.state = state,
		.size = 100,
		.mtime = 1600000000,
		.crtime = 1500000000,
		.offset = state == KS_STATE_CARVED ? 65536 : -1,
		.type = kind == KS_KIND_VIDEO ? "mp4" : kind == KS_KIND_ARCHIVE ? "zip" : "png",
		.kind = kind,
		.note = note,
		.error = error,
	};
	int64_t id = 0;
	struct ks_err err = {0};
	CHECK(ks_store_file_add(fx->st, &f, &id, &err) == KS_OK);
	return id;
}

static void match(struct fixture *fx, int64_t m, int64_t set, const char *scheme,
		  const char *cat, int sev)
{
	struct ks_err err = {0};
	CHECK(ks_store_match_add(fx->st, m, set, "md5", scheme, cat, sev, &err) == KS_OK);
}

/* The case:
 *   P1 picture, A: EX-A live + EX-A deleted + EX-B live (duplicated across exhibits)
 *   P2 picture, A: EX-A inside a live zip
 *   P3 picture, A: EX-B carved
 *   V1 video,   B: EX-A live
 *   P4 picture, uncategorised: EX-A live, twice (one with a name that needs escaping)
 *   P5 picture, vics-us 2 only: EX-B live
 *   P6 picture, known good: EX-A live
 *   a hashed text file (EX-A), an unreadable file with an error (EX-B) */
static int build_case(const char *dir)
{
	struct ks_err err = {0};
	struct fixture fx = {0};
	struct ks_case_meta meta = {.ref = "OP-REPORT", .examiner = "test examiner",
				    .scheme = "uk", .created = 1700000000};
	if (ks_store_create(dir, &meta, &err) != KS_OK ||
	    ks_store_open(dir, 0, &fx.st, &err) != KS_OK) {
		fprintf(stderr, "case: %s\n", err.msg);
		return -1;
	}
	CHECK(ks_store_begin(fx.st, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(fx.st, "EX-B", &fx.ex_b, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(fx.st, "EX-A", &fx.ex_a, &err) == KS_OK);
	CHECK(ks_store_source_add(fx.st, fx.ex_a, "/evidence/a.dd", "raw", 1 << 20, &fx.src_a,
				  &err) == KS_OK);
	CHECK(ks_store_source_add(fx.st, fx.ex_b, "/evidence/b.E01", "ewf", 2 << 20, &fx.src_b,
				  &err) == KS_OK);
	const char *md5 = "00112233445566778899aabbccddeeff";
	const char *sha1 = "00112233445566778899aabbccddeeff00112233";
	CHECK(ks_store_source_set_hash(fx.st, fx.src_a, "before", md5, sha1, &err) == KS_OK);
	CHECK(ks_store_source_set_hash(fx.st, fx.src_a, "after", md5, sha1, &err) == KS_OK);
	CHECK(ks_store_source_set_hash(fx.st, fx.src_b, "before", md5, sha1, &err) == KS_OK);
	CHECK(ks_store_source_set_hash(fx.st, fx.src_b, "after", "ffffffffffffffffffffffffffffffff",
				       sha1, &err) == KS_OK);

	struct ks_hashset_meta uk = {.name = "uk-set", .scheme = "uk", .role = "alert"};
	struct ks_hashset_meta vics = {.name = "vics-set", .scheme = "vics-us", .role = "alert"};
	struct ks_hashset_meta good = {.name = "good-set", .role = "ignore"};
	CHECK(ks_store_hashset_add(fx.st, &uk, &fx.set_uk, &err) == KS_OK);
	CHECK(ks_store_hashset_add(fx.st, &vics, &fx.set_vics, &err) == KS_OK);
	CHECK(ks_store_hashset_add(fx.st, &good, &fx.set_good, &err) == KS_OK);

	int64_t p1 = media(&fx, 1, KS_KIND_PICTURE), p2 = media(&fx, 2, KS_KIND_PICTURE);
	int64_t p3 = media(&fx, 3, KS_KIND_PICTURE), v1 = media(&fx, 4, KS_KIND_VIDEO);
	int64_t p4 = media(&fx, 5, KS_KIND_PICTURE), p5 = media(&fx, 6, KS_KIND_PICTURE);
	int64_t p6 = media(&fx, 7, KS_KIND_PICTURE), zip = media(&fx, 8, KS_KIND_ARCHIVE);
	int64_t txt = media(&fx, 9, KS_KIND_OTHER);
	match(&fx, p1, fx.set_uk, "uk", "A", 3);
	match(&fx, p2, fx.set_uk, "uk", "A", 3);
	match(&fx, p3, fx.set_uk, "uk", "A", 3);
	match(&fx, v1, fx.set_uk, "uk", "B", 2);
	match(&fx, p5, fx.set_vics, "vics-us", "2", 3);
	match(&fx, p6, fx.set_good, NULL, NULL, -1);

	file(&fx, 0, p1, 0, "/pics/one.png", KS_STATE_LIVE, KS_KIND_PICTURE, NULL, NULL);
	file(&fx, 0, p1, 0, "/old/one.png", KS_STATE_DELETED, KS_KIND_PICTURE, NULL, NULL);
	file(&fx, 1, p1, 0, "/b/one.png", KS_STATE_LIVE, KS_KIND_PICTURE, NULL, NULL);
	int64_t z = file(&fx, 0, zip, 0, "/arch/a.zip", KS_STATE_LIVE, KS_KIND_ARCHIVE, NULL, NULL);
	file(&fx, 0, p2, z, "two.png", KS_STATE_LIVE, KS_KIND_PICTURE, NULL, NULL);
	file(&fx, 1, p3, 0, "carved/00000128.png", KS_STATE_CARVED, KS_KIND_PICTURE,
	     "carved from unallocated", NULL);
	file(&fx, 0, v1, 0, "/movies/clip.mp4", KS_STATE_LIVE, KS_KIND_VIDEO, NULL, NULL);
	file(&fx, 0, p4, 0, "/pics/four.png", KS_STATE_LIVE, KS_KIND_PICTURE, NULL, NULL);
	file(&fx, 0, p4, 0, "/pics/a<b>&'\"c\xff.png", KS_STATE_LIVE, KS_KIND_PICTURE, "=1+1",
	     NULL);
	file(&fx, 1, p5, 0, "/b/five.png", KS_STATE_LIVE, KS_KIND_PICTURE, NULL, NULL);
	file(&fx, 0, p6, 0, "/web/stock.png", KS_STATE_LIVE, KS_KIND_PICTURE, NULL, NULL);
	file(&fx, 0, txt, 0, "/notes.txt", KS_STATE_LIVE, KS_KIND_OTHER, NULL, NULL);
	file(&fx, 0, 0, 0, "/unhashed.txt", KS_STATE_LIVE, KS_KIND_OTHER, NULL, NULL);
	file(&fx, 1, 0, 0, "/bad.dat", KS_STATE_DELETED, KS_KIND_OTHER, NULL,
	     "read error at 4096");
	CHECK(ks_store_commit(fx.st, &err) == KS_OK);
	ks_store_close(fx.st);
	return 0;
}

static char *report(struct ks_store *st, const char *format, const char *generated, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	struct ks_report_opts o = {.generated = generated};
	struct ks_err err = {0};
	int rc = ks_report_write(st, format, f, &o, &err);
	fclose(f);
	CHECK(rc == KS_OK);
	if (rc)
		fprintf(stderr, "report %s: %s\n", format, err.msg);
	*len = n;
	return buf;
}

/* ---- JSON navigation ---------------------------------------------------------------- */

static yajl_val obj_get(yajl_val o, const char *key)
{
	const char *path[] = {key, NULL};
	return o ? yajl_tree_get(o, path, yajl_t_any) : NULL;
}

static long long num(yajl_val v)
{
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -999;
}

static yajl_val arr_at(yajl_val a, size_t i)
{
	return a && YAJL_IS_ARRAY(a) && i < YAJL_GET_ARRAY(a)->len ? YAJL_GET_ARRAY(a)->values[i]
								  : NULL;
}

static size_t arr_len(yajl_val a)
{
	return a && YAJL_IS_ARRAY(a) ? YAJL_GET_ARRAY(a)->len : 0;
}

static const char *str(yajl_val v)
{
	return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

/* scope.schemes[scheme].categories[code].<kind>.<field>; code NULL = Uncategorised. */
static long long fig(yajl_val scope, const char *scheme, const char *code, const char *kind,
		     const char *field)
{
	yajl_val schemes = obj_get(scope, "schemes");
	for (size_t i = 0; i < arr_len(schemes); i++) {
		yajl_val s = arr_at(schemes, i);
		const char *name = str(obj_get(s, "scheme"));
		if (!name || strcmp(name, scheme) != 0)
			continue;
		if (code && strcmp(code, "*") == 0)
			return num(obj_get(obj_get(obj_get(s, "total"), kind), field));
		yajl_val cats = obj_get(s, "categories");
		for (size_t c = 0; c < arr_len(cats); c++) {
			yajl_val cat = arr_at(cats, c);
			yajl_val cv = obj_get(cat, "code");
			int same = code ? (str(cv) && strcmp(str(cv), code) == 0) : YAJL_IS_NULL(cv);
			if (same)
				return num(obj_get(obj_get(cat, kind), field));
		}
	}
	return -1;
}

static int has_scheme(yajl_val scope, const char *scheme)
{
	yajl_val schemes = obj_get(scope, "schemes");
	for (size_t i = 0; i < arr_len(schemes); i++)
		if (str(obj_get(arr_at(schemes, i), "scheme")) &&
		    strcmp(str(obj_get(arr_at(schemes, i), "scheme")), scheme) == 0)
			return 1;
	return 0;
}

static void check_json(const char *doc)
{
	char errbuf[256] = "";
	yajl_val root = yajl_tree_parse(doc, errbuf, sizeof errbuf);
	CHECK(root != NULL);
	if (!root) {
		fprintf(stderr, "JSON does not parse: %s\n", errbuf);
		return;
	}
	CHECK_STR(str(obj_get(obj_get(root, "case"), "ref")), "OP-REPORT");
	CHECK_STR(str(obj_get(obj_get(root, "case"), "created")), "2023-11-14T22:13:20Z");
	CHECK_STR(str(obj_get(root, "generated")), "first run");

	yajl_val tot = obj_get(root, "totals");
	/* Category A stills: P1 P2 P3, P1 counted once although found three times. */
	CHECK(fig(tot, "uk", "A", "pictures", "distinct") == 3);
	CHECK(fig(tot, "uk", "A", "pictures", "live") == 1);
	CHECK(fig(tot, "uk", "A", "pictures", "deleted") == 1);
	CHECK(fig(tot, "uk", "A", "pictures", "carved") == 1);
	CHECK(fig(tot, "uk", "A", "pictures", "in_container") == 1);
	CHECK(fig(tot, "uk", "A", "pictures", "cache") == 0);
	CHECK(fig(tot, "uk", "A", "videos", "distinct") == 0);
	CHECK(fig(tot, "uk", "B", "videos", "distinct") == 1);
	CHECK(fig(tot, "uk", "B", "videos", "live") == 1);
	CHECK(fig(tot, "uk", "B", "pictures", "distinct") == 0);
	CHECK(fig(tot, "uk", "C", "pictures", "distinct") == 0);
	CHECK(fig(tot, "uk", "N", "pictures", "distinct") == 0);
	CHECK(fig(tot, "uk", NULL, "pictures", "distinct") == 2); /* P4 (twice), P6 */
	CHECK(fig(tot, "uk", NULL, "pictures", "live") == 2);
	CHECK(fig(tot, "uk", "*", "pictures", "distinct") == 5);
	CHECK(fig(tot, "uk", "*", "videos", "distinct") == 1);
	CHECK(fig(tot, "vics-us", "2", "pictures", "distinct") == 1);
	CHECK(fig(tot, "vics-us", "1", "pictures", "distinct") == 0);
	CHECK(num(obj_get(obj_get(tot, "known_good"), "pictures")) == 1);
	CHECK(num(obj_get(obj_get(tot, "known_good"), "videos")) == 0);
	CHECK(num(obj_get(tot, "files")) == 14);
	CHECK(num(obj_get(tot, "media_files")) == 10);
	CHECK(num(obj_get(tot, "containers")) == 1);
	CHECK(num(obj_get(tot, "errors")) == 1);

	yajl_val exs = obj_get(root, "exhibits");
	CHECK(arr_len(exs) == 2);
	yajl_val a = arr_at(exs, 0), b = arr_at(exs, 1);
	CHECK_STR(str(obj_get(a, "exhibit")), "EX-A"); /* by reference, not creation order */
	CHECK_STR(str(obj_get(b, "exhibit")), "EX-B");
	CHECK(fig(a, "uk", "A", "pictures", "distinct") == 2);
	CHECK(fig(a, "uk", "A", "pictures", "live") == 1);
	CHECK(fig(a, "uk", "A", "pictures", "deleted") == 1);
	CHECK(fig(a, "uk", "A", "pictures", "in_container") == 1);
	CHECK(fig(a, "uk", "A", "pictures", "carved") == 0);
	CHECK(fig(a, "uk", "B", "videos", "distinct") == 1);
	CHECK(fig(a, "uk", NULL, "pictures", "distinct") == 2);
	CHECK(fig(a, "vics-us", "2", "pictures", "distinct") == 0);
	CHECK(num(obj_get(obj_get(a, "known_good"), "pictures")) == 1);
	CHECK(num(obj_get(a, "files")) == 10);
	CHECK(fig(b, "uk", "A", "pictures", "distinct") == 2);
	CHECK(fig(b, "uk", "A", "pictures", "live") == 1);
	CHECK(fig(b, "uk", "A", "pictures", "carved") == 1);
	CHECK(fig(b, "uk", "B", "videos", "distinct") == 0);
	CHECK(fig(b, "uk", NULL, "pictures", "distinct") == 0);
	CHECK(fig(b, "vics-us", "2", "pictures", "distinct") == 1);
	CHECK(num(obj_get(obj_get(b, "known_good"), "pictures")) == 0);
	CHECK(num(obj_get(b, "errors")) == 1);
	CHECK(has_scheme(tot, "vics-us"));

	yajl_val srcs = obj_get(root, "sources");
	CHECK(arr_len(srcs) == 2);
	CHECK_STR(str(obj_get(arr_at(srcs, 0), "path")), "/evidence/a.dd");
	CHECK(YAJL_IS_TRUE(obj_get(arr_at(srcs, 0), "verified")));
	CHECK(YAJL_IS_FALSE(obj_get(arr_at(srcs, 1), "verified")));

	/* items: 10 media occurrences + the zip + the error; files: the hashed text file */
	yajl_val items = obj_get(root, "items");
	CHECK(arr_len(items) == 12);
	yajl_val files = obj_get(root, "files");
	CHECK(arr_len(files) == 1);
	CHECK_STR(str(obj_get(arr_at(files, 0), "path")), "/notes.txt");
	int seen_member = 0, seen_bad = 0, seen_odd = 0;
	for (size_t i = 0; i < arr_len(items); i++) {
		yajl_val it = arr_at(items, i);
		const char *p = str(obj_get(it, "path"));
		if (p && strcmp(p, "/arch/a.zip \xe2\x80\xba two.png") == 0) {
			seen_member = 1;
			CHECK(YAJL_IS_TRUE(obj_get(it, "in_container")));
			CHECK_STR(str(obj_get(it, "category")), "Category A");
			CHECK_STR(str(obj_get(it, "match")), "uk-set (md5)");
			CHECK_STR(str(obj_get(it, "mtime")), "2020-09-13T12:26:40Z");
			CHECK(YAJL_IS_NULL(obj_get(it, "atime")));
		}
		if (p && strcmp(p, "/bad.dat") == 0) {
			seen_bad = 1;
			CHECK_STR(str(obj_get(it, "error")), "read error at 4096");
			CHECK(YAJL_IS_NULL(obj_get(it, "md5")));
		}
		if (p && strcmp(p, "/pics/a<b>&'\"c\xef\xbf\xbd.png") == 0)
			seen_odd = 1;
	}
	CHECK(seen_member && seen_bad && seen_odd);
	yajl_tree_free(root);
}

static int has_line(const char *doc, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = doc; (p = strstr(p, line)) != NULL; p++)
		if ((p == doc || p[-1] == '\n') && p[n] == '\r' && p[n + 1] == '\n')
			return 1;
	return 0;
}

static void check_csv(const char *doc, size_t len)
{
	CHECK(has_line(doc, "generated,first run"));
	CHECK(has_line(doc, "count,total,,uk,A,Category A,pictures,3,1,1,1,0,1"));
	CHECK(has_line(doc, "count,total,,uk,B,Category B,videos,1,1,0,0,0,0"));
	CHECK(has_line(doc, "count,total,,uk,,Uncategorised,pictures,2,2,0,0,0,0"));
	CHECK(has_line(doc, "count,total,,uk,*,All categories,pictures,5,3,1,1,0,1"));
	CHECK(has_line(doc, "count,total,,vics-us,2,Child exploitive / age difficult,pictures,"
			    "1,1,0,0,0,0"));
	CHECK(has_line(doc, "count,exhibit,EX-A,uk,A,Category A,pictures,2,1,1,0,0,1"));
	CHECK(has_line(doc, "count,exhibit,EX-B,uk,A,Category A,pictures,2,1,0,1,0,0"));
	CHECK(has_line(doc, "known_good,total,,1,0"));
	CHECK(has_line(doc, "summary,exhibit,EX-B,4,3,0,1"));
	CHECK(strstr(doc, "\r\nsource,EX-B,/evidence/b.E01,ewf,2097152,running,") != NULL);
	/* a name with quotes is quoted with the quote doubled; a formula is defused */
	CHECK(strstr(doc, ",\"/pics/a<b>&'\"\"c\xef\xbf\xbd.png\",") != NULL);
	CHECK(strstr(doc, ",'=1+1,") != NULL);
	/* an archive is not graded: no category label; an ungraded picture is Uncategorised */
	CHECK(strstr(doc, ",zip,archive,,,,,no,") != NULL);
	CHECK(strstr(doc, ",png,picture,,,Uncategorised,,no,") != NULL);
	CHECK(strstr(doc, ",png,picture,vics-us,2,Child exploitive / age difficult,vics-set (md5),"
			  "no,") != NULL);
	/* every line ends in CRLF: no bare LF anywhere */
	int bare = 0;
	for (size_t i = 0; i < len; i++)
		if (doc[i] == '\n' && (i == 0 || doc[i - 1] != '\r'))
			bare = 1;
	CHECK(!bare);
	/* 12 items + 1 file */
	int items = 0, files = 0;
	for (const char *p = doc; (p = strstr(p, "\r\nitem,")) != NULL; p++)
		items++;
	for (const char *p = doc; (p = strstr(p, "\r\nfile,")) != NULL; p++)
		files++;
	CHECK(items == 12);
	CHECK(files == 1);
}

static void check_html(const char *doc)
{
	CHECK(strncmp(doc, "<!DOCTYPE html>", 15) == 0);
	CHECK(strstr(doc, "http://") == NULL);
	CHECK(strstr(doc, "https://") == NULL);
	CHECK(strstr(doc, "src=") == NULL);
	CHECK(strstr(doc, "<script") == NULL);
	CHECK(strstr(doc, "<link") == NULL);
	CHECK(strstr(doc, "url(") == NULL);
	CHECK(strstr(doc, "a&lt;b&gt;&amp;&#39;&quot;c\xef\xbf\xbd.png") != NULL);
	CHECK(strstr(doc, "a<b>") == NULL);
	CHECK(strstr(doc, "Generated: first run") != NULL);
	CHECK(strstr(doc, "</html>\n") != NULL);
}

/* Same bytes except the one line holding the generated text. */
static void check_same_but_generated(const char *x, const char *y)
{
	int diffs = 0;
	while (*x || *y) {
		const char *xe = strchr(x, '\n'), *ye = strchr(y, '\n');
		size_t xl = xe ? (size_t)(xe - x) : strlen(x), yl = ye ? (size_t)(ye - y) : strlen(y);
		if (xl != yl || memcmp(x, y, xl) != 0) {
			diffs++;
			CHECK(memmem(x, xl, "first run", 9) != NULL);
			CHECK(memmem(y, yl, "second run", 10) != NULL);
		}
		x += xl + (xe ? 1 : 0);
		y += yl + (ye ? 1 : 0);
	}
	CHECK(diffs == 1);
}

static const char *const jsonl_keys[] = {
	"exhibit", "path", "volume", "state", "in_container", "size", "type", "kind", "valid",
	"md5", "sha1", "sha256", "category", "scheme", "match", "known_good", "mtime",
	"atime", "ctime", "crtime", "offset", "note", "error",
};

static void check_jsonl(struct ks_store *st)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	struct ks_err err = {0};
	CHECK(ks_report_files_jsonl(st, f, &err) == KS_OK);
	fclose(f);
	int lines = 0;
	for (char *line = buf, *end; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		CHECK(end != NULL); /* every line is terminated */
		if (!end)
			break;
		*end = '\0';
		lines++;
		char eb[128];
		yajl_val v = yajl_tree_parse(line, eb, sizeof eb);
		CHECK(v && YAJL_IS_OBJECT(v));
		if (!v) {
			fprintf(stderr, "line %d: %s\n%s\n", lines, eb, line);
			continue;
		}
		for (size_t k = 0; k < sizeof jsonl_keys / sizeof jsonl_keys[0]; k++) {
			const char *path[] = {jsonl_keys[k], NULL};
			if (!yajl_tree_get(v, path, yajl_t_any)) {
				CHECK(!"key missing");
				fprintf(stderr, "line %d lacks %s\n", lines, jsonl_keys[k]);
			}
		}
		yajl_tree_free(v);
	}
	CHECK(lines == 14);
	free(buf);
}

static void check_escaping(void)
{
	struct ks_buf b = {0};
	ks_json_add_string(&b, "a\"b\\c\x01\n\x7f\xff\xc3\xa9\xe2\x80\xba");
	CHECK_STR((char *)b.data,
		  "\"a\\\"b\\\\c\\u0001\\u000a\x7f\xef\xbf\xbd\xc3\xa9\xe2\x80\xba\"");
	ks_buf_reset(&b);
	/* overlong '/', a surrogate, a truncated sequence: each bad byte becomes U+FFFD */
	ks_json_add_string(&b, "\xc0\xaf|\xed\xa0\x80|\xe2\x80");
	CHECK_STR((char *)b.data, "\"\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
				  "\xef\xbf\xbd\xef\xbf\xbd\"");
	ks_buf_reset(&b);
	ks_json_add_string(&b, "\xf4\x90\x80\x80"); /* past U+10FFFF */
	CHECK(b.len == 2 + 4 * 3);
	ks_buf_reset(&b);
	ks_json_add_string(&b, "\xf0\x9f\x90\xa6"); /* a valid 4-byte sequence stays */
	CHECK_STR((char *)b.data, "\"\xf0\x9f\x90\xa6\"");
	ks_buf_reset(&b);
	ks_csv_add(&b, "plain", 1);
	ks_buf_adds(&b, "|");
	ks_csv_add(&b, "a,b", 0);
	ks_buf_adds(&b, "|");
	ks_csv_add(&b, "say \"hi\"\r\n", 0);
	ks_buf_adds(&b, "|");
	ks_csv_add(&b, "-2+3", 1);
	ks_buf_adds(&b, "|");
	ks_csv_add(&b, "-2", 0);
	CHECK_STR((char *)b.data, "plain|\"a,b\"|\"say \"\"hi\"\"\r\n\"|'-2+3|-2");
	ks_buf_reset(&b);
	ks_html_add(&b, "<a href=\"x\">&'\x01");
	CHECK_STR((char *)b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\xef\xbf\xbd");
	ks_buf_release(&b);
}

int main(void)
{
	check_escaping();
	const char *tmp = ktest_tmpdir();
	if (!tmp) {
		fprintf(stderr, "no temporary folder\n");
		return 1;
	}
	char dir[512];
	snprintf(dir, sizeof dir, "%s/case", tmp);
	if (build_case(dir) != 0)
		return ktest_done() | 1;
	struct ks_store *st = NULL;
	struct ks_err err = {0};
	CHECK(ks_store_open(dir, 1, &st, &err) == KS_OK);
	if (!st)
		return ktest_done() | 1;

	static const char *const formats[] = {"json", "csv", "html"};
	for (int i = 0; i < 3; i++) {
		size_t l1, l2;
		char *one = report(st, formats[i], "first run", &l1);
		char *two = report(st, formats[i], "second run", &l2);
		if (one && two) {
			CHECK(strlen(one) == l1);
			check_same_but_generated(one, two);
			if (i == 0)
				check_json(one);
			else if (i == 1)
				check_csv(one, l1);
			else
				check_html(one);
		}
		free(one);
		free(two);
	}
	FILE *sink = fopen("/dev/null", "w");
	CHECK(ks_report_write(st, "pdf", sink, NULL, &err) == KS_E_USAGE);
	fclose(sink);
	check_jsonl(st);
	ks_store_close(st);
	return ktest_done();
}
