/* Tests for the media layer's carving support (media.h: ks_media_measure,
 * ks_media_carve_scan) on benign files made at test time (ImageMagick, cwebp,
 * ffmpeg): each measures to its exact length alone, with random bytes after it, and
 * when followed by a second copy; a cut copy is TRUNCATED; an MP4 measures the same
 * with moov after mdat and before it; a JPEG with an EXIF thumbnail does not end at
 * the thumbnail's FF D9; and the vectorised signature search finds the same
 * candidates as the scalar one, at byte-granular offsets. A missing tool skips its
 * cases with a message. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kestrel/media.h"
#include "ktest.h"

#define IM "/usr/bin/convert-im6.q16"

static const char *tmp;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096], full[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "(cd %s && %s) >/dev/null 2>&1", tmp, cmd);
	return system(full);
}

static uint8_t *load(const char *name, size_t *len)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", tmp, name);
	return ktest_read_file(p, len);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint8_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
}

/* measure(type, d[0..n)) must give want with *end == end_want (or, for TRUNCATED,
 * an end no further than end_want). */
static void expect_measure(const char *what, const char *type, const uint8_t *d, size_t n,
			   enum ks_valid want, uint64_t end_want)
{
	uint64_t end = 0;
	const char *why = NULL;
	enum ks_valid v = ks_media_measure(type, d, n, &end, NULL, NULL, &why);
	int ok = v == want &&
		 (want == KS_VALID_TRUNCATED ? end <= end_want && end > 0 : end == end_want);
	if (!ok)
		fprintf(stderr, "%s (%s): measured %s end %llu, expected %s end %llu (%s)\n", what,
			type, ks_valid_name(v), (unsigned long long)end, ks_valid_name(want),
			(unsigned long long)end_want, why ? why : "");
	CHECK(ok);
}

/* One well-formed file: alone, with garbage after, twice in a row, and cut. */
static void measure_file(const char *name, const char *type)
{
	size_t len = 0;
	uint8_t *d = load(name, &len);
	if (!d) {
		printf("skip: %s (not made)\n", name);
		return;
	}
	printf("%-20s %-8s %8zu bytes\n", name, type, len);
	expect_measure(name, type, d, len, KS_VALID_OK, len);

	size_t extra = 65536;
	uint8_t *b = malloc(2 * len + extra);
	memcpy(b, d, len);
	fill_random(b + len, extra);
	expect_measure("+garbage", type, b, len + extra, KS_VALID_OK, len);
	memset(b + len, 0, extra);
	expect_measure("+zeros", type, b, len + extra, KS_VALID_OK, len);
	/* (An MPEG program stream without an end code goes on into a second copy: a
	 * stream has no length of its own.) */
	memcpy(b + len, d, len);
	if (strcmp(type, "mpeg-ps") != 0)
		expect_measure("twice", type, b, 2 * len, KS_VALID_OK, len);

	/* Cut at 60 %: the end is missing, so never OK; zeros after change nothing. */
	size_t cut = len * 6 / 10;
	uint64_t end = 0;
	enum ks_valid v = ks_media_measure(type, d, cut, &end, NULL, NULL, NULL);
	CHECK(v == KS_VALID_TRUNCATED && end > 0 && end <= cut);
	memcpy(b, d, cut);
	memset(b + cut, 0, extra);
	const char *why = NULL;
	v = ks_media_measure(type, b, cut + extra, &end, NULL, NULL, &why);
	/* Streams without an end marker (FLV, MPEG-PS) end where their packets do, and
	 * raw pixels (BMP) may well be zeros: for them zeros can pass for the rest. */
	int lenient =
	    strcmp(type, "flv") == 0 || strcmp(type, "mpeg-ps") == 0 || strcmp(type, "bmp") == 0;
	/* A TIFF whose IFD is at its end (ImageMagick's layout) cannot be recognised
	 * once the IFD is cut off: then BAD is the honest answer. */
	int tiff = strcmp(type, "tiff") == 0;
	if ((v == KS_VALID_BAD && !tiff) || (v == KS_VALID_OK && !lenient))
		fprintf(stderr, "%s cut + zeros: %s at %llu (%s)\n", name, ks_valid_name(v),
			(unsigned long long)end, why ? why : "");
	CHECK((v != KS_VALID_BAD || tiff) && (v != KS_VALID_OK || lenient));
	fill_random(b + cut, extra);
	v = ks_media_measure(type, b, cut + extra, &end, NULL, NULL, &why);
	if (v == KS_VALID_BAD && !tiff)
		fprintf(stderr, "%s cut + random: BAD (%s)\n", name, why ? why : "");
	CHECK(v != KS_VALID_BAD || tiff);
	free(b);
	free(d);
}

