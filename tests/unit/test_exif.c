/* EXIF reader tests: photos made at test time with ImageMagick (built-in images) and
 * tagged with exiftool are read back exactly in JPEG, big-endian TIFF, PNG eXIf, WebP
 * and HEIF; hand-made hostile blocks (IFD loops, counts past the end, zero
 * denominators, truncation at every length) are refused or noted without a crash. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/exif.h"
#include "ktest.h"

static const char *tmp;

static int have(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

#define TAGS                                                                                   \
	"-Make='Kestrel Cams' -Model='KC-1 Mark II' -SerialNumber=SN0042-X "                  \
	"-LensMake=Optika -LensModel='Optika 35mm f/2' -LensSerialNumber=L99 "                 \
	"-Software='TestSoft 1.0' -DateTimeOriginal='2021:07:08 09:10:11' "                    \
	"-OffsetTimeOriginal=-05:30 -GPSLatitude=12.3456 -GPSLatitudeRef=S "                   \
	"-GPSLongitude=98.7654 -GPSLongitudeRef=W -GPSAltitude=123.4 -GPSAltitudeRef#=1 "      \
	"-GPSDateStamp=2021:07:08 -GPSTimeStamp=14:40:11 -Orientation#=6"

static void check_tagged(const char *file, const char *container)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmp, file);
	size_t len = 0;
	unsigned char *data = ktest_read_file(path, &len);
	CHECK(data != NULL);
	if (!data)
		return;
	struct ks_exif x;
	struct ks_err err = {0};
	int rc = ks_exif_parse(data, len, &x, &err);
	if (rc != KS_OK)
		fprintf(stderr, "%s: %s\n", file, err.msg);
	CHECK(rc == KS_OK);
	CHECK_STR(x.container, container);
	CHECK_STR(x.make, "Kestrel Cams");
	CHECK_STR(x.model, "KC-1 Mark II");
	CHECK_STR(x.body_serial, "SN0042-X");
	CHECK_STR(x.lens_make, "Optika");
	CHECK_STR(x.lens_model, "Optika 35mm f/2");
	CHECK_STR(x.lens_serial, "L99");
	CHECK_STR(x.software, "TestSoft 1.0");
	CHECK_STR(x.datetime_original, "2021:07:08 09:10:11");
	CHECK_STR(x.offset_time_original, "-05:30");
	/* 2021-07-08 09:10:11 read as UTC is 1625735411; at -05:30 the instant is 5.5 h later */
	CHECK(x.time_local == 1625735411);
	CHECK(x.has_time_utc && x.time_utc == 1625735411 + 19800);
	CHECK(x.gps_time == 1625755211);
	CHECK(x.has_gps);
	CHECK(fabs(x.gps_lat - -12.3456) < 1e-7);
	CHECK(fabs(x.gps_lon - -98.7654) < 1e-7);
	CHECK(x.has_gps_alt && fabs(x.gps_alt - -123.4) < 1e-7);
	CHECK(x.orientation == 6);
	CHECK(x.tiff_offset + x.tiff_length <= len);
	if (x.warning[0])
		fprintf(stderr, "%s: warning %s\n", file, x.warning);
	CHECK(x.warning[0] == '\0');
	free(data);
}

