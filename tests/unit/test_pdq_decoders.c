/* Decoders and PDQ exact mode against the reference's own decode path: pictures of
 * every supported format and colour mode are made at test time with ImageMagick, and
 * `convert FILE pnm:-` read the way CImg reads it (P4/P5/P6, 16-bit samples cast to
 * 8 bits) is what the reference hashes. Our decoded pixels must equal those pixels and
 * our exact-mode hashes must equal the hashes of those pixels. Skips (77) when
 * ImageMagick is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kestrel/decode.h"
#include "kestrel/pdq.h"
#include "ktest.h"

static const char *convert_bin;

/* A picture as CImg<uint8_t> loads ImageMagick's PNM output. */
struct pnm {
	uint32_t w, h;
	int ch;
	uint8_t *pix;
};

static int pnm_token(const uint8_t *p, size_t n, size_t *pos, unsigned long *v)
{
	for (;;) {
		while (*pos < n &&
		       (p[*pos] == ' ' || p[*pos] == '\n' || p[*pos] == '\r' || p[*pos] == '\t'))
			(*pos)++;
		if (*pos < n && p[*pos] == '#') {
			while (*pos < n && p[*pos] != '\n')
				(*pos)++;
			continue;
		}
		break;
	}
	if (*pos >= n || p[*pos] < '0' || p[*pos] > '9')
		return -1;
	*v = 0;
	while (*pos < n && p[*pos] >= '0' && p[*pos] <= '9')
		*v = *v * 10 + (unsigned long)(p[(*pos)++] - '0');
	return 0;
}

static int pnm_parse(const uint8_t *p, size_t n, struct pnm *out)
{
	size_t pos = 2;
	unsigned long w, h, maxval = 1;
	if (n < 3 || p[0] != 'P' || (p[1] != '4' && p[1] != '5' && p[1] != '6'))
		return -1;
	if (pnm_token(p, n, &pos, &w) || pnm_token(p, n, &pos, &h))
		return -1;
	if (p[1] != '4' && pnm_token(p, n, &pos, &maxval))
		return -1;
	pos++; /* the single whitespace before the samples */
	out->w = (uint32_t)w;
	out->h = (uint32_t)h;
	out->ch = p[1] == '6' ? 3 : 1;
	size_t count = (size_t)w * h * (size_t)out->ch;
	out->pix = malloc(count ? count : 1);
	if (p[1] == '4') {
		size_t rowbytes = (w + 7) / 8;
		if (pos + rowbytes * h > n)
			return -1;
		for (size_t y = 0; y < h; y++)
			for (size_t x = 0; x < w; x++) {
				int bit = (p[pos + y * rowbytes + x / 8] >> (7 - x % 8)) & 1;
				out->pix[y * w + x] = bit ? 0 : 255;
			}
		return 0;
	}
	int bytes = maxval >= 256 ? 2 : 1;
	if (pos + count * (size_t)bytes > n)
		return -1;
	for (size_t i = 0; i < count; i++)
		out->pix[i] =
		    bytes == 1 ? p[pos + i] : p[pos + 2 * i + 1]; /* (uint8_t) of a ushort */
	return 0;
}

/* args may end with an output format prefix ("... PNG8:") that goes before the name. */
static int run_convert(const char *args, const char *out)
{
	char cmd[4096], a[1024];
	const char *prefix = "";
	snprintf(a, sizeof a, "%s", args);
	size_t n = strlen(a);
	if (n && a[n - 1] == ':') {
		char *sp = strrchr(a, ' ');
		prefix = sp ? sp + 1 : a;
		if (sp)
			*sp = '\0';
		else
			a[0] = '\0';
	}
	snprintf(cmd, sizeof cmd, "%s %s '%s%s' 2>/dev/null", convert_bin, prefix == a ? "" : a,
		 prefix, out);
	return system(cmd);
}

static uint8_t *slurp_cmd(const char *cmd, size_t *len)
{
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	pclose(f);
	*len = n;
	return buf;
}

