/* Provenance wiring: app stores found during a walk are staged (artefact layer),
 * parsed after it into references recorded in the case, thumbnails held inside them
 * become items of their own (state cache, parent = the store's file row), and every
 * reference is linked to the media it speaks of: by the SHA-256 the app recorded
 * (a media known by that hash only is made when no file has it, so a picture sent
 * and deleted still matches the hash sets), by its embedded thumbnail, or by a
 * suffix match of the path it names against the exhibit's files. Pictures' EXIF is
 * read by the workers, and an EXIF thumbnail becomes a child item. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kestrel/artefact.h"
#include "kestrel/exif.h"
#include "kestrel/media.h"
#include "kestrel/pipeline.h"
#include "pipeline_impl.h"
#include "provenance.h"

/* A staged item: where it was found, and the file row the writer made of it. */
struct tagged {
	char *volume, *path;
	int64_t file_id;
};

struct ks_prov {
	struct ks_artefact_stage *stage;
	pthread_mutex_t stage_mu; /* the stage: the reader and workers (archive members) */
	pthread_mutex_t mu;	  /* tags: appended by the reader and workers, file ids set
				     by the writer */
	struct tagged *tags;
	size_t ntags, cap;
};

int ks_prov_new(const char *case_dir, struct ks_prov **out, struct ks_err *err)
{
	*out = NULL;
	char *tmp = ks_xasprintf("%s/tmp", case_dir);
	int rc = KS_OK;
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
		rc = ks_err_set(err, KS_E_ENV, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	struct ks_prov *p = ks_xcalloc(1, sizeof *p);
	if ((rc = ks_artefact_stage_new(tmp, NULL, &p->stage, err)) != KS_OK) {
		free(p);
		goto out;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->stage_mu, NULL);
	*out = p;
out:
	free(tmp);
	return rc;
}

static void forget_tags(struct ks_prov *p)
{
	for (size_t i = 0; i < p->ntags; i++) {
		free(p->tags[i].volume);
		free(p->tags[i].path);
	}
	p->ntags = 0;
}

void ks_prov_free(struct ks_prov *p)
{
	if (!p)
		return;
	ks_artefact_stage_free(p->stage);
	forget_tags(p);
	free(p->tags);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->stage_mu);
	free(p);
}

static uint64_t new_tag(struct ks_prov *p, const char *volume, const char *path)
{
	pthread_mutex_lock(&p->mu);
	if (p->ntags == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->tags = ks_xrealloc(p->tags, p->cap * sizeof *p->tags);
	}
	p->tags[p->ntags] = (struct tagged){ks_xstrdup(volume ? volume : ""), ks_xstrdup(path), 0};
	uint64_t tag = ++p->ntags;
	pthread_mutex_unlock(&p->mu);
	return tag;
}

int ks_prov_offer(struct ks_prov *p, const struct ks_item_info *info, struct ks_item_reader *rd,
		  const uint8_t *head, size_t hlen, struct ks_rec *r, struct ks_err *err)
{
	if (!p || !info->path || !ks_artefact_wants(info->path, head, hlen))
		return KS_OK;
	uint64_t tag = new_tag(p, info->volume, info->path);
	struct ks_err e = {0};
	pthread_mutex_lock(&p->stage_mu);
	int rc = ks_artefact_stage_offer(p->stage, info, rd, head, hlen, tag, &e);
	pthread_mutex_unlock(&p->stage_mu);
	if (rc == 1)
		r->prov_tag = tag;
	else if (rc == KS_E_LIMIT)
		ks_rec_set_note(r, "app store not parsed: %s", e.msg);
	else if (rc == KS_E_EVIDENCE)
		ks_rec_set_error(r, "app store: %s", e.msg);
	else if (rc < 0) {
		if (err)
			*err = e;
		return rc;
	}
	return KS_OK;
}

