/* Unit tests of the scan's video parts: the vPDQ list importer (probe, "# video:" names,
 * frame and time on every entry, malformed lines named), the store's video tables
 * (facts and features kept once, a record without features replaced, PDQ entries of
 * hash sets, match details kept closest/largest, file rows carrying their video), and
 * ks_video_open_reader (a read callback gives the same fingerprint as the buffer, a
 * failing reader is marked). Hashes and labels are made up; the video is an ffmpeg
 * test pattern (skipped without ffmpeg). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/index.h"
#include "kestrel/media.h"
#include "kestrel/store.h"
#include "kestrel/store_video.h"
#include "kestrel/video.h"
#include "kestrel/vpdq.h"
#include "ktest.h"

static const char H1[] = "939fc3c4f15a8d25e696f9b73258d9eae49b3b4acdb072c61061d818cf62c191";
static const char H2[] = "90b694eba66634bb2b1c2d299b164d496a34b25bd9dc6cdbb626c9362d8d9264";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

struct got {
	int n;
	char names[4][64];
	int64_t frame[4];
	double seconds[4];
	int quality[4];
	uint8_t pdq[4][32];
};

static int on_entry(void *ctx, const struct ks_hash_entry *e)
{
	struct got *g = ctx;
	CHECK(e->has == KS_HAS_PDQ && e->video_frame == 1 && e->name != NULL);
	if (g->n < 4) {
		snprintf(g->names[g->n], sizeof g->names[0], "%s", e->name);
		g->frame[g->n] = e->frame;
		g->seconds[g->n] = e->seconds;
		g->quality[g->n] = e->pdq_quality;
		memcpy(g->pdq[g->n], e->pdq, 32);
	}
	g->n++;
	return 0;
}

static void test_importer(const char *dir)
{
	char path[512], text[1024];
	struct ks_err err = {0};
	snprintf(path, sizeof path, "%s/clip.vpdq", dir);
	snprintf(text, sizeof text,
		 "0,100,%s,0.000\n50,87,%s,2.000\n# video: second one\n25,60,%s,1.5\n", H1, H2, H1);
	write_file(path, text);
	const struct ks_importer_ops *ops = ks_importer_find(path, NULL, &err);
	CHECK(ops != NULL && strcmp(ops->name, "vpdq") == 0);
	struct got g = {0};
	struct ks_import_opts o = {.category = "B", .scheme = "uk"};
	CHECK(ks_import_file(path, &o, on_entry, &g, &err) == KS_OK);
	CHECK(g.n == 3);
	CHECK_STR(g.names[0], "clip.vpdq");
	CHECK_STR(g.names[2], "second one");
	CHECK(g.frame[1] == 50 && g.seconds[1] == 2.0 && g.quality[1] == 87);
	CHECK(g.frame[2] == 25 && g.seconds[2] == 1.5);
	uint8_t want[32];
	CHECK(ks_hex_decode(H2, 64, want, 32) == 0);
	CHECK(memcmp(g.pdq[1], want, 32) == 0);

	/* A PDQ list is not taken for a vPDQ list, nor the other way round. */
	snprintf(path, sizeof path, "%s/stills.pdq", dir);
	snprintf(text, sizeof text, "%s,100,still.jpg\n", H1);
	write_file(path, text);
	ops = ks_importer_find(path, NULL, &err);
	CHECK(ops != NULL && strcmp(ops->name, "pdq") == 0);

	/* Malformed lines are named. */
	snprintf(path, sizeof path, "%s/bad.vpdq", dir);
	snprintf(text, sizeof text, "0,100,%s,0.000\n1,100,%.60s,1.000\n", H1, H2);
	write_file(path, text);
	memset(&g, 0, sizeof g);
	o.format = "vpdq";
	CHECK(ks_import_file(path, &o, on_entry, &g, &err) == KS_E_FORMAT);
	CHECK(strstr(err.msg, "line 2") != NULL);
	snprintf(text, sizeof text, "0,101,%s,0.000\n", H1);
	write_file(path, text);
	CHECK(ks_import_file(path, &o, on_entry, &g, &err) == KS_E_FORMAT);
	snprintf(text, sizeof text, "# video:\n0,100,%s,0.000\n", H1);
	write_file(path, text);
	CHECK(ks_import_file(path, &o, on_entry, &g, &err) == KS_E_FORMAT);
}

/* ---- store --------------------------------------------------------------------------- */

struct rows {
	int videos, with_match;
	double duration;
	char how[32];
	int distance;
	double seconds;
};

static int on_row(void *ctx, const struct ks_file_row *r)
{
	struct rows *s = ctx;
	if (!r->video)
		return 0;
	s->videos++;
	s->duration = r->video->f.duration;
	if (r->video->nmatches) {
		s->with_match++;
		snprintf(s->how, sizeof s->how, "%s", r->video->matches[0].how);
		s->distance = r->video->matches[0].distance;
		s->seconds = r->video->matches[0].seconds;
	}
	return 0;
}

