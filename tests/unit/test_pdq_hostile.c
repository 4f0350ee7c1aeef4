/* Hostile and broken pictures give a clear error, never a crash or a large allocation:
 * huge declared sizes on a few bytes (PNG, JPEG baseline and progressive, GIF, BMP),
 * truncated JPEG, bad Huffman tables, garbage, caller limits. Pictures are made here
 * (libjpeg's encoder, hand-written headers), so the test needs no shared data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jpeglib.h>

#include "kestrel/decode.h"
#include "kestrel/pdq.h"
#include "ktest.h"

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* PNG signature + IHDR (w x h, 8-bit RGB, interlace as given) + a tiny IDAT. */
static size_t make_png_header(uint8_t *out, uint32_t w, uint32_t h, int interlace)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	size_t n = 0;
	memcpy(out, sig, 8);
	n = 8;
	be32(out + n, 13);
	memcpy(out + n + 4, "IHDR", 4);
	be32(out + n + 8, w);
	be32(out + n + 12, h);
	out[n + 16] = 8; /* depth */
	out[n + 17] = 2; /* RGB */
	out[n + 18] = 0;
	out[n + 19] = 0;
	out[n + 20] = (uint8_t)interlace;
	be32(out + n + 21, crc32_of(out + n + 4, 17));
	n += 25;
	static const uint8_t idat[] = {0x78, 0x9c, 0x63, 0x60, 0x00, 0x00};
	be32(out + n, sizeof idat);
	memcpy(out + n + 4, "IDAT", 4);
	memcpy(out + n + 8, idat, sizeof idat);
	be32(out + n + 8 + sizeof idat, crc32_of(out + n + 4, 4 + sizeof idat));
	n += 12 + sizeof idat;
	return n;
}

/* A real JPEG from libjpeg's encoder: a smooth gradient, w x h. */
static uint8_t *make_jpeg(uint32_t w, uint32_t h, int progressive, size_t *len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *out = NULL;
	unsigned long outlen = 0;
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &outlen);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 85, TRUE);
	if (progressive)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	uint8_t *row = malloc((size_t)w * 3);
	while (c.next_scanline < h) {
		for (uint32_t x = 0; x < w; x++) {
			row[3 * x] = (uint8_t)(x * 255 / w);
			row[3 * x + 1] = (uint8_t)(c.next_scanline * 255 / h);
			row[3 * x + 2] = (uint8_t)((x ^ c.next_scanline) & 0xff);
		}
		JSAMPROW r = row;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	*len = outlen;
	return out;
}

/* Offset of the first marker `m` (FF m) after SOI, or 0. */
static size_t find_marker(const uint8_t *p, size_t n, uint8_t m)
{
	for (size_t i = 2; i + 1 < n; i++)
		if (p[i] == 0xFF && p[i + 1] == m)
			return i;
	return 0;
}

static int hash_rc(struct ks_pdq *p, const uint8_t *data, size_t len, int mode, struct ks_err *err)
{
	struct ks_pdq_result res;
	ks_err_clear(err);
	return ks_pdq_hash_image(p, data, len, mode, KS_PDQ_WANT_DIHEDRAL, &res, err);
}

static void expect_error(struct ks_pdq *p, const char *what, const uint8_t *data, size_t len,
			 const char *needle)
{
	struct ks_err err = {0};
	long before = maxrss_kb();
	for (int mode = KS_PDQ_EXACT; mode <= KS_PDQ_FAST; mode++) {
		int rc = hash_rc(p, data, len, mode, &err);
		printf("%-34s %s -> %d %s\n", what, ks_pdq_mode_name(mode), rc, err.msg);
		CHECK(rc < 0);
		CHECK(err.msg[0] != '\0');
		if (needle && !strstr(err.msg, needle)) {
			fprintf(stderr, "%s: message lacks \"%s\"\n", what, needle);
			CHECK(0);
		}
	}
	long grew = maxrss_kb() - before;
	if (grew > 32 * 1024)
		fprintf(stderr, "%s: peak memory grew by %ld KiB\n", what, grew);
	CHECK(grew <= 32 * 1024);
}

