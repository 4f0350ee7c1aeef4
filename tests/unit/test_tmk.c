/* TMK+PDQF against upstream's hashes of its sample videos (../shared/testdata/tmk):
 * the frames come from the ffmpeg command upstream's tmk-hash-video runs (64x64 RGB at
 * 15 fps), kestrel computes PDQF and the TMK features, and the .tmk bytes must equal
 * upstream's file byte for byte; the two-level scores must match upstream's
 * tmk-two-level-score output; reading a file back gives the same bytes; damaged files
 * are refused. The same files computed by kestrel from the videos alone
 * (ks_tmk_hash_video) must be identical too. Skips (77) without ../shared or ffmpeg. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/tmk.h"
#include "kestrel/video.h"
#include "ktest.h"

static const char *videos[] = {"doorknob-hd-no-bar", "pattern-sd-grey-bar",
			       "pattern-sd-with-small-logo-bar"};
#define NV (sizeof videos / sizeof videos[0])

static struct ks_tmk *hash_video(const char *path)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd,
		 "ffmpeg -loglevel error -hide_banner -nostdin -i '%s' -s 64:64 -an -f rawvideo "
		 "-c:v rawvideo -pix_fmt rgb24 -r 15 pipe:1",
		 path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	struct ks_tmk *t = ks_tmk_new();
	uint8_t frame[64 * 64 * 3];
	while (fread(frame, 1, sizeof frame, p) == sizeof frame)
		ks_tmk_add_rgb(t, frame, 64 * 3);
	if (pclose(p) != 0) {
		ks_tmk_free(t);
		return NULL;
	}
	ks_tmk_finish(t);
	return t;
}

/* The same computed by kestrel alone: every frame decoded and resampled by
 * ks_video_frames_cfr. */
static struct ks_tmk *hash_video_kestrel(const char *path)
{
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	if (ks_video_open_file(&v, path, NULL, NULL, &err) < 0)
		return NULL;
	struct ks_tmk *t = ks_tmk_new();
	struct ks_video_result res;
	int rc = ks_tmk_hash_video(v, t, &res, &err);
	ks_video_close(v);
	if (rc < 0 || res.marks) {
		ks_tmk_free(t);
		return NULL;
	}
	return t;
}

static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return i;
	return n;
}

int main(void)
{
	const char *shared = ktest_shared();
	if (!shared) {
		printf("SKIP: ../shared is absent\n");
		return 77;
	}
	if (system("ffmpeg -version >/dev/null 2>&1") != 0) {
		printf("SKIP: ffmpeg is absent\n");
		return 77;
	}
	char path[1024];
	struct ks_tmk *t[NV] = {0};
	for (size_t i = 0; i < NV; i++) {
		snprintf(path, sizeof path, "%s/testdata/tmk/videos/%s.mp4", shared, videos[i]);
		t[i] = hash_video(path);
		struct ks_tmk *k = hash_video_kestrel(path);
		CHECK(t[i] != NULL);
		CHECK(k != NULL);
		snprintf(path, sizeof path, "%s/testdata/tmk/expected/%s.tmk", shared, videos[i]);
		size_t len = 0;
		uint8_t *want = ktest_read_file(path, &len);
		CHECK(want != NULL && len == KS_TMK_FILE_BYTES);
		if (k && want) {
			struct ks_buf kb = {0};
			ks_tmk_write(k, &kb);
			printf("  %s from kestrel's own frames: %d frames, %s\n", videos[i],
			       k->frames,
			       kb.len == len && memcmp(kb.data, want, len) == 0 ? "identical"
										: "DIFFERENT");
			CHECK(kb.len == len && memcmp(kb.data, want, len) == 0);
			ks_buf_release(&kb);
		}
		ks_tmk_free(k);
		if (!t[i]) {
			free(want);
			continue;
		}
		struct ks_buf got = {0};
		ks_tmk_write(t[i], &got);
		CHECK(got.len == KS_TMK_FILE_BYTES);
		if (want && got.len == len) {
			size_t d = first_diff(got.data, want, len);
			printf("  %s: %d frames, first difference at byte %zu of %zu\n", videos[i],
			       t[i]->frames, d, len);
			CHECK(d == len);
			/* coefficients (header), pure average, cos/sin blocks separately */
			CHECK(memcmp(got.data, want, 32 + 16 + 128) == 0);
			CHECK(memcmp(got.data + 176, want + 176, 1024) == 0);
			/* read back: the same bytes */
			struct ks_tmk *r = ks_tmk_new();
			struct ks_err err = {0};
			CHECK(ks_tmk_read(want, len, r, &err) == KS_OK);
			struct ks_buf again = {0};
			ks_tmk_write(r, &again);
			CHECK(again.len == len && memcmp(again.data, want, len) == 0);
			/* damaged: short, wrong magic, wrong dimension */
			CHECK(ks_tmk_read(want, len - 1, r, &err) == KS_E_FORMAT);
			want[9] = 'X';
			CHECK(ks_tmk_read(want, len, r, &err) == KS_E_FORMAT);
			want[9] = 'V';
			want[24] = 0x40;
			CHECK(ks_tmk_read(want, len, r, &err) == KS_E_FORMAT);
			CHECK(ks_tmk_read(want, 10, r, &err) == KS_E_FORMAT);
			ks_buf_release(&again);
			ks_tmk_free(r);
		}
		ks_buf_release(&got);
		free(want);
	}
	/* upstream's tmk-two-level-score, three decimals */
	snprintf(path, sizeof path, "%s/testdata/tmk/expected/pair-scores.txt", shared);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	double s1, s2;
	char a[128], b[128];
	int lines = 0;
	while (f && fscanf(f, "%lf %lf %127s %127s", &s1, &s2, a, b) == 4) {
		int ia = -1, ib = -1;
		for (size_t i = 0; i < NV; i++) {
			size_t n = strlen(videos[i]);
			if (strncmp(a, videos[i], n) == 0 && strcmp(a + n, ".tmk") == 0)
				ia = (int)i;
			if (strncmp(b, videos[i], n) == 0 && strcmp(b + n, ".tmk") == 0)
				ib = (int)i;
		}
		CHECK(ia >= 0 && ib >= 0);
		if (ia < 0 || ib < 0 || !t[ia] || !t[ib])
			continue;
		double l1 = ks_tmk_level1(t[ia], t[ib]), l2 = ks_tmk_level2(t[ia], t[ib]);
		printf("  %s %s: %.6f %.6f (upstream %.6f %.6f)\n", a, b, l1, l2, s1, s2);
		CHECK(l1 > s1 - 0.0005 && l1 < s1 + 0.0005);
		CHECK(l2 > s2 - 0.0005 && l2 < s2 + 0.0005);
		lines++;
	}
	CHECK(lines == 6);
	if (f)
		fclose(f);
	for (size_t i = 0; i < NV; i++)
		ks_tmk_free(t[i]);
	return ktest_done();
}
