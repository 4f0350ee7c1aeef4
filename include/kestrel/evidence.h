/* kestrel evidence layer: opens evidence read-only (a directory tree, a loose file,
 * raw / split raw / EnCase E01 images through libtsk), walks volumes and file systems
 * including deleted entries and NTFS alternate data streams, and expands archives
 * through libarchive. It hands out items (bytes + provenance) through callbacks; it
 * never decides what an item *is* (that is the media layer's job). */
#ifndef KESTREL_EVIDENCE_H
#define KESTREL_EVIDENCE_H

#include <stdint.h>
#include <sys/types.h>

#include "kestrel/base.h"

/* Allocation state of an occurrence, as the report splits it. An archive member has
 * the state of the outermost file plus a non-empty container chain. */
enum ks_state {
	KS_STATE_LIVE = 0,    /* allocated file */
	KS_STATE_DELETED = 1, /* name or metadata unallocated, recovered through metadata */
	KS_STATE_CARVED = 2,  /* recovered by signature from unallocated space */
	KS_STATE_CACHE = 3,   /* from an application cache (thumbnail caches, chat DBs) */
};
const char *ks_state_name(int state); /* "live", "deleted", "carved", "cache" */

/* Provenance of one item found in a source. Strings are borrowed for the duration of
 * the callback only. Times are Unix seconds (UTC), 0 when unknown. */
struct ks_item_info {
	const char *volume; /* "p1 fat32 @1048576" / "ntfs" (bare FS) / "" (directory) */
	const char *path;   /* "/DCIM/a.jpg"; an NTFS ADS is "/file.dll:here" */
	int state;          /* enum ks_state */
	uint64_t size;      /* bytes the reader can deliver */
	int64_t mtime, atime, ctime, crtime;
	uint64_t inode;     /* metadata address (MFT entry, inode), 0 if none */
	int64_t offset;     /* byte offset in the source image where the item's first byte
	                       is stored (its first run), if known and not sparse; -1
	                       otherwise (resident or compressed data, directory trees).
	                       A loose-file source gives 0 */
	const char *note;   /* free text, e.g. "metadata reallocated"; may be NULL */
	int contiguous;     /* 1 when all the item's bytes lie in one run from offset (so
	                       byte k is at offset + k); 0 when fragmented or unknown */
};

/* Random-access reader for one item's bytes, valid only inside the callback that
 * received it. Returns the number of bytes read (short only at end of data), or a
 * negative ks_status with err filled (bad evidence: e.g. an unreadable run). */
struct ks_item_reader;
ssize_t ks_item_read(struct ks_item_reader *rd, uint64_t off, void *buf, size_t len,
		     struct ks_err *err);

/* Called once per item. Return KS_OK to go on; any negative status stops the walk
 * and is returned by ks_source_walk (use it for environment failures only: bad
 * evidence is recorded by the callee and the walk goes on). */
typedef int (*ks_item_fn)(void *ctx, const struct ks_item_info *info, struct ks_item_reader *rd);

/* Called for a problem with the evidence that belongs to no single item (a volume that
 * does not open, a directory that cannot be listed). The walk goes on. */
typedef void (*ks_problem_fn)(void *ctx, const char *where, const char *msg);

struct ks_source_info {
	const char *kind;     /* "directory", "file", "raw", "split-raw", "ewf" */
	const char *path;     /* as given */
	uint64_t size;        /* media size in bytes (images, loose files); 0 for directories */
	int is_image;         /* 1 if ks_source_read gives the image's bytes */
};

struct ks_source;

/* Opens evidence read-only. For a set of segments (x.001 x.002 …, x.E01 x.E02 …) pass
 * the first; the rest are found beside it. A directory is a directory source; a
 * regular file (or block device) is a disk image when it is an E01 or when a volume
 * system or a file system opens in it, else a loose file. Returns KS_OK and *out, or
 * an error (KS_E_NOTFOUND, KS_E_ENV, KS_E_UNSUPPORTED). */
int ks_source_open(const char *path, struct ks_source **out, struct ks_err *err);
void ks_source_close(struct ks_source *src); /* accepts NULL */
const struct ks_source_info *ks_source_get_info(const struct ks_source *src);

/* Reads image bytes (the whole media, for source hashing). Only for is_image sources
 * (KS_E_USAGE otherwise). Returns bytes read (short only at the end of the media) or a
 * negative status. */
ssize_t ks_source_read(struct ks_source *src, uint64_t off, void *buf, size_t len,
		       struct ks_err *err);

struct ks_walk_opts {
	int include_deleted; /* walk unallocated names and orphan metadata (default 1) */
};

/* Walks every regular file (and every named data stream) of every file system in the
 * source, calling fn for each. Volume systems (MBR, GPT, …) are opened first and
 * every allocated partition is walked ("p<n>" counts allocated partitions from 1); a
 * source with none is opened as a bare file system. NTFS metadata files ($MFT,
 * $Bitmap, … and the $-files under $Extend), FAT volume labels and TSK's virtual files
 * are not items. The same (metadata address, stream) met again under a second
 * deleted name is reported once; live names (hard links) are always reported. A
 * directory source is walked in name order without following symlinks; a loose file
 * is one item "/<name>". Nothing is read from a file unless fn reads it.
 * Returns KS_OK, or the first negative status returned by fn, or an environment
 * error. */
