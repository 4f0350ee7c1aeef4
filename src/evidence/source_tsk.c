/* Disk-image source through The Sleuth Kit: raw, split raw (x.001 x.002 …) and EnCase
 * E01 (single or multi-segment, found beside the first). Opens the volume system
 * (MBR, GPT, …) if any, else a bare file system, and walks every file system's
 * directory tree including deleted names and $OrphanFiles, reporting each data stream
 * of each regular file as an item. File content is read only when the callback asks.
 *
 * Duplicate rule: the same (metadata address, attribute) met again under another
 * deleted name (or in $OrphanFiles) is reported once, at its first deleted name: such
 * duplicates are remnants of one deleted file (stale index entries, directory
 * clusters reached twice). Live names are always reported, so live hard links stay
 * separate occurrences, and a deleted name that meets a live file's metadata is also
 * reported (with a note) because it records a former name. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <libewf.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tsk/libtsk.h>

#include "evidence_impl.h"

#define MAX_SEGMENTS 9999

struct tsk_src {
	TSK_IMG_INFO *img;
	char **names;
	int n_names;
};

/* Set of (metadata address, attribute type and id) already reported deleted. */
struct seen_key {
	uint64_t addr;
	uint32_t attr; /* type << 16 | id, + 1 so that 0 marks an empty slot */
};
struct seen_set {
	struct seen_key *slots;
	size_t cap, used;
};

struct tsk_walk {
	ks_item_fn fn;
	ks_problem_fn problem;
	void *ctx;
	int include_deleted;
	int status;
	TSK_FS_INFO *fs;
	const char *volume;
	struct seen_set seen;
	struct ks_buf path;
};

struct tsk_reader {
	struct ks_item_reader base;
	const TSK_FS_ATTR *attr;
	const char *path;
};

static const char *tsk_msg(void)
{
	const char *m = tsk_error_get();
	return m && *m ? m : "unknown error";
}

/* ---- segments ---- */

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void add_name(struct tsk_src *ts, const char *name)
{
	ts->names = ks_xrealloc(ts->names, (size_t)(ts->n_names + 1) * sizeof *ts->names);
	ts->names[ts->n_names++] = ks_xstrdup(name);
}

static int glob_ewf(struct tsk_src *ts, const char *path)
{
	libewf_error_t *e = NULL;
	char **names = NULL;
	int n = 0;
	if (libewf_glob(path, strlen(path), LIBEWF_FORMAT_UNKNOWN, &names, &n, &e) != 1) {
		libewf_error_free(&e);
		return -1;
	}
	for (int i = 0; i < n && i < MAX_SEGMENTS; i++)
		add_name(ts, names[i]);
	libewf_glob_free(names, n, &e);
	libewf_error_free(&e);
	return ts->n_names > 0 ? 0 : -1;
}

/* x.001 → x.001 x.002 … as long as the next one exists (same digit count). */
static void glob_numbered(struct tsk_src *ts, const char *path)
{
	size_t n = strlen(path);
	char *name = ks_xstrdup(path);
	add_name(ts, path);
	for (int i = 2; i <= 999 && ts->n_names < MAX_SEGMENTS; i++) {
		struct stat st;
		snprintf(name + n - 3, 4, "%03d", i);
		if (stat(name, &st) != 0 || !S_ISREG(st.st_mode))
			break;
		add_name(ts, name);
	}
	free(name);
}

static void find_segments(struct tsk_src *ts, const char *path)
{
	if (ends_with_ci(path, ".e01") || ends_with_ci(path, ".ex01") ||
	    ends_with_ci(path, ".s01")) {
		if (glob_ewf(ts, path) == 0)
			return;
	} else if (ends_with_ci(path, ".001")) {
		glob_numbered(ts, path);
		return;
	}
	add_name(ts, path);
}

/* The container format from its first bytes (and a VHD's footer). TSK's own
 * detection tries every format library in turn and some of them leak on failure, so
 * the type is named explicitly; anything unrecognised is raw. */
