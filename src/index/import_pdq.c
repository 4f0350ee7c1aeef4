/* PDQ hash lists: one "HASH,QUALITY[,NAME]" per line as Meta's pdq-photo-hasher and
 * most sharing programmes write them (tabs accepted for commas), an optional header
 * line ("hash,quality,..."), '#' comments and blank lines; a bare HASH (quality
 * unknown) when the format is named. The user gives the category of the whole list.
 * Quality is passed on: the index builder leaves out hashes below the floor. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "index_int.h"

static int is_header(const char *s, size_t len)
{
	return len >= 5 && strncasecmp(s, "hash", 4) == 0 && (s[4] == ',' || s[4] == '\t');
}

static int pdq_probe(const uint8_t *head, size_t len, const char *path)
{
	const char *s = (const char *)head;
	int header = 0;
	size_t i = ks_skip_blank_comments(s, len, ks_import_bom(head, len));
	if (is_header(s + i, len - i)) {
		header = 1;
		while (i < len && s[i] != '\n')
			i++;
		i = ks_skip_blank_comments(s, len, i);
	}
	size_t n = ks_hex_run(s + i, len - i);
	if (n != 64 || i + n >= len || (s[i + n] != ',' && s[i + n] != '\t'))
		return header && i >= len ? 40 : 0;
	size_t j = i + n + 1;
	if (j < len && isdigit((unsigned char)s[j]))
		return 85;
	return 0;
}

static int pdq_line(struct ks_line_import *li, char *line, size_t len, struct ks_hash_entry *e,
		    struct ks_err *err)
{
	unsigned long long ln = li->lineno;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	if (li->entries == 0 && is_header(line + i, len - i))
		return 0;
	size_t n = ks_hex_run(line + i, len - i);
	e->pdq_quality = -1;
	size_t end = i + n;
	if (n != 64 || (end < len && line[end] != ',' && line[end] != '\t' && line[end] != ' ')) {
		char ex[80];
		size_t tok = n;
		while (i + tok < len && line[i + tok] != ',' && line[i + tok] != '\t')
			tok++;
		ks_quote_excerpt(line + i, tok, ex);
		return ks_err_set(err, KS_E_FORMAT,
				  "line %llu: \"%s\" is not a PDQ hash (64 hex digits expected)",
				  ln, ex);
	}
	if (ks_hex_decode(line + i, 64, e->pdq, 32) < 0)
		abort(); /* ks_hex_run said these are hex digits */
	e->has = KS_HAS_PDQ;
	size_t j = end;
	while (j < len && line[j] == ' ')
		j++;
	if (j < len) {
		char sep = line[j++];
		if (sep != ',' && sep != '\t')
			return ks_err_set(err, KS_E_FORMAT, "line %llu: text after the hash", ln);
		size_t q = j;
		while (q < len && line[q] != sep)
			q++;
		int64_t quality = ks_parse_size(line + j, q - j);
		if (quality < 0 || quality > 100) {
			char ex[80];
			ks_quote_excerpt(line + j, q - j, ex);
			return ks_err_set(err, KS_E_FORMAT,
					  "line %llu: quality \"%s\" is not a number from 0 to 100",
					  ln, ex);
		}
		e->pdq_quality = (int)quality;
		if (q < len && q + 1 < len)
			e->name = line + q + 1;
	}
	return 1;
}

static int pdq_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		   struct ks_err *err)
{
	return ks_import_lines(path, o, pdq_line, NULL, fn, ctx, err);
}

const struct ks_importer_ops ks_import_pdq_ops = {"pdq", pdq_probe, pdq_run, NULL};
