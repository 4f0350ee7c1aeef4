/* A scan with an index file (kestrel scan --index): the file's sets are registered
 * in the case once (hashset rows of format "index", found again on later scans by name
 * and identity) so that matches can refer to them, the file is attached to the scan's
 * ks_index behind the usual lookups, and each new picture's PDQ (computed with its
 * preview) is looked up within the default radius, its matches recorded with their
 * distance and the entry matched. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/category.h"
#include "kestrel/pipeline.h"
#include "index_scan.h"

/* The identity of a set across builds: its name and the files (by SHA-256) it came
 * from. */
static void set_identity(const struct ks_hashdb_set *s, char out[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t md[32];
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		abort();
	EVP_DigestUpdate(c, "kestrel index set\n", 18);
	EVP_DigestUpdate(c, s->name, strlen(s->name) + 1);
	EVP_DigestUpdate(c, s->sources, strlen(s->sources));
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	ks_hex_encode(md, 32, out);
}

struct find {
	const char *name, *identity;
	int64_t id;
};

static int find_set(void *ctx, const struct ks_hashset_meta *m)
{
	struct find *f = ctx;
	if (m->format && strcmp(m->format, "index") == 0 && strcmp(m->name, f->name) == 0 &&
	    m->source_sha256 && strcmp(m->source_sha256, f->identity) == 0)
		f->id = m->id;
	return 0;
}

int ks_scan_index_attach(struct ks_store *st, struct ks_index *idx, const char *path,
			 const char *who, struct ks_hashdb **out, struct ks_err *err)
{
	struct ks_hashdb *db = NULL;
	int64_t *ids = NULL;
	int rc, in_tx = 0;
	char *abs = realpath(path, NULL);
	*out = NULL;
	if ((rc = ks_hashdb_open(path, 0, &db, err)) < 0)
		goto out;
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	ids = ks_xcalloc(in.nsets ? in.nsets : 1, sizeof *ids);
	if ((rc = ks_store_begin(st, err)) < 0)
		goto out;
	in_tx = 1;
	for (size_t i = 0; i < in.nsets; i++) {
		const struct ks_hashdb_set *s = ks_hashdb_set_at(db, i);
		char identity[65];
		set_identity(s, identity);
		struct find f = {s->name, identity, 0};
		if ((rc = ks_store_hashsets_each(st, find_set, &f, err)) < 0)
			goto out;
		if (f.id) {
			ids[i] = f.id;
			continue;
		}
		/* the stored scheme of the set's categories (a "dhs" numbering is stored as
		 * vics-us) */
		const char *scheme =
		    s->scheme && strcmp(s->scheme, "dhs") == 0 ? "vics-us" : s->scheme;
		struct ks_hashset_meta m = {.name = s->name,
					    .format = "index",
					    .scheme = scheme,
					    .role = s->role,
					    .source_path = abs ? abs : path,
					    .source_sha256 = identity,
					    .imported = s->imported,
					    .entries = (int64_t)s->entries};
		if ((rc = ks_store_hashset_add(st, &m, &ids[i], err)) < 0)
			goto out;
		char *detail = ks_xasprintf("set %lld \"%s\" from index %s (identity %s): %llu "
					    "entries, role %s",
					    (long long)ids[i], s->name, abs ? abs : path, identity,
					    (unsigned long long)s->entries, s->role);
		rc = ks_store_audit(st, who ? who : "", "hashset.attach", detail, err);
		free(detail);
		if (rc < 0)
			goto out;
	}
	if ((rc = ks_store_commit(st, err)) < 0)
		goto out;
	in_tx = 0;
	ks_index_attach(idx, db, ids);
	*out = db;
	db = NULL;
out:
	if (in_tx)
		ks_store_rollback(st);
	ks_hashdb_close(db);
	free(ids);
	free(abs);
	return rc < 0 ? rc : KS_OK;
}

struct near_ctx {
	struct ks_store *st;
	int64_t media_id;
	int recorded, status;
	struct ks_err *err;
};

static void on_near(void *vctx, const struct ks_index_hit *h)
{
	struct near_ctx *c = vctx;
	if (c->status < 0 || !h->matched)
		return;
	int severity = -1;
	if (h->category) {
		const struct ks_category *cat =
		    ks_scheme_category(ks_scheme_find(h->scheme), h->category);
		severity = cat ? cat->severity : -1;
	}
	char hex[65];
	ks_hex_encode(h->matched, 32, hex);
	int rc = ks_store_match_near_add(c->st, c->media_id, h->set_id, h->scheme, h->category,
					 severity, h->distance, hex, c->err);
	if (rc < 0)
		c->status = rc;
	else
		c->recorded++;
}

int ks_match_media_near(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
			const uint8_t pdq[32], int quality, struct ks_err *err)
{
	if (quality < KS_PDQ_QUALITY_FLOOR)
		return 0; /* unreliable: a flat or tiny picture matches too much */
	struct near_ctx c = {st, media_id, 0, KS_OK, err};
	ks_index_lookup_pdq(idx, pdq, KS_PDQ_RADIUS_DEFAULT, on_near, &c);
	return c.status < 0 ? c.status : c.recorded;
}

int ks_match_thumb_near(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
			const struct ks_thumb *t, struct ks_err *err)
{
	uint16_t w[16];
	int quality;
	if (!t || ks_thumb_pdq(t, w, &quality) != 0)
		return 0;
	uint8_t pdq[32];
	ks_pdq_words_to_bytes(w, pdq);
	return ks_match_media_near(st, idx, media_id, pdq, quality, err);
}
