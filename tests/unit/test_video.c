/* Video prober and frame sampler: test videos are made here with ffmpeg from lavfi
 * test patterns (benign) in every container kestrel claims, read from files and from
 * memory; key-frame-only decoding, the rate cap, scene changes, scaling, truncated
 * copies, and hostile items (no index, absurd sizes, damaged frames, endless streams)
 * that must stay within their budget and be marked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/video.h"
#include "ktest.h"
#include "test_video_util.h"

#define PAT "-f lavfi -i testsrc=size=160x120:rate=25:duration=4"

struct seen {
	int n;
	double pts[64];
	int64_t frame[64];
	int scene[64];
	uint32_t w, h;
	int channels;
	int bad_size; /* a frame whose buffer did not match its size */
};

static int collect(void *ctx, const struct ks_video_frame *f, struct ks_err *err)
{
	(void)err;
	struct seen *s = ctx;
	if (s->n < 64) {
		s->pts[s->n] = f->pts;
		s->frame[s->n] = f->frame_number;
		s->scene[s->n] = f->scene;
	}
	s->n++;
	s->w = f->width;
	s->h = f->height;
	s->channels = f->channels;
	if (f->stride < (size_t)f->width * f->channels || !f->pix)
		s->bad_size = 1;
	return 0;
}

/* Opens path (from the file, or from memory if mem), samples with opts, fills s/res. */
static int sample_path(const char *path, int mem, const struct ks_video_limits *lim,
		       const struct ks_video_sample_opts *o, struct ks_video_info *info,
		       struct seen *s, struct ks_video_result *res)
{
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc;
	memset(s, 0, sizeof *s);
	memset(res, 0, sizeof *res);
	if (mem) {
		data = ktest_read_file(path, &len);
		if (!data)
			return -100;
		rc = ks_video_open_mem(&v, data, len, lim, info, &err);
	} else {
		rc = ks_video_open_file(&v, path, lim, info, &err);
	}
	if (rc == 0) {
		rc = ks_video_sample(v, o, collect, s, res, &err);
		*info = *ks_video_get_info(v);
	}
	if (rc)
		fprintf(stderr, "  %s: %s\n", path, err.msg);
	ks_video_close(v);
	free(data);
	return rc;
}

struct container_case {
	const char *file, *args, *container, *codec;
	uint32_t w, h;
};

