/* Still-picture formats: JPEG, PNG, GIF, BMP, WebP and TIFF. Each has a sniff on the
 * head (magic plus what the head can confirm) and a validator that walks the
 * structure (segments, chunks, blocks, IFDs) far enough to tell a real picture from a
 * decoy that only borrows the magic, and a complete one from a cut-off one. */
#include "sniff_impl.h"

/* ---------------------------------------------------------------- JPEG */

/* An APPn segment whose identifier is one the common writers use: evidence that the
 * bytes after FF D8 really are a JPEG header even when the data ends before the frame
 * header (a cut inside a large Exif block). */
static int app_id_known(const uint8_t *p, size_t n)
{
	static const char *const ids[] = {
	    "JFIF", "JFXX", "Exif", "http:", "ICC_PROFILE", "Adobe", "Ducky", "Photoshop",
	    "AVI1", "MPF",  "FPXR", "XMP",   "Meta",	    "Ocad",  "QVCI",  NULL};
	for (const char *const *id = ids; *id; id++) {
		size_t k = strlen(*id);
		if (n >= k + 1 && memcmp(p, *id, k) == 0)
			return 1;
	}
	return 0;
}

static int is_sof(uint8_t m)
{
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

int ks_media_sniff_jpeg(const uint8_t *d, size_t len, uint64_t size)
{
	if (len < 4 || d[0] != 0xFF || d[1] != 0xD8 || d[2] != 0xFF)
		return KS_SNIFF_NO;
	/* The first marker after SOI is a table, a frame, an APPn/COM, or fill. */
	uint8_t m = d[3];
	if ((m >= 0xC0 && m <= 0xCF) || (m >= 0xDB && m <= 0xFE) || m == 0xFF)
		return KS_SNIFF_STRONG;
	return KS_SNIFF_NO;
}

struct jpeg_state {
	int sof, sos, dqt, dht;
	int textual; /* a known APPn identifier was seen */
	uint8_t nf, ids[4];
	int progressive;
};

/* Checks one complete segment's payload p[0..n) for marker m. NULL = fine. */
static const char *jpeg_segment(struct jpeg_state *s, uint8_t m, const uint8_t *p, size_t n,
				struct ks_media_facts *f)
{
	if (is_sof(m)) {
		if (s->sof)
			return "second frame header";
		if (n < 6)
			return "short frame header";
		uint8_t prec = p[0], nf = p[5];
		uint16_t y = ks_be16(p + 1), x = ks_be16(p + 3);
		if (prec < 2 || prec > 16)
			return "bad sample precision";
		if (x == 0)
			return "zero width";
		if (nf < 1 || nf > 4 || n != 6 + 3u * nf)
			return "bad component count";
		for (int i = 0; i < nf; i++) {
			const uint8_t *c = p + 6 + 3 * i;
			int hs = c[1] >> 4, vs = c[1] & 15;
			if (hs < 1 || hs > 4 || vs < 1 || vs > 4 || c[2] > 3)
				return "bad component sampling";
			for (int j = 0; j < i; j++)
				if (s->ids[j] == c[0])
					return "duplicate component id";
			s->ids[i] = c[0];
		}
		s->sof = 1;
		s->nf = nf;
		s->progressive = (m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE);
		f->width = x;
		f->height = y; /* 0 means "given later by DNL"; left as unknown */
		return NULL;
	}
	switch (m) {
	case 0xC4: /* DHT: one or more tables */
		for (size_t i = 0; i < n;) {
			if (n - i < 17 || (p[i] >> 4) > 1 || (p[i] & 15) > 3)
				return "bad Huffman table";
			unsigned sum = 0;
			for (int k = 1; k <= 16; k++)
				sum += p[i + k];
			if (sum > 256 || n - i - 17 < sum)
				return "bad Huffman table";
			i += 17 + sum;
		}
		s->dht = 1;
		return NULL;
	case 0xDB: /* DQT: one or more tables */
		for (size_t i = 0; i < n;) {
			size_t q = (p[i] >> 4) ? 128 : 64;
			if ((p[i] >> 4) > 1 || (p[i] & 15) > 3 || n - i - 1 < q)
				return "bad quantisation table";
			i += 1 + q;
		}
		s->dqt = 1;
		return NULL;
	case 0xDD: /* DRI */
	case 0xDC: /* DNL */
		return n == 2 ? NULL : "bad DRI/DNL length";
	case 0xDA: { /* SOS */
		if (!s->sof)
			return "scan before frame header";
		if (n < 1)
			return "short scan header";
		uint8_t ns = p[0];
		if (ns < 1 || ns > 4 || ns > s->nf || n != 4 + 2u * ns)
			return "scan component count does not match frame";
		for (int i = 0; i < ns; i++) {
			int found = 0;
			for (int j = 0; j < s->nf; j++)
				found |= s->ids[j] == p[1 + 2 * i];
			if (!found)
				return "scan names a component the frame lacks";
			if ((p[2 + 2 * i] >> 4) > 3 || (p[2 + 2 * i] & 15) > 3)
				return "bad scan table selector";
		}
		uint8_t ss = p[1 + 2 * ns], se = p[2 + 2 * ns], a = p[3 + 2 * ns];
		if (ss > 63 || se > 63 || (a >> 4) > 13 || (a & 15) > 13)
			return "bad spectral selection";
		s->sos++;
		return NULL;
	}
	}
	if (m >= 0xE0 && m <= 0xEF) {
		if (app_id_known(p, n))
			s->textual = 1;
		return NULL;
	}
	if (m == 0xFE || m == 0xC8 || m == 0xCC || (m >= 0xF0 && m <= 0xFD))
		return NULL; /* COM, JPG extensions, arithmetic conditioning: opaque */
	return "reserved marker";
}

/* From just after an SOS header, skips entropy-coded data to the next marker that is
 * not a restart; returns its offset (of the FF) or len when the data runs out. */
static size_t jpeg_skip_scan(const uint8_t *d, size_t pos, size_t len)
{
	while (pos < len) {
		const uint8_t *ff = memchr(d + pos, 0xFF, len - pos);
		if (!ff)
			return len;
		size_t q = (size_t)(ff - d);
		size_t r = q + 1;
		while (r < len && d[r] == 0xFF)
			r++;
		if (r >= len)
			return len;
		if (d[r] == 0x00 || (d[r] >= 0xD0 && d[r] <= 0xD7)) {
			pos = r + 1;
			continue;
		}
		return q;
	}
	return len;
}

/* The segment walk from SOI. Ending before any frame header is only "truncated" when
 * what came before reads like a JPEG's header (a textual APPn identifier or a
 * well-formed table); otherwise the FF D8 was a coincidence. */
enum ks_valid ks_media_check_jpeg(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	struct jpeg_state s = {0};
	if (len < 2 || d[0] != 0xFF || d[1] != 0xD8)
		return ks_verdict(f, KS_VALID_BAD, "no SOI");
	size_t pos = 2;
	for (;;) {
		/* (Only the head held: the rest may well hold the frame header.) */
		int early = !s.sof && !s.textual && !s.dqt && !s.dht && f->size == len;
		f->end = 0; /* (ran out of data) */
		if (pos >= len)
			return early ? ks_verdict(f, KS_VALID_BAD, "ends before a frame header")
				     : ks_verdict(f, KS_VALID_TRUNCATED,
						  s.sos ? "no EOI" : "ends before the scan");
		if (d[pos] != 0xFF) {
			f->end = pos;
			return s.sos ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged after the scan")
				     : ks_verdict(f, KS_VALID_BAD, "no marker where one is due");
		}
		size_t mark = pos; /* where this marker starts, for f->end on damage */
		while (pos < len && d[pos] == 0xFF)
			pos++;
		if (pos >= len)
			continue;
		uint8_t m = d[pos++];
		if (m == 0xD9) {
			if (!s.sos)
				return ks_verdict(f, KS_VALID_BAD, "EOI before any scan");
			if (pos < len && !ks_media_all_zero(d, pos, len))
				f->why = "data after EOI";
			else if (!s.dqt)
				f->why = "no DQT";
			f->end = pos;
			return KS_VALID_OK;
		}
		if (m == 0x00 || m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7) || m < 0xC0) {
			f->end = mark;
			if (s.sos)
				return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: stray marker");
			return ks_verdict(f, KS_VALID_BAD, "marker not allowed here");
		}
		if (!ks_fits(pos, 2, len)) {
			pos = len;
			continue;
		}
		size_t seglen = ks_be16(d + pos);
		f->end = mark;
		if (seglen < 2)
			return s.sos ? ks_verdict(f, KS_VALID_TRUNCATED,
						  "damaged: bad segment length")
				     : ks_verdict(f, KS_VALID_BAD, "bad segment length");
		if (!ks_fits(pos, seglen, len)) {
			/* The segment runs off the end: judge on its identifier if it has one. */
			if (m >= 0xE0 && m <= 0xEF && app_id_known(d + pos + 2, len - pos - 2))
				s.textual = 1;
			pos = len;
			continue;
		}
		const char *err = jpeg_segment(&s, m, d + pos + 2, seglen - 2, f);
		if (err)
			return s.sos ? ks_verdict(f, KS_VALID_TRUNCATED, err)
				     : ks_verdict(f, KS_VALID_BAD, err);
		pos += seglen;
		if (m == 0xDA)
			pos = jpeg_skip_scan(d, pos, len);
	}
}

