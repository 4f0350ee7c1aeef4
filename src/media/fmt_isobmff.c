/* ISO base media files (ISO/IEC 14496-12) and their QuickTime ancestor: HEIF/AVIF
 * pictures, MP4, QuickTime MOV and 3GPP videos. The ftyp brands decide which of the
 * four it is (an audio-only M4A is none of them); the validator walks the top-level
 * boxes to the end and looks inside moov (video tracks) or meta (HEIF item sizes). */
#include "sniff_impl.h"

enum bmff_class { BMFF_NONE, BMFF_HEIF, BMFF_MP4, BMFF_MOV, BMFF_3GP, BMFF_AUDIO };

static const char *const heif_brands[] = {"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm",
					  "hevs", "mif1", "msf1", "avif", "avis", NULL};
static const char *const mp4_brands[] = {
    "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9", "mp41", "mp42",
    "mp71", "avc1", "M4V ", "M4VH", "M4VP", "f4v ", "dash", "mmp4", "MSNV", "NDAS", "NDSC",
    "NDSH", "NDSM", "NDSP", "NDSS", "NDXC", "NDXH", "NDXM", "NDXP", "NDXS", "XAVC", NULL};
static const char *const audio_brands[] = {"M4A ", "M4B ", "M4P ", "F4A ", "F4B ", NULL};
/* Top-level atoms an old QuickTime file (no ftyp) may start with. */
static const char *const qt_first[] = {"moov", "mdat", "wide", "free", "skip", "pnot", NULL};

static int brand_in(const uint8_t *b, const char *const *set)
{
	for (; *set; set++)
		if (memcmp(b, *set, 4) == 0)
			return 1;
	return 0;
}

/* A single brand's class; HEIF is looked for first among compatible brands. */
static enum bmff_class brand_class(const uint8_t *b)
{
	if (brand_in(b, heif_brands))
		return BMFF_HEIF;
	if (memcmp(b, "qt  ", 4) == 0)
		return BMFF_MOV;
	if (memcmp(b, "3gp", 3) == 0 || memcmp(b, "3g2", 3) == 0)
		return BMFF_3GP;
	if (brand_in(b, mp4_brands))
		return BMFF_MP4;
	if (brand_in(b, audio_brands))
		return BMFF_AUDIO;
	return BMFF_NONE;
}

/* Class of a file starting with an ftyp box (d[0..len) holds at least its head). */
static enum bmff_class ftyp_class(const uint8_t *d, size_t len)
{
	if (len < 16 || memcmp(d + 4, "ftyp", 4) != 0)
		return BMFF_NONE;
	uint32_t size = ks_be32(d);
	if (size < 16 || size > 4096 || size % 4)
		return BMFF_NONE;
	enum bmff_class c = brand_class(d + 8);
	if (c != BMFF_NONE)
		return c;
	size_t end = size < len ? size : len & ~(size_t)3;
	for (size_t i = 16; i + 4 <= end; i += 4)
		if (brand_in(d + i, heif_brands))
			return BMFF_HEIF;
	for (size_t i = 16; i + 4 <= end; i += 4) {
		c = brand_class(d + i);
		if (c != BMFF_NONE)
			return c;
	}
	return BMFF_NONE;
}

/* An old QuickTime movie: a known first atom whose size fits the item, followed (if
 * the head shows it) by another printable atom. Weak: four letters and a size. */
static int qt_old_sniff(const uint8_t *d, size_t len, uint64_t size)
{
	if (len < 16 || !brand_in(d + 4, qt_first))
		return 0;
	uint64_t n = ks_be32(d);
	if (n == 1)
		n = ks_be64(d + 8);
	else if (n == 0)
		n = memcmp(d + 4, "mdat", 4) == 0 ? size : 0;
	if (n < 8 || n > size)
		return 0;
	if (memcmp(d + 4, "moov", 4) == 0 && !ks_fourcc_ok(d + 12))
		return 0;
	if (n + 8 <= len && !(brand_in(d + n + 4, qt_first) || ks_fourcc_ok(d + n + 4)))
		return 0;
	return 1;
}

