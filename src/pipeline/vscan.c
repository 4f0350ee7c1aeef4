/* Videos during a scan (see vscan.h): probe facts, vPDQ and the review's contact sheet
 * made in one decode pass where the bytes are (a worker's buffer, or the evidence
 * itself for videos too large to hold) under a per-item time budget, stored by the
 * writer, and matched: a frame near a known still categorises the video with the
 * frame's time ("pdq-frame"); enough frames found in a known video make a video match
 * ("vpdq", with vPDQ's query/target percentages). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/category.h"
#include "kestrel/pdq.h"
#include "kestrel/store_review.h"
#include "kestrel/store_video.h"
#include "kestrel/video.h"
#include "kestrel/vpdq.h"
#include "pipeline_impl.h"
#include "vscan.h"

struct ks_vfp {
	struct ks_video_info info;
	struct ks_video_result res;
	const char *status;
	char why[240];
	struct ks_vpdq vp;
	struct ks_buf sheet; /* contact sheet JPEG of the sampled frames, empty if none */
};

/* The review's contact sheet: tiles spread evenly over the frames vPDQ samples. */
#define SHEET_TILES 12
#define SHEET_COLUMNS 4
#define SHEET_TILE_WIDTH 160

/* ---- per-thread PDQ state ----------------------------------------------------------- */

static pthread_key_t pkey;
static pthread_once_t ponce = PTHREAD_ONCE_INIT;

static void pdq_free(void *p)
{
	ks_pdq_free(p);
}

static void pkey_make(void)
{
	if (pthread_key_create(&pkey, pdq_free) != 0)
		abort(); /* out of keys: the process cannot run the scan */
}

static struct ks_pdq *pdq_get(void)
{
	pthread_once(&ponce, pkey_make);
	struct ks_pdq *p = pthread_getspecific(pkey);
	if (!p) {
		p = ks_pdq_new();
		pthread_setspecific(pkey, p);
	}
	return p;
}

/* ---- fingerprints ---------------------------------------------------------------------- */

static struct ks_vfp *vfp_new(void)
{
	struct ks_vfp *f = ks_xcalloc(1, sizeof *f);
	f->info.duration = -1;
	f->info.fps = -1;
	f->status = "failed";
	return f;
}

void ks_vscan_limits(struct ks_video_limits *lim, double seconds, double dflt)
{
	*lim = ks_video_default_limits;
	lim->max_seconds = seconds > 0 ? seconds : dflt;
}

void ks_vscan_copy(char *dst, size_t n, const char *s)
{
	size_t k = strlen(s);
	if (k >= n)
		k = n - 1;
	memcpy(dst, s, k);
	dst[k] = '\0';
}

/* After an open (rc): samples and hashes, then says how it went. */
static void fingerprint(struct ks_vfp *f, struct ks_video *v, int rc, struct ks_err *err)
{
	if (rc == KS_OK) {
		struct ks_vpdq_opts o = {0}; /* key frames, at most one a second, collapsed */
		struct ks_contact_opts co = {.columns = SHEET_COLUMNS,
					     .max_tiles = SHEET_TILES,
					     .tile_width = SHEET_TILE_WIDTH};
		struct ks_contact *c = ks_contact_new(&co);
		/* One decode pass: every frame hashed is offered to the sheet too. */
		rc = ks_vpdq_hash_video(v, pdq_get(), &o, ks_contact_add, c, &f->vp, &f->res, err);
		f->info = *ks_video_get_info(v);
		ks_video_close(v);
		struct ks_err serr = {0};
		if (ks_contact_count(c) && ks_contact_render(c, &f->sheet, &serr) != KS_OK)
			ks_buf_reset(&f->sheet);
		ks_contact_free(c);
		if (rc < 0 && !f->info.marks) {
			f->info.marks |= KS_VIDEO_CORRUPT;
			ks_vscan_copy(f->info.why, sizeof f->info.why, err->msg);
		}
		if (f->vp.n == 0) {
			f->status = "failed";
			ks_vscan_copy(f->why, sizeof f->why,
				      f->info.why[0] ? f->info.why : "no frame could be decoded");
		} else {
			f->status = f->info.marks ? "partial" : "ok";
			ks_vscan_copy(f->why, sizeof f->why, f->info.why);
		}
		return;
	}
	f->status = "failed";
	ks_vscan_copy(f->why, sizeof f->why,
		      err->msg[0]      ? err->msg
		      : f->info.why[0] ? f->info.why
				       : ks_status_name(rc));
	f->res.marks = f->info.marks;
}

