/* JSON for the review API: a small writer (strings escaped per RFC 8259, invalid
 * UTF-8 replaced) and typed accessors over a yajl tree for request bodies. */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "review_impl.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k;
	unsigned min;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		k = 2;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		k = 3;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		k = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	unsigned cp = c & (0xffu >> (k + 1));
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

void rv_json_str(struct ks_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	ks_buf_add(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		if (c == '"' || c == '\\') {
			ks_buf_add(b, "\\", 1);
			ks_buf_add(b, p + i, 1);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			ks_buf_addf(b, "\\u%04x", c);
			i++;
		} else if (c == '<' || c == '>' || c == '&') {
			/* never markup-significant, even if a page mishandles it */
			ks_buf_addf(b, "\\u%04x", c);
			i++;
		} else {
			size_t k = utf8_len(p + i, n - i);
			if (k == 0) {
				ks_buf_adds(b, "\\ufffd");
				i++;
			} else {
				ks_buf_add(b, p + i, k);
				i += k;
			}
		}
	}
	ks_buf_add(b, "\"", 1);
}

void rv_json_str_or_null(struct ks_buf *b, const char *s)
{
	if (s)
		rv_json_str(b, s);
	else
		ks_buf_adds(b, "null");
}

void rv_json_time(struct ks_buf *b, int64_t t)
{
	char iso[32];
	if (!t) {
		ks_buf_adds(b, "null");
		return;
	}
	ks_time_iso8601(t, iso);
	rv_json_str(b, iso);
}

void rv_error(struct rv_resp *rs, int status, const char *msg)
{
	rs->status = status;
	rs->type = NULL;
	ks_buf_reset(&rs->body);
	ks_buf_adds(&rs->body, "{\"error\":");
	rv_json_str(&rs->body, msg);
	ks_buf_adds(&rs->body, "}");
}

struct rv_json {
	yajl_val root;
};

struct rv_json *rv_json_parse(const char *text, size_t len)
{
	if (!text || len == 0 || len > 65536)
		return NULL;
	char *z = ks_xmalloc(len + 1);
	memcpy(z, text, len);
	z[len] = '\0';
	yajl_val v = yajl_tree_parse(z, NULL, 0);
	free(z);
	if (!v)
		return NULL;
	if (!YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		return NULL;
	}
	struct rv_json *j = ks_xcalloc(1, sizeof *j);
	j->root = v;
	return j;
}

void rv_json_free(struct rv_json *j)
{
	if (!j)
		return;
	yajl_tree_free(j->root);
	free(j);
}

static yajl_val member(struct rv_json *j, const char *key)
{
	if (!j)
		return NULL;
	const char *path[] = {key, NULL};
	return yajl_tree_get(j->root, path, yajl_t_any);
}

const char *rv_json_get_str(struct rv_json *j, const char *key)
{
	yajl_val v = member(j, key);
	return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

int rv_json_get_int(struct rv_json *j, const char *key, int64_t *out)
{
	yajl_val v = member(j, key);
	if (!v || !YAJL_IS_INTEGER(v))
		return -1;
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

int rv_json_get_ints(struct rv_json *j, const char *key, size_t max, int64_t **out, size_t *n)
{
	yajl_val v = member(j, key);
	*out = NULL;
	*n = 0;
	if (!v || !YAJL_IS_ARRAY(v) || v->u.array.len > max)
		return -1;
	int64_t *a = ks_xcalloc(v->u.array.len ? v->u.array.len : 1, sizeof *a);
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];
		if (!YAJL_IS_INTEGER(e)) {
			free(a);
			return -1;
		}
		a[i] = YAJL_GET_INTEGER(e);
	}
	*out = a;
	*n = v->u.array.len;
	return 0;
}
