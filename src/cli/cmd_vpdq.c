/* kestrel vpdq FILE... : vPDQ fingerprints of videos in the reference tools' text form
 * ("frame,quality,hash,seconds" lines), optional contact sheets, and the reference's
 * query/target match percentages between two videos or fingerprint files. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "kestrel/video.h"
#include "kestrel/vpdq.h"

static const char usage[] =
	"kestrel vpdq [--all-frames] [--full-size] [--rate R] [--collapse N | --no-collapse]\n"
	"             [--time-limit S] [--out DIR] [--sheet DIR] FILE...\n"
	"       kestrel vpdq --compare [--distance D] [--quality Q] QUERY TARGET";

struct vopts {
	struct ks_vpdq_opts vo;
	struct ks_video_limits lim;
	const char *out_dir, *sheet_dir;
	int distance, quality;
};

/* Writes data to dir/<basename of path><ext>, never over an existing file. */
static int write_beside(const char *dir, const char *path, const char *ext, const void *data,
			size_t len)
{
	char *copy = ks_xstrdup(path);
	char *name = ks_xasprintf("%s/%s%s", dir, basename(copy), ext);
	int ok = 0;
	FILE *f = fopen(name, "wx");
	if (!f) {
		fprintf(stderr, "kestrel: vpdq: %s: %s\n", name, strerror(errno));
	} else {
		ok = fwrite(data, 1, len, f) == len;
		ok = (fclose(f) == 0) && ok;
		if (!ok)
			fprintf(stderr, "kestrel: vpdq: %s: write failed\n", name);
	}
	free(name);
	free(copy);
	return ok ? 0 : -1;
}

static void report_marks(const char *path, unsigned marks, const char *why)
{
	char m[64];
	if (marks)
		fprintf(stderr, "kestrel: vpdq: %s: %s: %s\n", path,
			ks_video_marks_name(marks, m, sizeof m), why);
}

/* Fingerprints one video into out (and its contact sheet into sheet, if non-NULL). */
static int hash_one(const char *path, const struct vopts *o, struct ks_pdq *pdq,
		    struct ks_vpdq *out, struct ks_buf *sheet)
{
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	struct ks_contact *c = NULL;
	struct ks_video_result res;
	int rc = ks_video_open_file(&v, path, &o->lim, NULL, &err);
	if (rc < 0) {
		fprintf(stderr, "kestrel: vpdq: %s: %s\n", path, err.msg);
		return -1;
	}
	if (sheet)
		c = ks_contact_new(NULL);
	rc = ks_vpdq_hash_video(v, pdq, &o->vo, c ? ks_contact_add : NULL, c, out, &res, &err);
	if (rc == 0 && c)
		rc = ks_contact_render(c, sheet, &err);
	if (rc < 0)
		fprintf(stderr, "kestrel: vpdq: %s: %s\n", path, err.msg);
	report_marks(path, res.marks, res.why);
	ks_contact_free(c);
	ks_video_close(v);
	return rc < 0 ? -1 : 0;
}

/* A compare operand: a vPDQ text file if it parses as one, else a video. */
static int load_operand(const char *path, const struct vopts *o, struct ks_pdq *pdq,
			struct ks_vpdq *out)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (64 << 20)) {
		FILE *f = fopen(path, "rb");
		if (f) {
			size_t n = (size_t)st.st_size;
			char *text = ks_xmalloc(n + 1);
			size_t got = fread(text, 1, n, f);
			fclose(f);
			struct ks_err err = {0};
			int parsed = got == n && n > 0 && text[0] >= '0' && text[0] <= '9' &&
				     ks_vpdq_parse(text, n, out, &err) == 0;
			free(text);
			if (parsed)
				return 0;
			ks_vpdq_release(out);
		}
	}
	return hash_one(path, o, pdq, out, NULL);
}

static int compare(int argc, char **argv, const struct vopts *o, struct ks_pdq *pdq)
{
	if (argc != 2)
		return ks_cli_usage(usage, "vpdq --compare: expected QUERY and TARGET");
	struct ks_vpdq q = {0}, t = {0};
	int rc = EXIT_ERR;
	if (load_operand(argv[0], o, pdq, &q) == 0 && load_operand(argv[1], o, pdq, &t) == 0) {
		double qp, tp;
		ks_vpdq_match(&q, &t, o->distance, o->quality, &qp, &tp);
		printf("%.3f,%.3f\n", qp, tp);
		rc = EXIT_OK;
	}
	ks_vpdq_release(&q);
	ks_vpdq_release(&t);
	return rc;
}