/* ---------------------------------------------------------------- PNG */

static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

int ks_media_sniff_png(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, png_sig, 8) ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

static int png_type_ok(const uint8_t *t)
{
	for (int i = 0; i < 4; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
			return 0;
	return 1;
}

static int png_depth_ok(uint8_t depth, uint8_t colour)
{
	switch (colour) {
	case 0:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
	case 3:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8;
	case 2:
	case 4:
	case 6:
		return depth == 8 || depth == 16;
	}
	return 0;
}

enum ks_valid ks_media_check_png(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	static const uint8_t ihdr_head[8] = {0, 0, 0, 13, 'I', 'H', 'D', 'R'};
	struct ks_crc32 crc;
	if (!ks_has(d, len, 0, png_sig, 8))
		return ks_verdict(f, KS_VALID_BAD, "no PNG signature");
	if (len < 33) {
		size_t n = len - 8 < 8 ? len - 8 : 8;
		return memcmp(d + 8, ihdr_head, n) == 0
			   ? ks_verdict(f, KS_VALID_TRUNCATED, "ends in IHDR")
			   : ks_verdict(f, KS_VALID_BAD, "no IHDR");
	}
	if (memcmp(d + 8, ihdr_head, 8) != 0)
		return ks_verdict(f, KS_VALID_BAD, "no IHDR");
	ks_media_crc32_init(&crc);
	if (ks_media_crc32(&crc, 0, d + 12, 17) != ks_be32(d + 29))
		return ks_verdict(f, KS_VALID_BAD, "IHDR CRC mismatch");
	uint32_t w = ks_be32(d + 16), h = ks_be32(d + 20);
	if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu)
		return ks_verdict(f, KS_VALID_BAD, "bad dimensions");
	if (!png_depth_ok(d[24], d[25]) || d[26] != 0 || d[27] != 0 || d[28] > 1)
		return ks_verdict(f, KS_VALID_BAD, "bad IHDR fields");
	f->width = w;
	f->height = h;

	int idat = 0;
	size_t pos = 33;
	for (;;) {
		if (!ks_fits(pos, 12, len))
			return ks_verdict(f, KS_VALID_TRUNCATED,
					  pos == len ? "no IEND" : "ends inside a chunk");
		uint32_t n = ks_be32(d + pos);
		const uint8_t *t = d + pos + 4;
		f->end = pos;
		if (n > 0x7fffffffu || !png_type_ok(t))
			return ks_verdict(f, KS_VALID_TRUNCATED, "damaged chunk header");
		if (!ks_fits(pos + 8, (uint64_t)n + 4, len)) {
			f->end = 0;
			return ks_verdict(f, KS_VALID_TRUNCATED, "chunk runs past the end");
		}
		if (ks_media_crc32(&crc, 0, t, (size_t)n + 4) != ks_be32(d + pos + 8 + n))
			return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: chunk CRC mismatch");
		if (memcmp(t, "IHDR", 4) == 0)
			return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: second IHDR");
		f->end = 0;
		if (memcmp(t, "IDAT", 4) == 0)
			idat = 1;
		pos += 12 + (size_t)n;
		if (memcmp(t, "IEND", 4) == 0) {
			if (!idat)
				return ks_verdict(f, KS_VALID_BAD, "IEND without image data");
			if (pos < len && !ks_media_all_zero(d, pos, len))
				f->why = "data after IEND";
			f->end = pos;
			return KS_VALID_OK;
		}
	}
}

