/* TIFF decoder over libtiff (read from memory, per-handle error reports, allocation
 * cap): the first image of the file, strips or tiles, chunky or planar, grey (min-is-
 * black or min-is-white), RGB, palette, CMYK and JPEG-compressed YCbCr, 1 to 16 bits
 * per sample. Extra samples (alpha) are dropped; orientation is not applied; samples
 * become 8 bits as ImageMagick's `convert FILE pnm:-` gives them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <tiffio.h>

#include "decode_impl.h"

struct mem {
	const uint8_t *data;
	size_t len, pos;
	struct ks_err *err;
	char msg[256];
};

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
	struct mem *m = h;
	if (n < 0)
		return -1;
	size_t left = m->len - m->pos, k = (size_t)n < left ? (size_t)n : left;
	memcpy(buf, m->data + m->pos, k);
	m->pos += k;
	return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
	(void)h;
	(void)buf;
	(void)n;
	return -1; /* evidence is read-only */
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
	struct mem *m = h;
	uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;
	uint64_t to = base + off;
	if (to > m->len)
		to = m->len;
	m->pos = (size_t)to;
	return (toff_t)to;
}

static int mem_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t mem_size(thandle_t h)
{
	return ((struct mem *)h)->len;
}

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	struct mem *m = user;
	(void)tif;
	(void)module;
	if (!m->msg[0])
		vsnprintf(m->msg, sizeof m->msg, fmt, ap);
	return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)user;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

static int tiff_probe(const uint8_t *p, size_t n)
{
	if (n < 4)
		return 0;
	return (p[0] == 'I' && p[1] == 'I' && (p[2] == 42 || p[2] == 43) && p[3] == 0) ||
	       (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && (p[3] == 42 || p[3] == 43));
}

static int tiff_fail(struct mem *m, const char *what)
{
	return ks_err_set(m->err, KS_E_EVIDENCE, "tiff: %s%s%s", what, m->msg[0] ? ": " : "",
			  m->msg);
}

struct layout {
	uint32_t w, h;
	uint16_t bps, spp, photo, planar;
	size_t rowbytes;   /* bytes of one row of one plane (planar) or of all samples */
	size_t planebytes; /* rowbytes * h */
	int planes;
};

/* Reads the whole first image into frame (plane after plane when planar). */
static int read_frame(TIFF *tif, struct mem *m, const struct layout *L, uint8_t *frame,
		      struct ks_decoder *d)
{
	if (TIFFIsTiled(tif)) {
		uint32_t tw = 0, th = 0;
		TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
		TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
		tmsize_t tsize = TIFFTileSize(tif);
		size_t pxbytes = (size_t)(L->planes > 1 ? 1 : L->spp) * L->bps / 8;
		if (!tw || !th || tsize <= 0 || L->bps % 8 != 0 ||
		    (uint64_t)tsize < (uint64_t)tw * th * pxbytes)
			return ks_err_set(m->err, KS_E_UNSUPPORTED, "tiff: tile layout %ux%u", tw,
					  th);
		uint8_t *tile = ks_decode_grow(&d->row, (size_t)tsize);
		for (int s = 0; s < L->planes; s++)
			for (uint32_t y = 0; y < L->h; y += th)
				for (uint32_t x = 0; x < L->w; x += tw) {
					uint32_t t = TIFFComputeTile(tif, x, y, 0, (uint16_t)s);
					if (TIFFReadEncodedTile(tif, t, tile, tsize) < 0)
						return tiff_fail(m, "cannot read a tile");
					uint32_t cw = L->w - x < tw ? L->w - x : tw;
					uint32_t ch = L->h - y < th ? L->h - y : th;
					for (uint32_t r = 0; r < ch; r++)
						memcpy(frame + (size_t)s * L->planebytes +
							   (size_t)(y + r) * L->rowbytes +
							   (size_t)x * pxbytes,
						       tile + (size_t)r * tw * pxbytes,
						       (size_t)cw * pxbytes);
				}
		return 0;
	}
	uint32_t rps = 0;
	if (!TIFFGetField(tif, TIFFTAG_ROWSPERSTRIP, &rps) || rps == 0 || rps > L->h)
		rps = L->h;
	uint32_t per_plane = (L->h + rps - 1) / rps;
	for (int s = 0; s < L->planes; s++)
		for (uint32_t k = 0; k < per_plane; k++) {
			uint32_t y = k * rps, rows = L->h - y < rps ? L->h - y : rps;
			uint8_t *dst = frame + (size_t)s * L->planebytes + (size_t)y * L->rowbytes;
			tmsize_t want = (tmsize_t)((size_t)rows * L->rowbytes);
			tstrip_t strip = (tstrip_t)(s * per_plane + k);
			if (TIFFReadEncodedStrip(tif, strip, dst, want) < 0)
				return tiff_fail(m, "cannot read a strip");
		}
	return 0;
}

