/* The scan: one reader per evidence source (this thread walks and reads, sequential
 * I/O), a pool of workers (ks_examine: validate, hash, expand archives), one writer
 * that matches and batches records into the store, and, for disk images, one thread
 * hashing the whole source. Memory in flight is bounded by a byte budget, so a
 * hostile size field cannot make the scan allocate more than the budget. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kestrel/media.h"
#include "kestrel/pipeline.h"
#include "kestrel/thread.h"
#include "pipeline_impl.h"
#include "thumbs.h"
#include "case_pdq.h"
#include "index_scan.h"
#include "carve_impl.h"
#include "provenance.h"
#include "vscan.h"
#include "vscan_tmk.h"

#define MAX_ITEM_BYTES (64ull << 20)   /* items up to this are read whole into memory */
#define LARGE_HEAD_BYTES (1ull << 20)  /* what a larger item keeps for validation */
#define READ_CHUNK (4u << 20)
#define BATCH_RECORDS 2000
#define BATCH_SECONDS 1.0

struct job {
	struct ks_group *g;
	uint8_t *data;
	size_t len;
};

struct scan {
	const struct ks_scan_opts *o;
	struct ks_store *st;
	struct ks_index *idx;
	struct ks_hashdb *case_pdq; /* the case's own PDQ lists as an index file, or NULL */
	struct ks_hashdb *hdb; /* --index file attached to idx, or NULL */
	struct ks_vmatch *vm;  /* known stills and videos for video matching (vscan.c) */
	struct ks_vtmk_known *vtk; /* known videos' TMK+PDQF (--tmk, vscan_tmk.c) */
	struct ks_queue *work, *done;
	struct ks_budget *budget;
	struct ks_expand_limits lim;
	struct ks_source *src;
	int64_t exhibit_id, source_id;
	struct ks_hasher *reader_hasher;
	_Atomic int failed;        /* the writer hit an environment error */
	struct ks_err write_err;
	_Atomic uint64_t files, media, pictures, videos, archives, matches, errors, bytes_read;
	_Atomic uint64_t src_done, src_total;
	uint64_t skipped; /* sources already scanned completely */
	double t0, last_progress;
	struct ks_buf problems; /* NUL-separated messages from on_problem */
	struct ks_prov *prov;   /* app stores staged during the walk (provenance.c) */
	struct ks_carver *carver; /* --carve: this source's carver (carve.c) */
};

/* ---- source hashing thread ------------------------------------------------------ */

struct srchash {
	struct scan *s;
	pthread_t th;
	int started;
	int rc;
	struct ks_err err;
	uint8_t md5[16], sha1[20];
};

/* The SHA-1 half: digests the chunks the reading thread has MD5'd, in order, then
 * hands each buffer back. */
struct srchash_chunk {
	uint8_t *buf;
	size_t len;
};

struct sha1_worker {
	struct ks_srchasher *sh;
	struct ks_queue *full, *empty;
};

static void *srchash_sha1_main(void *arg)
{
	struct sha1_worker *w = arg;
	struct srchash_chunk *c;
	while ((c = ks_queue_pop(w->full))) {
		ks_srchasher_update_one(w->sh, 1, c->buf, c->len);
		ks_queue_push(w->empty, c);
	}
	return NULL;
}

#define SRCHASH_SLOTS 4

