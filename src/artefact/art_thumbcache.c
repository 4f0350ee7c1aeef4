/* Windows Explorer thumbcache_*.db (Vista to 11): "CMMM" file header, then entries
 * ("CMMM", size, 64-bit cache id, identifier and data sizes; layout per format
 * version), each holding a BMP/JPEG/PNG thumbnail. The entry walk is followed by a
 * scan of the rest of the file for "CMMM" remnants of overwritten entries. A
 * thumbcache carries no path: the cache id links to Windows Search, later. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "artefact_impl.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int tc_magic(const uint8_t *head, size_t len)
{
	return len >= 4 && memcmp(head, "CMMM", 4) == 0;
}

static int probe_thumbcache(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"thumbcache_*.db", "iconcache_*.db", NULL};
	if (ks_art_glob("thumbcache_idx.db", ks_art_basename(path), 1) ||
	    ks_art_glob("iconcache_idx.db", ks_art_basename(path), 1))
		return KS_ARTEFACT_NO; /* index file ("IMMM"): no thumbnails */
	return ks_art_probe_name(path, names, 1, head, len, tc_magic);
}

/* Where the fields of an entry header are, per format version. */
struct layout {
	size_t hdr;     /* bytes before the identifier */
	size_t id_size; /* offsets of the u32 fields */
	size_t pad_size;
	size_t data_size;
	int has_dims;   /* u32 width @28, height @32 (Windows 8 and later) */
};

static struct layout layout_for(uint32_t version)
{
	if (version <= 0x14) /* Vista: an 8-byte extension at 16 shifts everything */
		return (struct layout){56, 24, 28, 32, 0};
	if (version == 0x15) /* Windows 7 */
		return (struct layout){48, 16, 20, 24, 0};
	return (struct layout){56, 16, 20, 24, 1}; /* Windows 8, 8.1, 10, 11 */
}

struct walk {
	struct ks_artefact_ctx *c;
	const uint8_t *d;
	size_t len;
	uint32_t version;
	struct layout lay;
	struct ks_art_arena a;
	const char *file; /* basename of the cache */
};

/* Checks the entry at off; its total size in *size, or 0 if not a sound entry. */
static size_t entry_size(const struct walk *w, size_t off)
{
	if (w->len - off < w->lay.hdr || memcmp(w->d + off, "CMMM", 4) != 0)
		return 0;
	const uint8_t *e = w->d + off;
	uint64_t size = le32(e + 4);
	uint64_t need = (uint64_t)w->lay.hdr + le32(e + w->lay.id_size) + le32(e + w->lay.pad_size) +
			le32(e + w->lay.data_size);
	if (size < w->lay.hdr || size > w->len - off || need > size)
		return 0;
	return (size_t)size;
}

static int emit_entry(struct walk *w, size_t off, int remnant, struct ks_err *err)
{
	const uint8_t *e = w->d + off;
	uint64_t hash = le64(e + 8);
	uint32_t idn = le32(e + w->lay.id_size), pad = le32(e + w->lay.pad_size);
	uint32_t datan = le32(e + w->lay.data_size);
	if (datan == 0)
		return KS_OK; /* placeholder entry: nothing cached */
	struct ks_artefact_ref r;
	ks_art_arena_reset(&w->a);
	ks_art_ref_init(&r, KS_REF_THUMBNAIL);
	r.app = "Windows Explorer";
	r.record = ks_art_printf(&w->a, "entry %016llx", (unsigned long long)hash);
	const char *ident = ks_art_utf16(&w->a, e + w->lay.hdr, idn);
	char hex[17];
	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)hash);
	char dims[40] = "";
	if (w->lay.has_dims && le32(e + 28) && le32(e + 32))
		snprintf(dims, sizeof dims, ", %ux%u", le32(e + 28), le32(e + 32));
	r.note = ks_art_printf(&w->a, "%s v0x%x%s%s%s%s", w->file, w->version, dims,
			       remnant ? ", remnant of an overwritten entry" : "",
			       ident && *ident && strcasecmp(ident, hex) != 0 ? ", identifier " : "",
			       ident && *ident && strcasecmp(ident, hex) != 0 ? ident : "");
	r.thumb = e + w->lay.hdr + idn + pad;
	r.thumb_len = datan;
	return ks_art_emit(w->c, &ks_art_thumbcache, &r, &w->a, err);
}

static int parse_thumbcache(struct ks_artefact_ctx *c, const uint8_t *d, size_t len,
			    struct ks_err *err)
{
	if (len < 24 || memcmp(d, "CMMM", 4) != 0)
		return ks_err_set(err, KS_E_EVIDENCE, "%s: no CMMM thumbcache header", c->path);
	struct walk w = {.c = c, .d = d, .len = len, .version = le32(d + 4)};
	w.lay = layout_for(w.version);
	w.file = ks_art_basename(c->path);
	ks_art_arena_init(&w.a, 16 * 1024);
	int rc = KS_OK;

	/* The first-entry offset sits at 12 (Vista/7) or 16 (8+), else the entries start
	 * right after the header: take the first candidate that holds an entry. */
	size_t cands[] = {le32(d + 12), le32(d + 16), 24, 28, 32};
	size_t off = 0;
	for (size_t i = 0; i < sizeof cands / sizeof cands[0] && !off; i++)
		if (cands[i] >= 24 && cands[i] < len && entry_size(&w, cands[i]))
			off = cands[i];
	if (!off)
		off = 24;
	size_t sz;
	while (off < len && (sz = entry_size(&w, off)) != 0) {
		rc = emit_entry(&w, off, 0, err);
		if (rc != KS_OK)
			goto out;
		off += sz;
	}
	/* Remnants: entries past the end of the chain (free space, old generations). */
	for (size_t p = off; p < len && len - p >= w.lay.hdr;) {
		const uint8_t *m = memchr(d + p, 'C', len - p);
		if (!m)
			break;
		p = (size_t)(m - d);
		if ((sz = entry_size(&w, p)) != 0) {
			rc = emit_entry(&w, p, 1, err);
			if (rc != KS_OK)
				goto out;
			p += sz;
		} else {
			p++;
		}
	}
out:
	ks_art_arena_release(&w.a);
	return rc;
}

const struct ks_artefact_ops ks_art_thumbcache = {
	.name = "windows-thumbcache",
	.app = "Windows Explorer",
	.input = KS_ARTEFACT_BYTES,
	.probe = probe_thumbcache,
	.parse_bytes = parse_thumbcache,
};
