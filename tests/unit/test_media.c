/* Tests for type detection (media.h): benign pictures, videos and archives made at test
 * time with ImageMagick, cwebp, ffmpeg and the archivers must sniff to the right type
 * and validate OK; cut copies of pictures must be TRUNCATED; random bytes behind a
 * picture magic must be BAD; and the DFTT #8 decoys (read from the NTFS image with
 * sleuthkit's icat) must not pass as pictures while its real JPEGs do. A missing tool
 * skips its cases with a message. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kestrel/hash.h"
#include "kestrel/media.h"
#include "ktest.h"

#define IM "/usr/bin/convert-im6.q16"

static const char *tmp;
static int skipped;

/* Runs a shell command (output discarded); returns its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	char full[4200];
	snprintf(full, sizeof full, "(%s) >/dev/null 2>&1", cmd);
	return system(full);
}

static int have(const char *tool)
{
	return run("command -v %s", tool) == 0;
}

static void skip(const char *what, const char *why)
{
	printf("skip: %s (%s)\n", what, why);
	skipped++;
}

static char *tpath(const char *name)
{
	static char p[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
	return p[k];
}

/* Sniffs the head the way the pipeline does (ISO images get the larger head). */
static const char *sniff(const uint8_t *d, size_t len, int *kind, int *tie)
{
	size_t head = len < KS_SNIFF_BYTES_MAX ? len : KS_SNIFF_BYTES_MAX;
	const struct ks_media_format *all[4];
	int conf[4];
	size_t n = ks_media_sniff_all(d, head, len, all, conf, 4);
	*tie = n >= 2 && conf[0] == conf[1];
	const char *t = ks_media_sniff(d, head, len, kind);
	/* Without the ISO allowance, only ISO images may go unrecognised. */
	size_t small = len < KS_SNIFF_BYTES ? len : KS_SNIFF_BYTES;
	int k2;
	const char *t2 = ks_media_sniff(d, small, len, &k2);
	if (!(t2 == t || (t && strcmp(t, "iso9660") == 0 && t2 == NULL))) {
		fprintf(stderr, "sniff differs with %zu head bytes: %s vs %s\n", small,
			t2 ? t2 : "(none)", t ? t : "(none)");
		ktest_fail++;
	}
	return t;
}

/* The file must sniff as type (of kind) and validate as want; every other type's
 * validator must reject it. Returns the bytes (caller frees) or NULL. */
static uint8_t *expect_file(const char *path, const char *type, int kind, int want, size_t *lenp)
{
	size_t len = 0;
	uint8_t *d = ktest_read_file(path, &len);
	if (!d) {
		fprintf(stderr, "%s: cannot read\n", path);
		ktest_fail++;
		return NULL;
	}
	int k = -1, tie = 0;
	const char *t = sniff(d, len, &k, &tie);
	uint32_t w = 0, h = 0;
	const char *why = NULL;
	enum ks_valid v = ks_media_validate(type, d, len, &w, &h, &why);
	printf("%-28s %8zu  sniff %-8s valid %-9s %ux%u %s\n", strrchr(path, '/') + 1, len,
	       t ? t : "-", ks_valid_name(v), w, h, why ? why : "");
	CHECK_STR(t, type);
	CHECK(k == kind);
	CHECK(!tie);
	if (v != (enum ks_valid)want)
		fprintf(stderr, "%s: validates %s, expected %s (%s)\n", path, ks_valid_name(v),
			ks_valid_name(want), why ? why : "");
	CHECK(v == (enum ks_valid)want);
	/* The head of a real file, with the item's size known, is never BAD: the
	 * pipeline validates only the first MiB of a large item. */
	static const unsigned pct[] = {10, 50, 90};
	for (size_t i = 0; i < sizeof pct / sizeof pct[0] && want != KS_VALID_BAD; i++) {
		size_t n = len / 100 * pct[i];
		if (n < KS_SNIFF_BYTES)
			continue;
		const char *pwhy = NULL;
		enum ks_valid pv = ks_media_validate_head(type, d, n, len, NULL, NULL, &pwhy);
		if (pv == KS_VALID_BAD)
			fprintf(stderr, "%s: head of %zu bytes is BAD (%s)\n", path, n,
				pwhy ? pwhy : "");
		CHECK(pv != KS_VALID_BAD);
	}
	for (size_t i = 0; ks_media_format_at(i); i++) {
		const struct ks_media_format *f = ks_media_format_at(i);
		if (strcmp(f->name, type) == 0)
			continue;
		enum ks_valid o = ks_media_validate(f->name, d, len, NULL, NULL, NULL);
		if (o != KS_VALID_BAD)
			fprintf(stderr, "%s: also validates as %s (%s)\n", path, f->name,
				ks_valid_name(o));
		CHECK(o == KS_VALID_BAD);
	}
	if (lenp)
		*lenp = len;
	return d;
}