/* Sample s of pixel x in row y, as an unsigned value of L->bps bits. */
static inline uint32_t sample(const struct layout *L, const uint8_t *frame, uint32_t y, uint32_t x,
			      int s)
{
	const uint8_t *row;
	size_t idx;
	if (L->planes > 1) {
		row = frame + (size_t)s * L->planebytes + (size_t)y * L->rowbytes;
		idx = x;
	} else {
		row = frame + (size_t)y * L->rowbytes;
		idx = (size_t)x * L->spp + (size_t)s;
	}
	switch (L->bps) {
	case 8:
		return row[idx];
	case 16: {
		uint16_t v;
		memcpy(&v, row + 2 * idx, 2); /* libtiff gives native byte order */
		return v;
	}
	default: {
		size_t bit = idx * L->bps;
		return (row[bit / 8] >> (8 - L->bps - bit % 8)) & ((1u << L->bps) - 1);
	}
	}
}

static inline uint8_t scale16(uint32_t q)
{
	return (uint8_t)(((q + 128u) - ((q + 128u) >> 8)) >> 8);
}

/* A bps-bit sample as the 8-bit value ImageMagick would write at depth 8 (or, with
 * low16, the low byte CImg keeps of a 16-bit one). Depths under 8 are widened to 0..255
 * here; the PNM range quirk is applied by the consumer from info.depth. */
static inline uint8_t to8(uint32_t v, int bps, int low16)
{
	if (bps == 8)
		return (uint8_t)v;
	if (bps == 16)
		return low16 ? (uint8_t)(v & 0xff) : scale16(v);
	return (uint8_t)(v * 255 / ((1u << bps) - 1));
}

/* ImageMagick's CMYK to RGB on 16-bit quanta, in double as it does:
 * R = QR - (QuantumScale * C * (QR - K) + K), rounded, then the 8-bit value. */
static uint8_t cmyk_channel(uint32_t c, uint32_t k, int bps, int low16)
{
	double qc = bps == 8 ? c * 257.0 : (double)c, qk = bps == 8 ? k * 257.0 : (double)k;
	double r = 65535.0 - ((1.0 / 65535.0) * qc * (65535.0 - qk) + qk);
	uint32_t q = r <= 0 ? 0 : r >= 65535.0 ? 65535 : (uint32_t)(r + 0.5);
	return bps == 16 && low16 ? (uint8_t)(q & 0xff) : scale16(q);
}