struct ks_vfp *ks_vfp_make_mem(const uint8_t *data, size_t len, double seconds)
{
	struct ks_vfp *f = vfp_new();
	struct ks_video_limits lim;
	struct ks_video *v = NULL;
	struct ks_err err = {0};
	ks_vscan_limits(&lim, seconds, KS_VSCAN_SECONDS);
	int rc = ks_video_open_mem(&v, data, len, &lim, &f->info, &err);
	fingerprint(f, v, rc, &err);
	return f;
}

int64_t ks_vscan_item_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
	struct ks_err err = {0};
	return (int64_t)ks_item_read(ctx, off, buf, n, &err);
}

struct ks_vfp *ks_vfp_make_read(ks_video_read_fn read, void *ctx, uint64_t size, double seconds)
{
	struct ks_vfp *f = vfp_new();
	struct ks_video_limits lim;
	struct ks_video *v = NULL;
	struct ks_err err = {0};
	ks_vscan_limits(&lim, seconds, KS_VSCAN_SECONDS);
	int rc = ks_video_open_reader(&v, read, ctx, size, &lim, &f->info, &err);
	fingerprint(f, v, rc, &err);
	return f;
}

struct ks_vfp *ks_vfp_make_reader(struct ks_item_reader *rd, uint64_t size, double seconds)
{
	return ks_vfp_make_read(ks_vscan_item_read, rd, size, seconds);
}

struct ks_vfp *ks_vfp_not_held(uint64_t size, size_t held)
{
	struct ks_vfp *f = vfp_new();
	f->status = "too-large";
	f->info.size = size;
	snprintf(f->why, sizeof f->why,
		 "not fingerprinted: only the first %zu of %llu bytes were held (member of a "
		 "container, over the member limit)",
		 held, (unsigned long long)size);
	return f;
}

void ks_vfp_free(struct ks_vfp *f)
{
	if (!f)
		return;
	ks_vpdq_release(&f->vp);
	ks_buf_release(&f->sheet);
	free(f);
}

const char *ks_vfp_status(const struct ks_vfp *f, size_t *features)
{
	if (features)
		*features = f ? f->vp.n : 0;
	return f ? f->status : "";
}

/* ---- known stills and videos ---------------------------------------------------------- */

struct kmeta {
	int64_t set_id;
	int ignorable;
	char *scheme, *category, *name;
};

struct still {
	uint8_t pdq[32];
	struct kmeta m;
};

struct kvideo {
	struct kmeta m;
	struct ks_video_feature *f;
	size_t n, cap;
};

struct ks_vmatch {
	const struct ks_index *idx;
	struct ks_video_match_opts o;
	struct still *stills;
	size_t nstills, cstills;
	struct kvideo *videos;
	size_t nvideos, cvideos;
};

static void kmeta_set(struct kmeta *m, const struct ks_pdq_entry_row *e)
{
	m->set_id = e->set_id;
	m->ignorable = e->ignorable;
	m->scheme = e->scheme ? ks_xstrdup(e->scheme) : NULL;
	m->category = e->category ? ks_xstrdup(e->category) : NULL;
	m->name = e->name ? ks_xstrdup(e->name) : NULL;
}

static void kmeta_release(struct kmeta *m)
{
	free(m->scheme);
	free(m->category);
	free(m->name);
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int on_entry(void *ctx, const struct ks_pdq_entry_row *e)
{
	struct ks_vmatch *vm = ctx;
	if (e->quality >= 0 && e->quality < vm->o.min_quality)
		return 0;
	if (!e->video_frame) {
		if (vm->nstills == vm->cstills) {
			vm->cstills = vm->cstills ? 2 * vm->cstills : 64;
			vm->stills = ks_xrealloc(vm->stills, vm->cstills * sizeof *vm->stills);
		}
		struct still *s = &vm->stills[vm->nstills++];
		memcpy(s->pdq, e->pdq, 32);
		kmeta_set(&s->m, e);
		return 0;
	}
	/* Frames of one known video arrive together (entries in import order). */
	struct kvideo *k = vm->nvideos ? &vm->videos[vm->nvideos - 1] : NULL;
	if (!k || k->m.set_id != e->set_id || !str_eq(k->m.name, e->name) ||
	    !str_eq(k->m.category, e->category)) {
		if (vm->nvideos == vm->cvideos) {
			vm->cvideos = vm->cvideos ? 2 * vm->cvideos : 8;
			vm->videos = ks_xrealloc(vm->videos, vm->cvideos * sizeof *vm->videos);
		}
		k = &vm->videos[vm->nvideos++];
		memset(k, 0, sizeof *k);
		kmeta_set(&k->m, e);
	}
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 64;
		k->f = ks_xrealloc(k->f, k->cap * sizeof *k->f);
	}
	struct ks_video_feature *f = &k->f[k->n++];
	memcpy(f->pdq, e->pdq, 32);
	f->quality = e->quality < 0 ? 100 : e->quality; /* unknown: trusted as the list says */
	f->frame = e->frame;
	f->seconds = e->seconds;
	return 0;
}