/* A picture: OK whole, TRUNCATED when cut to its first 40%, and the pixel size when
 * the caller knows it. */
static void picture(const char *name, const char *type, uint32_t ew, uint32_t eh)
{
	size_t len;
	uint8_t *d = expect_file(tpath(name), type, KS_KIND_PICTURE, KS_VALID_OK, &len);
	if (!d)
		return;
	uint32_t w, h;
	ks_media_validate(type, d, len, &w, &h, NULL);
	if (ew) {
		CHECK(w == ew);
		CHECK(h == eh);
	} else {
		CHECK(w > 0 && h > 0);
	}
	size_t cut = len * 4 / 10;
	const char *why = NULL;
	enum ks_valid v = ks_media_validate(type, d, cut, &w, &h, &why);
	if (v != KS_VALID_TRUNCATED)
		fprintf(stderr, "%s cut to %zu: %s (%s)\n", name, cut, ks_valid_name(v),
			why ? why : "");
	CHECK(v == KS_VALID_TRUNCATED);
	int k, tie;
	CHECK_STR(sniff(d, cut, &k, &tie), type);
	free(d);
}

/* Makes a file with a shell command; on failure reports a skip and returns 0. */
static int make(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int make(const char *what, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (run("cd %s && %s", tmp, cmd) != 0) {
		skip(what, "tool failed");
		return 0;
	}
	return 1;
}

static void pictures(void)
{
	if (access(IM, X_OK) != 0) {
		skip("pictures", IM " missing");
		return;
	}
	struct {
		const char *name, *type, *cmd;
		uint32_t w, h;
	} p[] = {
	    {"logo.jpg", "jpeg", IM " logo: logo.jpg", 640, 480},
	    {"rose.jpg", "jpeg", IM " rose: rose.jpg", 70, 46},
	    {"wizard.jpg", "jpeg", IM " wizard: wizard.jpg", 0, 0},
	    {"plasma.jpg", "jpeg", IM " -size 200x150 plasma:fractal plasma.jpg", 200, 150},
	    {"prog.jpg", "jpeg", IM " wizard: -interlace Plane prog.jpg", 0, 0},
	    {"gray.jpg", "jpeg", IM " rose: -colorspace Gray gray.jpg", 70, 46},
	    {"logo.png", "png", IM " logo: logo.png", 640, 480},
	    {"deep.png", "png", IM " rose: PNG48:deep.png", 70, 46},
	    {"palette.png", "png", IM " wizard: PNG8:palette.png", 0, 0},
	    {"interlaced.png", "png",
	     IM " rose: -interlace PNG inter.png && mv inter.png interlaced.png", 70, 46},
	    {"logo.gif", "gif", IM " logo: logo.gif", 640, 480},
	    {"rose.gif", "gif", IM " rose: rose.gif", 70, 46},
	    {"anim.gif", "gif", IM " -delay 10 rose: wizard: -loop 0 anim.gif", 0, 0},
	    {"rose3.bmp", "bmp", IM " rose: BMP3:rose3.bmp", 70, 46},
	    {"rose.bmp", "bmp", IM " rose: rose.bmp", 70, 46},
	    {"wizard8.bmp", "bmp", IM " wizard: -colors 200 BMP3:wizard8.bmp", 0, 0},
	    {"rose.tif", "tiff", IM " rose: rose.tif", 70, 46},
	    {"rosemm.tif", "tiff", IM " rose: -endian MSB -compress lzw rosemm.tif", 70, 46},
	    {"big.tif", "tiff", IM " rose: TIFF64:big.tif", 70, 46},
	    {"rose.heic", "heif", IM " rose: rose.heic", 70, 46},
	    {"rose.avif", "heif", IM " rose: rose.avif", 70, 46},
	};
	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
		if (make(p[i].name, "%s", p[i].cmd))
			picture(p[i].name, p[i].type, p[i].w, p[i].h);
	if (!have("cwebp")) {
		skip("webp", "cwebp missing");
		return;
	}
	if (make("lossy.webp", IM " logo: src.png && cwebp -quiet -q 70 src.png -o lossy.webp"))
		picture("lossy.webp", "webp", 640, 480);
	if (make("lossless.webp", "cwebp -quiet -lossless src.png -o lossless.webp"))
		picture("lossless.webp", "webp", 640, 480);
	if (make("alpha.webp", IM " rose: -alpha set -channel A -evaluate set 50%% +channel "
				  "alpha.png && cwebp -quiet -q 70 -exact alpha.png -o alpha.webp"))
		picture("alpha.webp", "webp", 70, 46);
}

/* Random bytes behind a picture's magic: BAD (a fixed seed keeps the run repeatable). */
static void decoys(void)
{
	static const struct {
		const char *type;
		const char *magic;
		size_t n;
	} m[] = {
	    {"jpeg", "\xFF\xD8\xFF\xE0", 4},
	    {"png", "\x89PNG\r\n\x1A\n", 8},
	    {"gif", "GIF89a", 6},
	    {"bmp", "BM", 2},
	    {"tiff", "II*\0", 4},
	    {"webp", "RIFF\x00\x10\x00\x00WEBP", 12},
	};
	static const size_t sizes[] = {200, 5000, 100000};
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			for (int rep = 0; rep < 20; rep++) {
				size_t n = sizes[s];
				uint8_t *d = malloc(n);
				for (size_t k = 0; k < n; k++) {
					x ^= x << 13;
					x ^= x >> 17;
					x ^= x << 5;
					d[k] = (uint8_t)(x >> 7);
				}
				memcpy(d, m[i].magic, m[i].n);
				const char *why = NULL;
				enum ks_valid v =
				    ks_media_validate(m[i].type, d, n, NULL, NULL, &why);
				if (v != KS_VALID_BAD)
					fprintf(stderr, "decoy %s/%zu/%d: %s (%s)\n", m[i].type, n,
						rep, ks_valid_name(v), why ? why : "");
				CHECK(v == KS_VALID_BAD);
				free(d);
			}
		}
	}
}

