/* Artefact layer, binary thumbnail caches: a Windows thumbcache_*.db (Windows 10 and
 * Windows 7 layouts, a placeholder entry and a remnant past the free space) and a
 * Thumbs.db (an OLE2 compound file written here: Catalog, mini-stream and
 * regular-sector thumbnails, a type-1 stream, a Windows 7 "256_<id>" stream), built
 * by small writers around benign ImageMagick pictures; freedesktop thumbnails made by
 * ImageMagick with Thumb::URI/MTime; an Android MiniThumbFile. The thumbnails come
 * back byte for byte with their names, paths and times; every truncation and many
 * corruptions of the caches are survived. */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/artefact.h"
#include "ktest.h"

static const char *tmp;

struct pic {
	unsigned char *b;
	size_t n;
};
static struct pic jpg_small, jpg_big, png_small, bmp_small;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static struct pic load(const char *name)
{
	char p[600];
	struct pic x = {0};
	snprintf(p, sizeof p, "%s/%s", tmp, name);
	x.b = ktest_read_file(p, &x.n);
	CHECK(x.b != NULL);
	return x;
}

/* Growable output buffer for the writers. */
struct out {
	uint8_t *b;
	size_t n, cap;
};
static void put(struct out *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2;
		o->b = realloc(o->b, o->cap);
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}
static void put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(o, b, 4);
}
static void put16(struct out *o, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(o, b, 2);
}
static void put64(struct out *o, uint64_t v)
{
	put32(o, (uint32_t)v);
	put32(o, (uint32_t)(v >> 32));
}
static void zeros(struct out *o, size_t n)
{
	static const uint8_t z[4096];
	while (n > 0) {
		size_t k = n < sizeof z ? n : sizeof z;
		put(o, z, k);
		n -= k;
	}
}
static void set32(struct out *o, size_t at, uint32_t v)
{
	o->b[at] = (uint8_t)v;
	o->b[at + 1] = (uint8_t)(v >> 8);
	o->b[at + 2] = (uint8_t)(v >> 16);
	o->b[at + 3] = (uint8_t)(v >> 24);
}
static void utf16(struct out *o, const char *s)
{
	for (; *s; s++)
		put16(o, (uint8_t)*s);
}

/* Collected references. */
struct got {
	char record[128], note[512], path[512], name[256], url[512], thumb_path[512];
	int kind;
	int64_t time, size;
	uint8_t *thumb;
	size_t thumb_len;
};
static struct got refs[64];
static size_t nrefs;

static void clear(void)
{
	for (size_t i = 0; i < nrefs; i++)
		free(refs[i].thumb);
	memset(refs, 0, sizeof refs);
	nrefs = 0;
}

static void cp(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

static int collect(void *ctx, const struct ks_artefact_ref *r)
{
	(void)ctx;
	if (nrefs == sizeof refs / sizeof refs[0])
		return KS_E_LIMIT;
	struct got *g = &refs[nrefs++];
	cp(g->record, sizeof g->record, r->record);
	cp(g->note, sizeof g->note, r->note);
	cp(g->path, sizeof g->path, r->path);
	cp(g->name, sizeof g->name, r->name);
	cp(g->url, sizeof g->url, r->url);
	cp(g->thumb_path, sizeof g->thumb_path, r->thumb_path);
	g->kind = r->kind;
	g->time = r->time;
	g->size = r->size;
	if (r->thumb) {
		g->thumb = malloc(r->thumb_len);
		memcpy(g->thumb, r->thumb, r->thumb_len);
		g->thumb_len = r->thumb_len;
	}
	return KS_OK;
}

static int discard(void *ctx, const struct ks_artefact_ref *r)
{
	(void)ctx;
	/* Whatever a damaged cache yields must still lie inside it (ASan checks the
	 * bytes; here the length must be sane). */
	if (r->thumb && r->thumb_len == 0)
		abort();
	return KS_OK;
}

static const struct got *find(const char *record)
{
	for (size_t i = 0; i < nrefs; i++)
		if (strcmp(refs[i].record, record) == 0)
			return &refs[i];
	fprintf(stderr, "no reference %s\n", record);
	return NULL;
}

static int same(const struct got *g, const struct pic *p)
{
	return g && g->thumb && g->thumb_len == p->n && memcmp(g->thumb, p->b, p->n) == 0;
}

static int parse(const char *parser, const char *path, const uint8_t *d, size_t n,
		 ks_ref_fn fn, struct ks_err *err)
{
	clear();
	return ks_artefact_parse_bytes(ks_artefact_get(parser), "", path, d, n, NULL, fn, NULL, err);
}

/* Every prefix and a set of deterministic corruptions: no crash, no read outside
 * (the sanitizer build checks), a status either way. */
static void torture(const char *parser, const char *path, const uint8_t *d, size_t n)
{
	struct ks_err err;
	for (size_t cut = 0; cut < n; cut += cut < 2048 ? 1 : 97) {
		uint8_t *c = malloc(cut ? cut : 1);
		memcpy(c, d, cut);
		(void)ks_artefact_parse_bytes(ks_artefact_get(parser), "", path, c, cut, NULL, discard,
					      NULL, &err);
		free(c);
	}
	uint32_t seed = 12345;
	uint8_t *c = malloc(n);
	for (int round = 0; round < 3000; round++) {
		memcpy(c, d, n);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % (n < 4096 ? n : 4096 + (seed % (n - 4096 + 1)));
			seed = seed * 1103515245u + 12345u;
			c[at] = (uint8_t)(seed >> 16);
		}
		(void)ks_artefact_parse_bytes(ks_artefact_get(parser), "", path, c, n, NULL, discard,
					      NULL, &err);
	}
	free(c);
}