/* ks_media_extent reads through this: a buffer and its length. */
struct mem {
	const uint8_t *d;
	size_t n;
};

static size_t mem_read(void *ctx, uint64_t off, void *buf, size_t n)
{
	const struct mem *m = ctx;
	if (off >= m->n)
		return 0;
	if (n > m->n - off)
		n = m->n - (size_t)off;
	memcpy(buf, m->d + off, n);
	return n;
}

/* The end of a long item from its headers only: whole, with garbage after, cut. */
static void extent(const char *name, const char *type)
{
	size_t len = 0;
	uint8_t *d = load(name, &len);
	if (!d) {
		printf("skip: extent of %s (not made)\n", name);
		return;
	}
	uint8_t *b = malloc(len + 1000);
	memcpy(b, d, len);
	fill_random(b + len, 1000);
	uint64_t end = 0;
	struct mem m = {b, len};
	CHECK(ks_media_extent(type, mem_read, &m, len, &end) == KS_VALID_OK && end == len);
	m.n = len + 1000;
	CHECK(ks_media_extent(type, mem_read, &m, len + 1000, &end) == KS_VALID_OK && end == len);
	m.n = len * 6 / 10;
	CHECK(ks_media_extent(type, mem_read, &m, m.n, &end) == KS_VALID_TRUNCATED && end == m.n);
	CHECK(ks_media_extent("jpeg", mem_read, &m, m.n, &end) == KS_VALID_BAD && end == 0);
	free(b);
	free(d);
}

/* The same type for other names: random bytes behind a magic are BAD. */
static void decoys(void)
{
	uint8_t b[8192];
	static const struct {
		const char *type;
		const char *magic;
		size_t n;
	} m[] = {
	    {"jpeg", "\xFF\xD8\xFF\xE0", 4},
	    {"png", "\x89PNG\r\n\x1a\n", 8},
	    {"gif", "GIF89a", 6},
	    {"mp4",
	     "\0\0\0\x18"
	     "ftypisom",
	     12},
	    {"avi", "RIFF\0\0\1\0AVI ", 12},
	    {"webp", "RIFF\0\0\1\0WEBP", 12},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		for (int round = 0; round < 20; round++) {
			fill_random(b, sizeof b);
			memcpy(b, m[i].magic, m[i].n);
			uint64_t end = 1;
			enum ks_valid v =
			    ks_media_measure(m[i].type, b, sizeof b, &end, NULL, NULL, NULL);
			if (v != KS_VALID_BAD)
				fprintf(stderr, "decoy %s round %d: %s\n", m[i].type, round,
					ks_valid_name(v));
			CHECK(v == KS_VALID_BAD && end == 0);
		}
	}
	uint64_t end = 1;
	CHECK(ks_media_measure("nonesuch", b, sizeof b, &end, NULL, NULL, NULL) == KS_VALID_BAD);
	CHECK(ks_media_measure("jpeg", NULL, 0, &end, NULL, NULL, NULL) == KS_VALID_BAD);
}

/* A JPEG with an EXIF thumbnail: APP1 "Exif" holding a whole small JPEG. The photo
 * ends at its own EOI, not at the thumbnail's. Built by hand (no exiftool needed). */
static void exif_thumbnail(void)
{
	if (run(IM " logo: -resize 200x150 photo.jpg && " IM " rose: -resize 40x30 thumb.jpg")) {
		printf("skip: EXIF thumbnail (ImageMagick failed)\n");
		return;
	}
	size_t pl, tl;
	uint8_t *p = load("photo.jpg", &pl), *t = load("thumb.jpg", &tl);
	if (!p || !t || tl + 64 > 65535) {
		CHECK(0);
		free(p);
		free(t);
		return;
	}
	/* FF D8, APP1 (Exif\0\0 + a minimal big-endian TIFF header + thumbnail), then the
	 * photo's segments after its SOI. */
	size_t app = 2 + 6 + 8 + tl;
	size_t len = 2 + 2 + app + (pl - 2);
	uint8_t *d = malloc(len + 4096), *q = d;
	*q++ = 0xFF, *q++ = 0xD8, *q++ = 0xFF, *q++ = 0xE1;
	*q++ = (uint8_t)(app >> 8), *q++ = (uint8_t)app;
	memcpy(q, "Exif\0\0MM\0*\0\0\0\x08", 14);
	q += 14;
	memcpy(q, t, tl);
	size_t thumb_at = (size_t)(q - d);
	q += tl;
	memcpy(q, p + 2, pl - 2);
	expect_measure("exif photo", "jpeg", d, len, KS_VALID_OK, len);
	fill_random(d + len, 4096);
	expect_measure("exif photo + garbage", "jpeg", d, len + 4096, KS_VALID_OK, len);
	/* The thumbnail alone measures to its own length. */
	expect_measure("thumbnail", "jpeg", d + thumb_at, len - thumb_at, KS_VALID_OK, tl);
	free(d);
	free(p);
	free(t);
}

