/* Carving support in the media layer: where a picture or video may start (a table of
 * two-byte signature pairs searched with SSE2/AVX2 or a scalar loop, each hit then
 * confirmed by the format's own sniff) and how long it is (ks_media_measure: the
 * format's validator walking in measure mode, so the same structure knowledge
 * decides both "is it one" and "where does it end"). */
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KS_CARVE_X86 1
#endif

#include "sniff_impl.h"

/* One signature: bytes b0 b1 found `at` bytes after the item's first byte; the
 * formats whose sniff then decides (first strong claim wins). */
struct carve_sig {
	uint8_t b0, b1, at;
	const char *types[4];
};

static const struct carve_sig sigs[] = {
    {0xFF, 0xD8, 0, {"jpeg"}},
    {0x89, 'P', 0, {"png"}},
    {'G', 'I', 0, {"gif"}},
    {'B', 'M', 0, {"bmp"}},
    {'R', 'I', 0, {"webp", "avi"}},
    {'I', 'I', 0, {"tiff"}},
    {'M', 'M', 0, {"tiff"}},
    {'f', 't', 4, {"heif", "mp4", "mov", "3gp"}}, /* "ftyp" after the box size */
    {0x1A, 0x45, 0, {"mkv", "webm"}},
    {0x30, 0x26, 0, {"asf"}},
    {'F', 'L', 0, {"flv"}},
    {0x01, 0xBA, 2, {"mpeg-ps"}}, /* 00 00 01 BA: the rare half */
};
#define NSIGS (sizeof sigs / sizeof sigs[0])
#define MAX_AT 4

/* Full check of the magic the pair belongs to, before any sniff runs. */
static int magic_ok(const struct carve_sig *sg, const uint8_t *p, size_t n)
{
	switch (sg->b0) {
	case 0xFF:
		return n >= 3 && p[2] == 0xFF;
	case 0x89:
		return n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0;
	case 'G':
		return n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0);
	case 'B':
		return n >= 18 && p[6] == 0 && p[7] == 0 && p[8] == 0 && p[9] == 0;
	case 'R':
		return n >= 12 && memcmp(p, "RIFF", 4) == 0;
	case 'I':
		return n >= 4 && (p[2] == '*' || p[2] == '+') && p[3] == 0;
	case 'M':
		return n >= 4 && p[2] == 0 && (p[3] == '*' || p[3] == '+');
	case 'f':
		return n >= 16 && memcmp(p + 4, "ftyp", 4) == 0;
	case 0x1A:
		return n >= 4 && p[2] == 0xDF && p[3] == 0xA3;
	case 0x30:
		return n >= 16 && p[2] == 0xB2 && p[3] == 0x75;
	case 'F':
		return n >= 9 && p[2] == 'V' && p[3] == 1;
	case 0x01:
		return n >= 14 && p[0] == 0 && p[1] == 0;
	}
	return 0;
}

/* ---- the pair search: a bit per position i where buf[i], buf[i+1] is a pair ---- */

static int force_scalar;

