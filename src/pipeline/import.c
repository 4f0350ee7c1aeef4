/* Importing a hash set into a case: the whole file inside one transaction (a partly
 * imported set is never left behind), then the case's existing media are matched
 * against the new set so that the order of "import" and "scan" does not matter. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/pipeline.h"
#include "case_pdq.h"
#include "provenance.h"
#include "vscan.h"
#include "vscan_tmk.h"

struct import_ctx {
	struct ks_store *st;
	struct ks_index *idx;
	int64_t set_id;
	int ignorable;
	int64_t entries;
	struct ks_err *err;
};

static int on_entry(void *vctx, const struct ks_hash_entry *e)
{
	struct import_ctx *c = vctx;
	int rc = ks_store_hashentry_add(c->st, c->set_id, e, c->err);
	if (rc < 0)
		return rc;
	ks_index_add(c->idx, c->set_id, c->ignorable, e);
	c->entries++;
	return KS_OK;
}

struct rematch_ctx {
	struct ks_store *st;
	struct ks_index *idx;
	int64_t matched;
	struct ks_err *err;
};

static int on_media(void *vctx, int64_t media_id, const struct ks_digests *d)
{
	struct rematch_ctx *c = vctx;
	int n = ks_match_media(c->st, c->idx, media_id, d, c->err);
	if (n < 0)
		return n;
	if (n > 0)
		c->matched++;
	return KS_OK;
}

static int file_sha256(const char *path, char out[65], struct ks_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ks_err_set(err, KS_E_ENV, "%s: cannot open", path);
	struct ks_hasher *h = ks_hasher_new();
	uint8_t *buf = ks_xmalloc(1 << 20);
	size_t n;
	while ((n = fread(buf, 1, 1 << 20, f)) > 0)
		ks_hasher_update(h, buf, n);
	struct ks_digests d;
	ks_hasher_final(h, &d);
	ks_hasher_free(h);
	free(buf);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return ks_err_set(err, KS_E_ENV, "%s: read error", path);
	ks_hex_encode(d.sha256, 32, out);
	return KS_OK;
}

int ks_hashset_import(const char *case_dir, const char *path, const struct ks_import_opts *o,
		      const char *who, struct ks_import_stats *stats, struct ks_err *err)
{
	struct ks_store *st = NULL;
	struct ks_index *idx = NULL;
	int rc, in_tx = 0;
	char sha[65];
	const struct ks_importer_ops *imp = ks_importer_find(path, o->format, err);
	if (!imp)
		return err && err->status ? err->status : KS_E_USAGE;
	if ((rc = file_sha256(path, sha, err)) < 0)
		return rc;
	if ((rc = ks_store_open(case_dir, 0, &st, err)) < 0)
		return rc;

	char *pathcopy = ks_xstrdup(path);
	const char *role = o->role ? o->role : "alert";
	struct ks_import_opts io = *o;
	io.format = imp->name;
	struct ks_hashset_meta m = {
		.name = o->name ? o->name : basename(pathcopy),
		.format = imp->name,
		.scheme = o->scheme,
		.role = role,
		.source_path = path,
		.source_sha256 = sha,
		.imported = ks_time_now(),
	};
	idx = ks_index_new();
	struct import_ctx ic = {st, idx, 0, strcmp(role, "ignore") == 0, 0, err};
	if ((rc = ks_store_begin(st, err)) < 0)
		goto out;
	in_tx = 1;
	if ((rc = ks_store_hashset_add(st, &m, &ic.set_id, err)) < 0)
		goto out;
	if ((rc = imp->run(path, &io, on_entry, &ic, err)) < 0) {
		ks_err_prefix(err, "%s", path);
		goto out;
	}
	if ((rc = ks_store_hashset_set_count(st, ic.set_id, ic.entries, err)) < 0)
		goto out;
	struct rematch_ctx mc = {st, idx, 0, err};
	if ((rc = ks_store_media_each(st, on_media, &mc, err)) < 0)
		goto out;
	if ((rc = ks_prov_rematch(st, idx, &mc.matched, err)) < 0) /* media known by hash only */
		goto out;
	if ((rc = ks_vmatch_rematch(st, ic.set_id, &mc.matched, err)) < 0) /* videos' frames */
		goto out;
	if ((rc = ks_vtmk_rematch(st, ic.set_id, &mc.matched, err)) < 0) /* videos' TMK */
		goto out;
	if ((rc = ks_case_pdq_rematch(st, ic.set_id, case_dir, &mc.matched, err)) < 0) /* stills */
		goto out;
	char *detail = ks_xasprintf("set %lld \"%s\" from %s (sha256 %s): %lld entries, role %s",
				    (long long)ic.set_id, m.name, path, sha, (long long)ic.entries, role);
	rc = ks_store_audit(st, who ? who : "", "hashset.import", detail, err);
	free(detail);
	if (rc < 0)
		goto out;
	if ((rc = ks_store_commit(st, err)) < 0)
		goto out;
	in_tx = 0;
	if (stats) {
		stats->set_id = ic.set_id;
		stats->entries = ic.entries;
		stats->matched_media = mc.matched;
	}
out:
	if (in_tx)
		ks_store_rollback(st);
	ks_index_free(idx);
	ks_store_close(st);
	free(pathcopy);
	return rc < 0 ? rc : KS_OK;
}
