/* The artefact parser table, probing (detection never guesses: two equal claims are
 * an error), time units, and the helpers the parsers share: name patterns, base64,
 * file URIs, UTF-16, a per-row string arena and reference delivery with limits. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "artefact_impl.h"

static const struct ks_artefact_ops *const registry[] = {
	&ks_art_whatsapp_android, &ks_art_whatsapp_ios, &ks_art_chrome,
	&ks_art_firefox,          &ks_art_firefox_legacy, &ks_art_mediastore,
	&ks_art_minithumb,        &ks_art_ios_photos,   &ks_art_thumbcache,
	&ks_art_thumbsdb,         &ks_art_xdg_thumb,
};
#define NREG (sizeof registry / sizeof registry[0])

const struct ks_artefact_ops *ks_artefact_at(size_t i)
{
	return i < NREG ? registry[i] : NULL;
}

const struct ks_artefact_ops *ks_artefact_get(const char *name)
{
	for (size_t i = 0; i < NREG; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

int ks_artefact_probe(const char *path, const uint8_t *head, size_t len,
		      const struct ks_artefact_ops **out, struct ks_err *err)
{
	const struct ks_artefact_ops *best = NULL;
	int best_conf = KS_ARTEFACT_NO, tie = 0;
	*out = NULL;
	for (size_t i = 0; i < NREG; i++) {
		int c = registry[i]->probe(path, head, len);
		if (c > best_conf) {
			best = registry[i];
			best_conf = c;
			tie = 0;
		} else if (c == best_conf && c > KS_ARTEFACT_NO) {
			tie = 1;
		}
	}
	if (tie)
		return ks_err_set(err, KS_E_EVIDENCE, "%s: claimed by more than one artefact parser",
				  path);
	*out = best;
	return KS_OK;
}

static size_t companion_suffix(const char *path)
{
	static const char *const sfx[] = {"-wal", "-journal"};
	size_t n = strlen(path);
	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(sfx[i]);
		if (n > k && strcmp(path + n - k, sfx[i]) == 0)
			return k;
	}
	return 0;
}

int ks_artefact_is_companion(const char *path)
{
	size_t k = companion_suffix(path);
	if (k == 0)
		return 0;
	size_t n = strlen(path) - k;
	char *base = ks_xmalloc(n + 1);
	memcpy(base, path, n);
	base[n] = '\0';
	int yes = 0;
	for (size_t i = 0; i < NREG && !yes; i++)
		yes = registry[i]->input == KS_ARTEFACT_SQLITE &&
		      registry[i]->probe(base, NULL, 0) > KS_ARTEFACT_NO;
	free(base);
	return yes;
}

int ks_artefact_wants(const char *path, const uint8_t *head, size_t len)
{
	for (size_t i = 0; i < NREG; i++)
		if (registry[i]->probe(path, head, len) > KS_ARTEFACT_NO)
			return 1;
	return ks_artefact_is_companion(path);
}

const char *ks_ref_kind_name(int kind)
{
	switch (kind) {
	case KS_REF_SENT:
		return "sent";
	case KS_REF_RECEIVED:
		return "received";
	case KS_REF_DOWNLOAD:
		return "download";
	case KS_REF_THUMBNAIL:
		return "thumbnail";
	case KS_REF_MEDIA_STORE:
		return "media-store";
	default:
		return "?";
	}
}

const char *ks_time_src_name(int src)
{
	static const char *const names[] = {"", "unix-s", "unix-ms", "unix-us",
					    "cocoa-s", "webkit-us", "filetime"};
	return src >= 0 && (size_t)src < sizeof names / sizeof names[0] ? names[src] : "";
}

int64_t ks_time_to_unix(int src, double raw)
{
	double t;
	switch (src) {
	case KS_TIME_UNIX_S:
		t = raw;
		break;
	case KS_TIME_UNIX_MS:
		t = raw / 1e3;
		break;
	case KS_TIME_UNIX_US:
		t = raw / 1e6;
		break;
	case KS_TIME_COCOA_S:
		t = raw + 978307200.0;
		break;
	case KS_TIME_WEBKIT_US:
		t = raw / 1e6 - 11644473600.0;
		break;
	case KS_TIME_FILETIME:
		t = raw / 1e7 - 11644473600.0;
		break;
	default:
		return 0;
	}
	if (raw == 0 || !(t >= 31536000.0 && t < 7258118400.0)) /* 1971 .. 2200 */
		return 0;
	return (int64_t)t;
}

