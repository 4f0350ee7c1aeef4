/* Internals of the evidence layer shared by its files: the source handle, the table
 * of function pointers every kind of source implements (directory tree, loose file,
 * disk image through libtsk) and the item reader they embed. Not a public header. */
#ifndef KESTREL_EVIDENCE_IMPL_H
#define KESTREL_EVIDENCE_IMPL_H

#include <sys/stat.h>

#include "kestrel/evidence.h"

struct ks_source;

/* One kind of source. probe looks at src->path / src->st and returns a confidence
 * 0..100 (0: not mine); it may leave state in src->priv, which open then completes
 * and close frees (close is also called on a probe that was not chosen). */
struct ks_source_ops {
	const char *name;
	int (*probe)(struct ks_source *src);
	int (*open)(struct ks_source *src, struct ks_err *err);
	int (*walk)(struct ks_source *src, const struct ks_walk_opts *opts, ks_item_fn fn,
		    ks_problem_fn problem, void *ctx, struct ks_err *err);
	/* NULL for sources that are not images. */
	ssize_t (*read)(struct ks_source *src, uint64_t off, void *buf, size_t len,
			struct ks_err *err);
	void (*close)(struct ks_source *src);
};

struct ks_source {
	const struct ks_source_ops *ops;
	struct ks_source_info info;
	char *path;
	struct stat st;
	void *priv;
};

/* Every item reader starts with this; ks_item_read dispatches through it. */
struct ks_item_reader {
	ssize_t (*read)(struct ks_item_reader *rd, uint64_t off, void *buf, size_t len,
			struct ks_err *err);
};

extern const struct ks_source_ops ks_source_dir_ops;
extern const struct ks_source_ops ks_source_file_ops;
extern const struct ks_source_ops ks_source_tsk_ops;

/* Opens a regular file read-only without touching its access time when the kernel
 * lets us (O_NOATIME needs ownership), relative to dirfd (AT_FDCWD for a path).
 * Never follows a symlink. Returns the fd or -1 with errno. */
int ks_evidence_open_ro(int dirfd, const char *name);

/* The TSK image of an image source (ks_source_tsk_ops), NULL for other kinds. */
struct TSK_IMG_INFO *ks_source_tsk_img(struct ks_source *src);

/* pread loop for item readers over a file descriptor. */
ssize_t ks_evidence_pread(int fd, uint64_t size, uint64_t off, void *buf, size_t len,
			  const char *what, struct ks_err *err);

#endif