static void test_made_with_exiftool(void)
{
	const char *im = "convert-im6.q16";
	CHECK(sh("cd %s && %s logo: -resize 320x240 photo.jpg && %s wizard: -resize 64x64 thumb.jpg"
		 " && %s rose: -define tiff:endian=msb -compress none photo.tif && %s rose: photo.png"
		 " && %s rose: photo.webp",
		 tmp, im, im, im, im, im) == 0);
	CHECK(sh("cd %s && exiftool -q -overwrite_original " TAGS
		 " photo.jpg photo.tif photo.png photo.webp",
		 tmp) == 0);
	CHECK(sh("cd %s && exiftool -q -overwrite_original '-ThumbnailImage<=thumb.jpg' photo.jpg",
		 tmp) == 0);
	check_tagged("photo.jpg", "jpeg");
	check_tagged("photo.tif", "tiff");
	check_tagged("photo.png", "png");
	check_tagged("photo.webp", "webp");

	/* The byte order of the TIFF file is big-endian (-endian MSB). */
	char path[512];
	snprintf(path, sizeof path, "%s/photo.tif", tmp);
	size_t len;
	unsigned char *d = ktest_read_file(path, &len);
	struct ks_exif x;
	struct ks_err err = {0};
	CHECK(d && ks_exif_parse(d, len, &x, &err) == KS_OK && x.big_endian == 1);
	free(d);

	/* The embedded thumbnail is exactly the JPEG exiftool was given. */
	size_t tlen = 0, plen = 0;
	snprintf(path, sizeof path, "%s/thumb.jpg", tmp);
	unsigned char *thumb = ktest_read_file(path, &tlen);
	snprintf(path, sizeof path, "%s/photo.jpg", tmp);
	unsigned char *photo = ktest_read_file(path, &plen);
	CHECK(thumb && photo);
	if (thumb && photo) {
		CHECK(ks_exif_parse(photo, plen, &x, &err) == KS_OK);
		CHECK(x.has_thumb && x.thumb_is_jpeg);
		CHECK(x.thumb_length == tlen);
		CHECK(x.thumb_offset + x.thumb_length <= plen &&
		      memcmp(photo + x.thumb_offset, thumb, tlen) == 0);
		/* No EXIF at all: a freshly converted JPEG. */
		unsigned char *plain;
		size_t nlen;
		CHECK(sh("cd %s && %s rose: plain.jpg", tmp, im) == 0);
		snprintf(path, sizeof path, "%s/plain.jpg", tmp);
		plain = ktest_read_file(path, &nlen);
		CHECK(plain && ks_exif_parse(plain, nlen, &x, &err) == KS_E_NOTFOUND);
		free(plain);
	}
	free(thumb);
	free(photo);
}

static void test_heif(void)
{
	if (sh("cd %s && convert-im6.q16 rose: photo.heic 2>/dev/null", tmp) != 0) {
		fprintf(stderr, "ImageMagick cannot write HEIC here: HEIF case skipped\n");
		return;
	}
	CHECK(sh("cd %s && exiftool -q -overwrite_original " TAGS " photo.heic", tmp) == 0);
	check_tagged("photo.heic", "heif");
}

/* ---- hand-made blocks ------------------------------------------------------------ */

struct w {
	uint8_t b[512];
	size_t n;
};
static void put16(struct w *w, size_t at, uint16_t v)
{
	w->b[at] = (uint8_t)(v >> 8);
	w->b[at + 1] = (uint8_t)v;
}
static void put32(struct w *w, size_t at, uint32_t v)
{
	w->b[at] = (uint8_t)(v >> 24);
	w->b[at + 1] = (uint8_t)(v >> 16);
	w->b[at + 2] = (uint8_t)(v >> 8);
	w->b[at + 3] = (uint8_t)v;
}
static void entry(struct w *w, size_t at, uint16_t tag, uint16_t type, uint32_t count, uint32_t v)
{
	put16(w, at, tag);
	put16(w, at + 2, type);
	put32(w, at + 4, count);
	put32(w, at + 8, v);
}

/* Big-endian block: IFD0 @8 {Make "ABC", ExifIFD -> @8 (loop), GPS -> @60}, next IFD
 * -> @8 again (loop). GPS IFD: latitude with a zero denominator. */
static void build_hostile(struct w *w)
{
	memset(w, 0, sizeof *w);
	memcpy(w->b, "MM\0*", 4);
	put32(w, 4, 8);
	put16(w, 8, 3);
	entry(w, 10, 0x010F, 2, 4, 0x41424300); /* "ABC\0" inline */
	entry(w, 22, 0x8769, 4, 1, 8);          /* Exif IFD = IFD0 again */
	entry(w, 34, 0x8825, 4, 1, 60);         /* GPS IFD */
	put32(w, 46, 8);                        /* next IFD = IFD0 again */
	put16(w, 60, 3);
	entry(w, 62, 0x0001, 2, 2, 0x4E000000);  /* 'N' */
	entry(w, 74, 0x0002, 5, 3, 100);         /* rationals at 100 */
	entry(w, 86, 0x0004, 5, 0x40000000, 100); /* count far past the end */
	put32(w, 98, 0);
	put32(w, 100, 51);
	put32(w, 104, 0); /* zero denominator */
	w->n = 128;
}