struct feats {
	int videos;
	size_t n;
	int64_t frame1;
};

static int on_feats(void *ctx, int64_t media, const struct ks_video_feature *f, size_t n)
{
	struct feats *s = ctx;
	(void)media;
	s->videos++;
	s->n = n;
	s->frame1 = n > 1 ? f[1].frame : -1;
	return 0;
}

struct pdqs {
	int stills, frames;
	char name[64];
};

static int on_pdq(void *ctx, const struct ks_pdq_entry_row *e)
{
	struct pdqs *s = ctx;
	if (e->video_frame) {
		s->frames++;
		snprintf(s->name, sizeof s->name, "%s", e->name ? e->name : "");
	} else {
		s->stills++;
	}
	return 0;
}

static void test_store(const char *dir)
{
	char cdir[512];
	struct ks_err err = {0};
	struct ks_store *st = NULL;
	snprintf(cdir, sizeof cdir, "%s/case", dir);
	struct ks_case_meta meta = {.ref = "V", .examiner = "t", .scheme = "uk"};
	CHECK(ks_store_create(cdir, &meta, &err) == KS_OK);
	CHECK(ks_store_open(cdir, 0, &st, &err) == KS_OK);
	if (!st)
		return;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	int64_t ex = 0, src = 0, media = 0, set = 0, fid = 0;
	int is_new = 0;
	CHECK(ks_store_exhibit_get(st, "E", &ex, &err) == KS_OK);
	CHECK(ks_store_source_add(st, ex, "/ev", "dir", 0, &src, &err) == KS_OK);
	struct ks_digests d;
	memset(&d, 7, sizeof d);
	struct ks_media_rec m = {&d, 100, "mp4", KS_KIND_VIDEO, 320, 240, KS_VALID_OK};
	CHECK(ks_store_media_put(st, &m, &media, &is_new, &err) == KS_OK);
	struct ks_file_rec f = {.exhibit_id = ex,
				.source_id = src,
				.media_id = media,
				.path = "/a.mp4",
				.size = 100,
				.offset = -1,
				.type = "mp4",
				.kind = KS_KIND_VIDEO};
	CHECK(ks_store_file_add(st, &f, &fid, &err) == KS_OK);

	/* A record without features is replaced by one with; then the first stays. */
	struct ks_video_facts vf = {.status = "failed", .duration = -1, .fps = -1, .why = "x"};
	int stored = 0;
	CHECK(ks_store_video_put(st, media, &vf, NULL, 0, &stored, &err) == KS_OK && stored);
	struct ks_video_feature feat[2] = {{.frame = 0, .seconds = 0, .quality = 100},
					   {.frame = 50, .seconds = 2, .quality = 90}};
	ks_hex_decode(H1, 64, feat[0].pdq, 32);
	ks_hex_decode(H2, 64, feat[1].pdq, 32);
	struct ks_video_facts ok = {.status = "ok",
				    .container = "mp4",
				    .video_codec = "h264",
				    .duration = 10,
				    .fps = 25,
				    .width = 320,
				    .height = 240};
	CHECK(ks_store_video_put(st, media, &ok, feat, 2, &stored, &err) == KS_OK && stored);
	CHECK(ks_store_video_put(st, media, &ok, feat, 1, &stored, &err) == KS_OK && !stored);
	struct ks_video_feature badq = feat[0];
	badq.quality = 101;
	CHECK(ks_store_video_put(st, media, &ok, &badq, 1, &stored, &err) == KS_E_USAGE);

	/* PDQ entries of a set: a still and a frame of a known video. */
	struct ks_hashset_meta hm = {
	    .name = "known", .format = "pdq", .scheme = "uk", .role = "alert", .imported = 1};
	CHECK(ks_store_hashset_add(st, &hm, &set, &err) == KS_OK);
	struct ks_hash_entry e = {.has = KS_HAS_PDQ,
				  .scheme = "uk",
				  .category = "B",
				  .size = -1,
				  .distributed = -1,
				  .pdq_quality = 100};
	ks_hex_decode(H1, 64, e.pdq, 32);
	CHECK(ks_store_hashentry_add(st, set, &e, &err) == KS_OK);
	e.video_frame = 1;
	e.frame = 25;
	e.seconds = 1;
	e.name = "clip";
	CHECK(ks_store_hashentry_add(st, set, &e, &err) == KS_OK);

	/* Match details: a closer frame replaces, a farther one does not. */
	struct ks_video_match_rec mr = {.media_id = media,
					.set_id = set,
					.how = "pdq-frame",
					.entry = "still",
					.distance = 9,
					.seconds = 6,
					.scheme = "uk",
					.category = "B",
					.severity = 2};
	CHECK(ks_store_video_match_add(st, &mr, &err) == KS_OK);
	mr.distance = 3;
	mr.seconds = 4;
	CHECK(ks_store_video_match_add(st, &mr, &err) == KS_OK);
	mr.distance = 20;
	mr.seconds = 8;
	CHECK(ks_store_video_match_add(st, &mr, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);

	struct feats fs = {0};
	CHECK(ks_store_video_features_each(st, on_feats, &fs, &err) == KS_OK);
	CHECK(fs.videos == 1 && fs.n == 2 && fs.frame1 == 50);
	struct pdqs ps = {0};
	CHECK(ks_store_pdq_entries_each(st, 0, on_pdq, &ps, &err) == KS_OK);
	CHECK(ps.stills == 1 && ps.frames == 1);
	CHECK_STR(ps.name, "clip");
	struct rows rs = {0};
	CHECK(ks_store_files_each(st, on_row, &rs, &err) == KS_OK);
	CHECK(rs.videos == 1 && rs.with_match == 1 && rs.duration == 10);
	CHECK_STR(rs.how, "pdq-frame");
	CHECK(rs.distance == 3 && rs.seconds == 4);
	struct ks_video_row *vr = NULL;
	CHECK(ks_store_video_get(st, media, &vr, &err) == KS_OK && vr != NULL);
	if (vr) {
		CHECK(vr->features == 2 && vr->nmatches == 1);
		CHECK_STR(vr->f.video_codec, "h264");
		CHECK_STR(vr->f.status, "ok");
	}
	ks_video_row_free(vr);
	/* writes outside a transaction are refused */
	CHECK(ks_store_video_put(st, media, &ok, feat, 2, &stored, &err) == KS_E_USAGE);
	ks_store_close(st);
}

/* ---- the reader ------------------------------------------------------------------------ */

struct mem {
	const uint8_t *data;
	size_t len, fail_at;
};

static int64_t mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
	struct mem *m = ctx;
	if (off >= m->fail_at)
		return -1;
	if (off >= m->len)
		return 0;
	size_t k = m->len - off < n ? m->len - off : n;
	if (k > 1000)
		k = 1000; /* short reads are fine */
	memcpy(buf, m->data + off, k);
	return (int64_t)k;
}