static TSK_IMG_TYPE_ENUM sniff_image_type(const char *path, const struct stat *st)
{
	unsigned char head[32] = {0}, foot[8] = {0};
	int fd = ks_evidence_open_ro(AT_FDCWD, path);
	if (fd < 0) /* a symlink named by the user: follow it */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return TSK_IMG_TYPE_RAW;
	ssize_t n = pread(fd, head, sizeof head, 0);
	if (S_ISREG(st->st_mode) && st->st_size >= 512 &&
	    pread(fd, foot, sizeof foot, st->st_size - 512) != (ssize_t)sizeof foot)
		memset(foot, 0, sizeof foot);
	close(fd);
	if (n < 8)
		return TSK_IMG_TYPE_RAW;
	if (!memcmp(head, "EVF\x09\x0d\x0a\xff\x00", 8) ||
	    !memcmp(head, "LVF\x09\x0d\x0a\xff\x00", 8) || !memcmp(head, "EVF2\r\n\x81", 7) ||
	    !memcmp(head, "LEF2\r\n\x81", 7))
		return TSK_IMG_TYPE_EWF_EWF;
	if (!memcmp(head, "KDMV", 4) || !memcmp(head, "# Disk DescriptorFile", 21))
		return TSK_IMG_TYPE_VMDK_VMDK;
	if (!memcmp(head, "conectix", 8) || !memcmp(foot, "conectix", 8))
		return TSK_IMG_TYPE_VHD_VHD;
	if (!memcmp(head, "AFF10\r\n", 7))
		return TSK_IMG_TYPE_AFF_ANY;
	return TSK_IMG_TYPE_RAW;
}

static void tsk_src_free(struct tsk_src *ts)
{
	if (!ts)
		return;
	if (ts->img)
		tsk_img_close(ts->img);
	for (int i = 0; i < ts->n_names; i++)
		free(ts->names[i]);
	free(ts->names);
	free(ts);
}

/* ---- source ops ---- */

static int tsk_probe(struct ks_source *src)
{
	if (!S_ISREG(src->st.st_mode) && !S_ISBLK(src->st.st_mode))
		return 0;
	struct tsk_src *ts = ks_xcalloc(1, sizeof *ts);
	src->priv = ts;
	find_segments(ts, src->path);
	tsk_error_reset();
	ts->img = tsk_img_open_utf8(ts->n_names, (const char *const *)ts->names,
				    sniff_image_type(src->path, &src->st), 0);
	if (!ts->img) {
		tsk_error_reset();
		return 0;
	}
	/* A container format (E01, …) is an image whatever it holds; a raw file is one
	 * only if a volume system or a file system opens in it. */
	if (ts->img->itype != TSK_IMG_TYPE_RAW)
		return 100;
	int score = 0;
	TSK_VS_INFO *vs = tsk_vs_open(ts->img, 0, TSK_VS_TYPE_DETECT);
	if (vs) {
		score = 100;
		tsk_vs_close(vs);
	} else {
		TSK_FS_INFO *fs = tsk_fs_open_img(ts->img, 0, TSK_FS_TYPE_DETECT);
		if (fs) {
			score = 100;
			tsk_fs_close(fs);
		}
	}
	tsk_error_reset();
	return score;
}

static int tsk_open(struct ks_source *src, struct ks_err *err)
{
	struct tsk_src *ts = src->priv;
	if (!ts || !ts->img)
		return ks_err_set(err, KS_E_EVIDENCE, "%s: not a disk image", src->path);
	if (TSK_IMG_TYPE_ISEWF(ts->img->itype))
		src->info.kind = "ewf";
	else if (ts->img->itype == TSK_IMG_TYPE_RAW)
		src->info.kind = ts->n_names > 1 ? "split-raw" : "raw";
	else
		src->info.kind = tsk_img_type_toname(ts->img->itype);
	src->info.size = ts->img->size > 0 ? (uint64_t)ts->img->size : 0;
	src->info.is_image = 1;
	return KS_OK;
}

/* Reads up to len bytes at off of something size bytes long through one TSK read
 * call (at, dst, n), repeated until len is read or it reads nothing; the bytes read,
 * or a bad-evidence status naming path. */