static void test_hostile(void)
{
	struct w w;
	struct ks_exif x;
	struct ks_err err = {0};
	build_hostile(&w);
	CHECK(ks_exif_parse_tiff(w.b, w.n, &x, &err) == KS_OK);
	CHECK_STR(x.make, "ABC");
	CHECK(!x.has_gps);
	CHECK(x.warning[0] != '\0');

	/* Every truncation of the block and of a JPEG wrapping it: no crash, no read
	 * outside (run under ASan in CI). */
	uint8_t jpg[600];
	size_t jn = 0;
	jpg[jn++] = 0xFF, jpg[jn++] = 0xD8, jpg[jn++] = 0xFF, jpg[jn++] = 0xE1;
	jpg[jn++] = (uint8_t)((w.n + 8) >> 8), jpg[jn++] = (uint8_t)(w.n + 8);
	memcpy(jpg + jn, "Exif\0\0", 6);
	jn += 6;
	memcpy(jpg + jn, w.b, w.n);
	jn += w.n;
	jpg[jn++] = 0xFF, jpg[jn++] = 0xD9;
	CHECK(ks_exif_parse(jpg, jn, &x, &err) == KS_OK && x.tiff_offset == 12);
	for (size_t n = 0; n <= jn; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, jpg, n);
		(void)ks_exif_parse(copy, n, &x, &err);
		free(copy);
	}
	for (size_t n = 0; n <= w.n; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, w.b, n);
		(void)ks_exif_parse_tiff(copy, n, &x, &err);
		free(copy);
	}

	/* Bad byte order, bad magic, IFD0 outside. */
	uint8_t bad[16] = "XX\0*\0\0\0\x08";
	CHECK(ks_exif_parse_tiff(bad, sizeof bad, &x, &err) == KS_E_EVIDENCE);
	uint8_t bad2[16] = "MM\0+\0\0\0\x08";
	CHECK(ks_exif_parse_tiff(bad2, sizeof bad2, &x, &err) == KS_E_EVIDENCE);
	uint8_t bad3[16] = "MM\0*\xff\0\0\x08";
	CHECK(ks_exif_parse_tiff(bad3, sizeof bad3, &x, &err) == KS_E_EVIDENCE);
	CHECK(ks_exif_parse((const uint8_t *)"hello world", 11, &x, &err) == KS_E_UNSUPPORTED);

	/* Thumbnail pointing outside the block is not reported. */
	memset(&w, 0, sizeof w);
	memcpy(w.b, "MM\0*", 4);
	put32(&w, 4, 8);
	put16(&w, 8, 0);
	put32(&w, 10, 14); /* IFD1 at 14 */
	put16(&w, 14, 2);
	entry(&w, 16, 0x0201, 4, 1, 60);
	entry(&w, 28, 0x0202, 4, 1, 1000);
	w.n = 100;
	CHECK(ks_exif_parse_tiff(w.b, w.n, &x, &err) == KS_OK && !x.has_thumb);
	entry(&w, 28, 0x0202, 4, 1, 40);
	CHECK(ks_exif_parse_tiff(w.b, w.n, &x, &err) == KS_OK && x.has_thumb &&
	      x.thumb_offset == 60 && x.thumb_length == 40 && !x.thumb_is_jpeg);
	/* Control bytes in text become '?'; a string without NUL stops at its count. */
	memset(&w, 0, sizeof w);
	memcpy(w.b, "MM\0*", 4);
	put32(&w, 4, 8);
	put16(&w, 8, 2);
	entry(&w, 10, 0x0110, 2, 6, 40);
	entry(&w, 22, 0x0131, 2, 3, 0x58595A41); /* "XYZ" with no NUL, 'A' beyond count */
	memcpy(w.b + 40, "ab\x01" "cd ", 6);
	w.n = 64;
	CHECK(ks_exif_parse_tiff(w.b, w.n, &x, &err) == KS_OK);
	CHECK_STR(x.model, "ab?cd");
	CHECK_STR(x.software, "XYZ");
}

int main(void)
{
	tmp = ktest_tmpdir();
	CHECK(tmp != NULL);
	test_hostile();
	if (!have("exiftool") || !have("convert-im6.q16")) {
		printf("exiftool or convert-im6.q16 missing: photo cases skipped\n");
		if (ktest_fail == 0) {
			ktest_done();
			return 77;
		}
		return ktest_done();
	}
	test_made_with_exiftool();
	test_heif();
	return ktest_done();
}