/* ---- thumbcache ------------------------------------------------------------------- */

static void tc_entry(struct out *o, int win7, uint64_t hash, const struct pic *p, uint32_t w,
		     uint32_t h)
{
	char id[17];
	snprintf(id, sizeof id, "%016llx", (unsigned long long)hash);
	size_t hdr = win7 ? 48 : 56, idn = 32, data = p ? p->n : 0;
	size_t pad = (8 - (hdr + idn + data) % 8) % 8;
	size_t start = o->n;
	put(o, "CMMM", 4);
	put32(o, (uint32_t)(hdr + idn + pad + data));
	put64(o, hash);
	put32(o, (uint32_t)idn);
	put32(o, (uint32_t)pad);
	put32(o, (uint32_t)data);
	if (win7) {
		put32(o, 0);
		put64(o, 0x1122334455667788ull); /* data CRC (not checked) */
		put64(o, 0x8877665544332211ull); /* header CRC */
	} else {
		put32(o, w);
		put32(o, h);
		put32(o, 0);
		put64(o, 0x1122334455667788ull);
		put64(o, 0x8877665544332211ull);
	}
	CHECK(o->n - start == hdr);
	utf16(o, id);
	zeros(o, pad);
	if (p)
		put(o, p->b, p->n);
}

static struct out make_thumbcache(int win7)
{
	struct out o = {0};
	put(&o, "CMMM", 4);
	put32(&o, win7 ? 0x15 : 0x20);
	put32(&o, win7 ? 1 : 3); /* cache type: 32 / 96 */
	if (win7) {
		put32(&o, 24); /* first entry */
		put32(&o, 0);  /* first available, set below */
		put32(&o, 4);  /* entries */
	} else {
		put32(&o, 0);  /* unknown */
		put32(&o, 24); /* first entry */
		put32(&o, 0);  /* first available, set below */
	}
	tc_entry(&o, win7, 0x5d3c9a0b12ef4410ull, &jpg_small, 40, 26);
	tc_entry(&o, win7, 0x0000000000000001ull, NULL, 0, 0); /* placeholder */
	tc_entry(&o, win7, 0xa1b2c3d4e5f60718ull, &png_small, 48, 48);
	tc_entry(&o, win7, 0x0badc0ffee000002ull, &bmp_small, 16, 16);
	set32(&o, win7 ? 16 : 20, (uint32_t)o.n);
	zeros(&o, 256); /* free space, then a remnant of an older entry */
	tc_entry(&o, win7, 0x00000000deadbeefull, &jpg_big, 0, 0);
	return o;
}

