/* Project VIC / CAID VICS JSON (OData), versions 1.x ("odata.metadata") and 2.0
 * ("@odata.context"), hash sets ("value": [media…]) and case exports ("value":
 * [case… {"Media": [media…]}]). Streamed through yajl in 64 KiB chunks with a small
 * frame stack, so memory stays bounded whatever the file size; unknown keys and their
 * nested values are skipped by depth counting. A PDQ hash is read from
 * AlternativeHashes ("HashName": "PDQ"), as kestrel's export writes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

#include "kestrel/category.h"
#include "index_int.h"

#define CHUNK 65536
#define MAX_DEPTH 256	      /* JSON nesting we follow before calling the file hostile */
#define MAX_FIELD 65536	      /* longest string we keep (names, series, PhotoDNA) */
#define MAX_QUIET (16u << 20) /* bytes without a complete token: yajl would buffer them */

enum fkind { F_ROOT, F_VALUE, F_ITEM, F_MEDIA_ARR, F_MEDIA, F_ALT_ARR, F_ALT, F_FILES_ARR, F_FILE };

enum key {
	K_NONE,
	K_CONTEXT,
	K_VALUE,
	K_MEDIA,
	K_MD5,
	K_SHA1,
	K_SHA256,
	K_CATEGORY,
	K_SIZE,
	K_DISTRIBUTED,
	K_SERIES,
	K_PHOTODNA,
	K_ALT,
	K_FILES,
	K_FILENAME,
	K_RELPATH,
	K_HASHNAME,
	K_HASHVALUE,
};

static const struct {
	const char *name;
	enum key key;
} media_keys[] = {
    {"MD5", K_MD5},	      {"SHA1", K_SHA1},		{"SHA256", K_SHA256},
    {"Category", K_CATEGORY}, {"MediaSize", K_SIZE},	{"IsDistributed", K_DISTRIBUTED},
    {"Series", K_SERIES},     {"PhotoDNA", K_PHOTODNA}, {"AlternativeHashes", K_ALT},
    {"MediaFiles", K_FILES},  {"FileName", K_FILENAME}, {"RelativeFilePath", K_RELPATH},
};

/* One Media object being collected (a hash-set row, or a media of a case). */
struct media {
	unsigned has;
	uint8_t md5[16], sha1[20], sha256[32], pdq[32];
	int cat_state; /* 0 absent, 1 null, 2 value in cat */
	char cat[72];
	int64_t size;
	int distributed;
	struct ks_buf series, photodna, name, file_name, relpath;
	int is_case; /* an item that turned out to hold "Media": it is a case */
};

enum vkind { V_NULL, V_BOOL, V_NUM, V_STR };

struct vics {
	yajl_handle h;
	const char *numbering;
	ks_entry_fn fn;
	void *ctx;
	struct ks_err *err;
	int status;
	uint64_t base; /* file offset of the chunk being parsed */
	struct {
		enum fkind kind;
		struct media *m;
	} stack[12];
	int top;
	int skip, depth;
	enum key pending;
	int shape; /* 0 unknown, 1 "#Media" list, 2 "#Cases" export */
	int seen_value;
	uint64_t item_i, media_i; /* indices of the current value[] and Media[] elements */
	uint64_t items, medias;	  /* elements seen so far in value[] and in this Media[] */
	struct media item, media;
	struct ks_buf alt_name, alt_value;
	uint64_t entries;
	int tokens;
};

static uint64_t offset_now(struct vics *v)
{
	return v->base + yajl_get_bytes_consumed(v->h);
}

/* Where we are, for messages: "value[3]" or "value[3].Media[1]". */
static void where(struct vics *v, const struct media *m, char out[64])
{
	if (!m)
		snprintf(out, 64, "top level");
	else if (m == &v->media)
		snprintf(out, 64, "value[%llu].Media[%llu]", (unsigned long long)v->item_i,
			 (unsigned long long)v->media_i);
	else
		snprintf(out, 64, "value[%llu]", (unsigned long long)v->item_i);
}