int ks_vmatch_load(struct ks_store *st, const struct ks_index *idx,
		   const struct ks_video_match_opts *o, int64_t set_id, struct ks_vmatch **out,
		   struct ks_err *err)
{
	struct ks_vmatch *vm = ks_xcalloc(1, sizeof *vm);
	vm->idx = idx;
	if (o)
		vm->o = *o;
	if (vm->o.radius <= 0)
		vm->o.radius = KS_PDQ_RADIUS_DEFAULT;
	if (vm->o.min_quality <= 0)
		vm->o.min_quality = KS_PDQ_QUALITY_FLOOR;
	if (vm->o.vpdq_distance <= 0)
		vm->o.vpdq_distance = 31;
	if (vm->o.query_pct <= 0)
		vm->o.query_pct = 80;
	if (vm->o.target_pct <= 0)
		vm->o.target_pct = 80;
	int rc = ks_store_pdq_entries_each(st, set_id, on_entry, vm, err);
	if (rc == KS_E_UNSUPPORTED) /* a backend without video tables: nothing known */
		rc = KS_OK;
	if (rc < 0) {
		ks_vmatch_free(vm);
		*out = NULL;
		return rc;
	}
	*out = vm;
	return KS_OK;
}

void ks_vmatch_stills_in_index(struct ks_vmatch *vm)
{
	for (size_t i = 0; i < vm->nstills; i++)
		kmeta_release(&vm->stills[i].m);
	vm->nstills = 0;
}

void ks_vmatch_free(struct ks_vmatch *vm)
{
	if (!vm)
		return;
	for (size_t i = 0; i < vm->nstills; i++)
		kmeta_release(&vm->stills[i].m);
	for (size_t i = 0; i < vm->nvideos; i++) {
		kmeta_release(&vm->videos[i].m);
		free(vm->videos[i].f);
	}
	free(vm->stills);
	free(vm->videos);
	free(vm);
}

/* ---- matching ------------------------------------------------------------------------- */

static int pdq_dist(const uint8_t a[32], const uint8_t b[32])
{
	int d = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t x, y;
		memcpy(&x, a + 8 * i, 8);
		memcpy(&y, b + 8 * i, 8);
		d += __builtin_popcountll(x ^ y);
	}
	return d;
}

/* A known still near a frame. */
struct near_hit {
	int64_t set_id;
	int ignorable;
	const char *scheme, *category;
	const char *entry; /* name, or the entry's hash in hex */
	int distance;
};
typedef void (*near_fn)(void *ctx, const struct near_hit *h);

struct idx_ctx {
	near_fn fn;
	void *ctx;
};

static void on_index_hit(void *vctx, const struct ks_index_hit *h)
{
	struct idx_ctx *c = vctx;
	char hex[65] = "";
	if (h->matched)
		ks_hex_encode(h->matched, 32, hex);
	struct near_hit n = {h->set_id, h->ignorable,	   h->scheme,
			     h->category, h->name ? h->name : hex, h->distance};
	c->fn(c->ctx, &n);
}

/* Every known still within radius of pdq: the index files attached to the scan's index
 * through their near lookup, and the case's own PDQ entries (imported PDQ lists) by a
 * linear scan. The linear scan is the part to replace by the index's near lookup once
 * the case's PDQ entries are held in one. */
static void stills_near(const struct ks_vmatch *vm, const uint8_t pdq[32], int radius, near_fn fn,
			void *ctx)
{
	if (vm->idx) {
		struct idx_ctx c = {fn, ctx};
		ks_index_lookup_pdq(vm->idx, pdq, radius, on_index_hit, &c);
	}
	for (size_t i = 0; i < vm->nstills; i++) {
		const struct still *s = &vm->stills[i];
		int d = pdq_dist(pdq, s->pdq);
		if (d > radius)
			continue;
		char hex[65];
		if (!s->m.name)
			ks_hex_encode(s->pdq, 32, hex);
		struct near_hit n = {s->m.set_id,
				     s->m.ignorable,
				     s->m.scheme,
				     s->m.category,
				     s->m.name ? s->m.name : hex,
				     d};
		fn(ctx, &n);
	}
}