static void test_thumbcache(void)
{
	for (int win7 = 0; win7 < 2; win7++) {
		struct out o = make_thumbcache(win7);
		struct ks_err err = {0};
		const char *path = "/Users/alex/AppData/Local/Microsoft/Windows/Explorer/thumbcache_96.db";
		const struct ks_artefact_ops *ops = NULL;
		CHECK(ks_artefact_probe(path, o.b, o.n, &ops, &err) == KS_OK && ops &&
		      strcmp(ops->name, "windows-thumbcache") == 0);
		CHECK(parse("windows-thumbcache", path, o.b, o.n, collect, &err) == KS_OK);
		CHECK(nrefs == 4); /* the placeholder has no thumbnail */
		const struct got *g = find("entry 5d3c9a0b12ef4410");
		CHECK(same(g, &jpg_small));
		CHECK(g && g->kind == KS_REF_THUMBNAIL && g->path[0] == '\0');
		CHECK(g && strstr(g->note, "thumbcache_96.db"));
		if (!win7)
			CHECK(g && strstr(g->note, "40x26"));
		CHECK(same(find("entry a1b2c3d4e5f60718"), &png_small));
		CHECK(same(find("entry 0badc0ffee000002"), &bmp_small));
		g = find("entry 00000000deadbeef");
		CHECK(same(g, &jpg_big));
		CHECK(g && strstr(g->note, "remnant"));
		torture("windows-thumbcache", path, o.b, o.n);
		free(o.b);
	}
	struct ks_err err = {0};
	CHECK(parse("windows-thumbcache", "/x/thumbcache_32.db", (const uint8_t *)"CMMM", 4, collect,
		    &err) == KS_E_EVIDENCE);
}

/* ---- Thumbs.db: a small compound-file writer ------------------------------------------ */

#define SS 512u
#define MSS 64u
#define ENDCH 0xFFFFFFFEu
#define FREES 0xFFFFFFFFu
#define NOSTREAM 0xFFFFFFFFu

struct cfb_stream {
	const char *name;
	const uint8_t *data;
	size_t len;
	uint32_t start; /* filled by the writer */
};

static size_t up(size_t n, size_t to)
{
	return (n + to - 1) / to;
}

static struct out make_cfb(struct cfb_stream *s, size_t n)
{
	/* Mini stream: every stream under 4096 bytes, 64-byte sectors. */
	struct out mini = {0};
	uint32_t *minifat = calloc(4096, sizeof *minifat);
	size_t nmini = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i].len >= 4096 || s[i].len == 0)
			continue;
		size_t k = up(s[i].len, MSS);
		s[i].start = (uint32_t)nmini;
		for (size_t j = 0; j < k; j++, nmini++)
			minifat[nmini] = j + 1 < k ? (uint32_t)(nmini + 1) : ENDCH;
		put(&mini, s[i].data, s[i].len);
		zeros(&mini, k * MSS - s[i].len);
	}
	size_t dir_secs = up((1 + n) * 128, SS), minifat_secs = up(nmini * 4, SS);
	size_t mini_secs = up(mini.n, SS), big_secs = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i].len >= 4096)
			big_secs += up(s[i].len, SS);
	size_t body = dir_secs + minifat_secs + mini_secs + big_secs, fat_secs = 1;
	while (fat_secs * (SS / 4) < body + fat_secs)
		fat_secs++;
	size_t total = fat_secs + body;
	uint32_t *fat = malloc(fat_secs * (SS / 4) * sizeof *fat);
	for (size_t i = 0; i < fat_secs * (SS / 4); i++)
		fat[i] = FREES;
	for (size_t i = 0; i < fat_secs; i++)
		fat[i] = 0xFFFFFFFDu;
	size_t next = fat_secs;
	/* chain(k sectors) from next */
