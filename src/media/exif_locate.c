/* Finds the EXIF (TIFF) block inside a whole file: JPEG APP1 "Exif\0\0", bare TIFF,
 * PNG eXIf chunk, WebP EXIF chunk, HEIF Exif item (meta → iinf/iloc, best effort).
 * Walks only the container's own framing, each length checked against the buffer,
 * with a cap on the segments/chunks/boxes visited. */
#include <string.h>

#include "kestrel/exif.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int is_tiff(const uint8_t *p, size_t len)
{
	return len >= 4 && ((p[0] == 'I' && p[1] == 'I' && p[2] == 42 && p[3] == 0) ||
			    (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && p[3] == 42));
}

/* Drops an "Exif\0\0" prefix some writers put in front of the TIFF header. */
static void skip_exif_prefix(const uint8_t *data, size_t *off, size_t *n)
{
	if (*n >= 6 && memcmp(data + *off, "Exif\0\0", 6) == 0) {
		*off += 6;
		*n -= 6;
	}
}

static int locate_jpeg(const uint8_t *d, size_t len, size_t *off, size_t *n, struct ks_err *err)
{
	size_t pos = 2;
	for (int segs = 0; segs < KS_EXIF_MAX_SEGMENTS && pos + 4 <= len; segs++) {
		if (d[pos] != 0xFF)
			break;
		uint8_t m = d[pos + 1];
		if (m == 0xFF) { /* fill byte */
			pos++;
			continue;
		}
		if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			pos += 2;
			continue;
		}
		if (m == 0xD9 || m == 0xDA)
			break;
		size_t seglen = (size_t)d[pos + 2] << 8 | d[pos + 3];
		if (seglen < 2 || seglen > len - pos - 2)
			break;
		if (m == 0xE1 && seglen >= 8 + 8 && memcmp(d + pos + 4, "Exif\0", 5) == 0) {
			*off = pos + 10;
			*n = seglen - 8;
			return KS_OK;
		}
		pos += 2 + seglen;
	}
	return ks_err_set(err, KS_E_NOTFOUND, "jpeg: no EXIF APP1 segment");
}

static int locate_png(const uint8_t *d, size_t len, size_t *off, size_t *n, struct ks_err *err)
{
	size_t pos = 8;
	for (int chunks = 0; chunks < KS_EXIF_MAX_SEGMENTS && len - pos >= 12; chunks++) {
		uint32_t clen = be32(d + pos);
		if (clen > len - pos - 12)
			break;
		const uint8_t *type = d + pos + 4;
		if (memcmp(type, "eXIf", 4) == 0) {
			*off = pos + 8;
			*n = clen;
			skip_exif_prefix(d, off, n);
			return KS_OK;
		}
		if (memcmp(type, "IEND", 4) == 0)
			break;
		pos += 12 + (size_t)clen;
	}
	return ks_err_set(err, KS_E_NOTFOUND, "png: no eXIf chunk");
}

static int locate_webp(const uint8_t *d, size_t len, size_t *off, size_t *n, struct ks_err *err)
{
	size_t end = len;
	uint32_t riff = le32(d + 4);
	if ((size_t)riff + 8 < end)
		end = (size_t)riff + 8;
	if (end < 12)
		return ks_err_set(err, KS_E_NOTFOUND, "webp: empty RIFF");
	size_t pos = 12;
	for (int chunks = 0; chunks < KS_EXIF_MAX_SEGMENTS && end - pos >= 8; chunks++) {
		uint32_t clen = le32(d + pos + 4);
		if (clen > end - pos - 8)
			break;
		if (memcmp(d + pos, "EXIF", 4) == 0) {
			*off = pos + 8;
			*n = clen;
			skip_exif_prefix(d, off, n);
			return KS_OK;
		}
		pos += 8 + (size_t)clen + (clen & 1);
		if (pos > end)
			break;
	}
	return ks_err_set(err, KS_E_NOTFOUND, "webp: no EXIF chunk");
}

/* ---- HEIF (ISO BMFF) ----------------------------------------------------------- */

struct box {
	size_t start, body, end; /* box start, payload start, end (all within the parent) */
	char type[5];
};

