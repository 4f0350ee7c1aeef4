/* Plain hash lists: one MD5, SHA-1 or SHA-256 per line, bare or as md5sum/sha1sum/
 * sha256sum write them ("HASH  name", "HASH *name", "\HASH  escaped\nname"). Blank
 * lines and '#' comments are skipped. The user gives the category of the whole list. */

#include "index_int.h"

struct plain_kind {
	const char *label; /* for messages */
	size_t hexlen;
	unsigned bit;
};

static const struct plain_kind k_md5 = {"MD5", 32, KS_HAS_MD5};
static const struct plain_kind k_sha1 = {"SHA-1", 40, KS_HAS_SHA1};
static const struct plain_kind k_sha256 = {"SHA-256", 64, KS_HAS_SHA256};

/* Probe: the first line that is not blank or a comment starts with a hex token of the
 * kind's length, followed by blank or end of line. */
static int plain_probe(const struct plain_kind *k, const uint8_t *head, size_t len)
{
	const char *s = (const char *)head;
	size_t i = ks_skip_blank_comments(s, len, ks_import_bom(head, len));
	if (i < len && s[i] == '\\') /* md5sum marks escaped names this way */
		i++;
	size_t n = ks_hex_run(s + i, len - i);
	if (n != k->hexlen)
		return 0;
	if (i + n == len || s[i + n] == ' ' || s[i + n] == '\t' || s[i + n] == '\r' ||
	    s[i + n] == '\n')
		return 70;
	return 0;
}

/* md5sum's escaping of names holding a newline or backslash: "\\" and "\n". */
static void unescape_name(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == 'n') {
			*w++ = '\n';
			r++;
		} else if (r[0] == '\\' && r[1] == '\\') {
			*w++ = '\\';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static int plain_line(struct ks_line_import *li, char *line, size_t len, struct ks_hash_entry *e,
		      struct ks_err *err)
{
	const struct plain_kind *k = li->state;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	int escaped = line[i] == '\\';
	if (escaped)
		i++;
	size_t n = ks_hex_run(line + i, len - i);
	size_t tok = n;
	while (i + tok < len && line[i + tok] != ' ' && line[i + tok] != '\t')
		tok++;
	uint8_t *dst = k->bit == KS_HAS_MD5 ? e->md5 : k->bit == KS_HAS_SHA1 ? e->sha1 : e->sha256;
	if (tok != k->hexlen || n != tok || ks_hex_decode(line + i, n, dst, n / 2) < 0) {
		char ex[80];
		ks_quote_excerpt(line + i, tok, ex);
		return ks_err_set(err, KS_E_FORMAT,
				  "line %llu: \"%s\" is not a %s (%zu hex digits expected)",
				  li->lineno, ex, k->label, k->hexlen);
	}
	e->has = k->bit;
	i += n;
	if (i < len) {
		i++; /* the blank after the hash */
		if (i < len && (line[i] == ' ' || line[i] == '*'))
			i++; /* md5sum's text/binary marker */
		if (i < len) {
			if (escaped)
				unescape_name(line + i);
			e->name = line + i;
		}
	}
	return 1;
}

static int plain_run(const struct plain_kind *k, const char *path, const struct ks_import_opts *o,
		     ks_entry_fn fn, void *ctx, struct ks_err *err)
{
	return ks_import_lines(path, o, plain_line, (void *)k, fn, ctx, err);
}

static int md5_probe(const uint8_t *head, size_t len, const char *path)
{
	return plain_probe(&k_md5, head, len);
}
static int sha1_probe(const uint8_t *head, size_t len, const char *path)
{
	return plain_probe(&k_sha1, head, len);
}
static int sha256_probe(const uint8_t *head, size_t len, const char *path)
{
	return plain_probe(&k_sha256, head, len);
}
static int md5_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		   struct ks_err *err)
{
	return plain_run(&k_md5, path, o, fn, ctx, err);
}
static int sha1_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		    struct ks_err *err)
{
	return plain_run(&k_sha1, path, o, fn, ctx, err);
}
static int sha256_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		      struct ks_err *err)
{
	return plain_run(&k_sha256, path, o, fn, ctx, err);
}

const struct ks_importer_ops ks_import_md5_ops = {"md5", md5_probe, md5_run, NULL};
const struct ks_importer_ops ks_import_sha1_ops = {"sha1", sha1_probe, sha1_run, NULL};
const struct ks_importer_ops ks_import_sha256_ops = {"sha256", sha256_probe, sha256_run, NULL};