static void *srchash_main(void *arg)
{
	struct srchash *h = arg;
	const struct ks_source_info *si = ks_source_get_info(h->s->src);
	struct ks_srchasher *sh = ks_srchasher_new();
	struct sha1_worker w = {sh, ks_queue_new(SRCHASH_SLOTS), ks_queue_new(SRCHASH_SLOTS)};
	struct srchash_chunk slots[SRCHASH_SLOTS];
	for (int i = 0; i < SRCHASH_SLOTS; i++) {
		slots[i].buf = ks_xmalloc(READ_CHUNK);
		ks_queue_push(w.empty, &slots[i]);
	}
	pthread_t th;
	int threaded = pthread_create(&th, NULL, srchash_sha1_main, &w) == 0;
	uint64_t off = 0;
	h->rc = KS_OK;
	while (off < si->size) {
		struct srchash_chunk *c = ks_queue_pop(w.empty);
		size_t want = si->size - off < READ_CHUNK ? (size_t)(si->size - off) : READ_CHUNK;
		ssize_t n = ks_source_read(h->s->src, off, c->buf, want, &h->err);
		if (n <= 0) {
			h->rc = n < 0 ? (int)n : ks_err_set(&h->err, KS_E_EVIDENCE, "short read at %llu",
							   (unsigned long long)off);
			ks_queue_push(w.empty, c);
			break;
		}
		c->len = (size_t)n;
		ks_srchasher_update_one(sh, 0, c->buf, c->len);
		if (threaded)
			ks_queue_push(w.full, c);
		else {
			ks_srchasher_update_one(sh, 1, c->buf, c->len);
			ks_queue_push(w.empty, c);
		}
		off += (uint64_t)n;
		h->s->src_done = off;
	}
	ks_queue_close(w.full);
	if (threaded)
		pthread_join(th, NULL);
	ks_srchasher_final(sh, h->md5, h->sha1);
	ks_srchasher_free(sh);
	for (int i = 0; i < SRCHASH_SLOTS; i++)
		free(slots[i].buf);
	ks_queue_free(w.full);
	ks_queue_free(w.empty);
	return NULL;
}

/* ---- writer -------------------------------------------------------------------- */

static int write_group(struct scan *s, struct ks_group *g, int64_t *ids, struct ks_err *err)
{
	for (size_t i = 0; i < g->n; i++) {
		struct ks_rec *r = &g->recs[i];
		int64_t media_id = 0;
		if (r->hashed) {
			struct ks_media_rec m = {&r->d, r->size, r->type, r->kind, r->width, r->height,
						 r->valid < 0 ? KS_VALID_OK : r->valid};
			int is_new = 0;
			int rc = ks_store_media_put(s->st, &m, &media_id, &is_new, err);
			if (rc < 0)
				return rc;
			if ((rc = ks_thumb_store(s->st, media_id, r->thumb, err)) < 0)
				return rc;
			int nv = ks_vfp_store(s->st, s->vm, media_id, r->vfp, err); /* videos */
			if (nv < 0)
				return nv;
			int nt = ks_vtmk_store(s->st, s->vtk, media_id, r->vtmk, err); /* --tmk */
			if (nt < 0)
				return nt;
			if (is_new && s->idx) {
				int n = ks_match_media(s->st, s->idx, media_id, &r->d, err);
				if (n < 0)
					return n;
				int near = ks_match_thumb_near(s->st, s->idx, media_id, r->thumb, err);
				if (near < 0)
					return near;
				if (n > 0 || near > 0 || nv > 0 || nt > 0)
					s->matches++;
			}
		}
		struct ks_file_rec f = {
			.exhibit_id = s->exhibit_id,
			.source_id = s->source_id,
			.media_id = media_id,
			.parent_id = r->parent >= 0 ? ids[r->parent] : 0,
			.volume = r->volume ? r->volume : "",
			.path = r->path ? r->path : "",
			.state = r->state,
			.size = r->size,
			.mtime = r->mtime, .atime = r->atime, .ctime = r->ctime, .crtime = r->crtime,
			.inode = r->inode,
			.offset = r->offset,
			.type = r->type[0] ? r->type : "data",
			.kind = r->kind,
			.note = r->note,
			.error = r->error,
		};
		int rc = ks_store_file_add(s->st, &f, &ids[i], err);
		if (rc < 0)
			return rc;
		ks_prov_note_file(s->prov, r->prov_tag, ids[i]);
		if (r->exif && media_id && (rc = ks_store_exif_put(s->st, media_id, r->exif, err)) < 0)
			return rc;
		s->files++;
		if (r->kind == KS_KIND_PICTURE || r->kind == KS_KIND_VIDEO)
			s->media++;
		if (r->kind == KS_KIND_PICTURE)
			s->pictures++;
		else if (r->kind == KS_KIND_VIDEO)
			s->videos++;
		else if (r->kind == KS_KIND_ARCHIVE)
			s->archives++;
		if (r->error)
			s->errors++;
	}
	return KS_OK;
}

