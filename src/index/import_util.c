/* Helpers shared by the hash-set importers: hex digests into entries, a line reader
 * that never buffers more than one bounded line, a small CSV splitter, and the fixed
 * category that plain lists apply to every entry. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/category.h"
#include "index_int.h"

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

int ks_hex_field(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (!s)
		return -1;
	trim(&s, &len);
	return ks_hex_decode(s, len, out, n);
}

int ks_hash_entry_set_hex(struct ks_hash_entry *e, const char *hex, size_t len)
{
	if (!e || !hex)
		return -1;
	trim(&hex, &len);
	switch (len) {
	case 32:
		if (ks_hex_decode(hex, len, e->md5, 16) < 0)
			return -1;
		e->has |= KS_HAS_MD5;
		return 0;
	case 40:
		if (ks_hex_decode(hex, len, e->sha1, 20) < 0)
			return -1;
		e->has |= KS_HAS_SHA1;
		return 0;
	case 64:
		if (ks_hex_decode(hex, len, e->sha256, 32) < 0)
			return -1;
		e->has |= KS_HAS_SHA256;
		return 0;
	}
	return -1;
}

int64_t ks_parse_size(const char *s, size_t len)
{
	trim(&s, &len);
	if (len == 0 || len > 18)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

size_t ks_import_bom(const uint8_t *head, size_t len)
{
	return len >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

size_t ks_skip_blank_comments(const char *s, size_t len, size_t i)
{
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i >= len || s[i] != '#')
			return i;
		while (i < len && s[i] != '\n')
			i++;
	}
}

size_t ks_hex_run(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && isxdigit((unsigned char)s[i]))
		i++;
	return i;
}

void ks_quote_excerpt(const char *s, size_t len, char out[80])
{
	size_t o = 0;
	for (size_t i = 0; i < len && o < 60; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (len > 60) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

int ks_import_stopped(int status, uint64_t entry, struct ks_err *err)
{
	if (status >= 0)
		status = KS_E_USAGE;
	if (err && err->status == KS_OK)
		ks_err_set(err, status, "import stopped by the receiver at entry %llu",
			   (unsigned long long)entry);
	return status;
}

int ks_import_fixed_category(const struct ks_import_opts *o, const char **scheme,
			     const char **category, struct ks_err *err)
{
	const char *numbering = o && o->scheme ? o->scheme : "uk";
	const char *value = o ? o->category : NULL;
	if (ks_category_map(numbering, value, scheme, category) < 0) {
		if (!ks_scheme_find(strcmp(numbering, "dhs") == 0 ? "vics-us" : numbering))
			return ks_err_set(err, KS_E_USAGE,
					  "unknown category numbering '%s' (uk, vics-us, dhs)",
					  numbering);
		return ks_err_set(err, KS_E_USAGE, "'%s' is not a category of numbering '%s'",
				  value, numbering);
	}
	return KS_OK;
}

int ks_import_lines(const char *path, const struct ks_import_opts *o, ks_line_parse_fn parse,
		    void *state, ks_entry_fn fn, void *ctx, struct ks_err *err)
{
	struct ks_lines lr;
	struct ks_err local;
	struct ks_line_import li = {.state = state};
	if (!err)
		err = &local;
	ks_err_clear(err);
	int rc = ks_import_fixed_category(o, &li.scheme, &li.category, err);
	if (rc < 0)
		return rc;
	rc = ks_lines_open(&lr, path, err);
	while (rc >= 0) {
		char *line;
		size_t len;
		rc = ks_lines_next(&lr, &line, &len, err);
		if (rc <= 0)
			break;
		if (len == 0)
			continue;
		li.lineno = (unsigned long long)lr.lineno;
		struct ks_hash_entry e = {
		    .scheme = li.scheme, .category = li.category, .size = -1, .distributed = -1};
		rc = parse(&li, line, len, &e, err);
		if (rc <= 0)
			continue;
		li.entries++;
		int frc = fn(ctx, &e);
		if (frc < 0)
			rc = ks_import_stopped(frc, li.entries, err);
	}
	ks_lines_close(&lr);
	return rc < 0 ? rc : KS_OK;
}

static int csv_table_line(struct ks_line_import *li, char *line, size_t len,
			  struct ks_hash_entry *e, struct ks_err *err)
{
	struct ks_csv_table *t = li->state;
	char *f[KS_CSV_COLS_MAX];
	size_t fl[KS_CSV_COLS_MAX];
	int nf = ks_csv_split(line, len, t->sep, f, fl, t->max);
	if (nf < 0)
		return ks_err_set(err, KS_E_FORMAT, "line %llu: %s", li->lineno, t->bad);
	if (t->ncols && nf != t->ncols)
		return ks_err_set(err, KS_E_FORMAT, "line %llu: %d fields, the header has %d",
				  li->lineno, nf, t->ncols);
	return t->row(t, li->lineno, f, fl, nf, e, err);
}

int ks_import_csv_table(const char *path, const struct ks_import_opts *o, struct ks_csv_table *t,
			ks_entry_fn fn, void *ctx, struct ks_err *err)
{
	t->ncols = 0;
	int rc = ks_import_lines(path, o, csv_table_line, t, fn, ctx, err);
	if (rc == KS_OK && !t->ncols)
		rc = ks_err_set(err, KS_E_FORMAT, "no %s header line", t->format);
	return rc;
}

/* ---- line reader ----------------------------------------------------------------- */