/* Records a failure and returns 0 so that yajl stops. */
static int fail(struct vics *v, int status, const char *what, const struct media *m)
{
	char w[64];
	where(v, m, w);
	ks_err_set(v->err, status, "%s (entry %s, near byte %llu)", what, w,
		   (unsigned long long)offset_now(v));
	v->status = status;
	return 0;
}

static void media_reset(struct media *m)
{
	m->has = 0;
	m->cat_state = 0;
	m->size = -1;
	m->distributed = -1;
	m->is_case = 0;
	ks_buf_reset(&m->series);
	ks_buf_reset(&m->photodna);
	ks_buf_reset(&m->name);
	ks_buf_reset(&m->file_name);
	ks_buf_reset(&m->relpath);
}

static void media_release(struct media *m)
{
	ks_buf_release(&m->series);
	ks_buf_release(&m->photodna);
	ks_buf_release(&m->name);
	ks_buf_release(&m->file_name);
	ks_buf_release(&m->relpath);
}

static const char *buf_str(const struct ks_buf *b)
{
	return b->len ? (const char *)b->data : NULL;
}

static int emit(struct vics *v, struct media *m)
{
	if (!m->has)
		return 1; /* PhotoDNA-only or empty rows match nothing exactly */
	struct ks_hash_entry e = {.has = m->has, .size = m->size, .distributed = m->distributed};
	memcpy(e.md5, m->md5, sizeof e.md5);
	memcpy(e.sha1, m->sha1, sizeof e.sha1);
	memcpy(e.sha256, m->sha256, sizeof e.sha256);
	memcpy(e.pdq, m->pdq, sizeof e.pdq);
	e.pdq_quality = -1;
	if (ks_category_map(v->numbering, m->cat_state == 2 ? m->cat : NULL, &e.scheme,
			    &e.category) < 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "Category \"%s\" is not a category of numbering '%s'",
			 m->cat, v->numbering);
		return fail(v, KS_E_FORMAT, msg, m);
	}
	e.series = buf_str(&m->series);
	e.photodna = buf_str(&m->photodna);
	e.name = buf_str(&m->name);
	if (!e.name)
		e.name = buf_str(&m->file_name);
	if (!e.name && m->relpath.len) {
		const char *p = (const char *)m->relpath.data;
		const char *b = p;
		for (; *p; p++)
			if (*p == '/' || *p == '\\')
				b = p + 1;
		e.name = *b ? b : NULL;
	}
	v->entries++;
	int rc = v->fn(v->ctx, &e);
	if (rc < 0) {
		v->status = ks_import_stopped(rc, v->entries, v->err);
		return 0;
	}
	return 1;
}

static enum key lookup_key(enum fkind k, const unsigned char *s, size_t n)
{
#define IS(lit) (n == sizeof(lit) - 1 && strncasecmp((const char *)s, lit, n) == 0)
	switch (k) {
	case F_ROOT:
		if (IS("odata.metadata") || IS("@odata.context"))
			return K_CONTEXT;
		if (IS("value"))
			return K_VALUE;
		return K_NONE;
	case F_ITEM:
		if (IS("Media"))
			return K_MEDIA;
		/* fall through */
	case F_MEDIA:
		for (size_t i = 0; i < sizeof media_keys / sizeof media_keys[0]; i++)
			if (n == strlen(media_keys[i].name) &&
			    strncasecmp((const char *)s, media_keys[i].name, n) == 0)
				return media_keys[i].key;
		return K_NONE;
	case F_ALT:
		if (IS("HashName"))
			return K_HASHNAME;
		if (IS("HashValue"))
			return K_HASHVALUE;
		return K_NONE;
	case F_FILE:
		if (IS("FileName"))
			return K_FILENAME;
		return K_NONE;
	default:
		return K_NONE;
	}
#undef IS
}

static const char *key_label(enum key k)
{
	switch (k) {
	case K_MD5:
		return "MD5";
	case K_SHA1:
		return "SHA1";
	case K_SHA256:
		return "SHA256";
	case K_CATEGORY:
		return "Category";
	case K_VALUE:
		return "\"value\"";
	default:
		return "field";
	}
}