static void *writer_main(void *arg)
{
	struct scan *s = arg;
	struct ks_group *g;
	size_t in_batch = 0, idcap = 0;
	int64_t *ids = NULL;
	int in_tx = 0;
	double batch_t0 = ks_time_mono();
	while ((g = ks_queue_pop(s->done))) {
		if (!s->failed) {
			if (!in_tx) {
				if (ks_store_begin(s->st, &s->write_err) < 0)
					s->failed = 1;
				in_tx = !s->failed;
				batch_t0 = ks_time_mono();
			}
			if (g->n > idcap) {
				idcap = g->n * 2;
				ids = ks_xrealloc(ids, idcap * sizeof *ids);
			}
			if (!s->failed && write_group(s, g, ids, &s->write_err) < 0)
				s->failed = 1;
			in_batch += g->n;
			if (!s->failed && (in_batch >= BATCH_RECORDS || ks_time_mono() - batch_t0 > BATCH_SECONDS)) {
				if (ks_store_commit(s->st, &s->write_err) < 0)
					s->failed = 1;
				in_tx = 0;
				in_batch = 0;
			}
		}
		ks_group_free(g);
	}
	if (in_tx) {
		if (s->failed)
			ks_store_rollback(s->st);
		else if (ks_store_commit(s->st, &s->write_err) < 0)
			s->failed = 1;
	}
	free(ids);
	return NULL;
}

/* ---- workers ------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct scan *s = arg;
	struct ks_hasher *h = ks_hasher_new();
	struct job *j;
	while ((j = ks_queue_pop(s->work))) {
		ks_examine(j->g, 0, j->data, j->len, s->o->hash_all, &s->lim, h);
		if (s->o->carve)
			ks_carve_embedded(j->g, 0, j->data, j->len, &s->lim, h);
		free(j->data);
		ks_budget_release(s->budget, j->len);
		ks_queue_push(s->done, j->g);
		free(j);
	}
	ks_hasher_free(h);
	return NULL;
}

/* ---- reader -------------------------------------------------------------------- */

static void progress(struct scan *s, int force)
{
	double now = ks_time_mono();
	if (!s->o->progress || (!force && now - s->last_progress < 0.5))
		return;
	s->last_progress = now;
	struct ks_scan_progress p = {
		.files_seen = s->files, .media_found = s->media, .bytes_read = s->bytes_read,
		.matches = s->matches, .source_bytes_done = s->src_done,
		.source_bytes_total = s->src_total, .elapsed = now - s->t0,
	};
	s->o->progress(s->o->progress_ctx, &p);
}

/* Reads len bytes at off fully; returns bytes read (short on error, err set). */
static size_t read_full(struct ks_item_reader *rd, uint64_t off, uint8_t *buf, size_t len,
			struct ks_err *err)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = ks_item_read(rd, off + got, buf + got, len - got, err);
		if (n < 0)
			break;
		if (n == 0) {
			ks_err_set(err, KS_E_EVIDENCE, "data ends at %zu of %zu bytes", got, len);
			break;
		}
		got += (size_t)n;
	}
	return got;
}

/* Carved items go to the workers like the walk's (carve.c). */
static void submit_job(void *ctx, struct ks_group *g, uint8_t *data, size_t len)
{
	struct scan *s = ctx;
	struct job *j = ks_xcalloc(1, sizeof *j);
	j->g = g;
	j->data = data;
	j->len = len;
	ks_queue_push(s->work, j);
}

static struct ks_carver *carver_new(struct scan *s, const struct ks_source_info *si)
{
	struct ks_carve_env env = {
		.budget = s->budget,
		.budget_total = s->o->memory_budget ? s->o->memory_budget : 256ull << 20,
		.submit = submit_job,
		.ctx = s,
		.source_id = s->source_id,
		.lim = &s->lim,
		.hasher = s->reader_hasher,
		.bytes_read = &s->bytes_read,
		.failed = &s->failed,
	};
	return ks_carver_new(&env, si);
}