static int tiff_run(TIFF *tif, struct mem *m, struct ks_decoder *d,
		    const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink)
{
	struct ks_err *err = m->err;
	struct layout L = {0};
	uint16_t comp = 1, sfmt = SAMPLEFORMAT_UINT, inkset = INKSET_CMYK;
	uint16_t *rmap = NULL, *gmap = NULL, *bmap = NULL;
	int rc;

	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &L.w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &L.h);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &L.bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &L.spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &L.planar);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &sfmt);
	if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &L.photo))
		L.photo = L.spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;

	if (L.photo == PHOTOMETRIC_YCBCR && comp == COMPRESSION_JPEG) {
		TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
		L.photo = PHOTOMETRIC_RGB;
	}
	int need;
	switch (L.photo) {
	case PHOTOMETRIC_MINISBLACK:
	case PHOTOMETRIC_MINISWHITE:
	case PHOTOMETRIC_PALETTE:
		need = 1;
		break;
	case PHOTOMETRIC_RGB:
		need = 3;
		break;
	case PHOTOMETRIC_SEPARATED:
		TIFFGetFieldDefaulted(tif, TIFFTAG_INKSET, &inkset);
		need = inkset == INKSET_CMYK ? 4 : 0;
		break;
	default:
		need = 0;
		break;
	}
	if (!need || L.spp < need)
		return ks_err_set(err, KS_E_UNSUPPORTED, "tiff: photometric %u with %u samples",
				  L.photo, L.spp);
	if (sfmt != SAMPLEFORMAT_UINT && sfmt != SAMPLEFORMAT_VOID)
		return ks_err_set(err, KS_E_UNSUPPORTED, "tiff: sample format %u", sfmt);
	if (!(L.bps == 1 || L.bps == 2 || L.bps == 4 || L.bps == 8 || L.bps == 16))
		return ks_err_set(err, KS_E_UNSUPPORTED, "tiff: %u bits per sample", L.bps);
	if (L.photo == PHOTOMETRIC_SEPARATED && L.bps != 8 && L.bps != 16)
		return ks_err_set(err, KS_E_UNSUPPORTED, "tiff: CMYK with %u bits per sample",
				  L.bps);
	if (L.photo == PHOTOMETRIC_PALETTE &&
	    (L.bps > 8 || !TIFFGetField(tif, TIFFTAG_COLORMAP, &rmap, &gmap, &bmap)))
		return ks_err_set(err, KS_E_EVIDENCE,
				  "tiff: palette picture without a usable colour map");

	L.planes = L.planar == PLANARCONFIG_SEPARATE && L.spp > 1 ? L.spp : 1;
	L.rowbytes =
	    L.planes > 1 ? ((size_t)L.w * L.bps + 7) / 8 : ((size_t)L.w * L.spp * L.bps + 7) / 8;
	L.planebytes = L.rowbytes * L.h;
	uint64_t frame_bytes = (uint64_t)L.planebytes * (uint64_t)L.planes;
	rc = ks_decode_check(opts, "tiff", L.w, L.h, frame_bytes + (uint64_t)L.w * 3, err);
	if (rc)
		return rc;
	if (comp == COMPRESSION_NONE && frame_bytes > m->len)
		return ks_err_set(err, KS_E_EVIDENCE,
				  "tiff: %ux%u needs %llu bytes, the file has %zu", L.w, L.h,
				  (unsigned long long)frame_bytes, m->len);
	if (frame_bytes > (64ull << 20) && frame_bytes / 4096 > m->len)
		return ks_err_set(err, KS_E_EVIDENCE, "tiff: %ux%u picture on only %zu bytes", L.w,
				  L.h, m->len);

	uint8_t *frame = ks_decode_grow(&d->work, (size_t)frame_bytes);
	rc = read_frame(tif, m, &L, frame, d);
	if (rc)
		return rc;

	/* ImageMagick reads 8-bit-style colour maps (no entry above 255) as 0..255. */
	uint32_t range = 255;
	int ncolors = L.photo == PHOTOMETRIC_PALETTE ? 1 << L.bps : 0;
	for (int i = 0; i < ncolors; i++)
		if (rmap[i] > 255 || gmap[i] > 255 || bmap[i] > 255)
			range = 65535;

	int grey = L.photo == PHOTOMETRIC_MINISBLACK || L.photo == PHOTOMETRIC_MINISWHITE;
	int low16 = opts && (opts->flags & KS_DECODE_CIMG16);
	struct ks_image_info info = {
	    .format = "tiff",
	    .width = L.w,
	    .height = L.h,
	    .full_width = L.w,
	    .full_height = L.h,
	    .channels = grey ? 1 : 3,
	    .scale_num = 1,
	    .scale_denom = 1,
	    .depth = L.bps < 8 ? L.bps : 8,
	};
	rc = sink->begin(sink->ctx, &info, err);
	if (rc)
		return rc;
	uint8_t *out = ks_decode_grow(&d->row, (size_t)L.w * 3);
	uint32_t maxv = (1u << L.bps) - 1;
	for (uint32_t y = 0; y < L.h; y++) {
		uint8_t *o = out;
		for (uint32_t x = 0; x < L.w; x++) {
			if (grey) {
				uint32_t v = sample(&L, frame, y, x, 0);
				if (L.photo == PHOTOMETRIC_MINISWHITE)
					v = maxv - v;
				*o++ = to8(v, L.bps, low16);
			} else if (L.photo == PHOTOMETRIC_RGB) {
				for (int c = 0; c < 3; c++)
					*o++ = to8(sample(&L, frame, y, x, c), L.bps, low16);
			} else if (L.photo == PHOTOMETRIC_PALETTE) {
				uint32_t i = sample(&L, frame, y, x, 0);
				const uint16_t *maps[3] = {rmap, gmap, bmap};
				for (int c = 0; c < 3; c++) {
					uint32_t q =
					    (uint32_t)(((uint64_t)maps[c][i] * 65535 + range / 2) /
						       range);
					*o++ = scale16(q);
				}
			} else {
				uint32_t k = sample(&L, frame, y, x, 3);
				for (int c = 0; c < 3; c++)
					*o++ = cmyk_channel(sample(&L, frame, y, x, c), k, L.bps,
							    low16);
			}
		}
		rc = sink->rows(sink->ctx, y, 1, out, (size_t)L.w * info.channels, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int tiff_decode(struct ks_decoder *d, void **slot, const uint8_t *data, size_t len,
		       const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		       struct ks_err *err)
{
	struct mem m = {.data = data, .len = len, .err = err};
	TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
	int rc;

	(void)slot;
	if (!o)
		return ks_err_set(err, KS_E_ENV, "tiff: out of memory");
	TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, &m);
	TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, &m);
	TIFFOpenOptionsSetMaxSingleMemAlloc(o, (tmsize_t)ks_decode_limits_of(opts)->max_mem);
	/* "rm": read-only, and never memory-map (the bytes are already in memory) */
	TIFF *tif = TIFFClientOpenExt("evidence", "rm", &m, mem_read, mem_write, mem_seek,
				      mem_close, mem_size, NULL, NULL, o);
	TIFFOpenOptionsFree(o);
	if (!tif)
		return tiff_fail(&m, "cannot open");
	rc = tiff_run(tif, &m, d, opts, sink);
	TIFFClose(tif);
	return rc;
}

const struct ks_decoder_ops ks_decode_tiff_ops = {
    .name = "tiff",
    .probe = tiff_probe,
    .decode = tiff_decode,
    .state_free = NULL,
};