struct sample {
	const char *name; /* file name, its extension tells ImageMagick the format */
	const char *args; /* convert arguments before the output name */
	int supported;	  /* 0: we expect KS_E_UNSUPPORTED for now */
};

static const struct sample samples[] = {
    /* TIFF */
    {"trgb.tif", "-seed 90 -size 400x300 plasma:fractal -compress None", 1},
    {"tlzw.tif", "-seed 91 -size 400x300 plasma:fractal -compress LZW", 1},
    {"tzip.tif", "-seed 92 -size 400x300 plasma:fractal -compress Zip", 1},
    {"tjpeg.tif", "-seed 93 -size 400x300 plasma:fractal -compress JPEG -quality 80", 1},
    {"tgrey.tif", "-seed 94 -size 400x300 plasma:fractal -colorspace Gray", 1},
    {"tgrey16.tif", "-seed 95 -size 400x300 plasma:fractal -colorspace Gray -depth 16", 1},
    {"trgb16.tif", "-seed 96 -size 300x200 plasma:fractal -depth 16 -compress Zip", 1},
    {"tpal.tif", "-seed 97 -size 300x200 plasma:fractal -colors 100 -type Palette", 1},
    {"tpal4.tif", "-seed 98 -size 300x200 plasma:fractal -colors 12 -type Palette -depth 4", 1},
    {"tmono.tif", "-seed 99 -size 300x200 plasma:fractal -monochrome -compress Group4", 1},
    {"tgrey4.tif", "-seed 100 -size 300x200 plasma:fractal -colorspace Gray -depth 4", 1},
    {"tmisw.tif",
     "-seed 101 -size 300x200 plasma:fractal -colorspace Gray -define "
     "tiff:photometric=min-is-white",
     1},
    {"tcmyk.tif", "-seed 102 -size 300x200 plasma:fractal -colorspace CMYK", 1},
    {"tcmyk8.tif", "-seed 102 -size 300x200 plasma:fractal -colorspace CMYK -depth 8", 1},
    {"talpha.tif",
     "-seed 103 -size 300x200 plasma:fractal -alpha set -channel A -evaluate set 40% +channel", 1},
    {"ttiled.tif", "-seed 104 -size 300x200 plasma:fractal -define tiff:tile-geometry=64x64", 1},
    {"tplanar.tif", "-seed 105 -size 300x200 plasma:fractal -interlace Plane -compress LZW", 1},
    {"tpages.tif",
     "-seed 106 -size 200x150 plasma:fractal \\( -seed 107 -size 120x90 plasma:fractal \\)", 1},
    /* HEIF (ImageMagick writes it through libheif's x265 encoder) */
    {"h.heic", "-seed 110 -size 400x300 plasma:fractal -quality 80", 1},
    {"hodd.heic", "-seed 111 -size 301x203 plasma:fractal -quality 60", 1},
    {"hrose.heic", "rose: -resize 300% -quality 90", 1},
    {"hbig.heic", "-seed 112 -size 1100x700 plasma:fractal -quality 70", 1},
    /* WebP (ImageMagick writes it through libwebp) */
    {"wlossy.webp", "-seed 80 -size 400x300 plasma:fractal -quality 80", 1},
    {"wlossless.webp", "-seed 81 -size 300x200 plasma:fractal -define webp:lossless=true", 1},
    {"walpha.webp",
     "-seed 82 -size 320x240 plasma:fractal -alpha set -channel A -evaluate set 50% +channel "
     "-quality 75",
     1},
    {"wgrey.webp", "-seed 83 -size 320x240 plasma:fractal -colorspace Gray -quality 85", 1},
    {"wbig.webp", "-seed 84 -size 900x600 plasma:fractal -quality 70", 1},
    {"wanim.webp",
     "-seed 85 -size 160x120 plasma:fractal \\( -seed 86 -size 160x120 plasma:fractal \\) -loop 0 "
     "-quality 80",
     1},
    /* JPEG */
    {"j420.jpg", "-seed 1 -size 640x480 plasma:fractal -quality 85", 1},
    {"j444.jpg", "-seed 2 -size 640x480 plasma:fractal -sampling-factor 1x1 -quality 92", 1},
    {"j422.jpg", "-seed 3 -size 601x399 plasma:fractal -sampling-factor 2x1 -quality 80", 1},
    {"jprog.jpg", "-seed 4 -size 800x600 plasma:fractal -interlace Plane -quality 85", 1},
    {"jgrey.jpg", "-seed 5 -size 640x480 plasma:fractal -colorspace Gray -quality 85", 1},
    {"jcmyk.jpg", "-seed 6 -size 640x480 plasma:fractal -colorspace CMYK -quality 90", 1},
    {"jbig.jpg", "-seed 7 -size 1300x700 plasma:fractal -quality 75", 1},
    {"jwide.jpg", "-seed 8 -size 513x300 plasma:fractal -quality 85", 1},
    {"jtall.jpg", "-seed 9 -size 200x900 plasma:fractal -quality 85", 1},
    {"jtiny.jpg", "-seed 10 -size 37x23 plasma:fractal -quality 85", 1},
    {"jsmall.jpg", "-seed 11 -size 4x9 plasma:fractal -quality 85", 1},
    {"j64.jpg", "-seed 12 -size 64x64 plasma:fractal -quality 85", 1},
    {"jgreyrgb.jpg",
     "-seed 13 -size 300x200 plasma:fractal -colorspace Gray -type TrueColor -quality 85", 1},
    {"jrestart.jpg",
     "-seed 14 -size 640x480 plasma:fractal -define jpeg:restart-interval=3 -quality 85", 1},
    /* PNG */
    {"prgb.png", "-seed 20 -size 640x480 plasma:fractal", 1},
    {"prgba.png",
     "-seed 21 -size 500x400 plasma:fractal -alpha set -channel A -evaluate set 40% +channel", 1},
    {"pgrey.png", "-seed 22 -size 640x480 plasma:fractal -colorspace Gray", 1},
    {"pgrey16.png", "-seed 23 -size 640x480 plasma:fractal -colorspace Gray -depth 16", 1},
    {"prgb16.png", "-seed 24 -size 640x480 plasma:fractal -depth 16", 1},
    {"ppal.png", "-seed 25 -size 640x480 plasma:fractal -colors 60 PNG8:", 1},
    {"ppalt.png",
     "-seed 26 -size 400x300 plasma:fractal -colors 30 -transparent-color white -fuzz 20% "
     "-transparent white PNG8:",
     1},
    {"pmono.png", "-seed 27 -size 640x480 plasma:fractal -monochrome", 1},
    {"pgrey2.png", "-seed 28 -size 300x300 plasma:fractal -colorspace Gray -depth 2", 1},
    {"pgrey4.png", "-seed 29 -size 300x300 plasma:fractal -colorspace Gray -depth 4", 1},
    {"pinter.png", "-seed 30 -size 600x450 plasma:fractal -interlace PNG", 1},
    {"pgreya.png",
     "-seed 31 -size 600x450 plasma:fractal -colorspace Gray -alpha set -channel A -evaluate set "
     "50% +channel",
     1},
    {"pgreyrgb.png",
     "-seed 32 -size 300x200 plasma:fractal -colorspace Gray -define png:color-type=2", 1},
    {"pbig.png", "-seed 33 -size 1000x520 plasma:fractal", 1},
    {"plogo.png", "logo: -strip", 1},
    /* GIF */
    {"g.gif", "-seed 40 -size 640x480 plasma:fractal -colors 64", 1},
    {"gtrans.gif", "-seed 41 -size 320x240 plasma:fractal -colors 32 -fuzz 15% -transparent white",
     1},
    {"ginter.gif", "-seed 42 -size 320x240 plasma:fractal -colors 64 -interlace GIF", 1},
    {"ganim.gif",
     "-seed 43 -size 200x150 plasma:fractal -colors 64 \\( -seed 44 -size 200x150 plasma:fractal "
     "-colors 64 \\) -loop 0",
     1},
    {"grose.gif", "rose: -scale 400%", 1},
    {"gpage.gif", "-seed 45 -size 120x80 plasma:fractal -colors 16 -repage 300x200+40+30", 1},
    /* BMP */
    {"b24.bmp", "-seed 50 -size 640x480 plasma:fractal BMP3:", 1},
    {"b8.bmp", "-seed 51 -size 300x200 plasma:fractal -colors 200 -type Palette BMP3:", 1},
    {"b4.bmp", "-seed 52 -size 301x201 plasma:fractal -colors 16 -type Palette BMP3:", 1},
    {"b1.bmp", "-seed 53 -size 303x200 plasma:fractal -monochrome BMP3:", 1},
    {"b32.bmp",
     "-seed 54 -size 320x240 plasma:fractal -alpha set -channel A -evaluate set 60% +channel BMP:",
     1},
    {"b565.bmp", "-seed 55 -size 320x240 plasma:fractal -define bmp:subtype=RGB565 BMP:", 1},
    {"b555.bmp", "-seed 56 -size 320x240 plasma:fractal -define bmp:subtype=RGB555 BMP:", 1},
    {"bgrey.bmp", "-seed 57 -size 320x240 plasma:fractal -colorspace Gray BMP3:", 1},
    {"brle8.bmp",
     "-seed 58 -size 320x240 plasma:fractal -colors 20 -type Palette -compress RLE BMP3:", 1},
    {"b2rgb.bmp", "-seed 59 -size 200x100 plasma:fractal BMP2:", 1},
    {"b2pal.bmp", "-seed 60 -size 200x100 plasma:fractal -colors 16 -type Palette BMP2:", 1},
    {"b1c.bmp", "-seed 62 -size 100x100 plasma:fractal -colors 2 -type Palette BMP3:", 1},
    {"b1g.bmp",
     "-seed 63 -size 100x100 plasma:fractal -colorspace Gray -colors 2 -type Palette BMP3:", 1},
    {"b4c.bmp", "-seed 64 -size 100x100 plasma:fractal -colors 4 -type Palette BMP3:", 1},
    {"b4444.bmp", "-seed 61 -size 120x90 plasma:fractal -define bmp:subtype=ARGB4444 BMP:", 1},
};

