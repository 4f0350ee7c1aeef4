/* ks_video_frames_cfr against its answer key, ffmpeg itself: for videos made here
 * (lavfi test patterns) in the shapes that exercise each step — a file of one stream
 * (vscfr) and with audio (cfr), 10, 25, 29.97 and 60 fps, variable frame rate and a
 * 20 s gap, a late video start, H.264 4:2:0/4:2:2/4:4:4, MJPEG full range, BT.709 tags,
 * VP9/WebM, MPEG-TS, odd sizes, display matrices of 90/180/270 degrees and flips (tkhd
 * patched here) — the frames must be byte for byte those of
 * `ffmpeg -i V -s 64:64 -an -f rawvideo -c:v rawvideo -pix_fmt rgb24 -r 15 pipe:1`.
 * Then the budget: output frame and time limits stop and mark, a walk is once per open,
 * a truncated file is marked. Skips (77) without ffmpeg. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/video_frames.h"
#include "test_video_util.h"

#define FRAME_BYTES (64 * 64 * 3)

struct sink {
	struct ks_buf b;
	int64_t next; /* expected index */
	int in_order;
	uint64_t stop_at; /* callback stops after this many, 0: never */
};

static int collect(void *ctx, const struct ks_video_frame *f, struct ks_err *err)
{
	struct sink *s = ctx;
	if (f->width != 64 || f->height != 64 || f->channels != 3 || f->stride != 64 * 3 ||
	    f->frame_number != s->next || (int64_t)f->index != s->next)
		s->in_order = 0;
	s->next++;
	ks_buf_add(&s->b, f->pix, FRAME_BYTES);
	if (s->stop_at && (uint64_t)s->next >= s->stop_at)
		return ks_err_set(err, KS_E_USAGE, "enough");
	return 0;
}

static int kestrel_frames(const char *path, const struct ks_video_limits *lim,
			  const struct ks_video_cfr_opts *o, struct sink *s,
			  struct ks_video_result *res)
{
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	s->in_order = 1;
	if (ks_video_open_file(&v, path, lim, NULL, &err) < 0) {
		fprintf(stderr, "%s: %s\n", path, err.msg);
		return -100;
	}
	int rc = ks_video_frames_cfr(v, o, collect, s, res, &err);
	ks_video_close(v);
	return rc;
}

/* One video: kestrel's frames equal ffmpeg's (and there are some). */
static void same_as_ffmpeg(const char *name)
{
	const char *path = vt_path(name);
	char raw[128];
	snprintf(raw, sizeof raw, "%s.raw", name);
	if (vt_ffmpeg("-i '%s' -s 64:64 -an -f rawvideo -c:v rawvideo -pix_fmt rgb24 -r 15 '%s'",
		      name, raw) != 0) {
		CHECK(0);
		return;
	}
	size_t want_len = 0;
	unsigned char *want = ktest_read_file(vt_path(raw), &want_len);
	struct sink s = {0};
	struct ks_video_result res;
	int rc = kestrel_frames(path, NULL, NULL, &s, &res);
	size_t d = 0;
	while (want && d < want_len && d < s.b.len && want[d] == s.b.data[d])
		d++;
	printf("  %-16s ffmpeg %3zu frames, kestrel %3zu (%llu decoded), %s\n", name,
	       want_len / FRAME_BYTES, s.b.len / FRAME_BYTES,
	       (unsigned long long)res.frames_decoded,
	       want && s.b.len == want_len && d == want_len ? "identical" : "DIFFERENT");
	CHECK(rc == 0);
	CHECK(s.in_order);
	CHECK(want_len >= 10 * FRAME_BYTES);
	CHECK(want != NULL && s.b.len == want_len && d == want_len);
	CHECK(res.frames_kept * FRAME_BYTES == s.b.len);
	CHECK(res.marks == 0);
	free(want);
	ks_buf_release(&s.b);
}

/* A copy of src whose first track header carries the display matrix (a b c d) in
 * 16.16, as a phone writes a rotated video. */