/* ---- path patterns ---------------------------------------------------------------- */

const char *ks_art_basename(const char *path)
{
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

int ks_art_glob(const char *pat, const char *s, int icase)
{
	/* Iterative '*' matching with one backtrack point: linear enough for names. */
	const char *star = NULL, *resume = NULL;
	while (*s) {
		char pc = *pat, sc = *s;
		if (icase) {
			pc = (char)(pc >= 'A' && pc <= 'Z' ? pc + 32 : pc);
			sc = (char)(sc >= 'A' && sc <= 'Z' ? sc + 32 : sc);
		}
		if (*pat == '*') {
			star = ++pat;
			resume = s;
		} else if (*pat && (*pat == '?' || pc == sc)) {
			pat++;
			s++;
		} else if (star) {
			pat = star;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

int ks_art_sqlite_head(const uint8_t *head, size_t len)
{
	if (!head)
		return -1;
	return len >= 16 && memcmp(head, "SQLite format 3", 16) == 0;
}

int ks_art_probe_name(const char *path, const char *const *patterns, int icase,
		      const uint8_t *head, size_t len, int (*magic)(const uint8_t *, size_t))
{
	const char *base = ks_art_basename(path);
	int hit = 0;
	for (size_t i = 0; patterns[i] && !hit; i++)
		hit = ks_art_glob(patterns[i], base, icase);
	if (!hit)
		return KS_ARTEFACT_NO;
	if (!head)
		return KS_ARTEFACT_NAME;
	if (magic && !magic(head, len))
		return KS_ARTEFACT_NO;
	return KS_ARTEFACT_CONTENT;
}

/* ---- text ---------------------------------------------------------------------------- */

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int ks_art_base64(const char *in, size_t inlen, uint8_t *out, size_t cap)
{
	while (inlen > 0 && in[inlen - 1] == '=')
		inlen--;
	if (inlen % 4 == 1)
		return -1;
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < inlen; i++) {
		int v = b64val(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)n;
}

void ks_art_arena_init(struct ks_art_arena *a, size_t cap)
{
	a->b = ks_xmalloc(cap);
	a->n = 0;
	a->cap = cap;
}

void ks_art_arena_reset(struct ks_art_arena *a)
{
	a->n = 0;
}

void ks_art_arena_release(struct ks_art_arena *a)
{
	free(a->b);
	a->b = NULL;
	a->n = a->cap = 0;
}

/* Control bytes and broken UTF-8 become '?' (same length, in place). */
static void sanitize(char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = (uint8_t)s[i];
		size_t seq = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
			: (c & 0xF8) == 0xF0 ? 4 : 0;
		int ok = seq > 0 && i + seq <= n;
		for (size_t k = 1; ok && k < seq; k++)
			ok = ((uint8_t)s[i + k] & 0xC0) == 0x80;
		if (seq == 1 && (c < 0x20 && c != '\t'))
			ok = 0;
		if (!ok) {
			s[i++] = '?';
			continue;
		}
		i += seq;
	}
}

const char *ks_art_strn(struct ks_art_arena *a, const char *s, size_t n)
{
	if (!s)
		return NULL;
	const char *nul = memchr(s, '\0', n);
	if (nul)
		n = (size_t)(nul - s);
	if (n > KS_ART_TEXT_MAX)
		n = KS_ART_TEXT_MAX;
	if (a->cap - a->n < n + 1)
		return NULL;
	char *d = a->b + a->n;
	memcpy(d, s, n);
	/* Cutting may have split a UTF-8 sequence: drop the partial tail. */
	if (n == KS_ART_TEXT_MAX) {
		size_t k = n;
		while (k > 0 && (d[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && (d[k - 1] & 0x80))
			n = k - 1;
	}
	d[n] = '\0';
	a->n += n + 1;
	sanitize(d, n);
	return d;
}

const char *ks_art_printf(struct ks_art_arena *a, const char *fmt, ...)
{
	if (a->cap - a->n < 2)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(a->b + a->n, a->cap - a->n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return NULL;
	char *d = a->b + a->n;
	size_t used = (size_t)k < a->cap - a->n ? (size_t)k : a->cap - a->n - 1;
	a->n += used + 1;
	return d;
}

const char *ks_art_utf16(struct ks_art_arena *a, const uint8_t *p, size_t nbytes)
{
	size_t units = nbytes / 2;
	if (units > KS_ART_TEXT_MAX / 3)
		units = KS_ART_TEXT_MAX / 3;
	if (a->cap - a->n < units * 3 + 1)
		return NULL;
	char *d = a->b + a->n;
	size_t o = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t c = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
		if (c == 0)
			break;
		if (c >= 0xD800 && c <= 0xDFFF) {
			/* A surrogate pair needs 4 bytes for 2 units: fits in 6. */
			if (c <= 0xDBFF && i + 1 < units) {
				uint32_t lo = (uint32_t)p[2 * i + 2] | (uint32_t)p[2 * i + 3] << 8;
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					uint32_t cp = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
					d[o++] = (char)(0xF0 | cp >> 18);
					d[o++] = (char)(0x80 | ((cp >> 12) & 63));
					d[o++] = (char)(0x80 | ((cp >> 6) & 63));
					d[o++] = (char)(0x80 | (cp & 63));
					i++;
					continue;
				}
			}
			d[o++] = '?';
		} else if (c < 0x20) {
			d[o++] = '?';
		} else if (c < 0x80) {
			d[o++] = (char)c;
		} else if (c < 0x800) {
			d[o++] = (char)(0xC0 | c >> 6);
			d[o++] = (char)(0x80 | (c & 63));
		} else {
			d[o++] = (char)(0xE0 | c >> 12);
			d[o++] = (char)(0x80 | ((c >> 6) & 63));
			d[o++] = (char)(0x80 | (c & 63));
		}
	}
	d[o] = '\0';
	a->n += o + 1;
	return d;
}

const char *ks_art_file_uri_path(struct ks_art_arena *a, const char *uri)
{
	if (!uri || strncasecmp(uri, "file://", 7) != 0)
		return NULL;
	const char *p = uri + 7;
	size_t n = strlen(p);
	if (n > KS_ART_TEXT_MAX)
		n = KS_ART_TEXT_MAX;
	if (a->cap - a->n < n + 3)
		return NULL;
	char *d = a->b + a->n;
	size_t o = 0;
	if (*p != '/') { /* file://host/share/x -> //host/share/x */
		d[o++] = '/';
		d[o++] = '/';
	}
	/* file:///C:/x -> C:/x */
	if (p[0] == '/' && p[1] && p[2] == ':' &&
	    ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
		p++, n--;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && ks_hex_digit(p[i + 1]) >= 0 && ks_hex_digit(p[i + 2]) >= 0) {
			char c = (char)(ks_hex_digit(p[i + 1]) << 4 | ks_hex_digit(p[i + 2]));
			d[o++] = c ? c : '?';
			i += 2;
		} else {
			d[o++] = p[i];
		}
	}
	d[o] = '\0';
	a->n += o + 1;
	sanitize(d, o);
	return d;
}

/* ---- delivery ---------------------------------------------------------------------- */

void ks_art_ref_init(struct ks_artefact_ref *r, int kind)
{
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->size = -1;
}

int ks_art_emit(struct ks_artefact_ctx *c, const struct ks_artefact_ops *ops,
		struct ks_artefact_ref *r, struct ks_art_arena *a, struct ks_err *err)
{
	if (c->nrefs >= c->lim.max_refs)
		return ks_err_set(err, KS_E_LIMIT, "%s: more than %llu references", c->path,
				  (unsigned long long)c->lim.max_refs);
	r->parser = ops->name;
	if (!r->app)
		r->app = ops->app;
	r->volume = c->volume;
	r->artefact = c->path;
	r->artefact_tag = c->tag;
	if (r->thumb && r->thumb_len > c->lim.max_thumb_bytes) {
		const char *note = ks_art_printf(a, "%s%sthumbnail of %zu bytes not taken (limit)",
						 r->note ? r->note : "", r->note ? "; " : "",
						 r->thumb_len);
		r->note = note ? note : r->note;
		r->thumb = NULL;
		r->thumb_len = 0;
	}
	if (r->thumb_len == 0)
		r->thumb = NULL;
	c->nrefs++;
	return c->fn(c->fn_ctx, r);
}