static void test_containers(void)
{
	int x264 = vt_has_encoder("libx264");
	const char *vp = vt_has_encoder("libvpx-vp9") ? "libvpx-vp9" : vt_has_encoder("libvpx") ? "libvpx" : NULL;
	char vpargs[256];
	snprintf(vpargs, sizeof vpargs, PAT " -c:v %s -g 25 -b:v 300k", vp ? vp : "none");
	const struct container_case cases[] = {
		{"c.mp4", x264 ? PAT " -c:v libx264 -g 25 -metadata creation_time=2021-03-04T05:06:07Z"
			       : PAT " -c:v mpeg4 -g 25 -metadata creation_time=2021-03-04T05:06:07Z",
		 "mp4", x264 ? "h264" : "mpeg4", 160, 120},
		{"c.mkv", PAT " -f lavfi -i sine=duration=4 -c:v mpeg4 -g 25 -c:a flac", "mkv", "mpeg4",
		 160, 120},
		{"c.webm", vpargs, "webm", vp && strcmp(vp, "libvpx") == 0 ? "vp8" : "vp9", 160, 120},
		{"c.avi", PAT " -c:v mjpeg", "avi", "mjpeg", 160, 120},
		{"c.mov", PAT " -c:v mpeg4 -g 25", "mov", "mpeg4", 160, 120},
		{"c.flv", PAT " -c:v flv1 -g 25", "flv", "flv1", 160, 120},
		{"c.ts", PAT " -c:v mpeg2video -g 25", "mpeg-ts", "mpeg2video", 160, 120},
		{"c.mpg", PAT " -c:v mpeg1video -g 25", "mpeg-ps", "mpeg1video", 160, 120},
		{"c.wmv", PAT " -c:v wmv2 -g 25", "asf", "wmv2", 160, 120},
		{"c.3gp", "-f lavfi -i testsrc=size=176x144:rate=25:duration=4 -c:v h263 -g 25", "3gp",
		 "h263", 176, 144},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct container_case *c = &cases[i];
		if (strstr(c->args, "-c:v none")) {
			printf("  no VP8/VP9 encoder: webm skipped\n");
			continue;
		}
		if (vt_ffmpeg("%s %s", c->args, c->file) != 0) {
			CHECK(!"ffmpeg made the test video");
			continue;
		}
		for (int mem = 0; mem < 2; mem++) {
			struct ks_video_info in;
			struct seen s;
			struct ks_video_result r;
			int rc = sample_path(vt_path(c->file), mem, NULL, NULL, &in, &s, &r);
			CHECK(rc == 0);
			CHECK_STR(in.container, c->container);
			CHECK_STR(in.video_codec, c->codec);
			CHECK(in.width == c->w && in.height == c->h);
			CHECK(vt_near(in.fps, 25, 0.01));
			CHECK(vt_near(in.duration, 4, 0.25));
			CHECK(in.size > 0);
			/* Key frames every second, rate cap one per second: frames at 0, 1, 2, 3,
			 * each decoded alone (never the 96 frames between them). */
			CHECK(s.n == 4);
			CHECK(r.frames_kept == 4);
			CHECK(r.frames_decoded <= 8);
			for (int k = 0; k < 4 && k < s.n; k++) {
				CHECK(vt_near(s.pts[k], k, 0.05));
				CHECK(s.frame[k] == 25 * k);
			}
			CHECK(s.w == c->w && s.h == c->h && s.channels == 3 && !s.bad_size);
			CHECK(r.marks == 0);
			if (r.marks)
				fprintf(stderr, "  %s: marks %u: %s\n", c->file, r.marks, r.why);
			if (i == 0) {
				CHECK(in.creation_time == 1614834367);
				CHECK(!in.has_audio);
			}
			if (i == 1) {
				CHECK(in.has_audio);
				CHECK_STR(in.audio_codec, "flac");
			}
		}
	}
}

