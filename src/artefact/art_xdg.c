/* Linux freedesktop thumbnails (~/.cache/thumbnails/<size>/<md5 of URI>.png and the
 * older ~/.thumbnails): the PNG's tEXt/iTXt chunks Thumb::URI and Thumb::MTime name
 * the original and its modification time. The PNG is itself an item of the scan, so
 * the reference points back at it (thumb_path) instead of carrying bytes. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "artefact_impl.h"

static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

static int png_magic(const uint8_t *head, size_t len)
{
	return len >= 8 && memcmp(head, png_sig, 8) == 0;
}

static int is_hex32_png(const char *base)
{
	if (strlen(base) != 36 || strcmp(base + 32, ".png") != 0)
		return 0;
	for (int i = 0; i < 32; i++)
		if (!((base[i] >= '0' && base[i] <= '9') || (base[i] >= 'a' && base[i] <= 'f')))
			return 0;
	return 1;
}

static int probe_xdg(const char *path, const uint8_t *head, size_t len)
{
	if (!is_hex32_png(ks_art_basename(path)))
		return KS_ARTEFACT_NO;
	if (!strstr(path, "/.cache/thumbnails/") && !strstr(path, "/.thumbnails/") &&
	    !strstr(path, "/.sh_thumbnails/"))
		return KS_ARTEFACT_NO;
	if (!head)
		return KS_ARTEFACT_NAME;
	return png_magic(head, len) ? KS_ARTEFACT_CONTENT : KS_ARTEFACT_NO;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct keys {
	const uint8_t *uri, *mtime, *size, *mime;
	size_t uri_n, mtime_n, size_n, mime_n;
};

/* Text of a tEXt (keyword NUL text) or uncompressed iTXt chunk. */
static void take_text(struct keys *k, const uint8_t *d, size_t n, int itxt)
{
	const uint8_t *nul = memchr(d, 0, n);
	if (!nul)
		return;
	size_t klen = (size_t)(nul - d);
	const uint8_t *t = nul + 1;
	size_t tn = n - klen - 1;
	if (itxt) { /* flag, method, language NUL, translated keyword NUL, text */
		if (tn < 2 || t[0] != 0)
			return; /* compressed iTXt: not used for these keys */
		t += 2;
		tn -= 2;
		for (int i = 0; i < 2; i++) {
			const uint8_t *z = memchr(t, 0, tn);
			if (!z)
				return;
			tn -= (size_t)(z - t) + 1;
			t = z + 1;
		}
	}
	static const char *const names[] = {"Thumb::URI", "Thumb::MTime", "Thumb::Size",
					    "Thumb::Mime"};
	const uint8_t **slot[] = {&k->uri, &k->mtime, &k->size, &k->mime};
	size_t *len[] = {&k->uri_n, &k->mtime_n, &k->size_n, &k->mime_n};
	for (int i = 0; i < 4; i++)
		if (klen == strlen(names[i]) && memcmp(d, names[i], klen) == 0 && !*slot[i]) {
			*slot[i] = t;
			*len[i] = tn;
		}
}

/* Decimal text to int64, -1 if not a plain number. */
static int64_t decimal(const char *s)
{
	if (!s || !*s)
		return -1;
	int64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static int parse_xdg(struct ks_artefact_ctx *c, const uint8_t *d, size_t len, struct ks_err *err)
{
	if (!png_magic(d, len))
		return ks_err_set(err, KS_E_EVIDENCE, "%s: not a PNG", c->path);
	struct keys k = {0};
	size_t pos = 8;
	for (int chunks = 0; chunks < 4096 && len - pos >= 12; chunks++) {
		uint32_t n = be32(d + pos);
		if (n > len - pos - 12)
			break;
		const uint8_t *type = d + pos + 4;
		if (memcmp(type, "tEXt", 4) == 0)
			take_text(&k, d + pos + 8, n, 0);
		else if (memcmp(type, "iTXt", 4) == 0)
			take_text(&k, d + pos + 8, n, 1);
		else if (memcmp(type, "IEND", 4) == 0)
			break;
		pos += 12 + (size_t)n;
	}
	if (!k.uri)
		return ks_err_set(err, KS_E_EVIDENCE, "%s: thumbnail without Thumb::URI", c->path);

	struct ks_art_arena a;
	ks_art_arena_init(&a, 3 * KS_ART_TEXT_MAX + 1024);
	struct ks_artefact_ref r;
	ks_art_ref_init(&r, KS_REF_THUMBNAIL);
	r.app = "freedesktop thumbnails";
	r.record = "Thumb::URI";
	r.url = ks_art_strn(&a, (const char *)k.uri, k.uri_n);
	r.path = ks_art_file_uri_path(&a, r.url);
	r.thumb_path = c->path;
	r.mime = k.mime ? ks_art_strn(&a, (const char *)k.mime, k.mime_n) : NULL;
	const char *mt = k.mtime ? ks_art_strn(&a, (const char *)k.mtime, k.mtime_n) : NULL;
	int64_t mtime = decimal(mt);
	if (mtime >= 0) {
		r.time_raw = mt;
		r.time_src = KS_TIME_UNIX_S;
		r.time = ks_time_to_unix(KS_TIME_UNIX_S, (double)mtime);
		r.time_what = "original mtime";
	}
	const char *sz = k.size ? ks_art_strn(&a, (const char *)k.size, k.size_n) : NULL;
	if (decimal(sz) >= 0)
		r.size = decimal(sz);
	/* The file is named after the MD5 of the URI exactly as stored. */
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	if (r.url && EVP_Digest(k.uri, k.uri_n, md, &mdlen, EVP_md5(), NULL) == 1) {
		ks_hex_encode(md, mdlen, hex);
		if (strncmp(ks_art_basename(c->path), hex, 32) != 0)
			r.note = "file name is not the MD5 of Thumb::URI (copied or renamed)";
	}
	int rc = ks_art_emit(c, &ks_art_xdg_thumb, &r, &a, err);
	ks_art_arena_release(&a);
	return rc;
}

const struct ks_artefact_ops ks_art_xdg_thumb = {
	.name = "freedesktop-thumbnail",
	.app = "freedesktop thumbnails",
	.input = KS_ARTEFACT_BYTES,
	.probe = probe_xdg,
	.parse_bytes = parse_xdg,
};
