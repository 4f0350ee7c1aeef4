/* BMP decoder (own): OS/2 and Windows headers, 1/4/8-bit palettes (raw or RLE4/RLE8),
 * 16 and 32-bit bit fields, 24-bit, bottom-up or top-down rows. Channels wider or
 * narrower than 8 bits become 8 bits exactly as ImageMagick's reader scales them
 * (bit replication for 5 and 6-bit fields), so the pixels equal `convert FILE pnm:-`. */
#include <string.h>

#include "decode_impl.h"

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_ALPHABITFIELDS = 6 };

static int bmp_probe(const uint8_t *p, size_t n)
{
	if (n < 18 || p[0] != 'B' || p[1] != 'M')
		return 0;
	uint32_t hs = ks_rd_le32(p + 14);
	return hs == 12 || hs == 16 || hs == 40 || hs == 52 || hs == 56 || hs == 64 || hs == 108 ||
	       hs == 124;
}

/* One channel of a bit-field pixel, as ImageMagick computes it: the field is moved to
 * the top of 32 bits, its upper 16 bits kept, the low bits filled by replication for
 * the widths it special-cases, then the 16-bit quantum scaled to 8 bits. */
struct field {
	uint32_t mask;
	int shift, bits;
};

static void field_init(struct field *f, uint32_t mask)
{
	f->mask = mask;
	f->shift = 0;
	f->bits = 0;
	if (!mask)
		return;
	while (((mask << f->shift) & 0x80000000u) == 0)
		f->shift++;
	int s = f->shift;
	while (s < 32 && ((mask << s) & 0x80000000u) != 0)
		s++;
	f->bits = s - f->shift;
}

static inline uint8_t q16_to_8(uint32_t q)
{
	return (uint8_t)(((q + 128u) - ((q + 128u) >> 8)) >> 8);
}

static inline uint8_t field16(const struct field *f, uint32_t px)
{
	if (!f->mask)
		return 0;
	uint32_t v = ((px & f->mask) << f->shift) >> 16;
	if (f->bits == 5)
		v |= (v & 0xe000) >> 5;
	if (f->bits == 6)
		v |= (v & 0xc000) >> 6;
	if (f->bits <= 8)
		v |= (v & 0xff00) >> 8;
	return q16_to_8(v & 0xffff);
}

static inline uint8_t field32(const struct field *f, uint32_t px)
{
	if (!f->mask)
		return 0;
	uint32_t v = ((px & f->mask) << f->shift) >> 16;
	if (f->bits == 8)
		v |= v >> 8;
	return q16_to_8(v & 0xffff);
}

/* RLE4/RLE8 into a bottom-up index frame (rows in file order). Pixels not written stay
 * index 0, as ImageMagick's zeroed buffer. */
static int rle_decode(const uint8_t *p, size_t n, int bpp, uint8_t *frame, uint32_t w, uint32_t h,
		      struct ks_err *err)
{
	size_t pos = 0;
	uint32_t x = 0, y = 0;
	memset(frame, 0, (size_t)w * h);
	while (y < h) {
		if (n - pos < 2)
			return ks_err_set(err, KS_E_EVIDENCE, "bmp: RLE data ends at row %u", y);
		uint8_t count = p[pos], val = p[pos + 1];
		pos += 2;
		if (count) {
			for (uint32_t i = 0; i < count && x < w; i++, x++) {
				uint8_t idx = bpp == 8 ? val : (i & 1) ? (val & 15) : (val >> 4);
				frame[(size_t)y * w + x] = idx;
			}
			continue;
		}
		if (val == 0) { /* end of line */
			x = 0;
			y++;
		} else if (val == 1) { /* end of picture */
			break;
		} else if (val == 2) { /* delta */
			if (n - pos < 2)
				return ks_err_set(err, KS_E_EVIDENCE, "bmp: RLE delta truncated");
			x += p[pos];
			y += p[pos + 1];
			pos += 2;
		} else { /* absolute run of val pixels, padded to 16 bits */
			size_t bytes = bpp == 8 ? val : ((size_t)val + 1) / 2;
			if (n - pos < bytes)
				return ks_err_set(err, KS_E_EVIDENCE, "bmp: RLE run truncated");
			for (uint32_t i = 0; i < val; i++, x++) {
				uint8_t b = p[pos + (bpp == 8 ? i : i / 2)];
				uint8_t idx = bpp == 8 ? b : (i & 1) ? (b & 15) : (b >> 4);
				if (x < w && y < h)
					frame[(size_t)y * w + x] = idx;
			}
			pos += bytes + (bytes & 1);
		}
	}
	return 0;
}