static void test_modes(void)
{
	struct ks_video_info in;
	struct seen s;
	struct ks_video_result r;
	const char *mp4 = vt_path("c.mp4");

	/* Every frame decoded, still one kept per second. */
	struct ks_video_sample_opts all = {.mode = KS_VIDEO_ALL};
	CHECK(sample_path(mp4, 0, NULL, &all, &in, &s, &r) == 0);
	CHECK(r.frames_decoded == 100);
	CHECK(s.n == 4);

	/* Half the rate: 0 and 2 s. */
	struct ks_video_sample_opts half = {.rate = 0.5};
	CHECK(sample_path(mp4, 0, NULL, &half, &in, &s, &r) == 0);
	CHECK(s.n == 2 && vt_near(s.pts[1], 2, 0.05));
	CHECK(r.frames_decoded == 2); /* the key frame at 1 s is dropped before decoding */

	/* No cap, every frame: 100 kept with their own frame numbers. */
	struct ks_video_sample_opts every = {.mode = KS_VIDEO_ALL, .rate = -1};
	CHECK(sample_path(mp4, 0, NULL, &every, &in, &s, &r) == 0);
	CHECK(s.n == 100);
	CHECK(s.frame[63] == 63 && vt_near(s.pts[63], 63 / 25.0, 0.01));

	/* max_kept stops early without a mark. */
	struct ks_video_sample_opts two = {.max_kept = 2};
	CHECK(sample_path(mp4, 0, NULL, &two, &in, &s, &r) == 0);
	CHECK(s.n == 2 && r.marks == 0);

	/* Intra-only codec in ALL mode: frames the cap drops are not decoded either. */
	CHECK(sample_path(vt_path("c.avi"), 0, NULL, &all, &in, &s, &r) == 0);
	CHECK(s.n == 4 && r.frames_decoded == 4);

	/* Scene changes: one key frame only, a cut at 2 s. Kept: the start and the cut
	 * (with max_interval long, the clock alone keeps nothing more). */
	CHECK(vt_ffmpeg("-f lavfi -i testsrc=size=160x120:rate=25:duration=2 -f lavfi -i "
			"smptebars=size=160x120:rate=25:duration=2 -filter_complex "
			"'[0][1]concat=n=2:v=1' -c:v mpeg4 -g 1000 -sc_threshold 1000000000 cut.mkv") == 0);
	struct ks_video_sample_opts scene = {.mode = KS_VIDEO_ALL, .max_interval = 100};
	CHECK(sample_path(vt_path("cut.mkv"), 0, NULL, &scene, &in, &s, &r) == 0);
	CHECK(s.n == 2);
	CHECK(vt_near(s.pts[1], 2.0, 0.05) && s.scene[1] == 1 && s.scene[0] == 0);
	/* The same in KEY mode sees the single key frame only. */
	CHECK(sample_path(vt_path("cut.mkv"), 0, NULL, NULL, &in, &s, &r) == 0);
	CHECK(s.n == 1 && r.frames_decoded == 1);

	/* Scaling: 1024x576 arrives as 512x288 RGB, or 200x113 luma. */
	CHECK(vt_ffmpeg("-f lavfi -i testsrc2=size=1024x576:rate=25:duration=1 -c:v mpeg4 big.mp4") == 0);
	CHECK(sample_path(vt_path("big.mp4"), 0, NULL, NULL, &in, &s, &r) == 0);
	CHECK(s.n == 1 && s.w == 512 && s.h == 288 && s.channels == 3);
	struct ks_video_sample_opts luma = {.channels = 1, .max_side = 200};
	CHECK(sample_path(vt_path("big.mp4"), 0, NULL, &luma, &in, &s, &r) == 0);
	CHECK(s.n == 1 && s.w == 200 && s.h == 113 && s.channels == 1);

	/* A second pass on one open video is a usage error. */
	struct ks_video *v = NULL;
	struct ks_err err = {0};
	CHECK(ks_video_open_file(&v, mp4, NULL, NULL, &err) == 0);
	CHECK(ks_video_sample(v, NULL, NULL, NULL, NULL, &err) == 0);
	CHECK(ks_video_sample(v, NULL, NULL, NULL, NULL, &err) == KS_E_USAGE);
	ks_video_close(v);
	CHECK(ks_video_open_file(&v, vt_path("missing.mp4"), NULL, NULL, &err) == KS_E_NOTFOUND);
	CHECK(v == NULL);
}