/* A known key whose value has the wrong JSON type ("is an array"). */
static int wrong_type(struct vics *v, enum key k, const char *what, const struct media *m)
{
	char msg[64];
	snprintf(msg, sizeof msg, "%s %s", key_label(k), what);
	return fail(v, KS_E_FORMAT, msg, m);
}

/* A key whose value must be a scalar: a container there is an error, not skipped. */
static int strict_key(enum key k)
{
	return k == K_MD5 || k == K_SHA1 || k == K_SHA256 || k == K_CATEGORY;
}

static int set_digest(struct vics *v, struct media *m, enum key k, const char *s, size_t n)
{
	uint8_t *dst = k == K_MD5 ? m->md5 : k == K_SHA1 ? m->sha1 : m->sha256;
	size_t len = k == K_MD5 ? 16 : k == K_SHA1 ? 20 : 32;
	unsigned bit = k == K_MD5 ? KS_HAS_MD5 : k == K_SHA1 ? KS_HAS_SHA1 : KS_HAS_SHA256;
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n)
		return 1; /* "" means absent */
	if (ks_hex_field(s, n, dst, len) < 0) {
		char ex[80], msg[200];
		ks_quote_excerpt(s, n, ex);
		snprintf(msg, sizeof msg, "%s \"%s\" is not %zu hex digits", key_label(k), ex,
			 len * 2);
		return fail(v, KS_E_FORMAT, msg, m);
	}
	m->has |= bit;
	return 1;
}

static int copy_field(struct vics *v, struct media *m, struct ks_buf *b, const char *s, size_t n)
{
	if (n > MAX_FIELD)
		return fail(v, KS_E_LIMIT, "a text field is longer than 64 KiB", m);
	const char *nul = memchr(s, '\0', n);
	if (nul)
		n = (size_t)(nul - s); /* a \u0000 would cut the C string anyway */
	ks_buf_reset(b);
	ks_buf_add(b, s, n);
	return 1;
}

static int tristate(enum vkind vk, const char *s, size_t n, int b)
{
	if (vk == V_BOOL)
		return b ? 1 : 0;
	if (vk != V_STR && vk != V_NUM)
		return -1;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
#define IS(lit) (n == sizeof(lit) - 1 && strncasecmp(s, lit, n) == 0)
	if (IS("true") || IS("1") || IS("yes"))
		return 1;
	if (IS("false") || IS("0") || IS("no"))
		return 0;
#undef IS
	return -1;
}

