/* The video front end of the store: checks arguments, refuses writes on read-only
 * handles and outside transactions, and dispatches to the backend's video table. */
#include <stdlib.h>
#include <string.h>

#include "store_video_impl.h"

static const struct ks_store_video_ops *rops(struct ks_store *st, struct ks_err *err)
{
	if (!st) {
		ks_err_set(err, KS_E_USAGE, "no case store open");
		return NULL;
	}
	if (!st->ops->video)
		ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no video data",
			   st->ops->name);
	return st->ops->video;
}

static const struct ks_store_video_ops *wops(struct ks_store *st, struct ks_err *err)
{
	const struct ks_store_video_ops *v = rops(st, err);
	if (!v)
		return NULL;
	if (st->readonly) {
		ks_err_set(err, KS_E_USAGE, "the case is open read-only");
		return NULL;
	}
	if (!st->in_tx) {
		ks_err_set(err, KS_E_USAGE, "video writes need a transaction");
		return NULL;
	}
	return v;
}

#define NEED(v)                                                                                    \
	if (!(v))                                                                                  \
		return err ? err->status : KS_E_USAGE;

int ks_store_video_put(struct ks_store *st, int64_t media_id, const struct ks_video_facts *f,
		       const struct ks_video_feature *feat, size_t n, int *stored,
		       struct ks_err *err)
{
	int local;
	if (!stored)
		stored = &local;
	*stored = 0;
	const struct ks_store_video_ops *v = wops(st, err);
	NEED(v);
	if (!f || media_id <= 0 || (n && !feat))
		return ks_err_set(err, KS_E_USAGE, "video: bad arguments");
	for (size_t i = 0; i < n; i++)
		if (feat[i].quality < 0 || feat[i].quality > 100)
			return ks_err_set(err, KS_E_USAGE, "video: PDQ quality out of range");
	return v->put(st, media_id, f, feat, n, stored, err);
}

int ks_store_video_features_each(struct ks_store *st, ks_video_features_fn fn, void *ctx,
				 struct ks_err *err)
{
	const struct ks_store_video_ops *v = rops(st, err);
	NEED(v);
	return v->features_each(st, fn, ctx, err);
}

int ks_store_pdq_entries_each(struct ks_store *st, int64_t set_id, ks_pdq_entry_fn fn, void *ctx,
			      struct ks_err *err)
{
	const struct ks_store_video_ops *v = rops(st, err);
	NEED(v);
	return v->pdq_entries_each(st, set_id, fn, ctx, err);
}

int ks_store_video_match_add(struct ks_store *st, const struct ks_video_match_rec *m,
			     struct ks_err *err)
{
	const struct ks_store_video_ops *v = wops(st, err);
	NEED(v);
	if (!m || !m->how || m->media_id <= 0 || m->set_id <= 0)
		return ks_err_set(err, KS_E_USAGE, "video match: bad arguments");
	return v->match_add(st, m, err);
}

int ks_store_video_get(struct ks_store *st, int64_t media_id, struct ks_video_row **out,
		       struct ks_err *err)
{
	*out = NULL;
	const struct ks_store_video_ops *v = rops(st, err);
	NEED(v);
	return v->get(st, media_id, out, err);
}

int ks_store_video_tmk_put(struct ks_store *st, int64_t media_id,
			   const struct ks_video_tmk_facts *f, const uint8_t *tmk, size_t len,
			   int *stored, struct ks_err *err)
{
	int local;
	if (!stored)
		stored = &local;
	*stored = 0;
	const struct ks_store_video_ops *v = wops(st, err);
	NEED(v);
	if (!v->tmk_put)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no TMK",
				  st->ops->name);
	if (!f || media_id <= 0 || (tmk && !len) || (!tmk && len))
		return ks_err_set(err, KS_E_USAGE, "video TMK: bad arguments");
	return v->tmk_put(st, media_id, f, tmk, len, stored, err);
}

int ks_store_video_tmk_each(struct ks_store *st, ks_video_tmk_fn fn, void *ctx, struct ks_err *err)
{
	const struct ks_store_video_ops *v = rops(st, err);
	NEED(v);
	if (!v->tmk_each)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no TMK",
				  st->ops->name);
	return v->tmk_each(st, fn, ctx, err);
}

int ks_store_tmk_entries_each(struct ks_store *st, int64_t set_id, ks_tmk_entry_fn fn, void *ctx,
			      struct ks_err *err)
{
	const struct ks_store_video_ops *v = rops(st, err);
	NEED(v);
	if (!v->tmk_entries_each)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no TMK",
				  st->ops->name);
	return v->tmk_entries_each(st, set_id, fn, ctx, err);
}

int ks_store_tmk_entry_get(struct ks_store *st, int64_t entry, struct ks_buf *out,
			   struct ks_err *err)
{
	const struct ks_store_video_ops *v = rops(st, err);
	NEED(v);
	if (!v->tmk_entry_get)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s store keeps no TMK",
				  st->ops->name);
	return v->tmk_entry_get(st, entry, out, err);
}