int ks_lines_open(struct ks_lines *lr, const char *path, struct ks_err *err)
{
	memset(lr, 0, sizeof *lr);
	lr->f = fopen(path, "rb");
	if (!lr->f)
		return ks_err_set(err, KS_E_ENV, "cannot open: %s", strerror(errno));
	/* room for one full line, one read's worth beyond it, and the NUL */
	lr->cap = KS_IMPORT_LINE_MAX + 65536 + 1;
	lr->buf = ks_xmalloc(lr->cap);
	return KS_OK;
}

void ks_lines_close(struct ks_lines *lr)
{
	if (!lr)
		return;
	if (lr->f)
		fclose(lr->f);
	free(lr->buf);
	memset(lr, 0, sizeof *lr);
}

int ks_lines_next(struct ks_lines *lr, char **line, size_t *len, struct ks_err *err)
{
	for (;;) {
		char *s = lr->buf + lr->start;
		size_t avail = lr->end - lr->start;
		char *nl = memchr(s, '\n', avail);
		size_t n;
		if (nl) {
			n = (size_t)(nl - s);
			lr->start += n + 1;
		} else if (lr->eof) {
			if (avail == 0)
				return 0;
			n = avail;
			lr->start = lr->end;
		} else {
			if (avail > KS_IMPORT_LINE_MAX)
				return ks_err_set(
				    err, KS_E_FORMAT, "line %llu is longer than %d bytes",
				    (unsigned long long)lr->lineno + 1, KS_IMPORT_LINE_MAX);
			memmove(lr->buf, s, avail);
			lr->start = 0;
			lr->end = avail;
			size_t got = fread(lr->buf + lr->end, 1, lr->cap - 1 - lr->end, lr->f);
			lr->end += got;
			if (got == 0) {
				if (ferror(lr->f))
					return ks_err_set(err, KS_E_ENV,
							  "read error after line %llu",
							  (unsigned long long)lr->lineno);
				lr->eof = 1;
			}
			continue;
		}
		if (n > KS_IMPORT_LINE_MAX)
			return ks_err_set(err, KS_E_FORMAT, "line %llu is longer than %d bytes",
					  (unsigned long long)lr->lineno + 1, KS_IMPORT_LINE_MAX);
		if (n && s[n - 1] == '\r')
			n--;
		s[n] = '\0';
		lr->lineno++;
		if (lr->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			n -= 3;
		}
		*line = s;
		*len = n;
		return 1;
	}
}

/* ---- CSV -------------------------------------------------------------------------- */

int ks_csv_split(char *line, size_t len, char sep, char **fields, size_t *lens, int max)
{
	int nf = 0;
	size_t i = 0;
	for (;;) {
		if (nf == max)
			return -1;
		char *out = line + i, *w = out;
		if (i < len && line[i] == '"') {
			i++;
			for (;;) {
				if (i >= len)
					return -1; /* unterminated quote */
				if (line[i] == '"') {
					if (i + 1 < len && line[i + 1] == '"') {
						*w++ = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				*w++ = line[i++];
			}
			if (i < len && line[i] != sep)
				return -1; /* text after the closing quote */
		} else {
			while (i < len && line[i] != sep)
				w++, i++;
		}
		fields[nf] = out;
		lens[nf] = (size_t)(w - out);
		nf++;
		if (i >= len) {
			*w = '\0';
			return nf;
		}
		*w = '\0'; /* overwrites the separator or lies before it */
		i++;	   /* past the separator */
	}
}