static int cpu_avx2(void)
{
#if defined(KS_CARVE_X86) && (defined(__GNUC__) || defined(__clang__))
	static int cached = -1;
	if (cached < 0) {
		__builtin_cpu_init();
		cached = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	return cached;
#else
	return 0;
#endif
}

const char *ks_media_carve_impl(void)
{
	if (force_scalar)
		return "scalar";
#ifdef KS_CARVE_X86
	if (cpu_avx2())
		return "avx2";
#if defined(__SSE2__)
	return "sse2";
#endif
#endif
	return "scalar";
}

void ks_media_carve_force_scalar(int on)
{
	force_scalar = on;
}

/* SSE2: mask of the 16 positions from p where a pair starts (p[0..16] readable). */
#ifdef KS_CARVE_X86
#if defined(__SSE2__)
static uint32_t pairs16(const uint8_t *p)
{
	__m128i a = _mm_loadu_si128((const __m128i *)p);
	__m128i b = _mm_loadu_si128((const __m128i *)(p + 1));
	__m128i m = _mm_setzero_si128();
	for (size_t k = 0; k < NSIGS; k++) {
		__m128i x = _mm_cmpeq_epi8(a, _mm_set1_epi8((char)sigs[k].b0));
		__m128i y = _mm_cmpeq_epi8(b, _mm_set1_epi8((char)sigs[k].b1));
		m = _mm_or_si128(m, _mm_and_si128(x, y));
	}
	return (uint32_t)_mm_movemask_epi8(m);
}
#endif

#endif

/* First-byte table for the scalar search: bit k set when sigs[k].b0 is the byte. */
struct first_table {
	uint16_t bits[256];
};

static void first_table_init(struct first_table *t)
{
	memset(t, 0, sizeof *t);
	for (size_t k = 0; k < NSIGS; k++)
		t->bits[sigs[k].b0] |= (uint16_t)(1u << k);
}

static int pair_at(const struct first_table *t, const uint8_t *p)
{
	uint16_t b = t->bits[p[0]];
	for (size_t k = 0; b; k++, b >>= 1)
		if ((b & 1) && sigs[k].b1 == p[1])
			return 1;
	return 0;
}

/* ---- the scan ------------------------------------------------------------------ */

struct scan_state {
	const uint8_t *buf;
	size_t len, from, to;
	uint64_t size;
	ks_media_carve_fn fn;
	void *ctx;
	size_t next; /* no candidate before this (fn's skips) */
	int stop;
};

/* A pair starts at i: check each signature it may belong to. */
static void candidate(struct scan_state *s, size_t i)
{
	for (size_t k = 0; k < NSIGS && !s->stop; k++) {
		const struct carve_sig *sg = &sigs[k];
		if (s->buf[i] != sg->b0 || s->buf[i + 1] != sg->b1 || i < sg->at)
			continue;
		size_t p = i - sg->at;
		if (p < s->from || p >= s->to || p < s->next)
			continue;
		const uint8_t *h = s->buf + p;
		size_t n = s->len - p;
		if (!magic_ok(sg, h, n))
			continue;
		size_t hn = n < KS_SNIFF_BYTES ? n : KS_SNIFF_BYTES;
		for (int t = 0; t < 4 && sg->types[t]; t++) {
			const struct ks_media_format *fmt = ks_media_format_get(sg->types[t]);
			if (!fmt || fmt->sniff(h, hn, s->size - p) != KS_SNIFF_STRONG)
				continue;
			size_t r = s->fn(s->ctx, p, fmt);
			if (r == SIZE_MAX) {
				s->stop = 1;
				s->next = p;
			} else {
				s->next = r > p ? r : p + 1;
			}
			break;
		}
	}
}

#ifdef KS_CARVE_X86
/* AVX2: each byte is classified by its two nibbles (vpshufb table lookups, one
 * bit per signature in two groups of eight): a byte's bit k is set when it equals
 * sigs[k].b0 (first-byte tables) or sigs[k].b1 (second-byte tables); a pair starts
 * where the first-byte class of p[i] meets the second-byte class of p[i+1]. */
struct nib_tables {
	uint8_t lo[4][16], hi[4][16]; /* [b0 sigs 0-7, b0 sigs 8-15, b1 0-7, b1 8-15] */
};

static void nib_tables_init(struct nib_tables *t)
{
	memset(t, 0, sizeof *t);
	for (size_t k = 0; k < NSIGS; k++) {
		uint8_t bit = (uint8_t)(1u << (k & 7));
		int g = k < 8 ? 0 : 1;
		t->lo[g][sigs[k].b0 & 15] |= bit;
		t->hi[g][sigs[k].b0 >> 4] |= bit;
		t->lo[2 + g][sigs[k].b1 & 15] |= bit;
		t->hi[2 + g][sigs[k].b1 >> 4] |= bit;
	}
}

__attribute__((target("avx2"))) static size_t scan_avx2(struct scan_state *s, size_t i, size_t end)
{
	struct nib_tables nt;
	nib_tables_init(&nt);
	__m256i lo[4], hi[4];
	for (int g = 0; g < 4; g++) {
		lo[g] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)nt.lo[g]));
		hi[g] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)nt.hi[g]));
	}
	const __m256i low4 = _mm256_set1_epi8(0x0F);
	const uint8_t *buf = s->buf;
	for (; i + 33 <= s->len && i + 32 <= end && !s->stop; i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(buf + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(buf + i + 1));
		__m256i al = _mm256_and_si256(a, low4);
		__m256i ah = _mm256_and_si256(_mm256_srli_epi16(a, 4), low4);
		__m256i bl = _mm256_and_si256(b, low4);
		__m256i bh = _mm256_and_si256(_mm256_srli_epi16(b, 4), low4);
		__m256i m = _mm256_setzero_si256();
		for (int g = 0; g < 2; g++) {
			__m256i x = _mm256_and_si256(_mm256_shuffle_epi8(lo[g], al),
						     _mm256_shuffle_epi8(hi[g], ah));
			__m256i y = _mm256_and_si256(_mm256_shuffle_epi8(lo[2 + g], bl),
						     _mm256_shuffle_epi8(hi[2 + g], bh));
			m = _mm256_or_si256(m, _mm256_and_si256(x, y));
		}
		uint32_t bits =
		    ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(m, _mm256_setzero_si256()));
		while (bits && !s->stop) {
			size_t at = i + (size_t)__builtin_ctz(bits);
			bits &= bits - 1;
			if (at >= s->next)
				candidate(s, at);
		}
		if (s->next > i + 32)
			i = s->next - 32; /* skip what fn consumed */
	}
	return i;
}
#endif