static void test_truncated(void)
{
	struct ks_video_info in;
	struct seen s;
	struct ks_video_result r;
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	char m[64];

	/* MP4 with its index first: decoded as far as the bytes go, marked truncated. */
	CHECK(vt_ffmpeg(PAT " -c:v mpeg4 -g 25 -movflags +faststart fs.mp4") == 0);
	size_t n = vt_copy_head(vt_path("fs.mp4"), vt_path("fs_half.mp4"), 0);
	CHECK(n > 0);
	vt_copy_head(vt_path("fs.mp4"), vt_path("fs_half.mp4"), n / 2);
	for (int mem = 0; mem < 2; mem++) {
		CHECK(sample_path(vt_path("fs_half.mp4"), mem, NULL, NULL, &in, &s, &r) == 0);
		CHECK(s.n >= 1 && s.n < 4);
		CHECK(r.marks & KS_VIDEO_TRUNCATED);
		CHECK(r.last_pts < 3.5);
		CHECK(in.marks == r.marks);
		printf("  truncated mp4: %d frames, %s: %s\n", s.n, ks_video_marks_name(r.marks, m, sizeof m),
		       r.why);
	}

	/* MP4 with its index at the end: nothing decodable, said so. */
	n = vt_copy_head(vt_path("c.mov"), vt_path("mov_half.mov"), 0);
	vt_copy_head(vt_path("c.mov"), vt_path("mov_half.mov"), n / 2);
	memset(&in, 0, sizeof in);
	CHECK(ks_video_open_file(&v, vt_path("mov_half.mov"), NULL, &in, &err) == KS_E_EVIDENCE);
	CHECK(v == NULL);
	CHECK(in.marks & KS_VIDEO_NO_INDEX);
	CHECK(strstr(err.msg, "moov") != NULL);

	/* Matroska and AVI: marked truncated; MPEG-TS cut inside a packet too. */
	const char *files[] = {"c.mkv", "c.avi", "c.ts"};
	for (size_t i = 0; i < 3; i++) {
		char dst[64];
		snprintf(dst, sizeof dst, "half_%s", files[i]);
		n = vt_copy_head(vt_path(files[i]), vt_path(dst), 0);
		vt_copy_head(vt_path(files[i]), vt_path(dst), n / 2 + 7);
		CHECK(sample_path(vt_path(dst), 1, NULL, NULL, &in, &s, &r) == 0);
		CHECK(s.n >= 1 && s.n <= 3);
		CHECK(r.marks & KS_VIDEO_TRUNCATED);
		printf("  %s: %d frames, %s: %s\n", dst, s.n, ks_video_marks_name(r.marks, m, sizeof m),
		       r.why);
	}

	/* An AVI re-encoded at a higher rate (-r 30 from 25 fps) repeats frames as empty
	 * chunks: its index declares 120 frames, the demuxer returns 100 packets. Whole,
	 * it is not truncated; its first half is. */
	CHECK(vt_ffmpeg("-i c.mp4 -r 30 -c:v mpeg4 -g 30 r30.avi") == 0);
	CHECK(sample_path(vt_path("r30.avi"), 1, NULL, NULL, &in, &s, &r) == 0);
	CHECK(in.declared_frames >= 110);
	CHECK(r.marks == 0);
	CHECK(s.n == 4);
	printf("  r30.avi: %d frames, %s %s\n", s.n, ks_video_marks_name(r.marks, m, sizeof m), r.why);
	n = vt_copy_head(vt_path("r30.avi"), vt_path("half_r30.avi"), 0);
	vt_copy_head(vt_path("r30.avi"), vt_path("half_r30.avi"), n / 2);
	CHECK(sample_path(vt_path("half_r30.avi"), 1, NULL, NULL, &in, &s, &r) == 0);
	CHECK(r.marks & KS_VIDEO_TRUNCATED);
	printf("  half_r30.avi: %d frames, %s: %s\n", s.n, ks_video_marks_name(r.marks, m, sizeof m),
	       r.why);
}