void ks_prov_offer_member(struct ks_group *g, size_t ri, const uint8_t *data, size_t len,
			  int truncated)
{
	struct ks_prov *p = g->prov;
	struct ks_rec *r = &g->recs[ri];
	if (!p || !r->path || !ks_artefact_wants(r->path, data, len < 4096 ? len : 4096))
		return;
	if (truncated || r->error) {
		ks_rec_set_note(r, "app store not parsed: only part of it was read");
		return;
	}
	/* Stores pair with their -wal by (volume, state, path): the container keeps two
	 * archives' members apart. */
	const struct ks_rec *parent = r->parent >= 0 ? &g->recs[r->parent] : NULL;
	char *key = ks_xasprintf("%s \xe2\x80\xba %s", r->volume ? r->volume : "",
				 parent && parent->path ? parent->path : "");
	uint64_t tag = new_tag(p, r->volume, r->path);
	struct ks_err e = {0};
	pthread_mutex_lock(&p->stage_mu);
	int rc =
	    ks_artefact_stage_offer_bytes(p->stage, key, r->path, r->state, data, len, tag, &e);
	pthread_mutex_unlock(&p->stage_mu);
	free(key);
	if (rc == 1)
		r->prov_tag = tag;
	else if (rc == KS_E_LIMIT)
		ks_rec_set_note(r, "app store not parsed: %s", e.msg);
	else if (rc < 0)
		ks_rec_set_error(r, "app store: %s", e.msg);
}

void ks_prov_note_file(struct ks_prov *p, uint64_t tag, int64_t file_id)
{
	if (!p || !tag)
		return;
	pthread_mutex_lock(&p->mu);
	if (tag <= p->ntags)
		p->tags[tag - 1].file_id = file_id;
	pthread_mutex_unlock(&p->mu);
}

/* ---- matching by SHA-256 alone ------------------------------------------------------- */

/* Returns the number of hits recorded, or a negative status. */
static int match_sha256(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
			const uint8_t sha256[32], struct ks_err *err)
{
	return idx ? ks_match_digests(st, idx, media_id, NULL, NULL, sha256, err) : 0;
}

struct rematch {
	struct ks_store *st;
	const struct ks_index *idx;
	int64_t matched;
	struct ks_err *err;
};

static int on_hash_only(void *ctx, int64_t media_id, const uint8_t sha256[32])
{
	struct rematch *m = ctx;
	int n = match_sha256(m->st, m->idx, media_id, sha256, m->err);
	if (n < 0)
		return n;
	if (n > 0)
		m->matched++;
	return KS_OK;
}

int ks_prov_rematch(struct ks_store *st, const struct ks_index *idx, int64_t *matched,
		    struct ks_err *err)
{
	struct rematch m = {st, idx, 0, err};
	int rc = ks_store_media_hash_only_each(st, on_hash_only, &m, err);
	if (rc == KS_E_UNSUPPORTED)
		rc = KS_OK;
	if (rc == KS_OK && matched)
		*matched += m.matched;
	return rc;
}

/* ---- EXIF (workers) ------------------------------------------------------------------- */

void ks_prov_exif(struct ks_group *g, size_t ri, const uint8_t *data, size_t len, int hash_all,
		  const struct ks_expand_limits *lim, struct ks_hasher *hasher)
{
	struct ks_rec *r = &g->recs[ri];
	if (r->exif || !len)
		return;
	struct ks_exif *x = ks_xmalloc(sizeof *x);
	struct ks_err e = {0};
	if (ks_exif_parse(data, len, x, &e) != KS_OK) {
		free(x);
		return;
	}
	r->exif = x;
	/* An EXIF thumbnail's own EXIF is kept, but its thumbnail is not followed: each
	 * level is smaller, yet a hostile file could nest many. */
	int is_thumb = r->parent >= 0 && r->path && strcmp(r->path, KS_PROV_EXIF_THUMB) == 0 &&
		       g->recs[r->parent].kind == KS_KIND_PICTURE;
	if (is_thumb || !x->has_thumb || !x->thumb_is_jpeg || x->thumb_length == 0 ||
	    x->thumb_offset > len || x->thumb_length > len - x->thumb_offset)
		return;
	struct ks_rec *c = ks_group_add(g);
	r = &g->recs[ri]; /* recs may have moved */
	c->parent = (int)ri;
	c->volume = ks_xstrdup(r->volume ? r->volume : "");
	c->path = ks_xstrdup(KS_PROV_EXIF_THUMB);
	c->state = r->state;
	c->size = x->thumb_length;
	size_t ci = (size_t)(c - g->recs);
	ks_examine(g, ci, data + x->thumb_offset, (size_t)x->thumb_length, hash_all, lim, hasher);
}