/* ---------------------------------------------------------------- GIF */

int ks_media_sniff_gif(const uint8_t *d, size_t len, uint64_t size)
{
	return (ks_has(d, len, 0, "GIF87a", 6) || ks_has(d, len, 0, "GIF89a", 6)) ? KS_SNIFF_STRONG
										  : KS_SNIFF_NO;
}

/* Skips a chain of data sub-blocks; returns 0 at the terminator, -1 at the end. */
static int gif_skip_blocks(const uint8_t *d, size_t len, size_t *pos)
{
	size_t p = *pos;
	for (;;) {
		if (p >= len)
			return -1;
		uint8_t n = d[p++];
		if (n == 0)
			break;
		p += n;
	}
	*pos = p;
	return 0;
}

enum ks_valid ks_media_check_gif(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_media_sniff_gif(d, len, len))
		return ks_verdict(f, KS_VALID_BAD, "no GIF signature");
	if (len < 13)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the screen descriptor");
	f->width = ks_le16(d + 6);
	f->height = ks_le16(d + 8);
	size_t pos = 13;
	if (d[10] & 0x80)
		pos += 3u << ((d[10] & 7) + 1);
	int images = 0;
	for (;;) {
		/* Cut before any image starts, there is no picture to speak of, and a
		 * random tail behind "GIF89a" cannot be told from it. */
		f->end = 0; /* (ran out of data) */
		if (pos >= len)
			return images || f->size > len
				   ? ks_verdict(f, KS_VALID_TRUNCATED, "no trailer")
				   : ks_verdict(f, KS_VALID_BAD, "ends before any image");
		uint8_t b = d[pos];
		f->end = pos; /* a damaged block starts here */
		if (b == 0x3B) {
			if (!images)
				return ks_verdict(f, KS_VALID_BAD, "trailer before any image");
			if (pos + 1 < len && !ks_media_all_zero(d, pos + 1, len))
				f->why = "data after trailer";
			f->end = pos + 1;
			return KS_VALID_OK;
		}
		if (b == 0x21) {
			if (pos + 2 >= len) {
				pos = len;
				continue;
			}
			uint8_t label = d[pos + 1], first = d[pos + 2];
			int ok = (label == 0xF9 && first == 4) || (label == 0xFF && first == 11) ||
				 (label == 0x01 && first == 12) || label == 0xFE;
			if (!ok)
				return images ? ks_verdict(f, KS_VALID_TRUNCATED,
							   "damaged: bad extension")
					      : ks_verdict(f, KS_VALID_BAD, "bad extension block");
			pos += 2;
		} else if (b == 0x2C) {
			if (!ks_fits(pos, 11, len)) {
				pos = len;
				continue;
			}
			const uint8_t *id = d + pos + 1;
			uint16_t iw = ks_le16(id + 4), ih = ks_le16(id + 6);
			if (iw == 0 || ih == 0)
				return images
					   ? ks_verdict(f, KS_VALID_TRUNCATED,
							"damaged: empty frame")
					   : ks_verdict(f, KS_VALID_BAD, "empty image descriptor");
			pos += 10;
			if (id[8] & 0x80)
				pos += 3u << ((id[8] & 7) + 1);
			if (pos >= len)
				continue;
			if (d[pos] < 1 || d[pos] > 11)
				return images ? ks_verdict(f, KS_VALID_TRUNCATED,
							   "damaged: bad LZW code size")
					      : ks_verdict(f, KS_VALID_BAD, "bad LZW code size");
			pos++;
			images++;
			if (f->width == 0 || f->height == 0) {
				f->width = iw;
				f->height = ih;
			}
		} else {
			return images ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged: unknown block")
				      : ks_verdict(f, KS_VALID_BAD, "unknown block type");
		}
		if (gif_skip_blocks(d, len, &pos) < 0)
			pos = len;
	}
}

