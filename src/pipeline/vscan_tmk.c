/* TMK+PDQF during a scan (see vscan_tmk.h): every frame of a video decoded into its
 * descriptor where the bytes are, under its own time budget; stored by the writer
 * and scored against the known videos' descriptors: level 1 (the cosine of the pure
 * averages, cheap) first, level 2 (the time-aligned kernel score) only for the known
 * videos that pass level 1, as upstream's two-level matching does. Only the known
 * videos' averages are held (1 KB each); a descriptor that passes level 1 is read
 * whole from the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/store_video.h"
#include "kestrel/tmk.h"
#include "pipeline_impl.h"
#include "vscan.h" /* the helpers shared with the vPDQ pass */
#include "vscan_tmk.h"

struct ks_vtmk {
	struct ks_video_tmk_facts f;
	char status[16];
	char why[240];
	struct ks_buf bytes; /* the .tmk file, empty when failed */
};

/* ---- descriptors ------------------------------------------------------------------------ */

static struct ks_vtmk *make(struct ks_video *v, int rc, const struct ks_video_info *info,
			    struct ks_err *err)
{
	struct ks_vtmk *t = ks_xcalloc(1, sizeof *t);
	t->f.status = t->status;
	t->f.why = t->why;
	ks_vscan_copy(t->status, sizeof t->status, "failed");
	if (rc < 0) {
		ks_vscan_copy(t->why, sizeof t->why,
			      err->msg[0]    ? err->msg
			      : info->why[0] ? info->why
					     : ks_status_name(rc));
		return t;
	}
	struct ks_tmk *d = ks_tmk_new();
	struct ks_video_result res;
	rc = ks_tmk_hash_video(v, d, &res, err);
	ks_video_close(v);
	t->f.frames = d->frames;
	t->f.work_seconds = res.seconds;
	if (d->frames > 0) {
		ks_tmk_write(d, &t->bytes);
		ks_vscan_copy(t->status, sizeof t->status, res.marks || rc < 0 ? "partial" : "ok");
		ks_vscan_copy(t->why, sizeof t->why, res.why[0] ? res.why : rc < 0 ? err->msg : "");
	} else {
		ks_vscan_copy(t->why, sizeof t->why,
			      res.why[0]    ? res.why
			      : err->msg[0] ? err->msg
					    : "no frame could be decoded");
	}
	ks_tmk_free(d);
	return t;
}

struct ks_vtmk *ks_vtmk_make_mem(const uint8_t *data, size_t len, double seconds)
{
	struct ks_video_limits lim;
	struct ks_video_info info;
	struct ks_video *v = NULL;
	struct ks_err err = {0};
	ks_vscan_limits(&lim, seconds, KS_VTMK_SECONDS);
	int rc = ks_video_open_mem(&v, data, len, &lim, &info, &err);
	return make(v, rc, &info, &err);
}

struct ks_vtmk *ks_vtmk_make_read(ks_video_read_fn read, void *ctx, uint64_t size, double seconds)
{
	struct ks_video_limits lim;
	struct ks_video_info info;
	struct ks_video *v = NULL;
	struct ks_err err = {0};
	ks_vscan_limits(&lim, seconds, KS_VTMK_SECONDS);
	int rc = ks_video_open_reader(&v, read, ctx, size, &lim, &info, &err);
	return make(v, rc, &info, &err);
}

struct ks_vtmk *ks_vtmk_make_reader(struct ks_item_reader *rd, uint64_t size, double seconds)
{
	return ks_vtmk_make_read(ks_vscan_item_read, rd, size, seconds);
}

void ks_vtmk_free(struct ks_vtmk *t)
{
	if (!t)
		return;
	ks_buf_release(&t->bytes);
	free(t);
}

/* ---- known videos ----------------------------------------------------------------------- */

/* A known video as held during a scan: its level-1 average only (1 KB, where the whole
 * descriptor is 263 KB), so that thousands can be held; the rest is read from the
 * store for the few that pass level 1. */
struct known {
	int64_t set_id, entry;
	char *scheme, *category, *name;
	float average[KS_TMK_DIM];
};

struct ks_vtmk_known {
	double level1, level2;
	struct known *k;
	size_t n, cap;
	struct ks_tmk *scratch; /* for reading while loading */
};

static int on_entry(void *ctx, const struct ks_tmk_entry_row *e)
{
	struct ks_vtmk_known *kn = ctx;
	struct ks_err err = {0};
	if (ks_tmk_read(e->tmk, e->len, kn->scratch, &err) < 0) { /* checked on import */
		ks_log(KS_LOG_WARN, "known video %s: %s", e->name ? e->name : "?", err.msg);
		return 0;
	}
	if (kn->n == kn->cap) {
		kn->cap = kn->cap ? 2 * kn->cap : 8;
		kn->k = ks_xrealloc(kn->k, kn->cap * sizeof *kn->k);
	}
	struct known *k = &kn->k[kn->n++];
	k->set_id = e->set_id;
	k->entry = e->entry;
	k->scheme = e->scheme ? ks_xstrdup(e->scheme) : NULL;
	k->category = e->category ? ks_xstrdup(e->category) : NULL;
	k->name = ks_xstrdup(e->name ? e->name : "(unnamed video)");
	memcpy(k->average, kn->scratch->average, sizeof k->average);
	return 0;
}

