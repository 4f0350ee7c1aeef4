/* Windows Thumbs.db (XP; later only on network shares or by policy) and
 * ehthumbs*.db: an OLE2 compound file whose Catalog stream lists (id, time, original
 * file name) and whose streams, named by the id written backwards in decimal, hold
 * the thumbnails. The entries stay after the originals are deleted: each becomes a
 * thumbnail reference linked to <folder of Thumbs.db>/<name>. Streams without a
 * catalog row (Windows 7+: "256_<cache id>") are delivered too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "art_ole2.h"
#include "artefact_impl.h"

static int ole2_magic(const uint8_t *head, size_t len)
{
	static const uint8_t sig[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	return len >= 8 && memcmp(head, sig, 8) == 0;
}

static int probe_thumbsdb(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"Thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", NULL};
	return ks_art_probe_name(path, names, 1, head, len, ole2_magic);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where the picture starts inside a thumbnail stream: after the stream's own header
 * (u32 header length, u32 index, u32 data length) when that leads to a JPEG, else at
 * the first JPEG/PNG/BMP signature in the first 64 bytes. *n gets its length. */
static const uint8_t *picture(const uint8_t *s, size_t len, size_t *n, int *standalone)
{
	*standalone = 0;
	if (len >= 12) {
		uint32_t hdr = le32(s), dlen = le32(s + 8);
		if (hdr >= 12 && hdr < len) {
			size_t room = len - hdr;
			*n = dlen > 0 && dlen <= room ? dlen : room;
			*standalone = room >= 3 && s[hdr] == 0xFF && s[hdr + 1] == 0xD8;
			if (*standalone)
				return s + hdr;
		}
	}
	for (size_t i = 0; i + 4 <= len && i < 64; i++) {
		if ((s[i] == 0xFF && s[i + 1] == 0xD8 && s[i + 2] == 0xFF) ||
		    (s[i] == 0x89 && memcmp(s + i + 1, "PNG", 3) == 0) ||
		    (s[i] == 'B' && s[i + 1] == 'M' && i + 6 <= len && le32(s + i + 2) <= len - i &&
		     le32(s + i + 2) > 54)) {
			*standalone = 1;
			*n = len - i;
			return s + i;
		}
	}
	*n = 0;
	return NULL;
}

struct tdb {
	struct ks_artefact_ctx *c;
	struct ks_ole2 ole;
	struct ks_art_arena a;
	struct ks_buf stream;
	char *used; /* per directory entry: delivered through the catalog */
	int dirlen; /* length of the folder part of the Thumbs.db path */
};

static int emit_stream(struct tdb *t, const struct ks_ole2_entry *e, const char *name,
		       uint64_t filetime, uint32_t catid, uint32_t w, uint32_t h, struct ks_err *err)
{
	struct ks_err e2 = {0};
	struct ks_artefact_ref r;
	ks_art_arena_reset(&t->a);
	ks_art_ref_init(&r, KS_REF_THUMBNAIL);
	r.app = "Windows Explorer";
	const char *why = NULL;
	int rc = ks_ole2_read(&t->ole, e, t->c->lim.max_thumb_bytes, &t->stream, &e2);
	if (rc == KS_OK) {
		size_t n = 0;
		int standalone = 0;
		const uint8_t *pic = picture(t->stream.data, t->stream.len, &n, &standalone);
		if (pic && standalone) {
			r.thumb = pic;
			r.thumb_len = n;
		} else {
			why = "thumbnail is not a standalone picture (type 1 JPEG), not rebuilt";
		}
	} else {
		why = ks_art_strn(&t->a, e2.msg, sizeof e2.msg);
	}
	if (catid != UINT32_MAX)
		r.record = ks_art_printf(&t->a, "stream %s (catalog id %u)", e->name, catid);
	else
		r.record = ks_art_printf(&t->a, "stream %s", e->name);
	if (name) {
		r.name = name;
		r.path = t->dirlen > 0 ? ks_art_printf(&t->a, "%.*s/%s", t->dirlen, t->c->path, name)
				       : name;
		r.time_raw = ks_art_printf(&t->a, "%llu", (unsigned long long)filetime);
		r.time_src = KS_TIME_FILETIME;
		r.time = ks_time_to_unix(KS_TIME_FILETIME, (double)filetime);
		r.time_what = "catalog";
	}
	char dims[48] = "";
	if (w && h)
		snprintf(dims, sizeof dims, "catalog size %ux%u", w, h);
	if (why || dims[0])
		r.note = ks_art_printf(&t->a, "%s%s%s", dims, why && dims[0] ? "; " : "", why ? why : "");
	return ks_art_emit(t->c, &ks_art_thumbsdb, &r, &t->a, err);
}

