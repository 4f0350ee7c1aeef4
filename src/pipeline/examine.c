/* The worker's job: from an item's bytes to a typed, hashed record, with archive
 * members expanded into records of their own. Every byte is hashed once from the
 * buffer the reader filled; validation and expansion use the same buffer. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/media.h"
#include "pipeline_impl.h"
#include "thumbs.h"
#include "provenance.h"
#include "vscan.h"
#include "vscan_tmk.h"

struct ks_rec *ks_group_add(struct ks_group *g)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		g->recs = ks_xrealloc(g->recs, g->cap * sizeof *g->recs);
	}
	struct ks_rec *r = &g->recs[g->n++];
	memset(r, 0, sizeof *r);
	r->parent = -1;
	r->offset = -1;
	r->valid = -1;
	return r;
}

void ks_group_free(struct ks_group *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->recs[i].volume);
		free(g->recs[i].path);
		free(g->recs[i].note);
		free(g->recs[i].error);
		free(g->recs[i].exif);
		ks_thumb_free(g->recs[i].thumb);
		ks_vfp_free(g->recs[i].vfp);
		ks_vtmk_free(g->recs[i].vtmk);
	}
	free(g->recs);
	free(g);
}

static char *vfmt(const char *fmt, va_list ap)
{
	struct ks_buf b = {0};
	ks_buf_vaddf(&b, fmt, ap);
	return ks_buf_take(&b);
}

void ks_rec_set_note(struct ks_rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vfmt(fmt, ap);
	va_end(ap);
	if (r->note) {
		char *j = ks_xasprintf("%s; %s", r->note, s);
		free(r->note);
		free(s);
		s = j;
	}
	r->note = s;
}

void ks_rec_set_error(struct ks_rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vfmt(fmt, ap);
	va_end(ap);
	free(r->error);
	r->error = s;
}

struct expand_ctx {
	struct ks_group *g;
	size_t parent;
	int depth;
	int hash_all;
	const struct ks_expand_limits *lim;
	struct ks_hasher *hasher;
	uint64_t *total; /* expanded bytes so far under the top-level item */
};

static void examine_at(struct ks_group *g, size_t ri, const uint8_t *data, size_t len, int depth,
		       int hash_all, const struct ks_expand_limits *lim, struct ks_hasher *hasher,
		       uint64_t *total);

static int on_member(void *vctx, const struct ks_member_info *m, const uint8_t *data, size_t len)
{
	struct expand_ctx *c = vctx;
	struct ks_rec *parent = &c->g->recs[c->parent];
	struct ks_rec *r = ks_group_add(c->g);
	parent = &c->g->recs[c->parent]; /* recs may have moved */
	r->parent = (int)c->parent;
	r->volume = ks_xstrdup(parent->volume ? parent->volume : "");
	r->path = ks_xstrdup(m->path);
	r->state = parent->state;
	r->size = m->size;
	r->mtime = m->mtime;
	if (m->error)
		ks_rec_set_error(r, "member not fully read: %s", m->error);
	if (m->truncated)
		ks_rec_set_note(r, "member larger than %llu bytes: only its head was examined",
				(unsigned long long)c->lim->max_member_bytes);
	*c->total += len;
	size_t ri = (size_t)(r - c->g->recs);
	ks_prov_offer_member(c->g, ri, data, len, m->truncated);
	examine_at(c->g, ri, data, len, c->depth, c->hash_all, c->lim, c->hasher, c->total);
	if (*c->total > c->lim->max_total_bytes)
		return KS_E_LIMIT;
	return KS_OK;
}

static void examine_at(struct ks_group *g, size_t ri, const uint8_t *data, size_t len, int depth,
		       int hash_all, const struct ks_expand_limits *lim, struct ks_hasher *hasher,
		       uint64_t *total)
{
	struct ks_rec *r = &g->recs[ri];
	int kind = KS_KIND_OTHER;
	size_t head = len < KS_SNIFF_BYTES ? len : KS_SNIFF_BYTES;
	const char *type = len ? ks_media_sniff(data, head, len, &kind) : NULL;
	int full = r->size == len; /* we hold the whole item */

	if (len == 0) {
		snprintf(r->type, sizeof r->type, "empty");
	} else if (type) {
		const char *why = NULL;
		enum ks_valid v = full ? ks_media_validate(type, data, len, &r->width, &r->height, &why)
				       : ks_media_validate_head(type, data, len, r->size, &r->width,
								&r->height, &why);
		if (v == KS_VALID_BAD) {
			ks_rec_set_note(r, "starts like %s but is not one: %s", type, why ? why : "bad structure");
			type = NULL;
			kind = KS_KIND_OTHER;
		} else {
			if (v == KS_VALID_TRUNCATED && full)
				ks_rec_set_note(r, "truncated %s: %s", type, why ? why : "end missing");
			r->valid = full ? (int)v : KS_VALID_OK;
		}
	}
	if (len)
		snprintf(r->type, sizeof r->type, "%s", type ? type : "data");
	r->kind = kind;

	if (full && (kind != KS_KIND_OTHER || hash_all)) {
		ks_hasher_update(hasher, data, len);
		ks_hasher_final(hasher, &r->d);
		r->hashed = 1;
		r->thumb = ks_thumb_make(kind, data, len); /* pictures (videos: vscan.c) */
		if (kind == KS_KIND_VIDEO && !r->vfp) /* probe facts and vPDQ (vscan.c) */
			r->vfp = ks_vfp_make_mem(data, len, lim->video_seconds);
		if (kind == KS_KIND_VIDEO && !r->vtmk && lim->tmk_seconds > 0) /* scan --tmk */
			r->vtmk = ks_vtmk_make_mem(data, len, lim->tmk_seconds);
	}
	if (kind == KS_KIND_PICTURE) {
		ks_prov_exif(g, ri, data, len, hash_all, lim, hasher); /* may add records */
		r = &g->recs[ri];
	}

	if (kind == KS_KIND_ARCHIVE) {
		if (depth >= lim->max_depth) {
			ks_rec_set_note(r, "archive nested deeper than %d: not opened", lim->max_depth);
			return;
		}
		if (!full) {
			ks_rec_set_note(r, "archive not opened: only its first %zu bytes were examined", len);
			return;
		}
		struct ks_archive_limits al = {
			.max_member_bytes = lim->max_member_bytes,
			.max_total_bytes = lim->max_total_bytes > *total ? lim->max_total_bytes - *total : 0,
			.max_members = lim->max_members,
		};
		struct expand_ctx c = {g, ri, depth + 1, hash_all, lim, hasher, total};
		struct ks_err err = {0};
		int rc = ks_archive_expand(data, len, &al, on_member, &c, &err);
		r = &g->recs[ri];
		if (rc == KS_E_LIMIT)
			ks_rec_set_note(r, "archive expansion stopped at a limit: %s", err.msg[0] ? err.msg : "limit");
		else if (rc < 0)
			ks_rec_set_error(r, "archive: %s", err.msg[0] ? err.msg : ks_status_name(rc));
	}
}

void ks_examine(struct ks_group *g, size_t ri, const uint8_t *data, size_t len, int hash_all,
		const struct ks_expand_limits *lim, struct ks_hasher *hasher)
{
	uint64_t total = 0;
	examine_at(g, ri, data, len, 0, hash_all, lim, hasher, &total);
}