/* The best frame per (set, entry) seen so far. */
struct best {
	struct ks_video_match_rec m;
	char *entry, *scheme, *category;
};

struct frame_ctx {
	struct best *b;
	size_t n, cap;
	const struct ks_video_feature *f;
};

static void on_near(void *vctx, const struct near_hit *h)
{
	struct frame_ctx *c = vctx;
	struct best *b = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->b[i].m.set_id == h->set_id && strcmp(c->b[i].entry, h->entry) == 0 &&
		    str_eq(c->b[i].category, h->category)) {
			b = &c->b[i];
			break;
		}
	if (b && b->m.distance <= h->distance)
		return; /* an earlier frame was as close */
	if (!b) {
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 8;
			c->b = ks_xrealloc(c->b, c->cap * sizeof *c->b);
		}
		b = &c->b[c->n++];
		memset(b, 0, sizeof *b);
		b->entry = ks_xstrdup(h->entry);
		b->scheme = h->scheme ? ks_xstrdup(h->scheme) : NULL;
		b->category = h->category ? ks_xstrdup(h->category) : NULL;
		b->m.set_id = h->set_id;
	}
	b->m.distance = h->distance;
	b->m.seconds = c->f->seconds;
	b->m.frame = c->f->frame;
}

static int severity_of(const char *scheme, const char *category)
{
	if (!category)
		return -1;
	const struct ks_category *cat = ks_scheme_category(ks_scheme_find(scheme), category);
	return cat ? cat->severity : -1;
}

int ks_vscan_record(struct ks_store *st, int64_t media_id, const char *how,
		    struct ks_video_match_rec *m, const char *entry, const char *scheme,
		    const char *category, struct ks_err *err)
{
	m->media_id = media_id;
	m->how = how;
	m->entry = entry;
	m->scheme = category ? scheme : NULL;
	m->category = category;
	m->severity = severity_of(scheme, category);
	return ks_store_video_match_add(st, m, err);
}

/* How many usable features of a have a usable feature of b strictly closer than d; the
 * closest pair found is noted (its index in a and its distance). */
static size_t found_in(const struct ks_video_feature *a, size_t na,
		       const struct ks_video_feature *b, size_t nb, int d, int minq, size_t *usable,
		       size_t *best_i, int *best_d)
{
	size_t found = 0;
	*usable = 0;
	for (size_t i = 0; i < na; i++) {
		if (a[i].quality < minq)
			continue;
		(*usable)++;
		int hit = 0;
		for (size_t j = 0; j < nb; j++) {
			if (b[j].quality < minq)
				continue;
			int dist = pdq_dist(a[i].pdq, b[j].pdq);
			if (dist < d) {
				hit = 1;
				if (best_d && dist < *best_d) {
					*best_d = dist;
					*best_i = i;
				}
				if (!best_d)
					break;
			}
		}
		found += (size_t)hit;
	}
	return found;
}

/* Matches one video's features; returns the number of match records or a status. */
static int match_features(struct ks_store *st, const struct ks_vmatch *vm, int64_t media_id,
			  const struct ks_video_feature *feat, size_t n, struct ks_err *err)
{
	int rc = KS_OK, recorded = 0;
	struct frame_ctx fc = {0};
	/* Frames against known stills. */
	for (size_t i = 0; i < n; i++) {
		if (feat[i].quality < vm->o.min_quality)
			continue;
		fc.f = &feat[i];
		stills_near(vm, feat[i].pdq, vm->o.radius, on_near, &fc);
	}
	for (size_t i = 0; i < fc.n && rc == KS_OK; i++) {
		struct best *b = &fc.b[i];
		rc = ks_vscan_record(st, media_id, "pdq-frame", &b->m, b->entry, b->scheme,
				     b->category, err);
		recorded += rc == KS_OK;
	}
	/* The video against known videos. */
	for (size_t k = 0; k < vm->nvideos && rc == KS_OK; k++) {
		const struct kvideo *kv = &vm->videos[k];
		size_t qn, tn, bi = 0;
		int bd = 257;
		size_t qf = found_in(feat, n, kv->f, kv->n, vm->o.vpdq_distance, vm->o.min_quality,
				     &qn, &bi, &bd);
		if (!qf)
			continue;
		size_t tf = found_in(kv->f, kv->n, feat, n, vm->o.vpdq_distance, vm->o.min_quality,
				     &tn, NULL, NULL);
		double qp = qn ? 100.0 * (double)qf / (double)qn : 0;
		double tp = tn ? 100.0 * (double)tf / (double)tn : 0;
		if (qp < vm->o.query_pct && tp < vm->o.target_pct)
			continue;
		struct ks_video_match_rec m = {
		    .set_id = kv->m.set_id,
		    .distance = bd,
		    .seconds = feat[bi].seconds,
		    .frame = feat[bi].frame,
		    .query_pct = qp,
		    .target_pct = tp,
		};
		rc = ks_vscan_record(st, media_id, "vpdq", &m,
				     kv->m.name ? kv->m.name : "(unnamed video)", kv->m.scheme,
				     kv->m.category, err);
		recorded += rc == KS_OK;
	}
	for (size_t i = 0; i < fc.n; i++) {
		free(fc.b[i].entry);
		free(fc.b[i].scheme);
		free(fc.b[i].category);
	}
	free(fc.b);
	return rc < 0 ? rc : recorded;
}