static int bmp_decode(struct ks_decoder *d, void **slot, const uint8_t *p, size_t n,
		      const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		      struct ks_err *err)
{
	(void)slot;
	if (n < 26)
		return ks_err_set(err, KS_E_EVIDENCE, "bmp: truncated header");
	uint32_t offbits = ks_rd_le32(p + 10), hs = ks_rd_le32(p + 14);
	if (hs > n - 14)
		return ks_err_set(err, KS_E_EVIDENCE, "bmp: truncated info header");
	int64_t w, h;
	uint32_t bpp, comp = BI_RGB, ncolors = 0;
	uint32_t masks[3] = {0, 0, 0};
	int topdown = 0;
	if (hs == 12) {
		w = ks_rd_le16(p + 18);
		h = ks_rd_le16(p + 20);
		bpp = ks_rd_le16(p + 24);
	} else {
		if (hs < 16 || n < 30)
			return ks_err_set(err, KS_E_EVIDENCE, "bmp: truncated info header");
		w = (int32_t)ks_rd_le32(p + 18);
		h = (int32_t)ks_rd_le32(p + 22);
		bpp = ks_rd_le16(p + 28);
		if (hs >= 20)
			comp = ks_rd_le32(p + 30);
		if (hs >= 36)
			ncolors = ks_rd_le32(p + 46);
		if (hs >= 52 || comp == BI_BITFIELDS || comp == BI_ALPHABITFIELDS) {
			/* masks follow a 40-byte header, or sit inside a longer one */
			if (14 + 40 + 12 > n)
				return ks_err_set(err, KS_E_EVIDENCE, "bmp: truncated bit fields");
			masks[0] = ks_rd_le32(p + 54);
			masks[1] = ks_rd_le32(p + 58);
			masks[2] = ks_rd_le32(p + 62);
		}
	}
	if (h < 0) {
		topdown = 1;
		h = -h;
	}
	if (w <= 0 || h <= 0)
		return ks_err_set(err, KS_E_EVIDENCE, "bmp: bad size %lldx%lld", (long long)w,
				  (long long)h);
	int pal = bpp == 1 || bpp == 4 || bpp == 8;
	if (!pal && bpp != 16 && bpp != 24 && bpp != 32)
		return ks_err_set(err, KS_E_UNSUPPORTED, "bmp: %u bits per pixel", bpp);
	if (comp == BI_RLE8 ? bpp != 8 : comp == BI_RLE4 ? bpp != 4 : 0)
		return ks_err_set(err, KS_E_EVIDENCE, "bmp: RLE with %u bits per pixel", bpp);
	if (comp != BI_RGB && comp != BI_RLE8 && comp != BI_RLE4 && comp != BI_BITFIELDS &&
	    comp != BI_ALPHABITFIELDS)
		return ks_err_set(err, KS_E_UNSUPPORTED, "bmp: compression %u", comp);
	if (topdown && (comp == BI_RLE8 || comp == BI_RLE4))
		return ks_err_set(err, KS_E_EVIDENCE, "bmp: top-down RLE");

	uint64_t rowsize = (((uint64_t)w * bpp + 31) / 32) * 4;
	int rle = comp == BI_RLE8 || comp == BI_RLE4;
	int rc = ks_decode_check(opts, "bmp", (uint64_t)w, (uint64_t)h,
				 (uint64_t)w * 3 + (rle ? (uint64_t)w * (uint64_t)h : 0), err);
	if (rc)
		return rc;
	/* RLE may skip areas, but not a whole huge frame on a few bytes */
	if (rle && (uint64_t)w * (uint64_t)h > (1ull << 24) && (uint64_t)w * (uint64_t)h / 512 > n)
		return ks_err_set(err, KS_E_EVIDENCE,
				  "bmp: %lldx%lld RLE picture on only %zu bytes", (long long)w,
				  (long long)h, n);

	/* Palette: 3-byte entries after an OS/2 core header, 4-byte after the others. */
	uint8_t table[256][3];
	uint32_t nentries = 0;
	memset(table, 0, sizeof table);
	if (pal) {
		uint32_t maxc = 1u << bpp;
		nentries = ncolors ? ncolors : maxc;
		if (nentries > maxc)
			return ks_err_set(err, KS_E_EVIDENCE, "bmp: %u colours for %u bits",
					  ncolors, bpp);
		size_t esize = hs == 12 ? 3 : 4;
		size_t ppos = 14 + (size_t)hs;
		if (comp == BI_BITFIELDS && hs == 40)
			ppos += 12;
		if (ppos > n || (size_t)nentries * esize > n - ppos)
			return ks_err_set(err, KS_E_EVIDENCE, "bmp: truncated palette");
		for (uint32_t i = 0; i < nentries; i++) {
			const uint8_t *e = p + ppos + i * esize;
			table[i][0] = e[2];
			table[i][1] = e[1];
			table[i][2] = e[0];
		}
	}
	struct field fr = {0}, fg = {0}, fb = {0};
	if (!pal && bpp != 24) {
		if (comp == BI_RGB) {
			if (bpp == 16) {
				masks[0] = 0x7c00;
				masks[1] = 0x03e0;
				masks[2] = 0x001f;
			} else {
				masks[0] = 0x00ff0000;
				masks[1] = 0x0000ff00;
				masks[2] = 0x000000ff;
			}
		}
		field_init(&fr, masks[0]);
		field_init(&fg, masks[1]);
		field_init(&fb, masks[2]);
	}
	if (offbits > n)
		return ks_err_set(err, KS_E_EVIDENCE, "bmp: pixel data beyond the end");
	const uint8_t *bits = p + offbits;
	size_t avail = n - offbits;
	uint8_t *frame = NULL;
	if (rle) {
		frame = ks_decode_grow(&d->work, (size_t)w * (size_t)h);
		rc = rle_decode(bits, avail, (int)bpp, frame, (uint32_t)w, (uint32_t)h, err);
		if (rc)
			return rc;
	} else if (rowsize * (uint64_t)h > avail) {
		return ks_err_set(err, KS_E_EVIDENCE,
				  "bmp: pixel data truncated (%zu of %llu bytes)", avail,
				  (unsigned long long)(rowsize * (uint64_t)h));
	}

	struct ks_image_info info = {
	    .format = "bmp",
	    .width = (uint32_t)w,
	    .height = (uint32_t)h,
	    .full_width = (uint32_t)w,
	    .full_height = (uint32_t)h,
	    .channels = 3,
	    .scale_num = 1,
	    .scale_denom = 1,
	    .depth = bpp == 1 || bpp == 4 ? (int)bpp : 8,
	};
	rc = sink->begin(sink->ctx, &info, err);
	if (rc)
		return rc;
	uint8_t *out = ks_decode_grow(&d->row, (size_t)w * 3);
	for (uint32_t y = 0; y < (uint32_t)h; y++) {
		uint32_t fy = topdown ? y : (uint32_t)h - 1 - y; /* row index in file order */
		uint8_t *o = out;
		if (rle) {
			const uint8_t *in = frame + (size_t)fy * (size_t)w;
			for (uint32_t x = 0; x < (uint32_t)w; x++, o += 3)
				memcpy(o, table[in[x] < nentries ? in[x] : 0], 3);
		} else {
			const uint8_t *in = bits + (size_t)fy * rowsize;
			for (uint32_t x = 0; x < (uint32_t)w; x++, o += 3) {
				uint32_t idx, px;
				switch (bpp) {
				case 1:
				case 4:
				case 8:
					idx =
					    (in[(size_t)x * bpp / 8] >> (8 - bpp - (x * bpp) % 8)) &
					    ((1u << bpp) - 1);
					memcpy(o, table[idx < nentries ? idx : 0], 3);
					break;
				case 16:
					px = ks_rd_le16(in + 2 * (size_t)x);
					o[0] = field16(&fr, px);
					o[1] = field16(&fg, px);
					o[2] = field16(&fb, px);
					break;
				case 24:
					o[0] = in[3 * (size_t)x + 2];
					o[1] = in[3 * (size_t)x + 1];
					o[2] = in[3 * (size_t)x];
					break;
				default:
					px = ks_rd_le32(in + 4 * (size_t)x);
					o[0] = field32(&fr, px);
					o[1] = field32(&fg, px);
					o[2] = field32(&fb, px);
					break;
				}
			}
		}
		rc = sink->rows(sink->ctx, y, 1, out, (size_t)w * 3, err);
		if (rc)
			return rc;
	}
	return 0;
}

const struct ks_decoder_ops ks_decode_bmp_ops = {
    .name = "bmp",
    .probe = bmp_probe,
    .decode = bmp_decode,
    .state_free = NULL,
};
