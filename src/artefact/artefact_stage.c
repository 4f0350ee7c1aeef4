/* The stage: stores and their SQLite companions arrive as separate items in any
 * order during a walk, so each wanted item is copied at once (through its reader,
 * read-only) into the stage's private directory; the run after the walk pairs every
 * SQLite store with its -wal / -journal and parses everything. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artefact_impl.h"

struct staged {
	char *volume, *path;
	int state;
	char *file; /* private copy; NULL once consumed */
	uint64_t size, tag;
	const struct ks_artefact_ops *ops; /* NULL for a companion */
};

struct ks_artefact_stage {
	char *dir;
	struct ks_artefact_limits lim;
	struct staged *v;
	size_t n, cap;
	uint64_t seq;
};

int ks_artefact_stage_new(const char *tmp_parent, const struct ks_artefact_limits *lim,
			  struct ks_artefact_stage **out, struct ks_err *err)
{
	*out = NULL;
	char *dir = ks_art_private_dir(tmp_parent, err);
	if (!dir)
		return KS_E_ENV;
	struct ks_artefact_stage *st = ks_xcalloc(1, sizeof *st);
	st->dir = dir;
	ks_art_fill_limits(&st->lim, lim);
	*out = st;
	return KS_OK;
}

static void forget(struct ks_artefact_stage *st)
{
	for (size_t i = 0; i < st->n; i++) {
		struct staged *s = &st->v[i];
		if (s->file)
			unlink(s->file);
		free(s->file);
		free(s->volume);
		free(s->path);
	}
	st->n = 0;
}

void ks_artefact_stage_free(struct ks_artefact_stage *st)
{
	if (!st)
		return;
	forget(st);
	free(st->v);
	rmdir(st->dir);
	free(st->dir);
	free(st);
}

size_t ks_artefact_stage_count(const struct ks_artefact_stage *st)
{
	size_t k = 0;
	for (size_t i = 0; i < st->n; i++)
		k += st->v[i].ops != NULL;
	return k;
}

/* Decides whether the item is wanted: 1 with *ops (NULL for a companion), 0, or an
 * error for a probe tie. */
static int classify(const char *path, const uint8_t *head, size_t hlen,
		    const struct ks_artefact_ops **ops, struct ks_err *err)
{
	int rc = ks_artefact_probe(path, head, hlen, ops, err);
	if (rc != KS_OK)
		return rc;
	if (*ops)
		return 1;
	return ks_artefact_is_companion(path);
}

static int check_size(struct ks_artefact_stage *st, const struct ks_artefact_ops *ops,
		      const char *path, uint64_t size, struct ks_err *err)
{
	uint64_t max = !ops || ops->input == KS_ARTEFACT_SQLITE ? st->lim.max_db_bytes
								 : st->lim.max_cache_bytes;
	if (size > max)
		return ks_err_set(err, KS_E_LIMIT, "%s: %llu bytes, over the %llu-byte artefact limit",
				  path, (unsigned long long)size, (unsigned long long)max);
	return KS_OK;
}

static struct staged *add(struct ks_artefact_stage *st, const char *volume, const char *path,
			  int state, uint64_t size, uint64_t tag,
			  const struct ks_artefact_ops *ops)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->v = ks_xrealloc(st->v, st->cap * sizeof *st->v);
	}
	struct staged *s = &st->v[st->n++];
	memset(s, 0, sizeof *s);
	s->volume = ks_xstrdup(volume ? volume : "");
	s->path = ks_xstrdup(path);
	s->state = state;
	s->size = size;
	s->tag = tag;
	s->ops = ops;
	s->file = ks_xasprintf("%s/s%llu", st->dir, (unsigned long long)st->seq++);
	return s;
}

/* Drops the last entry (its copy failed). */
static void drop_last(struct ks_artefact_stage *st)
{
	struct staged *s = &st->v[--st->n];
	unlink(s->file);
	free(s->file);
	free(s->volume);
	free(s->path);
}

