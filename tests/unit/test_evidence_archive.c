/* ks_archive_expand on archives made at test time with zip, tar, gzip and 7z: members
 * and their MD5s, directories left out, a nested zip, a lone .gz, an encrypted
 * member, the three limits, and damaged input (truncated, garbage, empty) that must
 * give KS_E_EVIDENCE after delivering what it could, without crashing. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kestrel/evidence.h"
#include "ktest.h"

#define MAXM 16

struct members {
	int n;
	char path[MAXM][128];
	char md5[MAXM][33];
	uint64_t size[MAXM];
	int truncated[MAXM];
	int has_error[MAXM];
	uint8_t *first; /* copy of the first member's bytes */
	size_t first_len;
	int stop_after; /* return KS_E_ENV after this many members (0: never) */
};

static char tmp[256];
static char md5_a[33], md5_b[33], md5_c[33];

static void md5_hex(const uint8_t *p, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_Digest(p ? p : (const uint8_t *)"", n, md, &len, EVP_md5(), NULL);
	ks_hex_encode(md, 16, out);
}

static int on_member(void *ctx, const struct ks_member_info *m, const uint8_t *data, size_t len)
{
	struct members *ms = ctx;
	if (ms->n < MAXM) {
		snprintf(ms->path[ms->n], sizeof ms->path[0], "%s", m->path);
		md5_hex(data, len, ms->md5[ms->n]);
		ms->size[ms->n] = m->size;
		ms->truncated[ms->n] = m->truncated;
		ms->has_error[ms->n] = m->error != NULL;
		CHECK(m->size == len);
		if (ms->n == 0 && len) {
			ms->first = malloc(len);
			memcpy(ms->first, data, len);
			ms->first_len = len;
		}
	}
	ms->n++;
	if (ms->stop_after && ms->n >= ms->stop_after)
		return KS_E_ENV;
	return KS_OK;
}

static void members_free(struct members *ms)
{
	free(ms->first);
	memset(ms, 0, sizeof *ms);
}

static int find(const struct members *ms, const char *path)
{
	for (int i = 0; i < ms->n && i < MAXM; i++)
		if (!strcmp(ms->path[i], path))
			return i;
	return -1;
}

static void make_file(const char *path, size_t n, unsigned seed, char md5[33])
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 7;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n)
		fprintf(stderr, "cannot write %s\n", path);
	if (f)
		fclose(f);
	md5_hex(p, n, md5);
	free(p);
}

static int have(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	if (system(cmd) == 0)
		return 1;
	printf("%s not installed: that sub-test is skipped\n", tool);
	return 0;
}

static int sh(const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof full, "cd '%s' && %s", tmp, cmd);
	int rc = system(full);
	if (rc != 0)
		fprintf(stderr, "command failed: %s\n", cmd);
	return rc;
}

static uint8_t *load(const char *name, size_t *len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", tmp, name);
	uint8_t *d = ktest_read_file(p, len);
	if (!d)
		fprintf(stderr, "cannot read %s\n", p);
	return d;
}

static int expand_file(const char *name, const struct ks_archive_limits *lim, struct members *ms,
		       struct ks_err *err)
{
	size_t len = 0;
	uint8_t *d = load(name, &len);
	if (!d)
		return -100;
	int rc = ks_archive_expand(d, len, lim, on_member, ms, err);
	free(d);
	return rc;
}

/* The three test files in an archive: a.jpg, sub/b.png, sub/deeper/c.bin. */
static void check_abc(const char *name, const struct members *ms, int rc, const struct ks_err *err)
{
	if (rc != KS_OK)
		fprintf(stderr, "%s: %s\n", name, err->msg);
	CHECK(rc == KS_OK);
	CHECK(ms->n == 3); /* directories are not members */
	int a = find(ms, "a.jpg"), b = find(ms, "sub/b.png"), c = find(ms, "sub/deeper/c.bin");
	CHECK(a >= 0 && !strcmp(ms->md5[a], md5_a) && ms->size[a] == 20000);
	CHECK(b >= 0 && !strcmp(ms->md5[b], md5_b) && ms->size[b] == 300000);
	CHECK(c >= 0 && !strcmp(ms->md5[c], md5_c) && ms->size[c] == 1);
	for (int i = 0; i < ms->n && i < MAXM; i++)
		CHECK(!ms->truncated[i] && !ms->has_error[i]);
}

