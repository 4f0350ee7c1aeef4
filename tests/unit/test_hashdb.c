/* The index file: build from entries and from files of several formats, exact lookup
 * of every digest kind (every set holding it, duplicates held once, misses), records
 * keep metadata, set metadata and counts, the build spills sorted runs under a small
 * memory budget and still matches an in-memory reference, nothing is left behind when
 * a build fails, damaged files are refused at open (header, table, truncation) or by
 * verify, VICS export and rebuild give the same entries, and an attached file answers
 * through ks_index_lookup / ks_index_lookup_pdq. Hashes and categories are invented. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index_testutil.h"
#include "kestrel/index.h"
#include "ktest.h"

static const char *dir;

static char *path_in(const char *name)
{
	static char p[4][512];
	static int k;
	char *r = p[k++ % 4];
	snprintf(r, 512, "%s/%s", dir, name);
	return r;
}

static void fill(uint8_t *d, size_t n, unsigned seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		d[i] = (uint8_t)s;
	}
}

struct hits {
	struct ks_hashdb_hit h[64];
	char cat[64][8];
	int n;
};

static void on_hit(void *ctx, const struct ks_hashdb_hit *hit)
{
	struct hits *l = ctx;
	if (l->n < 64) {
		l->h[l->n] = *hit;
		snprintf(l->cat[l->n], 8, "%s", hit->category ? hit->category : "-");
	}
	l->n++;
}

/* Counts the files in dir whose name contains needle (temporary build files). */
static int count_files(const char *needle)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strstr(e->d_name, needle))
			n++;
	if (d)
		closedir(d);
	return n;
}

static struct ks_hashdb *open_ok(const char *p)
{
	struct ks_err err = {0};
	struct ks_hashdb *db = NULL;
	int rc = ks_hashdb_open(p, KS_HASHDB_VERIFY, &db, &err);
	if (rc != KS_OK)
		fprintf(stderr, "open %s: %s\n", p, err.msg);
	CHECK(rc == KS_OK);
	return db;
}

struct ihits {
	int n;
	int64_t set[8];
	const char *how[8];
	int dist[8];
};

static void on_index_hit(void *ctx, const struct ks_index_hit *hit)
{
	struct ihits *g = ctx;
	if (g->n < 8) {
		g->set[g->n] = hit->set_id;
		g->how[g->n] = hit->how;
		g->dist[g->n] = hit->distance;
	}
	g->n++;
}