static void videos(void)
{
	if (!have("ffmpeg")) {
		skip("videos", "ffmpeg missing");
		return;
	}
	const char *src = "-f lavfi -i testsrc=duration=1:size=160x120:rate=5";
	/* w, h: expected pixel size; 0 where the container does not say (FLV keeps it in
	 * script data, MPEG-TS in the elementary stream; neither is parsed). */
	struct {
		const char *name, *type, *args;
		uint32_t w, h;
	} v[] = {
	    {"clip.mp4", "mp4", "-c:v mpeg4", 160, 120},
	    {"clip264.mp4", "mp4", "-c:v libx264 -pix_fmt yuv420p", 160, 120},
	    {"faststart.mp4", "mp4", "-c:v mpeg4 -movflags +faststart", 160, 120},
	    {"frag.mp4", "mp4", "-c:v mpeg4 -movflags frag_keyframe+empty_moov", 160, 120},
	    {"clip.mov", "mov", "-c:v mjpeg", 160, 120},
	    {"clip.3gp", "3gp", "-c:v h263 -s 176x144", 176, 144},
	    {"clip.3g2", "3gp", "-c:v h263 -s 176x144 -f 3g2", 176, 144},
	    {"clip.avi", "avi", "-c:v mjpeg", 160, 120},
	    {"clip.mkv", "mkv", "-c:v mjpeg", 160, 120},
	    {"clip.webm", "webm", "-c:v libvpx -b:v 200k", 160, 120},
	    {"clip.wmv", "asf", "-c:v wmv2", 160, 120},
	    {"clip.flv", "flv", "-c:v flv1", 0, 0},
	    {"clip.mpg", "mpeg-ps", "-c:v mpeg1video -r 25 -f mpeg", 160, 120},
	    {"clip.vob", "mpeg-ps", "-c:v mpeg2video -f vob", 160, 120},
	    {"clip.ts", "mpeg-ts", "-c:v mpeg2video -f mpegts", 0, 0},
	    {"clip.m2ts", "mpeg-ts", "-c:v mpeg2video -f mpegts -mpegts_m2ts_mode 1", 0, 0},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (!make(v[i].name, "ffmpeg -nostdin -loglevel error -y %s %s %s", src, v[i].args,
			  v[i].name))
			continue;
		size_t len;
		uint8_t *d =
		    expect_file(tpath(v[i].name), v[i].type, KS_KIND_VIDEO, KS_VALID_OK, &len);
		if (!d)
			continue;
		uint32_t w = 0, h = 0;
		ks_media_validate(v[i].type, d, len, &w, &h, NULL);
		CHECK(w == v[i].w && h == v[i].h);
		/* A cut video is never OK (and never BAD: it is still a video), except
		 * where the format cannot tell (streams without an index). */
		enum ks_valid c = ks_media_validate(v[i].type, d, len * 4 / 10, NULL, NULL, NULL);
		if (strcmp(v[i].type, "mpeg-ps") && strcmp(v[i].type, "mpeg-ts"))
			CHECK(c == KS_VALID_TRUNCATED);
		else
			CHECK(c != KS_VALID_BAD);
		free(d);
	}
	/* An audio-only M4A is an ISO file but not a video. */
	if (make("audio.m4a", "ffmpeg -nostdin -loglevel error -y -f lavfi -i "
			      "sine=duration=1 -c:a aac audio.m4a")) {
		size_t len;
		uint8_t *d = ktest_read_file(tpath("audio.m4a"), &len);
		int k;
		CHECK(d && ks_media_sniff(d, len, len, &k) == NULL && k == KS_KIND_OTHER);
		free(d);
	}
}

