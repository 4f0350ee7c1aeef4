/* The store front end for provenance (references from app stores, links, media known
 * by SHA-256 only, EXIF): argument checks, read-only refusal, and dispatch to the
 * backend's struct ks_store_prov_ops. */
#include <string.h>

#include "store_prov.h"

static int writable(struct ks_store *st, struct ks_err *err)
{
	if (!st)
		return ks_err_set(err, KS_E_USAGE, "no case store open");
	if (st->readonly)
		return ks_err_set(err, KS_E_USAGE, "the case is open read-only");
	if (!st->ops->prov)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s backend keeps no provenance",
				  st->ops->name);
	return KS_OK;
}

static int readable(struct ks_store *st, struct ks_err *err)
{
	if (!st)
		return ks_err_set(err, KS_E_USAGE, "no case store open");
	if (!st->ops->prov)
		return ks_err_set(err, KS_E_UNSUPPORTED, "the %s backend keeps no provenance",
				  st->ops->name);
	return KS_OK;
}

static int known_kind(const char *kind)
{
	static const char *const kinds[] = {"sent", "received", "download", "thumbnail",
					    "media-store"};
	for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 1;
	return 0;
}

int ks_store_ref_add(struct ks_store *st, const struct ks_ref_rec *r, int64_t *id,
		     struct ks_err *err)
{
	int rc = writable(st, err);
	if (rc)
		return rc;
	if (!r || !r->parser || !known_kind(r->kind))
		return ks_err_set(err, KS_E_USAGE,
				  "reference: a parser and a known kind are required");
	if (!r->exhibit_id || !r->source_id)
		return ks_err_set(err, KS_E_USAGE, "reference: exhibit and source are required");
	return st->ops->prov->ref_add(st, r, id, err);
}

int ks_store_ref_links_each(struct ks_store *st, int64_t exhibit_id, ks_ref_link_fn fn, void *ctx,
			    struct ks_err *err)
{
	int rc = readable(st, err);
	return rc ? rc : st->ops->prov->ref_links_each(st, exhibit_id, fn, ctx, err);
}

int ks_store_ref_set_link(struct ks_store *st, const struct ks_ref_link *l, struct ks_err *err)
{
	int rc = writable(st, err);
	if (rc)
		return rc;
	if (!l || l->id <= 0)
		return ks_err_set(err, KS_E_USAGE, "reference link: no reference id");
	return st->ops->prov->ref_set_link(st, l, err);
}

int ks_store_exhibit_files_each(struct ks_store *st, int64_t exhibit_id, ks_file_brief_fn fn,
				void *ctx, struct ks_err *err)
{
	int rc = readable(st, err);
	return rc ? rc : st->ops->prov->exhibit_files_each(st, exhibit_id, fn, ctx, err);
}

int ks_store_media_by_sha256(struct ks_store *st, const uint8_t sha256[32], int kind, int64_t size,
			     int64_t *id, int *is_new, struct ks_err *err)
{
	int rc = writable(st, err);
	if (rc)
		return rc;
	if (!sha256 || !id)
		return ks_err_set(err, KS_E_USAGE, "media by SHA-256: no hash given");
	return st->ops->prov->media_by_sha256(st, sha256, kind, size, id, is_new, err);
}

int ks_store_media_hash_only_each(struct ks_store *st, ks_media_sha256_fn fn, void *ctx,
				  struct ks_err *err)
{
	int rc = readable(st, err);
	return rc ? rc : st->ops->prov->media_hash_only_each(st, fn, ctx, err);
}

int ks_store_exif_put(struct ks_store *st, int64_t media_id, const struct ks_exif *x,
		      struct ks_err *err)
{
	int rc = writable(st, err);
	if (rc)
		return rc;
	if (!x || media_id <= 0)
		return ks_err_set(err, KS_E_USAGE, "EXIF: no media or no record");
	return st->ops->prov->exif_put(st, media_id, x, err);
}

int ks_store_refs_each(struct ks_store *st, ks_ref_row_fn fn, void *ctx, struct ks_err *err)
{
	int rc = readable(st, err);
	return rc ? rc : st->ops->prov->refs_each(st, fn, ctx, err);
}

int ks_store_exif_each(struct ks_store *st, ks_exif_row_fn fn, void *ctx, struct ks_err *err)
{
	int rc = readable(st, err);
	return rc ? rc : st->ops->prov->exif_each(st, fn, ctx, err);
}