/* ---- signature search ---- */

struct found {
	size_t pos[64];
	const char *type[64];
	size_t n;
	int skip; /* return the measured end to skip the item */
	const uint8_t *buf;
	size_t len;
};

static size_t on_cand(void *ctx, size_t pos, const struct ks_media_format *fmt)
{
	struct found *f = ctx;
	if (f->n < 64) {
		f->pos[f->n] = pos;
		f->type[f->n] = fmt->name;
	}
	f->n++;
	if (f->skip) {
		uint64_t end = 0;
		if (ks_media_measure(fmt->name, f->buf + pos, f->len - pos, &end, NULL, NULL,
				     NULL) != KS_VALID_BAD)
			return pos + (size_t)end;
	}
	return pos + 1;
}

static void scan_both(const uint8_t *b, size_t len, size_t from, size_t to, int skip,
		      struct found *vec, struct found *sca)
{
	memset(vec, 0, sizeof *vec);
	memset(sca, 0, sizeof *sca);
	vec->skip = sca->skip = skip;
	vec->buf = sca->buf = b;
	vec->len = sca->len = len;
	ks_media_carve_scan(b, len, from, to, len, on_cand, vec);
	ks_media_carve_force_scalar(1);
	ks_media_carve_scan(b, len, from, to, len, on_cand, sca);
	ks_media_carve_force_scalar(0);
	int same = vec->n == sca->n;
	for (size_t i = 0; same && i < vec->n && i < 64; i++)
		same = vec->pos[i] == sca->pos[i] && strcmp(vec->type[i], sca->type[i]) == 0;
	if (!same)
		fprintf(stderr, "vectorised search found %zu, scalar %zu\n", vec->n, sca->n);
	CHECK(same);
}

static void search(void)
{
	printf("signature search: %s\n", ks_media_carve_impl());
	const char *names[] = {"s.jpg", "s.png", "s.gif", "s.bmp", "s.webp", "s.tif", "s.mp4"};
	const char *types[] = {"jpeg", "png", "gif", "bmp", "webp", "tiff", "mp4"};
	uint8_t *files[7] = {0};
	size_t lens[7] = {0};
	if (run(IM " rose: s.jpg && " IM " rose: s.png && " IM " rose: s.gif && " IM
		   " rose: BMP3:s.bmp && " IM " rose: s.tif") == 0) {
		for (int i = 0; i < 4; i++)
			files[i] = load(names[i], &lens[i]);
		files[5] = load(names[5], &lens[5]);
	}
	if (run(IM " rose: s_src.png && cwebp -quiet s_src.png -o s.webp") == 0)
		files[4] = load(names[4], &lens[4]);
	if (run("ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc=duration=1:size=64x48:"
		"rate=5 -c:v mpeg4 s.mp4") == 0)
		files[6] = load(names[6], &lens[6]);

	/* Random bytes with each file planted at an odd, unaligned offset. */
	size_t cap = 1 << 20, len = 0;
	for (int i = 0; i < 7; i++)
		cap += lens[i] + 4096;
	uint8_t *b = malloc(cap);
	fill_random(b, cap);
	size_t at[7];
	len = 1000 + 37;
	for (int i = 0; i < 7; i++) {
		at[i] = SIZE_MAX;
		if (!files[i])
			continue;
		at[i] = len;
		memcpy(b + len, files[i], lens[i]);
		len += lens[i] + 3001 + (size_t)i * 17;
	}
	len += 5000;
	struct found vec, sca;
	scan_both(b, len, 0, len, 1, &vec, &sca);
	for (int i = 0; i < 7; i++) {
		if (at[i] == SIZE_MAX) {
			printf("skip: %s in the search (not made)\n", names[i]);
			continue;
		}
		int hit = 0;
		for (size_t k = 0; k < vec.n && k < 64; k++)
			hit |= vec.pos[k] == at[i] && strcmp(vec.type[k], types[i]) == 0;
		if (!hit)
			fprintf(stderr, "%s at %zu not found by the search\n", names[i], at[i]);
		CHECK(hit);
	}
	/* Every position of from/to is honoured: a window that starts one byte after a
	 * file's start does not report it, one that ends at it does not either. */
	if (at[0] != SIZE_MAX) {
		scan_both(b, len, at[0] + 1, at[0] + 100, 0, &vec, &sca);
		for (size_t k = 0; k < vec.n && k < 64; k++)
			CHECK(vec.pos[k] != at[0]);
		scan_both(b, len, at[0] - 50, at[0], 0, &vec, &sca);
		for (size_t k = 0; k < vec.n && k < 64; k++)
			CHECK(vec.pos[k] != at[0]);
		scan_both(b, len, at[0], at[0] + 1, 0, &vec, &sca);
		CHECK(vec.n == 1 && vec.pos[0] == at[0]);
	}
	/* Planted magics at every alignment 0..40 in zeros: vectorised == scalar. */
	memset(b, 0, 8192);
	for (size_t k = 0; k < 40; k++) {
		memset(b, 0, 8192);
		memcpy(b + 100 + k,
		       "\0\0\0\x18"
		       "ftypisom\0\0\0\0",
		       16);
		memcpy(b + 3000 + k, "GIF89a", 6);
		scan_both(b, 8192, 0, 8192, 0, &vec, &sca);
	}
	/* A stop request ends the scan at that position. */
	free(b);
	for (int i = 0; i < 7; i++)
		free(files[i]);
}