static struct ks_video_feature *features_of(const struct ks_vpdq *vp)
{
	struct ks_video_feature *feat = ks_xcalloc(vp->n ? vp->n : 1, sizeof *feat);
	for (size_t i = 0; i < vp->n; i++) {
		ks_pdq_words_to_bytes(vp->f[i].hash.w, feat[i].pdq);
		feat[i].quality = vp->f[i].quality;
		feat[i].frame = vp->f[i].frame;
		feat[i].seconds = vp->f[i].seconds;
	}
	return feat;
}

int ks_vfp_store(struct ks_store *st, const struct ks_vmatch *vm, int64_t media_id,
		 const struct ks_vfp *f, struct ks_err *err)
{
	if (!f || media_id <= 0)
		return 0;
	const struct ks_video_info *in = &f->info;
	struct ks_video_facts facts = {
	    .status = f->status,
	    .container = in->container,
	    .video_codec = in->video_codec,
	    .audio_codec = in->audio_codec,
	    .pix_fmt = in->pix_fmt,
	    .duration = in->duration,
	    .fps = in->fps,
	    .width = in->width,
	    .height = in->height,
	    .creation_time = in->creation_time,
	    .bit_rate = in->bit_rate,
	    .declared_frames = in->declared_frames,
	    .marks = in->marks | f->res.marks,
	    .why = f->why,
	    .frames_decoded = f->res.frames_decoded,
	    .frames_sampled = f->res.frames_kept,
	    .reached = f->res.last_pts,
	    .work_seconds = f->res.seconds,
	};
	/* The review's preview: the contact sheet, or why there is none. */
	char note[300];
	struct ks_preview p = {.kind = KS_PREVIEW_NONE, .note = note};
	if (f->sheet.len) {
		p.kind = KS_PREVIEW_SHEET;
		p.jpeg = f->sheet.data;
		p.len = f->sheet.len;
		p.note = NULL;
	} else {
		snprintf(note, sizeof note, "no contact sheet: %s",
			 f->why[0] ? f->why : "no frame could be decoded");
	}
	int rc = ks_store_preview_put(st, media_id, &p, err);
	if (rc < 0)
		return rc;
	struct ks_video_feature *feat = features_of(&f->vp);
	int stored = 0;
	rc = ks_store_video_put(st, media_id, &facts, feat, f->vp.n, &stored, err);
	if (rc == KS_E_UNSUPPORTED) /* a backend without video tables */
		rc = KS_OK;
	else if (rc == KS_OK && stored && vm && f->vp.n)
		rc = match_features(st, vm, media_id, feat, f->vp.n, err);
	free(feat);
	return rc;
}

struct rematch_ctx {
	struct ks_store *st;
	struct ks_vmatch *vm;
	int64_t matched;
	struct ks_err *err;
};

static int on_video(void *vctx, int64_t media_id, const struct ks_video_feature *feat, size_t n)
{
	struct rematch_ctx *c = vctx;
	return ks_rematch_count(&c->matched,
				match_features(c->st, c->vm, media_id, feat, n, c->err));
}

int ks_vmatch_rematch(struct ks_store *st, int64_t set_id, int64_t *matched, struct ks_err *err)
{
	struct ks_vmatch *vm = NULL;
	int rc = ks_vmatch_load(st, NULL, NULL, set_id, &vm, err);
	if (rc < 0)
		return rc;
	struct rematch_ctx c = {st, vm, 0, err};
	if (vm->nstills || vm->nvideos)
		rc = ks_store_video_features_each(st, on_video, &c, err);
	if (rc == KS_E_UNSUPPORTED)
		rc = KS_OK;
	ks_vmatch_free(vm);
	if (rc == KS_OK && matched)
		*matched += c.matched;
	return rc;
}
