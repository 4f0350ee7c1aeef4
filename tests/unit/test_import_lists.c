/* Text and database importers: md5/sha1/sha256 lists (md5sum style, bare, comments,
 * CRLF, bad lines), hashdeep audit files, NSRL RDSv3 SQLite (built here with the
 * sqlite3 API, full and minimal flavours) and legacy NSRLFile.txt; probing picks the
 * right importer and refuses ties; ks_hash_entry_set_hex. Hashes are invented. */
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/index/index_int.h"
#include "index_testutil.h"

static const char *dir;

#define M1 "d41d8cd98f00b204e9800998ecf8427e"
#define M2 "9E107D9D372BB6826BD81D3542A419D6"
#define M2L "9e107d9d372bb6826bd81d3542a419d6"
#define S1 "da39a3ee5e6b4b0d3255bfef95601890afd80709"
#define S2 "2FD4E1C67A2D28FCED849EE1BB76E7391B93EB12"
#define S2L "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
#define H1 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H2 "D7A8FBB307D7809469CA9ABCB0082E4F8D5651E46D3CDB762D02D0BF37C9E592"
#define H2L "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"

static void test_plain(void)
{
	const char *list = "\xEF\xBB\xBF# invented test list\n"
			   "\n" M1 "  empty file.txt\r\n"
			   "  " M2 " *binary name.bin\n"
			   "# comment\n"
			   "00000000000000000000000000000003\n"
			   "\\00000000000000000000000000000004  two\\nlines\\\\x\n"
			   "00000000000000000000000000000005\tTabbed\n";
	const char *p = tu_write(dir, "list.md5", list, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	struct ks_import_opts o = {.scheme = "uk", .category = "1"};
	CHECK_STR(tu_probe(p), "md5");
	CHECK(tu_run("md5", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 5);
	if (c.n == 5) {
		CHECK_STR(c.v[0].md5, M1);
		CHECK_STR(c.v[0].name, "empty file.txt");
		CHECK_STR(c.v[0].scheme, "uk");
		CHECK_STR(c.v[0].category, "A");
		CHECK(c.v[0].has == KS_HAS_MD5);
		CHECK(c.v[0].size == -1);
		CHECK_STR(c.v[1].md5, M2L);
		CHECK_STR(c.v[1].name, "binary name.bin");
		CHECK_STR(c.v[2].name, "(null)");
		CHECK_STR(c.v[3].name, "two\nlines\\x");
		CHECK_STR(c.v[4].name, "Tabbed");
	}
	tu_reset(&c);

	/* no category given: uncategorised, default numbering */
	CHECK(tu_run("md5", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 5 && strcmp(c.v[0].category, "(null)") == 0);
	tu_reset(&c);

	o.category = "Z";
	CHECK(tu_run("md5", p, &o, &c, &err) == KS_E_USAGE);
	CHECK_HAS(err.msg, "'Z'");
	tu_reset(&c);

	/* the wrong digest length is a bad line, named by number */
	p = tu_write(dir, "bad.md5", M1 "  a\n\n# x\n" S1 "  b\n", -1);
	o.category = "C";
	CHECK(tu_run("md5", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 4");
	CHECK(c.n == 1);
	tu_reset(&c);
	p = tu_write(dir, "bad2.md5", M1 "x  a\n", -1);
	CHECK(tu_run("md5", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 1");
	tu_reset(&c);
	p = tu_write(dir, "bad3.md5", "zz" M1 "\n", -1);
	CHECK(tu_run("md5", p, &o, &c, &err) == KS_E_FORMAT);
	tu_reset(&c);

	/* a line without end beyond the limit */
	struct ks_buf big = {0};
	ks_buf_adds(&big, M1 "  ");
	for (int i = 0; i < KS_IMPORT_LINE_MAX + 10; i++)
		ks_buf_add(&big, "n", 1);
	p = tu_write(dir, "long.md5", (const char *)big.data, (long)big.len);
	CHECK(tu_run("md5", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "longer");
	ks_buf_release(&big);
	tu_reset(&c);

	p = tu_write(dir, "list.sha1", S1 "  a\n" S2 "\n", -1);
	CHECK_STR(tu_probe(p), "sha1");
	CHECK(tu_run("sha1", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 2 && c.v[1].has == KS_HAS_SHA1 && strcmp(c.v[1].sha1, S2L) == 0);
	tu_reset(&c);
	CHECK(tu_run("md5", p, &o, &c, &err) == KS_E_FORMAT);
	tu_reset(&c);

	p = tu_write(dir, "list.sha256", "# sha256sum\n" H1 "  a\n" H2 " *b\n", -1);
	CHECK_STR(tu_probe(p), "sha256");
	o.scheme = "vics-us";
	o.category = "cam";
	CHECK(tu_run("sha256", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 2);
	if (c.n == 2) {
		CHECK_STR(c.v[1].sha256, H2L);
		CHECK_STR(c.v[1].scheme, "vics-us");
		CHECK_STR(c.v[1].category, "1");
	}
	tu_reset(&c);
}

static void test_hashdeep(void)
{
	const char *hd = "%%%% HASHDEEP-1.0\n"
			 "%%%% size,md5,sha256,filename\n"
			 "## Invoked from: /home/tester\n"
			 "## $ hashdeep -r pics\n"
			 "##\n"
			 "0," M1 "," H1 ",/home/tester/pics/empty, with comma.txt\n"
			 "43," M2 "," H2 ",/home/tester/pics/fox.txt\r\n";
	const char *p = tu_write(dir, "audit.hashdeep", hd, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	struct ks_import_opts o = {.category = "B"};
	CHECK_STR(tu_probe(p), "hashdeep");
	CHECK(tu_run("hashdeep", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 2);
	if (c.n == 2) {
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA256));
		CHECK_STR(c.v[0].md5, M1);
		CHECK_STR(c.v[0].sha256, H1);
		CHECK_STR(c.v[0].name, "/home/tester/pics/empty, with comma.txt");
		CHECK(c.v[0].size == 0);
		CHECK(c.v[1].size == 43);
		CHECK_STR(c.v[1].md5, M2L);
		CHECK_STR(c.v[1].category, "B");
		CHECK_STR(c.v[1].scheme, "uk");
	}
	tu_reset(&c);

	/* columns we do not know are skipped */
	hd = "%%%% HASHDEEP-1.0\n"
	     "%%%% size,md5,sha1,tiger,whirlpool,filename\n"
	     "5," M1 "," S2 ",0123abcd,4567ef,f.bin\n";
	p = tu_write(dir, "audit2.hashdeep", hd, -1);
	CHECK(tu_run("hashdeep", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 1 && c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1) &&
	      strcmp(c.v[0].sha1, S2L) == 0 && strcmp(c.v[0].name, "f.bin") == 0);
	tu_reset(&c);

	p = tu_write(dir, "nohead.hashdeep", "5," M1 ",f\n", -1);
	CHECK(tu_run("hashdeep", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 1");
	tu_reset(&c);
	p = tu_write(dir, "nocols.hashdeep", "%%%% HASHDEEP-1.0\n5," M1 ",f\n", -1);
	CHECK(tu_run("hashdeep", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 2");
	tu_reset(&c);
	p = tu_write(dir, "short.hashdeep",
		     "%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n5," M1 "\n", -1);
	CHECK(tu_run("hashdeep", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 3");
	tu_reset(&c);
	p = tu_write(dir, "badhex.hashdeep",
		     "%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n\n5," M1 ",a\n5,nothex,b\n", -1);
	CHECK(tu_run("hashdeep", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 5");
	CHECK(c.n == 1);
	tu_reset(&c);
	p = tu_write(dir, "badcols.hashdeep", "%%%% HASHDEEP-1.0\n%%%% size,tiger,filename\n", -1);
	CHECK(tu_run("hashdeep", p, &o, &c, &err) == KS_E_FORMAT);
	tu_reset(&c);
}

static void test_nsrl_legacy(void)
{
	const char *txt = "\"SHA-1\",\"MD5\",\"CRC32\",\"FileName\",\"FileSize\",\"ProductCode\","
			  "\"OpSystemCode\",\"SpecialCode\"\r\n"
			  "\"" S1 "\",\"" M1 "\",\"00000000\",\"empty.txt\",0,1234,\"358\",\"\"\r\n"
			  "\"" S2 "\",\"" M2
			  "\",\"414FA339\",\"say \"\"hi\"\", world.txt\",43,1234,\"358\",\"\"\r\n";
	const char *p = tu_write(dir, "NSRLFile.txt", txt, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	CHECK_STR(tu_probe(p), "nsrl");
	CHECK(tu_run("nsrl", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 2);
	if (c.n == 2) {
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1));
		CHECK_STR(c.v[0].sha1, S1);
		CHECK_STR(c.v[0].md5, M1);
		CHECK_STR(c.v[0].category, "(null)");
		CHECK_STR(c.v[0].name, "empty.txt");
		CHECK(c.v[0].size == 0);
		CHECK_STR(c.v[1].name, "say \"hi\", world.txt");
		CHECK_STR(c.v[1].sha1, S2L);
		CHECK(c.v[1].size == 43);
	}
	tu_reset(&c);

	/* the older column order TSK also knows */
	txt = "\"SHA-1\",\"FileName\",\"FileSize\",\"ProductCode\",\"OpSystemCode\",\"MD4\","
	      "\"MD5\",\"CRC32\",\"SpecialCode\"\n"
	      "\"" S2 "\",\"fox.txt\",43,1,\"358\",\"" M1 "\",\"" M2 "\",\"0\",\"\"\n";
	p = tu_write(dir, "NSRLFile-old.txt", txt, -1);
	CHECK_STR(tu_probe(p), "nsrl");
	CHECK(tu_run("nsrl", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 1 && strcmp(c.v[0].md5, M2L) == 0 && strcmp(c.v[0].name, "fox.txt") == 0);
	tu_reset(&c);

	txt = "\"SHA-1\",\"MD5\",\"CRC32\",\"FileName\",\"FileSize\"\n"
	      "\"" S1 "\",\"" M1 "\",\"0\",\"a\",1\n"
	      "\"" S1 "\",\"" M1 "\",\"0\n";
	p = tu_write(dir, "NSRLbad.txt", txt, -1);
	CHECK(tu_run("nsrl", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 3");
	tu_reset(&c);
	txt = "\"SHA-1\",\"MD5\",\"CRC32\",\"FileName\",\"FileSize\"\n"
	      "\"" S1 "\",\"" M1 "\",\"0\",\"a\",1\n"
	      "\"nothex\",\"" M1 "\",\"0\",\"b\",1\n";
	p = tu_write(dir, "NSRLbad2.txt", txt, -1);
	CHECK(tu_run("nsrl", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 3");
	CHECK(c.n == 1);
	tu_reset(&c);
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "sqlite: %s\n", msg ? msg : "?");
	sqlite3_free(msg);
	return rc;
}

static int make_db(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	int rc = exec_sql(db, sql);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void test_nsrl_rdsv3(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/RDS modern #1.db", dir); /* URI-hostile name */
	const char *schema =
	    "CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR "
	    "NOT NULL, crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER "
	    "NOT NULL, package_id INTEGER NOT NULL);"
	    "CREATE TABLE PKG (package_id INTEGER NOT NULL, name VARCHAR NOT NULL, version "
	    "VARCHAR NOT NULL, operating_system_id INTEGER NOT NULL, manufacturer_id INTEGER NOT "
	    "NULL, language VARCHAR NOT NULL, application_type VARCHAR NOT NULL);"
	    "CREATE TABLE OS (operating_system_id INTEGER, name VARCHAR, version VARCHAR, "
	    "manufacturer_id INTEGER);"
	    "CREATE TABLE MFG (manufacturer_id INTEGER, name VARCHAR);"
	    "CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR, build_date TIMESTAMP, "
	    "release_date TIMESTAMP, description VARCHAR);"
	    "CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5, crc32 FROM FILE;"
	    "INSERT INTO FILE VALUES ('" H1 "', '" S1 "', '" M1 "', '00000000', 'empty.txt', 0, 1);"
	    "INSERT INTO FILE VALUES ('" H2 "', '" S2 "', '" M2 "', '414FA339', 'fox.txt', 43, 1);"
	    "INSERT INTO FILE VALUES ('" H2 "', '" S2 "', '" M2 "', '414FA339', 'fox.txt', 43, 2);"
	    "INSERT INTO PKG VALUES (1, 'Test package', '1.0', 1, 1, 'English', 'Test');";
	CHECK(make_db(path, schema) == 0);
	struct stat before, after;
	CHECK(stat(path, &before) == 0);
	size_t len0 = 0;
	unsigned char *bytes0 = ktest_read_file(path, &len0);

	struct coll c = {0};
	struct ks_err err = {0};
	CHECK_STR(tu_probe(path), "nsrl");
	CHECK(tu_run("nsrl", path, NULL, &c, &err) == KS_OK);
	if (err.msg[0])
		fprintf(stderr, "rdsv3: %s\n", err.msg);
	CHECK(c.n == 3);
	if (c.n == 3) {
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1 | KS_HAS_SHA256));
		CHECK_STR(c.v[0].sha256, H1);
		CHECK_STR(c.v[0].name, "empty.txt");
		CHECK(c.v[0].size == 0);
		CHECK_STR(c.v[1].sha256, H2L);
		CHECK_STR(c.v[1].md5, M2L);
		CHECK(c.v[1].size == 43);
		CHECK_STR(c.v[1].category, "(null)");
	}
	tu_reset(&c);

	/* read-only: the file is byte-identical and no journal or WAL appeared */
	size_t len1 = 0;
	unsigned char *bytes1 = ktest_read_file(path, &len1);
	CHECK(stat(path, &after) == 0);
	CHECK(bytes0 && bytes1 && len0 == len1 && memcmp(bytes0, bytes1, len0) == 0);
	CHECK(before.st_mtime == after.st_mtime);
	char side[600];
	snprintf(side, sizeof side, "%s-wal", path);
	CHECK(access(side, F_OK) != 0);
	snprintf(side, sizeof side, "%s-journal", path);
	CHECK(access(side, F_OK) != 0);
	free(bytes0);
	free(bytes1);

	/* minimal flavour: fewer columns, found through PRAGMA table_info */
	snprintf(path, sizeof path, "%s/minimal.db", dir);
	CHECK(make_db(path, "CREATE TABLE FILE (sha1 VARCHAR, md5 VARCHAR, file_size INTEGER);"
			    "INSERT INTO FILE VALUES ('" S2 "', NULL, 43);"
			    "INSERT INTO FILE VALUES (NULL, NULL, 1);"
			    "INSERT INTO FILE VALUES ('', '" M1 "', NULL);") == 0);
	CHECK_STR(tu_probe(path), "nsrl");
	CHECK(tu_run("nsrl", path, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 2);
	if (c.n == 2) {
		CHECK(c.v[0].has == KS_HAS_SHA1);
		CHECK(c.v[0].size == 43);
		CHECK_STR(c.v[0].name, "(null)");
		CHECK(c.v[1].has == KS_HAS_MD5);
		CHECK(c.v[1].size == -1);
	}
	tu_reset(&c);

	snprintf(path, sizeof path, "%s/other.db", dir);
	CHECK(make_db(path, "CREATE TABLE media (x INTEGER);") == 0);
	CHECK(tu_run("nsrl", path, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "FILE");
	tu_reset(&c);

	snprintf(path, sizeof path, "%s/badhex.db", dir);
	CHECK(make_db(path, "CREATE TABLE FILE (sha1 VARCHAR, md5 VARCHAR);"
			    "INSERT INTO FILE VALUES ('" S1 "', '" M1 "');"
			    "INSERT INTO FILE VALUES ('zz', '" M1 "');") == 0);
	CHECK(tu_run("nsrl", path, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "row 2");
	tu_reset(&c);

	/* a damaged database is a format error, not a crash */
	snprintf(path, sizeof path, "%s/damaged.db", dir);
	char junk[4096];
	memset(junk, 0xA5, sizeof junk);
	memcpy(junk, "SQLite format 3", 16);
	tu_write(dir, "damaged.db", junk, sizeof junk);
	int rc = tu_run("nsrl", path, NULL, &c, &err);
	CHECK(rc == KS_E_FORMAT || rc == KS_E_ENV);
	tu_reset(&c);
}

static int probe_42(const uint8_t *h, size_t n, const char *p)
{
	return 42;
}
static int probe_0(const uint8_t *h, size_t n, const char *p)
{
	return 0;
}

static void test_probe_and_find(void)
{
	struct ks_err err = {0};
	const char *p = tu_write(dir, "prose.txt", "Just some words.\n", -1);
	CHECK(ks_importer_find(p, NULL, &err) == NULL);
	CHECK(err.status == KS_E_UNSUPPORTED);
	CHECK_HAS(err.msg, "--format");

	CHECK(ks_importer_find(p, "xml", &err) == NULL);
	CHECK(err.status == KS_E_USAGE);
	CHECK_HAS(err.msg, "vics");

	ks_err_clear(&err);
	CHECK(ks_importer_find("/nonexistent/file", NULL, &err) == NULL);
	CHECK(err.status == KS_E_ENV);

	/* ties are refused with both names */
	const struct ks_importer_ops a = {"alpha", probe_42, NULL, NULL},
				     b = {"beta", probe_42, NULL, NULL},
				     z = {"zero", probe_0, NULL, NULL};
	const struct ks_importer_ops *tab[] = {&z, &a, &b};
	CHECK(ks_importer_pick(tab, 3, (const uint8_t *)"x", 1, "x", &err) == NULL);
	CHECK(err.status == KS_E_FORMAT);
	CHECK_HAS(err.msg, "alpha");
	CHECK_HAS(err.msg, "beta");
	CHECK(ks_importer_pick(tab, 2, (const uint8_t *)"x", 1, "x", &err) == &a);
	CHECK(ks_importer_pick(tab, 1, (const uint8_t *)"x", 1, "x", &err) == NULL);

	/* ks_import_file names the file and format in its errors */
	p = tu_write(dir, "bad-prefix.md5", M1 "\nnope\n", -1);
	struct coll c = {0};
	CHECK(ks_import_file(p, NULL, tu_collect, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "bad-prefix.md5");
	CHECK_HAS(err.msg, "(md5)");
	CHECK_HAS(err.msg, "line 2");
	tu_reset(&c);
	struct ks_import_opts o = {.format = "sha1"};
	CHECK(ks_import_file(p, &o, tu_collect, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "(sha1)");
	tu_reset(&c);
}

static void test_set_hex(void)
{
	struct ks_hash_entry e = {0};
	CHECK(ks_hash_entry_set_hex(&e, " " M2 "\n", strlen(M2) + 2) == 0);
	CHECK(e.has == KS_HAS_MD5 && e.md5[0] == 0x9e && e.md5[15] == 0xd6);
	CHECK(ks_hash_entry_set_hex(&e, S2, strlen(S2)) == 0);
	CHECK(e.has == (KS_HAS_MD5 | KS_HAS_SHA1) && e.sha1[0] == 0x2f);
	CHECK(ks_hash_entry_set_hex(&e, H1, strlen(H1)) == 0);
	CHECK(e.has == 7 && e.sha256[31] == 0x55);
	struct ks_hash_entry f = {0};
	CHECK(ks_hash_entry_set_hex(&f, "abc", 3) == -1);
	CHECK(ks_hash_entry_set_hex(&f, "g41d8cd98f00b204e9800998ecf8427e", 32) == -1);
	CHECK(ks_hash_entry_set_hex(&f, M1 "00", 34) == -1);
	CHECK(ks_hash_entry_set_hex(&f, "", 0) == -1);
	CHECK(f.has == 0);
	/* length is what counts, not a NUL */
	CHECK(ks_hash_entry_set_hex(&f, M1 "trailing", 32) == 0 && f.has == KS_HAS_MD5);
}

int main(void)
{
	dir = ktest_tmpdir();
	if (!dir) {
		fprintf(stderr, "no temporary directory\n");
		return 1;
	}
	test_plain();
	test_hashdeep();
	test_nsrl_legacy();
	test_nsrl_rdsv3();
	test_probe_and_find();
	test_set_hex();
	return ktest_done();
}
