/* The importers added for the index file, each on fixtures written here in the real
 * format: Interpol ICSE CSV (header-named columns in any order, quoting, PhotoDNA kept
 * opaque, PhotoDNA-only rows skipped), EnCase .hash (binary header, UTF-16LE name and
 * category, 18-byte entries), HashKeeper .hsh, PDQ lists (quality, names, tabs, header,
 * bare hashes), each with malformed variants whose errors name the line or offset;
 * and the probes pick each format without ties. Hashes and labels are invented. */
#include <stdlib.h>
#include <string.h>

#include "index_testutil.h"
#include "kestrel/index.h"

static const char *dir;

#define M1 "0123456789abcdef0123456789abcdef"
#define M2 "FEDCBA9876543210FEDCBA9876543210"
#define M2L "fedcba9876543210fedcba9876543210"
#define S1 "0123456789abcdef0123456789abcdef01234567"
#define P1 "f162eb9daab170c0567fe3632d9a5548c5612982dd5e374a7424ebbc8a835c95"
#define P2 "b062eb9d2ab170c0567fcb672d9a5548c5612982dd5e374a7424ebbc8b135cb5"

static void test_icse(void)
{
	const char *csv =
	    "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;"
	    "Series name;Number of submissions;File Available;Media Type;Baseline\r\n" M1 ";" S1
	    ";AAECAwQF/w==;IMG-0001;Yes;No;No;Invented series;3;Yes;Image;No\r\n" M2
	    ";;;IMG-0002;No;;;;1;No;Image;\r\n"
	    ";;BBBB;IMG-0003;;;;;1;No;Image;\r\n" /* PhotoDNA only: skipped */
	    "\"" M1 "\";;\"a;b\"\"c\";\"IMG;4\";true;;;;1;;Video;\r\n";
	const char *p = tu_write(dir, "export.csv", csv, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	struct ks_import_opts o = {.scheme = "uk", .category = "A"};
	CHECK_STR(tu_probe(p), "icse");
	CHECK(tu_run("icse", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 3);
	if (c.n == 3) {
		CHECK(c.v[0].has == (KS_HAS_MD5 | KS_HAS_SHA1));
		CHECK_STR(c.v[0].md5, M1);
		CHECK_STR(c.v[0].sha1, S1);
		CHECK_STR(c.v[0].photodna, "AAECAwQF/w==");
		CHECK_STR(c.v[0].name, "IMG-0001");
		CHECK_STR(c.v[0].series, "Invented series");
		CHECK(c.v[0].distributed == 1);
		CHECK_STR(c.v[0].category, "A");
		CHECK(c.v[1].has == KS_HAS_MD5);
		CHECK_STR(c.v[1].md5, M2L);
		CHECK(c.v[1].distributed == 0);
		CHECK_STR(c.v[1].photodna, "(null)");
		CHECK_STR(c.v[2].photodna, "a;b\"c");
		CHECK_STR(c.v[2].name, "IMG;4");
		CHECK(c.v[2].distributed == 1);
	}
	tu_reset(&c);

	/* columns in another order, found by name */
	p = tu_write(dir, "reordered.csv",
		     "Image ID;SHA1;MD5;PhotoDNA\n"
		     "X-1;" S1 ";;\n",
		     -1);
	CHECK_STR(tu_probe(p), "icse");
	CHECK(tu_run("icse", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 1 && c.v[0].has == KS_HAS_SHA1 && strcmp(c.v[0].name, "X-1") == 0);
	CHECK(c.n == 1 && strcmp(c.v[0].category, "(null)") == 0);
	tu_reset(&c);

	/* malformed: bad hex (line and column named), wrong field count, bad quoting,
	 * no header, no digest column */
	p = tu_write(dir, "badhex.csv", "MD5;SHA1;PhotoDNA;Image ID\n" M1 ";;;a\n" M1 ";XYZ;;b\n",
		     -1);
	CHECK(tu_run("icse", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 3, column 2");
	CHECK(c.n == 1);
	tu_reset(&c);
	p = tu_write(dir, "fields.csv", "MD5;SHA1;PhotoDNA;Image ID\n" M1 ";;\n", -1);
	CHECK(tu_run("icse", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 2: 3 fields");
	tu_reset(&c);
	p = tu_write(dir, "quote.csv", "MD5;SHA1;PhotoDNA;Image ID\n\"" M1 ";;;\n", -1);
	CHECK(tu_run("icse", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 2");
	tu_reset(&c);
	p = tu_write(dir, "empty.csv", "", 0);
	CHECK(tu_run("icse", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "no ICSE header");
	tu_reset(&c);
	p = tu_write(dir, "nodigest.csv", "PhotoDNA;Image ID\nAAAA;1\n", -1);
	CHECK(tu_run("icse", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 1");
	tu_reset(&c);
}

/* An EnCase .hash file: header, name and category in UTF-16LE, 18-byte entries. */
static size_t encase_file(uint8_t *out, uint32_t count, const char *name, const char *cat,
			  int nentries)
{
	memset(out, 0, 0x480 + (size_t)nentries * 18);
	memcpy(out, "HASH\r\n\xff\0\x02\0\0\0\x01\0\0\0", 16);
	out[0x10] = (uint8_t)count;
	out[0x11] = (uint8_t)(count >> 8);
	out[0x12] = (uint8_t)(count >> 16);
	out[0x13] = (uint8_t)(count >> 24);
	for (size_t i = 0; name[i]; i++)
		out[0x408 + 2 * i] = (uint8_t)name[i];
	for (size_t i = 0; cat[i]; i++)
		out[0x458 + 2 * i] = (uint8_t)cat[i];
	for (int k = 0; k < nentries; k++)
		for (int i = 0; i < 16; i++)
			out[0x480 + 18 * (size_t)k + (size_t)i] = (uint8_t)(k * 16 + i);
	return 0x480 + (size_t)nentries * 18;
}

static void test_encase(void)
{
	static uint8_t buf[0x480 + 18 * 5000];
	size_t len = encase_file(buf, 5000, "Invented set", "Notable", 5000);
	/* a non-ASCII character in the name: U+00E9 */
	buf[0x408 + 2 * 12] = 0xE9;
	const char *p = tu_write(dir, "set.hash", (const char *)buf, (long)len);
	struct coll c = {0};
	struct ks_err err = {0};
	struct ks_import_opts o = {.scheme = "vics-us", .category = "1"};
	CHECK_STR(tu_probe(p), "encase");
	CHECK(tu_run("encase", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 5000);
	if (c.n == 5000) {
		CHECK_STR(c.v[0].md5, "000102030405060708090a0b0c0d0e0f");
		CHECK_STR(c.v[1].md5, "101112131415161718191a1b1c1d1e1f");
		CHECK(c.v[4999].has == KS_HAS_MD5);
		CHECK_STR(c.v[4999].category, "1");
		CHECK_STR(c.v[4999].scheme, "vics-us");
		CHECK_STR(c.v[0].name, "(null)");
	}
	tu_reset(&c);
	const struct ks_importer_ops *ops = ks_importer_find(p, "encase", &err);
	CHECK(ops && ops->describe);
	if (ops && ops->describe) {
		struct ks_buf name = {0};
		CHECK(ops->describe(p, &name, &err) == KS_OK);
		CHECK_STR((const char *)name.data, "Invented set\xc3\xa9 (Notable)");
		ks_buf_release(&name);
	}

	/* zero entries */
	len = encase_file(buf, 0, "Empty", "", 0);
	p = tu_write(dir, "empty.hash", (const char *)buf, (long)len);
	CHECK(tu_run("encase", p, NULL, &c, &err) == KS_OK && c.n == 0);
	tu_reset(&c);
	/* the count says more than the file holds: named with both numbers */
	len = encase_file(buf, 10, "Short", "", 9);
	p = tu_write(dir, "short.hash", (const char *)buf, (long)len);
	CHECK(tu_run("encase", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "0x10 says 10 entries");
	CHECK(c.n == 0);
	tu_reset(&c);
	len = encase_file(buf, 0xFFFFFFFFu, "Huge", "", 1);
	p = tu_write(dir, "huge.hash", (const char *)buf, (long)len);
	CHECK(tu_run("encase", p, NULL, &c, &err) == KS_E_FORMAT);
	tu_reset(&c);
	/* header cut short; bad magic */
	p = tu_write(dir, "cut.hash", (const char *)buf, 0x300);
	CHECK(tu_run("encase", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "truncated EnCase header");
	tu_reset(&c);
	buf[1] = 'X';
	p = tu_write(dir, "magic.hash", (const char *)buf, (long)len);
	CHECK(tu_run("encase", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "bad magic at byte 0");
	CHECK_STR(tu_probe(p), "(none)");
	tu_reset(&c);
}

static void test_hashkeeper(void)
{
	const char *hsh =
	    "\"file_id\",\"hashset_id\",\"file_name\",\"directory\",\"hash\",\"file_size\","
	    "\"date_modified\",\"time_modified\",\"time_zone\",\"comments\",\"date_accessed\","
	    "\"time_accessed\"\r\n"
	    "1,100,\"rose.jpg\",\"C:\\pics\\\",\"" M2 "\",6789,01/02/2003,10:11:12,\"GMT\","
	    "\"\",01/02/2003,10:11:12\r\n"
	    "2,100,\"a, b.png\",\"\",\"" M1 "\",,,,,,,\r\n";
	const char *p = tu_write(dir, "set.hsh", hsh, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	CHECK_STR(tu_probe(p), "hashkeeper");
	CHECK(tu_run("hashkeeper", p, NULL, &c, &err) == KS_OK);
	CHECK(c.n == 2);
	if (c.n == 2) {
		CHECK_STR(c.v[0].md5, M2L);
		CHECK_STR(c.v[0].name, "rose.jpg");
		CHECK(c.v[0].size == 6789);
		CHECK_STR(c.v[1].name, "a, b.png");
		CHECK(c.v[1].size == -1);
		CHECK_STR(c.v[1].category, "(null)");
	}
	tu_reset(&c);
	p = tu_write(dir, "bad.hsh",
		     "\"file_id\",\"hashset_id\",\"file_name\",\"hash\"\n1,2,\"x\",\"" M1 "\"\n"
		     "2,2,\"y\",\"12345\"\n",
		     -1);
	CHECK(tu_run("hashkeeper", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 3, column 4");
	CHECK(c.n == 1);
	tu_reset(&c);
	p = tu_write(dir, "fields.hsh", "\"file_id\",\"hash\"\n1,\"" M1 "\",extra\n", -1);
	CHECK(tu_run("hashkeeper", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 2");
	tu_reset(&c);
	p = tu_write(dir, "size.hsh", "\"file_id\",\"hash\",\"file_size\"\n1,\"" M1 "\",-5\n", -1);
	CHECK(tu_run("hashkeeper", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "file size");
	tu_reset(&c);
	p = tu_write(dir, "nohdr.hsh", "1,2,3\n", -1);
	CHECK(tu_run("hashkeeper", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "not a HashKeeper header");
	tu_reset(&c);
	p = tu_write(dir, "quote.hsh", "\"file_id\",\"hash\"\n1,\"" M1 "\n", -1);
	CHECK(tu_run("hashkeeper", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "malformed CSV");
	tu_reset(&c);
}

struct pq {
	int n, q[4];
	uint8_t h[4][32];
};

static int on_pdq(void *ctx, const struct ks_hash_entry *e)
{
	struct pq *g = ctx;
	if (g->n < 4) {
		g->q[g->n] = e->pdq_quality;
		memcpy(g->h[g->n], e->pdq, 32);
	}
	g->n++;
	return e->has == KS_HAS_PDQ ? 0 : KS_E_USAGE;
}

static void test_pdq(void)
{
	const char *list = "# invented PDQ list\n"
			   "hash,quality,filename\n" P1 ",100,first one.jpg\n"
			   "\n" P2 "\t49\tsecond, with comma.png\n" P1 ",7\n";
	const char *p = tu_write(dir, "list.pdq", list, -1);
	struct coll c = {0};
	struct ks_err err = {0};
	struct ks_import_opts o = {.scheme = "uk", .category = "C"};
	CHECK_STR(tu_probe(p), "pdq");
	CHECK(tu_run("pdq", p, &o, &c, &err) == KS_OK);
	CHECK(c.n == 3);
	uint8_t want[32];
	ks_hex_decode(P1, 64, want, 32);
	if (c.n == 3) {
		CHECK(c.v[0].has == KS_HAS_PDQ);
		CHECK_STR(c.v[0].name, "first one.jpg");
		CHECK_STR(c.v[0].category, "C");
		CHECK_STR(c.v[1].name, "second, with comma.png");
		CHECK_STR(c.v[2].name, "(null)");
	}
	tu_reset(&c);

	/* quality and hash checked through a small collector of our own */
	struct pq got = {0};
	CHECK(ks_importer_find(p, "pdq", &err)->run(p, NULL, on_pdq, &got, &err) == KS_OK);
	CHECK(got.n == 3 && got.q[0] == 100 && got.q[1] == 49 && got.q[2] == 7);
	CHECK(got.n == 3 && memcmp(got.h[0], want, 32) == 0);

	/* bare hashes: sha256 by the probe, pdq when named, quality unknown */
	p = tu_write(dir, "bare.txt", P1 "\n" P2 "\n", -1);
	CHECK_STR(tu_probe(p), "sha256");
	memset(&got, 0, sizeof got);
	CHECK(ks_importer_find(p, "pdq", &err)->run(p, NULL, on_pdq, &got, &err) == KS_OK);
	CHECK(got.n == 2 && got.q[0] == -1 && got.q[1] == -1);

	/* malformed */
	p = tu_write(dir, "badq.pdq", P1 ",100\n" P2 ",101\n", -1);
	CHECK(tu_run("pdq", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 2: quality \"101\"");
	tu_reset(&c);
	p = tu_write(dir, "badq2.pdq", P1 ",x\n", -1);
	CHECK(tu_run("pdq", p, NULL, &c, &err) == KS_E_FORMAT);
	tu_reset(&c);
	p = tu_write(dir, "short.pdq", P1 ",100\nabc123,50\n", -1);
	CHECK(tu_run("pdq", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 2: \"abc123\" is not a PDQ hash");
	tu_reset(&c);
	p = tu_write(dir, "long.pdq", P1 "00,100\n", -1);
	CHECK(tu_run("pdq", p, NULL, &c, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "line 1");
	tu_reset(&c);
	p = tu_write(dir, "junk.pdq", P1 "x,100\n", -1);
	CHECK(tu_run("pdq", p, NULL, &c, &err) == KS_E_FORMAT);
	tu_reset(&c);
}

int main(void)
{
	dir = ktest_tmpdir();
	test_icse();
	test_encase();
	test_hashkeeper();
	test_pdq();
	return ktest_done();
}