/* ---- after the walk: references, thumbnails, links ----------------------------------- */

struct fin {
	struct ks_prov *p;
	struct ks_prov_run *run;
	struct ks_hasher *hasher;
	struct ks_err *err;
	int no_hash_only; /* the case cannot hold media known by hash only */
};

static int kind_of_mime(const char *mime)
{
	if (mime && strncasecmp(mime, "image/", 6) == 0)
		return KS_KIND_PICTURE;
	if (mime && strncasecmp(mime, "video/", 6) == 0)
		return KS_KIND_VIDEO;
	return KS_KIND_OTHER;
}

/* Writes the records of g (a thumbnail and what examining it produced) as the scan's
 * writer does; the first record's parent is parent_id. ids[] gets the file ids. */
static int write_recs(struct fin *f, struct ks_group *g, int64_t parent_id, int64_t *ids,
		      int64_t *media0)
{
	struct ks_prov_run *run = f->run;
	for (size_t i = 0; i < g->n; i++) {
		struct ks_rec *r = &g->recs[i];
		int64_t media_id = 0;
		int rc;
		if (r->hashed) {
			struct ks_media_rec m = {&r->d,
						 r->size,
						 r->type,
						 r->kind,
						 r->width,
						 r->height,
						 r->valid < 0 ? KS_VALID_OK : r->valid};
			int is_new = 0;
			if ((rc = ks_store_media_put(run->st, &m, &media_id, &is_new, f->err)) < 0)
				return rc;
			if (is_new && run->idx) {
				int n = ks_match_media(run->st, run->idx, media_id, &r->d, f->err);
				if (n < 0)
					return n;
				run->matches += n > 0;
			}
		}
		struct ks_file_rec fr = {
		    .exhibit_id = run->exhibit_id,
		    .source_id = run->source_id,
		    .media_id = media_id,
		    .parent_id = r->parent >= 0 ? ids[r->parent] : parent_id,
		    .volume = r->volume ? r->volume : "",
		    .path = r->path ? r->path : "",
		    .state = r->state,
		    .size = r->size,
		    .mtime = r->mtime,
		    .inode = 0,
		    .offset = -1,
		    .type = r->type[0] ? r->type : "data",
		    .kind = r->kind,
		    .note = r->note,
		    .error = r->error,
		};
		if ((rc = ks_store_file_add(run->st, &fr, &ids[i], f->err)) < 0)
			return rc;
		if (r->exif && media_id &&
		    (rc = ks_store_exif_put(run->st, media_id, r->exif, f->err)) < 0)
			return rc;
		if (i == 0)
			*media0 = media_id;
		run->files++;
		run->media += r->kind == KS_KIND_PICTURE || r->kind == KS_KIND_VIDEO;
		run->pictures += r->kind == KS_KIND_PICTURE;
		run->videos += r->kind == KS_KIND_VIDEO;
		run->errors += r->error != NULL;
	}
	return KS_OK;
}

static const char *base_name(const char *path)
{
	const char *b = path ? path : "";
	for (const char *c = b; *c; c++)
		if (*c == '/' || *c == '\\')
			b = c + 1;
	return b;
}

/* Makes the thumbnail bytes of a reference an item: *file_id and *media_id. */
static int thumb_item(struct fin *f, const struct ks_artefact_ref *a, const struct tagged *t,
		      int64_t *file_id, int64_t *media_id)
{
	struct ks_group *g = ks_xcalloc(1, sizeof *g);
	struct ks_rec *r = ks_group_add(g);
	const char *record = a->record ? a->record : "thumbnail";
	r->volume = ks_xstrdup(t ? t->volume : (a->volume ? a->volume : ""));
	/* With its store as parent the display path reads "store › record". */
	if (t && t->file_id)
		r->path = ks_xstrdup(record);
	else
		r->path =
		    ks_xasprintf("%s \xe2\x80\xba %s", a->artefact ? a->artefact : "", record);
	r->state = KS_STATE_CACHE;
	r->size = a->thumb_len;
	ks_rec_set_note(r, "thumbnail held in %s (%s)", base_name(a->artefact), a->parser);
	ks_examine(g, 0, a->thumb, a->thumb_len, f->run->hash_all, f->run->lim, f->hasher);
	int64_t *ids = ks_xcalloc(g->n, sizeof *ids);
	int rc = write_recs(f, g, t ? t->file_id : 0, ids, media_id);
	*file_id = ids[0];
	free(ids);
	ks_group_free(g);
	return rc;
}

