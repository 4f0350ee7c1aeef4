/* vPDQ over the video sampler: a re-encoded, a cut and a re-timed copy of a test video
 * (made here with ffmpeg from lavfi patterns) match the original frame by frame within
 * PDQ distance 31 at the same moments; an unrelated video does not; a still shown for
 * a few seconds inside a video is found at its time; collapse, the reference text form
 * and the reference's match percentages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/video.h"
#include "kestrel/vpdq.h"
#include "ktest.h"
#include "test_video_util.h"

static int fingerprint_opts(const char *name, const struct ks_vpdq_opts *o, struct ks_vpdq *out)
{
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	struct ks_video_result res;
	int rc = ks_video_open_file(&v, vt_path(name), NULL, NULL, &err);
	if (rc == 0)
		rc = ks_vpdq_hash_video(v, NULL, o, NULL, NULL, out, &res, &err);
	if (rc)
		fprintf(stderr, "  %s: %s\n", name, err.msg);
	else if (res.marks)
		fprintf(stderr, "  %s: marks %u: %s\n", name, res.marks, res.why);
	ks_video_close(v);
	return rc;
}

static int fingerprint(const char *name, int collapse, struct ks_vpdq *out)
{
	struct ks_vpdq_opts o = {.collapse = collapse};
	return fingerprint_opts(name, &o, out);
}

/* Every feature of copy is within 31 bits of the original's frame at the same moment
 * (copy time + offset, give or take the two frames a frame-rate change may shift:
 * every original frame is in `every`). Returns the reference's query match percentage
 * against the original's own 1-per-second fingerprint. */
static double check_copy(const char *what, const struct ks_vpdq *every, const struct ks_vpdq *orig,
			 const struct ks_vpdq *copy, double offset)
{
	CHECK(copy->n >= 3);
	int worst = 0;
	for (size_t i = 0; i < copy->n; i++) {
		size_t j = 0;
		int d = ks_vpdq_nearest(every, &copy->f[i].hash, 0, &j);
		CHECK(d >= 0 && d <= 31);
		CHECK(vt_near(every->f[j].seconds, copy->f[i].seconds + offset, 0.1));
		if (d > worst)
			worst = d;
	}
	double qp, tp;
	ks_vpdq_match(copy, orig, 32, 50, &qp, &tp);
	printf("  %s: %zu frames, worst distance %d to the original's frame at that time; "
	       "vPDQ match %.0f%% / %.0f%%\n",
	       what, copy->n, worst, qp, tp);
	return qp;
}

/* Reads a binary PPM (P6, maxval 255) as made by ffmpeg. */
static unsigned char *read_ppm(const char *path, uint32_t *w, uint32_t *h)
{
	size_t len;
	unsigned char *d = ktest_read_file(path, &len);
	unsigned W, H, M;
	int off = 0;
	if (!d || len < 16 || sscanf((char *)d, "P6 %u %u %u%n", &W, &H, &M, &off) != 3 || M != 255 ||
	    len < (size_t)off + 1 + (size_t)W * H * 3) {
		free(d);
		return NULL;
	}
	unsigned char *pix = malloc((size_t)W * H * 3);
	memcpy(pix, d + off + 1, (size_t)W * H * 3);
	free(d);
	*w = W;
	*h = H;
	return pix;
}