int ks_vtmk_load(struct ks_store *st, const struct ks_video_match_opts *o, int64_t set_id,
		 struct ks_vtmk_known **out, struct ks_err *err)
{
	struct ks_vtmk_known *kn = ks_xcalloc(1, sizeof *kn);
	kn->level1 = o && o->tmk_level1 != 0 ? o->tmk_level1 : KS_TMK_LEVEL1_DEFAULT;
	kn->level2 = o && o->tmk_level2 != 0 ? o->tmk_level2 : KS_TMK_LEVEL2_DEFAULT;
	kn->scratch = ks_tmk_new();
	int rc = ks_store_tmk_entries_each(st, set_id, on_entry, kn, err);
	ks_tmk_free(kn->scratch);
	kn->scratch = NULL;
	if (rc == KS_E_UNSUPPORTED) /* a backend without TMK tables: nothing known */
		rc = KS_OK;
	if (rc < 0) {
		ks_vtmk_known_free(kn);
		*out = NULL;
		return rc;
	}
	*out = kn;
	return KS_OK;
}

void ks_vtmk_known_free(struct ks_vtmk_known *kn)
{
	if (!kn)
		return;
	for (size_t i = 0; i < kn->n; i++) {
		free(kn->k[i].scheme);
		free(kn->k[i].category);
		free(kn->k[i].name);
	}
	free(kn->k);
	free(kn);
}

/* ---- matching ---------------------------------------------------------------------------- */

/* Scores one video's descriptor (the .tmk bytes) against every known video; returns
 * the number of matches recorded or a status. */
static int match_bytes(struct ks_store *st, const struct ks_vtmk_known *kn, int64_t media_id,
		       const uint8_t *bytes, size_t len, struct ks_err *err)
{
	if (!kn || !kn->n)
		return 0;
	struct ks_tmk *t = ks_tmk_new();
	struct ks_err rerr = {0};
	int rc = ks_tmk_read(bytes, len, t, &rerr), recorded = 0;
	if (rc < 0) { /* written by us: not expected */
		ks_log(KS_LOG_WARN, "media %lld: stored TMK unreadable: %s", (long long)media_id,
		       rerr.msg);
		ks_tmk_free(t);
		return 0;
	}
	rc = KS_OK;
	struct ks_tmk *kt = NULL;
	struct ks_buf kb = {0};
	for (size_t i = 0; i < kn->n && rc == KS_OK; i++) {
		const struct known *k = &kn->k[i];
		/* This video first: its coefficients (kestrel's own) normalise level 2. */
		double l1 = ks_tmk_level1_avg(t->average, k->average);
		if (!(l1 >= kn->level1))
			continue;
		/* level 1 passed: the known video's whole descriptor, from the store */
		if (!kt)
			kt = ks_tmk_new();
		ks_buf_reset(&kb);
		struct ks_err kerr = {0};
		if (ks_store_tmk_entry_get(st, k->entry, &kb, &kerr) < 0 ||
		    ks_tmk_read(kb.data, kb.len, kt, &kerr) < 0) {
			ks_log(KS_LOG_WARN, "known video %s: %s", k->name, kerr.msg);
			continue;
		}
		double l2 = ks_tmk_level2(t, kt);
		if (!(l2 >= kn->level2))
			continue;
		struct ks_video_match_rec m = {
		    .set_id = k->set_id,
		    .distance = -1,
		    .level1 = l1,
		    .level2 = l2,
		};
		rc = ks_vscan_record(st, media_id, "tmk", &m, k->name, k->scheme, k->category, err);
		recorded += rc == KS_OK;
	}
	ks_tmk_free(kt);
	ks_buf_release(&kb);
	ks_tmk_free(t);
	return rc < 0 ? rc : recorded;
}

int ks_vtmk_store(struct ks_store *st, const struct ks_vtmk_known *kn, int64_t media_id,
		  const struct ks_vtmk *t, struct ks_err *err)
{
	if (!t || media_id <= 0)
		return 0;
	int stored = 0;
	int rc = ks_store_video_tmk_put(st, media_id, &t->f, t->bytes.len ? t->bytes.data : NULL,
					t->bytes.len, &stored, err);
	if (rc == KS_E_UNSUPPORTED) /* a backend without TMK tables */
		return 0;
	if (rc < 0)
		return rc;
	if (!stored || !t->bytes.len)
		return 0;
	return match_bytes(st, kn, media_id, t->bytes.data, t->bytes.len, err);
}

struct rematch_ctx {
	struct ks_store *st;
	struct ks_vtmk_known *kn;
	int64_t matched;
	struct ks_err *err;
};

static int on_stored(void *ctx, int64_t media_id, const uint8_t *tmk, size_t len)
{
	struct rematch_ctx *c = ctx;
	return ks_rematch_count(&c->matched, match_bytes(c->st, c->kn, media_id, tmk, len, c->err));
}

int ks_vtmk_rematch(struct ks_store *st, int64_t set_id, int64_t *matched, struct ks_err *err)
{
	struct ks_vtmk_known *kn = NULL;
	int rc = ks_vtmk_load(st, NULL, set_id, &kn, err);
	if (rc < 0)
		return rc;
	struct rematch_ctx c = {st, kn, 0, err};
	if (kn->n)
		rc = ks_store_video_tmk_each(st, on_stored, &c, err);
	if (rc == KS_E_UNSUPPORTED)
		rc = KS_OK;
	ks_vtmk_known_free(kn);
	if (rc == KS_OK && matched)
		*matched += c.matched;
	return rc;
}