/* Reads the box header at pos inside [pos, end); -1 if it does not fit. */
static int box_at(const uint8_t *d, size_t pos, size_t end, struct box *b)
{
	if (end - pos < 8)
		return -1;
	uint64_t size = be32(d + pos);
	size_t hdr = 8;
	if (size == 1) {
		if (end - pos < 16)
			return -1;
		size = (uint64_t)be32(d + pos + 8) << 32 | be32(d + pos + 12);
		hdr = 16;
	} else if (size == 0) {
		size = end - pos;
	}
	if (size < hdr || size > end - pos)
		return -1;
	memcpy(b->type, d + pos + 4, 4);
	b->type[4] = '\0';
	b->start = pos;
	b->body = pos + hdr;
	b->end = pos + (size_t)size;
	return 0;
}

/* Finds the first child box of type `type` in [pos, end). */
static int find_box(const uint8_t *d, size_t pos, size_t end, const char *type, struct box *out)
{
	for (int i = 0; i < KS_EXIF_MAX_SEGMENTS && pos < end; i++) {
		struct box b;
		if (box_at(d, pos, end, &b) != 0)
			return -1;
		if (memcmp(b.type, type, 4) == 0) {
			*out = b;
			return 0;
		}
		pos = b.end;
	}
	return -1;
}

/* Unsigned big-endian integer of n bytes (0, 2, 4 or 8) at *pos, advancing it. */
static int read_n(const uint8_t *d, size_t *pos, size_t end, unsigned n, uint64_t *v)
{
	if (n != 0 && n != 2 && n != 4 && n != 8)
		return -1;
	if (end - *pos < n)
		return -1;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v = *v << 8 | d[*pos + i];
	*pos += n;
	return 0;
}

static int heif_brand_ok(const uint8_t *d, const struct box *ftyp)
{
	static const char *const brands[] = {"heic", "heix", "hevc", "hevx", "heim", "heis",
					     "hevm", "hevs", "mif1", "msf1", "avif", "avis", "mif2"};
	for (size_t pos = ftyp->body; pos + 4 <= ftyp->end; pos += 4) {
		if (pos == ftyp->body + 4)
			continue; /* minor version */
		for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
			if (memcmp(d + pos, brands[i], 4) == 0)
				return 1;
	}
	return 0;
}

/* The item id of the first 'Exif' item in iinf, or 0. */
static uint32_t heif_exif_item(const uint8_t *d, const struct box *iinf)
{
	size_t pos = iinf->body;
	if (iinf->end - pos < 6)
		return 0;
	unsigned version = d[pos];
	pos += 4 + (version == 0 ? 2 : 4);
	for (int i = 0; i < KS_EXIF_MAX_SEGMENTS && pos < iinf->end; i++) {
		struct box infe;
		if (box_at(d, pos, iinf->end, &infe) != 0)
			return 0;
		pos = infe.end;
		if (memcmp(infe.type, "infe", 4) != 0 || infe.end - infe.body < 4)
			continue;
		unsigned v = d[infe.body];
		size_t q = infe.body + 4;
		uint64_t id;
		if (v < 2 || read_n(d, &q, infe.end, v == 2 ? 2 : 4, &id) != 0)
			continue;
		q += 2; /* item_protection_index */
		if (q > infe.end || infe.end - q < 4)
			continue;
		if (memcmp(d + q, "Exif", 4) == 0 && id > 0 && id <= UINT32_MAX)
			return (uint32_t)id;
	}
	return 0;
}

/* Place of item `item` in the file via iloc (construction method 0: file offsets,
 * 1: inside idat). Only contiguous extents are joined. */
