/* Carving (`kestrel scan --carve`): pictures and videos recovered by signature from
 * the regions no file owns (the evidence layer's ks_source_carve_regions) and from
 * inside files (appended after other data, in documents). The media layer finds the
 * candidates (ks_media_carve_scan) and measures them (ks_media_measure); this file
 * reads the bytes in bounded windows, undoes ext2/3 indirect blocks, de-duplicates
 * against the walk, and turns each find into a record for the workers. */
#include <stdlib.h>
#include <string.h>

#include "carve_impl.h"
#include "kestrel/media.h"
#include "vscan.h"
#include "vscan_tmk.h"

#define CHUNK (4u << 20)	      /* region bytes scanned per read */
#define OVERLAP (KS_SNIFF_BYTES + 64) /* read past a chunk, so a sniff sees a whole head */
#define FIRST_WINDOW (256u << 10)     /* bytes first read for a candidate; grows by 4 */
#define MAX_WINDOW (64ull << 20)      /* longest item carved (longer ones: partial) */
#define MIN_PARTIAL 256		      /* shorter cut-off candidates are not kept */
#define MAX_EMBEDDED 10000	      /* embedded items per file */
#define EXT_DIRECT 12		      /* ext2/3 direct block pointers in an inode */
#define MAX_EXTENTS 4096

struct walked {
	int64_t off;
	uint64_t size;
	int whole; /* its bytes are one run from off, and what lies inside is reported
		      with it (embedded items, members, its own content) */
};

struct ks_carver {
	struct ks_carve_env env;
	uint64_t medium; /* the source's size */
	int loose;	 /* the source is a loose file */
	int loose_kind;	 /* the kind its content sniffed as */
	struct walked *items;
	size_t nitems, cap;
	int sorted;
	uint64_t max_whole; /* longest "whole" item, to bound the search for holders */
	uint64_t regions, region_bytes, carved, partial, dups;
};

/* One piece of a candidate's bytes: the candidate's logical bytes are the pieces in
 * order (one piece from its start unless ext2/3 indirect blocks were skipped). */
struct extent {
	uint64_t phys, len;
};

struct view {
	struct ks_item_reader *rd;
	uint64_t medium_size;
	struct extent ext[MAX_EXTENTS];
	size_t n;
	uint64_t total; /* logical bytes available */
};

/* A measured candidate: its bytes (len of the budget held for them) and verdict.
 * An item longer than a window (a long video whose end its headers give) holds only
 * its head: size is then larger than len, and its digests come from a streamed pass. */
struct hit {
	uint8_t *data;
	uint64_t len, size;
	enum ks_valid v;
	const char *why;
	uint64_t phys_end; /* medium offset just past its last byte */
	int hashed;
	struct ks_digests d;
};

#define LONG_HEAD (1u << 20) /* what a long item keeps for the workers to validate */

