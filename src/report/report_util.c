/* Text helpers shared by the report writers: UTF-8 checking, escaping for JSON (RFC
 * 8259), HTML and CSV (RFC 4180), which rows are items, category labels. Evidence
 * names are hostile: every writer goes through these so output is always well formed. */
#include <errno.h>
#include <string.h>

#include "kestrel/media.h"
#include "report_impl.h"

size_t ks_utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		goto bad;
	}
	if (n < len)
		goto bad;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = v << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = 0xfffd;
	return 1;
}

void ks_utf8_add(struct ks_buf *b, uint32_t cp)
{
	uint8_t o[4];
	size_t n;
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (uint8_t)(0xf0 | cp >> 18);
		o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	ks_buf_add(b, o, n);
}

void ks_json_add_string(struct ks_buf *b, const char *s)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	size_t n = strlen((const char *)p);
	ks_buf_reserve(b, n + 2);
	ks_buf_add(b, "\"", 1);
	while (n) {
		/* copy the run that needs no escaping in one go */
		size_t run = 0;
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run) {
			ks_buf_add(b, p, run);
			p += run;
			n -= run;
			continue;
		}
		uint32_t cp;
		size_t used = ks_utf8_next(p, n, &cp);
		if (cp == '"' || cp == '\\') {
			char e[2] = {'\\', (char)cp};
			ks_buf_add(b, e, 2);
		} else if (cp < 0x20) {
			ks_buf_addf(b, "\\u%04x", (unsigned)cp);
		} else if (cp == 0xfffd && used == 1) {
			ks_utf8_add(b, cp); /* an invalid byte */
		} else {
			ks_buf_add(b, p, used);
		}
		p += used;
		n -= used;
	}
	ks_buf_add(b, "\"", 1);
}

void ks_json_add_string_or_null(struct ks_buf *b, const char *s)
{
	if (s)
		ks_json_add_string(b, s);
	else
		ks_buf_adds(b, "null");
}

void ks_json_add_time(struct ks_buf *b, int64_t t)
{
	char iso[32];
	ks_time_iso8601(t, iso);
	ks_json_add_string_or_null(b, iso[0] ? iso : NULL);
}

void ks_html_add(struct ks_buf *b, const char *s)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	size_t n = strlen((const char *)p);
	while (n) {
		uint32_t cp;
		size_t used = ks_utf8_next(p, n, &cp);
		switch (cp) {
		case '&': ks_buf_adds(b, "&amp;"); break;
		case '<': ks_buf_adds(b, "&lt;"); break;
		case '>': ks_buf_adds(b, "&gt;"); break;
		case '"': ks_buf_adds(b, "&quot;"); break;
		case '\'': ks_buf_adds(b, "&#39;"); break;
		default:
			if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f)
				ks_utf8_add(b, 0xfffd);
			else if (cp == 0xfffd && used == 1)
				ks_utf8_add(b, cp);
			else
				ks_buf_add(b, p, used);
		}
		p += used;
		n -= used;
	}
}

void ks_csv_add(struct ks_buf *b, const char *s, int text)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	size_t n = strlen((const char *)p);
	struct ks_buf v = {0};
	if (text && n && strchr("=+-@\t\r", p[0]))
		ks_buf_add(&v, "'", 1);
	int quote = 0;
	while (n) {
		uint32_t cp;
		size_t used = ks_utf8_next(p, n, &cp);
		if (cp == ',' || cp == '"' || cp == '\r' || cp == '\n')
			quote = 1;
		if (cp == '"')
			ks_buf_add(&v, "\"\"", 2);
		else if (cp == 0xfffd && used == 1)
			ks_utf8_add(&v, cp);
		else
			ks_buf_add(&v, p, used);
		p += used;
		n -= used;
	}
	if (quote)
		ks_buf_add(b, "\"", 1);
	if (v.len)
		ks_buf_add(b, v.data, v.len);
	if (quote)
		ks_buf_add(b, "\"", 1);
	ks_buf_release(&v);
}

int ks_report_is_item(const struct ks_file_row *r)
{
	return r->kind == KS_KIND_PICTURE || r->kind == KS_KIND_VIDEO ||
	       r->kind == KS_KIND_ARCHIVE || r->kind == KS_KIND_DOCUMENT ||
	       (r->error && *r->error);
}

int ks_report_is_listed_file(const struct ks_file_row *r)
{
	return !ks_report_is_item(r) && r->media_id != 0;
}

const char *ks_report_cat_label(const char *scheme, const char *code)
{
	if (!code)
		return "Uncategorised";
	const struct ks_category *c = ks_scheme_category(ks_scheme_find(scheme), code);
	return c ? c->label : code;
}

const char *ks_report_item_label(const struct ks_file_row *r)
{
	if (r->category || r->kind == KS_KIND_PICTURE || r->kind == KS_KIND_VIDEO)
		return ks_report_cat_label(r->scheme, r->category);
	return "";
}

char *ks_report_one_line(const char *s)
{
	char *o = ks_xstrdup(s ? s : "");
	for (char *p = o; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return o;
}

int ks_report_flush(struct ks_buf *b, FILE *out, struct ks_err *err)
{
	if (b->len && fwrite(b->data, 1, b->len, out) != b->len) {
		ks_buf_reset(b);
		return ks_err_set(err, KS_E_ENV, "writing the report: %s", strerror(errno));
	}
	ks_buf_reset(b);
	return KS_OK;
}
