/* Evidence layer on evidence made at test time with Debian tools (no root needed): a
 * directory tree (symlinks out, a fifo, an unreadable folder), a loose file, a FAT
 * image with a deleted file (mkfs.fat + mtools), the same as split raw, an MBR disk
 * with a FAT partition (sfdisk), an ext4 image (mkfs.ext4 -d, debugfs rm, hard links).
 * A sub-test whose tool is missing says so and is skipped. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kestrel/evidence.h"
#include "ktest.h"

struct item {
	char *volume, *path;
	int state;
	uint64_t size, inode;
	int64_t offset, mtime;
	char md5[33];
	int read_error;
};

struct walk {
	struct item *items;
	size_t n, cap;
	int problems;
	char problem_where[8][256];
};

static char tmp[256];

static void md5_hex(const uint8_t *p, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
	ks_hex_encode(md, 16, out);
}

static int on_item(void *ctx, const struct ks_item_info *info, struct ks_item_reader *rd)
{
	struct walk *w = ctx;
	struct ks_err err = {0};
	uint8_t *all = malloc(info->size + 1);
	uint64_t off = 0;
	ssize_t n = 0;
	/* odd-sized reads to exercise offsets that are not block aligned */
	while (off < info->size && (n = ks_item_read(rd, off, all + off, 777, &err)) > 0)
		off += (uint64_t)n;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 32;
		w->items = realloc(w->items, w->cap * sizeof *w->items);
	}
	struct item *it = &w->items[w->n++];
	memset(it, 0, sizeof *it);
	it->volume = strdup(info->volume);
	it->path = strdup(info->path);
	it->state = info->state;
	it->size = info->size;
	it->inode = info->inode;
	it->offset = info->offset;
	it->mtime = info->mtime;
	it->read_error = n < 0 || off != info->size;
	/* reading past the end gives 0 bytes, not an error */
	uint8_t b;
	if (ks_item_read(rd, info->size, &b, 1, &err) != 0)
		it->read_error = 1;
	md5_hex(all, (size_t)off, it->md5);
	free(all);
	return KS_OK;
}

static void on_problem(void *ctx, const char *where, const char *msg)
{
	struct walk *w = ctx;
	if (w->problems < 8)
		snprintf(w->problem_where[w->problems], sizeof w->problem_where[0], "%s", where);
	w->problems++;
	fprintf(stderr, "problem (expected or not): %s: %s\n", where, msg);
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->items[i].volume);
		free(w->items[i].path);
	}
	free(w->items);
	memset(w, 0, sizeof *w);
}

static int walk_source(const char *path, struct walk *w, const char **kind)
{
	struct ks_source *src = NULL;
	struct ks_err err = {0};
	int rc = ks_source_open(path, &src, &err);
	if (rc != KS_OK) {
		fprintf(stderr, "open %s: %s\n", path, err.msg);
		return rc;
	}
	if (kind)
		*kind = ks_source_get_info(src)->kind;
	rc = ks_source_walk(src, NULL, on_item, on_problem, w, &err);
	ks_source_close(src);
	return rc;
}

static const struct item *find_path(const struct walk *w, const char *path)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->items[i].path, path) == 0)
			return &w->items[i];
	return NULL;
}

/* Deterministic content: n bytes from a seed, written to dir/name; md5 into out. */
static void make_file(const char *path, size_t n, unsigned seed, char md5[33])
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;
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
	if (md5)
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

/* ---- directory tree ---- */

