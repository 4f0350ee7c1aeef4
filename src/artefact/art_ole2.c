/* Bounded OLE2 compound-file (MS-CFB) reader for Thumbs.db: see art_ole2.h. Sector n
 * lives at (n + 1) * sector size; chains end at 0xFFFFFFFE; a chain longer than the
 * table it walks is a loop. */
#include <stdlib.h>
#include <string.h>

#include "art_ole2.h"

#define ENDOFCHAIN 0xFFFFFFFEu
#define FREESECT 0xFFFFFFFFu
#define MAX_DIR_ENTRIES 65536u

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Bytes of sector id present in the file (0 if outside); *at gets its offset. */
static size_t sector(const struct ks_ole2 *o, uint32_t id, size_t *at)
{
	if (id >= o->nsec)
		return 0;
	size_t off = ((size_t)id + 1) * o->ss;
	*at = off;
	return o->len - off < o->ss ? o->len - off : o->ss;
}

/* Appends the chain starting at start (table tab of n entries, sectors read by
 * sector() or from the mini stream) to out, up to want bytes. */
static int read_chain(const struct ks_ole2 *o, const uint32_t *tab, size_t n, int mini,
		      uint32_t start, uint64_t want, struct ks_buf *out, struct ks_err *err)
{
	uint32_t id = start;
	uint64_t got = 0;
	int rc = KS_OK;
	uint8_t *seen = ks_xcalloc(n / 8 + 1, 1); /* sectors already in this chain */
	while (got < want) {
		if (id == ENDOFCHAIN) {
			rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 chain ends after %llu of %llu bytes",
					(unsigned long long)got, (unsigned long long)want);
			goto out;
		}
		if (id >= n || (seen[id / 8] & (1u << (id % 8)))) {
			rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 chain %s at sector %u",
					id >= n ? "leaves its table" : "loops", id);
			goto out;
		}
		seen[id / 8] |= (uint8_t)(1u << (id % 8));
		const uint8_t *src;
		size_t avail;
		if (mini) {
			size_t off = (size_t)id * o->mss;
			if (off >= o->mini.len) {
				rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 mini sector %u outside", id);
				goto out;
			}
			src = o->mini.data + off;
			avail = o->mini.len - off < o->mss ? o->mini.len - off : o->mss;
		} else {
			size_t at = 0;
			avail = sector(o, id, &at);
			if (avail == 0) {
				rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 sector %u outside the file", id);
				goto out;
			}
			src = o->p + at;
		}
		size_t take = want - got < avail ? (size_t)(want - got) : avail;
		ks_buf_add(out, src, take);
		got += take;
		id = tab[id];
	}
out:
	free(seen);
	return rc;
}

/* Length of the chain from start in sectors (for streams of unknown size). */
static int chain_len(const uint32_t *tab, size_t n, uint32_t start, size_t *count,
		     struct ks_err *err)
{
	size_t k = 0;
	for (uint32_t id = start; id != ENDOFCHAIN; id = tab[id]) {
		if (id >= n || ++k > n)
			return ks_err_set(err, KS_E_EVIDENCE, "OLE2 chain %s", id >= n ? "broken" : "loops");
	}
	*count = k;
	return KS_OK;
}

static int load_fat(struct ks_ole2 *o, struct ks_err *err)
{
	const uint8_t *h = o->p;
	uint32_t nfatsec = le32(h + 0x2C);
	if (nfatsec == 0 || nfatsec > o->nsec)
		return ks_err_set(err, KS_E_EVIDENCE, "OLE2 header claims %u FAT sectors", nfatsec);
	uint32_t *ids = ks_xmalloc((size_t)nfatsec * sizeof *ids);
	size_t nids = 0;
	int rc = KS_OK;
	for (size_t i = 0; i < 109 && nids < nfatsec; i++)
		ids[nids++] = le32(h + 0x4C + 4 * i);
	uint32_t difat = le32(h + 0x44);
	size_t per = o->ss / 4 - 1, steps = 0;
	while (nids < nfatsec) {
		size_t at = 0;
		if (difat == ENDOFCHAIN || difat == FREESECT || sector(o, difat, &at) < o->ss ||
		    ++steps > o->nsec) {
			rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 DIFAT chain broken");
			goto out;
		}
		for (size_t i = 0; i < per && nids < nfatsec; i++)
			ids[nids++] = le32(o->p + at + 4 * i);
		difat = le32(o->p + at + 4 * per);
	}
	o->nfat = (size_t)nfatsec * (o->ss / 4);
	o->fat = ks_xmalloc(o->nfat * sizeof *o->fat);
	for (size_t i = 0; i < nids; i++) {
		size_t at = 0;
		if (sector(o, ids[i], &at) < o->ss) {
			rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 FAT sector %u outside the file", ids[i]);
			goto out;
		}
		for (size_t k = 0; k < o->ss / 4; k++)
			o->fat[i * (o->ss / 4) + k] = le32(o->p + at + 4 * k);
	}
out:
	free(ids);
	return rc;
}

static void utf16_name(const uint8_t *p, size_t nbytes, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i + 1 < nbytes && o + 4 < cap; i += 2) {
		uint32_t c = le16(p + i);
		if (c == 0)
			break;
		if (c < 0x20 || (c >= 0xD800 && c <= 0xDFFF)) {
			out[o++] = '?';
		} else if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xC0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 63));
		} else {
			out[o++] = (char)(0xE0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 63));
			out[o++] = (char)(0x80 | (c & 63));
		}
	}
	out[o] = '\0';
}