static void archives(void)
{
	struct {
		const char *tool, *name, *type, *cmd;
	} a[] = {
	    {"zip", "a.zip", "zip", "zip -q a.zip logo.jpg rose.png"},
	    {"zip", "store.zip", "zip", "zip -q -0 store.zip rose.png"},
	    {"tar", "a.tar", "tar", "tar cf a.tar logo.jpg rose.png"},
	    {"tar", "v7.tar", "tar", "tar --format=v7 -cf v7.tar rose.png"},
	    {"tar", "pax.tar", "tar", "tar --format=pax -cf pax.tar rose.png"},
	    {"gzip", "a.tar.gz", "gzip", "gzip -c a.tar > a.tar.gz"},
	    {"gzip", "named.gz", "gzip", "gzip -c -N logo.jpg > named.gz"},
	    {"bzip2", "a.tar.bz2", "bzip2", "bzip2 -c a.tar > a.tar.bz2"},
	    {"xz", "a.tar.xz", "xz", "xz -c a.tar > a.tar.xz"},
	    {"7z", "a.7z", "7z", "7z a -bd a.7z logo.jpg rose.png"},
	    {"cpio", "a.cpio", "cpio", "ls logo.jpg rose.png | cpio -o -H newc > a.cpio"},
	    {"cpio", "odc.cpio", "cpio", "ls rose.png | cpio -o -H odc > odc.cpio"},
	    {"cpio", "bin.cpio", "cpio", "ls rose.png | cpio -o -H bin > bin.cpio"},
	    {"xorriso", "x.iso", "iso9660",
	     "mkdir -p isodir && cp rose.png isodir/ && xorriso -as mkisofs -quiet -o x.iso "
	     "isodir"},
	    {"img2pdf", "a.pdf", "pdf", "img2pdf -o a.pdf logo.jpg"},
	};
	if (access(IM, X_OK) != 0 ||
	    run("cd %s && " IM " logo: logo.jpg && " IM " rose: rose.png", tmp)) {
		skip("archives", "cannot make member files");
		return;
	}
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
		if (!have(a[i].tool)) {
			skip(a[i].name, "tool missing");
			continue;
		}
		if (!make(a[i].name, "%s", a[i].cmd))
			continue;
		int kind = strcmp(a[i].type, "pdf") == 0 ? KS_KIND_DOCUMENT : KS_KIND_ARCHIVE;
		size_t len;
		uint8_t *d = expect_file(tpath(a[i].name), a[i].type, kind, KS_VALID_OK, &len);
		if (d && strcmp(a[i].type, "gzip") && strcmp(a[i].type, "bzip2")) {
			/* Framing formats notice a cut (compressed streams cannot without
			 * inflating, which is libarchive's job). */
			enum ks_valid c =
			    ks_media_validate(a[i].type, d, len * 4 / 10, NULL, NULL, NULL);
			CHECK(c == KS_VALID_TRUNCATED);
		}
		free(d);
	}
}