static int on_ref(void *ctx, const struct ks_artefact_ref *a)
{
	struct fin *f = ctx;
	struct ks_prov_run *run = f->run;
	const struct tagged *t = a->artefact_tag && a->artefact_tag <= f->p->ntags
				     ? &f->p->tags[a->artefact_tag - 1]
				     : NULL;
	struct ks_ref_rec rec = {
	    .exhibit_id = run->exhibit_id,
	    .source_id = run->source_id,
	    .artefact_file_id = t ? t->file_id : 0,
	    .parser = a->parser,
	    .app = a->app,
	    .kind = ks_ref_kind_name(a->kind),
	    .record = a->record,
	    .peer = a->peer,
	    .peer_name = a->peer_name,
	    .chat = a->chat,
	    .chat_name = a->chat_name,
	    .time = a->time,
	    .time_raw = a->time_raw,
	    .time_src = a->time_src ? ks_time_src_name(a->time_src) : NULL,
	    .time_what = a->time_what,
	    .url = a->url,
	    .referrer = a->referrer,
	    .path = a->path,
	    .name = a->name,
	    .thumb_path = a->thumb_path,
	    .mime = a->mime,
	    .size = a->size,
	    .owner = a->owner,
	    .sha256 = a->has_sha256 ? a->sha256 : NULL,
	    .note = a->note,
	};
	int rc;
	if (a->has_sha256 && !f->no_hash_only) {
		int is_new = 0;
		rc = ks_store_media_by_sha256(run->st, a->sha256, kind_of_mime(a->mime), a->size,
					      &rec.media_id, &is_new, f->err);
		if (rc == KS_E_UNSUPPORTED) {
			ks_log(KS_LOG_WARN, "%s", f->err->msg);
			f->no_hash_only = 1;
		} else if (rc < 0) {
			return rc;
		} else {
			rec.link_how = "sha256";
			if (is_new) {
				int n = match_sha256(run->st, run->idx, rec.media_id, a->sha256,
						     f->err);
				if (n < 0)
					return n;
				run->matches += n > 0;
			}
		}
	}
	if (a->thumb && a->thumb_len) {
		int64_t thumb_media = 0;
		if ((rc = thumb_item(f, a, t, &rec.thumb_file_id, &thumb_media)) < 0)
			return rc;
		if (!rec.media_id && thumb_media) {
			rec.media_id = thumb_media;
			rec.link_how = "thumbnail";
		}
	}
	if ((rc = ks_store_ref_add(run->st, &rec, NULL, f->err)) < 0)
		return rc;
	run->refs++;
	return KS_OK;
}

static void on_stage_problem(void *ctx, const char *where, const char *msg)
{
	struct fin *f = ctx;
	f->run->errors++;
	if (f->run->problem)
		f->run->problem(f->run->problem_ctx, where, msg);
}

int ks_prov_finish(struct ks_prov *p, struct ks_prov_run *run, struct ks_err *err)
{
	if (!p)
		return KS_OK;
	int rc = KS_OK;
	if (ks_artefact_stage_count(p->stage) == 0) {
		ks_artefact_stage_run(p->stage, NULL, NULL, NULL, NULL); /* drops lone companions */
		goto link;
	}
	struct fin f = {.p = p, .run = run, .hasher = ks_hasher_new(), .err = err};
	size_t stores = ks_artefact_stage_count(p->stage);
	uint64_t files0 = run->files;
	if ((rc = ks_store_begin(run->st, err)) < 0) {
		ks_hasher_free(f.hasher);
		goto out;
	}
	rc = ks_artefact_stage_run(p->stage, on_ref, on_stage_problem, &f, err);
	ks_hasher_free(f.hasher);
	if (rc >= 0) {
		char *d =
		    ks_xasprintf("source %lld: %zu app stores read from private copies, %llu "
				 "references, %llu items made from thumbnails they hold",
				 (long long)run->source_id, stores, (unsigned long long)run->refs,
				 (unsigned long long)(run->files - files0));
		rc = ks_store_audit(run->st, run->who ? run->who : "", "scan.artefacts", d, err);
		free(d);
	}
	if (rc < 0) {
		ks_store_rollback(run->st);
		goto out;
	}
	if ((rc = ks_store_commit(run->st, err)) < 0)
		goto out;
link:
	/* Every source can hold files that references of another one name. */
	if ((rc = ks_store_begin(run->st, err)) < 0)
		goto out;
	rc = ks_prov_link_exhibit(run->st, run->exhibit_id, err);
	if (rc < 0)
		ks_store_rollback(run->st);
	else
		rc = ks_store_commit(run->st, err);
out:
	forget_tags(p);
	return rc < 0 ? rc : KS_OK;
}