#define CHAIN(first, k)                                                                        \
	do {                                                                                   \
		first = (uint32_t)next;                                                        \
		for (size_t j_ = 0; j_ < (k); j_++, next++)                                    \
			fat[next] = j_ + 1 < (k) ? (uint32_t)(next + 1) : ENDCH;               \
	} while (0)
	uint32_t dir_first, minifat_first = ENDCH, mini_first = ENDCH;
	CHAIN(dir_first, dir_secs);
	if (minifat_secs)
		CHAIN(minifat_first, minifat_secs);
	if (mini_secs)
		CHAIN(mini_first, mini_secs);
	for (size_t i = 0; i < n; i++)
		if (s[i].len >= 4096)
			CHAIN(s[i].start, up(s[i].len, SS));
	CHECK(next == total);

	struct out o = {0};
	static const uint8_t sig[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	put(&o, sig, 8);
	zeros(&o, 16);        /* CLSID */
	put16(&o, 0x3E);      /* minor */
	put16(&o, 3);         /* major */
	put16(&o, 0xFFFE);    /* byte order */
	put16(&o, 9);         /* sector shift */
	put16(&o, 6);         /* mini sector shift */
	zeros(&o, 6);
	put32(&o, 0);         /* directory sectors (v3: 0) */
	put32(&o, (uint32_t)fat_secs);
	put32(&o, dir_first);
	put32(&o, 0);         /* transaction */
	put32(&o, 4096);      /* mini stream cutoff */
	put32(&o, minifat_first);
	put32(&o, (uint32_t)minifat_secs);
	put32(&o, ENDCH);     /* first DIFAT sector */
	put32(&o, 0);
	for (size_t i = 0; i < 109; i++)
		put32(&o, i < fat_secs ? (uint32_t)i : FREES);
	CHECK(o.n == SS);
	for (size_t i = 0; i < fat_secs * (SS / 4); i++)
		put32(&o, fat[i]);
	/* directory */
	size_t dir_at = o.n;
	for (size_t i = 0; i <= n; i++) {
		size_t e = o.n;
		const char *name = i == 0 ? "Root Entry" : s[i - 1].name;
		utf16(&o, name);
		put16(&o, 0);
		zeros(&o, 64 - (o.n - e));
		put16(&o, (uint16_t)(2 * strlen(name) + 2));
		o.b[o.n] = i == 0 ? 5 : 2; /* type */
		o.b[o.n + 1] = 1;           /* black */
		o.n += 2;
		put32(&o, NOSTREAM);        /* left */
		put32(&o, i > 0 && i < n ? (uint32_t)(i + 1) : NOSTREAM); /* right */
		put32(&o, i == 0 && n ? 1 : NOSTREAM);                    /* child */
		zeros(&o, 16 + 4);          /* CLSID, state bits */
		put64(&o, 0);               /* created */
		put64(&o, 0);               /* modified */
		put32(&o, i == 0 ? mini_first : s[i - 1].len ? s[i - 1].start : ENDCH);
		put64(&o, i == 0 ? mini.n : s[i - 1].len);
		CHECK(o.n - e == 128);
	}
	while (o.n - dir_at < dir_secs * SS) { /* unused entries */
		zeros(&o, 64 + 2 + 2);
		put32(&o, NOSTREAM);
		put32(&o, NOSTREAM);
		put32(&o, NOSTREAM);
		zeros(&o, 128 - 80);
	}
	for (size_t i = 0; i < minifat_secs * (SS / 4); i++)
		put32(&o, i < nmini ? minifat[i] : FREES);
	put(&o, mini.b, mini.n);
	zeros(&o, mini_secs * SS - mini.n);
	for (size_t i = 0; i < n; i++)
		if (s[i].len >= 4096) {
			put(&o, s[i].data, s[i].len);
			zeros(&o, up(s[i].len, SS) * SS - s[i].len);
		}
	CHECK(o.n == (total + 1) * SS);
	free(fat);
	free(minifat);
	free(mini.b);
	return o;
#undef CHAIN
}

/* A thumbnail stream: u32 header length 12, u32 index, u32 data length, data. */
static struct out thumb_stream(const uint8_t *d, size_t n, uint32_t index)
{
	struct out o = {0};
	put32(&o, 12);
	put32(&o, index);
	put32(&o, (uint32_t)n);
	put(&o, d, n);
	return o;
}

#define FT(unix) (((uint64_t)(unix) + 11644473600ull) * 10000000ull)

static void catalog_entry(struct out *o, uint32_t id, uint64_t ft, const char *name)
{
	put32(o, (uint32_t)(16 + 2 * strlen(name) + 4));
	put32(o, id);
	put64(o, ft);
	utf16(o, name);
	put32(o, 0); /* terminator and padding */
}

