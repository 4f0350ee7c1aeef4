/* The regions of a source worth carving (evidence.h: ks_source_carve_regions): for
 * disk images, every file system's unallocated blocks (libtsk block walk, runs of
 * consecutive blocks merged), unpartitioned space, partitions nothing opens and the
 * slack after a file system; the whole image when nothing is recognised; for a
 * loose file, the whole file. The carver reads them through a reader over the
 * medium, so this layer never decides what the bytes are. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <tsk/libtsk.h>
#include <unistd.h>

#include "evidence_impl.h"

struct src_reader {
	struct ks_item_reader base;
	struct ks_source *src;
};

static ssize_t src_reader_read(struct ks_item_reader *base, uint64_t off, void *buf, size_t len,
			       struct ks_err *err)
{
	struct src_reader *rd = (struct src_reader *)base;
	return ks_source_read(rd->src, off, buf, len, err);
}

struct fd_reader {
	struct ks_item_reader base;
	int fd;
	uint64_t size;
	const char *path;
};

static ssize_t fd_reader_read(struct ks_item_reader *base, uint64_t off, void *buf, size_t len,
			      struct ks_err *err)
{
	struct fd_reader *rd = (struct fd_reader *)base;
	return ks_evidence_pread(rd->fd, rd->size, off, buf, len, rd->path, err);
}

/* ---- disk images --------------------------------------------------------------- */

struct region_walk {
	ks_region_fn fn;
	ks_problem_fn problem;
	void *ctx;
	struct ks_item_reader *media;
	uint64_t media_size;
	int status;
	/* the run of unallocated blocks being gathered */
	TSK_FS_INFO *fs;
	const char *volume;
	uint64_t run_start, run_len; /* in blocks; run_len 0: none */
};

static int emit(struct region_walk *w, const char *volume, const char *what, uint64_t off,
		uint64_t len, const TSK_FS_INFO *fs)
{
	if (w->status < 0 || len == 0 || off >= w->media_size)
		return w->status;
	if (len > w->media_size - off)
		len = w->media_size - off;
	struct ks_region_info r = {
	    .volume = volume ? volume : "",
	    .what = what,
	    .offset = off,
	    .length = len,
	    .fs_type = fs ? tsk_fs_type_toname(fs->ftype) : NULL,
	    .fs_offset = fs ? (uint64_t)fs->offset : 0,
	    .block_size = fs ? fs->block_size : 0,
	};
	int rc = w->fn(w->ctx, &r, w->media);
	if (rc < 0)
		w->status = rc;
	return w->status;
}

static int flush_run(struct region_walk *w)
{
	if (!w->run_len)
		return w->status;
	uint64_t bs = w->fs->block_size;
	int rc = emit(w, w->volume, "unallocated", (uint64_t)w->fs->offset + w->run_start * bs,
		      w->run_len * bs, w->fs);
	w->run_len = 0;
	return rc;
}

static TSK_WALK_RET_ENUM block_cb(const TSK_FS_BLOCK *b, void *ptr)
{
	struct region_walk *w = ptr;
	if (w->run_len && b->addr == w->run_start + w->run_len) {
		w->run_len++;
		return TSK_WALK_CONT;
	}
	if (flush_run(w) < 0)
		return TSK_WALK_STOP;
	w->run_start = b->addr;
	w->run_len = 1;
	return TSK_WALK_CONT;
}

/* The unallocated blocks of one file system, then the slack between its last block
 * and part_end (the end of its partition or of the image). */
static void fs_regions(struct region_walk *w, TSK_FS_INFO *fs, const char *volume,
		       uint64_t part_end)
{
	w->fs = fs;
	w->volume = volume;
	w->run_len = 0;
	tsk_error_reset();
	uint8_t r = tsk_fs_block_walk(fs, fs->first_block, fs->last_block,
				      (TSK_FS_BLOCK_WALK_FLAG_ENUM)(TSK_FS_BLOCK_WALK_FLAG_UNALLOC |
								    TSK_FS_BLOCK_WALK_FLAG_AONLY),
				      block_cb, w);
	if (r != 0 && w->status == KS_OK && w->problem) {
		const char *m = tsk_error_get();
		char msg[600];
		snprintf(msg, sizeof msg, "unallocated blocks not all listed: %s",
			 m && *m ? m : "block walk failed");
		w->problem(w->ctx, volume, msg);
	}
	tsk_error_reset();
	flush_run(w);
	uint64_t fs_end = (uint64_t)fs->offset + ((uint64_t)fs->last_block + 1) * fs->block_size;
	if (fs_end < part_end)
		emit(w, volume, "partition slack", fs_end, part_end - fs_end, NULL);
	w->fs = NULL;
}

