/* Interpol ICSE exports: ';'-separated text whose header names the columns
 * ("MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;
 * Series name;Number of submissions;File Available;Media Type;Baseline"), one image per
 * line. Columns are found by name, so their order may vary; fields may be quoted.
 * ICSE carries no category: the user gives the category of the whole file. PhotoDNA
 * is kept as opaque text; rows with neither MD5 nor SHA-1 match nothing and are
 * skipped. */
#include <string.h>
#include <strings.h>

#include "index_int.h"

#define MAXCOLS 64
_Static_assert(MAXCOLS <= KS_CSV_COLS_MAX, "the shared table holds the columns");

enum col { C_OTHER, C_MD5, C_SHA1, C_PHOTODNA, C_ID, C_DIST, C_SERIES };

static const struct {
	const char *name;
	enum col col;
} names[] = {
    {"MD5", C_MD5},	  {"SHA1", C_SHA1},  {"SHA-1", C_SHA1},		 {"PhotoDNA", C_PHOTODNA},
    {"Image ID", C_ID},	  {"ImageID", C_ID}, {"Is distributed", C_DIST}, {"Series name", C_SERIES},
    {"Series", C_SERIES},
};

static int icse_probe(const uint8_t *head, size_t len, const char *path)
{
	size_t i = ks_import_bom(head, len);
	const char *s = (const char *)head + i;
	size_t n = len - i;
	if (n >= 18 && strncasecmp(s, "MD5;SHA1;PhotoDNA;", 18) == 0)
		return 95;
	const char *eol = memchr(s, '\n', n);
	size_t ll = eol ? (size_t)(eol - s) : n;
	if (memmem(s, ll, "PhotoDNA", 8) && memmem(s, ll, "Image ID", 8) && memchr(s, ';', ll))
		return 80;
	return 0;
}

static int truthy(const char *s, size_t n)
{
	while (n && (*s == ' '))
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
#define IS(lit) (n == sizeof(lit) - 1 && strncasecmp(s, lit, n) == 0)
	if (IS("true") || IS("yes") || IS("1") || IS("y"))
		return 1;
	if (IS("false") || IS("no") || IS("0") || IS("n"))
		return 0;
#undef IS
	return -1;
}

static int icse_row(struct ks_csv_table *st, unsigned long long ln, char **f, size_t *fl, int nf,
		    struct ks_hash_entry *e, struct ks_err *err)
{
	if (!st->ncols) {
		int digest = 0;
		for (int c = 0; c < nf; c++) {
			st->col[c] = C_OTHER;
			for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
				if (strcasecmp(f[c], names[k].name) == 0)
					st->col[c] = names[k].col;
			digest |= st->col[c] == C_MD5 || st->col[c] == C_SHA1;
		}
		if (!digest)
			return ks_err_set(err, KS_E_FORMAT,
					  "line %llu: not an ICSE header (no MD5 or SHA1 column)",
					  ln);
		st->ncols = nf;
		return 0;
	}
	for (int c = 0; c < nf; c++) {
		size_t n = fl[c];
		const char *v = f[c];
		int blank = 1;
		for (size_t k = 0; k < n && blank; k++)
			blank = v[k] == ' ';
		if (blank)
			continue;
		int bad = 0;
		switch ((enum col)st->col[c]) {
		case C_MD5:
			bad = ks_hex_field(v, n, e->md5, 16) < 0;
			e->has |= KS_HAS_MD5;
			break;
		case C_SHA1:
			bad = ks_hex_field(v, n, e->sha1, 20) < 0;
			e->has |= KS_HAS_SHA1;
			break;
		case C_PHOTODNA:
			e->photodna = v;
			break;
		case C_ID:
			e->name = v;
			break;
		case C_SERIES:
			e->series = v;
			break;
		case C_DIST:
			e->distributed = truthy(v, n);
			break;
		case C_OTHER:
			break;
		}
		if (bad) {
			char ex[80];
			ks_quote_excerpt(v, n, ex);
			return ks_err_set(err, KS_E_FORMAT,
					  "line %llu, column %d: \"%s\" is not a %s", ln, c + 1, ex,
					  st->col[c] == C_MD5 ? "MD5" : "SHA-1");
		}
	}
	return e->has ? 1 : 0; /* PhotoDNA only: nothing to match exactly */
}

static int icse_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		    struct ks_err *err)
{
	struct ks_csv_table st = {.sep = ';',
				  .max = MAXCOLS,
				  .bad = "bad quoting or too many fields",
				  .format = "ICSE",
				  .row = icse_row};
	return ks_import_csv_table(path, o, &st, fn, ctx, err);
}

const struct ks_importer_ops ks_import_icse_ops = {"icse", icse_probe, icse_run, NULL};