static void test_copies(void)
{
	const char *enc = vt_has_encoder("libx264") ? "libx264" : "mpeg4";
	CHECK(vt_ffmpeg("-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -c:v %s -g 25 orig.mp4",
			enc) == 0);
	CHECK(vt_ffmpeg("-i orig.mp4 -c:v mpeg4 -q:v 6 -g 25 reenc.mkv") == 0);
	CHECK(vt_ffmpeg("-ss 2 -i orig.mp4 -c:v mpeg4 -q:v 3 -g 25 cut.mp4") == 0);
	CHECK(vt_ffmpeg("-i orig.mp4 -r 15 -frames:v 90 -c:v mpeg4 -q:v 3 -g 15 retimed.avi") == 0);
	/* The zoom is rendered at 5 pictures a second (it is costly) and stored at 25. */
	CHECK(vt_ffmpeg("-f lavfi -i mandelbrot=size=320x240:rate=5 -t 6 -r 25 -c:v mpeg4 -g 25 "
			"other.mp4") == 0);

	struct ks_vpdq orig = {0}, reenc = {0}, cut = {0}, retimed = {0}, other = {0};
	CHECK(fingerprint("orig.mp4", KS_VPDQ_NO_COLLAPSE, &orig) == 0);
	CHECK(orig.n == 6);
	for (size_t i = 0; i < orig.n; i++) {
		CHECK(orig.f[i].frame == 25 * (int64_t)i);
		CHECK(vt_near(orig.f[i].seconds, (double)i, 0.01));
		CHECK(orig.f[i].quality >= 50);
	}
	/* Consecutive sampled frames differ, so matching at the right moment means something. */
	for (size_t i = 1; i < orig.n; i++)
		CHECK(ks_pdq_distance(&orig.f[i].hash, &orig.f[i - 1].hash) > 31);

	struct ks_vpdq every = {0};
	struct ks_vpdq_opts all = {.collapse = KS_VPDQ_NO_COLLAPSE,
				   .sample = {.mode = KS_VIDEO_ALL, .rate = -1}};
	CHECK(fingerprint_opts("orig.mp4", &all, &every) == 0);
	CHECK(every.n == 150);

	CHECK(fingerprint("reenc.mkv", KS_VPDQ_NO_COLLAPSE, &reenc) == 0);
	CHECK(check_copy("re-encoded", &every, &orig, &reenc, 0) == 100);
	CHECK(fingerprint("cut.mp4", KS_VPDQ_NO_COLLAPSE, &cut) == 0);
	CHECK(check_copy("cut at 2 s", &every, &orig, &cut, 2) == 100);
	/* ffmpeg's 25 -> 15 fps conversion shows the original's frame 0.08 s early at
	 * each second, and this pattern moves fast: near, but not the sampled frame. */
	CHECK(fingerprint("retimed.avi", KS_VPDQ_NO_COLLAPSE, &retimed) == 0);
	check_copy("re-timed 15 fps", &every, &orig, &retimed, 0);
	CHECK(retimed.n >= 2 && retimed.f[1].frame == 15);
	/* Against a densely sampled original it matches in full. */
	double qp, tp;
	ks_vpdq_match(&retimed, &every, 32, 50, &qp, &tp);
	CHECK(qp == 100);
	ks_vpdq_release(&every);

	CHECK(fingerprint("other.mp4", KS_VPDQ_NO_COLLAPSE, &other) == 0);
	ks_vpdq_match(&other, &orig, 32, 50, &qp, &tp);
	CHECK(qp == 0 && tp == 0);
	size_t j;
	for (size_t i = 0; i < other.n; i++)
		CHECK(ks_vpdq_nearest(&orig, &other.f[i].hash, 0, &j) > 31);

	/* The text form round-trips, in the reference's layout. */
	struct ks_buf text = {0};
	ks_vpdq_format(&orig, &text);
	char hex[KS_PDQ_HEX_LEN + 1], first[128];
	ks_pdq_to_hex(&orig.f[0].hash, hex);
	snprintf(first, sizeof first, "0,%d,%s,0.000\n", orig.f[0].quality, hex);
	CHECK(text.len > strlen(first) && memcmp(text.data, first, strlen(first)) == 0);
	CHECK(strstr((char *)text.data, ",1.000\n") != NULL);
	struct ks_vpdq back = {0};
	struct ks_err err = {0};
	CHECK(ks_vpdq_parse((char *)text.data, text.len, &back, &err) == 0);
	CHECK(back.n == orig.n);
	for (size_t i = 0; i < back.n && i < orig.n; i++) {
		CHECK(ks_pdq_distance(&back.f[i].hash, &orig.f[i].hash) == 0);
		CHECK(back.f[i].frame == orig.f[i].frame && back.f[i].quality == orig.f[i].quality);
		CHECK(vt_near(back.f[i].seconds, orig.f[i].seconds, 0.0006));
	}
	ks_buf_release(&text);
	ks_vpdq_release(&back);

	ks_vpdq_release(&orig);
	ks_vpdq_release(&reenc);
	ks_vpdq_release(&cut);
	ks_vpdq_release(&retimed);
	ks_vpdq_release(&other);
}

/* Fingerprints name with default options but key_gap; fills res. */
static int fingerprint_gap(const char *name, double key_gap, struct ks_vpdq *out,
			   struct ks_video_result *res)
{
	struct ks_vpdq_opts o = {.sample = {.key_gap = key_gap}};
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	int rc = ks_video_open_file(&v, vt_path(name), NULL, NULL, &err);
	if (rc == 0)
		rc = ks_vpdq_hash_video(v, NULL, &o, NULL, NULL, out, res, &err);
	if (rc)
		fprintf(stderr, "  %s: %s\n", name, err.msg);
	ks_video_close(v);
	return rc;
}

