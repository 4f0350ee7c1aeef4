/* Helpers shared by the video tests: make benign test videos with ffmpeg (lavfi test
 * patterns) in a temporary folder, copy and cut files by bytes. Every function is
 * static: each test_video*.c includes this once. */
#ifndef TEST_VIDEO_UTIL_H
#define TEST_VIDEO_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktest.h"

static const char *vt_dir;

/* Skips the whole test (exit 77) when ffmpeg is missing; makes the temp folder. */
static void vt_init(void)
{
	if (system("ffmpeg -hide_banner -version >/dev/null 2>&1") != 0) {
		printf("ffmpeg not found: skipping video tests\n");
		exit(77);
	}
	vt_dir = ktest_tmpdir();
	if (!vt_dir) {
		printf("no temporary folder\n");
		exit(1);
	}
}

static char *vt_path(const char *name)
{
	static char bufs[8][256];
	static int k;
	char *b = bufs[k++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", vt_dir, name);
	return b;
}

/* Runs `ffmpeg <args>` (quiet, no stdin); 0 on success. */
static int vt_ffmpeg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int vt_ffmpeg(const char *fmt, ...)
{
	char args[2048], cmd[2300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "cd '%s' && ffmpeg -nostdin -hide_banner -loglevel error -y %s",
		 vt_dir, args);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "ffmpeg failed: %s\n", args);
	return rc;
}

static __attribute__((unused)) int vt_has_encoder(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd,
		 "ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' %s '", name);
	return system(cmd) == 0;
}

/* Writes the first n bytes of src (or all if n exceeds it) to dst; returns the size of
 * src, 0 on failure. */
static __attribute__((unused)) size_t vt_copy_head(const char *src, const char *dst, size_t n)
{
	size_t len;
	unsigned char *d = ktest_read_file(src, &len);
	if (!d)
		return 0;
	FILE *f = fopen(dst, "wb");
	if (!f) {
		free(d);
		return 0;
	}
	fwrite(d, 1, n < len ? n : len, f);
	fclose(f);
	free(d);
	return len;
}

static __attribute__((unused)) int vt_write(const char *dst, const void *data, size_t n)
{
	FILE *f = fopen(dst, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(data, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

static __attribute__((unused)) int vt_near(double a, double b, double tol)
{
	return a > b - tol && a < b + tol;
}

#endif
