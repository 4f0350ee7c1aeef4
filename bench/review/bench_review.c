/* Review at scale: builds (or reuses) a synthetic case of N media in near-duplicate
 * clusters, with a stored preview and PDQ each, places them in groups, then times
 * what the server does for the two operations an officer waits on: one grid page
 * (the queue page and its 100 preview JPEGs) and grading a group of 1,000 (members,
 * grades, audit row, commit). Prints the figures against the targets (150 ms, 50 ms).
 * usage: bench_review CASE_DIR [N] [preview-bytes]   (CASE_DIR is made if missing) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kestrel/media.h"
#include "kestrel/review.h"
#include "kestrel/store_review.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void die(const char *what, const struct ks_err *err)
{
	fprintf(stderr, "bench_review: %s: %s\n", what, err->msg);
	exit(1);
}

static void flip(uint8_t h[32], int k)
{
	for (int i = 0; i < k; i++) {
		int bit = (int)(rnd() % 256);
		h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

#define BIG 1000 /* members of the group graded at once */

/* CPU seconds of this process: the machine may be shared, wall time inflated. */
static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void build(const char *dir, long n, size_t pbytes)
{
	struct ks_err err = {0};
	struct ks_case_meta meta = {.ref = "BENCH", .examiner = "bench"};
	struct ks_store *st = NULL;
	int64_t ex = 0, src = 0;
	if (ks_store_create(dir, &meta, &err) || ks_store_open(dir, 0, &st, &err))
		die("create", &err);
	uint8_t *jpeg = malloc(pbytes);
	for (size_t i = 0; i < pbytes; i++)
		jpeg[i] = (uint8_t)rnd();
	jpeg[0] = 0xff;
	jpeg[1] = 0xd8;
	uint8_t leader[32] = {0};
	long in_cluster = 0, cluster_size = 0;
	double t0 = ks_time_mono();
	for (long i = 0; i < n; i++) {
		if (i % 50000 == 0) {
			if (i && ks_store_commit(st, &err))
				die("commit", &err);
			if (ks_store_begin(st, &err))
				die("begin", &err);
			char ref[32];
			snprintf(ref, sizeof ref, "EX%02ld", i / 200000);
			if (ks_store_exhibit_get(st, ref, &ex, &err) ||
			    ks_store_source_add(st, ex, "/bench/ev", "dir", 1, &src, &err))
				die("exhibit", &err);
		}
		/* Clusters of 1..19 near-duplicates; the first cluster has BIG members. */
		if (in_cluster == cluster_size) {
			for (int b = 0; b < 32; b++)
				leader[b] = (uint8_t)rnd();
			cluster_size = i == 0 ? BIG : 1 + (long)(rnd() % 19);
			in_cluster = 0;
		}
		uint8_t h[32];
		memcpy(h, leader, 32);
		if (in_cluster++)
			flip(h, (int)(rnd() % 16));
		struct ks_digests d;
		memset(&d, 0, sizeof d);
		long v = i + 1;
		memcpy(d.sha256, &v, sizeof v);
		memcpy(d.md5, &v, sizeof v);
		memcpy(d.sha1, &v, sizeof v);
		struct ks_media_rec m = {&d,   40000, "jpeg",	  KS_KIND_PICTURE,
					 1024, 768,   KS_VALID_OK};
		int64_t id = 0, fid = 0;
		int is_new;
		if (ks_store_media_put(st, &m, &id, &is_new, &err))
			die("media", &err);
		char path[96];
		snprintf(path, sizeof path, "Users/u/Pictures/f%04ld/img%07ld.jpg",
			 (i / 500) % 10000, i);
		struct ks_file_rec f = {.exhibit_id = ex,
					.source_id = src,
					.media_id = id,
					.path = path,
					.size = 40000,
					.offset = -1,
					.type = "jpeg",
					.kind = KS_KIND_PICTURE};
		if (ks_store_file_add(st, &f, &fid, &err))
			die("file", &err);
		struct ks_preview p = {.kind = KS_PREVIEW_STILL,
				       .jpeg = jpeg,
				       .len = pbytes,
				       .width = 256,
				       .height = 192,
				       .has_pdq = 1,
				       .pdq_quality = 90};
		memcpy(p.pdq, h, 32);
		if (ks_store_preview_put(st, id, &p, &err))
			die("preview", &err);
	}
	if (ks_store_commit(st, &err))
		die("commit", &err);
	printf("built %ld media in %.1f s\n", n, ks_time_mono() - t0);
	t0 = ks_time_mono();
	struct ks_review_group_stats gs;
	if (ks_review_group_update(st, 0, 1, &gs, &err))
		die("group", &err);
	printf("grouped %lld media (%lld joined a group) in %.1f s\n", (long long)gs.placed,
	       (long long)gs.joined, ks_time_mono() - t0);
	free(jpeg);
	ks_store_close(st);
}

struct page {
	int64_t covers[100];
	int n;
};