static int open_copy(const char *file, struct ks_err *err)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		ks_err_set(err, KS_E_ENV, "%s: %s", file, strerror(errno));
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n, const char *file, struct ks_err *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ks_err_set(err, KS_E_ENV, "%s: write: %s", file, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return KS_OK;
}

int ks_artefact_stage_offer(struct ks_artefact_stage *st, const struct ks_item_info *info,
			    struct ks_item_reader *rd, const uint8_t *head, size_t hlen,
			    uint64_t tag, struct ks_err *err)
{
	uint8_t local[4096];
	uint8_t *buf = NULL;
	int fd = -1, rc;
	const struct ks_artefact_ops *ops = NULL;
	if (!head) {
		ssize_t got = ks_item_read(rd, 0, local, sizeof local, err);
		if (got < 0)
			return (int)got;
		head = local;
		hlen = (size_t)got;
	}
	rc = classify(info->path, head, hlen, &ops, err);
	if (rc <= 0)
		return rc;
	rc = check_size(st, ops, info->path, info->size, err);
	if (rc != KS_OK)
		return rc;
	struct staged *s = add(st, info->volume, info->path, info->state, info->size, tag, ops);
	fd = open_copy(s->file, err);
	if (fd < 0) {
		rc = KS_E_ENV;
		goto out;
	}
	const size_t chunk = 1 << 20;
	buf = ks_xmalloc(chunk);
	uint64_t off = 0;
	while (off < info->size) {
		size_t want = info->size - off < chunk ? (size_t)(info->size - off) : chunk;
		ssize_t got = ks_item_read(rd, off, buf, want, err);
		if (got < 0) {
			rc = (int)got;
			goto out;
		}
		if (got == 0)
			break; /* short item: keep what exists */
		rc = write_all(fd, buf, (size_t)got, s->file, err);
		if (rc != KS_OK)
			goto out;
		off += (uint64_t)got;
	}
	s->size = off;
	rc = 1;
out:
	if (fd >= 0 && close(fd) != 0 && rc == 1)
		rc = ks_err_set(err, KS_E_ENV, "%s: close: %s", s->file, strerror(errno));
	if (rc != 1)
		drop_last(st);
	free(buf);
	return rc;
}

int ks_artefact_stage_offer_bytes(struct ks_artefact_stage *st, const char *volume,
				  const char *path, int state, const uint8_t *data, size_t len,
				  uint64_t tag, struct ks_err *err)
{
	const struct ks_artefact_ops *ops = NULL;
	int rc = classify(path, data, len < 4096 ? len : 4096, &ops, err);
	if (rc <= 0)
		return rc;
	rc = check_size(st, ops, path, len, err);
	if (rc != KS_OK)
		return rc;
	struct staged *s = add(st, volume, path, state, len, tag, ops);
	int fd = open_copy(s->file, err);
	if (fd < 0) {
		drop_last(st);
		return KS_E_ENV;
	}
	rc = write_all(fd, data, len, s->file, err);
	if (close(fd) != 0 && rc == KS_OK)
		rc = ks_err_set(err, KS_E_ENV, "%s: close: %s", s->file, strerror(errno));
	if (rc != KS_OK) {
		drop_last(st);
		return rc;
	}
	return 1;
}

/* ---- run --------------------------------------------------------------------------- */

struct run {
	ks_ref_fn fn;
	void *ctx;
	int fn_rc; /* what the caller's callback returned last, to tell its stop from ours */
};

static int relay(void *ctx, const struct ks_artefact_ref *r)
{
	struct run *run = ctx;
	run->fn_rc = run->fn(run->ctx, r);
	return run->fn_rc;
}