static int with_matrix(const char *src, const char *dst, double a, double b, double c, double d)
{
	size_t len;
	unsigned char *m = ktest_read_file(vt_path(src), &len);
	if (!m)
		return -1;
	unsigned char *p = NULL;
	for (size_t i = 0; i + 4 <= len && !p; i++)
		if (memcmp(m + i, "tkhd", 4) == 0)
			p = m + i;
	int rc = -1;
	if (p) {
		size_t off = (size_t)(p - m) + 4 + 4 + (p[4] == 1 ? 32 : 20) + 16;
		int32_t vals[9] = {(int32_t)(a * 65536),
				   (int32_t)(b * 65536),
				   0,
				   (int32_t)(c * 65536),
				   (int32_t)(d * 65536),
				   0,
				   0,
				   0,
				   0x40000000};
		if (off + 36 <= len) {
			for (int k = 0; k < 9; k++) {
				uint32_t u = (uint32_t)vals[k];
				unsigned char *q = m + off + 4 * k;
				q[0] = (unsigned char)(u >> 24), q[1] = (unsigned char)(u >> 16);
				q[2] = (unsigned char)(u >> 8), q[3] = (unsigned char)u;
			}
			rc = vt_write(vt_path(dst), m, len);
		}
	}
	free(m);
	return rc;
}

