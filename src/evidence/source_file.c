/* Loose-file source: one regular file that is not a disk image (a picture, a video,
 * an archive or an image that no volume or file system opener recognises), handed
 * out as a single item named after the file. Lowest-confidence kind: any regular
 * file is one, so anything more specific wins. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_impl.h"

struct file_src {
	int fd;
	char *item_path; /* "/name" */
	struct ks_item_info info;
};

struct file_reader {
	struct ks_item_reader base;
	struct file_src *fs;
	const char *what;
};

static ssize_t file_reader_read(struct ks_item_reader *base, uint64_t off, void *buf, size_t len,
				struct ks_err *err)
{
	struct file_reader *rd = (struct file_reader *)base;
	return ks_evidence_pread(rd->fs->fd, rd->fs->info.size, off, buf, len, rd->what, err);
}

static int file_probe(struct ks_source *src)
{
	return S_ISREG(src->st.st_mode) ? 1 : 0;
}

static int file_open(struct ks_source *src, struct ks_err *err)
{
	struct file_src *fs = ks_xcalloc(1, sizeof *fs);
	struct stat st;
	int rc = KS_OK;

	fs->fd = -1;
	src->priv = fs;
	/* The path the user named may be a symlink to the evidence: follow that one. */
	fs->fd = open(src->path, O_RDONLY | O_NOATIME | O_CLOEXEC | O_NONBLOCK);
	if (fs->fd < 0 && errno == EPERM)
		fs->fd = open(src->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fs->fd < 0) {
		rc = ks_err_set(err, KS_E_ENV, "%s: %s", src->path, strerror(errno));
		goto out;
	}
	if (fstat(fs->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ks_err_set(err, KS_E_ENV, "%s: not a regular file", src->path);
		goto out;
	}
	char *copy = ks_xstrdup(src->path);
	fs->item_path = ks_xasprintf("/%s", basename(copy));
	free(copy);

	struct statx sx;
	int have_btime =
	    statx(fs->fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) == 0 && (sx.stx_mask & STATX_BTIME);
	fs->info = (struct ks_item_info){
	    .volume = "",
	    .path = fs->item_path,
	    .state = KS_STATE_LIVE,
	    .size = (uint64_t)st.st_size,
	    .mtime = st.st_mtime,
	    .atime = st.st_atime,
	    .ctime = st.st_ctime,
	    .crtime = have_btime ? sx.stx_btime.tv_sec : 0,
	    .inode = st.st_ino,
	    .offset = 0,
	    .contiguous = 1,
	};
	src->info.kind = "file";
	src->info.size = (uint64_t)st.st_size;
	src->info.is_image = 0;
out:
	return rc;
}

static int file_walk(struct ks_source *src, const struct ks_walk_opts *opts, ks_item_fn fn,
		     ks_problem_fn problem, void *ctx, struct ks_err *err)
{
	struct file_src *fs = src->priv;
	struct file_reader rd = {.base = {.read = file_reader_read}, .fs = fs, .what = src->path};
	int rc = fn(ctx, &fs->info, &rd.base);
	if (rc < 0)
		return ks_err_set(err, rc, "walk stopped by the item callback");
	return KS_OK;
}

static void file_close(struct ks_source *src)
{
	struct file_src *fs = src->priv;
	if (!fs)
		return;
	if (fs->fd >= 0)
		close(fs->fd);
	free(fs->item_path);
	free(fs);
	src->priv = NULL;
}

const struct ks_source_ops ks_source_file_ops = {
    .name = "file",
    .probe = file_probe,
    .open = file_open,
    .walk = file_walk,
    .read = NULL,
    .close = file_close,
};
