/* TMK+PDQF files: a known video as upstream's tmk-hash-video (or `kestrel tmk`) writes
 * it, one video per .tmk file, probed by its "TMK1" "FVEC" "PDQF" magic. The file is
 * read whole (it has one size, KS_TMK_FILE_BYTES) and checked by ks_tmk_read, and for
 * upstream's frame rate and periods (those kestrel computes with); it becomes one
 * entry named after the file, with the category the user gives, no digest, and the
 * file's bytes (entry.tmk). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "kestrel/tmk.h"

static int tmk_probe(const uint8_t *head, size_t len, const char *path)
{
	(void)path;
	return len >= 12 && memcmp(head, "TMK1FVECPDQF", 12) == 0 ? 100 : 0;
}

/* Reads the whole file if it is exactly one TMK record long. */
static int read_record(const char *path, uint8_t **out, struct ks_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ks_err_set(err, KS_E_ENV, "cannot open: %s", strerror(errno));
	uint8_t *data = ks_xmalloc(KS_TMK_FILE_BYTES + 1);
	size_t got = fread(data, 1, KS_TMK_FILE_BYTES + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(data);
		return ks_err_set(err, KS_E_ENV, "read error");
	}
	if (got != KS_TMK_FILE_BYTES) {
		free(data);
		return ks_err_set(
		    err, KS_E_FORMAT,
		    "tmk: %s bytes where one TMK+PDQF file has %d (one video per file)",
		    got > KS_TMK_FILE_BYTES ? "more" : "fewer", KS_TMK_FILE_BYTES);
	}
	*out = data;
	return KS_OK;
}

static int tmk_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		   struct ks_err *err)
{
	struct ks_err local;
	const char *scheme, *category;
	uint8_t *data = NULL;
	if (!err)
		err = &local;
	ks_err_clear(err);
	int rc = ks_import_fixed_category(o, &scheme, &category, err);
	if (rc < 0)
		return rc;
	if ((rc = read_record(path, &data, err)) < 0)
		return rc;
	struct ks_tmk *t = ks_tmk_new();
	rc = ks_tmk_read(data, KS_TMK_FILE_BYTES, t, err);
	if (rc == KS_OK && t->frames <= 0)
		rc = ks_err_set(err, KS_E_FORMAT, "tmk: the video has no frame");
	/* Scores compare like with like: kestrel's descriptors are upstream's defaults. */
	if (rc == KS_OK && t->fps != KS_TMK_FPS)
		rc = ks_err_set(err, KS_E_FORMAT, "tmk: %d frames a second (kestrel uses %d)",
				t->fps, KS_TMK_FPS);
	struct ks_tmk *std = rc == KS_OK ? ks_tmk_new() : NULL;
	if (std && memcmp(t->periods, std->periods, sizeof t->periods) != 0)
		rc = ks_err_set(err, KS_E_FORMAT,
				"tmk: periods %d %d %d %d are not upstream's (%d %d %d %d)",
				t->periods[0], t->periods[1], t->periods[2], t->periods[3],
				std->periods[0], std->periods[1], std->periods[2], std->periods[3]);
	ks_tmk_free(std);
	ks_tmk_free(t);
	if (rc == KS_OK) {
		const char *base = strrchr(path, '/');
		struct ks_hash_entry e = {.scheme = scheme,
					  .category = category,
					  .size = -1,
					  .distributed = -1,
					  .name = base ? base + 1 : path,
					  .tmk = data,
					  .tmk_len = KS_TMK_FILE_BYTES};
		int frc = fn(ctx, &e);
		if (frc < 0)
			rc = ks_import_stopped(frc, 1, err);
	}
	free(data);
	return rc < 0 ? rc : KS_OK;
}

const struct ks_importer_ops ks_import_tmk_ops = {"tmk", tmk_probe, tmk_run, NULL};