static int sniff_class(const uint8_t *d, size_t len, uint64_t size, enum bmff_class want)
{
	enum bmff_class c = ftyp_class(d, len);
	if (c == want)
		return KS_SNIFF_STRONG;
	if (c == BMFF_NONE && want == BMFF_MOV && !ks_has(d, len, 4, "ftyp", 4) &&
	    qt_old_sniff(d, len, size))
		return KS_SNIFF_WEAK;
	return KS_SNIFF_NO;
}

int ks_media_sniff_heif(const uint8_t *d, size_t len, uint64_t size)
{
	return sniff_class(d, len, size, BMFF_HEIF);
}
int ks_media_sniff_mp4(const uint8_t *d, size_t len, uint64_t size)
{
	return sniff_class(d, len, size, BMFF_MP4);
}
int ks_media_sniff_mov(const uint8_t *d, size_t len, uint64_t size)
{
	return sniff_class(d, len, size, BMFF_MOV);
}
int ks_media_sniff_3gp(const uint8_t *d, size_t len, uint64_t size)
{
	return sniff_class(d, len, size, BMFF_3GP);
}

/* HEIF item properties kept for the size lookup (ipco order, 1-based in ipma). */
#define HEIF_PROPS 64

/* What the walk inside moov/meta found. */
struct bmff_info {
	uint32_t vw, vh;  /* first video track's size */
	int pict;	  /* meta handler is 'pict' */
	int damaged;	  /* a child box that does not fit its parent */
	uint32_t primary; /* pitm item id, 0 if none */
	int has_primary;
	size_t nprops; /* properties seen in ipco */
	struct {
		char type; /* 's' ispe, 'c' clap, 0 other */
		uint32_t w, h;
	} props[HEIF_PROPS];
	size_t ipma, ipma_len; /* payload of ipma, 0 length if none */
};

/* One track, while its boxes are walked. */
struct trak_info {
	struct bmff_info *bi;
	uint32_t w, h;	 /* tkhd: display size (after pixel aspect) */
	uint32_t sw, sh; /* first visual sample entry: coded size */
	int video;
};

/* Header of the box at pos inside a parent ending at end (end <= buffer length).
 * Returns 0 with *hdr, *size set; -1 if malformed; 1 if it runs past end. */
static int child_box(const uint8_t *d, size_t pos, size_t end, size_t *hdr, uint64_t *size)
{
	if (!ks_fits(pos, 8, end))
		return 1;
	uint64_t n = ks_be32(d + pos);
	*hdr = 8;
	if (n == 1) {
		if (!ks_fits(pos, 16, end))
			return 1;
		n = ks_be64(d + pos + 8);
		*hdr = 16;
	} else if (n == 0) {
		n = end - pos;
	}
	if (n < *hdr || !ks_fourcc_ok(d + pos + 4))
		return -1;
	*size = n;
	return ks_fits(pos, n, end) ? 0 : 1;
}

/* Called for each child box with its type and payload d[p..p+n). */
typedef void (*child_fn)(const uint8_t *d, const uint8_t *type, size_t p, size_t n, int depth,
			 void *ctx);

/* Walks the children of [start, end). clamped: the parent itself was cut short by the
 * end of the data, so a child running past end is expected (it is walked as far as it
 * goes), not damage. Damage sets *damaged. */
static void walk_children(const uint8_t *d, size_t start, size_t end, int clamped, int depth,
			  child_fn fn, void *ctx, int *damaged)
{
	size_t pos = start, hdr = 8;
	uint64_t n = 0;
	if (depth > 8)
		return;
	while (pos < end) {
		int r = child_box(d, pos, end, &hdr, &n);
		if (r < 0 || (r > 0 && !clamped)) {
			/* Trailing zero padding inside a parent is harmless. */
			if (!ks_media_all_zero(d, pos, end))
				*damaged = 1;
			return;
		}
		if (r > 0) {
			if (ks_fits(pos, 8, end) && hdr <= end - pos)
				fn(d, d + pos + 4, pos + hdr, end - pos - hdr, depth + 1, ctx);
			return;
		}
		fn(d, d + pos + 4, pos + hdr, (size_t)n - hdr, depth + 1, ctx);
		pos += (size_t)n;
	}
}

