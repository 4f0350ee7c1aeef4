/* Tests for ks_source_carve_regions (evidence.h) on images made at test time with
 * mkfs.fat, mtools and sfdisk: an MBR disk with one FAT partition and unpartitioned
 * space before and after it, and the same file system bare. The regions must not
 * overlap, must cover the gaps and the file system's free clusters (where a deleted
 * file's bytes lie) but never a live file's bytes, must read the same bytes as the
 * image, and a loose file is one "whole file" region. Missing tools skip. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kestrel/evidence.h"
#include "ktest.h"

static const char *tmp;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096], full[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "(cd %s && %s) >/dev/null 2>&1", tmp, cmd);
	return system(full);
}

#define MAXR 256
struct regions {
	struct {
		char what[32], volume[64], fs[16];
		uint64_t off, len, fs_off;
		uint32_t bs;
		int same_bytes;
	} r[MAXR];
	size_t n;
	const uint8_t *image; /* the medium, to compare reads with */
	size_t image_len;
	int stop_after;
};

static int on_region(void *ctx, const struct ks_region_info *ri, struct ks_item_reader *media)
{
	struct regions *g = ctx;
	if (g->n >= MAXR)
		return KS_OK;
	size_t i = g->n++;
	snprintf(g->r[i].what, sizeof g->r[i].what, "%s", ri->what);
	snprintf(g->r[i].volume, sizeof g->r[i].volume, "%s", ri->volume);
	snprintf(g->r[i].fs, sizeof g->r[i].fs, "%s", ri->fs_type ? ri->fs_type : "");
	g->r[i].off = ri->offset;
	g->r[i].len = ri->length;
	g->r[i].fs_off = ri->fs_offset;
	g->r[i].bs = ri->block_size;
	/* The reader gives the medium's bytes at absolute offsets. */
	uint8_t buf[600];
	size_t want = ri->length < sizeof buf ? (size_t)ri->length : sizeof buf;
	struct ks_err err = {0};
	ssize_t n = ks_item_read(media, ri->offset, buf, want, &err);
	g->r[i].same_bytes = n == (ssize_t)want && g->image && ri->offset + want <= g->image_len &&
			     memcmp(buf, g->image + ri->offset, want) == 0;
	if (g->stop_after && (int)g->n >= g->stop_after)
		return KS_E_LIMIT;
	return KS_OK;
}

struct item_offs {
	char path[16][64];
	int64_t off[16];
	uint64_t size[16];
	int state[16], contiguous[16];
	size_t n;
};

static int on_item(void *ctx, const struct ks_item_info *info, struct ks_item_reader *rd)
{
	struct item_offs *o = ctx;
	if (o->n < 16) {
		snprintf(o->path[o->n], sizeof o->path[o->n], "%s", info->path);
		o->off[o->n] = info->offset;
		o->size[o->n] = info->size;
		o->state[o->n] = info->state;
		o->contiguous[o->n] = info->contiguous;
		o->n++;
	}
	return KS_OK;
}

/* Index of the region holding [off, off+len) whole, or -1; *any set if any region
 * touches it. */
static int region_holding(const struct regions *g, uint64_t off, uint64_t len, int *any)
{
	int found = -1;
	*any = 0;
	for (size_t i = 0; i < g->n; i++) {
		uint64_t a = g->r[i].off, b = a + g->r[i].len;
		if (off < b && off + len > a)
			*any = 1;
		if (off >= a && off + len <= b)
			found = (int)i;
	}
	return found;
}

static void no_overlap(const struct regions *g)
{
	int ok = 1;
	for (size_t i = 0; i < g->n; i++) {
		ok &= g->r[i].len > 0 && g->r[i].same_bytes;
		for (size_t j = i + 1; j < g->n; j++) {
			uint64_t a = g->r[i].off, b = a + g->r[i].len;
			uint64_t c = g->r[j].off, d = c + g->r[j].len;
			if (a < d && c < b) {
				fprintf(stderr, "regions %zu and %zu overlap\n", i, j);
				ok = 0;
			}
		}
	}
	CHECK(ok);
}

static void show(const struct regions *g)
{
	for (size_t i = 0; i < g->n; i++)
		printf("  %-16s %-20s %10llu +%-10llu %s bs %u\n", g->r[i].what, g->r[i].volume,
		       (unsigned long long)g->r[i].off, (unsigned long long)g->r[i].len, g->r[i].fs,
		       g->r[i].bs);
}