static void test_reader(const char *dir)
{
	char path[512], cmd[1024];
	snprintf(path, sizeof path, "%s/v.mkv", dir);
	snprintf(cmd, sizeof cmd,
		 "ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=160x120:rate=10:"
		 "duration=4 -c:v mpeg4 -g 10 '%s'",
		 path);
	if (system(cmd) != 0) {
		printf("  no ffmpeg: reader test skipped\n");
		return;
	}
	size_t len = 0;
	uint8_t *data = ktest_read_file(path, &len);
	CHECK(data != NULL && len > 1000);
	if (!data)
		return;
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	struct ks_vpdq a = {0}, b = {0};
	struct ks_video_result ra, rb;
	CHECK(ks_video_open_mem(&v, data, len, NULL, NULL, &err) == KS_OK);
	CHECK(ks_vpdq_hash_video(v, NULL, NULL, NULL, NULL, &a, &ra, &err) == KS_OK);
	ks_video_close(v);
	struct mem m = {data, len, (size_t)-1};
	struct ks_video_info in;
	CHECK(ks_video_open_reader(&v, mem_read, &m, len, NULL, &in, &err) == KS_OK);
	CHECK(strcmp(in.container, "mkv") == 0 && in.width == 160);
	CHECK(ks_vpdq_hash_video(v, NULL, NULL, NULL, NULL, &b, &rb, &err) == KS_OK);
	ks_video_close(v);
	CHECK(a.n >= 3 && a.n == b.n);
	for (size_t i = 0; i < a.n && i < b.n; i++)
		CHECK(ks_pdq_distance(&a.f[i].hash, &b.f[i].hash) == 0 &&
		      a.f[i].frame == b.f[i].frame);
	CHECK(rb.marks == 0);
	/* A reader failing half way: what was read is fingerprinted, the item is marked. */
	ks_vpdq_release(&b);
	m.fail_at = len / 2;
	int rc = ks_video_open_reader(&v, mem_read, &m, len, NULL, &in, &err);
	if (rc == KS_OK) {
		CHECK(ks_vpdq_hash_video(v, NULL, NULL, NULL, NULL, &b, &rb, &err) == KS_OK);
		CHECK(rb.marks != 0);
		CHECK(b.n < a.n);
		ks_video_close(v);
	} else {
		CHECK(rc == KS_E_EVIDENCE);
	}
	CHECK(ks_video_open_reader(&v, mem_read, &m, 0, NULL, &in, &err) == KS_E_EVIDENCE);
	CHECK(ks_video_open_reader(&v, NULL, &m, len, NULL, &in, &err) == KS_E_USAGE);
	ks_vpdq_release(&a);
	ks_vpdq_release(&b);
	free(data);
}

int main(void)
{
	const char *dir = ktest_tmpdir();
	test_importer(dir);
	test_store(dir);
	test_reader(dir);
	return ktest_done();
}
