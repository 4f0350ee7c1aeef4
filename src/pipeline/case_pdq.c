/* The case's own PDQ lists, near-matched like index files. Hash sets imported into a
 * case keep their PDQ hashes in the store; at scan start they are streamed into an
 * index file (the index layer's bounded-memory builder and its multi-index hashing),
 * one file set per case set, which is opened, unlinked at once (it lives as long as the
 * mapping) and attached to the scan's ks_index. Every new picture's PDQ is then looked
 * up once, in index files and case lists alike, by ks_index_lookup_pdq. After an
 * import the new set's stills are indexed the same way and every stored picture's PDQ
 * looked up in them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case_pdq.h"
#include "kestrel/pipeline.h"
#include "kestrel/store_video.h"
#include "pipeline_impl.h"

struct build {
	struct ks_hashdb_builder *b;
	const char *path;
	int64_t *sets; /* case set id of each file set */
	size_t nsets, cap;
	uint64_t entries;
	struct ks_err *err;
};

static int on_entry(void *ctx, const struct ks_pdq_entry_row *e)
{
	struct build *c = ctx;
	if (e->video_frame)
		return 0;
	if (!c->b) {
		struct ks_hashdb_build_opts o = {.memory = 64u << 20};
		if (ks_hashdb_builder_new(c->path, &o, &c->b, c->err) < 0)
			return -1;
	}
	if (!c->nsets || c->sets[c->nsets - 1] != e->set_id) {
		/* entries come set by set; a set seen again (it cannot be, but) simply
		 * becomes a second file set with the same case id */
		char name[32];
		snprintf(name, sizeof name, "case set %lld", (long long)e->set_id);
		struct ks_hashdb_set m = {.name = name,
					  .format = "case",
					  .scheme = e->scheme,
					  .role = e->ignorable ? "ignore" : "alert"};
		if (ks_hashdb_builder_set(c->b, &m, c->err) < 0)
			return -1;
		if (c->nsets == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 8;
			c->sets = ks_xrealloc(c->sets, c->cap * sizeof *c->sets);
		}
		c->sets[c->nsets++] = e->set_id;
	}
	struct ks_hash_entry h = {.has = KS_HAS_PDQ,
				  .scheme = e->scheme,
				  .category = e->category,
				  .name = e->name,
				  .size = -1,
				  .distributed = -1,
				  .pdq_quality = e->quality};
	memcpy(h.pdq, e->pdq, 32);
	if (ks_hashdb_builder_add(c->b, &h, c->err) < 0)
		return -1;
	c->entries++;
	return 0;
}

/* Builds the index file of set_id's stills (every set's when set_id <= 0), opens it,
 * unlinks it and attaches it to idx; *out NULL when there is nothing to match. */
static int build_attach(struct ks_store *st, int64_t set_id, struct ks_index *idx,
			const char *case_dir, struct ks_hashdb **out, struct ks_err *err)
{
	*out = NULL;
	char *path = ks_xasprintf("%s/.case-pdq-%ld.kix", case_dir, (long)getpid());
	struct build c = {.path = path, .err = err};
	struct ks_hashdb *db = NULL;
	int rc = ks_store_pdq_entries_each(st, set_id, on_entry, &c, err);
	if (rc == KS_E_UNSUPPORTED) /* a backend without PDQ entries: nothing to match */
		rc = KS_OK;
	if (rc != 0 || !c.b)
		goto out;
	if ((rc = ks_hashdb_builder_finish(c.b, err)) < 0)
		goto out;
	rc = ks_hashdb_open(path, 0, &db, err);
	unlink(path);
	if (rc < 0)
		goto out;
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	if (!in.n_pdq) { /* every hash below the quality floor */
		ks_hashdb_close(db);
		db = NULL;
		goto out;
	}
	if ((rc = ks_index_attach(idx, db, c.sets)) < 0) {
		rc = ks_err_set(err, KS_E_LIMIT, "too many index files attached");
		ks_hashdb_close(db);
		db = NULL;
		goto out;
	}
	*out = db;
out:
	if (rc > 0) /* stopped by the callback: err is set */
		rc = err->status < 0 ? err->status : KS_E_ENV;
	ks_hashdb_builder_free(c.b);
	free(c.sets);
	free(path);
	return rc;
}

int ks_case_pdq_attach(struct ks_store *st, struct ks_index *idx, const char *case_dir,
		       struct ks_hashdb **out, struct ks_err *err)
{
	return build_attach(st, 0, idx, case_dir, out, err);
}

struct rematch {
	struct ks_store *st;
	const struct ks_index *idx;
	int64_t matched;
	struct ks_err *err;
};

static int on_media(void *ctx, int64_t media_id, const uint8_t pdq[32], int quality)
{
	struct rematch *r = ctx;
	return ks_rematch_count(&r->matched,
				ks_match_media_near(r->st, r->idx, media_id, pdq, quality, r->err));
}

int ks_case_pdq_rematch(struct ks_store *st, int64_t set_id, const char *case_dir,
			int64_t *matched, struct ks_err *err)
{
	struct ks_index *idx = ks_index_new();
	struct ks_hashdb *db = NULL;
	int rc = build_attach(st, set_id, idx, case_dir, &db, err);
	if (rc == KS_OK && db) {
		struct rematch r = {st, idx, 0, err};
		rc = ks_store_media_pdq_each(st, KS_PDQ_QUALITY_FLOOR, on_media, &r, err);
		if (rc == KS_E_UNSUPPORTED)
			rc = KS_OK;
		if (rc == KS_OK && matched)
			*matched += r.matched;
	}
	ks_index_free(idx);
	ks_hashdb_close(db);
	return rc;
}