static void test_directory(void)
{
	char root[512], p[600], md5a[33], md5b[33], md5c[33];
	snprintf(root, sizeof root, "%s/tree", tmp);
	mkdir(root, 0755);
	snprintf(p, sizeof p, "%s/b.jpg", root);
	make_file(p, 3000, 1, md5a);
	snprintf(p, sizeof p, "%s/sub", root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/sub/c.png", root);
	make_file(p, 70000, 2, md5b);
	snprintf(p, sizeof p, "%s/a empty", root);
	make_file(p, 0, 3, md5c);
	snprintf(p, sizeof p, "%s/link-out", root);
	CHECK(symlink("/etc/hostname", p) == 0);
	snprintf(p, sizeof p, "%s/dirlink-out", root);
	CHECK(symlink("/etc", p) == 0);
	snprintf(p, sizeof p, "%s/fifo", root);
	CHECK(mkfifo(p, 0644) == 0);
	snprintf(p, sizeof p, "%s/locked", root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/locked/hidden.jpg", root);
	make_file(p, 10, 4, NULL);
	snprintf(p, sizeof p, "%s/locked", root);
	chmod(p, 0);
	int locked = geteuid() != 0; /* root reads it anyway */

	struct walk w = {0};
	const char *kind = NULL;
	CHECK(walk_source(root, &w, &kind) == KS_OK);
	CHECK_STR(kind, "directory");
	CHECK(w.n == (locked ? 3u : 4u));
	/* name order, paths relative to the root */
	if (w.n >= 3) {
		CHECK_STR(w.items[0].path, "/a empty");
		CHECK_STR(w.items[1].path, "/b.jpg");
		CHECK_STR(w.items[w.n - 1].path, "/sub/c.png");
	}
	const struct item *it = find_path(&w, "/b.jpg");
	CHECK(it && it->size == 3000 && !strcmp(it->md5, md5a) && !it->read_error);
	CHECK(it && it->state == KS_STATE_LIVE && it->offset == -1 && it->inode != 0);
	CHECK(it && !strcmp(it->volume, ""));
	it = find_path(&w, "/sub/c.png");
	CHECK(it && it->size == 70000 && !strcmp(it->md5, md5b) && !it->read_error);
	it = find_path(&w, "/a empty");
	CHECK(it && it->size == 0 && !strcmp(it->md5, md5c));
	CHECK(find_path(&w, "/link-out") == NULL);
	CHECK(find_path(&w, "/fifo") == NULL);
	for (size_t i = 0; i < w.n; i++)
		CHECK(strncmp(w.items[i].path, "/dirlink-out", 12) != 0);
	if (locked) {
		CHECK(w.problems == 1);
		CHECK_STR(w.problem_where[0], "/locked");
	}
	chmod(p, 0755);
	struct stat st;
	snprintf(p, sizeof p, "%s/b.jpg", root);
	it = find_path(&w, "/b.jpg");
	CHECK(stat(p, &st) == 0 && it && it->mtime == st.st_mtime);
	walk_free(&w);

	/* a tree nested deeper than the walker's limit: reported, the rest is walked */
	char deep[4096];
	int len = snprintf(deep, sizeof deep, "%s/deep", tmp);
	mkdir(deep, 0755);
	for (int i = 0; i < 300; i++) {
		len += snprintf(deep + len, sizeof deep - (size_t)len, "/d");
		mkdir(deep, 0755);
	}
	snprintf(deep + len, sizeof deep - (size_t)len, "/bottom.jpg");
	make_file(deep, 10, 5, NULL);
	snprintf(deep, sizeof deep, "%s/deep/top.jpg", tmp);
	make_file(deep, 10, 6, NULL);
	snprintf(deep, sizeof deep, "%s/deep", tmp);
	w = (struct walk){0};
	CHECK(walk_source(deep, &w, &kind) == KS_OK);
	CHECK(w.n == 1 && find_path(&w, "/top.jpg") != NULL);
	CHECK(w.problems == 1);
	walk_free(&w);

	/* a directory source has no image bytes */
	struct ks_source *src = NULL;
	struct ks_err err = {0};
	uint8_t b;
	CHECK(ks_source_open(root, &src, &err) == KS_OK);
	CHECK(src && ks_source_read(src, 0, &b, 1, &err) == KS_E_USAGE);
	ks_source_close(src);

	/* a missing path */
	snprintf(p, sizeof p, "%s/nothing-here", tmp);
	src = NULL;
	CHECK(ks_source_open(p, &src, &err) == KS_E_NOTFOUND && src == NULL);

	/* a loose file is one item named after it */
	snprintf(p, sizeof p, "%s/sub/c.png", root);
	w = (struct walk){0};
	CHECK(walk_source(p, &w, &kind) == KS_OK);
	CHECK_STR(kind, "file");
	CHECK(w.n == 1);
	if (w.n == 1) {
		CHECK_STR(w.items[0].path, "/c.png");
		CHECK_STR(w.items[0].md5, md5b);
		CHECK(w.items[0].offset == 0 && w.items[0].state == KS_STATE_LIVE);
	}
	walk_free(&w);
}

/* ---- FAT with mtools ---- */

static void test_fat(void)
{
	if (!have("mkfs.fat") || !have("mcopy") || !have("mdel") || !have("split"))
		return;
	char src[512], img[600], p[700], md5a[33], md5b[33], md5d[33];
	snprintf(src, sizeof src, "%s/fatsrc", tmp);
	mkdir(src, 0755);
	snprintf(p, sizeof p, "%s/photo.jpg", src);
	make_file(p, 12345, 10, md5a);
	snprintf(p, sizeof p, "%s/clip.mp4", src);
	make_file(p, 40000, 11, md5b);
	snprintf(p, sizeof p, "%s/gone.jpg", src);
	make_file(p, 5000, 12, md5d);
	snprintf(img, sizeof img, "%s/fat.img", tmp);
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "mkfs.fat -C '%s' 4096 >/dev/null && mmd -i '%s' ::/DCIM && "
		 "mcopy -i '%s' '%s/photo.jpg' ::/DCIM/ && mcopy -i '%s' '%s/clip.mp4' ::/ && "
		 "mcopy -i '%s' '%s/gone.jpg' ::/ && mdel -i '%s' ::/gone.jpg",
		 img, img, img, src, img, src, img, src, img);
	if (system(cmd) != 0) {
		CHECK(!"making the FAT image");
		return;
	}
	struct walk w = {0};
	const char *kind = NULL;
	CHECK(walk_source(img, &w, &kind) == KS_OK);
	CHECK_STR(kind, "raw");
	CHECK(w.n == 3);
	CHECK(w.problems == 0);
	const struct item *it = find_path(&w, "/DCIM/photo.jpg");
	CHECK(it && it->state == KS_STATE_LIVE && !strcmp(it->md5, md5a));
	CHECK(it && !strcmp(it->volume, "fat12") && it->offset > 0 && !it->read_error);
	/* the offset is where the first byte lives in the image */
	if (it && it->offset > 0) {
		size_t len = 0;
		unsigned char *whole = ktest_read_file(img, &len);
		char m[33];
		CHECK(whole && (size_t)it->offset + it->size <= len);
		if (whole && (size_t)it->offset + it->size <= len) {
			md5_hex(whole + it->offset, it->size, m); /* contiguous on a fresh FS */
			CHECK_STR(m, md5a);
		}
		free(whole);
	}
	it = find_path(&w, "/clip.mp4");
	CHECK(it && it->state == KS_STATE_LIVE && !strcmp(it->md5, md5b));
	/* FAT loses the first letter of a deleted name */
	it = find_path(&w, "/_one.jpg");
	CHECK(it && it->state == KS_STATE_DELETED && it->size == 5000 && !strcmp(it->md5, md5d));
	walk_free(&w);

	/* the same bytes as split raw, opened from the first segment */
	snprintf(cmd, sizeof cmd, "split -b 1M -d -a 3 --numeric-suffixes=1 '%s' '%s.'", img, img);
	CHECK(system(cmd) == 0);
	snprintf(p, sizeof p, "%s.001", img);
	w = (struct walk){0};
	CHECK(walk_source(p, &w, &kind) == KS_OK);
	CHECK_STR(kind, "split-raw");
	it = find_path(&w, "/clip.mp4");
	CHECK(w.n == 3 && it && !strcmp(it->md5, md5b));
	walk_free(&w);
	struct ks_source *s = NULL;
	struct ks_err err = {0};
	CHECK(ks_source_open(p, &s, &err) == KS_OK);
	if (s) {
		CHECK(ks_source_get_info(s)->size == 4096u * 1024);
		CHECK(ks_source_get_info(s)->is_image == 1);
		/* a read across the segment boundary gives the image's bytes */
		uint8_t buf[64];
		size_t len = 0;
		unsigned char *whole = ktest_read_file(img, &len);
		CHECK(ks_source_read(s, (1 << 20) - 32, buf, 64, &err) == 64);
		CHECK(whole && len == 4096u * 1024 && !memcmp(buf, whole + (1 << 20) - 32, 64));
		CHECK(ks_source_read(s, len - 10, buf, 64, &err) == 10);
		CHECK(ks_source_read(s, len, buf, 64, &err) == 0);
		free(whole);
	}
	ks_source_close(s);

	/* on an MBR disk: "p1 <fs> @<byte offset>" */
	if (!have("sfdisk"))
		return;
	snprintf(img, sizeof img, "%s/mbr.img", tmp);
	snprintf(cmd, sizeof cmd,
		 "truncate -s 12M '%s' && printf 'label: dos\\nstart=2048, size=16384, "
		 "type=c\\nstart=18432, size=4096, type=83\\n' | "
		 "sfdisk -q '%s' && mkfs.fat --offset 2048 '%s' 8192 >/dev/null 2>&1 && "
		 "mcopy -i '%s@@1M' '%s/photo.jpg' ::/",
		 img, img, img, img, src);
	if (system(cmd) != 0) {
		CHECK(!"making the MBR image");
		return;
	}
	w = (struct walk){0};
	CHECK(walk_source(img, &w, &kind) == KS_OK);
	CHECK(w.n == 1);
	/* the second partition holds no file system: reported, and the walk goes on */
	CHECK(w.problems == 1);
	CHECK_STR(w.problem_where[0], "p2 @9437184");
	it = find_path(&w, "/photo.jpg");
	CHECK(it && !strcmp(it->md5, md5a));
	CHECK(it && strncmp(it->volume, "p1 fat", 6) == 0 &&
	      strcmp(it->volume + strlen(it->volume) - 9, " @1048576") == 0);
	CHECK(it && it->offset > 1048576);
	walk_free(&w);
}

/* ---- ext4 ---- */

static void test_ext4(void)
{
	if (!have("mkfs.ext4") || !have("debugfs"))
		return;
	char src[512], img[600], p[700], q[700], md5a[33], md5b[33], md5d[33];
	snprintf(src, sizeof src, "%s/extsrc", tmp);
	mkdir(src, 0755);
	snprintf(p, sizeof p, "%s/pics", src);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/pics/a.jpg", src);
	make_file(p, 100000, 20, md5a);
	snprintf(q, sizeof q, "%s/hardlink.jpg", src);
	CHECK(link(p, q) == 0);
	snprintf(p, sizeof p, "%s/small.png", src);
	make_file(p, 60, 21, md5b); /* may be stored inline */
	snprintf(p, sizeof p, "%s/deleted.jpg", src);
	make_file(p, 9000, 22, md5d);
	snprintf(p, sizeof p, "%s/sym.jpg", src);
	CHECK(symlink("pics/a.jpg", p) == 0);
	snprintf(img, sizeof img, "%s/ext4.img", tmp);
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "mkfs.ext4 -q -d '%s' '%s' 8M >/dev/null 2>&1 && "
		 "debugfs -w -R 'rm deleted.jpg' '%s' >/dev/null 2>&1",
		 src, img, img);
	if (system(cmd) != 0) {
		CHECK(!"making the ext4 image");
		return;
	}
	struct walk w = {0};
	const char *kind = NULL;
	CHECK(walk_source(img, &w, &kind) == KS_OK);
	CHECK_STR(kind, "raw");
	const struct item *a = find_path(&w, "/pics/a.jpg");
	const struct item *h = find_path(&w, "/hardlink.jpg");
	CHECK(a && a->state == KS_STATE_LIVE && !strcmp(a->md5, md5a) && !a->read_error);
	CHECK(a && !strcmp(a->volume, "ext4"));
	/* a live hard link is an occurrence of its own */
	CHECK(h && h->state == KS_STATE_LIVE && !strcmp(h->md5, md5a));
	CHECK(a && h && a->inode == h->inode);
	const struct item *s = find_path(&w, "/small.png");
	CHECK(s && s->size == 60 && !strcmp(s->md5, md5b));
	CHECK(find_path(&w, "/sym.jpg") == NULL);
	/* debugfs rm frees the inode and blocks but leaves the extent: TSK recovers it */
	const struct item *d = find_path(&w, "/deleted.jpg");
	CHECK(d && d->state == KS_STATE_DELETED && d->size == 9000 && !strcmp(d->md5, md5d));
	walk_free(&w);

	/* include_deleted = 0 */
	struct ks_source *src_h = NULL;
	struct ks_err err = {0};
	struct ks_walk_opts opts = {.include_deleted = 0};
	w = (struct walk){0};
	CHECK(ks_source_open(img, &src_h, &err) == KS_OK);
	CHECK(src_h && ks_source_walk(src_h, &opts, on_item, on_problem, &w, &err) == KS_OK);
	CHECK(w.n == 3 && find_path(&w, "/deleted.jpg") == NULL);
	walk_free(&w);
	ks_source_close(src_h);
}