static int load_dir(struct ks_ole2 *o, struct ks_err *err)
{
	struct ks_buf b = {0};
	size_t nsecs = 0;
	int rc = chain_len(o->fat, o->nfat, le32(o->p + 0x30), &nsecs, err);
	if (rc != KS_OK)
		goto out;
	rc = read_chain(o, o->fat, o->nfat, 0, le32(o->p + 0x30), (uint64_t)nsecs * o->ss, &b, err);
	if (rc != KS_OK)
		goto out;
	o->ndir = b.len / 128;
	if (o->ndir > MAX_DIR_ENTRIES)
		o->ndir = MAX_DIR_ENTRIES;
	if (o->ndir == 0) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 directory is empty");
		goto out;
	}
	o->dir = ks_xcalloc(o->ndir, sizeof *o->dir);
	for (size_t i = 0; i < o->ndir; i++) {
		const uint8_t *e = b.data + 128 * i;
		struct ks_ole2_entry *d = &o->dir[i];
		size_t nl = le16(e + 0x40);
		utf16_name(e, nl <= 64 ? nl : 64, d->name, sizeof d->name);
		d->type = e[0x42];
		d->start = le32(e + 0x74);
		d->size = (uint64_t)le32(e + 0x78) | (uint64_t)le32(e + 0x7C) << 32;
		if (o->major == 3)
			d->size &= 0xFFFFFFFFu; /* v3 writers may leave garbage in the high half */
		d->mtime = (uint64_t)le32(e + 0x6C) | (uint64_t)le32(e + 0x70) << 32;
	}
	if (o->dir[0].type != KS_OLE2_ROOT)
		rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 directory entry 0 is not the root");
out:
	ks_buf_release(&b);
	return rc;
}

static int load_mini(struct ks_ole2 *o, struct ks_err *err)
{
	uint32_t first = le32(o->p + 0x3C);
	uint32_t count = le32(o->p + 0x40);
	if (first == ENDOFCHAIN || count == 0)
		return KS_OK; /* no mini stream in use */
	if (count > o->nsec)
		return ks_err_set(err, KS_E_EVIDENCE, "OLE2 header claims %u mini FAT sectors", count);
	struct ks_buf b = {0};
	int rc = read_chain(o, o->fat, o->nfat, 0, first, (uint64_t)count * o->ss, &b, err);
	if (rc == KS_OK) {
		o->nminifat = b.len / 4;
		o->minifat = ks_xmalloc((o->nminifat ? o->nminifat : 1) * sizeof *o->minifat);
		for (size_t i = 0; i < o->nminifat; i++)
			o->minifat[i] = le32(b.data + 4 * i);
		const struct ks_ole2_entry *root = &o->dir[0];
		if (root->size > o->len)
			rc = ks_err_set(err, KS_E_EVIDENCE, "OLE2 mini stream larger than the file");
		else
			rc = read_chain(o, o->fat, o->nfat, 0, root->start, root->size, &o->mini, err);
	}
	ks_buf_release(&b);
	return rc;
}

int ks_ole2_open(struct ks_ole2 *o, const uint8_t *p, size_t len, struct ks_err *err)
{
	static const uint8_t sig[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	memset(o, 0, sizeof *o);
	o->p = p;
	o->len = len;
	if (len < 512 || memcmp(p, sig, 8) != 0)
		return ks_err_set(err, KS_E_EVIDENCE, "not an OLE2 compound file");
	if (le16(p + 0x1C) != 0xFFFE)
		return ks_err_set(err, KS_E_EVIDENCE, "OLE2 byte order mark is not FFFE");
	unsigned shift = le16(p + 0x1E), mshift = le16(p + 0x20);
	if ((shift != 9 && shift != 12) || mshift != 6)
		return ks_err_set(err, KS_E_EVIDENCE, "OLE2 sector shifts %u/%u unsupported", shift,
				  mshift);
	o->major = le16(p + 0x1A);
	o->ss = (size_t)1 << shift;
	o->mss = (size_t)1 << mshift;
	o->cutoff = le32(p + 0x38);
	if (o->cutoff == 0 || o->cutoff > 1u << 20)
		o->cutoff = 4096;
	if (len <= o->ss)
		return ks_err_set(err, KS_E_EVIDENCE, "OLE2 file has no sectors");
	o->nsec = (len - o->ss + o->ss - 1) / o->ss;
	int rc = load_fat(o, err);
	if (rc == KS_OK)
		rc = load_dir(o, err);
	if (rc == KS_OK)
		rc = load_mini(o, err);
	return rc;
}

void ks_ole2_close(struct ks_ole2 *o)
{
	if (!o)
		return;
	free(o->fat);
	free(o->minifat);
	free(o->dir);
	ks_buf_release(&o->mini);
	memset(o, 0, sizeof *o);
}

const struct ks_ole2_entry *ks_ole2_find(const struct ks_ole2 *o, const char *name, int type)
{
	for (size_t i = 0; i < o->ndir; i++)
		if ((type < 0 || o->dir[i].type == type) && strcmp(o->dir[i].name, name) == 0)
			return &o->dir[i];
	return NULL;
}

int ks_ole2_read(const struct ks_ole2 *o, const struct ks_ole2_entry *e, uint64_t max,
		 struct ks_buf *out, struct ks_err *err)
{
	ks_buf_reset(out);
	if (e->size > max)
		return ks_err_set(err, KS_E_LIMIT, "OLE2 stream %s of %llu bytes over the limit",
				  e->name, (unsigned long long)e->size);
	if (e->size > o->len)
		return ks_err_set(err, KS_E_EVIDENCE, "OLE2 stream %s larger than the file", e->name);
	if (e->size == 0)
		return KS_OK;
	if (e->type != KS_OLE2_ROOT && e->size < o->cutoff)
		return read_chain(o, o->minifat, o->nminifat, 1, e->start, e->size, out, err);
	return read_chain(o, o->fat, o->nfat, 0, e->start, e->size, out, err);
}