/* The companion of store s with suffix sfx, or NULL. */
static struct staged *companion(struct ks_artefact_stage *st, const struct staged *s,
				const char *sfx)
{
	size_t n = strlen(s->path);
	for (size_t i = 0; i < st->n; i++) {
		struct staged *c = &st->v[i];
		if (c->ops || !c->file || c->state != s->state || strcmp(c->volume, s->volume) != 0)
			continue;
		if (strncmp(c->path, s->path, n) == 0 && strcmp(c->path + n, sfx) == 0)
			return c;
	}
	return NULL;
}

static int run_sqlite(struct ks_artefact_stage *st, struct staged *s, struct run *run,
		      struct ks_err *err)
{
	static const char *const sfx[] = {"-wal", "-journal"};
	static const char *const names[] = {"store.db-wal", "store.db-journal"};
	struct ks_artefact_db *db = NULL;
	int rc;
	char *dir = ks_art_private_dir(st->dir, err);
	if (!dir)
		return KS_E_ENV;
	char *to = ks_xasprintf("%s/store.db", dir);
	if (rename(s->file, to) != 0) {
		rc = ks_err_set(err, KS_E_ENV, "%s: %s", to, strerror(errno));
		free(to);
		rmdir(dir);
		free(dir);
		return rc;
	}
	free(to);
	free(s->file);
	s->file = NULL;
	for (size_t i = 0; i < 2; i++) {
		struct staged *c = companion(st, s, sfx[i]);
		if (!c)
			continue;
		to = ks_xasprintf("%s/%s", dir, names[i]);
		if (rename(c->file, to) == 0) {
			free(c->file);
			c->file = NULL;
		}
		free(to);
	}
	rc = ks_art_db_open_dir(dir, &db, err); /* takes dir */
	if (rc != KS_OK)
		return rc;
	struct ks_artefact_ctx c;
	ks_art_ctx_init(&c, s->volume, s->path, s->tag, &st->lim, relay, run);
	rc = s->ops->parse_db(&c, db, err);
	ks_artefact_db_close(db);
	return rc;
}

static int run_bytes(struct ks_artefact_stage *st, struct staged *s, struct run *run,
		     struct ks_err *err)
{
	int rc;
	void *map = NULL;
	int fd = open(s->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ks_err_set(err, KS_E_ENV, "%s: %s", s->file, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		rc = ks_err_set(err, KS_E_ENV, "%s: %s", s->file, strerror(errno));
		goto out;
	}
	size_t len = (size_t)sb.st_size;
	static const uint8_t empty[1];
	const uint8_t *data = empty;
	if (len > 0) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			rc = ks_err_set(err, KS_E_ENV, "%s: mmap: %s", s->file, strerror(errno));
			goto out;
		}
		data = map;
	}
	struct ks_artefact_ctx c;
	ks_art_ctx_init(&c, s->volume, s->path, s->tag, &st->lim, relay, run);
	rc = s->ops->parse_bytes(&c, data, len, err);
out:
	if (map)
		munmap(map, len);
	close(fd);
	return rc;
}

int ks_artefact_stage_run(struct ks_artefact_stage *st, ks_ref_fn fn, ks_problem_fn problem,
			  void *ctx, struct ks_err *err)
{
	int rc = KS_OK;
	struct run run = {.fn = fn, .ctx = ctx};
	for (size_t i = 0; i < st->n; i++) {
		struct staged *s = &st->v[i];
		if (!s->ops || !s->file)
			continue;
		struct ks_err e = {0};
		run.fn_rc = KS_OK;
		int r = s->ops->input == KS_ARTEFACT_SQLITE ? run_sqlite(st, s, &run, &e)
							    : run_bytes(st, s, &run, &e);
		if (r == KS_OK)
			continue;
		if (run.fn_rc < 0 && r == run.fn_rc) { /* the caller asked to stop */
			rc = r;
			if (err && e.msg[0])
				*err = e;
			break;
		}
		if (r == KS_E_ENV) {
			rc = r;
			if (err)
				*err = e;
			break;
		}
		if (problem)
			problem(ctx, s->path, e.msg[0] ? e.msg : ks_status_name(r));
	}
	forget(st);
	return rc;
}
