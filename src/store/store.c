/* The store front end: the backend registry and the public ks_store_* functions,
 * which check their arguments, refuse writes on a read-only handle and dispatch to
 * the backend. The audit chain's hashing and verification live here too, so every
 * backend chains the same way. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "kestrel/category.h"
#include "store_impl.h"

/* The first row is the default backend for new cases. */
static const struct ks_store_ops *const backends[] = {
	&ks_store_sqlite_ops,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

static const char zero_hash[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

const struct ks_store_ops *ks_store_backend(const char *name)
{
	if (!name)
		return backends[0];
	for (size_t i = 0; i < NBACKENDS; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

static int check_writable(struct ks_store *st, struct ks_err *err)
{
	if (!st)
		return ks_err_set(err, KS_E_USAGE, "no case store open");
	if (st->readonly)
		return ks_err_set(err, KS_E_USAGE, "the case is open read-only");
	return KS_OK;
}

int ks_store_create(const char *case_dir, const struct ks_case_meta *meta, struct ks_err *err)
{
	if (!case_dir || !*case_dir || !meta)
		return ks_err_set(err, KS_E_USAGE, "create: no case folder given");
	if (!meta->ref || !*meta->ref)
		return ks_err_set(err, KS_E_USAGE, "create: the case needs a reference");
	if (!meta->examiner || !*meta->examiner)
		return ks_err_set(err, KS_E_USAGE, "create: the case needs an examiner");
	struct ks_case_meta m = *meta;
	if (!m.scheme)
		m.scheme = "uk";
	if (!ks_scheme_find(m.scheme))
		return ks_err_set(err, KS_E_USAGE, "create: unknown category scheme \"%s\"",
				  m.scheme);
	if (m.created == 0)
		m.created = ks_time_now();

	if (mkdir(case_dir, 0750) != 0) {
		struct stat sb;
		if (errno != EEXIST)
			return ks_err_set(err, KS_E_ENV, "create %s: %s", case_dir,
					  strerror(errno));
		if (stat(case_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
			return ks_err_set(err, KS_E_USAGE, "create: %s exists and is not a folder",
					  case_dir);
	}
	for (size_t i = 0; i < NBACKENDS; i++)
		if (backends[i]->probe(case_dir) > 0)
			return ks_err_set(err, KS_E_USAGE, "create: %s already holds a case",
					  case_dir);
	return backends[0]->create(case_dir, &m, err);
}

int ks_store_open(const char *case_dir, int readonly, struct ks_store **out, struct ks_err *err)
{
	*out = NULL;
	if (!case_dir || !*case_dir)
		return ks_err_set(err, KS_E_USAGE, "open: no case folder given");
	const struct ks_store_ops *best = NULL;
	int best_conf = 0, tie = 0;
	for (size_t i = 0; i < NBACKENDS; i++) {
		int c = backends[i]->probe(case_dir);
		if (c > best_conf) {
			best = backends[i];
			best_conf = c;
			tie = 0;
		} else if (c > 0 && c == best_conf) {
			tie = 1;
		}
	}
	if (!best)
		return ks_err_set(err, KS_E_NOTFOUND, "open: %s holds no case", case_dir);
	if (tie)
		return ks_err_set(err, KS_E_USAGE,
				  "open: %s is claimed by more than one store backend", case_dir);
	int rc = best->open(case_dir, readonly, out, err);
	if (rc == KS_OK) {
		(*out)->ops = best;
		(*out)->readonly = readonly ? 1 : 0;
		(*out)->in_tx = 0;
	}
	return rc;
}

void ks_store_close(struct ks_store *st)
{
	if (st)
		st->ops->close(st);
}

int ks_store_get_case(struct ks_store *st, struct ks_case_meta *out, struct ks_err *err)
{
	return st->ops->get_case(st, out, err);
}

int ks_store_begin(struct ks_store *st, struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (st->in_tx)
		return ks_err_set(err, KS_E_USAGE, "begin: a transaction is already open");
	rc = st->ops->begin(st, err);
	if (rc == KS_OK)
		st->in_tx = 1;
	return rc;
}

int ks_store_begin_read(struct ks_store *st, struct ks_err *err)
{
	if (st->in_tx)
		return ks_err_set(err, KS_E_USAGE, "begin: a transaction is already open");
	int rc = st->ops->begin_read(st, err);
	if (rc == KS_OK)
		st->in_tx = 1;
	return rc;
}

int ks_store_commit(struct ks_store *st, struct ks_err *err)
{
	if (!st->in_tx)
		return ks_err_set(err, KS_E_USAGE, "commit: no transaction is open");
	int rc = st->ops->commit(st, err);
	if (rc == KS_OK)
		st->in_tx = 0;
	return rc;
}

int ks_store_rollback(struct ks_store *st)
{
	if (!st || !st->in_tx)
		return KS_OK;
	st->in_tx = 0;
	return st->ops->rollback(st);
}

/* Appends s to b with backslash and '|' escaped, so field boundaries are unambiguous. */
static void add_escaped(struct ks_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '|')
			ks_buf_add(b, "\\", 1);
		ks_buf_add(b, s, 1);
	}
}

void ks_store_audit_hash(const char *prev_hash, int64_t seq, int64_t at, const char *who,
			 const char *action, const char *detail, char out[65])
{
	struct ks_buf b = {0};
	ks_buf_addf(&b, "%s|%lld|%lld|", prev_hash, (long long)seq, (long long)at);
	add_escaped(&b, who);
	ks_buf_add(&b, "|", 1);
	add_escaped(&b, action);
	ks_buf_add(&b, "|", 1);
	add_escaped(&b, detail);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		abort(); /* libcrypto without SHA-256 is a broken installation */
	ks_hex_encode(md, 32, out);
	ks_buf_release(&b);
}

int ks_store_audit(struct ks_store *st, const char *who, const char *action, const char *detail,
		   struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!action || !*action)
		return ks_err_set(err, KS_E_USAGE, "audit: an action is required");
	if (!who)
		who = "";
	if (!detail)
		detail = "";
	int own_tx = !st->in_tx;
	if (own_tx && (rc = ks_store_begin(st, err)) != KS_OK)
		return rc;
	rc = st->ops->audit(st, ks_time_now(), who, action, detail, err);
	if (own_tx) {
		if (rc == KS_OK)
			rc = ks_store_commit(st, err);
		if (rc != KS_OK)
			ks_store_rollback(st);
	}
	return rc;
}

int ks_store_audit_each(struct ks_store *st, int (*fn)(void *ctx, const struct ks_audit_row *r),
			void *ctx, struct ks_err *err)
{
	return st->ops->audit_each(st, fn, ctx, err);
}

struct verify_state {
	int64_t good;
	char prev[65];
	struct ks_err *err;
};

static int verify_row(void *ctx, const struct ks_audit_row *r)
{
	struct verify_state *v = ctx;
	char h[65];
	if (r->seq != v->good + 1)
		return ks_err_set(v->err, KS_E_EVIDENCE,
				  "audit log: row %lld follows row %lld (rows missing or renumbered)",
				  (long long)r->seq, (long long)v->good);
	if (strcmp(r->prev_hash, v->prev) != 0)
		return ks_err_set(v->err, KS_E_EVIDENCE,
				  "audit log: row %lld does not chain to the row before it",
				  (long long)r->seq);
	ks_store_audit_hash(r->prev_hash, r->seq, r->at, r->who, r->action, r->detail, h);
	if (strcmp(h, r->hash) != 0)
		return ks_err_set(v->err, KS_E_EVIDENCE,
				  "audit log: row %lld was altered (its hash does not match its "
				  "contents)",
				  (long long)r->seq);
	memcpy(v->prev, r->hash, sizeof v->prev);
	v->good++;
	return KS_OK;
}

int ks_store_audit_verify(struct ks_store *st, int64_t *rows, struct ks_err *err)
{
	struct verify_state v = {.good = 0, .err = err};
	memcpy(v.prev, zero_hash, sizeof v.prev);
	int rc = st->ops->audit_each(st, verify_row, &v, err);
	if (rc == KS_OK && v.good == 0)
		rc = ks_err_set(err, KS_E_EVIDENCE, "audit log: empty (the case.create row is "
						    "missing)");
	if (rows)
		*rows = v.good;
	return rc;
}

/* ---- exhibits and sources ---------------------------------------------------------- */

int ks_store_exhibit_get(struct ks_store *st, const char *ref, int64_t *id, struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!ref || !*ref)
		return ks_err_set(err, KS_E_USAGE, "exhibit: a reference is required");
	return st->ops->exhibit_get(st, ref, id, err);
}

int ks_store_source_add(struct ks_store *st, int64_t exhibit_id, const char *path, const char *kind,
			uint64_t size, int64_t *id, struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!path || !*path || !kind || !*kind)
		return ks_err_set(err, KS_E_USAGE, "source: path and kind are required");
	if (size > INT64_MAX)
		return ks_err_set(err, KS_E_USAGE, "source: size out of range");
	return st->ops->source_add(st, exhibit_id, path, kind, size, id, err);
}

/* Copies hex digest text of exactly n digits, lower-cased, into out; NULL stays NULL. */
static int norm_hex(const char *in, size_t n, char *out, const char **res)
{
	*res = NULL;
	if (!in || !*in)
		return 0;
	if (strlen(in) != n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	*res = out;
	return 0;
}

int ks_store_source_set_hash(struct ks_store *st, int64_t source_id, const char *phase,
			     const char *md5, const char *sha1, struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	int after;
	if (phase && strcmp(phase, "before") == 0)
		after = 0;
	else if (phase && strcmp(phase, "after") == 0)
		after = 1;
	else
		return ks_err_set(err, KS_E_USAGE, "source hash: phase must be before or after");
	char m[33], s[41];
	const char *mp, *sp;
	if (norm_hex(md5, 32, m, &mp) || norm_hex(sha1, 40, s, &sp))
		return ks_err_set(err, KS_E_USAGE, "source hash: not an MD5 / SHA-1 in hex");
	return st->ops->source_set_hash(st, source_id, after, mp, sp, err);
}

int ks_store_source_finish(struct ks_store *st, int64_t source_id, const char *status,
			   struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!status || !*status)
		return ks_err_set(err, KS_E_USAGE, "source finish: a status is required");
	return st->ops->source_finish(st, source_id, status, err);
}

int ks_store_source_find(struct ks_store *st, int64_t exhibit_id, const char *path, int64_t *id,
			 char **status, struct ks_err *err)
{
	if (!path || !*path)
		return ks_err_set(err, KS_E_USAGE, "source find: a path is required");
	return st->ops->source_find(st, exhibit_id, path, id, status, err);
}

int ks_store_source_forget(struct ks_store *st, int64_t source_id, struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	return st->ops->source_forget(st, source_id, err);
}

/* ---- media and files ---------------------------------------------------------------- */

int ks_store_media_put(struct ks_store *st, const struct ks_media_rec *m, int64_t *id, int *is_new,
		       struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!m || !m->d)
		return ks_err_set(err, KS_E_USAGE, "media: digests are required");
	if (m->size > INT64_MAX)
		return ks_err_set(err, KS_E_USAGE, "media: size out of range");
	return st->ops->media_put(st, m, id, is_new, err);
}

