/* kestrel tmk FILE... : TMK+PDQF fingerprints of videos as upstream's .tmk files (the
 * bytes tmk-hash-video writes), and upstream's two-level scores between videos or .tmk
 * files (tmk-two-level-score's output lines). */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "kestrel/tmk.h"
#include "kestrel/video.h"

static const char usage[] = "kestrel tmk [--out DIR] [--time-limit S] FILE...\n"
			    "       kestrel tmk --compare [--time-limit S] A B [C...]";

/* The CLI's budget per video: a full decode of a long video takes minutes. */
#define TMK_CLI_SECONDS 3600

/* dir/<basename of path without its extension>.tmk (as tmk-hash-video names it). */
static char *out_name(const char *dir, const char *path)
{
	char *copy = ks_xstrdup(path);
	char *base = basename(copy);
	char *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = '\0';
	char *name = ks_xasprintf("%s/%s.tmk", dir, base);
	free(copy);
	return name;
}

/* Hashes one video into a new descriptor; NULL (reported) on failure. */
static struct ks_tmk *hash_one(const char *path, const struct ks_video_limits *lim)
{
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	struct ks_video_result res;
	if (ks_video_open_file(&v, path, lim, NULL, &err) < 0) {
		fprintf(stderr, "kestrel: tmk: %s: %s\n", path, err.msg);
		return NULL;
	}
	struct ks_tmk *t = ks_tmk_new();
	int rc = ks_tmk_hash_video(v, t, &res, &err);
	ks_video_close(v);
	if (rc < 0) {
		fprintf(stderr, "kestrel: tmk: %s: %s\n", path, err.msg);
		ks_tmk_free(t);
		return NULL;
	}
	if (res.marks) {
		char m[64];
		fprintf(stderr, "kestrel: tmk: %s: %s: %s (%d frames at 15 fps hashed)\n", path,
			ks_video_marks_name(res.marks, m, sizeof m), res.why, t->frames);
	}
	if (t->frames == 0) {
		fprintf(stderr, "kestrel: tmk: %s: no frame decoded\n", path);
		ks_tmk_free(t);
		return NULL;
	}
	return t;
}

/* A compare operand: a .tmk file (by its magic), else a video. */
static struct ks_tmk *load_operand(const char *path, const struct ks_video_limits *lim)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == KS_TMK_FILE_BYTES) {
		FILE *f = fopen(path, "rb");
		if (f) {
			uint8_t *data = ks_xmalloc(KS_TMK_FILE_BYTES);
			size_t got = fread(data, 1, KS_TMK_FILE_BYTES, f);
			fclose(f);
			struct ks_err err = {0};
			struct ks_tmk *t = NULL;
			if (got == KS_TMK_FILE_BYTES && memcmp(data, "TMK1", 4) == 0) {
				t = ks_tmk_new();
				if (ks_tmk_read(data, got, t, &err) < 0) {
					fprintf(stderr, "kestrel: tmk: %s: %s\n", path, err.msg);
					ks_tmk_free(t);
					t = NULL;
				}
				free(data);
				return t;
			}
			free(data);
		}
	}
	return hash_one(path, lim);
}

static int compare(int n, char **paths, const struct ks_video_limits *lim)
{
	if (n < 2)
		return ks_cli_usage(usage, "tmk --compare: expected at least two files");
	struct ks_tmk **t = ks_xcalloc((size_t)n, sizeof *t);
	int rc = EXIT_OK;
	for (int i = 0; i < n; i++)
		if (!(t[i] = load_operand(paths[i], lim)))
			rc = EXIT_ERR;
	for (int i = 0; i < n && rc == EXIT_OK; i++)
		for (int j = i + 1; j < n; j++)
			printf("%.6f %.6f %s %s\n", ks_tmk_level1(t[i], t[j]),
			       ks_tmk_level2(t[i], t[j]), paths[i], paths[j]);
	for (int i = 0; i < n; i++)
		ks_tmk_free(t[i]);
	free(t);
	if (fflush(stdout) != 0)
		rc = EXIT_ERR;
	return rc;
}

static int write_tmk(const char *name, const struct ks_tmk *t)
{
	struct ks_buf b = {0};
	ks_tmk_write(t, &b);
	int ok = 0;
	FILE *f = fopen(name, "wx");
	if (!f) {
		fprintf(stderr, "kestrel: tmk: %s: %s\n", name, strerror(errno));
	} else {
		ok = fwrite(b.data, 1, b.len, f) == b.len;
		ok = (fclose(f) == 0) && ok;
		if (!ok)
			fprintf(stderr, "kestrel: tmk: %s: write failed\n", name);
	}
	ks_buf_release(&b);
	return ok ? 0 : -1;
}

int ks_cmd_tmk(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"time-limit", required_argument, NULL, 't'},
	    {"compare", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct ks_video_limits lim = ks_video_default_limits;
	lim.max_seconds = TMK_CLI_SECONDS;
	const char *out_dir = ".";
	int cmp = 0, ch;
	char *end;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out_dir = optarg;
			break;
		case 't':
			lim.max_seconds = strtod(optarg, &end);
			if (*end || lim.max_seconds <= 0)
				return ks_cli_usage(usage, "tmk: --time-limit wants seconds");
			break;
		case 'C':
			cmp = 1;
			break;
		case 'h':
			printf(
			    "usage: %s\n\n"
			    "Writes the TMK+PDQF fingerprint of each video (Meta's second video\n"
			    "fingerprint) as DIR/NAME.tmk, NAME being the file's name without its\n"
			    "extension (--out DIR, default the current folder; an existing file "
			    "is\n"
			    "never overwritten): the bytes upstream's tmk-hash-video writes. "
			    "Every\n"
			    "frame is decoded (64x64 RGB at 15 frames a second, as upstream's "
			    "ffmpeg\n"
			    "command makes them), so this costs a full decode of each video; each "
			    "gets\n"
			    "--time-limit seconds (default %d). Truncated, damaged or over-budget\n"
			    "videos are reported on stderr and hashed as far as they go.\n"
			    "--compare prints, for each pair of the videos or .tmk files given,\n"
			    "upstream's level-1 and level-2 scores and the two names, as\n"
			    "tmk-two-level-score does; upstream suggests a match when both are at\n"
			    "least 0.7.\n",
			    usage, TMK_CLI_SECONDS);
			return EXIT_OK;
		default:
			return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind >= argc)
		return ks_cli_usage(usage, "tmk: expected at least one FILE");
	if (cmp)
		return compare(argc - optind, argv + optind, &lim);
	int status = EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct ks_tmk *t = hash_one(argv[i], &lim);
		if (!t) {
			status = EXIT_ERR;
			continue;
		}
		char *name = out_name(out_dir, argv[i]);
		if (write_tmk(name, t) < 0)
			status = EXIT_ERR;
		free(name);
		ks_tmk_free(t);
	}
	return status;
}