static int on_group(void *ctx, const struct ks_queue_group *g)
{
	struct page *p = ctx;
	if (p->n < 100)
		p->covers[p->n++] = g->cover;
	return 0;
}

struct members {
	int64_t ids[4096];
	size_t n;
};

static int on_member(void *ctx, const struct ks_queue_member *m)
{
	struct members *x = ctx;
	if (x->n < 4096 && !m->known && m->state == KS_GRADE_NONE)
		x->ids[x->n++] = m->media;
	return 0;
}

/* One grid page as the server serves it: the queue page, then each preview. */
static double grid_page(struct ks_store *st, int64_t offset)
{
	struct ks_err err = {0};
	struct page p = {.n = 0};
	struct ks_buf b = {0};
	int64_t total = 0;
	double t0 = ks_time_mono(), c0 = cpu();
	if (ks_store_queue_page(st, 0, offset, 100, &total, on_group, &p, &err))
		die("queue", &err);
	size_t bytes = 0;
	for (int i = 0; i < p.n; i++) {
		ks_buf_reset(&b);
		int kind;
		if (ks_store_preview_get(st, p.covers[i], &b, &kind, &err))
			die("preview", &err);
		bytes += b.len;
	}
	double ms = (ks_time_mono() - t0) * 1000;
	printf("  page at %lld: %.1f ms wall, %.1f ms CPU\n", (long long)offset, ms,
	       (cpu() - c0) * 1000);
	ks_buf_release(&b);
	if (p.n != 100)
		fprintf(stderr, "bench_review: page at %lld had %d groups\n", (long long)offset,
			p.n);
	(void)bytes;
	return ms;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_review CASE_DIR [N] [preview-bytes]\n");
		return 2;
	}
	const char *dir = argv[1];
	long n = argc > 2 ? atol(argv[2]) : 1000000;
	size_t pbytes = argc > 3 ? (size_t)atol(argv[3]) : 6000;
	struct stat sb;
	char *db = ks_xasprintf("%s/case.db", dir);
	if (stat(db, &sb) != 0)
		build(dir, n, pbytes);
	else
		printf("reusing %s\n", dir);
	free(db);

	struct ks_err err = {0};
	struct ks_store *st = NULL;
	if (ks_store_open(dir, 0, &st, &err))
		die("open", &err);
	struct ks_review_counts c;
	if (ks_store_review_counts(st, &c, &err))
		die("counts", &err);
	printf("case: %lld groups to grade, %lld media to grade\n", (long long)c.groups_open,
	       (long long)c.media_open);

	grid_page(st, 0); /* warm */
	double first = grid_page(st, 0), mid = grid_page(st, c.groups_open / 2);
	double deep = grid_page(st, c.groups_open > 200 ? c.groups_open - 200 : 0);
	printf("grid page of 100 previews (warm): first page %.1f ms, middle %.1f ms, near the end"
	       " %.1f ms (target < 150 ms)\n",
	       first, mid, deep);

	/* The big cluster is the first group made; grade it as the server does. */
	struct page p = {.n = 0};
	int64_t total;
	if (ks_store_queue_page(st, 1, 0, 100, &total, on_group, &p, &err))
		die("queue", &err);
	int64_t big = 0;
	struct members m = {.n = 0};
	for (int64_t gid = 1; gid < 50 && !big; gid++) {
		m.n = 0;
		if (ks_store_group_members(st, gid, on_member, &m, &err) == KS_OK && m.n >= BIG / 2)
			big = gid;
	}
	if (!big) {
		printf("no open group of %d found (already graded?)\n", BIG);
		ks_store_close(st);
		return 0;
	}
	double t0 = ks_time_mono(), c0 = cpu();
	int64_t done = 0, action = 0, *ids = NULL;
	size_t nids = 0;
	if (ks_store_group_open(st, big, &ids, &nids, &err) || ks_store_begin(st, &err) ||
	    ks_store_grade(st, ids, nids, "bench", "uk", "C", &done, &action, &err))
		die("grade", &err);
	struct ks_buf d = {0};
	ks_buf_addf(&d, "uk:C group %lld media", (long long)big);
	for (size_t i = 0; i < nids; i++)
		ks_buf_addf(&d, "%s%lld", i ? "," : " ", (long long)ids[i]);
	free(ids);
	if (ks_store_audit(st, "bench", "review.grade", (const char *)d.data, &err) ||
	    ks_store_commit(st, &err))
		die("grade", &err);
	double gms = (ks_time_mono() - t0) * 1000, gcpu = (cpu() - c0) * 1000;
	printf("grading a group of %lld: %.1f ms wall, %.1f ms CPU (target < 50 ms)\n",
	       (long long)done, gms, gcpu);
	/* undo, so the bench can run again on the same case */
	const char *kind;
	int64_t un;
	if (ks_store_begin(st, &err) || ks_store_review_undo(st, "bench", &kind, &un, &err) ||
	    ks_store_commit(st, &err))
		die("undo", &err);
	ks_buf_release(&d);
	ks_store_close(st);
	return 0;
}