static int each_count(void *ctx, uint32_t set, const struct ks_hash_entry *e)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_entries(void)
{
	const char *p = path_in("entries.kix");
	struct ks_err err = {0};
	struct ks_hashdb_builder *b = NULL;
	CHECK(ks_hashdb_builder_new(p, NULL, &b, &err) == KS_OK);
	struct ks_hash_entry e = {0};
	/* adding before a set is an error */
	e.has = KS_HAS_MD5;
	CHECK(ks_hashdb_builder_add(b, &e, &err) == KS_E_USAGE);
	struct ks_hashdb_set s1 = {.name = "alpha",
				   .scheme = "uk",
				   .role = "alert",
				   .sources = "abc  /x/alpha.json\n",
				   .imported = 1700000000};
	CHECK(ks_hashdb_builder_set(b, &s1, &err) == KS_OK);
	CHECK(ks_hashdb_builder_set(b, &s1, &err) == KS_E_USAGE); /* two sets of one name */
	struct ks_hashdb_set bad = {.name = "x", .role = "maybe"};
	CHECK(ks_hashdb_builder_set(b, &bad, &err) == KS_E_USAGE);

	/* a: MD5 + SHA-1 + metadata (a record); c: MD5 alone (a bare row) */
	struct ks_hash_entry a = {.has = KS_HAS_MD5 | KS_HAS_SHA1,
				  .scheme = "uk",
				  .category = "A",
				  .size = 1234,
				  .name = "rose.jpg",
				  .distributed = 1,
				  .series = "S-1",
				  .photodna = "opaque==",
				  .pdq_quality = -1};
	fill(a.md5, 16, 1);
	fill(a.sha1, 20, 2);
	struct ks_hash_entry c = {
	    .has = KS_HAS_MD5, .scheme = "uk", .category = "C", .size = -1, .distributed = -1};
	fill(c.md5, 16, 3);
	struct ks_hash_entry p1 = {.has = KS_HAS_PDQ,
				   .scheme = "uk",
				   .category = "B",
				   .size = -1,
				   .distributed = -1,
				   .pdq_quality = 80};
	fill(p1.pdq, 32, 4);
	struct ks_hash_entry plow = p1;
	fill(plow.pdq, 32, 5);
	plow.pdq_quality = 20; /* below the floor: left out */
	struct ks_hash_entry none = {.has = 0, .scheme = "uk"};
	CHECK(ks_hashdb_builder_add(b, &a, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add(b, &a, &err) == KS_OK); /* again: held once */
	CHECK(ks_hashdb_builder_add(b, &c, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add(b, &c, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add(b, &p1, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add(b, &plow, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add(b, &none, &err) == KS_OK);

	struct ks_hashdb_set s2 = {.name = "beta", .scheme = "vics-us", .role = "ignore"};
	CHECK(ks_hashdb_builder_set(b, &s2, &err) == KS_OK);
	struct ks_hash_entry a2 = {.has = KS_HAS_MD5,
				   .scheme = "vics-us",
				   .category = NULL,
				   .size = -1,
				   .distributed = -1};
	memcpy(a2.md5, a.md5, 16); /* beta holds a's MD5 too, uncategorised */
	struct ks_hash_entry h = {.has = KS_HAS_SHA256,
				  .scheme = "vics-us",
				  .category = "2",
				  .size = -1,
				  .distributed = -1};
	fill(h.sha256, 32, 6);
	CHECK(ks_hashdb_builder_add(b, &a2, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add(b, &h, &err) == KS_OK);
	CHECK(ks_hashdb_builder_finish(b, &err) == KS_OK);
	CHECK(ks_hashdb_builder_finish(b, &err) == KS_E_USAGE); /* spent */
	ks_hashdb_builder_free(b);
	CHECK(count_files(".entries.kix.") == 0); /* no temporary left */

	struct ks_hashdb *db = open_ok(p);
	if (!db)
		return;
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	CHECK(in.nsets == 2);
	CHECK(in.n_md5 == 3 && in.n_sha1 == 1 && in.n_sha256 == 1 && in.n_pdq == 1);
	CHECK(in.records == 1);
	CHECK(in.entries == 5);
	const struct ks_hashdb_set *m = ks_hashdb_set_at(db, 0);
	CHECK(m && strcmp(m->name, "alpha") == 0 && strcmp(m->role, "alert") == 0);
	CHECK(m && strcmp(m->scheme, "uk") == 0 && m->imported == 1700000000);
	CHECK(m && strcmp(m->sources, "abc  /x/alpha.json\n") == 0);
	CHECK(m && m->entries == 3 && m->n_md5 == 2 && m->n_sha1 == 1 && m->n_pdq == 1);
	CHECK(m && m->low_quality == 1);
	m = ks_hashdb_set_at(db, 1);
	CHECK(m && strcmp(m->name, "beta") == 0 && strcmp(m->role, "ignore") == 0);
	CHECK(m && m->entries == 2 && m->format == NULL);
	CHECK(ks_hashdb_set_at(db, 2) == NULL);

	struct hits l = {.n = 0};
	CHECK(ks_hashdb_lookup(db, KS_HAS_MD5, a.md5, on_hit, &l) == 2);
	CHECK(l.n == 2);
	int seen_alpha = 0, seen_beta = 0;
	for (int i = 0; i < l.n && i < 64; i++) {
		if (l.h[i].set == 0) {
			seen_alpha = strcmp(l.cat[i], "A") == 0 && !l.h[i].ignorable &&
				     l.h[i].kind == KS_HAS_MD5 && l.h[i].distance == 0 &&
				     memcmp(l.h[i].hash, a.md5, 16) == 0;
			struct ks_hash_entry full;
			CHECK(ks_hashdb_entry(db, &l.h[i], &full) == KS_OK);
			CHECK(full.has == (KS_HAS_MD5 | KS_HAS_SHA1));
			CHECK(memcmp(full.sha1, a.sha1, 20) == 0);
			CHECK(full.size == 1234 && full.distributed == 1);
			CHECK(full.name && strcmp(full.name, "rose.jpg") == 0);
			CHECK(full.series && strcmp(full.series, "S-1") == 0);
			CHECK(full.photodna && strcmp(full.photodna, "opaque==") == 0);
		} else {
			seen_beta =
			    l.h[i].set == 1 && strcmp(l.cat[i], "-") == 0 && l.h[i].ignorable;
		}
	}
	CHECK(seen_alpha && seen_beta);
	/* the SHA-1 of a leads to the same entry (same ref) */
	struct hits l2 = {.n = 0};
	CHECK(ks_hashdb_lookup(db, KS_HAS_SHA1, a.sha1, on_hit, &l2) == 1);
	for (int i = 0; i < l.n; i++)
		if (l.h[i].set == 0)
			CHECK(l2.h[0].ref == l.h[i].ref);
	l.n = 0;
	CHECK(ks_hashdb_lookup(db, KS_HAS_MD5, c.md5, on_hit, &l) == 1);
	CHECK(l.n == 1 && strcmp(l.cat[0], "C") == 0);
	l.n = 0;
	CHECK(ks_hashdb_lookup(db, KS_HAS_SHA256, h.sha256, on_hit, &l) == 1);
	CHECK(l.n == 1 && strcmp(l.cat[0], "2") == 0 && l.h[0].set == 1);
	CHECK(ks_hashdb_lookup(db, KS_HAS_PDQ, p1.pdq, NULL, NULL) == 1);
	CHECK(ks_hashdb_lookup(db, KS_HAS_PDQ, plow.pdq, NULL, NULL) == 0);
	/* misses */
	uint8_t miss[32];
	fill(miss, 32, 99);
	CHECK(ks_hashdb_lookup(db, KS_HAS_MD5, miss, NULL, NULL) == 0);
	CHECK(ks_hashdb_lookup(db, KS_HAS_SHA1, miss, NULL, NULL) == 0);
	CHECK(ks_hashdb_lookup(db, KS_HAS_SHA256, miss, NULL, NULL) == 0);
	/* near: p1 with 5 bits flipped is found at distance 5 with radius 31, not 4 */
	uint8_t q[32];
	memcpy(q, p1.pdq, 32);
	for (int i = 0; i < 5; i++)
		q[i * 3] ^= 0x10;
	l.n = 0;
	CHECK(ks_hashdb_near(db, q, 31, on_hit, &l) == 1);
	CHECK(l.n == 1 && l.h[0].distance == 5 && l.h[0].kind == KS_HAS_PDQ &&
	      strcmp(l.cat[0], "B") == 0);
	CHECK(ks_hashdb_near(db, q, 4, NULL, NULL) == 0);

	/* attached to an in-memory index: the file's sets carry the caller's ids */
	struct ks_index *idx = ks_index_new();
	struct ks_hash_entry mem = {.has = KS_HAS_MD5, .scheme = "uk", .category = "B"};
	memcpy(mem.md5, a.md5, 16);
	ks_index_add(idx, 7, 0, &mem);
	int64_t ids[2] = {100, 200};
	ks_index_attach(idx, db, ids);
	CHECK(ks_index_count(idx) == 6);
	struct ihits got = {0};
	CHECK(ks_index_lookup(idx, a.md5, a.sha1, NULL, on_index_hit, &got) == 3);
	int s100 = 0, s200 = 0, s7 = 0;
	for (int i = 0; i < got.n && i < 8; i++) {
		s100 += got.set[i] == 100 && strcmp(got.how[i], "sha1") == 0;
		s200 += got.set[i] == 200 && strcmp(got.how[i], "md5") == 0;
		s7 += got.set[i] == 7;
	}
	CHECK(s100 == 1 && s200 == 1 && s7 == 1);
	got.n = 0;
	CHECK(ks_index_lookup_pdq(idx, q, 31, on_index_hit, &got) == 1);
	CHECK(got.n == 1 && got.set[0] == 100 && strcmp(got.how[0], "pdq") == 0 &&
	      got.dist[0] == 5);
	ks_index_free(idx);

	/* every entry once */
	int n = 0;
	CHECK(ks_hashdb_each(db, -1, each_count, &n, &err) == KS_OK);
	CHECK(n == 5);
	n = 0;
	CHECK(ks_hashdb_each(db, 1, each_count, &n, &err) == KS_OK);
	CHECK(n == 2);
	ks_hashdb_close(db);
}

struct batch_count {
	int *hits;
	size_t n;
};

static void on_batch(void *ctx, size_t query, const struct ks_hashdb_hit *hit)
{
	struct batch_count *b = ctx;
	if (query < b->n && hit->kind == KS_HAS_MD5)
		b->hits[query]++;
}

/* Many entries under a tiny memory budget: the runs are merged right, against a
 * plain in-memory check; duplicates across runs are dropped. The file (about 9 MB) is
 * big enough to be dropped from the page cache when built and mapped on a huge-page
 * boundary when opened, mapped or preloaded: every section checks out either way. */
static void test_spill(void)
{
	const char *p = path_in("spill.kix");
	struct ks_err err = {0};
	struct ks_hashdb_builder *b = NULL;
	struct ks_hashdb_build_opts o = {.memory = 1}; /* rounds up to the minimum */
	CHECK(ks_hashdb_builder_new(p, &o, &b, &err) == KS_OK);
	struct ks_hashdb_set s = {.name = "many"};
	CHECK(ks_hashdb_builder_set(b, &s, &err) == KS_OK);
	const unsigned n = 400000;
	for (unsigned i = 0; i < n; i++) {
		struct ks_hash_entry e = {.has = KS_HAS_MD5,
					  .scheme = "uk",
					  .category = i % 2 ? "A" : "B",
					  .size = -1,
					  .distributed = -1};
		fill(e.md5, 16, i % (n - 1000)); /* the last 1000 repeat earlier ones */
		if (i % 1000 == 0)
			memset(e.md5, 0, 4); /* a crowded bucket */
		e.category = (i % (n - 1000)) % 2 ? "A" : "B";
		CHECK(ks_hashdb_builder_add(b, &e, &err) == KS_OK);
	}
	int runs = count_files(".spill.kix.run");
	CHECK(runs >= 2);
	CHECK(ks_hashdb_builder_finish(b, &err) == KS_OK);
	ks_hashdb_builder_free(b);
	CHECK(count_files(".spill.kix.") == 0);
	struct ks_hashdb *db = open_ok(p);
	if (!db)
		return;
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	CHECK(in.n_md5 == n - 1000);
	CHECK(in.file_size >= (8u << 20)); /* past DROP_MIN and huge-page mapping: taken */
	int bad = 0;
	for (unsigned i = 0; i < n - 1000; i += 7) {
		uint8_t d[16];
		fill(d, 16, i);
		if (i % 1000 == 0)
			memset(d, 0, 4);
		struct hits l = {.n = 0};
		if (ks_hashdb_lookup(db, KS_HAS_MD5, d, on_hit, &l) != 1 ||
		    strcmp(l.cat[0], i % 2 ? "A" : "B") != 0)
			bad++;
		d[15] ^= 1;
		if (ks_hashdb_lookup(db, KS_HAS_MD5, d, NULL, NULL) != 0)
			bad++;
	}
	CHECK(bad == 0);
	/* batched lookups answer as single ones do, query by query */
	size_t nq = 5000;
	uint8_t *keys = malloc(nq * 16);
	int *single = calloc(nq, sizeof *single);
	struct batch_count bc = {calloc(nq, sizeof(int)), nq};
	for (size_t i = 0; i < nq; i++) {
		fill(keys + 16 * i, 16, (unsigned)(i * 37 % (n - 1000)));
		if (i % 3 == 0)
			keys[16 * i + 15] ^= 0x80; /* a miss */
		if (i % 1000 == 0)
			memset(keys + 16 * i, 0, 4);
		single[i] = ks_hashdb_lookup(db, KS_HAS_MD5, keys + 16 * i, NULL, NULL);
	}
	int total = ks_hashdb_lookup_batch(db, KS_HAS_MD5, keys, nq, on_batch, &bc);
	int same = 1, sum = 0;
	for (size_t i = 0; i < nq; i++) {
		same &= single[i] == bc.hits[i];
		sum += single[i];
	}
	CHECK(same && total == sum && sum > 3000);
	/* held in memory (KS_HASHDB_PRELOAD): the same answers, query by query */
	struct ks_hashdb *mem = NULL;
	CHECK(ks_hashdb_open(p, KS_HASHDB_PRELOAD, &mem, &err) == KS_OK);
	if (mem) {
		struct batch_count bm = {calloc(nq, sizeof(int)), nq};
		int mtotal = ks_hashdb_lookup_batch(mem, KS_HAS_MD5, keys, nq, on_batch, &bm);
		int msame = 1;
		for (size_t i = 0; i < nq; i++)
			msame &= single[i] == bm.hits[i];
		CHECK(msame && mtotal == total);
		CHECK(ks_hashdb_verify(mem, &err) == KS_OK);
		free(bm.hits);
		ks_hashdb_close(mem);
	}
	CHECK(ks_hashdb_verify(db, &err) == KS_OK);
	free(keys);
	free(single);
	free(bc.hits);
	ks_hashdb_close(db);
}

static void copy_file(const char *from, const char *to, long truncate_at, long flip_at)
{
	size_t len;
	unsigned char *d = ktest_read_file(from, &len);
	CHECK(d != NULL);
	if (!d)
		return;
	if (flip_at >= 0 && (size_t)flip_at < len)
		d[flip_at] ^= 0x40;
	if (truncate_at >= 0 && (size_t)truncate_at < len)
		len = (size_t)truncate_at;
	FILE *f = fopen(to, "wb");
	fwrite(d, 1, len, f);
	fclose(f);
	free(d);
}

static void test_damage(void)
{
	const char *good = path_in("entries.kix");
	const char *bad = path_in("damaged.kix");
	struct ks_err err = {0};
	struct ks_hashdb *db = NULL;
	struct stat st;
	CHECK(stat(good, &st) == 0);

	CHECK(ks_hashdb_open(path_in("no-such.kix"), 0, &db, &err) == KS_E_NOTFOUND);
	copy_file(good, bad, 100, -1);
	CHECK(ks_hashdb_open(bad, 0, &db, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "damaged.kix");
	copy_file(good, bad, st.st_size - 10, -1);
	CHECK(ks_hashdb_open(bad, 0, &db, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "truncated");
	copy_file(good, bad, -1, 0); /* magic */
	CHECK(ks_hashdb_open(bad, 0, &db, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "not a kestrel index");
	copy_file(good, bad, -1, 30); /* header field, caught by its checksum */
	CHECK(ks_hashdb_open(bad, 0, &db, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "header");
	copy_file(good, bad, -1, st.st_size - 40); /* section table */
	CHECK(ks_hashdb_open(bad, 0, &db, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "section table");
	/* a byte in the first data section (a big table: found by verify, not open) */
	copy_file(good, bad, -1, 128 + 3);
	CHECK(ks_hashdb_open(bad, 0, &db, &err) == KS_OK);
	if (db) {
		CHECK(ks_hashdb_verify(db, &err) == KS_E_FORMAT);
		CHECK_HAS(err.msg, "checksum");
		ks_hashdb_close(db);
		db = NULL;
	}
	CHECK(ks_hashdb_open(bad, KS_HASHDB_VERIFY, &db, &err) == KS_E_FORMAT);
	/* not an index at all */
	const char *txt = tu_write(dir, "text.kix",
				   "hello, this is not an index file at all, "
				   "but it is long enough to have a header of "
				   "one hundred and twenty-eight bytes or more..",
				   -1);
	CHECK(ks_hashdb_open(txt, 0, &db, &err) == KS_E_FORMAT);
}

/* A malformed input file stops the build: nothing at the index path, no temporaries. */
static void test_failed_build(void)
{
	const char *p = path_in("failed.kix");
	struct ks_err err = {0};
	const char *list = tu_write(dir, "bad-list.md5",
				    "d41d8cd98f00b204e9800998ecf8427e  a\nnot-a-hash  b\n", -1);
	struct ks_hashdb_builder *b = NULL;
	CHECK(ks_hashdb_builder_new(p, NULL, &b, &err) == KS_OK);
	struct ks_hashdb_set s = {.name = "bad"};
	CHECK(ks_hashdb_builder_set(b, &s, &err) == KS_OK);
	struct ks_import_opts io = {.format = "md5"};
	CHECK(ks_hashdb_builder_add_file(b, list, &io, NULL, &err) == KS_E_FORMAT);
	CHECK_HAS(err.msg, "bad-list.md5");
	CHECK_HAS(err.msg, "line 2");
	CHECK(ks_hashdb_builder_finish(b, &err) == KS_E_USAGE);
	ks_hashdb_builder_free(b);
	CHECK(access(p, F_OK) != 0);
	CHECK(count_files(".failed.kix.") == 0);
	/* an existing index is left as it was when a rebuild fails */
	tu_write(dir, "failed.kix", "old contents", -1);
	CHECK(ks_hashdb_builder_new(p, NULL, &b, &err) == KS_OK);
	CHECK(ks_hashdb_builder_set(b, &s, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add_file(b, list, &io, NULL, &err) == KS_E_FORMAT);
	ks_hashdb_builder_free(b);
	size_t len;
	unsigned char *d = ktest_read_file(p, &len);
	CHECK(d && len == 12 && memcmp(d, "old contents", 12) == 0);
	free(d);
}

/* ---- round trip through VICS --------------------------------------------------- */

static int collect_line(void *ctx, uint32_t set, const struct ks_hash_entry *e)
{
	struct ks_buf *b = ctx;
	char h[65];
	if (e->has & KS_HAS_MD5) {
		ks_hex_encode(e->md5, 16, h);
		ks_buf_addf(b, "md5=%s ", h);
	}
	if (e->has & KS_HAS_SHA1) {
		ks_hex_encode(e->sha1, 20, h);
		ks_buf_addf(b, "sha1=%s ", h);
	}
	if (e->has & KS_HAS_SHA256) {
		ks_hex_encode(e->sha256, 32, h);
		ks_buf_addf(b, "sha256=%s ", h);
	}
	if (e->has & KS_HAS_PDQ) {
		ks_hex_encode(e->pdq, 32, h);
		ks_buf_addf(b, "pdq=%s ", h);
	}
	ks_buf_addf(b, "%s/%s size=%lld dist=%d name=%s series=%s pdna=%s\n",
		    e->scheme ? e->scheme : "-", e->category ? e->category : "-",
		    (long long)e->size, e->distributed, e->name ? e->name : "-",
		    e->series ? e->series : "-", e->photodna ? e->photodna : "-");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of an index as sorted text lines. */
static char *canonical(const char *p)
{
	struct ks_hashdb *db = open_ok(p);
	if (!db)
		return ks_xstrdup("");
	struct ks_buf b = {0};
	struct ks_err err = {0};
	CHECK(ks_hashdb_each(db, -1, collect_line, &b, &err) == KS_OK);
	ks_hashdb_close(db);
	size_t n = 0;
	char **lines = NULL;
	for (char *s = (char *)b.data, *nl; s && *s; s = nl + 1) {
		nl = strchr(s, '\n');
		*nl = '\0';
		lines = realloc(lines, (n + 1) * sizeof *lines);
		lines[n++] = s;
	}
	qsort(lines, n, sizeof *lines, cmp_str);
	struct ks_buf out = {0};
	for (size_t i = 0; i < n; i++)
		ks_buf_addf(&out, "%s\n", lines[i]);
	free(lines);
	ks_buf_release(&b);
	return out.data ? ks_buf_take(&out) : ks_xstrdup("");
}

static int build_from(const char *out, const char *file, const char *format, const char *scheme,
		      struct ks_err *err)
{
	struct ks_hashdb_builder *b = NULL;
	int rc = ks_hashdb_builder_new(out, NULL, &b, err);
	if (rc < 0)
		return rc;
	struct ks_hashdb_set s = {.name = "set", .scheme = scheme};
	struct ks_import_opts io = {.format = format, .scheme = scheme};
	if ((rc = ks_hashdb_builder_set(b, &s, err)) == KS_OK &&
	    (rc = ks_hashdb_builder_add_file(b, file, &io, NULL, err)) == KS_OK)
		rc = ks_hashdb_builder_finish(b, err);
	ks_hashdb_builder_free(b);
	return rc;
}

static void test_roundtrip(void)
{
	const char *vics =
	    "{\"odata.metadata\": "
	    "\"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media\",\n"
	    " \"value\": [\n"
	    "  {\"MediaID\": 1, \"Category\": 1, \"MD5\": \"0123456789ABCDEF0123456789ABCDEF\",\n"
	    "   \"SHA1\": \"0123456789abcdef0123456789abcdef01234567\", \"MediaSize\": 2835,\n"
	    "   \"IsDistributed\": \"true\", \"Series\": \"Invented \\\"series\\\"\",\n"
	    "   \"AlternativeHashes\": [{\"HashName\": \"PhotoDNA\", \"HashValue\": "
	    "\"AAEC/w==\"},\n"
	    "     {\"HashName\": \"PDQ\", \"HashValue\": "
	    "\"f162eb9daab170c0567fe3632d9a5548c5612982dd5e374a7424ebbc8a835c95\"}],\n"
	    "   \"MediaFiles\": [{\"FileName\": \"caf\\u00e9 rose.jpg\"}]},\n"
	    "  {\"MediaID\": 2, \"Category\": null, \"MD5\": "
	    "\"00000000000000000000000000000001\"},\n"
	    "  {\"MediaID\": 3, \"Category\": 4, \"SHA256\": "
	    "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\n"
	    "   \"IsDistributed\": false},\n"
	    "  {\"MediaID\": 4, \"Category\": 0, \"MD5\": \"00000000000000000000000000000002\"},\n"
	    "  {\"MediaID\": 5, \"Category\": 0, \"MD5\": \"00000000000000000000000000000002\"}\n"
	    " ]}\n";
	const char *src = tu_write(dir, "rt.json", vics, -1);
	struct ks_err err = {0};
	const char *first = path_in("rt1.kix"), *second = path_in("rt2.kix");
	const char *exported = path_in("rt-export.json");
	CHECK(build_from(first, src, NULL, NULL, &err) == KS_OK);
	struct ks_hashdb *db = open_ok(first);
	if (!db)
		return;
	CHECK(ks_hashdb_export_vics(db, -1, exported, &err) == KS_OK);
	CHECK(ks_hashdb_export_vics(db, 5, exported, &err) == KS_E_USAGE);
	ks_hashdb_close(db);
	CHECK(build_from(second, exported, NULL, NULL, &err) == KS_OK);
	char *a = canonical(first), *b = canonical(second);
	CHECK(strlen(a) > 100);
	CHECK_STR(a, b);
	CHECK(strstr(a, "pdq=f162eb9d") != NULL);
	CHECK(strstr(a, "pdna=AAEC/w==") != NULL);
	CHECK(strstr(a, "name=caf\xc3\xa9 rose.jpg") != NULL);
	CHECK(strstr(a, "vics-us/4 size=-1 dist=0") != NULL);
	free(a);
	free(b);

	/* a UK set: exported under the UK region, rebuilt with the uk numbering */
	const char *md5list = tu_write(dir, "rt.md5",
				       "00000000000000000000000000000003  three.png\n"
				       "00000000000000000000000000000004\n",
				       -1);
	struct ks_hashdb_builder *bb = NULL;
	CHECK(ks_hashdb_builder_new(first, NULL, &bb, &err) == KS_OK);
	struct ks_hashdb_set s = {.name = "uk-set", .scheme = "uk"};
	struct ks_import_opts io = {.format = "md5", .scheme = "uk", .category = "B"};
	CHECK(ks_hashdb_builder_set(bb, &s, &err) == KS_OK);
	CHECK(ks_hashdb_builder_add_file(bb, md5list, &io, NULL, &err) == KS_OK);
	CHECK(ks_hashdb_builder_finish(bb, &err) == KS_OK);
	ks_hashdb_builder_free(bb);
	db = open_ok(first);
	if (!db)
		return;
	CHECK(ks_hashdb_export_vics(db, 0, exported, &err) == KS_OK);
	ks_hashdb_close(db);
	size_t len;
	char *json = (char *)ktest_read_file(exported, &len);
	CHECK(json && strstr(json, "/UK/$metadata#Media") && strstr(json, "\"Category\": 2"));
	free(json);
	CHECK(build_from(second, exported, "vics", "uk", &err) == KS_OK);
	a = canonical(first);
	b = canonical(second);
	CHECK_STR(a, b);
	CHECK(strstr(a, "uk/B size=-1 dist=-1 name=three.png") != NULL);
	free(a);
	free(b);
}

/* Several formats into several sets of one index, through the probes. */
static void test_formats(void)
{
	const char *md5 = tu_write(dir, "f.md5", "0123456789abcdef0123456789abcdef  a.jpg\n", -1);
	const char *pdq =
	    tu_write(dir, "f.pdq",
		     "f162eb9daab170c0567fe3632d9a5548c5612982dd5e374a7424ebbc8a835c95,"
		     "100,x.jpg\n",
		     -1);
	const char *p = path_in("formats.kix");
	struct ks_err err = {0};
	struct ks_hashdb_builder *b = NULL;
	CHECK(ks_hashdb_builder_new(p, NULL, &b, &err) == KS_OK);
	struct ks_hashdb_set s = {.name = "both"};
	CHECK(ks_hashdb_builder_set(b, &s, &err) == KS_OK);
	uint64_t n = 0;
	CHECK(ks_hashdb_builder_add_file(b, md5, NULL, &n, &err) == KS_OK && n == 1);
	CHECK(ks_hashdb_builder_add_file(b, pdq, NULL, &n, &err) == KS_OK && n == 1);
	CHECK(ks_hashdb_builder_finish(b, &err) == KS_OK);
	ks_hashdb_builder_free(b);
	struct ks_hashdb *db = open_ok(p);
	if (!db)
		return;
	const struct ks_hashdb_set *m = ks_hashdb_set_at(db, 0);
	CHECK(m && m->format && strcmp(m->format, "md5,pdq") == 0);
	CHECK(m && m->sources && strstr(m->sources, "f.md5\n") && strstr(m->sources, "f.pdq\n"));
	CHECK(m && m->n_md5 == 1 && m->n_pdq == 1 && m->entries == 2);
	ks_hashdb_close(db);
}

int main(void)
{
	dir = ktest_tmpdir();
	test_entries();
	test_spill();
	test_damage();
	test_failed_build();
	test_roundtrip();
	test_formats();
	return ktest_done();
}