static void test_formats(void)
{
	struct members ms = {0};
	struct ks_err err = {0};
	int rc;

	if (have("zip")) {
		CHECK(sh("zip -q -r t.zip a.jpg sub") == 0);
		rc = expand_file("t.zip", NULL, &ms, &err);
		check_abc("zip", &ms, rc, &err);
		members_free(&ms);

		/* nested: the caller sees the inner zip as a member and expands it itself */
		CHECK(sh("zip -q outer.zip t.zip a.jpg") == 0);
		size_t len = 0, inner_len = 0;
		uint8_t *outer = load("outer.zip", &len), *inner = load("t.zip", &inner_len);
		rc = ks_archive_expand(outer, 0, NULL, on_member, &ms, &err); /* empty input */
		CHECK(rc == KS_E_EVIDENCE && ms.n == 0);
		members_free(&ms);
		rc = ks_archive_expand(outer, len, NULL, on_member, &ms, &err);
		CHECK(rc == KS_OK && ms.n == 2);
		int t = find(&ms, "t.zip");
		char inner_md5[33];
		md5_hex(inner, inner_len, inner_md5);
		CHECK(t >= 0 && !strcmp(ms.md5[t], inner_md5));
		CHECK(t == 0 && ms.first_len == inner_len);
		if (t == 0 && ms.first) {
			struct members ims = {0};
			rc = ks_archive_expand(ms.first, ms.first_len, NULL, on_member, &ims, &err);
			check_abc("nested zip", &ims, rc, &err);
			members_free(&ims);
		}
		members_free(&ms);
		free(outer);
		free(inner);

		/* encrypted member: delivered with an error, no data; the archive is fine */
		CHECK(sh("zip -q -P secret enc.zip a.jpg") == 0);
		rc = expand_file("enc.zip", NULL, &ms, &err);
		CHECK(rc == KS_OK && ms.n == 1);
		CHECK(ms.has_error[0] && ms.size[0] == 0);
		members_free(&ms);
	}

	if (have("tar") && have("gzip")) {
		CHECK(sh("tar czf t.tar.gz a.jpg sub && tar cf t.tar a.jpg sub") == 0);
		rc = expand_file("t.tar.gz", NULL, &ms, &err);
		check_abc("tar.gz", &ms, rc, &err);
		members_free(&ms);
		rc = expand_file("t.tar", NULL, &ms, &err);
		check_abc("tar", &ms, rc, &err);
		members_free(&ms);

		/* a lone compressed file is one member */
		CHECK(sh("gzip -c a.jpg > a.jpg.gz") == 0);
		rc = expand_file("a.jpg.gz", NULL, &ms, &err);
		CHECK(rc == KS_OK && ms.n == 1 && !strcmp(ms.md5[0], md5_a));
		members_free(&ms);

		/* tar with "./" names: the prefix is dropped */
		CHECK(sh("mkdir -p dot && cp a.jpg dot/ && tar cf dot.tar -C dot .") == 0);
		rc = expand_file("dot.tar", NULL, &ms, &err);
		CHECK(rc == KS_OK && ms.n == 1 && find(&ms, "a.jpg") == 0);
		members_free(&ms);
	}

	if (have("7z")) {
		CHECK(sh("7z a -bd -bso0 -bsp0 t.7z a.jpg sub") == 0);
		rc = expand_file("t.7z", NULL, &ms, &err);
		check_abc("7z", &ms, rc, &err);
		members_free(&ms);
	}
}

static void test_limits(void)
{
	struct members ms = {0};
	struct ks_err err = {0};
	int rc;
	const char *name = have("zip") ? "t.zip" : "t.tar";

	/* max_members: the first member is delivered, then the limit stops it */
	struct ks_archive_limits lim = {
	    .max_members = 1, .max_member_bytes = 1 << 20, .max_total_bytes = 1 << 30};
	rc = expand_file(name, &lim, &ms, &err);
	CHECK(rc == KS_E_LIMIT && ms.n == 1);
	CHECK(strstr(err.msg, "members") != NULL);
	members_free(&ms);

	/* max_member_bytes: large members are cut, flagged, and hold the first bytes */
	lim = (struct ks_archive_limits){
	    .max_members = 100, .max_member_bytes = 1000, .max_total_bytes = 1 << 30};
	rc = expand_file(name, &lim, &ms, &err);
	CHECK(rc == KS_OK && ms.n == 3);
	int a = find(&ms, "a.jpg"), c = find(&ms, "sub/deeper/c.bin");
	CHECK(a >= 0 && ms.truncated[a] && ms.size[a] == 1000);
	CHECK(c >= 0 && !ms.truncated[c] && ms.size[c] == 1);
	if (a == 0 && ms.first) {
		size_t len = 0;
		uint8_t *orig = load("a.jpg", &len);
		CHECK(orig && ms.first_len == 1000 && !memcmp(orig, ms.first, 1000));
		free(orig);
	}
	members_free(&ms);

	/* max_total_bytes: stops once the archive expanded that much */
	lim = (struct ks_archive_limits){
	    .max_members = 100, .max_member_bytes = 1 << 20, .max_total_bytes = 50000};
	rc = expand_file(name, &lim, &ms, &err);
	CHECK(rc == KS_E_LIMIT);
	CHECK(ms.n >= 1 && ms.n <= 3);
	uint64_t total = 0;
	int cut = 0;
	for (int i = 0; i < ms.n; i++) {
		total += ms.size[i];
		cut += ms.truncated[i];
	}
	CHECK(total == 50000 && cut == 1);
	CHECK(strstr(err.msg, "50000") != NULL);
	members_free(&ms);

	/* limits are taken literally: no budget left, nothing expanded */
	lim = (struct ks_archive_limits){.max_members = 100, .max_member_bytes = 1 << 20};
	rc = expand_file(name, &lim, &ms, &err);
	CHECK(rc == KS_E_LIMIT && ms.n == 1 && ms.size[0] == 0 && ms.truncated[0]);
	members_free(&ms);
	lim = (struct ks_archive_limits){.max_member_bytes = 1 << 20, .max_total_bytes = 1 << 30};
	rc = expand_file(name, &lim, &ms, &err);
	CHECK(rc == KS_E_LIMIT && ms.n == 0);
	members_free(&ms);

	/* the callback stops the expansion with its own status */
	ms.stop_after = 1;
	rc = expand_file(name, NULL, &ms, &err);
	CHECK(rc == KS_E_ENV && ms.n == 1);
	members_free(&ms);
}