/* A scalar value (or the null/boolean/number/string a key names). */
static int on_scalar(struct vics *v, enum vkind vk, const char *s, size_t n, int b)
{
	v->tokens++;
	if (v->skip || v->top < 0)
		return 1;
	enum fkind fk = v->stack[v->top].kind;
	struct media *m = v->stack[v->top].m;
	enum key k = v->pending;
	v->pending = K_NONE;
	if (fk == F_VALUE || fk == F_MEDIA_ARR || fk == F_ALT_ARR || fk == F_FILES_ARR)
		return 1; /* a scalar element of an array: nothing we know */
	switch (k) {
	case K_CONTEXT:
		if (vk == V_STR && n < 4096) {
			if (memmem(s, n, "#Cases", 6))
				v->shape = 2;
			else if (memmem(s, n, "#Media", 6))
				v->shape = 1;
		}
		return 1;
	case K_VALUE:
		if (vk == V_NULL)
			return 1;
		ks_err_set(v->err, KS_E_FORMAT, "\"value\" is not an array (near byte %llu)",
			   (unsigned long long)offset_now(v));
		v->status = KS_E_FORMAT;
		return 0;
	case K_MD5:
	case K_SHA1:
	case K_SHA256:
		if (vk == V_NULL)
			return 1;
		if (vk != V_STR)
			return wrong_type(v, k, "is not a string", m);
		return set_digest(v, m, k, s, n);
	case K_CATEGORY:
		if (vk == V_NULL) {
			m->cat_state = 1;
			return 1;
		}
		if (vk == V_BOOL)
			return fail(v, KS_E_FORMAT, "Category is a boolean", m);
		if (n >= sizeof m->cat) {
			char ex[80], msg[160];
			ks_quote_excerpt(s, n, ex);
			snprintf(msg, sizeof msg, "Category \"%s\" is not a category", ex);
			return fail(v, KS_E_FORMAT, msg, m);
		}
		memcpy(m->cat, s, n);
		m->cat[n] = '\0';
		m->cat_state = 2;
		return 1;
	case K_SIZE:
		m->size = vk == V_NUM || vk == V_STR ? ks_parse_size(s, n) : -1;
		return 1;
	case K_DISTRIBUTED:
		m->distributed = tristate(vk, s, n, b);
		return 1;
	case K_SERIES:
		return vk == V_STR || vk == V_NUM ? copy_field(v, m, &m->series, s, n) : 1;
	case K_PHOTODNA:
		return vk == V_STR ? copy_field(v, m, &m->photodna, s, n) : 1;
	case K_FILENAME:
		if (vk != V_STR)
			return 1;
		if (fk == F_FILE) /* the first MediaFiles name stands in for a missing one */
			return m->file_name.len ? 1 : copy_field(v, m, &m->file_name, s, n);
		return copy_field(v, m, &m->name, s, n);
	case K_RELPATH:
		return vk == V_STR ? copy_field(v, m, &m->relpath, s, n) : 1;
	case K_HASHNAME:
		return vk == V_STR ? copy_field(v, m, &v->alt_name, s, n) : 1;
	case K_HASHVALUE:
		return vk == V_STR ? copy_field(v, m, &v->alt_value, s, n) : 1;
	default:
		return 1;
	}
}

/* An AlternativeHashes row: the named hash fills a digest the media lacks. */
static int apply_alt(struct vics *v, struct media *m)
{
	const char *name = (const char *)v->alt_name.data;
	const char *val = (const char *)v->alt_value.data;
	size_t n = v->alt_value.len;
	if (!v->alt_name.len || !n)
		return 1;
	enum key k = K_NONE;
	if (!strcasecmp(name, "SHA1") || !strcasecmp(name, "SHA-1"))
		k = K_SHA1;
	else if (!strcasecmp(name, "SHA256") || !strcasecmp(name, "SHA-256"))
		k = K_SHA256;
	else if (!strcasecmp(name, "MD5"))
		k = K_MD5;
	else if (!strcasecmp(name, "PhotoDNA"))
		return m->photodna.len ? 1 : copy_field(v, m, &m->photodna, val, n);
	else if (!strcasecmp(name, "PDQ")) {
		if (m->has & KS_HAS_PDQ)
			return 1;
		if (ks_hex_field(val, n, m->pdq, 32) < 0) {
			char ex[80], msg[200];
			ks_quote_excerpt(val, n, ex);
			snprintf(msg, sizeof msg, "PDQ \"%s\" is not 64 hex digits", ex);
			return fail(v, KS_E_FORMAT, msg, m);
		}
		m->has |= KS_HAS_PDQ;
		return 1;
	}
	if (k == K_NONE)
		return 1;
	unsigned bit = k == K_MD5 ? KS_HAS_MD5 : k == K_SHA1 ? KS_HAS_SHA1 : KS_HAS_SHA256;
	if (m->has & bit)
		return 1; /* the direct field wins */
	return set_digest(v, m, k, val, n);
}

static int push(struct vics *v, enum fkind k, struct media *m)
{
	if (v->top + 1 >= (int)(sizeof v->stack / sizeof v->stack[0]))
		abort(); /* the known shapes nest at most 7 deep: our bug */
	v->top++;
	v->stack[v->top].kind = k;
	v->stack[v->top].m = m;
	return 1;
}

/* Counts the start of a map or array; returns 1 when the caller handles it. Otherwise
 * *ret is what the callback returns: 0 to stop (nested too deep, the error set), or 1
 * inside a skipped value. */