/* Inside mdia, minf and stbl: the handler type and the first sample entry's size. */
static void in_mdia(const uint8_t *d, const uint8_t *t, size_t p, size_t n, int depth, void *ctx)
{
	struct trak_info *ti = ctx;
	if (memcmp(t, "hdlr", 4) == 0 && n >= 12) {
		/* version/flags, pre_defined, handler_type */
		if (memcmp(d + p + 8, "vide", 4) == 0)
			ti->video = 1;
	} else if (memcmp(t, "minf", 4) == 0 || memcmp(t, "stbl", 4) == 0) {
		walk_children(d, p, p + n, 1, depth, in_mdia, ti, &ti->bi->damaged);
	} else if (memcmp(t, "stsd", 4) == 0 && n >= 8 + 8 + 28) {
		/* version/flags, entry count, then the first entry box: 6 reserved, data
		 * reference index, 16 bytes pre_defined/reserved, width, height. */
		const uint8_t *e = d + p + 8;
		if (ks_be32(e) >= 8 + 28 && ks_be32(e) <= n - 8) {
			ti->sw = ks_be16(e + 8 + 24);
			ti->sh = ks_be16(e + 8 + 26);
		}
	}
}

static void in_trak(const uint8_t *d, const uint8_t *t, size_t p, size_t n, int depth, void *ctx)
{
	struct trak_info *ti = ctx;
	if (memcmp(t, "tkhd", 4) == 0 && n >= 84) {
		/* Width and height (16.16 fixed point) end the box: at 84 in version 0,
		 * at 96 in version 1. */
		size_t at = d[p] == 1 ? 96 : 84;
		if (n >= at) {
			ti->w = ks_be32(d + p + at - 8) >> 16;
			ti->h = ks_be32(d + p + at - 4) >> 16;
		}
	} else if (memcmp(t, "mdia", 4) == 0) {
		walk_children(d, p, p + n, 1, depth, in_mdia, ti, &ti->bi->damaged);
	}
}

static void in_moov(const uint8_t *d, const uint8_t *t, size_t p, size_t n, int depth, void *ctx)
{
	struct bmff_info *bi = ctx;
	if (memcmp(t, "trak", 4) != 0)
		return;
	struct trak_info ti = {bi, 0, 0, 0, 0, 0};
	walk_children(d, p, p + n, 1, depth, in_trak, &ti, &bi->damaged);
	if (ti.video && !bi->vw) {
		bi->vw = ti.sw && ti.sh ? ti.sw : ti.w;
		bi->vh = ti.sw && ti.sh ? ti.sh : ti.h;
	}
}

static void in_meta(const uint8_t *d, const uint8_t *t, size_t p, size_t n, int depth, void *ctx)
{
	struct bmff_info *bi = ctx;
	if (depth >= 3) {
		/* A property inside ipco (meta > iprp > ipco > property). */
		if (bi->nprops >= HEIF_PROPS)
			return;
		size_t i = bi->nprops++;
		bi->props[i].type = 0;
		if (memcmp(t, "ispe", 4) == 0 && n >= 12) {
			/* version/flags, width, height */
			bi->props[i].type = 's';
			bi->props[i].w = ks_be32(d + p + 4);
			bi->props[i].h = ks_be32(d + p + 8);
		} else if (memcmp(t, "clap", 4) == 0 && n >= 16) {
			/* cleanApertureWidthN/D, HeightN/D: coded sizes are padded to the
			 * codec's block size and cropped back by this. */
			uint32_t wd = ks_be32(d + p + 4), hd = ks_be32(d + p + 12);
			if (wd && hd) {
				bi->props[i].type = 'c';
				bi->props[i].w = ks_be32(d + p) / wd;
				bi->props[i].h = ks_be32(d + p + 8) / hd;
			}
		}
	} else if (memcmp(t, "hdlr", 4) == 0 && n >= 12 && memcmp(d + p + 8, "pict", 4) == 0) {
		bi->pict = 1;
	} else if (memcmp(t, "pitm", 4) == 0 && n >= 6) {
		bi->primary = d[p] == 0 ? ks_be16(d + p + 4) : n >= 8 ? ks_be32(d + p + 4) : 0;
		bi->has_primary = 1;
	} else if (memcmp(t, "iprp", 4) == 0) {
		walk_children(d, p, p + n, 1, depth, in_meta, bi, &bi->damaged);
	} else if (memcmp(t, "ipco", 4) == 0 && depth == 2) {
		bi->nprops = 0;
		walk_children(d, p, p + n, 1, depth, in_meta, bi, &bi->damaged);
	} else if (memcmp(t, "ipma", 4) == 0) {
		bi->ipma = p;
		bi->ipma_len = n;
	}
}