static int on_item(void *vctx, const struct ks_item_info *info, struct ks_item_reader *rd)
{
	struct scan *s = vctx;
	if (s->failed)
		return KS_E_ENV;
	progress(s, 0);

	struct ks_group *g = ks_xcalloc(1, sizeof *g);
	g->source_id = s->source_id;
	g->prov = s->prov;
	struct ks_rec *r = ks_group_add(g);
	r->volume = ks_xstrdup(info->volume ? info->volume : "");
	r->path = ks_xstrdup(info->path ? info->path : "");
	r->state = info->state;
	r->size = info->size;
	r->mtime = info->mtime;
	r->atime = info->atime;
	r->ctime = info->ctime;
	r->crtime = info->crtime;
	r->inode = info->inode;
	r->offset = info->offset;
	r->contiguous = info->contiguous;
	if (info->note)
		ks_rec_set_note(r, "%s", info->note);

	uint8_t head[KS_SNIFF_BYTES];
	size_t hn = info->size < sizeof head ? (size_t)info->size : sizeof head;
	struct ks_err err = {0};
	int kind = KS_KIND_OTHER;
	size_t got = read_full(rd, 0, head, hn, &err);
	s->bytes_read += got;
	if (got < hn) {
		ks_rec_set_error(r, "unreadable: %s", err.msg);
		snprintf(r->type, sizeof r->type, "data");
		ks_queue_push(s->done, g);
		return KS_OK;
	}
	if (ks_prov_offer(s->prov, info, rd, head, hn, r, &err) < 0) {
		ks_log(KS_LOG_ERROR, "%s: %s", info->path, err.msg);
		ks_group_free(g);
		return KS_E_ENV;
	}
	if (hn)
		ks_media_sniff(head, hn, info->size, &kind);
	if (s->carver)
		ks_carver_note_item(s->carver, info, kind);
	int carve_in = s->carver && ks_carver_wants_item(s->carver, info, kind);
	if (kind == KS_KIND_OTHER && !s->o->hash_all && carve_in && info->size > MAX_ITEM_BYTES) {
		/* Too big to hold, not to be hashed: only searched for embedded media. */
		snprintf(r->type, sizeof r->type, "data");
		ks_carve_embedded_stream(s->carver, g, 0, rd, info->size, s->reader_hasher);
		ks_queue_push(s->done, g);
		return KS_OK;
	}
	if (kind == KS_KIND_OTHER && !s->o->hash_all && !carve_in) {
		snprintf(r->type, sizeof r->type, "%s", hn ? "data" : "empty");
		ks_queue_push(s->done, g);
		return KS_OK;
	}

	struct job *j = ks_xcalloc(1, sizeof *j);
	j->g = g;
	if (info->size <= MAX_ITEM_BYTES) {
		j->len = (size_t)info->size;
		ks_budget_acquire(s->budget, j->len);
		j->data = ks_xmalloc(j->len);
		memcpy(j->data, head, hn);
		got = hn + read_full(rd, hn, j->data + hn, j->len - hn, &err);
		s->bytes_read += got - hn;
		if (got < j->len) {
			ks_rec_set_error(r, "read %zu of %zu bytes: %s", got, j->len, err.msg);
			j->len = got; /* examined, not hashed: a partial hash would mislead */
		}
	} else {
		/* Too big to hold: hash it streaming here, keep the head for validation. */
		j->len = LARGE_HEAD_BYTES;
		ks_budget_acquire(s->budget, j->len + READ_CHUNK);
		j->data = ks_xmalloc(j->len);
		uint8_t *chunk = ks_xmalloc(READ_CHUNK);
		uint64_t off = 0;
		while (off < info->size) {
			size_t want = info->size - off < READ_CHUNK ? (size_t)(info->size - off) : READ_CHUNK;
			size_t n = read_full(rd, off, chunk, want, &err);
			if (off < j->len)
				memcpy(j->data + off, chunk, j->len - off < n ? j->len - off : n);
			ks_hasher_update(s->reader_hasher, chunk, n);
			off += n;
			s->bytes_read += n;
			if (n < want)
				break;
		}
		free(chunk);
		ks_budget_release(s->budget, READ_CHUNK);
		ks_hasher_final(s->reader_hasher, &r->d);
		if (off < info->size) {
			ks_rec_set_error(r, "read %llu of %llu bytes: %s", (unsigned long long)off,
					 (unsigned long long)info->size, err.msg);
		} else {
			r->hashed = 1;
		}
	}
	if (kind == KS_KIND_VIDEO && info->size > MAX_ITEM_BYTES) /* sampled through the evidence */
		r->vfp = ks_vfp_make_reader(rd, info->size, s->o->video_seconds);
	if (kind == KS_KIND_VIDEO && info->size > MAX_ITEM_BYTES && s->lim.tmk_seconds > 0)
		r->vtmk = ks_vtmk_make_reader(rd, info->size, s->lim.tmk_seconds);
	if (carve_in && info->size > MAX_ITEM_BYTES) /* (adds records: r may move) */
		ks_carve_embedded_stream(s->carver, g, 0, rd, info->size, s->reader_hasher);
	ks_queue_push(s->work, j);
	return KS_OK;
}

