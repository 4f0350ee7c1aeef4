/* Matching: one media's digests against the index, hits recorded in the store with
 * the severity that decides the media's category ("most serious match wins"). The
 * scan and a later hash-set import both come through here. */
#include "kestrel/category.h"
#include "kestrel/pipeline.h"
#include "pipeline_impl.h"

struct hit_ctx {
	struct ks_store *st;
	int64_t media_id;
	int recorded;
	int status;
	struct ks_err *err;
};

static void on_hit(void *vctx, const struct ks_index_hit *h)
{
	struct hit_ctx *c = vctx;
	if (c->status < 0)
		return;
	int severity = -1;
	if (h->category) {
		const struct ks_category *cat = ks_scheme_category(ks_scheme_find(h->scheme), h->category);
		severity = cat ? cat->severity : -1;
	}
	int rc = ks_store_match_add(c->st, c->media_id, h->set_id, h->how, h->scheme, h->category,
				    severity, c->err);
	if (rc < 0)
		c->status = rc;
	else
		c->recorded++;
}

int ks_match_digests(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
		     const uint8_t md5[16], const uint8_t sha1[20], const uint8_t sha256[32],
		     struct ks_err *err)
{
	struct hit_ctx c = {st, media_id, 0, KS_OK, err};
	ks_index_lookup(idx, md5, sha1, sha256, on_hit, &c);
	return c.status < 0 ? c.status : c.recorded;
}

int ks_match_media(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
		   const struct ks_digests *d, struct ks_err *err)
{
	return ks_match_digests(st, idx, media_id, d->md5, d->sha1, d->sha256, err);
}