/* ---------------------------------------------------------------- BMP */

static int bmp_header_ok(const uint8_t *d, size_t len)
{
	if (len < 18 || d[0] != 'B' || d[1] != 'M')
		return 0;
	uint32_t dib = ks_le32(d + 14);
	return dib == 12 || dib == 16 || dib == 40 || dib == 52 || dib == 56 || dib == 64 ||
	       dib == 108 || dib == 124;
}

int ks_media_sniff_bmp(const uint8_t *d, size_t len, uint64_t size)
{
	if (!bmp_header_ok(d, len) || ks_le16(d + 6) != 0 || ks_le16(d + 8) != 0)
		return KS_SNIFF_NO;
	return KS_SNIFF_STRONG;
}

enum ks_valid ks_media_check_bmp(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (len < 2 || d[0] != 'B' || d[1] != 'M')
		return ks_verdict(f, KS_VALID_BAD, "no BM");
	if (len < 18)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the file header");
	if (!bmp_header_ok(d, len))
		return ks_verdict(f, KS_VALID_BAD, "bad DIB header size");
	uint32_t dib = ks_le32(d + 14);
	if (!ks_fits(14, dib, len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the DIB header");
	uint32_t declared = ks_le32(d + 2), off = ks_le32(d + 10);
	int64_t w, h;
	uint16_t planes, bpp;
	uint32_t comp = 0, imgsize = 0;
	if (dib == 12) {
		w = ks_le16(d + 18);
		h = ks_le16(d + 20);
		planes = ks_le16(d + 22);
		bpp = ks_le16(d + 24);
	} else {
		w = (int32_t)ks_le32(d + 18);
		h = (int32_t)ks_le32(d + 22);
		planes = ks_le16(d + 26);
		bpp = ks_le16(d + 28);
		if (dib >= 40) {
			comp = ks_le32(d + 30);
			imgsize = ks_le32(d + 34);
		}
	}
	if (h < 0)
		h = -h; /* top-down */
	if (planes != 1)
		return ks_verdict(f, KS_VALID_BAD, "planes is not 1");
	if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
		return ks_verdict(f, KS_VALID_BAD, "bad bits per pixel");
	if (w <= 0 || h <= 0 || w > 1000000 || h > 1000000 ||
	    (uint64_t)w * (uint64_t)h > (1ull << 34))
		return ks_verdict(f, KS_VALID_BAD, "bad dimensions");
	if (comp > 6 && !(comp >= 11 && comp <= 13))
		return ks_verdict(f, KS_VALID_BAD, "bad compression");
	if (off < 14 + dib || (declared && off > declared))
		return ks_verdict(f, KS_VALID_BAD, "pixel offset outside the file");
	f->width = (uint32_t)w;
	f->height = (uint32_t)h;
	uint64_t need;
	if (comp == 0 || comp == 3 || comp == 6)
		need = (uint64_t)off + ((uint64_t)w * bpp + 31) / 32 * 4 * (uint64_t)h;
	else
		need = (uint64_t)off + (imgsize ? imgsize : 1);
	/* Carving: a declared size far beyond what the pixels need is not believed. */
	if (f->measure && declared > need && declared - need > need / 2 + 65536) {
		f->why = "declared size ignored";
		declared = 0;
	}
	if (len < need)
		return ks_verdict(f, KS_VALID_TRUNCATED, "pixel data runs past the end");
	if (declared && len < declared)
		return ks_verdict(f, KS_VALID_TRUNCATED, "shorter than its declared size");
	f->end = declared > need ? declared : need;
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- WebP */

int ks_media_sniff_webp(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, "RIFF", 4) && ks_has(d, len, 8, "WEBP", 4) ? KS_SNIFF_STRONG
									    : KS_SNIFF_NO;
}

/* Dimensions from the first image chunk; -1 if it is not one or is malformed. */
static int webp_dims(const uint8_t *t, const uint8_t *p, uint32_t n, struct ks_media_facts *f)
{
	if (memcmp(t, "VP8 ", 4) == 0) {
		if (n < 10 || p[3] != 0x9D || p[4] != 0x01 || p[5] != 0x2A || (p[0] & 1))
			return -1;
		f->width = ks_le16(p + 6) & 0x3FFF;
		f->height = ks_le16(p + 8) & 0x3FFF;
	} else if (memcmp(t, "VP8L", 4) == 0) {
		if (n < 5 || p[0] != 0x2F)
			return -1;
		uint32_t v = ks_le32(p + 1);
		if (v >> 29)
			return -1; /* version must be 0 */
		f->width = (v & 0x3FFF) + 1;
		f->height = ((v >> 14) & 0x3FFF) + 1;
	} else if (memcmp(t, "VP8X", 4) == 0) {
		if (n < 10)
			return -1;
		f->width = ks_le24(p + 4) + 1;
		f->height = ks_le24(p + 7) + 1;
	} else {
		return -1;
	}
	return (f->width && f->height) ? 0 : -1;
}

enum ks_valid ks_media_check_webp(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_media_sniff_webp(d, len, len))
		return ks_verdict(f, KS_VALID_BAD, "no RIFF/WEBP header");
	uint64_t end = 8 + (uint64_t)ks_le32(d + 4);
	if (end < 20)
		return ks_verdict(f, KS_VALID_BAD, "RIFF size too small");
	int truncated = end > len;
	size_t lim = truncated ? len : (size_t)end;
	size_t pos = 12;
	int first = 1;
	while (pos < lim) {
		if (!ks_fits(pos, 8, lim))
			return truncated
				   ? ks_verdict(f, KS_VALID_TRUNCATED, "ends inside a chunk header")
				   : ks_verdict(f, KS_VALID_BAD,
						"partial chunk at the end of RIFF");
		const uint8_t *t = d + pos;
		uint32_t n = ks_le32(d + pos + 4);
		if (!ks_fourcc_ok(t))
			return first ? ks_verdict(f, KS_VALID_BAD, "bad chunk id")
				     : ks_verdict(f, KS_VALID_TRUNCATED, "damaged chunk id");
		if (first) {
			size_t avail = len - pos - 8 < n ? len - pos - 8 : n;
			if (webp_dims(t, d + pos + 8, (uint32_t)avail, f) < 0)
				return ks_verdict(f, KS_VALID_BAD,
						  "first chunk is not VP8/VP8L/VP8X");
			first = 0;
		}
		uint64_t next = (uint64_t)pos + 8 + n + (n & 1);
		if (next > lim) {
			if (truncated)
				return ks_verdict(f, KS_VALID_TRUNCATED, "chunk runs past the end");
			/* The last chunk's pad byte may be missing. */
			if (next == lim + 1 && (n & 1))
				break;
			return ks_verdict(f, KS_VALID_BAD, "chunk runs past the RIFF end");
		}
		pos = (size_t)next;
	}
	if (first)
		return truncated ? ks_verdict(f, KS_VALID_TRUNCATED, "no image chunk")
				 : ks_verdict(f, KS_VALID_BAD, "no image chunk");
	if (truncated)
		return ks_verdict(f, KS_VALID_TRUNCATED, "shorter than its RIFF size");
	if (end < len && !ks_media_all_zero(d, (size_t)end, len))
		f->why = "data after RIFF";
	f->end = end;
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- TIFF */

struct tiff {
	const uint8_t *d;
	size_t len;
	int le, big; /* little-endian, BigTIFF */
};

static uint16_t t16(const struct tiff *t, const uint8_t *p)
{
	return t->le ? ks_le16(p) : ks_be16(p);
}
static uint32_t t32(const struct tiff *t, const uint8_t *p)
{
	return t->le ? ks_le32(p) : ks_be32(p);
}
static uint64_t t64(const struct tiff *t, const uint8_t *p)
{
	return t->le ? ks_le64(p) : ks_be64(p);
}

int ks_media_sniff_tiff(const uint8_t *d, size_t len, uint64_t size)
{
	if (ks_has(d, len, 0, "II*\0", 4) || ks_has(d, len, 0, "MM\0*", 4))
		return KS_SNIFF_STRONG;
	if (ks_has(d, len, 0, "II+\0\x08\0\0\0", 8) || ks_has(d, len, 0, "MM\0+\0\x08\0\0", 8))
		return KS_SNIFF_STRONG; /* BigTIFF */
	return KS_SNIFF_NO;
}

static int tiff_type_size(uint16_t type)
{
	static const uint8_t sz[19] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8};
	return type < 19 ? sz[type] : 0;
}

/* Value i of an entry (SHORT, LONG or LONG8) whose values live at p; 0 if unsupported. */
static uint64_t tiff_value(const struct tiff *t, uint16_t type, const uint8_t *p, uint64_t i)
{
	switch (type) {
	case 3:
		return t16(t, p + 2 * i);
	case 4:
	case 13:
		return t32(t, p + 4 * i);
	case 16:
	case 18:
		return t64(t, p + 8 * i);
	}
	return 0;
}

/* Where an entry's values are (inline or at an offset), or NULL if outside the file. */
static const uint8_t *tiff_values(const struct tiff *t, const uint8_t *e, uint16_t type,
				  uint64_t count)
{
	size_t inl = t->big ? 8 : 4;
	const uint8_t *v = e + (t->big ? 12 : 8);
	uint64_t bytes = count * (uint64_t)tiff_type_size(type);
	if (count > (1u << 28))
		return NULL;
	if (bytes <= inl)
		return v;
	uint64_t off = t->big ? t64(t, v) : t32(t, v);
	return ks_fits(off, bytes, t->len) ? t->d + off : NULL;
}

enum ks_valid ks_media_check_tiff(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	struct tiff t = {d, len, 0, 0};
	if (!ks_media_sniff_tiff(d, len, len))
		return ks_verdict(f, KS_VALID_BAD, "no TIFF header");
	t.le = d[0] == 'I';
	t.big = t16(&t, d + 2) == 43;
	size_t hdr = t.big ? 16 : 8;
	if (len < hdr)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header");
	uint64_t ifd = t.big ? t64(&t, d + 8) : t32(&t, d + 4);
	if (ifd < hdr || (ifd & 1))
		return ks_verdict(f, KS_VALID_BAD, "bad first IFD offset");
	size_t cnt_sz = t.big ? 8 : 2, ent_sz = t.big ? 20 : 12;
	/* An IFD beyond the data is in the part not held (when the caller holds only the
	 * head), or lost to a cut; but not beyond the item, and not so far beyond a cut
	 * file's end that no cut explains it (random bytes behind "II*\0" give offsets
	 * anywhere up to 4 GiB). */
	if (!ks_fits(ifd, cnt_sz, len)) {
		if (f->size > len ? ifd >= f->size : ifd / 16 > len + 65536)
			return ks_verdict(f, KS_VALID_BAD, "first IFD offset implausible");
		return ks_verdict(f, KS_VALID_TRUNCATED, "first IFD beyond the end");
	}
	uint64_t n = t.big ? t64(&t, d + ifd) : t16(&t, d + ifd);
	if (n == 0 || n > 4096)
		return ks_verdict(f, KS_VALID_BAD, "bad IFD entry count");
	if (!ks_fits(ifd + cnt_sz, n * ent_sz, len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "IFD runs past the end");

	uint64_t width = 0, height = 0, data_end = 0;
	const uint8_t *offs = NULL, *cnts = NULL;
	uint16_t offs_t = 0, cnts_t = 0;
	uint64_t offs_n = 0, cnts_n = 0;
	int bad_types = 0, outside = 0;
	/* How far the first IFD and the values it points at reach (for carving). */
	uint64_t extent = ifd + cnt_sz + n * ent_sz + (t.big ? 8 : 4);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *e = d + ifd + cnt_sz + i * ent_sz;
		uint16_t tag = t16(&t, e), type = t16(&t, e + 2);
		uint64_t count = t.big ? t64(&t, e + 4) : t32(&t, e + 4);
		if (tiff_type_size(type) == 0) {
			bad_types++;
			continue;
		}
		const uint8_t *vv = tiff_values(&t, e, type, count);
		if (vv) {
			uint64_t ve = (uint64_t)(vv - d) + count * (uint64_t)tiff_type_size(type);
			if (ve > extent)
				extent = ve;
		}
		if (tag != 256 && tag != 257 && tag != 273 && tag != 279 && tag != 324 &&
		    tag != 325)
			continue;
		const uint8_t *v = tiff_values(&t, e, type, count);
		if (!v)
			outside = 1;
		if (!v || count == 0)
			continue;
		if (tag == 256)
			width = tiff_value(&t, type, v, 0);
		else if (tag == 257)
			height = tiff_value(&t, type, v, 0);
		else if (tag == 273 || tag == 324)
			offs = v, offs_t = type, offs_n = count;
		else
			cnts = v, cnts_t = type, cnts_n = count;
	}
	/* Random bytes after a TIFF header give entries of impossible types. */
	if (bad_types * 4 > (int)n)
		return ks_verdict(f, KS_VALID_BAD, "IFD entries of unknown types");
	if (width == 0 || height == 0 || width > 0xffffffffu || height > 0xffffffffu)
		return ks_verdict(f, KS_VALID_BAD, "no ImageWidth/ImageLength");
	f->width = (uint32_t)width;
	f->height = (uint32_t)height;
	if (offs && cnts && offs_n == cnts_n) {
		for (uint64_t i = 0; i < offs_n; i++) {
			uint64_t e =
			    tiff_value(&t, offs_t, offs, i) + tiff_value(&t, cnts_t, cnts, i);
			if (e > data_end)
				data_end = e;
		}
		if (data_end > len)
			return ks_verdict(f, KS_VALID_TRUNCATED, "image data runs past the end");
	} else if (outside) {
		return ks_verdict(f, KS_VALID_TRUNCATED, "tag values beyond the end");
	} else if (!offs) {
		f->why = "no strip or tile offsets";
	}
	if (data_end > extent)
		extent = data_end;
	f->end = extent < len ? extent : len;
	return KS_VALID_OK;
}