size_t ks_media_carve_scan(const uint8_t *buf, size_t len, size_t from, size_t to, uint64_t size,
			   ks_media_carve_fn fn, void *ctx)
{
	if (to > len)
		to = len;
	if (size < len)
		size = len;
	struct scan_state s = {buf, len, from, to, size, fn, ctx, from, 0};
	if (from >= to || len < 2)
		return to;
	/* Pairs at i in [from, end): a start p = i - at lies in [from, to). */
	size_t end = to + MAX_AT < len - 1 ? to + MAX_AT : len - 1;
	size_t i = from;
#ifdef KS_CARVE_X86
	if (!force_scalar && cpu_avx2()) {
		i = scan_avx2(&s, i, end);
	}
#if defined(__SSE2__)
	else if (!force_scalar) {
		for (; i + 17 <= len && i + 16 <= end && !s.stop; i += 16) {
			uint32_t m = pairs16(buf + i);
			while (m && !s.stop) {
				size_t at = i + (size_t)__builtin_ctz(m);
				m &= m - 1;
				if (at >= s.next)
					candidate(&s, at);
			}
			if (s.next > i + 16)
				i = s.next - 16;
		}
	}
#endif
#endif
	struct first_table t;
	first_table_init(&t);
	for (; i < end && !s.stop; i++) {
		if (i < s.next) {
			i = s.next - 1;
			continue;
		}
		if (pair_at(&t, buf + i))
			candidate(&s, i);
	}
	if (s.stop)
		return s.next;
	return s.next > to ? s.next : to;
}

/* ---- measuring ----------------------------------------------------------------- */

static int zero_tail_suspect(const char *type)
{
	static const char *const t[] = {"heif", "mp4",	"mov", "3gp",  "avi",
					"mkv",	"webm", "asf", "webp", NULL};
	for (const char *const *p = t; *p; p++)
		if (strcmp(*p, type) == 0)
			return 1;
	return 0;
}