int ks_cmd_vpdq(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"all-frames", no_argument, NULL, 'a'},
		{"full-size", no_argument, NULL, 'f'},
		{"rate", required_argument, NULL, 'r'},
		{"collapse", required_argument, NULL, 'c'},
		{"no-collapse", no_argument, NULL, 'n'},
		{"time-limit", required_argument, NULL, 't'},
		{"out", required_argument, NULL, 'o'},
		{"sheet", required_argument, NULL, 's'},
		{"compare", no_argument, NULL, 'C'},
		{"distance", required_argument, NULL, 'd'},
		{"quality", required_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct vopts o = {.lim = ks_video_default_limits, .distance = 31, .quality = 50};
	int cmp = 0, ch;
	char *end;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'a': o.vo.sample.mode = KS_VIDEO_ALL; break;
		case 'f': o.vo.sample.max_side = UINT32_MAX; break;
		case 'r':
			o.vo.sample.rate = strtod(optarg, &end);
			if (*end || o.vo.sample.rate <= 0)
				return ks_cli_usage(usage, "vpdq: --rate wants a positive number");
			break;
		case 'c': {
			long d = strtol(optarg, &end, 10);
			if (*end || d < 0 || d > 256)
				return ks_cli_usage(usage, "vpdq: --collapse wants 0..256");
			o.vo.collapse = d == 0 ? KS_VPDQ_COLLAPSE_SAME : (int)d;
			break;
		}
		case 'n': o.vo.collapse = KS_VPDQ_NO_COLLAPSE; break;
		case 't':
			o.lim.max_seconds = strtod(optarg, &end);
			if (*end || o.lim.max_seconds <= 0)
				return ks_cli_usage(usage, "vpdq: --time-limit wants seconds");
			break;
		case 'o': o.out_dir = optarg; break;
		case 's': o.sheet_dir = optarg; break;
		case 'C': cmp = 1; break;
		case 'd':
			o.distance = (int)strtol(optarg, &end, 10);
			if (*end || o.distance < 0 || o.distance > 257)
				return ks_cli_usage(usage, "vpdq: --distance wants 0..257");
			break;
		case 'q':
			o.quality = (int)strtol(optarg, &end, 10);
			if (*end || o.quality < 0 || o.quality > 100)
				return ks_cli_usage(usage, "vpdq: --quality wants 0..100");
			break;
		case 'h':
			printf("usage: %s\n\n"
			       "Prints the vPDQ fingerprint of each video: one line per sampled frame,\n"
			       "\"frame,quality,hash,seconds\" as Meta's vpdq-hash-video writes it. Frames\n"
			       "are key frames (between key frames more than %.0f s apart, frames decoded\n"
			       "forward on the whole seconds; or, with --all-frames, every frame with\n"
			       "scene changes), at most --rate per second (default 1); consecutive frames\n"
			       "within --collapse bits (default %d) of the last one kept are collapsed.\n"
			       "Frames are hashed\n"
			       "at most 512 px on the long side (--full-size: as decoded, like the\n"
			       "reference; --all-frames --full-size --no-collapse is closest to\n"
			       "vpdq-hash-video). With several\n"
			       "files each block starts with \"# FILE\"; --out DIR writes DIR/NAME.txt\n"
			       "instead, --sheet DIR a contact sheet DIR/NAME.jpg. Truncated, damaged or\n"
			       "over-budget videos are reported on stderr and hashed as far as they go.\n"
			       "--compare prints the query and target match percentages (reference\n"
			       "rule: distance < --distance, default 31, quality >= --quality, default\n"
			       "50) of two videos or vPDQ files.\n",
			       usage, KS_VIDEO_KEY_GAP_DEFAULT, KS_VPDQ_COLLAPSE_DEFAULT);
			return EXIT_OK;
		default: return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind >= argc)
		return ks_cli_usage(usage, "vpdq: expected at least one FILE");
	struct ks_pdq *pdq = ks_pdq_new();
	int status = EXIT_OK;
	if (cmp) {
		status = compare(argc - optind, argv + optind, &o, pdq);
		ks_pdq_free(pdq);
		return status;
	}
	int many = argc - optind > 1;
	for (int i = optind; i < argc; i++) {
		struct ks_vpdq fp = {0};
		struct ks_buf text = {0}, sheet = {0};
		if (hash_one(argv[i], &o, pdq, &fp, o.sheet_dir ? &sheet : NULL) < 0) {
			status = EXIT_ERR;
			ks_vpdq_release(&fp);
			ks_buf_release(&sheet);
			continue;
		}
		ks_vpdq_format(&fp, &text);
		if (o.out_dir) {
			if (write_beside(o.out_dir, argv[i], ".txt", text.data, text.len) < 0)
				status = EXIT_ERR;
		} else {
			if (many)
				printf("# %s\n", argv[i]);
			fwrite(text.data, 1, text.len, stdout);
		}
		if (o.sheet_dir && sheet.len &&
		    write_beside(o.sheet_dir, argv[i], ".jpg", sheet.data, sheet.len) < 0)
			status = EXIT_ERR;
		ks_buf_release(&text);
		ks_buf_release(&sheet);
		ks_vpdq_release(&fp);
	}
	ks_pdq_free(pdq);
	if (fflush(stdout) != 0)
		status = EXIT_ERR;
	return status;
}