int main(void)
{
	tmp = ktest_tmpdir();
	int im = access(IM, X_OK) == 0;
	if (im &&
	    run(IM " logo: logo.jpg && " IM " wizard: -interlace Plane prog.jpg && " IM
		   " logo: logo.png && " IM " logo: logo.gif && " IM " rose: BMP3:rose3.bmp && " IM
		   " rose: rose.bmp && " IM " rose: rose.tif") == 0) {
		measure_file("logo.jpg", "jpeg");
		measure_file("prog.jpg", "jpeg");
		measure_file("logo.png", "png");
		measure_file("logo.gif", "gif");
		measure_file("rose.bmp", "bmp");
		measure_file("rose3.bmp", "bmp");
		measure_file("rose.tif", "tiff");
	} else {
		printf("skip: pictures (ImageMagick missing or failed)\n");
	}
	if (im && run(IM " rose: -resize 300%% src.png && cwebp -quiet -q 70 src.png -o lossy.webp"
			 " && cwebp -quiet -lossless src.png -o lossless.webp") == 0) {
		measure_file("lossy.webp", "webp");
		measure_file("lossless.webp", "webp");
	} else {
		printf("skip: webp (cwebp missing or failed)\n");
	}
	const char *src = "-f lavfi -i testsrc=duration=1:size=160x120:rate=5";
	static const struct {
		const char *name, *type, *args;
	} v[] = {
	    {"clip.mp4", "mp4", "-c:v mpeg4"}, /* ffmpeg writes moov after mdat */
	    {"faststart.mp4", "mp4", "-c:v mpeg4 -movflags +faststart"},
	    {"clip.mov", "mov", "-c:v mjpeg"},
	    {"clip.3gp", "3gp", "-c:v h263 -s 176x144"},
	    {"clip.avi", "avi", "-c:v mjpeg"},
	    {"clip.mkv", "mkv", "-c:v mjpeg"},
	    {"clip.webm", "webm", "-c:v libvpx -b:v 200k"},
	    {"clip.wmv", "asf", "-c:v wmv2"},
	    {"clip.flv", "flv", "-c:v flv1"},
	    {"clip.mpg", "mpeg-ps", "-c:v mpeg1video -r 25 -f mpeg"},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (run("ffmpeg -nostdin -loglevel error -y %s %s %s", src, v[i].args, v[i].name)) {
			printf("skip: %s (ffmpeg missing or failed)\n", v[i].name);
			continue;
		}
		measure_file(v[i].name, v[i].type);
	}
	/* moov after mdat really is what the first MP4 holds. */
	size_t n;
	uint8_t *d = load("clip.mp4", &n);
	if (d) {
		uint8_t *mdat = memmem(d, n, "mdat", 4), *moov = memmem(d, n, "moov", 4);
		CHECK(mdat && moov && mdat < moov);
		free(d);
	}
	extent("clip.mp4", "mp4");
	extent("faststart.mp4", "mp4");
	extent("clip.mov", "mov");
	extent("clip.avi", "avi");
	/* An MP4 without moov (a recording never finalised) is not whole. */
	static const uint8_t nomoov[] = {0, 0, 0, 16, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0,
					 0, 0, 0, 0,  0,   12,	'm', 'd', 'a', 't', 1,	 2,   3, 4};
	struct mem m = {nomoov, sizeof nomoov};
	uint64_t end = 0;
	CHECK(ks_media_extent("mp4", mem_read, &m, sizeof nomoov, &end) == KS_VALID_TRUNCATED &&
	      end == sizeof nomoov);
	decoys();
	if (im)
		exif_thumbnail();
	if (im)
		search();
	return ktest_done();
}
