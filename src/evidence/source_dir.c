/* Directory-tree source: a mounted or copied folder walked with openat, entries in
 * name order, regular files only. Symlinks are never followed (so the walk cannot
 * leave the tree or loop), files are opened read-only with O_NOATIME when allowed and
 * only when the callback reads them. Folders that cannot be listed are reported. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_impl.h"

/* Each level of the walk holds one descriptor; deeper trees are reported, not walked
 * (a hostile tree must not exhaust descriptors). */
#define DIR_MAX_DEPTH 256

struct dir_walk {
	ks_item_fn fn;
	ks_problem_fn problem;
	void *ctx;
	struct ks_buf path;
	int status;
};

struct dir_reader {
	struct ks_item_reader base;
	int dirfd;
	const char *name; /* entry name inside dirfd */
	const char *path; /* for messages */
	ino_t ino;
	uint64_t size;
	int fd;
};

struct dir_stat {
	mode_t mode;
	uint64_t size, ino;
	int64_t mtime, atime, ctime, crtime;
};

static int dir_stat_at(int dfd, const char *name, struct dir_stat *ds)
{
	struct statx sx;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_BTIME,
		  &sx) == 0) {
		ds->mode = sx.stx_mode;
		ds->size = sx.stx_size;
		ds->ino = sx.stx_ino;
		ds->mtime = sx.stx_mtime.tv_sec;
		ds->atime = sx.stx_atime.tv_sec;
		ds->ctime = sx.stx_ctime.tv_sec;
		ds->crtime = (sx.stx_mask & STATX_BTIME) ? sx.stx_btime.tv_sec : 0;
		return 0;
	}
	if (errno != ENOSYS)
		return -1;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	ds->mode = st.st_mode;
	ds->size = (uint64_t)st.st_size;
	ds->ino = st.st_ino;
	ds->mtime = st.st_mtime;
	ds->atime = st.st_atime;
	ds->ctime = st.st_ctime;
	ds->crtime = 0;
	return 0;
}

static ssize_t dir_reader_read(struct ks_item_reader *base, uint64_t off, void *buf, size_t len,
			       struct ks_err *err)
{
	struct dir_reader *rd = (struct dir_reader *)base;
	if (rd->fd < 0) {
		int fd = ks_evidence_open_ro(rd->dirfd, rd->name);
		if (fd < 0)
			return ks_err_set(err, KS_E_EVIDENCE, "%s: cannot open: %s", rd->path,
					  strerror(errno));
		struct stat st;
		/* The entry may have been swapped for something else since it was listed. */
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != rd->ino) {
			close(fd);
			return ks_err_set(err, KS_E_EVIDENCE, "%s: changed while being walked",
					  rd->path);
		}
		rd->fd = fd;
	}
	return ks_evidence_pread(rd->fd, rd->size, off, buf, len, rd->path, err);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dir_problem(struct dir_walk *w, const char *msg)
{
	if (w->problem)
		w->problem(w->ctx, w->path.len ? (const char *)w->path.data : "/", msg);
}

static int open_dir_at(int dfd, const char *name)
{
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
	int fd = openat(dfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dfd, name, flags);
	return fd;
}

static void report_file(struct dir_walk *w, int dfd, const char *name, const struct dir_stat *ds)
{
	struct dir_reader rd = {
	    .base = {.read = dir_reader_read},
	    .dirfd = dfd,
	    .name = name,
	    .path = (const char *)w->path.data,
	    .ino = (ino_t)ds->ino,
	    .size = ds->size,
	    .fd = -1,
	};
	struct ks_item_info info = {
	    .volume = "",
	    .path = (const char *)w->path.data,
	    .state = KS_STATE_LIVE,
	    .size = ds->size,
	    .mtime = ds->mtime,
	    .atime = ds->atime,
	    .ctime = ds->ctime,
	    .crtime = ds->crtime,
	    .inode = ds->ino,
	    .offset = -1,
	};
	int rc = w->fn(w->ctx, &info, &rd.base);
	if (rd.fd >= 0)
		close(rd.fd);
	if (rc < 0)
		w->status = rc;
}

/* Walks the folder open on dfd (takes ownership of dfd). w->path holds its path. */
static void walk_dir(struct dir_walk *w, int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		dir_problem(w, strerror(errno));
		close(dfd);
		return;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				dir_problem(w, strerror(errno));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = ks_xrealloc(names, cap * sizeof *names);
		}
		names[n++] = ks_xstrdup(de->d_name);
	}
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);

	size_t base_len = w->path.len;
	for (size_t i = 0; i < n && w->status == KS_OK; i++) {
		struct dir_stat ds;
		w->path.len = base_len;
		ks_buf_addf(&w->path, "/%s", names[i]);
		if (dir_stat_at(dirfd(d), names[i], &ds) != 0) {
			dir_problem(w, strerror(errno));
			continue;
		}
		if (S_ISREG(ds.mode)) {
			report_file(w, dirfd(d), names[i], &ds);
		} else if (S_ISDIR(ds.mode)) {
			if (depth >= DIR_MAX_DEPTH) {
				dir_problem(w, "folders nested too deep, not walked");
				continue;
			}
			int sub = open_dir_at(dirfd(d), names[i]);
			if (sub < 0) {
				dir_problem(w, strerror(errno));
				continue;
			}
			walk_dir(w, sub, depth + 1);
		}
		/* symlinks, devices, fifos and sockets hold no file content of their own */
	}
	w->path.len = base_len;
	if (w->path.data)
		w->path.data[base_len] = '\0';
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

static int dir_probe(struct ks_source *src)
{
	return S_ISDIR(src->st.st_mode) ? 100 : 0;
}

static int dir_open(struct ks_source *src, struct ks_err *err)
{
	src->info.kind = "directory";
	src->info.size = 0;
	src->info.is_image = 0;
	return KS_OK;
}

static int dir_walk(struct ks_source *src, const struct ks_walk_opts *opts, ks_item_fn fn,
		    ks_problem_fn problem, void *ctx, struct ks_err *err)
{
	struct dir_walk w = {.fn = fn, .problem = problem, .ctx = ctx, .status = KS_OK};
	/* The root as given may be a symlink to the evidence folder: that one is followed. */
	int fd = open(src->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(src->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ks_err_set(err, KS_E_ENV, "%s: %s", src->path, strerror(errno));
	walk_dir(&w, fd, 0);
	ks_buf_release(&w.path);
	if (w.status < 0)
		return ks_err_set(err, w.status, "walk stopped by the item callback");
	return KS_OK;
}

static void dir_close(struct ks_source *src)
{
	(void)src;
}

const struct ks_source_ops ks_source_dir_ops = {
    .name = "directory",
    .probe = dir_probe,
    .open = dir_open,
    .walk = dir_walk,
    .read = NULL,
    .close = dir_close,
};