/* The primary item's size: its ispe (cropped by its clap) through ipma; without
 * pitm/ipma, the largest ispe (the others are tiles and thumbnails). */
static void heif_size(const uint8_t *d, const struct bmff_info *bi, struct ks_media_facts *f)
{
	for (size_t i = 0; i < bi->nprops; i++)
		if (bi->props[i].type == 's' &&
		    (uint64_t)bi->props[i].w * bi->props[i].h > (uint64_t)f->width * f->height) {
			f->width = bi->props[i].w;
			f->height = bi->props[i].h;
		}
	if (!bi->has_primary || bi->ipma_len < 8)
		return;
	const uint8_t *p = d + bi->ipma, *end = p + bi->ipma_len;
	int v = p[0], wide = p[3] & 1;
	uint32_t entries = ks_be32(p + 4);
	p += 8;
	for (uint32_t e = 0; e < entries; e++) {
		size_t idlen = v < 1 ? 2 : 4;
		if (end - p < (ptrdiff_t)idlen + 1)
			return;
		uint32_t id = idlen == 2 ? ks_be16(p) : ks_be32(p);
		uint8_t count = p[idlen];
		p += idlen + 1;
		size_t alen = wide ? 2 : 1;
		if (end - p < (ptrdiff_t)(count * alen))
			return;
		if (id == bi->primary) {
			uint32_t w = 0, h = 0, cw = 0, ch = 0;
			for (uint8_t k = 0; k < count; k++) {
				size_t idx = wide ? (ks_be16(p + 2 * k) & 0x7FFF) : (p[k] & 0x7F);
				if (idx == 0 || idx > bi->nprops)
					continue;
				if (bi->props[idx - 1].type == 's')
					w = bi->props[idx - 1].w, h = bi->props[idx - 1].h;
				else if (bi->props[idx - 1].type == 'c')
					cw = bi->props[idx - 1].w, ch = bi->props[idx - 1].h;
			}
			if (w && h) {
				f->width = w;
				f->height = h;
			}
			if (cw && ch && cw <= f->width && ch <= f->height) {
				f->width = cw;
				f->height = ch;
			}
			return;
		}
		p += count * alen;
	}
}

/* Box types that occur at the top level of ISO-BMFF and QuickTime files after the
 * first box: when carving, the file ends before the first box that is not one of
 * these (a second ftyp starts another file). */
static const char *const top_boxes[] = {"styp", "moov", "mdat", "free", "skip", "wide", "meta",
					"uuid", "pdin", "moof", "mfra", "sidx", "ssix", "prft",
					"emsg", "pnot", "junk", "PICT", NULL};

int ks_media_bmff_top_box(const uint8_t *type)
{
	return brand_in(type, top_boxes);
}