static ssize_t read_clamped(uint64_t size, uint64_t off, void *buf, size_t len, const char *path,
			    ssize_t (*read_at)(void *ctx, uint64_t at, char *dst, size_t n),
			    void *ctx, struct ks_err *err)
{
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	size_t done = 0;
	while (done < len) {
		tsk_error_reset();
		ssize_t n = read_at(ctx, off + done, (char *)buf + done, len - done);
		if (n < 0)
			return ks_err_set(err, KS_E_EVIDENCE, "%s: read at %llu: %s", path,
					  (unsigned long long)(off + done), tsk_msg());
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static ssize_t img_read_at(void *img, uint64_t at, char *dst, size_t n)
{
	return tsk_img_read(img, (TSK_OFF_T)at, dst, n);
}

static ssize_t tsk_read(struct ks_source *src, uint64_t off, void *buf, size_t len,
			struct ks_err *err)
{
	struct tsk_src *ts = src->priv;
	return read_clamped(src->info.size, off, buf, len, src->path, img_read_at, ts->img, err);
}

static void tsk_close(struct ks_source *src)
{
	tsk_src_free(src->priv);
	src->priv = NULL;
}

/* ---- item readers ---- */

static ssize_t attr_read_at(void *attr, uint64_t at, char *dst, size_t n)
{
	/* Flag NONE: for deleted files TSK applies its own recovery (FAT: skip
	 * clusters that are allocated to something else). */
	return tsk_fs_attr_read(attr, (TSK_OFF_T)at, dst, n, TSK_FS_FILE_READ_FLAG_NONE);
}

static ssize_t tsk_reader_read(struct ks_item_reader *base, uint64_t off, void *buf, size_t len,
			       struct ks_err *err)
{
	struct tsk_reader *rd = (struct tsk_reader *)base;
	uint64_t size = rd->attr->size > 0 ? (uint64_t)rd->attr->size : 0;
	return read_clamped(size, off, buf, len, rd->path, attr_read_at, (void *)rd->attr, err);
}

/* ---- duplicate set ---- */

static size_t seen_hash(const struct seen_key *k, size_t mask)
{
	uint64_t h = k->addr * 0x9E3779B97F4A7C15ull ^ ((uint64_t)k->attr * 0xC2B2AE3D27D4EB4Full);
	h ^= h >> 29;
	return (size_t)h & mask;
}

/* Returns 1 if key was present, else inserts it and returns 0. */
static int seen_test_and_add(struct seen_set *s, struct seen_key k)
{
	if ((s->used + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		struct seen_key *ns = ks_xcalloc(ncap, sizeof *ns);
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i].attr)
				continue;
			size_t j = seen_hash(&s->slots[i], ncap - 1);
			while (ns[j].attr)
				j = (j + 1) & (ncap - 1);
			ns[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	size_t j = seen_hash(&k, s->cap - 1);
	while (s->slots[j].attr) {
		if (s->slots[j].addr == k.addr && s->slots[j].attr == k.attr)
			return 1;
		j = (j + 1) & (s->cap - 1);
	}
	s->slots[j] = k;
	s->used++;
	return 0;
}

/* ---- walk ---- */

static void walk_problem(struct tsk_walk *w, const char *where, const char *msg)
{
	if (w->problem)
		w->problem(w->ctx, where, msg);
}

/* NTFS metadata files: MFT entries 0-15 ($MFT … $Extend and the reserved ones) and
 * the $-named files under $Extend ($UsnJrnl, $ObjId, $Quota, $Reparse, …). A user
 * file called "$x" elsewhere is still reported. */
static int ntfs_metafile(const TSK_FS_FILE *f, const char *parent)
{
	if (f->meta->addr < 16)
		return 1;
	return f->name->name[0] == '$' && strncmp(parent, "$Extend/", 8) == 0;
}

static int64_t attr_image_offset(const struct tsk_walk *w, const TSK_FS_ATTR *a)
{
	if (!(a->flags & TSK_FS_ATTR_NONRES) || (a->flags & (TSK_FS_ATTR_COMP | TSK_FS_ATTR_ENC)))
		return -1;
	const TSK_FS_ATTR_RUN *run = a->nrd.run;
	if (!run || run->offset != 0 || run->len == 0 ||
	    (run->flags & (TSK_FS_ATTR_RUN_FLAG_SPARSE | TSK_FS_ATTR_RUN_FLAG_FILLER)))
		return -1;
	if (run->addr > (uint64_t)INT64_MAX / w->fs->block_size)
		return -1;
	return (int64_t)w->fs->offset + (int64_t)(run->addr * w->fs->block_size) +
	       (int64_t)a->nrd.skiplen;
}

/* All of the attribute's bytes in its first run (offset + k holds byte k). */
static int attr_contiguous(const struct tsk_walk *w, const TSK_FS_ATTR *a)
{
	const TSK_FS_ATTR_RUN *run = a->nrd.run;
	if (attr_image_offset(w, a) < 0 || a->size <= 0)
		return 0;
	return (uint64_t)a->nrd.skiplen + (uint64_t)a->size <= run->len * (uint64_t)w->fs->block_size;
}

static int emit_attr(struct tsk_walk *w, TSK_FS_FILE *f, const TSK_FS_ATTR *a, const char *path,
		     int deleted)
{
	const TSK_FS_META *m = f->meta;
	const char *note = NULL;

	if (deleted) {
		struct seen_key k = {.addr = m->addr,
				     .attr = (((uint32_t)a->type & 0xffff) << 16 | a->id) + 1};
		if (seen_test_and_add(&w->seen, k))
			return KS_OK;
		if ((f->name->flags & TSK_FS_NAME_FLAG_UNALLOC) &&
		    (m->flags & TSK_FS_META_FLAG_ALLOC))
			note = "name deleted, metadata allocated (may belong to another file now)";
	}
	struct tsk_reader rd = {.base = {.read = tsk_reader_read}, .attr = a, .path = path};
	struct ks_item_info info = {
	    .volume = w->volume,
	    .path = path,
	    .state = deleted ? KS_STATE_DELETED : KS_STATE_LIVE,
	    .size = a->size > 0 ? (uint64_t)a->size : 0,
	    .mtime = m->mtime,
	    .atime = m->atime,
	    .ctime = m->ctime,
	    .crtime = m->crtime,
	    .inode = m->addr,
	    .offset = attr_image_offset(w, a),
	    .note = note,
	    .contiguous = attr_contiguous(w, a),
	};
	return w->fn(w->ctx, &info, &rd.base);
}

static TSK_WALK_RET_ENUM dir_cb(TSK_FS_FILE *f, const char *parent, void *ptr)
{
	struct tsk_walk *w = ptr;
	const TSK_FS_NAME *nm = f->name;
	const TSK_FS_META *m = f->meta;
	int rc = KS_OK;

	if (!nm || !nm->name || !m || TSK_FS_ISDOT(nm->name))
		return TSK_WALK_CONT;
	if (m->type != TSK_FS_META_TYPE_REG)
		return TSK_WALK_CONT; /* directories, virtual files ($MBR, $FAT1), links … */
	if (!parent)
		parent = "";
	if (TSK_FS_TYPE_ISNTFS(w->fs->ftype) && ntfs_metafile(f, parent))
		return TSK_WALK_CONT;
	/* TSK lists a FAT volume label as an empty regular file. */
	if (TSK_FS_TYPE_ISFAT(w->fs->ftype) && m->size == 0 &&
	    strstr(nm->name, "(Volume Label Entry)"))
		return TSK_WALK_CONT;
	int deleted =
	    (nm->flags & TSK_FS_NAME_FLAG_UNALLOC) || (m->flags & TSK_FS_META_FLAG_UNALLOC);
	if (deleted && !w->include_deleted)
		return TSK_WALK_CONT;

	ks_buf_reset(&w->path);
	ks_buf_addf(&w->path, "/%s%s", parent, nm->name);
	if (TSK_FS_TYPE_ISNTFS(w->fs->ftype)) {
		/* Every $DATA attribute: the unnamed one is the file, named ones are streams. */
		size_t base_len = w->path.len;
		int n = tsk_fs_file_attr_getsize(f);
		for (int i = 0; i < n && rc == KS_OK; i++) {
			const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
			if (!a || a->type != TSK_FS_ATTR_TYPE_NTFS_DATA)
				continue;
			w->path.len = base_len;
			w->path.data[base_len] = '\0';
			if (a->name && a->name[0] && strcmp(a->name, "$Data") != 0)
				ks_buf_addf(&w->path, ":%s", a->name);
			rc = emit_attr(w, f, a, (const char *)w->path.data, deleted);
		}
	} else {
		const TSK_FS_ATTR *a = tsk_fs_file_attr_get(f);
		if (a)
			rc = emit_attr(w, f, a, (const char *)w->path.data, deleted);
	}
	tsk_error_reset();
	if (rc < 0) {
		w->status = rc;
		return TSK_WALK_STOP;
	}
	return TSK_WALK_CONT;
}

static void walk_fs(struct tsk_walk *w, TSK_FS_INFO *fs, const char *volume)
{
	int flags = TSK_FS_DIR_WALK_FLAG_RECURSE | TSK_FS_DIR_WALK_FLAG_ALLOC;
	if (w->include_deleted)
		flags |= TSK_FS_DIR_WALK_FLAG_UNALLOC;
	else
		flags |= TSK_FS_DIR_WALK_FLAG_NOORPHAN;
	w->fs = fs;
	w->volume = volume;
	w->seen.used = 0;
	if (w->seen.slots)
		memset(w->seen.slots, 0, w->seen.cap * sizeof *w->seen.slots);
	tsk_error_reset();
	if (tsk_fs_dir_walk(fs, fs->root_inum, (TSK_FS_DIR_WALK_FLAG_ENUM)flags, dir_cb, w) != 0 &&
	    w->status == KS_OK) {
		char msg[600];
		snprintf(msg, sizeof msg, "file system walk incomplete: %s", tsk_msg());
		walk_problem(w, volume, msg);
	}
	tsk_error_reset();
	w->fs = NULL;
}

static int tsk_walk(struct ks_source *src, const struct ks_walk_opts *opts, ks_item_fn fn,
		    ks_problem_fn problem, void *ctx, struct ks_err *err)
{
	struct tsk_src *ts = src->priv;
	struct tsk_walk w = {.fn = fn,
			     .problem = problem,
			     .ctx = ctx,
			     .include_deleted = opts->include_deleted,
			     .status = KS_OK};
	int opened = 0;

	tsk_error_reset();
	TSK_VS_INFO *vs = tsk_vs_open(ts->img, 0, TSK_VS_TYPE_DETECT);
	if (vs) {
		unsigned idx = 0;
		for (TSK_PNUM_T i = 0; i < vs->part_count && w.status == KS_OK; i++) {
			const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
			if (!p || !(p->flags & TSK_VS_PART_FLAG_ALLOC))
				continue;
			idx++;
			uint64_t off = vs->offset + p->start * (uint64_t)vs->block_size;
			char where[96];
			tsk_error_reset();
			TSK_FS_INFO *fs = tsk_fs_open_vol(p, TSK_FS_TYPE_DETECT);
			if (!fs) {
				char msg[700];
				snprintf(where, sizeof where, "p%u @%llu", idx,
					 (unsigned long long)off);
				snprintf(msg, sizeof msg, "no file system opens (%s): %s",
					 p->desc ? p->desc : "?", tsk_msg());
				walk_problem(&w, where, msg);
				continue;
			}
			snprintf(where, sizeof where, "p%u %s @%llu", idx,
				 tsk_fs_type_toname(fs->ftype), (unsigned long long)fs->offset);
			opened++;
			walk_fs(&w, fs, where);
			tsk_fs_close(fs);
		}
		tsk_vs_close(vs);
	}
	/* No volume system, or one whose partitions hold nothing TSK opens (a bare file
	 * system whose boot sector passes for a partition table): try a bare file system. */
	if (!opened && w.status == KS_OK) {
		tsk_error_reset();
		TSK_FS_INFO *fs = tsk_fs_open_img(ts->img, 0, TSK_FS_TYPE_DETECT);
		if (fs) {
			char where[64];
			snprintf(where, sizeof where, "%s", tsk_fs_type_toname(fs->ftype));
			walk_fs(&w, fs, where);
			tsk_fs_close(fs);
		} else if (!vs) {
			char msg[600];
			snprintf(msg, sizeof msg, "no volume system or file system opens: %s",
				 tsk_msg());
			walk_problem(&w, src->path, msg);
		}
	}
	tsk_error_reset();
	free(w.seen.slots);
	ks_buf_release(&w.path);
	if (w.status < 0)
		return ks_err_set(err, w.status, "walk stopped by the item callback");
	return KS_OK;
}

struct TSK_IMG_INFO *ks_source_tsk_img(struct ks_source *src)
{
	struct tsk_src *ts = src && src->ops == &ks_source_tsk_ops ? src->priv : NULL;
	return ts ? ts->img : NULL;
}

const struct ks_source_ops ks_source_tsk_ops = {
    .name = "image",
    .probe = tsk_probe,
    .open = tsk_open,
    .walk = tsk_walk,
    .read = tsk_read,
    .close = tsk_close,
};