/* ---- linking by path --------------------------------------------------------------------- */

/* Device prefixes that name the same shared storage on Android. */
static const char *const storage_prefixes[] = {
    "/storage/emulated/", "/data/media/", "/storage/self/primary", "/sdcard", "/mnt/sdcard",
};

/* The path an app recorded, made comparable with evidence paths: '\' becomes '/', a
 * drive letter and Android's shared-storage prefixes go, and so do leading slashes.
 * Returns a new string ("" when nothing is left); *icase is set for Windows paths. */
static char *norm_path(const char *in, const char *app, int *icase)
{
	char *s = ks_xstrdup(in);
	*icase = app && strcmp(app, "Windows Explorer") == 0;
	for (char *c = s; *c; c++)
		if (*c == '\\') {
			*c = '/';
			*icase = 1;
		}
	char *p = s;
	if (isalpha((unsigned char)p[0]) && p[1] == ':') {
		p += 2;
		*icase = 1;
	}
	for (size_t i = 0; i < sizeof storage_prefixes / sizeof storage_prefixes[0]; i++) {
		size_t n = strlen(storage_prefixes[i]);
		if (strncmp(p, storage_prefixes[i], n) != 0)
			continue;
		char *q = p + n;
		if (storage_prefixes[i][n - 1] == '/') /* a user number follows */
			while (isdigit((unsigned char)*q))
				q++;
		if (*q == '/' || *q == '\0') {
			p = q;
			break;
		}
	}
	while (*p == '/')
		p++;
	/* collapse "//" */
	char *o = s;
	for (char *c = p; *c; c++)
		if (!(*c == '/' && o > s && o[-1] == '/'))
			*o++ = *c;
	*o = '\0';
	return s;
}

static uint64_t name_key(const char *path)
{
	const char *b = path;
	for (const char *c = path; *c; c++)
		if (*c == '/')
			b = c + 1;
	uint64_t h = 1469598103934665603ull;
	for (const char *c = b; *c; c++) {
		h ^= (uint8_t)tolower((unsigned char)*c);
		h *= 1099511628211ull;
	}
	return h;
}

struct lfile {
	uint64_t key;
	int64_t file_id, media_id;
	int state;
	char *path;
};

struct lref {
	struct ks_ref_link l;
	char *path, *thumb_path; /* normalised, NULL when absent or already linked */
	int icase;
	char *link_how;
};

struct linker {
	struct lfile *files;
	size_t nfiles, fcap;
	struct lref *refs;
	size_t nrefs, rcap;
};

static int keep_file(void *ctx, const struct ks_file_brief *b)
{
	struct linker *k = ctx;
	if (k->nfiles == k->fcap) {
		k->fcap = k->fcap ? k->fcap * 2 : 1024;
		k->files = ks_xrealloc(k->files, k->fcap * sizeof *k->files);
	}
	k->files[k->nfiles++] = (struct lfile){name_key(b->path), b->file_id, b->media_id, b->state,
					       ks_xstrdup(b->path)};
	return 0;
}

