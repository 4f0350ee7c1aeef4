/* VICS JSON importer: versions 1.x and 2.0, hash-set and case-export shapes, the quirks
 * of real exports (BOM, upper-case hex, string booleans, /Date()/, AlternativeHashes,
 * nested unknown keys, null categories, DHS numbering), malformed files, and that a
 * large file streams in bounded memory. All hashes and categories are invented. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "index_testutil.h"

static const char *dir;

#define MD5_A "ABCDEF0123456789ABCDEF0123456789"
#define MD5_B "9e107d9d372bb6826bd81d3542a419d6"
#define MD5_C "00000000000000000000000000000001"
#define MD5_F "ffffffffffffffffffffffffffffff00" /* a MediaFiles MD5: must not be used */
#define SHA1_A "2FD4E1C67A2D28FCED849EE1BB76E7391B93EB12"
#define SHA256_A "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

static void lower(char *dst, const char *src)
{
	for (; *src; src++)
		*dst++ = (char)(*src >= 'A' && *src <= 'F' ? *src + 32 : *src);
	*dst = '\0';
}

static void test_v2_hashset(void)
{
	const char *json =
	    "\xEF\xBB\xBF  {\n"
	    "  \"@odata.context\": \"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/"
	    "2.0.xml/US/$metadata#Media\",\n"
	    "  \"value\": [\n"
	    "    {\"MediaID\": 1, \"Category\": 1, \"MD5\": \"" MD5_A "\", \"SHA1\": \"" SHA1_A
	    "\",\n"
	    "     \"MediaSize\": 2835, \"IsDistributed\": \"true\", \"Series\": \"Invented "
	    "series\",\n"
	    "     \"PhotoDNA\": \"QUJDRA==\", \"DateUpdated\": \"2023-06-07T02:31:49.8300Z\",\n"
	    "     \"Exifs\": [{\"k\": [1, 2, {\"deep\": null, \"MD5\": \"" MD5_F "\"}]}],\n"
	    "     \"Extra\": {\"a\": {\"b\": [true, false, \"x\"]}, \"Category\": 9}},\n"
	    "    {\"MediaID\": 2, \"Category\": \"2\", \"MD5\": \"" MD5_B
	    "\", \"MediaSize\": \"100\",\n"
	    "     \"IsDistributed\": false, \"DateUpdated\": \"/Date(1686105109830)/\"},\n"
	    "    {\"MediaID\": 3, \"Category\": null, \"SHA256\": \"" SHA256_A "\",\n"
	    "     \"IsDistributed\": \"False\", \"IsPrecategorized\": \"true\"},\n"
	    "    {\"MediaID\": 4, \"PhotoDNA\": \"b25seQ==\"},\n"
	    "    {\"MediaID\": 5, \"MD5\": \"" MD5_C "\", \"SHA1\": \"\", \"SHA256\": null}\n"
	    "  ]\n"
	    "}\n";
	const char *p = tu_write(dir, "v2set.json", json, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	CHECK_STR(tu_probe(p), "vics");
	CHECK(tu_run("vics", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 4);
	if (c.n == 4) {
		char lo[80];
		lower(lo, MD5_A);
		CHECK_STR(c.v[0].md5, lo);
		lower(lo, SHA1_A);
		CHECK_STR(c.v[0].sha1, lo);
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1));
		CHECK_STR(c.v[0].scheme, "vics-us");
		CHECK_STR(c.v[0].category, "1");
		CHECK(c.v[0].size == 2835);
		CHECK(c.v[0].distributed == 1);
		CHECK_STR(c.v[0].series, "Invented series");
		CHECK_STR(c.v[0].photodna, "QUJDRA==");
		CHECK_STR(c.v[0].name, "(null)");

		CHECK_STR(c.v[1].md5, MD5_B);
		CHECK_STR(c.v[1].category, "2");
		CHECK(c.v[1].size == 100);
		CHECK(c.v[1].distributed == 0);
		CHECK_STR(c.v[1].series, "(null)");

		lower(lo, SHA256_A);
		CHECK_STR(c.v[2].sha256, lo);
		CHECK(c.v[2].has == KS_HAS_SHA256);
		CHECK_STR(c.v[2].category, "(null)");
		CHECK_STR(c.v[2].scheme, "vics-us");
		CHECK(c.v[2].distributed == 0);
		CHECK(c.v[2].size == -1);

		CHECK(c.v[3].has == KS_HAS_MD5);
		CHECK_STR(c.v[3].category, "(null)");
		CHECK(c.v[3].distributed == -1);
	}
	tu_reset(&c);

	/* the same file end to end through the registry */
	CHECK(ks_import_file(p, NULL, tu_collect, &c, &err) == KS_OK);
	CHECK(c.n == 4);
	tu_reset(&c);
}