enum ks_valid ks_media_measure(const char *type, const uint8_t *data, size_t len, uint64_t *end,
			       uint32_t *w, uint32_t *h, const char **why)
{
	struct ks_media_facts f = {0};
	f.size = len;
	f.measure = 1;
	const struct ks_media_format *fmt = ks_media_format_get(type);
	enum ks_valid v;
	if (!fmt)
		v = ks_verdict(&f, KS_VALID_BAD, "unknown type");
	else if (!data || !len)
		v = ks_verdict(&f, KS_VALID_BAD, "no data");
	else
		v = fmt->validate(data, len, &f);
	uint64_t e = 0;
	if (v != KS_VALID_BAD)
		e = f.end && f.end <= len ? f.end : len;
	/* What follows the item is not part of it: no note about it. */
	if (v == KS_VALID_OK && f.why &&
	    (!strncmp(f.why, "data after", 10) || !strncmp(f.why, "zero padding", 12)))
		f.why = NULL;
	/* A container whose declared sizes were met only because zeros fill the rest
	 * (a cut file in zeroed space) is not whole: compressed data does not end in a
	 * run of zeros. Not for pictures whose pixels may be stored raw (BMP, TIFF). */
	if (v == KS_VALID_OK && fmt && e >= 64 && zero_tail_suspect(fmt->name) &&
	    ks_media_all_zero(data, (size_t)e - (e / 4 < 4096 ? (size_t)e / 4 : 4096), (size_t)e)) {
		v = KS_VALID_TRUNCATED;
		f.why = "ends in a run of zeros (cut and zero-filled)";
	}
	if (end)
		*end = e;
	if (w)
		*w = f.width;
	if (h)
		*h = f.height;
	if (why)
		*why = f.why;
	return v;
}

/* ---- the extent of a long item from its headers --------------------------------- */

static enum ks_valid bmff_extent(ks_media_read_fn rd, void *ctx, uint64_t avail, uint64_t *end)
{
	uint64_t pos = 0;
	int moov = 0;
	for (unsigned boxes = 0; pos < avail && boxes < 1000000; boxes++) {
		uint8_t h[16];
		size_t n = rd(ctx, pos, h, sizeof h);
		if (n < 8 || (pos > 0 && !ks_media_bmff_top_box(h + 4)))
			break; /* the next bytes are not a box of this file */
		if (pos == 0 && memcmp(h + 4, "ftyp", 4) != 0)
			return KS_VALID_BAD;
		uint64_t size = ks_be32(h);
		if (size == 1) {
			if (n < 16)
				break;
			size = ks_be64(h + 8);
			if (size < 16)
				return pos ? KS_VALID_TRUNCATED : KS_VALID_BAD;
		} else if (size == 0 || size < 8) {
			break; /* "to the end of the file": no end of its own */
		}
		if (!memcmp(h + 4, "moov", 4))
			moov = 1;
		if (size > avail - pos) {
			*end = avail;
			return KS_VALID_TRUNCATED;
		}
		pos += size;
	}
	*end = pos;
	if (!pos)
		return KS_VALID_BAD;
	return moov ? KS_VALID_OK : KS_VALID_TRUNCATED;
}

static enum ks_valid avi_extent(ks_media_read_fn rd, void *ctx, uint64_t avail, uint64_t *end)
{
	uint64_t pos = 0;
	for (int form = 0; form < 100000; form++) {
		uint8_t h[12];
		if (rd(ctx, pos, h, sizeof h) < sizeof h || memcmp(h, "RIFF", 4) != 0 ||
		    memcmp(h + 8, form ? "AVIX" : "AVI ", 4) != 0)
			break;
		uint64_t size = 8 + (uint64_t)ks_le32(h + 4);
		if (size < 12)
			break;
		if (size > avail - pos) {
			*end = avail;
			return KS_VALID_TRUNCATED;
		}
		pos += size + (size & 1 && size < avail - pos ? 1 : 0);
	}
	*end = pos;
	return pos ? KS_VALID_OK : KS_VALID_BAD;
}

enum ks_valid ks_media_extent(const char *type, ks_media_read_fn rd, void *ctx, uint64_t avail,
			      uint64_t *end)
{
	*end = 0;
	if (!type || !rd)
		return KS_VALID_BAD;
	if (!strcmp(type, "heif") || !strcmp(type, "mp4") || !strcmp(type, "mov") ||
	    !strcmp(type, "3gp"))
		return bmff_extent(rd, ctx, avail, end);
	if (!strcmp(type, "avi"))
		return avi_extent(rd, ctx, avail, end);
	return KS_VALID_BAD;
}