static int keep_ref(void *ctx, const struct ks_ref_link *l)
{
	struct linker *k = ctx;
	int want_path = l->path && *l->path && !l->file_id;
	int want_thumb = l->thumb_path && *l->thumb_path && !l->thumb_file_id;
	if (!want_path && !want_thumb)
		return 0;
	if (k->nrefs == k->rcap) {
		k->rcap = k->rcap ? k->rcap * 2 : 256;
		k->refs = ks_xrealloc(k->refs, k->rcap * sizeof *k->refs);
	}
	struct lref *r = &k->refs[k->nrefs++];
	memset(r, 0, sizeof *r);
	r->l = *l;
	r->l.parser = r->l.app = r->l.path = r->l.thumb_path = NULL;
	r->link_how = l->link_how ? ks_xstrdup(l->link_how) : NULL;
	r->l.link_how = r->link_how;
	int ic = 0;
	if (want_path)
		r->path = norm_path(l->path, l->app, &r->icase);
	if (want_thumb)
		r->thumb_path = norm_path(l->thumb_path, l->app, &ic);
	r->icase |= ic;
	return 0;
}

static int by_key(const void *x, const void *y)
{
	const struct lfile *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->file_id < b->file_id ? -1 : a->file_id > b->file_id;
}

/* 1 if file path f ends with the components of rel. */
static int suffix_match(const char *f, const char *rel, int icase)
{
	size_t lf = strlen(f), lr = strlen(rel);
	if (lr == 0 || lr > lf)
		return 0;
	const char *tail = f + lf - lr;
	if (tail != f && tail[-1] != '/')
		return 0;
	return icase ? strcasecmp(tail, rel) == 0 : strcmp(tail, rel) == 0;
}

/* The best file for a normalised path: a live one first, then the lowest id. */
static const struct lfile *find_file(const struct linker *k, const char *rel, int icase)
{
	if (!rel || !*rel)
		return NULL;
	uint64_t key = name_key(rel);
	size_t lo = 0, hi = k->nfiles;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->files[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct lfile *best = NULL;
	for (size_t i = lo; i < k->nfiles && k->files[i].key == key; i++) {
		const struct lfile *f = &k->files[i];
		if (!suffix_match(f->path, rel, icase))
			continue;
		if (!best || (best->state != KS_STATE_LIVE && f->state == KS_STATE_LIVE))
			best = f;
	}
	return best;
}

/* Which link names the media best: the hash the app recorded, then the file its
 * path names (the original, even when the store also held a thumbnail of it), then
 * the thumbnail the store held, then a separate thumbnail file. */
static int link_rank(const char *how)
{
	static const char *const order[] = {"thumb_path", "thumbnail", "path", "sha256"};
	for (int i = 0; how && i < 4; i++)
		if (strcmp(how, order[i]) == 0)
			return i + 1;
	return 0;
}

int ks_prov_link_exhibit(struct ks_store *st, int64_t exhibit_id, struct ks_err *err)
{
	struct linker k = {0};
	int rc = ks_store_ref_links_each(st, exhibit_id, keep_ref, &k, err);
	if (rc == KS_E_UNSUPPORTED)
		rc = KS_OK;
	if (rc != KS_OK || k.nrefs == 0)
		goto out;
	if ((rc = ks_store_exhibit_files_each(st, exhibit_id, keep_file, &k, err)) != KS_OK)
		goto out;
	if (k.nfiles)
		qsort(k.files, k.nfiles, sizeof *k.files, by_key);
	for (size_t i = 0; i < k.nrefs && rc == KS_OK; i++) {
		struct lref *r = &k.refs[i];
		int changed = 0;
		const struct lfile *f = find_file(&k, r->path, r->icase);
		if (f) {
			r->l.file_id = f->file_id;
			changed = 1;
			if (f->media_id && link_rank(r->l.link_how) < link_rank("path")) {
				r->l.media_id = f->media_id;
				r->l.link_how = "path";
			}
		}
		f = find_file(&k, r->thumb_path, r->icase);
		if (f) {
			r->l.thumb_file_id = f->file_id;
			changed = 1;
			if (f->media_id && link_rank(r->l.link_how) < link_rank("thumb_path")) {
				r->l.media_id = f->media_id;
				r->l.link_how = "thumb_path";
			}
		}
		if (changed)
			rc = ks_store_ref_set_link(st, &r->l, err);
	}
out:
	for (size_t i = 0; i < k.nfiles; i++)
		free(k.files[i].path);
	for (size_t i = 0; i < k.nrefs; i++) {
		free(k.refs[i].path);
		free(k.refs[i].thumb_path);
		free(k.refs[i].link_how);
	}
	free(k.files);
	free(k.refs);
	return rc;
}