/* Stream name for catalog id: the decimal digits reversed (12 -> "21"). */
static void reversed_id(uint32_t id, char out[16])
{
	char tmp[16];
	int n = snprintf(tmp, sizeof tmp, "%u", id);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

static int walk_catalog(struct tdb *t, const struct ks_ole2_entry *cat, struct ks_err *err)
{
	struct ks_buf cb = {0};
	struct ks_err e2 = {0};
	int rc = ks_ole2_read(&t->ole, cat, 64u << 20, &cb, &e2);
	if (rc != KS_OK) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "%s: Catalog: %s", t->c->path, e2.msg);
		goto out;
	}
	if (cb.len < 16) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "%s: Catalog of %zu bytes", t->c->path, cb.len);
		goto out;
	}
	const uint8_t *d = cb.data;
	size_t off = d[0] | d[1] << 8;
	uint32_t count = le32(d + 4), w = le32(d + 8), h = le32(d + 12);
	if (off < 16)
		off = 16;
	struct ks_art_arena names;
	ks_art_arena_init(&names, KS_ART_TEXT_MAX + 16);
	for (uint32_t i = 0; i < count && off < cb.len && cb.len - off >= 16; i++) {
		uint32_t elen = le32(d + off);
		if (elen < 16 || elen > cb.len - off)
			break;
		uint32_t id = le32(d + off + 4);
		uint64_t ft = (uint64_t)le32(d + off + 8) | (uint64_t)le32(d + off + 12) << 32;
		ks_art_arena_reset(&names);
		const char *name = ks_art_utf16(&names, d + off + 16, elen - 16);
		off += elen;
		char sname[16];
		reversed_id(id, sname);
		const struct ks_ole2_entry *e = ks_ole2_find(&t->ole, sname, KS_OLE2_STREAM);
		if (!e)
			continue; /* catalog row whose stream is gone */
		t->used[e - t->ole.dir] = 1;
		rc = emit_stream(t, e, name, ft, id, w, h, err);
		if (rc != KS_OK)
			break;
	}
	ks_art_arena_release(&names);
out:
	ks_buf_release(&cb);
	return rc;
}

static int parse_thumbsdb(struct ks_artefact_ctx *c, const uint8_t *data, size_t len,
			  struct ks_err *err)
{
	struct tdb t = {.c = c};
	struct ks_err e2 = {0};
	int rc = ks_ole2_open(&t.ole, data, len, &e2);
	ks_art_arena_init(&t.a, 2 * KS_ART_TEXT_MAX + 4096);
	if (rc != KS_OK) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "%s: %s", c->path, e2.msg);
		goto out;
	}
	const char *base = ks_art_basename(c->path);
	t.dirlen = base > c->path ? (int)(base - c->path - 1) : 0;
	t.used = ks_xcalloc(t.ole.ndir ? t.ole.ndir : 1, 1);
	const struct ks_ole2_entry *cat = ks_ole2_find(&t.ole, "Catalog", KS_OLE2_STREAM);
	if (cat) {
		rc = walk_catalog(&t, cat, err);
		if (rc != KS_OK)
			goto out;
	}
	for (size_t i = 0; i < t.ole.ndir; i++) {
		const struct ks_ole2_entry *e = &t.ole.dir[i];
		if (e->type != KS_OLE2_STREAM || t.used[i] || e == cat || e->size == 0)
			continue;
		rc = emit_stream(&t, e, NULL, 0, UINT32_MAX, 0, 0, err);
		if (rc != KS_OK)
			goto out;
	}
out:
	free(t.used);
	ks_buf_release(&t.stream);
	ks_art_arena_release(&t.a);
	ks_ole2_close(&t.ole);
	return rc;
}

const struct ks_artefact_ops ks_art_thumbsdb = {
	.name = "windows-thumbsdb",
	.app = "Windows Explorer",
	.input = KS_ARTEFACT_BYTES,
	.probe = probe_thumbsdb,
	.parse_bytes = parse_thumbsdb,
};
