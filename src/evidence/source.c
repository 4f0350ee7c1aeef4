/* Evidence sources: the registry of source kinds, detection (every kind probes, the
 * most confident wins, a tie is an error the user sees), and the public entry points
 * that dispatch to the chosen kind. Also the small helpers the kinds share. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_impl.h"

/* One row per kind of source; the order only matters for the message on a tie. */
static const struct ks_source_ops *const source_kinds[] = {
    &ks_source_dir_ops,
    &ks_source_tsk_ops,
    &ks_source_file_ops,
};
#define N_KINDS (sizeof source_kinds / sizeof source_kinds[0])

const char *ks_state_name(int state)
{
	switch (state) {
	case KS_STATE_LIVE:
		return "live";
	case KS_STATE_DELETED:
		return "deleted";
	case KS_STATE_CARVED:
		return "carved";
	case KS_STATE_CACHE:
		return "cache";
	}
	return "unknown";
}

int ks_evidence_open_ro(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOATIME | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	return fd;
}

ssize_t ks_evidence_pread(int fd, uint64_t size, uint64_t off, void *buf, size_t len,
			  const char *what, struct ks_err *err)
{
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ks_err_set(err, KS_E_EVIDENCE, "%s: read at %llu: %s", what,
					  (unsigned long long)(off + done), strerror(errno));
		}
		if (n == 0)
			break; /* the file shrank since it was listed */
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t ks_item_read(struct ks_item_reader *rd, uint64_t off, void *buf, size_t len,
		     struct ks_err *err)
{
	if (!rd || (!buf && len))
		return ks_err_set(err, KS_E_USAGE, "ks_item_read: no reader or buffer");
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	return rd->read(rd, off, buf, len, err);
}

int ks_source_open(const char *path, struct ks_source **out, struct ks_err *err)
{
	struct ks_source *src = NULL;
	void *privs[N_KINDS] = {0};
	int scores[N_KINDS] = {0};
	int best = -1, rc;

	*out = NULL;
	if (!path || !*path)
		return ks_err_set(err, KS_E_USAGE, "no evidence path given");
	src = ks_xcalloc(1, sizeof *src);
	src->path = ks_xstrdup(path);
	if (stat(path, &src->st) != 0) {
		rc = ks_err_set(err, errno == ENOENT ? KS_E_NOTFOUND : KS_E_ENV, "%s: %s", path,
				strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < N_KINDS; i++) {
		src->priv = NULL;
		src->ops = source_kinds[i];
		scores[i] = source_kinds[i]->probe(src);
		privs[i] = src->priv;
		if (scores[i] > 0 && (best < 0 || scores[i] > scores[best]))
			best = (int)i;
	}
	if (best < 0) {
		rc = ks_err_set(err, KS_E_UNSUPPORTED,
				"%s: neither a directory, a disk image nor a regular file", path);
		goto release;
	}
	for (size_t i = 0; i < N_KINDS; i++) {
		if ((int)i != best && scores[i] == scores[best]) {
			rc = ks_err_set(err, KS_E_UNSUPPORTED,
					"%s: both %s and %s claim this evidence", path,
					source_kinds[best]->name, source_kinds[i]->name);
			best = -1;
			goto release;
		}
	}
	src->ops = source_kinds[best];
	src->priv = privs[best];
	privs[best] = NULL;
	src->info.path = src->path;
	rc = src->ops->open(src, err);
release:
	for (size_t i = 0; i < N_KINDS; i++) {
		if (privs[i]) {
			struct ks_source tmp = *src;
			tmp.priv = privs[i];
			source_kinds[i]->close(&tmp);
		}
	}
	if (best < 0)
		src->ops = NULL;
out:
	if (rc != KS_OK) {
		ks_err_prefix(err, "opening evidence");
		ks_source_close(src);
		return rc;
	}
	*out = src;
	return KS_OK;
}

void ks_source_close(struct ks_source *src)
{
	if (!src)
		return;
	if (src->ops)
		src->ops->close(src);
	free(src->path);
	free(src);
}

const struct ks_source_info *ks_source_get_info(const struct ks_source *src)
{
	return &src->info;
}

ssize_t ks_source_read(struct ks_source *src, uint64_t off, void *buf, size_t len,
		       struct ks_err *err)
{
	if (!src || !src->info.is_image || !src->ops->read)
		return ks_err_set(err, KS_E_USAGE, "ks_source_read: %s is not a disk image",
				  src ? src->path : "(null)");
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	return src->ops->read(src, off, buf, len, err);
}

int ks_source_walk(struct ks_source *src, const struct ks_walk_opts *opts, ks_item_fn fn,
		   ks_problem_fn problem, void *ctx, struct ks_err *err)
{
	static const struct ks_walk_opts defaults = {.include_deleted = 1};
	if (!src || !fn)
		return ks_err_set(err, KS_E_USAGE, "ks_source_walk: no source or callback");
	return src->ops->walk(src, opts ? opts : &defaults, fn, problem, ctx, err);
}