int ks_store_file_add(struct ks_store *st, const struct ks_file_rec *f, int64_t *id,
		      struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!f || !f->path)
		return ks_err_set(err, KS_E_USAGE, "file: a path is required");
	if (f->size > INT64_MAX || f->inode > INT64_MAX)
		return ks_err_set(err, KS_E_USAGE, "file: size or inode out of range");
	return st->ops->file_add(st, f, id, err);
}

/* ---- hash sets and matches ------------------------------------------------------------ */

int ks_store_hashset_add(struct ks_store *st, const struct ks_hashset_meta *m, int64_t *id,
			 struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!m || !m->name || !*m->name)
		return ks_err_set(err, KS_E_USAGE, "hash set: a name is required");
	if (m->role && strcmp(m->role, "alert") != 0 && strcmp(m->role, "ignore") != 0)
		return ks_err_set(err, KS_E_USAGE, "hash set: role must be alert or ignore, not %s",
				  m->role);
	return st->ops->hashset_add(st, m, id, err);
}

int ks_store_hashset_set_count(struct ks_store *st, int64_t id, int64_t entries, struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	return st->ops->hashset_set_count(st, id, entries, err);
}

int ks_store_hashentry_add(struct ks_store *st, int64_t set_id, const struct ks_hash_entry *e,
			   struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	/* PDQ-only entries (PDQ and vPDQ lists) and known videos' TMK+PDQF (.tmk files) are
	 * kept by backends with video tables. */
	unsigned kept = KS_HAS_MD5 | KS_HAS_SHA1 | KS_HAS_SHA256 | (st->ops->video ? KS_HAS_PDQ : 0);
	int tmk = e && e->tmk && e->tmk_len && st->ops->video;
	if (!e || (!(e->has & kept) && !tmk))
		return ks_err_set(err, KS_E_USAGE, "hash entry: no digest");
	return st->ops->hashentry_add(st, set_id, e, err);
}