static enum ks_valid bmff_check(const uint8_t *d, size_t len, struct ks_media_facts *f,
				enum bmff_class want)
{
	struct bmff_info bi = {0};
	int moov = 0, mdat = 0, meta = 0;
	const char *trunc = NULL;
	size_t pos = 0;
	while (pos < len) {
		size_t rem = len - pos, hdr = 8;
		if (f->measure && pos > 0 && rem >= 8 &&
		    (!brand_in(d + pos + 4, top_boxes) ||
		     (ks_be32(d + pos) < 8 && ks_be32(d + pos) != 1)))
			break; /* carving: what follows is not part of this file */
		if (rem < 8 || ks_be32(d + pos) == 0) {
			if (ks_media_all_zero(d, pos, len)) {
				if (pos == 0)
					return ks_verdict(f, KS_VALID_BAD, "all zero");
				f->why = "zero padding at the end";
				break;
			}
			if (rem < 8) {
				trunc = "ends inside a box header";
				break;
			}
		}
		const uint8_t *t = d + pos + 4;
		if (!ks_fourcc_ok(t))
			return ks_verdict(f, KS_VALID_BAD, "box type not printable");
		uint64_t n = ks_be32(d + pos);
		if (n == 1) {
			if (rem < 16) {
				trunc = "ends inside a box header";
				break;
			}
			n = ks_be64(d + pos + 8);
			hdr = 16;
			if (n < 16)
				return ks_verdict(f, KS_VALID_BAD, "box size < 16 with largesize");
		} else if (n == 0) {
			n = rem;
		} else if (n < 8) {
			return ks_verdict(f, KS_VALID_BAD, "box size < 8");
		}
		if (pos == 0) {
			if (memcmp(t, "ftyp", 4) == 0) {
				enum bmff_class c = ftyp_class(d, len);
				if (c != want)
					return ks_verdict(f, KS_VALID_BAD,
							  "ftyp brands are not this type");
			} else if (want != BMFF_MOV || !brand_in(t, qt_first)) {
				return ks_verdict(f, KS_VALID_BAD, "no ftyp box");
			}
		}
		int cut = n > rem;
		size_t end = cut ? len : pos + (size_t)n;
		if (memcmp(t, "moov", 4) == 0) {
			moov = 1;
			walk_children(d, pos + hdr, end, cut, 0, in_moov, &bi, &bi.damaged);
		} else if (memcmp(t, "meta", 4) == 0) {
			meta = 1;
			if (end - pos >= hdr + 4)
				walk_children(d, pos + hdr + 4, end, cut, 0, in_meta, &bi,
					      &bi.damaged);
		} else if (memcmp(t, "mdat", 4) == 0) {
			mdat = 1;
		}
		if (cut) {
			trunc = "a box runs past the end";
			break;
		}
		pos += (size_t)n;
	}
	if (!trunc)
		f->end = pos < len ? pos : len; /* the last box ends here */
	if (want == BMFF_HEIF) {
		heif_size(d, &bi, f);
		if (!meta && !moov)
			return trunc ? ks_verdict(f, KS_VALID_TRUNCATED, trunc)
				     : ks_verdict(f, KS_VALID_BAD, "no meta box");
		if (meta && !bi.pict && !moov)
			return ks_verdict(f, KS_VALID_BAD, "meta handler is not pict");
	} else {
		f->width = bi.vw;
		f->height = bi.vh;
		if (!moov && !trunc)
			return mdat ? ks_verdict(f, KS_VALID_TRUNCATED,
						 "no moov (recording not finalised)")
				    : ks_verdict(f, KS_VALID_BAD, "no moov or mdat");
	}
	if (trunc)
		return ks_verdict(f, KS_VALID_TRUNCATED, trunc);
	if (bi.damaged)
		return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: a child box does not fit");
	return KS_VALID_OK;
}

enum ks_valid ks_media_check_heif(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	return bmff_check(d, len, f, BMFF_HEIF);
}
enum ks_valid ks_media_check_mp4(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	return bmff_check(d, len, f, BMFF_MP4);
}
enum ks_valid ks_media_check_mov(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	return bmff_check(d, len, f, BMFF_MOV);
}
enum ks_valid ks_media_check_3gp(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	return bmff_check(d, len, f, BMFF_3GP);
}