static int enter(struct vics *v, int *ret)
{
	v->tokens++;
	if (++v->depth > MAX_DEPTH) {
		ks_err_set(v->err, KS_E_LIMIT, "JSON nested deeper than %d (near byte %llu)",
			   MAX_DEPTH, (unsigned long long)offset_now(v));
		v->status = KS_E_LIMIT;
		*ret = 0;
		return 0;
	}
	if (v->skip) {
		v->skip++;
		*ret = 1;
		return 0;
	}
	return 1;
}

static int cb_start_map(void *p)
{
	struct vics *v = p;
	int ret;
	if (!enter(v, &ret))
		return ret;
	if (v->top < 0)
		return push(v, F_ROOT, NULL);
	enum fkind fk = v->stack[v->top].kind;
	struct media *m = v->stack[v->top].m;
	switch (fk) {
	case F_VALUE:
		v->item_i = v->items++;
		media_reset(&v->item);
		return push(v, F_ITEM, &v->item);
	case F_MEDIA_ARR:
		v->media_i = v->medias++;
		media_reset(&v->media);
		return push(v, F_MEDIA, &v->media);
	case F_ALT_ARR:
		ks_buf_reset(&v->alt_name);
		ks_buf_reset(&v->alt_value);
		return push(v, F_ALT, m);
	case F_FILES_ARR:
		return push(v, F_FILE, m);
	default:
		break;
	}
	enum key k = v->pending;
	v->pending = K_NONE;
	if (strict_key(k) || k == K_VALUE)
		return wrong_type(v, k, "is an object", m);
	v->skip = 1;
	return 1;
}

static int cb_start_array(void *p)
{
	struct vics *v = p;
	int ret;
	if (!enter(v, &ret))
		return ret;
	if (v->top < 0) {
		ks_err_set(v->err, KS_E_FORMAT,
			   "not VICS JSON: the top level is an array, not an object");
		v->status = KS_E_FORMAT;
		return 0;
	}
	enum fkind fk = v->stack[v->top].kind;
	struct media *m = v->stack[v->top].m;
	enum key k = v->pending;
	v->pending = K_NONE;
	if (fk == F_ROOT && k == K_VALUE) {
		v->seen_value = 1;
		return push(v, F_VALUE, NULL);
	}
	if (fk == F_ITEM && k == K_MEDIA) {
		m->is_case = 1;
		v->medias = 0;
		return push(v, F_MEDIA_ARR, m);
	}
	if ((fk == F_ITEM || fk == F_MEDIA) && k == K_ALT)
		return push(v, F_ALT_ARR, m);
	if ((fk == F_ITEM || fk == F_MEDIA) && k == K_FILES)
		return push(v, F_FILES_ARR, m);
	if (strict_key(k))
		return wrong_type(v, k, "is an array", m);
	v->skip = 1;
	return 1;
}

static int cb_end(void *p)
{
	struct vics *v = p;
	v->tokens++;
	v->depth--;
	v->pending = K_NONE;
	if (v->skip) {
		v->skip--;
		return 1;
	}
	if (v->top < 0)
		return 1;
	enum fkind fk = v->stack[v->top].kind;
	struct media *m = v->stack[v->top].m;
	v->top--;
	switch (fk) {
	case F_ITEM:
		if (m->is_case || v->shape == 2)
			return 1;
		return emit(v, m);
	case F_MEDIA:
		return emit(v, m);
	case F_ALT:
		return apply_alt(v, m);
	default:
		return 1;
	}
}

static int cb_key(void *p, const unsigned char *s, size_t n)
{
	struct vics *v = p;
	v->tokens++;
	if (v->skip || v->top < 0)
		return 1;
	v->pending = lookup_key(v->stack[v->top].kind, s, n);
	return 1;
}

static int cb_null(void *p)
{
	return on_scalar(p, V_NULL, "", 0, 0);
}
static int cb_bool(void *p, int b)
{
	return on_scalar(p, V_BOOL, b ? "true" : "false", b ? 4 : 5, b);
}
static int cb_number(void *p, const char *s, size_t n)
{
	return on_scalar(p, V_NUM, s, n, 0);
}
static int cb_string(void *p, const unsigned char *s, size_t n)
{
	return on_scalar(p, V_STR, (const char *)s, n, 0);
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_key,
    .yajl_end_map = cb_end,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end,
};