int main(void)
{
	vt_init();
	const char *src = "testsrc2=size=160x120:rate=%s:duration=3";
	char lavfi[128];
#define MAKE(rate, out, ...)                                                                       \
	do {                                                                                       \
		snprintf(lavfi, sizeof lavfi, src, rate);                                          \
		CHECK(vt_ffmpeg("-f lavfi -i %s " __VA_ARGS__ " %s", lavfi, out) == 0);            \
	} while (0)
	MAKE("25", "one.mp4", "-c:v libx264 -pix_fmt yuv420p");
	MAKE("30000/1001", "audio.mp4",
	     "-f lavfi -i sine=duration=3 -c:v libx264 -pix_fmt yuv420p -c:a aac");
	MAKE("10", "ten.mp4", "-c:v libx264 -pix_fmt yuv420p");
	MAKE("60", "sixty.mkv", "-c:v libx264 -pix_fmt yuv420p");
	MAKE("25", "vfr.mp4",
	     "-vf \"setpts='PTS+if(gt(N,30),0.37/TB,0)'\" -vsync vfr -c:v libx264");
	MAKE("25", "gap.mp4", "-vf \"setpts='PTS+if(gt(N,30),20/TB,0)'\" -vsync vfr -c:v libx264");
	CHECK(vt_ffmpeg(
		  "-itsoffset 0.5 -f lavfi -i testsrc2=size=160x120:rate=25:duration=3 -f lavfi "
		  "-i sine=duration=4 -c:v libx264 -c:a aac late.mp4") == 0);
	MAKE("25", "s422.mp4", "-c:v libx264 -pix_fmt yuv422p");
	MAKE("25", "s444.mp4", "-c:v libx264 -pix_fmt yuv444p");
	MAKE("25", "mjpeg.avi", "-c:v mjpeg -pix_fmt yuvj420p");
	MAKE("25", "bt709.mp4",
	     "-c:v libx264 -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 -color_trc "
	     "bt709");
	MAKE("25", "ts.ts", "-f lavfi -i sine=duration=3 -c:v libx264 -c:a mp2");
	CHECK(vt_ffmpeg(
		  "-f lavfi -i testsrc2=size=162x121:rate=25:duration=3 -c:v mpeg4 odd.avi") == 0);
	const char *names[] = {"one.mp4",   "audio.mp4", "ten.mp4",  "sixty.mkv", "vfr.mp4",
			       "gap.mp4",   "late.mp4",	 "s422.mp4", "s444.mp4",  "mjpeg.avi",
			       "bt709.mp4", "ts.ts",	 "odd.avi"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		same_as_ffmpeg(names[i]);
	if (vt_has_encoder("libvpx-vp9")) {
		MAKE("25", "vp9.webm", "-c:v libvpx-vp9 -b:v 200k");
		same_as_ffmpeg("vp9.webm");
	}
	/* display matrices: rotations and flips (ffmpeg turns the picture upright) */
	struct {
		const char *name, *from;
		double a, b, c, d;
	} turns[] = {
	    {"r90.mp4", "one.mp4", 0, 1, -1, 0},    {"r180.mp4", "one.mp4", -1, 0, 0, -1},
	    {"r270.mp4", "one.mp4", 0, -1, 1, 0},   {"r90f.mp4", "one.mp4", 0, 1, 1, 0},
	    {"r270f.mp4", "one.mp4", 0, -1, -1, 0}, {"hflip.mp4", "one.mp4", -1, 0, 0, 1},
	    {"vflip.mp4", "one.mp4", 1, 0, 0, -1},  {"r90-422.mp4", "s422.mp4", 0, 1, -1, 0},
	};
	for (size_t i = 0; i < sizeof turns / sizeof turns[0]; i++) {
		CHECK(with_matrix(turns[i].from, turns[i].name, turns[i].a, turns[i].b, turns[i].c,
				  turns[i].d) == 0);
		same_as_ffmpeg(turns[i].name);
	}
	/* the turn is seen: an upright copy differs from the original */
	{
		struct sink a = {0}, b = {0};
		struct ks_video_result r;
		kestrel_frames(vt_path("one.mp4"), NULL, NULL, &a, &r);
		kestrel_frames(vt_path("r90.mp4"), NULL, NULL, &b, &r);
		CHECK(a.b.len == b.b.len && a.b.len > 0 &&
		      memcmp(a.b.data, b.b.data, a.b.len) != 0);
		ks_buf_release(&a.b);
		ks_buf_release(&b.b);
	}

	/* other sizes and rates */
	{
		struct ks_video_cfr_opts o = {
		    .width = 32, .height = 16, .rate_num = 5, .rate_den = 2};
		struct ks_video_result r;
		struct ks_err err = {0};
		struct ks_video *v = NULL;
		CHECK(ks_video_open_file(&v, vt_path("one.mp4"), NULL, NULL, &err) == 0);
		CHECK(v && ks_video_frames_cfr(v, &o, NULL, NULL, &r, &err) == 0);
		printf("  3 s at 2.5 fps: %llu frames\n", (unsigned long long)r.frames_kept);
		CHECK(r.frames_kept >= 7 && r.frames_kept <= 9);
		/* once per open */
		CHECK(v && ks_video_frames_cfr(v, &o, NULL, NULL, &r, &err) == KS_E_USAGE);
		ks_video_close(v);
	}

	/* budget: the output frame cap and the callback stop the walk */
	{
		struct ks_video_cfr_opts o = {.max_out = 5};
		struct sink s = {0};
		struct ks_video_result r;
		CHECK(kestrel_frames(vt_path("gap.mp4"), NULL, &o, &s, &r) == 0);
		CHECK(r.frames_kept == 5 && s.b.len == 5 * FRAME_BYTES);
		CHECK((r.marks & KS_VIDEO_LIMIT) && strstr(r.why, "output frame limit"));
		ks_buf_release(&s.b);
		struct sink s2 = {.stop_at = 3};
		CHECK(kestrel_frames(vt_path("one.mp4"), NULL, NULL, &s2, &r) == KS_E_USAGE);
		CHECK(r.frames_kept == 3);
		ks_buf_release(&s2.b);
		/* a decoded-frame budget */
		struct ks_video_limits lim = ks_video_default_limits;
		lim.max_frames = 10;
		struct sink s3 = {0};
		CHECK(kestrel_frames(vt_path("one.mp4"), &lim, NULL, &s3, &r) == 0);
		CHECK((r.marks & KS_VIDEO_LIMIT) && r.frames_decoded == 10);
		printf("  10 decoded frames: %llu written\n", (unsigned long long)r.frames_kept);
		CHECK(r.frames_kept >= 4 && r.frames_kept <= 10);
		ks_buf_release(&s3.b);
	}
	/* a truncated Matroska file: frames up to the cut, marked */
	{
		size_t len = vt_copy_head(vt_path("sixty.mkv"), vt_path("cut.mkv"), 0);
		vt_copy_head(vt_path("sixty.mkv"), vt_path("cut.mkv"), len / 2);
		struct sink s = {0};
		struct ks_video_result r;
		CHECK(kestrel_frames(vt_path("cut.mkv"), NULL, NULL, &s, &r) == 0);
		printf("  cut.mkv: %llu frames, %s\n", (unsigned long long)r.frames_kept, r.why);
		CHECK(r.frames_kept > 5 && r.frames_kept < 40);
		CHECK(r.marks & KS_VIDEO_TRUNCATED);
		ks_buf_release(&s.b);
	}
	return ktest_done();
}