/* Long GOPs: a copy with a key frame every 24 s still gets a frame a second (decoded
 * forward from each key frame, on the whole seconds where the original's key frames
 * are) and matches the original; a normal GOP is never decoded forward. */
static void test_long_gop(void)
{
	int x264 = vt_has_encoder("libx264");
	CHECK(vt_ffmpeg("-f lavfi -i testsrc2=size=320x240:rate=25:duration=60 -c:v %s -g 25 "
			"lg_orig.mp4",
			x264 ? "libx264" : "mpeg4") == 0);
	CHECK(vt_ffmpeg("-i lg_orig.mp4 -c:v mpeg4 -q:v 4 -g 600 -bf 2 -sc_threshold 1000000000 "
			"lg_mpeg4.mkv") == 0);
	CHECK(vt_ffmpeg("-i lg_orig.mp4 -c:v mpeg4 -q:v 4 -g 250 -bf 2 lg_g250.mp4") == 0);
	if (x264)
		CHECK(vt_ffmpeg("-i lg_orig.mp4 -c:v libx264 -g 600 -sc_threshold 0 lg_h264.mp4") ==
		      0);
	struct ks_vpdq orig = {0};
	struct ks_video_result r;
	CHECK(fingerprint_gap("lg_orig.mp4", 0, &orig, &r) == 0);
	CHECK(r.frames_filled == 0 && orig.n >= 50);

	const char *copies[] = {"lg_mpeg4.mkv", x264 ? "lg_h264.mp4" : NULL};
	for (size_t i = 0; i < 2 && copies[i]; i++) {
		struct ks_vpdq c = {0}, keys = {0};
		struct ks_video_result rk;
		CHECK(fingerprint_gap(copies[i], 0, &c, &r) == 0);
		CHECK(fingerprint_gap(copies[i], -1, &keys, &rk) == 0);
		double qp, tp;
		ks_vpdq_match(&c, &orig, 31, 50, &qp, &tp);
		printf("  %s: %zu frames (%llu decoded forward; %llu decoded of 1500), match %.0f%% / "
		       "%.0f%%; key frames only: %zu frames\n",
		       copies[i], c.n, (unsigned long long)r.frames_filled,
		       (unsigned long long)r.frames_decoded, qp, tp, keys.n);
		CHECK(c.n >= 60 / 5);
		CHECK(qp >= 80 && tp >= 80);
		CHECK(r.frames_filled >= 50 && r.marks == 0);
		CHECK(r.frames_decoded < 1200); /* frames no other refers to are skipped */
		CHECK(keys.n <= 3 && rk.frames_filled == 0);
		for (size_t k = 0; k < c.n; k++) /* on the whole seconds */
			CHECK(vt_near(c.f[k].seconds, nearbyint(c.f[k].seconds), 0.021));
		ks_vpdq_release(&c);
		ks_vpdq_release(&keys);
	}
	/* A key frame every 10 s (x264's default at 25 fps) is not a long GOP. */
	struct ks_vpdq g = {0};
	CHECK(fingerprint_gap("lg_g250.mp4", 0, &g, &r) == 0);
	CHECK(r.frames_filled == 0 && r.frames_decoded <= 8);
	ks_vpdq_release(&g);
	ks_vpdq_release(&orig);
}