static const char *v1_set =
    "{\"odata.metadata\":\"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media\","
    "\"value\":[\n"
    "{\"odata.id\":\"http://x/Media(1)\",\"Category\":5,\"MD5\":\"" MD5_A "\",\"MediaSize\":10,"
    "\"IsDistributed\":\"TRUE\","
    "\"AlternativeHashes@odata.navigationLinkUrl\":\"Media(1)/AlternativeHashes\","
    "\"AlternativeHashes\":[{\"HashName\":\"SHA1\",\"HashValue\":\"" SHA1_A "\",\"MD5\":\"" MD5_A
    "\"},{\"HashName\":\"PhotoDNA\",\"HashValue\":\"UEhPVE8=\"},"
    "{\"HashValue\":\"" SHA256_A "\",\"HashName\":\"SHA256\"},"
    "{\"HashName\":\"Tiger\",\"HashValue\":\"not-hex-but-ignored\"}],"
    "\"Exifs\":[{\"PropertyName\":\"Make\",\"PropertyValue\":\"Bench camera\"}]},\n"
    "{\"Category\":0,\"MD5\":\"" MD5_B "\"},\n"
    "{\"Category\":\"1\",\"MD5\":\"" MD5_C "\",\"AlternativeHashes\":[]}\n"
    "]}";