static void test_thumbsdb(void)
{
	struct out cat = {0};
	put16(&cat, 16);
	put16(&cat, 7);
	put32(&cat, 4);
	put32(&cat, 96);
	put32(&cat, 96);
	catalog_entry(&cat, 1, FT(1690000000), "rose.jpg");
	catalog_entry(&cat, 2, FT(1690000060), "plasma big.jpg");
	catalog_entry(&cat, 12, FT(1690000120), "wizard.jpg");
	catalog_entry(&cat, 3, FT(1690000180), "old.jpg");
	struct out s1 = thumb_stream(jpg_small.b, jpg_small.n, 1);
	struct out s2 = thumb_stream(jpg_big.b, jpg_big.n, 2);
	struct out s12 = thumb_stream(png_small.b, png_small.n, 12);
	/* A "type 1" thumbnail: JPEG entropy data without its tables. */
	uint8_t raw[300];
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (uint8_t)(i * 31 + 7);
	struct out s3 = {0};
	put32(&s3, 12);
	put32(&s3, 1);
	put32(&s3, sizeof raw);
	put(&s3, raw, sizeof raw);
	/* Windows 7 style: cache-id stream, picture after a 24-byte header. */
	struct out s7 = {0};
	zeros(&s7, 24);
	put(&s7, png_small.b, png_small.n);
	struct cfb_stream st[] = {
		{"Catalog", cat.b, cat.n, 0}, {"1", s1.b, s1.n, 0},   {"2", s2.b, s2.n, 0},
		{"21", s12.b, s12.n, 0},      {"3", s3.b, s3.n, 0},
		{"256_0123456789abcdef", s7.b, s7.n, 0},
	};
	CHECK(jpg_big.n >= 4096); /* stream "2" lives in regular sectors */
	struct out f = make_cfb(st, sizeof st / sizeof st[0]);
	char p[600];
	snprintf(p, sizeof p, "%s/Thumbs.db", tmp);
	FILE *fp = fopen(p, "wb");
	if (fp) {
		fwrite(f.b, 1, f.n, fp);
		fclose(fp);
	}
	/* Cross-check the writer with an independent reader when 7z is there. */
	if (system("command -v 7z >/dev/null 2>&1") == 0) {
		CHECK(sh("cd '%s' && 7z l Thumbs.db 2>/dev/null | grep -q 256_0123456789abcdef", tmp) ==
		      0);
		CHECK(sh("cd '%s' && 7z e -so Thumbs.db 2 2>/dev/null | tail -c +13 | cmp -s - big.jpg",
			 tmp) == 0);
	}

	const char *path = "/Documents and Settings/alex/My Documents/holiday/Thumbs.db";
	struct ks_err err = {0};
	CHECK(parse("windows-thumbsdb", path, f.b, f.n, collect, &err) == KS_OK);
	if (err.msg[0])
		fprintf(stderr, "thumbs.db: %s\n", err.msg);
	CHECK(nrefs == 5);
	const struct got *g = find("stream 1 (catalog id 1)");
	CHECK(same(g, &jpg_small));
	if (g) {
		CHECK_STR(g->name, "rose.jpg");
		CHECK_STR(g->path, "/Documents and Settings/alex/My Documents/holiday/rose.jpg");
		CHECK(g->time == 1690000000);
		CHECK(g->kind == KS_REF_THUMBNAIL);
	}
	g = find("stream 2 (catalog id 2)");
	CHECK(same(g, &jpg_big));
	CHECK(g && strcmp(g->name, "plasma big.jpg") == 0 && g->time == 1690000060);
	g = find("stream 21 (catalog id 12)");
	CHECK(same(g, &png_small));
	CHECK(g && strcmp(g->name, "wizard.jpg") == 0);
	g = find("stream 3 (catalog id 3)");
	CHECK(g && g->thumb == NULL && strstr(g->note, "not rebuilt"));
	g = find("stream 256_0123456789abcdef");
	CHECK(same(g, &png_small));
	CHECK(g && g->path[0] == '\0');
	torture("windows-thumbsdb", path, f.b, f.n);

	/* A FAT chain that loops and a FAT sector outside the file. */
	struct out bad = {0};
	put(&bad, f.b, f.n);
	size_t fat0 = SS;
	uint32_t s2start = st[2].start;
	set32(&bad, fat0 + 4 * s2start, s2start); /* stream 2's first sector points at itself */
	CHECK(parse("windows-thumbsdb", path, bad.b, bad.n, collect, &err) == KS_OK);
	g = find("stream 2 (catalog id 2)");
	CHECK(g && g->thumb == NULL && strstr(g->note, "loops"));
	set32(&bad, 0x4C, 0x00FFFFFF);
	CHECK(parse("windows-thumbsdb", path, bad.b, bad.n, collect, &err) == KS_E_EVIDENCE);
	CHECK(strstr(err.msg, "FAT") != NULL);
	free(bad.b);
	free(f.b);
	free(cat.b);
	free(s1.b);
	free(s2.b);
	free(s12.b);
	free(s3.b);
	free(s7.b);
}

