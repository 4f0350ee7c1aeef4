/* HashKeeper hash sets (.hsh, from the US NDIC's defunct HashKeeper): comma-separated,
 * usually quoted, with a header naming the columns ("file_id","hashset_id",
 * "file_name","directory","hash","file_size","date_modified",...). We take the MD5 in
 * "hash", the file name and size. The set's notable/known flag lives in the companion
 * .hke file, so the user gives the role and category. */
#include <string.h>
#include <strings.h>

#include "index_int.h"

#define MAXCOLS 32
_Static_assert(MAXCOLS <= KS_CSV_COLS_MAX, "the shared table holds the columns");

enum col { C_OTHER, C_HASH, C_NAME, C_SIZE };

static int hk_probe(const uint8_t *head, size_t len, const char *path)
{
	size_t i = ks_import_bom(head, len);
	const char *s = (const char *)head + i;
	size_t n = len - i;
	static const char quoted[] = "\"file_id\",\"hashset_id\",", bare[] = "file_id,hashset_id,";
	if (n >= sizeof quoted - 1 && strncasecmp(s, quoted, sizeof quoted - 1) == 0)
		return 95;
	if (n >= sizeof bare - 1 && strncasecmp(s, bare, sizeof bare - 1) == 0)
		return 90;
	return 0;
}

static int hk_row(struct ks_csv_table *st, unsigned long long ln, char **f, size_t *fl, int nf,
		  struct ks_hash_entry *e, struct ks_err *err)
{
	if (!st->ncols) {
		int have_hash = 0;
		for (int c = 0; c < nf; c++) {
			st->col[c] = !strcasecmp(f[c], "hash")	      ? C_HASH
				     : !strcasecmp(f[c], "file_name") ? C_NAME
				     : !strcasecmp(f[c], "file_size") ? C_SIZE
								      : C_OTHER;
			have_hash |= st->col[c] == C_HASH;
		}
		if (!have_hash || strcasecmp(f[0], "file_id") != 0)
			return ks_err_set(err, KS_E_FORMAT,
					  "line %llu: not a HashKeeper header (\"file_id\", ..., "
					  "\"hash\", ...)",
					  ln);
		st->ncols = nf;
		return 0;
	}
	for (int c = 0; c < nf; c++) {
		switch ((enum col)st->col[c]) {
		case C_HASH:
			if (ks_hex_field(f[c], fl[c], e->md5, 16) < 0) {
				char ex[80];
				ks_quote_excerpt(f[c], fl[c], ex);
				return ks_err_set(err, KS_E_FORMAT,
						  "line %llu, column %d: \"%s\" is not an MD5", ln,
						  c + 1, ex);
			}
			e->has = KS_HAS_MD5;
			break;
		case C_NAME:
			e->name = fl[c] ? f[c] : NULL;
			break;
		case C_SIZE:
			e->size = fl[c] ? ks_parse_size(f[c], fl[c]) : -1;
			if (fl[c] && e->size < 0)
				return ks_err_set(err, KS_E_FORMAT,
						  "line %llu, column %d: bad file size", ln, c + 1);
			break;
		case C_OTHER:
			break;
		}
	}
	return 1;
}

static int hk_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		  struct ks_err *err)
{
	struct ks_csv_table st = {.sep = ',',
				  .max = MAXCOLS,
				  .bad = "malformed CSV",
				  .format = "HashKeeper",
				  .row = hk_row};
	return ks_import_csv_table(path, o, &st, fn, ctx, err);
}

const struct ks_importer_ops ks_import_hashkeeper_ops = {"hashkeeper", hk_probe, hk_run, NULL};
