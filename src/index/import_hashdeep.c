/* hashdeep / md5deep audit files: "%%%% HASHDEEP-1.0", a "%%%% size,md5,…,filename"
 * line declaring the columns, '#' comments, then one CSV row per file in that order.
 * The file name is the last column and may itself hold commas. We take size, md5, sha1,
 * sha256 and the name; other digests (tiger, whirlpool, sha3…) are skipped. */
#include <string.h>
#include <strings.h>

#include "index_int.h"

enum col { C_OTHER, C_SIZE, C_MD5, C_SHA1, C_SHA256, C_NAME };
#define MAXCOLS 16

struct layout {
	enum col cols[MAXCOLS];
	int n;
};

static int hashdeep_probe(const uint8_t *head, size_t len, const char *path)
{
	size_t i = ks_import_bom(head, len);
	if (len - i >= 13 && memcmp(head + i, "%%%% HASHDEEP", 13) == 0)
		return 95;
	if (len - i >= 10 && memcmp(head + i, "%%%% size,", 10) == 0)
		return 80;
	return 0;
}

static int parse_columns(const char *s, size_t len, struct layout *lay)
{
	lay->n = 0;
	size_t i = 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		if (lay->n == MAXCOLS)
			return -1;
		const char *c = s + i;
		size_t n = j - i;
		enum col k = C_OTHER;
		if (n == 4 && strncasecmp(c, "size", 4) == 0)
			k = C_SIZE;
		else if (n == 3 && strncasecmp(c, "md5", 3) == 0)
			k = C_MD5;
		else if (n == 4 && strncasecmp(c, "sha1", 4) == 0)
			k = C_SHA1;
		else if (n == 6 && strncasecmp(c, "sha256", 6) == 0)
			k = C_SHA256;
		else if (n == 8 && strncasecmp(c, "filename", 8) == 0)
			k = C_NAME;
		else if (n == 0)
			return -1;
		lay->cols[lay->n++] = k;
		i = j + 1;
	}
	for (int c = 0; c < lay->n; c++)
		if (lay->cols[c] == C_NAME && c != lay->n - 1)
			return -1; /* hashdeep always writes the name last */
	for (int c = 0; c < lay->n; c++)
		if (lay->cols[c] == C_MD5 || lay->cols[c] == C_SHA1 || lay->cols[c] == C_SHA256)
			return 0;
	return -1; /* no digest we know */
}

struct hd_state {
	struct layout lay;
	int seen_header;
};

static int hashdeep_line(struct ks_line_import *li, char *line, size_t len,
			 struct ks_hash_entry *e, struct ks_err *err)
{
	struct hd_state *st = li->state;
	struct layout *lay = &st->lay;
	unsigned long long ln = li->lineno;
	if (line[0] == '#')
		return 0;
	if (len >= 5 && memcmp(line, "%%%% ", 5) == 0) {
		if (len >= 13 && memcmp(line + 5, "HASHDEEP", 8) == 0)
			st->seen_header = 1;
		else if (parse_columns(line + 5, len - 5, lay) < 0)
			return ks_err_set(err, KS_E_FORMAT,
					  "line %llu: bad column declaration (need md5, sha1 "
					  "or sha256; filename last)",
					  ln);
		return 0;
	}
	if (!st->seen_header && lay->n == 0)
		return ks_err_set(err, KS_E_FORMAT, "line %llu: no \"%%%%%%%% HASHDEEP\" header",
				  ln);
	if (lay->n == 0)
		return ks_err_set(err, KS_E_FORMAT,
				  "line %llu: data before the \"%%%%%%%% size,…\" column line", ln);
	size_t i = 0;
	for (int c = 0; c < lay->n; c++) {
		size_t j = i;
		if (lay->cols[c] == C_NAME || c == lay->n - 1)
			j = len;
		else
			while (j < len && line[j] != ',')
				j++;
		if (c < lay->n - 1 && j >= len)
			return ks_err_set(err, KS_E_FORMAT,
					  "line %llu: %d columns declared, fewer found", ln, lay->n);
		const char *f = line + i;
		size_t fl = j - i;
		int bad = 0;
		switch (lay->cols[c]) {
		case C_SIZE:
			e->size = ks_parse_size(f, fl);
			bad = e->size < 0;
			break;
		case C_MD5:
			bad = ks_hex_field(f, fl, e->md5, 16) < 0;
			e->has |= KS_HAS_MD5;
			break;
		case C_SHA1:
			bad = ks_hex_field(f, fl, e->sha1, 20) < 0;
			e->has |= KS_HAS_SHA1;
			break;
		case C_SHA256:
			bad = ks_hex_field(f, fl, e->sha256, 32) < 0;
			e->has |= KS_HAS_SHA256;
			break;
		case C_NAME:
			line[j] = '\0';
			e->name = fl ? f : NULL;
			break;
		case C_OTHER:
			break;
		}
		if (bad) {
			char ex[80];
			ks_quote_excerpt(f, fl, ex);
			return ks_err_set(err, KS_E_FORMAT, "line %llu, column %d: bad value \"%s\"",
					  ln, c + 1, ex);
		}
		i = j + 1;
	}
	return 1;
}

static int hashdeep_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
			struct ks_err *err)
{
	struct hd_state st = {.lay = {.n = 0}};
	int rc = ks_import_lines(path, o, hashdeep_line, &st, fn, ctx, err);
	if (rc == KS_OK && !st.seen_header && st.lay.n == 0)
		rc = ks_err_set(err, KS_E_FORMAT, "no \"%%%%%%%% HASHDEEP\" header");
	return rc;
}

const struct ks_importer_ops ks_import_hashdeep_ops = {"hashdeep", hashdeep_probe, hashdeep_run, NULL};