static void on_problem(void *vctx, const char *where, const char *msg)
{
	struct scan *s = vctx;
	s->errors++;
	ks_log(KS_LOG_WARN, "%s: %s", where, msg);
	/* Kept until the walk ends: the writer thread owns the store meanwhile. */
	ks_buf_addf(&s->problems, "%s: %s", where, msg);
	ks_buf_add(&s->problems, "", 1);
}

/* Problems outside any item go to the audit log, so they are on the record. */
static int flush_problems(struct scan *s, struct ks_err *err)
{
	int rc = KS_OK;
	for (size_t off = 0; off < s->problems.len && rc == KS_OK;) {
		const char *p = (const char *)s->problems.data + off;
		rc = ks_store_audit(s->st, s->o->examiner ? s->o->examiner : "", "scan.problem", p, err);
		off += strlen(p) + 1;
	}
	ks_buf_reset(&s->problems);
	return rc;
}

/* ---- one source ---------------------------------------------------------------- */

static int stat_sig(const char *path, struct stat *st)
{
	return stat(path, st);
}

static int same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec && a->st_ino == b->st_ino;
}

static int scan_source(struct scan *s, const char *path, struct ks_err *err)
{
	int rc;
	struct ks_err serr = {0};
	const char *who = s->o->examiner ? s->o->examiner : "";
	struct stat before, after;
	int have_stat = stat_sig(path, &before) == 0;

	/* Resume: a source already scanned completely is skipped; one whose scan was
	 * interrupted (status still "running") is forgotten and scanned again. */
	int64_t old_id = 0;
	char *old_status = NULL;
	if ((rc = ks_store_source_find(s->st, s->exhibit_id, path, &old_id, &old_status, err)) < 0)
		return rc;
	if (old_id && !s->o->rescan && strncmp(old_status, "complete", 8) == 0) {
		ks_log(KS_LOG_INFO, "%s: already scanned into exhibit %s (source %lld); --rescan to redo",
		       path, s->o->exhibit, (long long)old_id);
		free(old_status);
		s->skipped++;
		return KS_OK;
	}
	if (old_id) {
		ks_log(KS_LOG_INFO, "%s: previous scan %s (%s): its records are replaced", path,
		       strcmp(old_status, "running") == 0 ? "was interrupted" : "is redone", old_status);
		char *d = ks_xasprintf("source %lld %s: previous scan (%s) forgotten to scan again",
				       (long long)old_id, path, old_status);
		if ((rc = ks_store_begin(s->st, err)) == KS_OK) {
			rc = ks_store_source_forget(s->st, old_id, err);
			if (rc == KS_OK)
				rc = ks_store_audit(s->st, who, "scan.source.forget", d, err);
			if (rc == KS_OK)
				rc = ks_store_commit(s->st, err);
			else
				ks_store_rollback(s->st);
		}
		free(d);
		if (rc < 0) {
			free(old_status);
			return rc;
		}
	}
	free(old_status);

	rc = ks_source_open(path, &s->src, &serr);
	if (rc < 0) {
		int64_t sid;
		s->errors++;
		if ((rc = ks_store_source_add(s->st, s->exhibit_id, path, "unopened", 0, &sid, err)) < 0)
			return rc;
		char *status = ks_xasprintf("failed: %s", serr.msg);
		rc = ks_store_source_finish(s->st, sid, status, err);
		free(status);
		ks_log(KS_LOG_ERROR, "%s: %s", path, serr.msg);
		return rc < 0 ? rc : KS_OK;
	}
	const struct ks_source_info *si = ks_source_get_info(s->src);
	if ((rc = ks_store_source_add(s->st, s->exhibit_id, path, si->kind, si->size, &s->source_id, err)) < 0)
		goto out;
	char *d = ks_xasprintf("source %lld %s (%s, %llu bytes)", (long long)s->source_id, path, si->kind,
			       (unsigned long long)si->size);
	rc = ks_store_audit(s->st, who, "scan.source.start", d, err);
	free(d);
	if (rc < 0)
		goto out;

	struct srchash sh = {.s = s};
	s->src_done = 0;
	s->src_total = 0;
	if (si->is_image && s->o->source_hash) {
		s->src_total = si->size;
		if (pthread_create(&sh.th, NULL, srchash_main, &sh) == 0)
			sh.started = 1;
	}

	int nworkers = s->o->threads > 0 ? s->o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nworkers < 1)
		nworkers = 1;
	s->work = ks_queue_new((size_t)nworkers * 4);
	s->done = ks_queue_new(256);
	pthread_t *workers = ks_xcalloc((size_t)nworkers, sizeof *workers);
	pthread_t writer;
	for (int i = 0; i < nworkers; i++)
		pthread_create(&workers[i], NULL, worker_main, s);
	pthread_create(&writer, NULL, writer_main, s);

	struct ks_walk_opts wo = {.include_deleted = s->o->include_deleted};
	s->carver = s->o->carve ? carver_new(s, si) : NULL;
	int wrc = ks_source_walk(s->src, &wo, on_item, on_problem, s, &serr);
	if (s->carver && wrc >= 0) /* carved items flow through the same workers */
		wrc = ks_carver_run(s->carver, s->src, on_problem, s, &serr);

	ks_queue_close(s->work);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	ks_queue_close(s->done);
	pthread_join(writer, NULL);
	free(workers);
	ks_queue_free(s->work);
	ks_queue_free(s->done);
	s->work = s->done = NULL;
	ks_carver_free(s->carver);
	s->carver = NULL;
	if (sh.started)
		pthread_join(sh.th, NULL);
	progress(s, 1);

	if (!s->failed) { /* references from the app stores staged during the walk */
		struct ks_prov_run pr = {.st = s->st, .idx = s->idx, .exhibit_id = s->exhibit_id,
					 .source_id = s->source_id, .hash_all = s->o->hash_all,
					 .lim = &s->lim, .problem = on_problem, .problem_ctx = s,
					 .who = who};
		if ((rc = ks_prov_finish(s->prov, &pr, err)) < 0)
			goto out;
		s->files += pr.files;
		s->media += pr.media;
		s->pictures += pr.pictures;
		s->videos += pr.videos;
		s->matches += pr.matches;
		s->errors += pr.errors;
	}
	if (!s->failed && (rc = flush_problems(s, err)) < 0)
		goto out;
	if (s->failed) {
		*err = s->write_err;
		rc = err->status < 0 ? err->status : KS_E_ENV;
		goto out;
	}
	char status[600];
	if (wrc < 0)
		snprintf(status, sizeof status, "incomplete: %s", serr.msg);
	else
		snprintf(status, sizeof status, "complete");
	if (sh.started) {
		char md5[33], sha1[41];
		if (sh.rc < 0) {
			snprintf(status, sizeof status, "complete; source hash failed: %s", sh.err.msg);
		} else {
			ks_hex_encode(sh.md5, 16, md5);
			ks_hex_encode(sh.sha1, 20, sha1);
			if ((rc = ks_store_source_set_hash(s->st, s->source_id, "before", md5, sha1, err)) < 0)
				goto out;
			/* After: the evidence file must be unchanged (size, mtime, ctime, inode: a
			 * write of any kind moves ctime, which user space cannot set back). */
			if (have_stat && stat_sig(path, &after) == 0 && same_stat(&before, &after)) {
				if ((rc = ks_store_source_set_hash(s->st, s->source_id, "after", md5, sha1, err)) < 0)
					goto out;
			} else {
				snprintf(status, sizeof status, "complete; SOURCE CHANGED DURING SCAN");
			}
		}
	}
	if ((rc = ks_store_source_finish(s->st, s->source_id, status, err)) < 0)
		goto out;
	d = ks_xasprintf("source %lld %s: %s", (long long)s->source_id, path, status);
	rc = ks_store_audit(s->st, who, "scan.source.finish", d, err);
	free(d);