static void test_damage(void)
{
	struct members ms = {0};
	struct ks_err err = {0};
	size_t len = 0;
	int rc;

	/* garbage */
	uint8_t junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	rc = ks_archive_expand(junk, sizeof junk, NULL, on_member, &ms, &err);
	CHECK(rc == KS_E_EVIDENCE && ms.n == 0 && err.msg[0]);
	members_free(&ms);

	/* bad arguments */
	CHECK(ks_archive_expand(NULL, 10, NULL, on_member, &ms, &err) == KS_E_USAGE);

	/* a tar.gz cut short: what comes before the cut is delivered, then damage */
	uint8_t *d = load("t.tar.gz", &len);
	if (d) {
		/* a.jpg (20000 random bytes) comes first; cut inside sub/b.png */
		rc = ks_archive_expand(d, len / 2, NULL, on_member, &ms, &err);
		CHECK(rc == KS_E_EVIDENCE);
		int a = find(&ms, "a.jpg");
		CHECK(a >= 0 && !strcmp(ms.md5[a], md5_a));
		int b = find(&ms, "sub/b.png");
		CHECK(b < 0 || ms.has_error[b]);
		members_free(&ms);
		/* every prefix length: never a crash, never OK with a wrong member */
		for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
			rc = ks_archive_expand(d, cut, NULL, on_member, &ms, &err);
			CHECK(rc == KS_E_EVIDENCE || rc == KS_OK);
			members_free(&ms);
		}
		free(d);
	}

	/* a zip cut short (no central directory): local headers still give a.jpg */
	d = load("t.zip", &len);
	if (d) {
		rc = ks_archive_expand(d, len - 40, NULL, on_member, &ms, &err);
		CHECK(rc == KS_E_EVIDENCE || rc == KS_OK);
		members_free(&ms);
		rc = ks_archive_expand(d, 21000, NULL, on_member, &ms, &err);
		CHECK(rc == KS_E_EVIDENCE);
		members_free(&ms);
		/* bytes flipped in the middle of the compressed data */
		for (size_t i = 200; i < 260 && i < len; i++)
			d[i] ^= 0x5a;
		rc = ks_archive_expand(d, len, NULL, on_member, &ms, &err);
		CHECK(rc == KS_E_EVIDENCE);
		int a = find(&ms, "a.jpg");
		CHECK(a < 0 || ms.has_error[a] || strcmp(ms.md5[a], md5_a) != 0);
		members_free(&ms);
		free(d);
	}

	/* a 7z cut short */
	d = load("t.7z", &len);
	if (d) {
		rc = ks_archive_expand(d, len - 30, NULL, on_member, &ms, &err);
		CHECK(rc == KS_E_EVIDENCE);
		members_free(&ms);
		free(d);
	}
}

int main(void)
{
	const char *t = ktest_tmpdir();
	if (!t) {
		printf("no temporary directory\n");
		return 1;
	}
	snprintf(tmp, sizeof tmp, "%s", t);
	char p[512];
	snprintf(p, sizeof p, "%s/a.jpg", tmp);
	make_file(p, 20000, 1, md5_a);
	snprintf(p, sizeof p, "%s/sub", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/sub/deeper", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/sub/b.png", tmp);
	make_file(p, 300000, 2, md5_b);
	snprintf(p, sizeof p, "%s/sub/deeper/c.bin", tmp);
	make_file(p, 1, 3, md5_c);

	test_formats();
	test_limits();
	test_damage();

	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return ktest_done();
}