/* DFTT #8: two real JPEGs OK, three decoys not pictures. The files are read out of the
 * NTFS image by MFT entry with icat and checked against the answer key's MD5s. */
static void dftt8(void)
{
	const char *shared = ktest_shared();
	if (!shared) {
		skip("dftt8", "SHARED not set or missing");
		return;
	}
	if (!have("icat") || !have("unzip")) {
		skip("dftt8", "icat or unzip missing");
		return;
	}
	if (run("cd %s && mkdir dftt8 && unzip -q "
		"%s/testdata/forensic/dftt-08-jpeg-search/8-jpeg-search.zip -d dftt8",
		tmp, shared)) {
		skip("dftt8", "unzip failed");
		return;
	}
	char img[600];
	snprintf(img, sizeof img, "%s/dftt8/8-jpeg-search/8-jpeg-search.dd", tmp);
	struct stat st;
	if (stat(img, &st) != 0) {
		/* Whatever the zip's layout, the image is its one large file. */
		run("cd %s/dftt8 && f=$(find . -type f -size +5M | head -1) && ln -sf \"$f\" "
		    "img.dd",
		    tmp);
		snprintf(img, sizeof img, "%s/dftt8/img.dd", tmp);
	}
	static const struct {
		int mft;
		const char *md5;
		int picture;
	} f[] = {
	    {29, "75b8d00568815a36c3809b46fc84ba6d", 1}, /* file1.jpg */
	    {28, "de5d83153339931371719f4e5c924eba", 1}, /* file2.dat */
	    {35, "1ba4e91591f0541eda255ee26f7533bc", 0}, /* file3.jpg: random */
	    {36, "c8de721102617158e8492121bdad3711", 0}, /* file4.jpg: FF D8 + random */
	    {34, "86f14fc525648c39d878829f288c0543", 0}, /* file5.rtf: FF D8 inside */
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		char out[64];
		snprintf(out, sizeof out, "mft%d.bin", f[i].mft);
		if (run("icat -f ntfs %s %d > %s", img, f[i].mft, tpath(out))) {
			fprintf(stderr, "icat %d failed\n", f[i].mft);
			ktest_fail++;
			continue;
		}
		size_t len;
		uint8_t *d = ktest_read_file(tpath(out), &len);
		if (!d) {
			ktest_fail++;
			continue;
		}
		struct ks_digests dg;
		struct ks_digests_hex hx;
		ks_hash_buffer(d, len, &dg);
		ks_digests_to_hex(&dg, &hx);
		CHECK_STR(hx.md5, f[i].md5);
		int k, tie;
		const char *t = sniff(d, len, &k, &tie);
		uint32_t w = 0, h = 0;
		const char *why = NULL;
		enum ks_valid v = t ? ks_media_validate(t, d, len, &w, &h, &why) : KS_VALID_BAD;
		printf("dftt8 MFT %-3d %8zu  sniff %-6s valid %-9s %ux%u %s\n", f[i].mft, len,
		       t ? t : "-", ks_valid_name(v), w, h, why ? why : "");
		if (f[i].picture) {
			CHECK_STR(t, "jpeg");
			CHECK(v == KS_VALID_OK);
			CHECK(w > 0 && h > 0);
		} else {
			/* Not a picture: either nothing claims it, or its validator says BAD;
			 * and the JPEG validator rejects it outright. */
			CHECK(!t || k != KS_KIND_PICTURE || v == KS_VALID_BAD);
			CHECK(ks_media_validate("jpeg", d, len, NULL, NULL, NULL) == KS_VALID_BAD);
		}
		free(d);
	}
}