out:
	ks_source_close(s->src);
	s->src = NULL;
	return rc < 0 ? rc : KS_OK;
}

int ks_scan_run(const char *case_dir, const struct ks_scan_opts *o, struct ks_scan_stats *stats,
		struct ks_err *err)
{
	struct scan s = {.o = o};
	int rc;
	s.t0 = ks_time_mono();
	s.lim = (struct ks_expand_limits){.max_depth = 8,
					  .max_member_bytes = 32ull << 20,
					  .max_total_bytes = 4ull << 30,
					  .max_members = 100000,
					  .video_seconds = o->video_seconds,
					  .tmk_seconds = !o->tmk		 ? 0
							 : o->tmk_seconds > 0 ? o->tmk_seconds
									      : KS_VTMK_SECONDS};
	s.budget = ks_budget_new(o->memory_budget ? o->memory_budget : 256ull << 20);
	s.reader_hasher = ks_hasher_new();
	if ((rc = ks_store_open(case_dir, 0, &s.st, err)) < 0)
		goto out;
	if ((rc = ks_prov_new(case_dir, &s.prov, err)) < 0)
		goto out;
	s.idx = ks_index_new();
	if ((rc = ks_store_load_index(s.st, s.idx, err)) < 0)
		goto out;
	if (o->index && (rc = ks_scan_index_attach(s.st, s.idx, o->index, o->examiner, &s.hdb, err)) < 0)
		goto out;
	if ((rc = ks_case_pdq_attach(s.st, s.idx, case_dir, &s.case_pdq, err)) < 0)
		goto out;
	if ((rc = ks_vmatch_load(s.st, s.idx, &o->video_match, 0, &s.vm, err)) < 0)
		goto out;
	if (o->tmk && (rc = ks_vtmk_load(s.st, &o->video_match, 0, &s.vtk, err)) < 0)
		goto out;
	if (s.case_pdq)
		ks_vmatch_stills_in_index(s.vm);
	if ((rc = ks_store_exhibit_get(s.st, o->exhibit, &s.exhibit_id, err)) < 0)
		goto out;
	for (int i = 0; i < o->nevidence; i++) {
		/* Sources are recorded by absolute path, so a resumed scan finds them again
		 * from any working directory. */
		char *abs = realpath(o->evidence[i], NULL);
		rc = scan_source(&s, abs ? abs : o->evidence[i], err);
		free(abs);
		if (rc < 0)
			goto out;
	}
	if (stats) {
		stats->files = s.files;
		stats->media = s.media;
		stats->pictures = s.pictures;
		stats->videos = s.videos;
		stats->archives = s.archives;
		stats->matches = s.matches;
		stats->errors = s.errors;
		stats->skipped_sources = s.skipped;
		stats->seconds = ks_time_mono() - s.t0;
	}
out:
	ks_prov_free(s.prov);
	ks_buf_release(&s.problems);
	ks_hasher_free(s.reader_hasher);
	ks_budget_free(s.budget);
	ks_vmatch_free(s.vm);
	ks_vtmk_known_free(s.vtk);
	ks_index_free(s.idx);
	ks_hashdb_close(s.hdb);
	ks_hashdb_close(s.case_pdq);
	ks_store_close(s.st);
	return rc < 0 ? rc : KS_OK;
}