/* A walk stops with the callback's status. */
static int stop_cb(void *ctx, const struct ks_item_info *info, struct ks_item_reader *rd)
{
	(*(int *)ctx)++;
	return KS_E_ENV;
}

static void test_stop(void)
{
	char root[512];
	snprintf(root, sizeof root, "%s/tree", tmp);
	int calls = 0;
	struct ks_source *src = NULL;
	struct ks_err err = {0};
	CHECK(ks_source_open(root, &src, &err) == KS_OK);
	CHECK(src && ks_source_walk(src, NULL, stop_cb, NULL, &calls, &err) == KS_E_ENV);
	CHECK(calls == 1);
	ks_source_close(src);
	ks_source_close(NULL);
	CHECK_STR(ks_state_name(KS_STATE_LIVE), "live");
	CHECK_STR(ks_state_name(KS_STATE_DELETED), "deleted");
	CHECK_STR(ks_state_name(KS_STATE_CARVED), "carved");
	CHECK_STR(ks_state_name(KS_STATE_CACHE), "cache");
}

int main(void)
{
	const char *t = ktest_tmpdir();
	if (!t) {
		printf("no temporary directory\n");
		return 1;
	}
	snprintf(tmp, sizeof tmp, "%s", t);
	test_directory();
	test_fat();
	test_ext4();
	test_stop();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", tmp, tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return ktest_done();
}