static int heif_item_place(const uint8_t *d, size_t len, const struct box *meta,
			   const struct box *iloc, uint32_t item, size_t *off, size_t *n)
{
	size_t pos = iloc->body;
	size_t end = iloc->end;
	if (end - pos < 8)
		return -1;
	unsigned version = d[pos];
	pos += 4;
	unsigned offset_size = d[pos] >> 4, length_size = d[pos] & 15;
	unsigned base_size = d[pos + 1] >> 4, index_size = version >= 1 ? (d[pos + 1] & 15) : 0;
	pos += 2;
	uint64_t count;
	if (read_n(d, &pos, end, version < 2 ? 2 : 4, &count) != 0)
		return -1;
	for (uint64_t i = 0; i < count && i < KS_EXIF_MAX_SEGMENTS; i++) {
		uint64_t id, method = 0, dref, base, extents;
		if (read_n(d, &pos, end, version < 2 ? 2 : 4, &id) != 0)
			return -1;
		if (version >= 1) {
			if (read_n(d, &pos, end, 2, &method) != 0)
				return -1;
			method &= 15;
		}
		if (read_n(d, &pos, end, 2, &dref) != 0 || read_n(d, &pos, end, base_size, &base) != 0 ||
		    read_n(d, &pos, end, 2, &extents) != 0)
			return -1;
		uint64_t first = 0, total = 0, expect = 0;
		int contiguous = 1;
		for (uint64_t k = 0; k < extents; k++) {
			uint64_t idx, eoff, elen;
			if (read_n(d, &pos, end, index_size, &idx) != 0 ||
			    read_n(d, &pos, end, offset_size, &eoff) != 0 ||
			    read_n(d, &pos, end, length_size, &elen) != 0)
				return -1;
			if (k == 0)
				first = eoff;
			else if (eoff != expect)
				contiguous = 0;
			expect = eoff + elen;
			total += elen;
		}
		if (id != item)
			continue;
		if (extents == 0 || !contiguous || dref != 0 || method > 1)
			return -1;
		size_t lo = 0, hi = len;
		if (method == 1) {
			struct box idat;
			if (find_box(d, meta->body + 4, meta->end, "idat", &idat) != 0)
				return -1;
			lo = idat.body;
			hi = idat.end;
		}
		if (base > hi - lo)
			return -1;
		uint64_t at = lo + base;
		if (first > hi - at)
			return -1;
		at += first;
		if (total == 0 || total > hi - at)
			total = hi - at;
		*off = (size_t)at;
		*n = (size_t)total;
		return 0;
	}
	return -1;
}

static int locate_heif(const uint8_t *d, size_t len, size_t *off, size_t *n, struct ks_err *err)
{
	struct box ftyp, meta, iinf, iloc;
	if (box_at(d, 0, len, &ftyp) != 0 || !heif_brand_ok(d, &ftyp))
		return ks_err_set(err, KS_E_UNSUPPORTED, "ISO BMFF file that is not HEIF");
	if (find_box(d, ftyp.end, len, "meta", &meta) != 0 || meta.end - meta.body < 4)
		return ks_err_set(err, KS_E_NOTFOUND, "heif: no meta box");
	if (find_box(d, meta.body + 4, meta.end, "iinf", &iinf) != 0)
		return ks_err_set(err, KS_E_NOTFOUND, "heif: no iinf box");
	uint32_t item = heif_exif_item(d, &iinf);
	if (item == 0)
		return ks_err_set(err, KS_E_NOTFOUND, "heif: no Exif item");
	size_t at, total;
	if (find_box(d, meta.body + 4, meta.end, "iloc", &iloc) != 0 ||
	    heif_item_place(d, len, &meta, &iloc, item, &at, &total) != 0)
		return ks_err_set(err, KS_E_EVIDENCE, "heif: Exif item %u has no usable location",
				  item);
	if (total < 4)
		return ks_err_set(err, KS_E_EVIDENCE, "heif: Exif item too short");
	uint32_t skip = be32(d + at);
	if (skip > total - 4)
		return ks_err_set(err, KS_E_EVIDENCE, "heif: Exif header offset %u beyond item", skip);
	*off = at + 4 + skip;
	*n = total - 4 - skip;
	skip_exif_prefix(d, off, n);
	return KS_OK;
}

int ks_exif_locate(const uint8_t *data, size_t len, size_t *off, size_t *n, const char **container,
		   struct ks_err *err)
{
	static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
	*off = 0;
	*n = 0;
	*container = "";
	if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
		*container = "jpeg";
		return locate_jpeg(data, len, off, n, err);
	}
	if (is_tiff(data, len)) {
		*container = "tiff";
		*n = len;
		return KS_OK;
	}
	if (len >= 8 && memcmp(data, png_sig, 8) == 0) {
		*container = "png";
		return locate_png(data, len, off, n, err);
	}
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0) {
		*container = "webp";
		return locate_webp(data, len, off, n, err);
	}
	if (len >= 12 && memcmp(data + 4, "ftyp", 4) == 0) {
		*container = "heif";
		return locate_heif(data, len, off, n, err);
	}
	return ks_err_set(err, KS_E_UNSUPPORTED, "no container with EXIF recognised");
}