int ks_store_hashsets_each(struct ks_store *st, ks_hashset_fn fn, void *ctx, struct ks_err *err)
{
	return st->ops->hashsets_each(st, fn, ctx, err);
}

int ks_store_load_index(struct ks_store *st, struct ks_index *idx, struct ks_err *err)
{
	return st->ops->load_index(st, idx, err);
}

int ks_store_match_add(struct ks_store *st, int64_t media_id, int64_t set_id, const char *how,
		       const char *scheme, const char *category, int severity, struct ks_err *err)
{
	int rc = check_writable(st, err);
	if (rc)
		return rc;
	if (!how || !*how)
		return ks_err_set(err, KS_E_USAGE, "match: how is required");
	if (category && !scheme)
		return ks_err_set(err, KS_E_USAGE, "match: a category needs its scheme");
	return st->ops->match_add(st, media_id, set_id, how, scheme, category, severity, err);
}

int ks_store_media_each(struct ks_store *st, ks_media_fn fn, void *ctx, struct ks_err *err)
{
	return st->ops->media_each(st, fn, ctx, err);
}

int ks_store_files_each(struct ks_store *st, ks_file_row_fn fn, void *ctx, struct ks_err *err)
{
	return st->ops->files_each(st, fn, ctx, err);
}

int ks_store_sources_each(struct ks_store *st, ks_source_row_fn fn, void *ctx, struct ks_err *err)
{
	return st->ops->sources_each(st, fn, ctx, err);
}
