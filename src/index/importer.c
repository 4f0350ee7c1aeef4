/* The importer registry: one row per hash-set format. Picks an importer by the name the
 * user gave or by probing the head of the file; a tie between probes is an error the
 * user sees (detection never guesses). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "index_int.h"

static const struct ks_importer_ops *const importers[] = {
    &ks_import_vics_ops,   &ks_import_md5_ops,	    &ks_import_sha1_ops,
    &ks_import_sha256_ops, &ks_import_hashdeep_ops, &ks_import_nsrl_ops,
    &ks_import_icse_ops,   &ks_import_encase_ops,   &ks_import_hashkeeper_ops,
    &ks_import_pdq_ops,    &ks_import_vpdq_ops,	    &ks_import_tmk_ops,
};
#define NIMPORTERS (sizeof importers / sizeof importers[0])

const struct ks_importer_ops *ks_importer_pick(const struct ks_importer_ops *const *tab, size_t n,
					       const uint8_t *head, size_t len, const char *path,
					       struct ks_err *err)
{
	const struct ks_importer_ops *best = NULL, *tie = NULL;
	int best_conf = 0;
	for (size_t i = 0; i < n; i++) {
		int c = tab[i]->probe(head, len, path);
		if (c > best_conf) {
			best = tab[i];
			best_conf = c;
			tie = NULL;
		} else if (c > 0 && c == best_conf) {
			tie = tab[i];
		}
	}
	if (!best) {
		ks_err_set(err, KS_E_UNSUPPORTED,
			   "cannot tell the format of the hash set; name it with --format");
		return NULL;
	}
	if (tie) {
		ks_err_set(err, KS_E_FORMAT,
			   "the file looks like both %s and %s (confidence %d); name the format "
			   "with --format",
			   best->name, tie->name, best_conf);
		return NULL;
	}
	return best;
}

const struct ks_importer_ops *ks_importer_find(const char *path, const char *format,
					       struct ks_err *err)
{
	if (format) {
		for (size_t i = 0; i < NIMPORTERS; i++)
			if (strcmp(importers[i]->name, format) == 0)
				return importers[i];
		struct ks_buf names = {0};
		for (size_t i = 0; i < NIMPORTERS; i++)
			ks_buf_addf(&names, "%s%s", i ? ", " : "", importers[i]->name);
		ks_err_set(err, KS_E_USAGE, "unknown hash-set format '%s' (known: %s)", format,
			   (const char *)names.data);
		ks_buf_release(&names);
		return NULL;
	}
	if (!path) {
		ks_err_set(err, KS_E_USAGE, "no file to probe");
		return NULL;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		ks_err_set(err, KS_E_ENV, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	uint8_t head[KS_IMPORT_HEAD];
	size_t len = fread(head, 1, sizeof head, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		ks_err_set(err, KS_E_ENV, "%s: read error", path);
		return NULL;
	}
	const struct ks_importer_ops *ops =
	    ks_importer_pick(importers, NIMPORTERS, head, len, path, err);
	if (!ops)
		ks_err_prefix(err, "%s", path);
	return ops;
}

int ks_import_file(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		   struct ks_err *err)
{
	static const struct ks_import_opts none;
	struct ks_err local;
	if (!o)
		o = &none;
	if (!err)
		err = &local;
	if (!path || !fn)
		return ks_err_set(err, KS_E_USAGE, "ks_import_file: no path or no callback");
	const struct ks_importer_ops *ops = ks_importer_find(path, o->format, err);
	if (!ops)
		return err->status;
	ks_err_clear(err);
	int rc = ops->run(path, o, fn, ctx, err);
	if (rc < 0)
		ks_err_prefix(err, "%s (%s)", path, ops->name);
	return rc;
}