int main(void)
{
	struct ks_pdq *p = ks_pdq_new();
	uint8_t buf[4096];
	size_t n;

	/* Huge PNG headers on a few bytes: refused before any frame allocation. */
	n = make_png_header(buf, 65535, 65535, 0);
	expect_error(p, "png 65535x65535", buf, n, "png");
	n = make_png_header(buf, 10000, 10000, 1);
	expect_error(p, "png 10000x10000 interlaced", buf, n, "more than");
	n = make_png_header(buf, 3000, 2000, 0);
	expect_error(p, "png 3000x2000 on 60 bytes", buf, n, "png");

	/* JPEG: a real picture, then damaged copies of it. */
	size_t jlen = 0, plen = 0;
	uint8_t *jpg = make_jpeg(640, 480, 0, &jlen);
	uint8_t *prog = make_jpeg(320, 240, 1, &plen);
	struct ks_err err = {0};
	CHECK(hash_rc(p, jpg, jlen, KS_PDQ_EXACT, &err) == 0);
	CHECK(hash_rc(p, prog, plen, KS_PDQ_EXACT, &err) == 0);

	expect_error(p, "jpeg truncated at 40%", jpg, jlen * 2 / 5, "truncated");
	expect_error(p, "jpeg truncated in the header", jpg, 100, "jpeg");
	expect_error(p, "progressive jpeg truncated", prog, plen / 2, "truncated");

	uint8_t *bad = malloc(jlen);
	size_t dht = find_marker(jpg, jlen, 0xC4);
	CHECK(dht != 0);
	memcpy(bad, jpg, jlen);
	/* bad Huffman table: counts of code lengths that overflow the code space */
	for (int k = 0; k < 16; k++)
		bad[dht + 5 + k] = 0xFF;
	expect_error(p, "jpeg bad huffman counts", bad, jlen, "jpeg");
	memcpy(bad, jpg, jlen);
	size_t sos = find_marker(jpg, jlen, 0xDA);
	CHECK(sos != 0);
	/* scan refers to a Huffman table that was never defined */
	bad[sos + 6] = 0x33;
	expect_error(p, "jpeg undefined huffman table", bad, jlen, "jpeg");

	/* SOF with a huge size: baseline over the pixel limit, progressive on few bytes */
	size_t sof = find_marker(jpg, jlen, 0xC0);
	CHECK(sof != 0);
	memcpy(bad, jpg, jlen);
	bad[sof + 5] = 0xFF, bad[sof + 6] = 0xFF, bad[sof + 7] = 0xFF, bad[sof + 8] = 0xFF;
	expect_error(p, "jpeg 65535x65535", bad, jlen, "jpeg");
	bad[sof + 5] = 0xEA, bad[sof + 6] = 0x60, bad[sof + 7] = 0xEA, bad[sof + 8] = 0x60;
	expect_error(p, "jpeg 60000x60000", bad, jlen, "over");
	bad[sof + 5] = 0x27, bad[sof + 6] = 0x10, bad[sof + 7] = 0x27, bad[sof + 8] = 0x10;
	expect_error(p, "jpeg 10000x10000 baseline", bad, jlen, "jpeg");
	size_t psof = find_marker(prog, plen, 0xC2);
	CHECK(psof != 0);
	uint8_t *pbad = malloc(plen);
	memcpy(pbad, prog, plen);
	pbad[psof + 5] = 0x27, pbad[psof + 6] = 0x10, pbad[psof + 7] = 0x27, pbad[psof + 8] = 0x10;
	expect_error(p, "progressive jpeg 10000x10000", pbad, plen, "jpeg");

	/* GIF and BMP with huge sizes on a few bytes */
	static const uint8_t gif[] = {'G',  'I',  'F', '8', '9',  'a',	0xFF, 0xFF, 0xFF,
				      0xFF, 0x80, 0,   0,   0,	  0,	0,    255,  255,
				      255,  ',',  0,   0,   0,	  0,	0xFF, 0xFF, 0xFF,
				      0xFF, 0,	  2,   2,   0x4C, 0x01, 0,    ';'};
	expect_error(p, "gif 65535x65535", gif, sizeof gif, "gif");
	uint8_t gif2[sizeof gif];
	memcpy(gif2, gif, sizeof gif);
	gif2[24] = 0x10, gif2[25] = 0x27, gif2[26] = 0x10, gif2[27] = 0x27; /* 10000x10000 */
	expect_error(p, "gif 10000x10000", gif2, sizeof gif2, "gif");
	uint8_t bmp[64] = {'B', 'M'};
	bmp[10] = 54;
	bmp[14] = 40;
	bmp[18] = 0xFF, bmp[19] = 0xFF, bmp[20] = 0, bmp[21] = 0; /* w 65535 */
	bmp[22] = 0xFF, bmp[23] = 0xFF, bmp[24] = 0, bmp[25] = 0; /* h 65535 */
	bmp[26] = 1;
	bmp[28] = 24;
	expect_error(p, "bmp 65535x65535", bmp, sizeof bmp, "bmp");
	bmp[18] = 0x10, bmp[19] = 0x27, bmp[22] = 0x10, bmp[23] = 0x27; /* 10000x10000 */
	expect_error(p, "bmp 10000x10000", bmp, sizeof bmp, "truncated");
	bmp[18] = 0xFF, bmp[19] = 0xFF, bmp[22] = 0xFF, bmp[23] = 0xFF;
	bmp[30] = 1; /* RLE8 */
	bmp[28] = 8;
	expect_error(p, "bmp rle 65535x65535", bmp, sizeof bmp, "bmp");
	bmp[18] = 0x10, bmp[19] = 0x27, bmp[22] = 0x10, bmp[23] = 0x27;
	expect_error(p, "bmp rle 10000x10000", bmp, sizeof bmp, "RLE");

	/* Not pictures */
	static const uint8_t junk[] = "this is not a picture at all";
	expect_error(p, "text", junk, sizeof junk, "not a picture");
	expect_error(p, "empty", junk, 0, "not a picture");
	expect_error(p, "jpeg SOI only", (const uint8_t *)"\xFF\xD8\xFF", 3, "jpeg");

	/* Caller limits are honoured */
	struct ks_decode_limits small = {
	    .max_side = 100, .max_pixels = 1000000, .max_mem = 1 << 20};
	ks_pdq_set_limits(p, &small);
	CHECK(hash_rc(p, jpg, jlen, KS_PDQ_EXACT, &err) == KS_E_LIMIT);
	ks_pdq_set_limits(p, NULL);
	CHECK(hash_rc(p, jpg, jlen, KS_PDQ_EXACT, &err) == 0);

	free(bad);
	free(pbad);
	free(jpg);
	free(prog);
	ks_pdq_free(p);
	return ktest_done();
}