static int is_marker_ended(const char *type)
{
	return !strcmp(type, "jpeg") || !strcmp(type, "png") || !strcmp(type, "gif") ||
	       !strcmp(type, "mpeg-ps");
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static uint64_t max_window(const struct ks_carver *c)
{
	/* A window must fit beside the chunk buffer in the budget, or it would wait for
	 * memory the reader itself holds. */
	uint64_t room = c->env.budget_total / 2;
	room = room > CHUNK + OVERLAP ? room - CHUNK - OVERLAP : FIRST_WINDOW;
	return room < MAX_WINDOW ? (room > FIRST_WINDOW ? room : FIRST_WINDOW) : MAX_WINDOW;
}

/* Reads len bytes at off fully; returns bytes read (short at the end or on error). */
static size_t read_full(struct ks_item_reader *rd, uint64_t off, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		struct ks_err err = {0};
		ssize_t n = ks_item_read(rd, off + got, buf + got, len - got, &err);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Logical bytes [off, off+n) of the view into buf; returns bytes read. */
static size_t view_read_at(const struct view *vw, uint64_t off, uint8_t *buf, size_t n)
{
	size_t got = 0;
	for (size_t i = 0; i < vw->n && got < n; i++) {
		if (off >= vw->ext[i].len) {
			off -= vw->ext[i].len;
			continue;
		}
		uint64_t left = vw->ext[i].len - off;
		size_t want = left < n - got ? (size_t)left : n - got;
		size_t k = read_full(vw->rd, vw->ext[i].phys + off, buf + got, want);
		got += k;
		off = 0;
		if (k < want)
			break;
	}
	return got;
}

static size_t view_read(const struct view *vw, uint8_t *buf, size_t n)
{
	return view_read_at(vw, 0, buf, n);
}

static size_t view_reader(void *ctx, uint64_t off, void *buf, size_t n)
{
	return view_read_at(ctx, off, buf, n);
}

static int64_t view_video_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
	return (int64_t)view_read_at(ctx, off, buf, n);
}

/* Medium offset just past logical byte n-1 of the view. */
static uint64_t view_phys_end(const struct view *vw, uint64_t n)
{
	for (size_t i = 0; i < vw->n; i++) {
		if (n <= vw->ext[i].len)
			return vw->ext[i].phys + n;
		n -= vw->ext[i].len;
	}
	return vw->n ? vw->ext[vw->n - 1].phys + vw->ext[vw->n - 1].len : 0;
}

static void view_add(struct view *vw, uint64_t phys, uint64_t len)
{
	if (vw->n && vw->ext[vw->n - 1].phys + vw->ext[vw->n - 1].len == phys) {
		vw->ext[vw->n - 1].len += len;
	} else if (vw->n < MAX_EXTENTS) {
		vw->ext[vw->n].phys = phys;
		vw->ext[vw->n].len = len;
		vw->n++;
	} else {
		return;
	}
	vw->total += len;
}

/* ---- ext2/3 indirect blocks ------------------------------------------------------ */

/* Reads the block pointers of an indirect block (bs/4 little-endian 32-bit entries):
 * returns how many lead before the first zero when all after it are zero, every one
 * pointing inside the medium; -1 when the block is no indirect block. */
static long read_ind(struct ks_item_reader *rd, uint64_t phys, uint32_t bs, uint64_t base,
		     uint64_t medium, uint32_t *e)
{
	uint8_t blk[4096];
	if (bs > sizeof blk || read_full(rd, phys, blk, bs) < bs)
		return -1;
	size_t n = bs / 4;
	long k = -1;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = blk + 4 * i;
		e[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		       (uint32_t)p[3] << 24;
		if (e[i] == 0 && k < 0)
			k = (long)i;
		else if (e[i] != 0 && k >= 0)
			return -1;
		else if (e[i] != 0 && base + ((uint64_t)e[i] + 1) * bs > medium)
			return -1;
	}
	return k < 0 ? (long)n : k;
}

/* A file carved from an ext2/3 file system whose data blocks were written in order
 * has its first indirect block (IND) right after the 12 direct blocks, and, when it
 * is longer, its double-indirect block (DIND) after the last block IND lists, then
 * one IND per 256 (1 KiB blocks) data blocks. When the block 12 blocks after the
 * candidate is such an IND (its first pointer names the very next block, and its
 * entries point into the medium), the view skips the indirect blocks and follows
 * their pointers. bs/base: the file system's block size and block-0 offset when
 * known (base_known), else every usual block size is tried with the base the
 * pointer implies. Returns 1 when the view was built. */
static int ext_view(struct view *vw, uint64_t p, uint64_t limit, uint32_t bs, int base_known,
		    uint64_t base)
{
	uint32_t e[1024], d[1024];
	uint64_t ind = p + EXT_DIRECT * (uint64_t)bs;
	if (ind + bs > limit || (base_known && (p < base || (p - base) % bs)))
		return 0;
	uint8_t first[8];
	if (read_full(vw->rd, ind, first, 8) < 8)
		return 0;
	uint32_t e0 = (uint32_t)first[0] | (uint32_t)first[1] << 8 | (uint32_t)first[2] << 16 |
		      (uint32_t)first[3] << 24;
	uint32_t e1 = (uint32_t)first[4] | (uint32_t)first[5] << 8 | (uint32_t)first[6] << 16 |
		      (uint32_t)first[7] << 24;
	uint64_t next = ind + bs;
	if (e0 == 0 || (uint64_t)e0 * bs > next)
		return 0;
	if (base_known) {
		if ((next - base) / bs != e0)
			return 0;
	} else {
		base = next - (uint64_t)e0 * bs;
		if (base % 512 || base > p || (e1 != 0 && e1 != e0 + 1))
			return 0;
	}
	long k = read_ind(vw->rd, ind, bs, base, vw->medium_size, e);
	if (k <= 0)
		return 0;
	vw->n = 0;
	vw->total = 0;
	view_add(vw, p, EXT_DIRECT * (uint64_t)bs);
	for (long i = 0; i < k; i++)
		view_add(vw, base + (uint64_t)e[i] * bs, bs);
	size_t per = bs / 4;
	if ((size_t)k == per) {
		/* Double indirect: placed after the last block IND lists. */
		uint64_t dind = base + ((uint64_t)e[k - 1] + 1) * bs;
		long kd = read_ind(vw->rd, dind, bs, base, vw->medium_size, d);
		if (kd > 0 && d[0] == e[k - 1] + 2) {
			for (long j = 0; j < kd && vw->total < MAX_WINDOW; j++) {
				long kk = read_ind(vw->rd, base + (uint64_t)d[j] * bs, bs, base,
						   vw->medium_size, e);
				if (kk <= 0)
					break;
				for (long i = 0; i < kk; i++)
					view_add(vw, base + (uint64_t)e[i] * bs, bs);
				if ((size_t)kk < per)
					break;
			}
		}
	}
	return 1;
}

/* The view of a candidate at medium offset p in a region ending at limit:
 * contiguous, or through ext2/3 indirect blocks where the region may hold ext2/3
 * data (an ext file system's free blocks, or space no file system claims). */
static int view_init(struct view *vw, struct ks_item_reader *rd, uint64_t medium, uint64_t p,
		     uint64_t limit, const struct ks_region_info *ri)
{
	vw->rd = rd;
	vw->medium_size = medium;
	int mapped = 0;
	if (ri && (!ri->fs_type || strncmp(ri->fs_type, "ext", 3) == 0)) {
		if (ri->fs_type && ri->block_size >= 1024 && ri->block_size <= 4096) {
			mapped = ext_view(vw, p, limit, ri->block_size, 1, ri->fs_offset);
		} else if (!ri->fs_type && p % 512 == 0) {
			for (uint32_t bs = 1024; bs <= 4096 && !mapped; bs *= 2)
				mapped = ext_view(vw, p, limit, bs, 0, 0);
		}
	}
	if (!mapped) {
		vw->n = 0;
		vw->total = 0;
		view_add(vw, p, limit - p);
	}
	return mapped;
}

/* Hashes logical bytes [0, size) of the view in chunks (the reader's hasher) into
 * h->d, h->size. Returns 0, or -1 when they cannot all be read. */
static int hash_long(struct ks_carver *c, const struct view *vw, uint64_t size, struct hit *h)
{
	if (!c->env.hasher)
		return -1;
	ks_budget_acquire(c->env.budget, LONG_HEAD);
	uint8_t *buf = ks_xmalloc(LONG_HEAD);
	uint64_t off = 0;
	while (off < size) {
		size_t want = size - off < LONG_HEAD ? (size_t)(size - off) : LONG_HEAD;
		size_t got = view_read_at(vw, off, buf, want);
		ks_hasher_update(c->env.hasher, buf, got);
		off += got;
		if (c->env.bytes_read)
			*c->env.bytes_read += got;
		if (got < want)
			break;
	}
	free(buf);
	ks_budget_release(c->env.budget, LONG_HEAD);
	ks_hasher_final(c->env.hasher, &h->d);
	if (off < size)
		return -1;
	h->size = size;
	h->hashed = 1;
	return 0;
}

/* A video longer than a window holds only its head for the workers: it is probed and
 * fingerprinted here, through the view (the medium), as a file too large to hold is. */
static struct ks_vfp *long_video(const struct ks_carver *c, const struct view *vw,
				 const struct ks_media_format *fmt, const struct hit *h)
{
	if (fmt->kind != KS_KIND_VIDEO || !h->hashed || h->size <= h->len)
		return NULL;
	return ks_vfp_make_read(view_video_read, (void *)vw, h->size,
				c->env.lim ? c->env.lim->video_seconds : 0);
}

/* Its TMK+PDQF through the view too, with scan --tmk (vscan_tmk.c). */
static struct ks_vtmk *long_video_tmk(const struct ks_carver *c, const struct view *vw,
				      const struct ks_media_format *fmt, const struct hit *h)
{
	if (fmt->kind != KS_KIND_VIDEO || !h->hashed || h->size <= h->len || !c->env.lim ||
	    c->env.lim->tmk_seconds <= 0)
		return NULL;
	return ks_vtmk_make_read(view_video_read, (void *)vw, h->size, c->env.lim->tmk_seconds);
}

/* Measures the candidate of format fmt at the start of the view, reading growing
 * windows. Returns 0 with *h filled (h->data holds h->len bytes of the budget), or
 * -1 when it is not one. */
static int measure_view(struct ks_carver *c, const struct view *vw,
			const struct ks_media_format *fmt, struct hit *h)
{
	uint64_t cap = max_window(c);
	uint64_t w = FIRST_WINDOW;
	for (;;) {
		if (w > vw->total)
			w = vw->total;
		if (w > cap)
			w = cap;
		ks_budget_acquire(c->env.budget, w);
		uint8_t *buf = ks_xmalloc(w ? (size_t)w : 1);
		size_t got = view_read(vw, buf, (size_t)w);
		if (c->env.bytes_read)
			*c->env.bytes_read += got;
		uint64_t end = 0;
		const char *why = NULL;
		enum ks_valid v = ks_media_measure(fmt->name, buf, got, &end, NULL, NULL, &why);
		int ran_out = v != KS_VALID_BAD && end == got;
		int more = got == w && w < vw->total && w < cap;
		/* A cut picture followed by zeros need not be read to the region's end. */
		if (ran_out && more && v == KS_VALID_TRUNCATED && is_marker_ended(fmt->name) &&
		    got >= 65536 && all_zero(buf + got - 65536, 65536))
			more = 0;
		if (v == KS_VALID_BAD ||
		    (v == KS_VALID_TRUNCATED && !ran_out && end < MIN_PARTIAL) ||
		    (ran_out && !more && v == KS_VALID_TRUNCATED && end < MIN_PARTIAL)) {
			free(buf);
			ks_budget_release(c->env.budget, w);
			return -1;
		}
		if (ran_out && more) {
			free(buf);
			ks_budget_release(c->env.budget, w);
			w *= 4;
			continue;
		}
		if (ran_out && got == cap && got < vw->total) {
			uint64_t far = 0;
			enum ks_valid fv =
			    ks_media_extent(fmt->name, view_reader, (void *)vw, vw->total, &far);
			if (fv == KS_VALID_OK && far > got && got > LONG_HEAD) {
				/* Whole by its headers: keep the head, hash the rest streaming. */
				buf = ks_xrealloc(buf, LONG_HEAD);
				ks_budget_release(c->env.budget, w - LONG_HEAD);
				w = LONG_HEAD;
				if (hash_long(c, vw, far, h) == 0) {
					h->data = buf;
					h->len = LONG_HEAD;
					h->v = fv;
					h->why = NULL;
					h->phys_end = view_phys_end(vw, far);
					return 0;
				}
				got = LONG_HEAD;
				end = got;
			}
			v = KS_VALID_TRUNCATED;
			why = "longer than the carving limit: only its start was kept";
		}
		if (v == KS_VALID_TRUNCATED) {
			/* The zero fill after a cut file is not part of it. */
			while (end > MIN_PARTIAL && buf[end - 1] == 0)
				end--;
		}
		h->data = buf;
		h->len = end;
		if (end < w) {
			h->data = ks_xrealloc(buf, end ? (size_t)end : 1);
			ks_budget_release(c->env.budget, w - end);
		}
		h->size = end;
		h->v = v;
		h->why = why;
		h->phys_end = view_phys_end(vw, end);
		return 0;
	}
}

/* ---- walked items, for de-duplication ------------------------------------------- */

static int walked_cmp(const void *a, const void *b)
{
	const struct walked *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* A carved hit is an item the walk found when it starts where that item starts and
 * is as long (or, cut short, no longer); or when it lies inside an item whose bytes
 * are one run and whose inside is reported with it (embedded items as its children,
 * archive members, the EXIF thumbnail of a picture). */
static int is_walked(struct ks_carver *c, uint64_t off, uint64_t len, enum ks_valid v)
{
	if (!c->sorted) {
		qsort(c->items, c->nitems, sizeof *c->items, walked_cmp);
		c->sorted = 1;
	}
	size_t lo = 0, hi = c->nitems;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uint64_t)c->items[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < c->nitems && (uint64_t)c->items[i].off == off; i++) {
		if (c->items[i].size == len || (v != KS_VALID_OK && len <= c->items[i].size))
			return 1;
	}
	/* Holders start at or before off (the nearest few: files that overlap are rare,
	 * deleted ones at most), no more than max_whole bytes earlier. */
	size_t i = lo;
	while (i < c->nitems && (uint64_t)c->items[i].off == off)
		i++;
	for (unsigned steps = 0; i-- > 0 && steps < 64; steps++) {
		const struct walked *w = &c->items[i];
		if (off - (uint64_t)w->off > c->max_whole)
			break;
		if (w->whole && off + len <= (uint64_t)w->off + w->size)
			return 1;
	}
	return 0;
}

/* ---- public: setup --------------------------------------------------------------- */

struct ks_carver *ks_carver_new(const struct ks_carve_env *env, const struct ks_source_info *si)
{
	struct ks_carver *c = ks_xcalloc(1, sizeof *c);
	c->env = *env;
	c->loose = si && si->kind && strcmp(si->kind, "file") == 0;
	c->medium = si ? si->size : 0;
	c->loose_kind = -1;
	return c;
}

void ks_carver_free(struct ks_carver *c)
{
	if (!c)
		return;
	free(c->items);
	free(c);
}

void ks_carver_note_item(struct ks_carver *c, const struct ks_item_info *info, int kind)
{
	if (c->loose)
		c->loose_kind = kind;
	if (info->offset < 0 || info->size == 0)
		return;
	if (c->nitems == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->items = ks_xrealloc(c->items, c->cap * sizeof *c->items);
	}
	/* (A loose file of no type is carved as a region: its inside is not reported
	 * with it.) */
	int whole = info->contiguous && !(c->loose && kind == KS_KIND_OTHER);
	c->items[c->nitems++] = (struct walked){info->offset, info->size, whole};
	if (whole && info->size > c->max_whole)
		c->max_whole = info->size;
	c->sorted = 0;
}

int ks_carver_wants_item(const struct ks_carver *c, const struct ks_item_info *info, int kind)
{
	if (info->size < 64)
		return 0;
	if (c->loose && kind == KS_KIND_OTHER)
		return 0; /* carved as the "whole file" region instead */
	return kind == KS_KIND_OTHER || kind == KS_KIND_DOCUMENT;
}

/* ---- regions --------------------------------------------------------------------- */

struct region_scan {
	struct ks_carver *c;
	struct ks_item_reader *rd;
	const struct ks_region_info *ri;
	uint64_t medium;
	uint64_t buf_at; /* medium offset of buf[0] */
};

static void submit_carved(struct ks_carver *c, const struct ks_region_info *ri, uint64_t p,
			  struct hit *h, const struct ks_media_format *fmt, int mapped,
			  const struct view *vw)
{
	struct ks_group *g = ks_xcalloc(1, sizeof *g);
	g->source_id = c->env.source_id;
	struct ks_rec *r = ks_group_add(g);
	r->vfp = long_video(c, vw, fmt, h);
	r->vtmk = long_video_tmk(c, vw, fmt, h);
	r->volume = ks_xstrdup(ri->volume);
	r->path = ks_xasprintf("%s@%llu", ri->what, (unsigned long long)p);
	r->state = KS_STATE_CARVED;
	r->size = h->size;
	r->offset = (int64_t)p;
	if (h->hashed) {
		r->d = h->d;
		r->hashed = 1;
		ks_rec_set_note(r, "longer than %u MiB: hashed whole, its first MiB examined",
				(unsigned)(max_window(c) >> 20));
	}
	ks_rec_set_note(r, "carved from %s%s%s (region %llu+%llu): %s %s%s%s%s", ri->what,
			ri->volume[0] ? " of " : "", ri->volume, (unsigned long long)ri->offset,
			(unsigned long long)ri->length, fmt->name,
			h->v == KS_VALID_OK ? "complete" : "partial", h->why ? " (" : "",
			h->why ? h->why : "", h->why ? ")" : "");
	if (mapped)
		ks_rec_set_note(r, "ext2/3 indirect blocks skipped (%llu bytes up to %llu)",
				(unsigned long long)h->size, (unsigned long long)h->phys_end);
	c->carved++;
	if (h->v != KS_VALID_OK)
		c->partial++;
	c->env.submit(c->env.ctx, g, h->data, (size_t)h->len);
}

static size_t on_region_candidate(void *vctx, size_t i, const struct ks_media_format *fmt)
{
	struct region_scan *s = vctx;
	struct ks_carver *c = s->c;
	if (c->env.failed && *c->env.failed)
		return SIZE_MAX;
	uint64_t p = s->buf_at + i;
	uint64_t limit = s->ri->offset + s->ri->length;
	struct view *vw = ks_xmalloc(sizeof *vw);
	int mapped = view_init(vw, s->rd, s->medium, p, limit, s->ri);
	struct hit h = {0};
	size_t ret = i + 1;
	if (measure_view(c, vw, fmt, &h) == 0) {
		uint64_t skip = h.phys_end > p ? h.phys_end : p + 1;
		ret = (size_t)(skip - s->buf_at);
		if (is_walked(c, p, h.size, h.v)) {
			c->dups++;
			free(h.data);
			ks_budget_release(c->env.budget, h.len);
		} else {
			submit_carved(c, s->ri, p, &h, fmt, mapped, vw);
		}
	}
	free(vw);
	return ret;
}

static int on_region(void *vctx, const struct ks_region_info *ri, struct ks_item_reader *media)
{
	struct region_scan s = {.c = vctx, .rd = media, .ri = ri};
	struct ks_carver *c = s.c;
	if (!strcmp(ri->what, "whole file") && c->loose_kind != KS_KIND_OTHER)
		return KS_OK; /* a picture, archive, … given as evidence: not a disk image */
	s.medium = c->medium;
	c->regions++;
	c->region_bytes += ri->length;
	size_t bufsz = CHUNK + OVERLAP;
	ks_budget_acquire(c->env.budget, bufsz);
	uint8_t *buf = ks_xmalloc(bufsz);
	uint64_t pos = 0, skip = 0;
	while (pos < ri->length && !(c->env.failed && *c->env.failed)) {
		size_t n = ri->length - pos < CHUNK ? (size_t)(ri->length - pos) : CHUNK;
		size_t want = ri->length - pos < bufsz ? (size_t)(ri->length - pos) : bufsz;
		if (skip >= pos + n) {
			pos += n;
			continue;
		}
		size_t got = read_full(media, ri->offset + pos, buf, want);
		if (c->env.bytes_read)
			*c->env.bytes_read += got;
		if (got < n)
			n = got;
		if (n == 0)
			break; /* unreadable: the medium ends or fails here */
		s.buf_at = ri->offset + pos;
		size_t from = skip > pos ? (size_t)(skip - pos) : 0;
		size_t r = ks_media_carve_scan(buf, got, from, n, ri->length - pos,
					       on_region_candidate, &s);
		if (pos + r > skip)
			skip = pos + r;
		pos += n;
	}
	free(buf);
	ks_budget_release(c->env.budget, bufsz);
	return KS_OK;
}

int ks_carver_run(struct ks_carver *c, struct ks_source *src, ks_problem_fn problem, void *pctx,
		  struct ks_err *err)
{
	int rc = ks_source_carve_regions(src, on_region, problem, c, err);
	ks_log(KS_LOG_INFO,
	       "carving: %llu regions (%llu bytes): %llu items carved (%llu partial), %llu "
	       "already found by the walk",
	       (unsigned long long)c->regions, (unsigned long long)c->region_bytes,
	       (unsigned long long)c->carved, (unsigned long long)c->partial,
	       (unsigned long long)c->dups);
	return rc;
}

/* ---- embedded in files ----------------------------------------------------------- */

struct embed_scan {
	struct ks_group *g;
	size_t ri;
	const uint8_t *data;
	size_t len;
	const struct ks_expand_limits *lim;
	struct ks_hasher *hasher;
	unsigned count;
	/* streamed: */
	struct ks_carver *c;
	struct ks_item_reader *rd;
	uint64_t size, buf_at;
};

/* Adds child record "@pos" of es->ri for data[0..len) and examines it. */
static void add_child(struct embed_scan *es, uint64_t pos, const uint8_t *data, size_t len,
		      const struct hit *h, enum ks_valid v, const char *why, const char *type,
		      struct ks_vfp *vfp, struct ks_vtmk *vtmk)
{
	struct ks_rec *r = ks_group_add(es->g);
	r->vfp = vfp;
	r->vtmk = vtmk;
	size_t ci = (size_t)(r - es->g->recs);
	const struct ks_rec *parent = &es->g->recs[es->ri];
	r->parent = (int)es->ri;
	r->volume = ks_xstrdup(parent->volume ? parent->volume : "");
	r->path = ks_xasprintf("@%llu", (unsigned long long)pos);
	r->state = parent->state;
	if (parent->contiguous && parent->offset >= 0) {
		r->offset = parent->offset + (int64_t)pos;
		r->contiguous = 1;
	}
	r->size = h ? h->size : len;
	if (h && h->hashed) {
		r->d = h->d;
		r->hashed = 1;
	}
	ks_rec_set_note(r, "embedded at byte %llu of its file (found by signature): %s %s%s%s%s",
			(unsigned long long)pos, type, v == KS_VALID_OK ? "complete" : "partial",
			why ? " (" : "", why ? why : "", why ? ")" : "");
	ks_examine(es->g, ci, data, len, 0, es->lim, es->hasher);
	es->count++;
}

static size_t on_embedded(void *vctx, size_t pos, const struct ks_media_format *fmt)
{
	struct embed_scan *es = vctx;
	if (es->count >= MAX_EMBEDDED)
		return SIZE_MAX;
	uint64_t end = 0;
	const char *why = NULL;
	enum ks_valid v =
	    ks_media_measure(fmt->name, es->data + pos, es->len - pos, &end, NULL, NULL, &why);
	if (v == KS_VALID_BAD || end < (v == KS_VALID_OK ? 1 : MIN_PARTIAL))
		return pos + 1;
	add_child(es, pos, es->data + pos, (size_t)end, NULL, v, why, fmt->name, NULL, NULL);
	return pos + (size_t)end;
}

void ks_carve_embedded(struct ks_group *g, size_t ri, const uint8_t *data, size_t len,
		       const struct ks_expand_limits *lim, struct ks_hasher *hasher)
{
	struct ks_rec *r = &g->recs[ri];
	if (r->size != len || len < 64 || r->state == KS_STATE_CARVED)
		return;
	size_t from = 0;
	if (r->kind == KS_KIND_PICTURE || r->kind == KS_KIND_VIDEO) {
		/* Only what follows the picture or video (its insides hold thumbnails and
		 * frames that are part of it). */
		uint64_t end = 0;
		if (ks_media_measure(r->type, data, len, &end, NULL, NULL, NULL) != KS_VALID_OK ||
		    end >= len || all_zero(data + end, len - (size_t)end))
			return;
		from = (size_t)end;
	} else if (r->kind != KS_KIND_OTHER && r->kind != KS_KIND_DOCUMENT) {
		return;
	}
	struct embed_scan es = {
	    .g = g, .ri = ri, .data = data, .len = len, .lim = lim, .hasher = hasher};
	ks_media_carve_scan(data, len, from, len, len, on_embedded, &es);
}

static size_t on_streamed(void *vctx, size_t i, const struct ks_media_format *fmt)
{
	struct embed_scan *es = vctx;
	struct ks_carver *c = es->c;
	if (es->count >= MAX_EMBEDDED || (c->env.failed && *c->env.failed))
		return SIZE_MAX;
	uint64_t p = es->buf_at + i;
	struct view *vw = ks_xmalloc(sizeof *vw);
	vw->rd = es->rd;
	vw->medium_size = es->size;
	vw->n = 0;
	vw->total = 0;
	view_add(vw, p, es->size - p);
	struct hit h = {0};
	size_t ret = i + 1;
	if (measure_view(c, vw, fmt, &h) == 0) {
		add_child(es, p, h.data, (size_t)h.len, &h, h.v, h.why, fmt->name,
			  long_video(c, vw, fmt, &h), long_video_tmk(c, vw, fmt, &h));
		free(h.data);
		ks_budget_release(c->env.budget, h.len);
		ret = (size_t)(p + (h.size ? h.size : 1) - es->buf_at);
	}
	free(vw);
	return ret;
}

void ks_carve_embedded_stream(struct ks_carver *c, struct ks_group *g, size_t ri,
			      struct ks_item_reader *rd, uint64_t size, struct ks_hasher *hasher)
{
	struct embed_scan es = {
	    .g = g, .ri = ri, .lim = c->env.lim, .hasher = hasher, .c = c, .rd = rd, .size = size};
	size_t bufsz = CHUNK + OVERLAP;
	ks_budget_acquire(c->env.budget, bufsz);
	uint8_t *buf = ks_xmalloc(bufsz);
	uint64_t pos = 0, skip = 0;
	while (pos < size && es.count < MAX_EMBEDDED && !(c->env.failed && *c->env.failed)) {
		size_t n = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
		size_t want = size - pos < bufsz ? (size_t)(size - pos) : bufsz;
		if (skip >= pos + n) {
			pos += n;
			continue;
		}
		size_t got = read_full(rd, pos, buf, want);
		if (got < n)
			n = got;
		if (n == 0)
			break;
		es.data = buf;
		es.len = got;
		es.buf_at = pos;
		size_t from = skip > pos ? (size_t)(skip - pos) : 0;
		size_t r = ks_media_carve_scan(buf, got, from, n, size - pos, on_streamed, &es);
		if (pos + r > skip)
			skip = pos + r;
		pos += n;
	}
	free(buf);
	ks_budget_release(c->env.budget, bufsz);
}