/* ---- freedesktop thumbnails, MiniThumbFile, the stage ---------------------------------- */

static void md5hex(const char *s, char out[33])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < n && i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_xdg_and_stage(void)
{
	const char *uri = "file:///home/alex/Pictures/caf%C3%A9%20trip/rose.jpg";
	char stem[33], p[800];
	md5hex(uri, stem);
	char im_uri[200]; /* ImageMagick reads '%' as an escape: double it */
	size_t k = 0;
	for (const char *q = uri; *q && k + 2 < sizeof im_uri; q++) {
		if (*q == '%')
			im_uri[k++] = '%';
		im_uri[k++] = *q;
	}
	im_uri[k] = '\0';
	CHECK(sh("cd '%s' && convert-im6.q16 rose: -resize 64x64 -set Thumb::URI '%s' "
		 "-set Thumb::MTime 1690000000 -set Thumb::Size 4242 -set Thumb::Mime image/jpeg "
		 "xdg.png",
		 tmp, im_uri) == 0);
	struct pic xdg = load("xdg.png");
	/* A MiniThumbFile: block 0 empty, 1 and 3 present, 2 with a length past its block. */
	struct out mt = {0};
	zeros(&mt, 10000);
	for (int blk = 1; blk <= 3; blk++) {
		size_t at = mt.n;
		const struct pic *pp = blk == 3 ? &png_small : &jpg_small;
		uint8_t h[13] = {1, 0, 0, 0, 0, 0, 0, 0x12, (uint8_t)blk, 0, 0, 0, 0};
		uint32_t n = blk == 2 ? 20000 : (uint32_t)pp->n;
		h[9] = (uint8_t)(n >> 24), h[10] = (uint8_t)(n >> 16), h[11] = (uint8_t)(n >> 8),
		h[12] = (uint8_t)n;
		put(&mt, h, 13);
		put(&mt, pp->b, pp->n);
		zeros(&mt, 10000 - (mt.n - at));
	}
	struct out tc = make_thumbcache(0);

	struct ks_artefact_stage *stg = NULL;
	struct ks_err err = {0};
	char scratch[700];
	snprintf(scratch, sizeof scratch, "%s/scratch", tmp);
	sh("mkdir -p '%s'", scratch);
	CHECK(ks_artefact_stage_new(scratch, NULL, &stg, &err) == KS_OK);
	if (!stg)
		return;
	char xdgpath[200];
	snprintf(xdgpath, sizeof xdgpath, "/home/alex/.cache/thumbnails/normal/%s.png", stem);
	CHECK(ks_artefact_stage_offer_bytes(stg, "p1", xdgpath, 0, xdg.b, xdg.n, 1, &err) == 1);
	/* The same PNG under a name that is not the MD5 of its URI. */
	CHECK(ks_artefact_stage_offer_bytes(stg, "p1",
					    "/home/alex/.cache/thumbnails/large/"
					    "00000000000000000000000000000000.png",
					    0, xdg.b, xdg.n, 2, &err) == 1);
	CHECK(ks_artefact_stage_offer_bytes(stg, "p1",
					    "/sdcard/DCIM/.thumbnails/.thumbdata3--1967290299", 0,
					    mt.b, mt.n, 3, &err) == 1);
	CHECK(ks_artefact_stage_offer_bytes(stg, "p2", "/Users/a/thumbcache_256.db", 0, tc.b, tc.n, 4,
					    &err) == 1);
	/* Not wanted: an ordinary picture, a PNG in the thumbnail folder with a wrong name. */
	CHECK(ks_artefact_stage_offer_bytes(stg, "p1", "/home/alex/Pictures/rose.png", 0, xdg.b,
					    xdg.n, 5, &err) == 0);
	CHECK(ks_artefact_stage_offer_bytes(stg, "p1", "/home/alex/.cache/thumbnails/normal/x.png", 0,
					    xdg.b, xdg.n, 6, &err) == 0);
	/* Too big for the limits: refused, the stage goes on. */
	struct ks_artefact_stage *small = NULL;
	struct ks_artefact_limits lim = {.max_cache_bytes = 100};
	CHECK(ks_artefact_stage_new(scratch, &lim, &small, &err) == KS_OK);
	CHECK(ks_artefact_stage_offer_bytes(small, "p2", "/Users/a/thumbcache_256.db", 0, tc.b, tc.n,
					    7, &err) == KS_E_LIMIT);
	ks_artefact_stage_free(small);

	clear();
	CHECK(ks_artefact_stage_run(stg, collect, NULL, NULL, &err) == KS_OK);
	CHECK(nrefs == 2 + 2 + 4);
	int xdg_ok = 0, renamed = 0, mini = 0, cache = 0;
	for (size_t i = 0; i < nrefs; i++) {
		const struct got *g = &refs[i];
		if (strcmp(g->record, "Thumb::URI") == 0) {
			CHECK_STR(g->url, uri);
			CHECK_STR(g->path, "/home/alex/Pictures/café trip/rose.jpg");
			CHECK(g->time == 1690000000 && g->size == 4242);
			CHECK(g->thumb == NULL && g->thumb_path[0] == '/');
			if (strstr(g->thumb_path, stem)) {
				xdg_ok += g->note[0] == '\0';
			} else {
				renamed += strstr(g->note, "not the MD5") != NULL;
			}
		} else if (strncmp(g->record, "block ", 6) == 0) {
			mini++;
			if (strcmp(g->record, "block 1") == 0)
				CHECK(same(g, &jpg_small) && strstr(g->note, "_id 1"));
			if (strcmp(g->record, "block 3") == 0)
				CHECK(same(g, &png_small));
			CHECK(strcmp(g->record, "block 2") != 0);
		} else if (strncmp(g->record, "entry ", 6) == 0) {
			cache++;
		}
	}
	CHECK(xdg_ok == 1 && renamed == 1 && mini == 2 && cache == 4);
	ks_artefact_stage_free(stg);
	snprintf(p, sizeof p, "rmdir '%s' 2>/dev/null", scratch);
	CHECK(system(p) == 0); /* nothing left behind */
	torture("freedesktop-thumbnail", xdgpath, xdg.b, xdg.n);
	torture("android-minithumb", "/x/.thumbdata3--1", mt.b, mt.n > 20000 ? 20000 : mt.n);
	free(xdg.b);
	free(mt.b);
	free(tc.b);
}

int main(void)
{
	tmp = ktest_tmpdir();
	CHECK(tmp != NULL);
	if (!tmp)
		return ktest_done();
	if (system("command -v convert-im6.q16 >/dev/null 2>&1") != 0) {
		printf("convert-im6.q16 missing: skipped\n");
		return 77;
	}
	CHECK(sh("cd '%s' && convert-im6.q16 rose: -resize 40x26 small.jpg"
		 " && convert-im6.q16 -seed 7 -size 96x96 plasma:fractal -quality 95 big.jpg"
		 " && convert-im6.q16 wizard: -resize 48x48 small.png"
		 " && convert-im6.q16 rose: -resize 16x16 bmp3:small.bmp",
		 tmp) == 0);
	jpg_small = load("small.jpg");
	jpg_big = load("big.jpg");
	png_small = load("small.png");
	bmp_small = load("small.bmp");
	if (!jpg_small.b || !jpg_big.b || !png_small.b || !bmp_small.b)
		return ktest_done();
	test_thumbcache();
	test_thumbsdb();
	test_xdg_and_stage();
	clear();
	free(jpg_small.b);
	free(jpg_big.b);
	free(png_small.b);
	free(bmp_small.b);
	return ktest_done();
}