/* Table sanity and the small public helpers. */
static void table(void)
{
	size_t n = 0;
	for (; ks_media_format_at(n); n++) {
		const struct ks_media_format *f = ks_media_format_at(n);
		CHECK(ks_media_format_get(f->name) == f);
		CHECK(f->mime && strchr(f->mime, '/'));
		CHECK(f->sniff && f->validate && f->ext);
		/* Nothing claims an empty head or validates empty data as OK. */
		CHECK(f->sniff((const uint8_t *)"", 0, 0) == KS_SNIFF_NO);
		CHECK(ks_media_validate(f->name, (const uint8_t *)"", 0, NULL, NULL, NULL) !=
		      KS_VALID_OK);
	}
	CHECK(n == 28);
	CHECK_STR(ks_media_mime("jpeg"), "image/jpeg");
	CHECK_STR(ks_media_mime("nope"), "application/octet-stream");
	CHECK_STR(ks_kind_name(KS_KIND_VIDEO), "video");
	CHECK_STR(ks_kind_name(99), "other");
	const char *why = NULL;
	CHECK(ks_media_validate("nope", (const uint8_t *)"x", 1, NULL, NULL, &why) == KS_VALID_BAD);
	CHECK_STR(why, "unknown type");
	/* TIFF whose first IFD lies beyond the data: in the part not held when only the
	 * head is held; a cut when the data is the whole item and the offset is near;
	 * a decoy when the offset is far or beyond the item. */
	uint8_t tif[4096] = {'I', 'I', 42, 0, 0, 0, 1, 0}; /* IFD at 0x10000 */
	CHECK(ks_media_validate_head("tiff", tif, sizeof tif, 0x20000, NULL, NULL, NULL) ==
	      KS_VALID_TRUNCATED);
	CHECK(ks_media_validate_head("tiff", tif, sizeof tif, 0x8000, NULL, NULL, NULL) ==
	      KS_VALID_BAD);
	CHECK(ks_media_validate("tiff", tif, sizeof tif, NULL, NULL, NULL) == KS_VALID_TRUNCATED);
	tif[7] = 0x40; /* IFD at 1 GiB */
	CHECK(ks_media_validate("tiff", tif, sizeof tif, NULL, NULL, NULL) == KS_VALID_BAD);
	CHECK(ks_media_validate_head("tiff", tif, sizeof tif, 2ull << 30, NULL, NULL, NULL) ==
	      KS_VALID_TRUNCATED);

	int k = 5;
	uint8_t zeros[4096] = {0};
	CHECK(ks_media_sniff(zeros, sizeof zeros, sizeof zeros, &k) == NULL && k == KS_KIND_OTHER);
}

int main(void)
{
	tmp = ktest_tmpdir();
	if (!tmp) {
		printf("skip: no temporary directory\n");
		return 77;
	}
	printf("work dir %s\n", tmp);
	table();
	decoys();
	pictures();
	videos();
	archives();
	dftt8();
	printf("%d cases skipped\n", skipped);
	return ktest_done();
}