int ks_source_walk(struct ks_source *src, const struct ks_walk_opts *opts, ks_item_fn fn,
		   ks_problem_fn problem, void *ctx, struct ks_err *err);

/* ---- carving regions ------------------------------------------------------------ */

/* A stretch of the medium no file owns, where deleted or never-filed data may lie.
 * Strings are borrowed for the duration of the callback. */
struct ks_region_info {
	const char *volume;  /* the file system's volume name as in ks_item_info ("p1 fat32
				@1048576"), or "" outside any file system */
	const char *what;    /* "unallocated" (file-system blocks no file owns),
				"unpartitioned" (outside every partition), "partition slack"
				(inside a partition, after its file system), "no file system"
				(a partition nothing opens), "whole image" (a disk image in
				which no volume or file system is recognised), "whole file"
				(a loose-file source) */
	uint64_t offset;     /* medium offset of the region's first byte */
	uint64_t length;
	const char *fs_type; /* file system ("ext2", "fat32", …) for "unallocated", else NULL */
	uint64_t fs_offset;  /* medium offset of the file system's block 0 (when fs_type) */
	uint32_t block_size; /* the file system's block size (when fs_type), else 0 */
};

/* Called once per region, in medium order within each file system. media reads the
 * whole medium by absolute offset (image bytes; a loose file's bytes), valid during
 * the call. Return KS_OK to go on, a negative status to stop. */
typedef int (*ks_region_fn)(void *ctx, const struct ks_region_info *r,
			    struct ks_item_reader *media);

/* The regions to carve in a source: for a disk image, the unallocated blocks of every
 * file system that opens (tsk_fs_block_walk, consecutive blocks merged into one
 * region), the space between and after partitions and in partitions nothing opens,
 * and the slack after a file system inside its partition; the whole image when no
 * volume system or file system is recognised. For a loose-file source, the whole
 * file ("whole file": it may be a disk image no opener recognises; the caller knows
 * whether the file's content has a type of its own). A directory has none.
 * Regions do not overlap. Returns KS_OK, what fn returned when it stopped, or an
 * environment error; a file system whose block walk fails is reported to problem
 * (may be NULL) and the rest goes on. */
int ks_source_carve_regions(struct ks_source *src, ks_region_fn fn, ks_problem_fn problem,
			    void *ctx, struct ks_err *err);

/* ---- archives ------------------------------------------------------------------ */

/* Fields are taken as given (0 allows nothing); a NULL limits pointer means the
 * defaults below. */
struct ks_archive_limits {
	uint64_t max_member_bytes; /* members larger than this are not buffered */
	uint64_t max_total_bytes;  /* bytes decompressed for this archive, all members,
	                              including the unbuffered tails of truncated ones */
	uint32_t max_members;      /* regular-file members */
};
#define KS_ARCHIVE_DEFAULT_MEMBER_BYTES (256ull << 20)
#define KS_ARCHIVE_DEFAULT_TOTAL_BYTES (4ull << 30)
#define KS_ARCHIVE_DEFAULT_MEMBERS 100000u

struct ks_member_info {
	const char *path; /* member path inside the archive, UTF-8, "/"-separated */
	uint64_t size;    /* bytes delivered (== len unless truncated) */
	int64_t mtime;
	int truncated;    /* 1: member larger than max_member_bytes, data holds the first part */
	const char *error;/* non-NULL: the member could not be read fully; why */
};

/* Called per regular-file member with its bytes (borrowed for the call). Return
 * KS_OK to go on, a negative status to stop. */
typedef int (*ks_member_fn)(void *ctx, const struct ks_member_info *m, const uint8_t *data,
			    size_t len);

/* Expands an archive held in memory (zip, tar, tar.gz/bz2/xz/zst, 7z, cpio, ISO, rar …,
 * whatever libarchive reads, compressed or not; a lone compressed stream such as
 * x.jpg.gz is one member, named from the gzip header or "data"). Only regular-file
 * members are delivered, in archive order; an encrypted member is delivered with no
 * data and m->error set.
 * Does not recurse: the caller decides whether a member is itself an archive.
 * Returns KS_OK when the archive was read to its end, KS_E_EVIDENCE (err says why,
 * members before the damage were delivered, a member cut by the damage is delivered
 * with what could be read and m->error set) when it is damaged or not an archive,
 * KS_E_LIMIT when max_members or max_total_bytes stopped it (a member cut by the
 * total is delivered truncated first), or what fn returned. */
int ks_archive_expand(const uint8_t *data, size_t len, const struct ks_archive_limits *lim,
		      ks_member_fn fn, void *ctx, struct ks_err *err);

#endif