static void test_still_in_video(void)
{
	/* A still (one mandelbrot picture, deep in the zoom) shown from 2 s to 5 s. */
	CHECK(vt_ffmpeg("-f lavfi -i mandelbrot=size=320x240:start_scale=0.5 -frames:v 1 "
			"still.ppm") == 0);
	CHECK(vt_ffmpeg("-f lavfi -i testsrc=size=320x240:rate=25:duration=2 -loop 1 -framerate 25 "
			"-t 3 -i still.ppm -f lavfi -i smptebars=size=320x240:rate=25:duration=2 "
			"-filter_complex '[0]setsar=1[a];[1]format=yuv420p,setsar=1[s];"
			"[2]setsar=1[b];[a][s][b]concat=n=3:v=1' -pix_fmt yuv420p -c:v mpeg4 -q:v 3 "
			"-g 25 withstill.mp4") == 0);
	uint32_t w = 0, h = 0;
	unsigned char *pix = read_ppm(vt_path("still.ppm"), &w, &h);
	CHECK(pix != NULL && w == 320 && h == 240);
	if (!pix)
		return;
	struct ks_pdq *pdq = ks_pdq_new();
	struct ks_pdq_hash still;
	int q = 0;
	CHECK(ks_pdq_hash_pixels(pdq, pix, w, h, 3, (size_t)w * 3, &still, NULL, &q) == 0);
	CHECK(q >= 50);
	ks_pdq_free(pdq);
	free(pix);

	struct ks_vpdq fp = {0};
	CHECK(fingerprint("withstill.mp4", 0, &fp) == 0);
	size_t idx = 0;
	int d = ks_vpdq_nearest(&fp, &still, 50, &idx);
	printf("  still inside a video: distance %d at %.3f s (%zu features after collapse)\n", d,
	       d >= 0 ? fp.f[idx].seconds : -1.0, fp.n);
	CHECK(d >= 0 && d <= 31);
	CHECK(fp.f[idx].seconds >= 2 - 0.01 && fp.f[idx].seconds < 5);
	/* The three seconds of the still collapse into one feature, and so do the two of
	 * the (static) colour bars: 2 + 1 + 1. */
	CHECK(fp.n == 4);
	ks_vpdq_release(&fp);

	struct ks_vpdq all = {0};
	CHECK(fingerprint("withstill.mp4", KS_VPDQ_NO_COLLAPSE, &all) == 0);
	CHECK(all.n == 7);
	ks_vpdq_collapse(&all, 16);
	CHECK(all.n == 4);
	ks_vpdq_collapse(&all, 256);
	CHECK(all.n == 1);
	ks_vpdq_release(&all);
}

static void test_text(void)
{
	struct ks_vpdq v = {0};
	struct ks_err err = {0};
	/* An older reference file: seconds in shortest form, CRLF, a comment. */
	const char *old = "# made by vpdq-hash-video\r\n"
			  "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0\r\n"
			  "1,98,c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c,0.0319\r\n"
			  "\n";
	CHECK(ks_vpdq_parse(old, strlen(old), &v, &err) == 0);
	CHECK(v.n == 2);
	if (v.n == 2) {
		CHECK(v.f[1].frame == 1 && v.f[1].quality == 98 && vt_near(v.f[1].seconds, 0.0319, 1e-9));
		char hex[KS_PDQ_HEX_LEN + 1];
		ks_pdq_to_hex(&v.f[0].hash, hex);
		CHECK_STR(hex, "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c");
	}
	struct ks_buf b = {0};
	ks_vpdq_format(&v, &b);
	CHECK_STR((char *)b.data,
		  "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\n"
		  "1,98,c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c,0.032\n");
	ks_buf_release(&b);

	/* The reference's match rule: strictly below the distance, quality filter. */
	double qp, tp;
	ks_vpdq_match(&v, &v, 1, 50, &qp, &tp);
	CHECK(qp == 100 && tp == 100);
	ks_vpdq_match(&v, &v, 0, 50, &qp, &tp);
	CHECK(qp == 0 && tp == 0);
	ks_vpdq_match(&v, &v, 1, 99, &qp, &tp);
	CHECK(qp == 100 && tp == 100);
	ks_vpdq_match(&v, &v, 1, 101, &qp, &tp);
	CHECK(qp == 0 && tp == 0);
	CHECK(ks_vpdq_nearest(&v, &v.f[1].hash, 99, NULL) > 0);
	CHECK(ks_vpdq_nearest(&v, &v.f[1].hash, 0, NULL) == 0);
	ks_vpdq_release(&v);

	const char *bad[] = {
		"0,100,e271,0\n",
		"0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\n",
		"x,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0\n",
		"0,101,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0\n",
		"0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055z,0\n",
		"0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,-1\n",
		"0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,nan\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(ks_vpdq_parse(bad[i], strlen(bad[i]), &v, &err) == KS_E_FORMAT);
		CHECK(strstr(err.msg, "line 1") != NULL);
		ks_vpdq_release(&v);
	}
}

int main(void)
{
	vt_init();
	double t0 = ks_time_mono();
	test_text();
	test_copies();
	test_long_gop();
	test_still_in_video();
	printf("  vpdq tests took %.1f s\n", ks_time_mono() - t0);
	return ktest_done();
}