/* A region of the volume system, kept until we know whether its file systems open
 * (else the whole image is walked as a bare file system, as ks_source_walk does). */
struct vs_region {
	const char *what;
	uint64_t off, len;
};

static int tsk_regions(struct ks_source *src, struct region_walk *w)
{
	TSK_IMG_INFO *img = ks_source_tsk_img(src);
	struct vs_region *later = NULL;
	size_t nlater = 0;
	int opened = 0;

	tsk_error_reset();
	TSK_VS_INFO *vs = tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT);
	if (vs) {
		unsigned idx = 0;
		for (TSK_PNUM_T i = 0; i < vs->part_count && w->status == KS_OK; i++) {
			const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
			if (!p)
				continue;
			uint64_t off = vs->offset + p->start * (uint64_t)vs->block_size;
			uint64_t len = p->len * (uint64_t)vs->block_size;
			const char *what = NULL;
			if (p->flags & TSK_VS_PART_FLAG_ALLOC) {
				idx++;
				tsk_error_reset();
				TSK_FS_INFO *fs = tsk_fs_open_vol(p, TSK_FS_TYPE_DETECT);
				if (fs) {
					char where[96];
					snprintf(where, sizeof where, "p%u %s @%llu", idx,
						 tsk_fs_type_toname(fs->ftype),
						 (unsigned long long)fs->offset);
					opened++;
					fs_regions(w, fs, where, off + len);
					tsk_fs_close(fs);
					continue;
				}
				what = "no file system";
			} else if (p->flags & TSK_VS_PART_FLAG_UNALLOC) {
				what = "unpartitioned";
			} else {
				continue; /* partition tables, extended-partition containers */
			}
			later = ks_xrealloc(later, (nlater + 1) * sizeof *later);
			later[nlater++] = (struct vs_region){what, off, len};
		}
		tsk_vs_close(vs);
	}
	tsk_error_reset();
	if (!opened && w->status == KS_OK) {
		TSK_FS_INFO *fs = tsk_fs_open_img(img, 0, TSK_FS_TYPE_DETECT);
		if (fs) {
			nlater = 0; /* a bare file system: the "partitions" were not real */
			fs_regions(w, fs, tsk_fs_type_toname(fs->ftype), w->media_size);
			tsk_fs_close(fs);
		} else if (!vs) {
			emit(w, "", "whole image", 0, w->media_size, NULL);
		}
	}
	tsk_error_reset();
	for (size_t i = 0; i < nlater && w->status == KS_OK; i++)
		emit(w, "", later[i].what, later[i].off, later[i].len, NULL);
	free(later);
	return w->status;
}

int ks_source_carve_regions(struct ks_source *src, ks_region_fn fn, ks_problem_fn problem,
			    void *ctx, struct ks_err *err)
{
	if (!src || !fn)
		return ks_err_set(err, KS_E_USAGE,
				  "ks_source_carve_regions: no source or callback");
	const struct ks_source_info *si = ks_source_get_info(src);
	struct region_walk w = {.fn = fn, .problem = problem, .ctx = ctx, .status = KS_OK};
	int rc = KS_OK;
	if (src->ops == &ks_source_tsk_ops) {
		struct src_reader rd = {.base = {.read = src_reader_read}, .src = src};
		w.media = &rd.base;
		w.media_size = si->size;
		rc = tsk_regions(src, &w);
	} else if (src->ops == &ks_source_file_ops) {
		/* The loose-file source reads by item; the regions get a reader of their own
		 * (opened read-only the same way, following a symlink the user named). */
		int fd = open(src->path, O_RDONLY | O_NOATIME | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 && errno == EPERM)
			fd = open(src->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return ks_err_set(err, KS_E_ENV, "%s: %s", src->path, strerror(errno));
		struct fd_reader rd = {.base = {.read = fd_reader_read},
				       .fd = fd,
				       .size = si->size,
				       .path = src->path};
		w.media = &rd.base;
		w.media_size = si->size;
		rc = emit(&w, "", "whole file", 0, si->size, NULL);
		close(fd);
	}
	if (rc < 0)
		return ks_err_set(err, rc, "carving regions stopped by the callback");
	return KS_OK;
}