static void disk_image(void)
{
	if (run("command -v mkfs.fat && command -v mcopy && command -v sfdisk") != 0) {
		printf("skip: FAT image (needs dosfstools, mtools, fdisk)\n");
		return;
	}
	/* Two files of random bytes; the second is deleted, so its clusters are free. */
	if (run("head -c 20000 /dev/urandom > live.bin && head -c 30000 /dev/urandom > gone.bin"
		" && mkfs.fat -C p.img 4096 && mcopy -i p.img live.bin ::/live.bin"
		" && mcopy -i p.img gone.bin ::/gone.bin && mdel -i p.img ::/gone.bin"
		" && truncate -s 8M d.img"
		" && printf 'label: dos\\nstart=2048, size=8192, type=6\\n' | sfdisk -q d.img"
		" && dd if=p.img of=d.img bs=512 seek=2048 conv=notrunc") != 0) {
		printf("skip: FAT image (a tool failed)\n");
		return;
	}
	char path[600];
	for (int bare = 0; bare < 2; bare++) {
		snprintf(path, sizeof path, "%s/%s", tmp, bare ? "p.img" : "d.img");
		size_t ilen = 0;
		uint8_t *image = ktest_read_file(path, &ilen);
		struct ks_source *src = NULL;
		struct ks_err err = {0};
		CHECK(ks_source_open(path, &src, &err) == KS_OK);
		if (!src) {
			free(image);
			continue;
		}
		struct item_offs items = {0};
		CHECK(ks_source_walk(src, NULL, on_item, NULL, &items, &err) == KS_OK);
		struct regions *g = calloc(1, sizeof *g);
		g->image = image;
		g->image_len = ilen;
		CHECK(ks_source_carve_regions(src, on_region, NULL, g, &err) == KS_OK);
		printf("%s: %zu regions\n", bare ? "bare FAT" : "MBR disk", g->n);
		show(g);
		no_overlap(g);
		uint64_t base = bare ? 0 : 1 << 20;
		int gap_before = 0, gap_after = 0, unalloc = 0, other = 0;
		for (size_t i = 0; i < g->n; i++) {
			if (strcmp(g->r[i].what, "unpartitioned") == 0) {
				gap_before |= g->r[i].off == 0 && g->r[i].len == (1 << 20);
				gap_after |= g->r[i].off == 5 << 20 && g->r[i].len == 3 << 20;
			} else if (strcmp(g->r[i].what, "unallocated") == 0) {
				unalloc++;
				CHECK(g->r[i].off >= base &&
				      g->r[i].off + g->r[i].len <= base + (4 << 20));
				CHECK(strncmp(g->r[i].fs, "fat", 3) == 0 && g->r[i].bs == 512);
				CHECK(g->r[i].fs_off == base);
				CHECK(strstr(g->r[i].volume, "fat") != NULL);
			} else {
				other++;
			}
		}
		CHECK(unalloc >= 1);
		CHECK(other == 0);
		if (!bare)
			CHECK(gap_before && gap_after);
		else
			CHECK(!gap_before && !gap_after);
		/* The live file's bytes are in no region; the deleted one's lie in one. */
		int seen_live = 0, seen_gone = 0, any;
		for (size_t i = 0; i < items.n; i++) {
			if (items.off[i] < 0)
				continue;
			if (strcmp(items.path[i], "/live.bin") == 0) {
				seen_live = 1;
				CHECK(items.contiguous[i]); /* written whole, fresh file system */
				CHECK(region_holding(g, (uint64_t)items.off[i], items.size[i],
						     &any) < 0);
				CHECK(!any);
			} else if (strstr(items.path[i], "one.bin")) { /* "_one.bin": FAT deleted */
				seen_gone = 1;
				CHECK(items.state[i] == KS_STATE_DELETED);
				CHECK(region_holding(g, (uint64_t)items.off[i], items.size[i],
						     &any) >= 0);
			}
		}
		CHECK(seen_live && seen_gone);
		/* A callback's error stops the walk and comes back. */
		memset(g, 0, sizeof *g);
		g->stop_after = 1;
		CHECK(ks_source_carve_regions(src, on_region, NULL, g, &err) == KS_E_LIMIT);
		CHECK(g->n == 1);
		free(g);
		free(image);
		ks_source_close(src);
	}
}

static void loose_file_and_directory(void)
{
	char path[600];
	snprintf(path, sizeof path, "%s/loose.bin", tmp);
	FILE *f = fopen(path, "wb");
	for (int i = 0; i < 100000; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	size_t ilen;
	uint8_t *image = ktest_read_file(path, &ilen);
	struct ks_source *src = NULL;
	struct ks_err err = {0};
	CHECK(ks_source_open(path, &src, &err) == KS_OK);
	struct regions *g = calloc(1, sizeof *g);
	g->image = image;
	g->image_len = ilen;
	if (src) {
		CHECK(ks_source_carve_regions(src, on_region, NULL, g, &err) == KS_OK);
		CHECK(g->n == 1 && strcmp(g->r[0].what, "whole file") == 0 && g->r[0].off == 0 &&
		      g->r[0].len == 100000 && g->r[0].same_bytes && g->r[0].bs == 0);
		ks_source_close(src);
	}
	memset(g, 0, sizeof *g);
	CHECK(ks_source_open(tmp, &src, &err) == KS_OK);
	if (src) {
		CHECK(ks_source_carve_regions(src, on_region, NULL, g, &err) == KS_OK);
		CHECK(g->n == 0);
		ks_source_close(src);
	}
	CHECK(ks_source_carve_regions(NULL, on_region, NULL, g, &err) == KS_E_USAGE);
	free(g);
	free(image);
}

int main(void)
{
	tmp = ktest_tmpdir();
	disk_image();
	loose_file_and_directory();
	return ktest_done();
}