static void test_v1_hashset_dhs(void)
{
	const char *p = tu_write(dir, "v1set.json", v1_set, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	struct ks_import_opts o = {.scheme = "dhs"};
	CHECK_STR(tu_probe(p), "vics");
	CHECK(tu_run("vics", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 3);
	if (c.n == 3) {
		char lo[80];
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1 | KS_HAS_SHA256));
		lower(lo, SHA1_A);
		CHECK_STR(c.v[0].sha1, lo);
		lower(lo, SHA256_A);
		CHECK_STR(c.v[0].sha256, lo);
		CHECK_STR(c.v[0].photodna, "UEhPVE8=");
		CHECK_STR(c.v[0].scheme, "vics-us");
		CHECK_STR(c.v[0].category, "0"); /* DHS 5 = non-pertinent */
		CHECK(c.v[0].distributed == 1);
		CHECK_STR(c.v[1].category, "(null)"); /* DHS 0 = uncategorised */
		CHECK_STR(c.v[1].scheme, "vics-us");
		CHECK_STR(c.v[2].category, "1");
	}
	tu_reset(&c);

	/* Under the current US numbering 5 is not a category: an error naming the entry. */
	o.scheme = "vics-us";
	CHECK(tu_run("vics", p, &o, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "value[0]");
	CHECK_HAS(err.msg, "\"5\"");
	CHECK(c.n == 0);
	tu_reset(&c);

	o.scheme = "martian";
	CHECK(tu_run("vics", p, &o, &c, &err) == KS_E_USAGE);
	CHECK_HAS(err.msg, "martian");
	tu_reset(&c);
}

static void test_v2_cases(void)
{
	const char *json =
	    "{\"@odata.context\": \"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/"
	    "UK/$metadata#Cases\",\n"
	    " \"value\": [\n"
	    "  {\"CaseID\": \"{00000000-0000-0000-0000-000000000001}\", \"CaseNumber\": "
	    "\"TEST-1\",\n"
	    "   \"SourceApplicationName\": \"kestrel-test\", \"Media\": [\n"
	    "    {\"MediaID\": 1, \"Category\": 1, \"MD5\": \"" MD5_A "\", \"SHA1\": \"" SHA1_A
	    "\",\n"
	    "     \"RelativeFilePath\": \"Pictures\\\\holiday\\\\rose-rel.jpg\",\n"
	    "     \"IsDistributed\": \"true\", \"VictimIdentified\": \"true\",\n"
	    "     \"MediaFiles\": [{\"MD5\": \"" MD5_F "\", \"FileName\": \"rose.jpg\",\n"
	    "        \"FilePath\": \"C:\\\\x\", \"Created\": \"/Date(1600000000000)/\",\n"
	    "        \"Deleted\": \"true\", \"PhysicalLocation\": 123456}],\n"
	    "     \"MediaMetadata\": [{\"PropertyName\": \"Width\", \"PropertyValue\": \"70\"}]},\n"
	    "    {\"MediaID\": 2, \"Category\": 4, \"MD5\": \"" MD5_B "\",\n"
	    "     \"MediaFiles\": [{\"FileName\": \"first.png\"}, {\"FileName\": "
	    "\"second.png\"}]},\n"
	    "    {\"MediaID\": 3, \"Category\": 0, \"MD5\": \"" MD5_C "\", \"MediaFiles\":\n"
	    "     [{\"FileName\": \"other.gif\"}], \"FileName\": \"own-name.gif\"}\n"
	    "  ]},\n"
	    "  {\"CaseID\": \"{00000000-0000-0000-0000-000000000002}\", \"CaseNumber\": "
	    "\"TEST-2\"},\n"
	    "  {\"CaseID\": \"{3}\", \"Media\": [{\"SHA256\": \"" SHA256_A
	    "\", \"Category\": \"3\",\n"
	    "     \"RelativeFilePath\": \"a/b/c.jpg\"}]}\n"
	    " ]\n"
	    "}";
	const char *p = tu_write(dir, "v2cases.json", json, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	CHECK_STR(tu_probe(p), "vics");
	CHECK(tu_run("vics", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 4);
	if (c.n == 4) {
		char lo[80];
		lower(lo, MD5_A);
		CHECK_STR(c.v[0].md5, lo); /* the media's MD5, not its file's */
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1));
		CHECK_STR(c.v[0].name, "rose.jpg");
		CHECK_STR(c.v[0].category, "1");
		CHECK(c.v[0].distributed == 1);
		CHECK_STR(c.v[1].name, "first.png");
		CHECK_STR(c.v[1].category, "4");
		CHECK_STR(c.v[2].name, "own-name.gif");
		CHECK_STR(c.v[2].category, "0");
		CHECK_STR(c.v[3].name, "c.jpg");
		CHECK(c.v[3].has == KS_HAS_SHA256);
		CHECK_STR(c.v[3].category, "3");
	}
	for (size_t i = 0; i < c.n; i++)
		CHECK(strcmp(c.v[i].md5, MD5_F) != 0);
	tu_reset(&c);

	/* An unmappable category deep in a case names value[i].Media[j]. */
	const char *bad =
	    "{\"@odata.context\": \"x/2.0.xml/US/$metadata#Cases\", \"value\": [\n"
	    " {\"CaseID\": \"1\", \"Media\": [{\"MD5\": \"" MD5_A "\", \"Category\": 1},\n"
	    "   {\"MD5\": \"" MD5_B "\", \"Category\": 7}]}]}";
	p = tu_write(dir, "badcat.json", bad, -1);
	CHECK(tu_run("vics", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "value[0].Media[1]");
	CHECK_HAS(err.msg, "\"7\"");
	CHECK(c.n == 1);
	tu_reset(&c);
}

static void test_v1_cases_and_bare(void)
{
	const char *json =
	    "{\"odata.metadata\":\"http://github.com/ICMEC/ProjectVic/DataModels/1.2.xml#Cases\","
	    "\"value\":[{\"CaseNumber\":\"T\",\"Media\":[{\"Category\":\"2\",\"MD5\":\"" MD5_B "\","
	    "\"AlternativeHashes\":[{\"HashName\":\"SHA1\",\"HashValue\":\"" SHA1_A "\"}],"
	    "\"MediaFiles\":[{\"FileName\":\"f.bmp\",\"MD5\":\"" MD5_F "\"}]}]}]}";
	const char *p = tu_write(dir, "v1cases.json", json, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	CHECK(tu_run("vics", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 1);
	if (c.n == 1) {
		CHECK_STR(c.v[0].md5, MD5_B);
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1));
		CHECK_STR(c.v[0].name, "f.bmp");
		CHECK_STR(c.v[0].category, "2");
	}
	tu_reset(&c);

	/* No OData header at all: the shape is told from the content. */
	p = tu_write(dir, "bare.json", "{\"value\":[{\"MD5\":\"" MD5_C "\"},7,\"x\",[1]]}", -1);
	CHECK_STR(tu_probe(p), "vics");
	CHECK(tu_run("vics", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 1);
	tu_reset(&c);

	/* The receiver can stop the import. */
	p = tu_write(dir, "v1set2.json", v1_set, -1);
	struct ks_import_opts o = {.scheme = "dhs"};
	c.stop_after = 2;
	c.stop_status = KS_E_ENV;
	CHECK(tu_run("vics", p, &o, &c, &err) == KS_E_ENV);
	CHECK(c.n == 2);
	tu_reset(&c);
}

/* Offset that the message names after "byte ". */
static long named_offset(const char *msg)
{
	const char *b = strstr(msg, "byte ");
	return b ? strtol(b + 5, NULL, 10) : -1;
}

static void expect_bad(const char *name, const char *json, long len, int status, const char *needle)
{
	const char *p = tu_write(dir, name, json, len);
	struct coll c = {0};
	struct ks_err err = {0};
	int rc = tu_run("vics", p, NULL, &c, &err);
	if (rc != status)
		fprintf(stderr, "%s: status %d, expected %d (%s)\n", name, rc, status, err.msg);
	CHECK(rc == status);
	CHECK_HAS(err.msg, needle);
	printf("%-14s -> %s\n", name, err.msg);
	tu_reset(&c);
}

static void test_malformed(void)
{
	const char *good = "{\"@odata.context\":\"x#Media\",\"value\":[{\"MD5\":\"" MD5_A "\"},"
			   "{\"MD5\":\"" MD5_B "\"}]}";
	size_t n = strlen(good);
	expect_bad("trunc.json", good, (long)(n / 2), KS_E_FORMAT, "malformed JSON");
	expect_bad("trunc2.json", good, (long)n - 1, KS_E_FORMAT, "byte");
	expect_bad("badhex.json",
		   "{\"value\":[{\"MD5\":\"" MD5_A
		   "\"},{\"MD5\":\"XYZDEF0123456789ABCDEF0123456789\"}]}",
		   -1, KS_E_FORMAT, "value[1]");
	expect_bad("shorthex.json", "{\"value\":[{\"SHA1\":\"" MD5_A "\"}]}", -1, KS_E_FORMAT,
		   "SHA1");
	expect_bad("numhex.json", "{\"value\":[{\"MD5\":12345}]}", -1, KS_E_FORMAT, "MD5");
	expect_bad("boolcat.json", "{\"value\":[{\"MD5\":\"" MD5_A "\",\"Category\":true}]}", -1,
		   KS_E_FORMAT, "Category");
	expect_bad("objcat.json", "{\"value\":[{\"MD5\":\"" MD5_A "\",\"Category\":{\"a\":1}}]}",
		   -1, KS_E_FORMAT, "Category");
	expect_bad("array.json", "[{\"MD5\":\"" MD5_A "\"}]", -1, KS_E_FORMAT, "top level");
	expect_bad("novalue.json", "{\"@odata.context\":\"x#Media\"}", -1, KS_E_FORMAT,
		   "\"value\"");
	expect_bad("valuestr.json", "{\"value\":\"nope\"}", -1, KS_E_FORMAT, "\"value\"");
	expect_bad("garbage.json", "{\"value\":[]} trailing", -1, KS_E_FORMAT, "malformed JSON");
	expect_bad("empty.json", "", 0, KS_E_FORMAT, "");
	expect_bad("nul.json", "{\"value\":[\0]}", 13, KS_E_FORMAT, "malformed JSON");

	/* a missing comma: the offset named is where the parser stopped */
	const char *miss = "\xEF\xBB\xBF{\"value\":[{\"MD5\":\"" MD5_A "\" \"SHA1\":\"\"}]}";
	long at = (long)(strstr(miss, "\"SHA1\"") - miss);
	const char *p = tu_write(dir, "comma.json", miss, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	CHECK(tu_run("vics", p, NULL, &c, &err) == KS_E_FORMAT);
	long off = named_offset(err.msg);
	if (off < at - 2 || off > at + 8)
		fprintf(stderr, "comma.json: offset %ld, expected about %ld (%s)\n", off, at,
			err.msg);
	CHECK(off >= at - 2 && off <= at + 8);
	tu_reset(&c);

	/* nesting beyond the limit inside an unknown key */
	struct ks_buf b = {0};
	ks_buf_adds(&b, "{\"value\":[{\"Deep\":");
	for (int i = 0; i < 5000; i++)
		ks_buf_adds(&b, "[");
	for (int i = 0; i < 5000; i++)
		ks_buf_adds(&b, "]");
	ks_buf_adds(&b, "}]}");
	expect_bad("deep.json", (const char *)b.data, (long)b.len, KS_E_LIMIT, "nested");
	ks_buf_release(&b);
}

static long max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int count_only(void *ctx, const struct ks_hash_entry *e)
{
	(*(long *)ctx)++;
	return e->has ? 0 : KS_E_USAGE;
}

/* A ~40 MB export must stream: peak memory grows by far less than the file. */
static void test_streaming(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/big.json", dir);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	char pad[2001];
	memset(pad, 'p', 2000);
	pad[2000] = '\0';
	fputs("{\"@odata.context\":\"x/2.0.xml/US/$metadata#Media\",\"value\":[", f);
	const int n = 13000;
	for (int i = 0; i < n; i++)
		fprintf(f,
			"%s{\"MediaID\":%d,\"Category\":%d,\"MD5\":\"%032x\",\"Comments\":\"%s\","
			"\"Nested\":{\"a\":[\"%s\"]}}\n",
			i ? "," : "", i, i % 5, i + 1, pad, pad + 1000);
	fputs("]}", f);
	fclose(f);
	long before = max_rss_kb(), entries = 0;
	struct ks_err err = {0};
	const struct ks_importer_ops *ops = ks_importer_find(path, "vics", &err);
	CHECK(ops != NULL);
	if (!ops)
		return;
	CHECK(ops->run(path, NULL, count_only, &entries, &err) == KS_OK);
	CHECK(entries == n);
	long grew = max_rss_kb() - before;
	printf("streaming 40 MB: peak RSS grew by %ld KiB\n", grew);
	CHECK(grew < 8 * 1024);
	remove(path);

	/* One token longer than the limit cannot make us buffer it whole. */
	f = fopen(path, "wb");
	if (!f)
		return;
	fputs("{\"value\":[{\"Comments\":\"", f);
	for (int i = 0; i < 17 * 1024; i++)
		fwrite(pad, 1, 1024, f);
	fputs("\"}]}", f);
	fclose(f);
	entries = 0;
	CHECK(ops->run(path, NULL, count_only, &entries, &err) == KS_E_LIMIT);
	CHECK_HAS(err.msg, "MiB");
	remove(path);
}

int main(void)
{
	dir = ktest_tmpdir();
	if (!dir) {
		fprintf(stderr, "no temporary directory\n");
		return 1;
	}
	test_v2_hashset();
	test_v1_hashset_dhs();
	test_v2_cases();
	test_v1_cases_and_bare();
	test_malformed();
	test_streaming();
	return ktest_done();
}