static int vics_probe(const uint8_t *head, size_t len, const char *path)
{
	size_t i = ks_import_bom(head, len);
	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	if (i >= len || head[i] != '{')
		return 0;
	if (memmem(head, len, "odata", 5))
		return 90;
	if (memmem(head, len, "\"MD5\"", 5) || memmem(head, len, "\"Media\"", 7))
		return 50;
	return 10;
}

/* Turns yajl's error into ours. */
static int json_error(struct vics *v, uint64_t off, const char *when)
{
	unsigned char *msg = yajl_get_error(v->h, 0, NULL, 0);
	char text[200];
	snprintf(text, sizeof text, "%s", msg ? (const char *)msg : "parse error");
	size_t n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	if (msg)
		yajl_free_error(v->h, msg);
	return ks_err_set(v->err, KS_E_FORMAT, "malformed JSON %s byte %llu: %s", when,
			  (unsigned long long)off, text);
}

static int vics_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		    struct ks_err *err)
{
	struct ks_err local;
	struct vics v = {.fn = fn, .ctx = ctx, .top = -1};
	uint8_t *buf = NULL;
	FILE *f = NULL;
	uint64_t quiet = 0, total = 0;
	int rc = KS_OK;
	const char *s_out, *c_out;
	if (!err)
		err = &local;
	ks_err_clear(err);
	v.err = err;
	v.numbering = o && o->scheme ? o->scheme : "vics-us";
	if (ks_category_map(v.numbering, NULL, &s_out, &c_out) < 0)
		return ks_err_set(err, KS_E_USAGE,
				  "unknown category numbering '%s' (uk, vics-us, dhs)",
				  v.numbering);
	f = fopen(path, "rb");
	if (!f) {
		rc = ks_err_set(err, KS_E_ENV, "cannot open file");
		goto out;
	}
	buf = ks_xmalloc(CHUNK);
	v.h = yajl_alloc(&callbacks, NULL, &v);
	if (!v.h)
		abort();
	for (int first = 1;; first = 0) {
		size_t n = fread(buf, 1, CHUNK, f);
		if (n == 0) {
			if (ferror(f)) {
				rc = ks_err_set(err, KS_E_ENV, "read error at byte %llu",
						(unsigned long long)total);
				goto out;
			}
			break;
		}
		size_t skip = 0;
		if (first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
			skip = 3;
		v.base = total + skip;
		total += n;
		v.tokens = 0;
		yajl_status st = yajl_parse(v.h, buf + skip, n - skip);
		if (st == yajl_status_client_canceled) {
			rc = v.status ? v.status : KS_E_FORMAT;
			goto out;
		}
		if (st != yajl_status_ok) {
			rc = json_error(&v, offset_now(&v), "at");
			goto out;
		}
		quiet = v.tokens ? 0 : quiet + n;
		if (quiet > MAX_QUIET) {
			rc = ks_err_set(err, KS_E_LIMIT,
					"no JSON token ends in the %u MiB before byte %llu",
					MAX_QUIET >> 20, (unsigned long long)total);
			goto out;
		}
	}
	v.base = total;
	yajl_status st = yajl_complete_parse(v.h);
	if (st == yajl_status_client_canceled) {
		rc = v.status ? v.status : KS_E_FORMAT;
		goto out;
	}
	if (st != yajl_status_ok) {
		rc = json_error(&v, total, "at end of file,");
		goto out;
	}
	if (!v.seen_value)
		rc =
		    ks_err_set(err, KS_E_FORMAT, "no \"value\" array: not a VICS hash set or case");
out:
	if (v.h)
		yajl_free(v.h);
	media_release(&v.item);
	media_release(&v.media);
	ks_buf_release(&v.alt_name);
	ks_buf_release(&v.alt_value);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

const struct ks_importer_ops ks_import_vics_ops = {"vics", vics_probe, vics_run, NULL};