static void test_hostile(void)
{
	struct ks_video_info in;
	struct seen s;
	struct ks_video_result r;
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	size_t len;

	/* An MP4 header and then a megabyte of zeros. */
	unsigned char *mp4 = ktest_read_file(vt_path("c.mp4"), &len);
	CHECK(mp4 != NULL && len > 64);
	if (mp4) {
		size_t n = 1 << 20;
		unsigned char *z = calloc(1, n);
		memcpy(z, mp4, 32);
		double t0 = ks_time_mono();
		CHECK(ks_video_open_mem(&v, z, n, NULL, &in, &err) == KS_E_EVIDENCE);
		CHECK(ks_time_mono() - t0 < 5);
		CHECK(in.marks & KS_VIDEO_NO_INDEX);
		free(z);
		free(mp4);
	}

	/* Absurd declared size: refused before anything is allocated for it. */
	char y4m[256];
	int k = snprintf(y4m, sizeof y4m, "YUV4MPEG2 W16000 H16000 F25:1 C420jpeg\nFRAME\n");
	memset(y4m + k, 0x80, sizeof y4m - (size_t)k);
	CHECK(ks_video_open_mem(&v, (const uint8_t *)y4m, sizeof y4m, NULL, &in, &err) == KS_E_LIMIT);
	CHECK(in.marks & KS_VIDEO_LIMIT);
	CHECK(strstr(err.msg, "16000x16000") != NULL);

	/* MJPEG whose every frame declares 65000x65000: the decoder refuses each one, the
	 * item is marked and the error budget ends it. */
	unsigned char *avi = ktest_read_file(vt_path("c.avi"), &len);
	CHECK(avi != NULL);
	if (avi) {
		int patched = 0;
		for (size_t i = 0; i + 9 < len; i++)
			if (avi[i] == 0xFF && avi[i + 1] == 0xC0) {
				avi[i + 5] = avi[i + 7] = 0xFD;
				avi[i + 6] = avi[i + 8] = 0xE8;
				patched++;
			}
		CHECK(patched >= 100);
		CHECK(vt_write(vt_path("huge.avi"), avi, len) == 0);
		free(avi);
		struct ks_video_limits lim = {.max_errors = 10};
		struct ks_video_sample_opts nocap = {.rate = -1};
		CHECK(sample_path(vt_path("huge.avi"), 0, &lim, &nocap, &in, &s, &r) == 0);
		CHECK(s.n == 0);
		CHECK(r.errors >= 10);
		CHECK(r.marks & KS_VIDEO_LIMIT);
		CHECK(r.marks & KS_VIDEO_CORRUPT);
		/* With the cap, only the frames it would keep are even tried. */
		CHECK(sample_path(vt_path("huge.avi"), 1, NULL, NULL, &in, &s, &r) == 0);
		CHECK(s.n == 0 && (r.marks & KS_VIDEO_CORRUPT) && r.errors == 4);
	}

	/* An endless stream written to a capped file: packet and frame budgets. */
	CHECK(vt_ffmpeg("-f lavfi -i testsrc=size=160x120:rate=25 -c:v mpeg2video -g 25 -fs 400k "
			"capped.ts") == 0);
	struct ks_video_limits plim = {.max_packets = 60};
	CHECK(sample_path(vt_path("capped.ts"), 0, &plim, NULL, &in, &s, &r) == 0);
	CHECK(r.packets == 60 && (r.marks & KS_VIDEO_LIMIT) && strstr(r.why, "packet"));
	struct ks_video_limits flim = {.max_frames = 30};
	struct ks_video_sample_opts all = {.mode = KS_VIDEO_ALL};
	CHECK(sample_path(vt_path("capped.ts"), 1, &flim, &all, &in, &s, &r) == 0);
	CHECK(r.frames_decoded == 30 && (r.marks & KS_VIDEO_LIMIT) && strstr(r.why, "frame"));

	/* A truly endless stream through a pipe: the wall-time budget ends it. */
	FILE *p = popen("ffmpeg -nostdin -hide_banner -loglevel quiet -f lavfi -i "
			"testsrc=size=160x120:rate=25 -c:v mpeg2video -f mpegts pipe:1",
			"r");
	CHECK(p != NULL);
	if (p) {
		char path[64];
		snprintf(path, sizeof path, "/dev/fd/%d", fileno(p));
		struct ks_video_limits tlim = {.max_seconds = 1.5};
		double t0 = ks_time_mono();
		CHECK(sample_path(path, 0, &tlim, NULL, &in, &s, &r) == 0);
		double dt = ks_time_mono() - t0;
		CHECK(dt < 4);
		CHECK((r.marks & KS_VIDEO_LIMIT) && strstr(r.why, "time"));
		CHECK(s.n >= 1);
		CHECK(in.size == 0);
		pclose(p);
	}

	/* Not a video at all, and empty. */
	unsigned char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	CHECK(ks_video_open_mem(&v, junk, sizeof junk, NULL, &in, &err) < 0);
	CHECK(ks_video_open_mem(&v, junk, 0, NULL, &in, &err) == KS_E_EVIDENCE);
	CHECK(v == NULL);

	char mk[64];
	CHECK_STR(ks_video_marks_name(0, mk, sizeof mk), "ok");
	CHECK_STR(ks_video_marks_name(KS_VIDEO_TRUNCATED | KS_VIDEO_LIMIT, mk, sizeof mk),
		  "truncated,limit");
}

int main(void)
{
	vt_init();
	double t0 = ks_time_mono();
	test_containers();
	test_modes();
	test_truncated();
	test_hostile();
	printf("  video tests took %.1f s\n", ks_time_mono() - t0);
	return ktest_done();
}