static void check_sample(struct ks_decoder *dec, struct ks_pdq *p, const char *dir,
			 const struct sample *s)
{
	char path[512], cmd[1024];
	snprintf(path, sizeof path, "%s/%s", dir, s->name);
	if (run_convert(s->args, path) != 0) {
		printf("skip %s: ImageMagick could not write it\n", s->name);
		return;
	}
	size_t len = 0, plen = 0;
	uint8_t *data = ktest_read_file(path, &len);
	snprintf(cmd, sizeof cmd, "%s '%s' pnm:- 2>/dev/null", convert_bin, path);
	uint8_t *pnmbytes = slurp_cmd(cmd, &plen);
	struct pnm ref = {0};
	CHECK(data != NULL);
	CHECK(pnmbytes && pnm_parse(pnmbytes, plen, &ref) == 0);
	if (!data || !ref.pix)
		goto out;

	struct ks_err err = {0};
	struct ks_image img = {0};
	struct ks_decode_opts opts = {.flags = KS_DECODE_CIMG16};
	int rc = ks_decode_image(dec, data, len, &opts, &img, &err);
	if (!s->supported) {
		CHECK(rc == KS_E_UNSUPPORTED);
		goto out;
	}
	if (rc) {
		fprintf(stderr, "%s: %s\n", s->name, err.msg);
		CHECK(rc == 0);
		goto out;
	}
	/* Pixels: ImageMagick writes an all-grey picture as PGM (we may deliver RGB), and a
	 * picture of depth under 8 at that depth's range unless it is black and white. */
	int mono = 1;
	for (size_t i = 0; i < (size_t)img.info.width * img.info.height * img.info.channels; i++)
		if (img.pixels[i] != 0 && img.pixels[i] != 255)
			mono = 0;
	if (img.info.depth < 8 && !mono) {
		unsigned range = (1u << img.info.depth) - 1;
		for (size_t i = 0; i < (size_t)img.info.width * img.info.height * img.info.channels;
		     i++)
			img.pixels[i] = (uint8_t)(range * img.pixels[i] / 255);
	}
	CHECK(img.info.width == ref.w && img.info.height == ref.h);
	int same = img.info.width == ref.w && img.info.height == ref.h;
	size_t npx = (size_t)ref.w * ref.h, bad = 0, first = 0;
	for (size_t i = 0; same && i < npx; i++) {
		for (int c = 0; c < img.info.channels; c++) {
			uint8_t mine = img.pixels[i * img.info.channels + c];
			uint8_t theirs = ref.ch == 1 ? ref.pix[i] : ref.pix[i * 3 + c];
			if (mine != theirs && bad++ == 0)
				first = i;
		}
		if (img.info.channels == 1 && ref.ch == 3 &&
		    (ref.pix[i * 3] != ref.pix[i * 3 + 1] ||
		     ref.pix[i * 3] != ref.pix[i * 3 + 2]) &&
		    bad++ == 0)
			first = i;
	}
	if (bad)
		fprintf(stderr, "%s: %zu samples differ from ImageMagick's, first at pixel %zu\n",
			s->name, bad, first);
	CHECK(same && bad == 0);

	/* Hashes: ours in exact mode against the reference pipeline on ImageMagick's pixels. */
	struct ks_pdq_hash want[KS_PDQ_NDIHEDRAL], want1;
	int wq = -1, wq1 = -1;
	CHECK(ks_pdq_hash_pixels(p, ref.pix, ref.w, ref.h, ref.ch, (size_t)ref.w * ref.ch, NULL,
				 want, &wq) == 0);
	CHECK(ks_pdq_hash_pixels(p, ref.pix, ref.w, ref.h, ref.ch, (size_t)ref.w * ref.ch, &want1,
				 NULL, &wq1) == 0);
	struct ks_pdq_result res;
	rc = ks_pdq_hash_image(p, data, len, KS_PDQ_EXACT, KS_PDQ_WANT_DIHEDRAL, &res, &err);
	CHECK(rc == 0);
	if (rc == 0) {
		int d = ks_pdq_distance(&res.hash, &want1);
		for (int v = 0; v < KS_PDQ_NDIHEDRAL; v++)
			d += ks_pdq_distance(&res.dih[v], &want[v]);
		if (d || res.quality != wq1)
			fprintf(stderr,
				"%s: exact hash %d bits off the reference, quality %d want %d\n",
				s->name, d, res.quality, wq1);
		CHECK(d == 0);
		CHECK(res.quality == wq1 && wq == wq1);
		CHECK(res.mode == KS_PDQ_EXACT);
		CHECK(res.width == ref.w && res.height == ref.h);
	}
out:
	ks_image_release(&img);
	free(ref.pix);
	free(pnmbytes);
	free(data);
}

int main(void)
{
	static const char *const candidates[] = {"/usr/bin/convert-im6.q16", "/usr/bin/convert-im6",
						 "/usr/bin/magick", NULL};
	for (int i = 0; candidates[i]; i++)
		if (access(candidates[i], X_OK) == 0) {
			convert_bin = candidates[i];
			break;
		}
	if (!convert_bin) {
		printf(
		    "ImageMagick (convert-im6.q16) not installed: skipping decoder comparisons\n");
		return 77;
	}
	const char *dir = ktest_tmpdir();
	CHECK(dir != NULL);
	if (!dir)
		return ktest_done();
	const char *only = getenv("KS_TEST_ONLY");
	struct ks_decoder *dec = ks_decoder_new();
	struct ks_pdq *p = ks_pdq_new();
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
		if (!only || strstr(samples[i].name, only))
			check_sample(dec, p, dir, &samples[i]);
	ks_pdq_free(p);
	ks_decoder_free(dec);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return ktest_done();
}
