/* kestrel pipeline layer: joins evidence, media, hash, index and store. A scan is one
 * reader per evidence source, a bounded pool of workers (validate, hash, expand
 * archives, match) and one writer that batches into the store. Memory is bounded by
 * an in-flight byte budget whatever the evidence claims about its sizes. */
#ifndef KESTREL_PIPELINE_H
#define KESTREL_PIPELINE_H

#include <stdint.h>

#include "kestrel/base.h"
#include "kestrel/index.h"
#include "kestrel/store.h"

struct ks_scan_progress {
	uint64_t files_seen, media_found, bytes_read, matches;
	uint64_t source_bytes_done, source_bytes_total; /* source hashing, for ETA */
	double elapsed;
};
typedef void (*ks_progress_fn)(void *ctx, const struct ks_scan_progress *p);

/* Video matching (vscan.c); a zero field takes its default. */
struct ks_video_match_opts {
	int radius;        /* a sampled frame within this PDQ distance of a known still
			      categorises the video ("pdq-frame"); 0: 31 */
	int min_quality;   /* frames and entries of lower PDQ quality are not matched; 0: 50 */
	int vpdq_distance; /* video against known video: frames strictly closer than this
			      are found (vPDQ's rule); 0: 31 */
	double query_pct;  /* a video matches a known video ("vpdq") when at least this % of
			      its frames are found in it ... 0: 80 */
	double target_pct; /* ... or at least this % of the known video's frames are found
			      in it; 0: 80 */
	double tmk_level1; /* with TMK+PDQF (scan --tmk): a video matches a known video's
			      .tmk ("tmk") when upstream's level-1 score is at least this
			      ... 0: 0.7 */
	double tmk_level2; /* ... and its level-2 score at least this; 0: 0.7 */
};

struct ks_scan_opts {
	const char *exhibit;       /* exhibit reference */
	const char *const *evidence;
	int nevidence;
	int threads;               /* workers; 0 = number of cores */
	int hash_all;              /* hash every file, not only media and containers */
	int source_hash;           /* hash the source images (MD5+SHA-1) before and after */
	int include_deleted;       /* default 1 */
	int rescan;                /* scan sources again even when already complete */
	int carve;                 /* also carve: unallocated blocks, unpartitioned space and
	                              unrecognised images, and pictures/videos embedded in
	                              files (reads every file whole: slower) */
	uint64_t memory_budget;    /* in-flight bytes; 0 = default (256 MiB) */
	const char *examiner;      /* who ran it, for the audit log */
	const char *index;         /* index file to match against as well (NULL: none) */
	double video_seconds;      /* time budget to fingerprint one video; 0 = 60 s */
	int tmk;                   /* also compute each video's TMK+PDQF (decodes every
	                              frame: a second, full decode of each video) */
	double tmk_seconds;        /* time budget for one video's TMK+PDQF; 0 = 300 s */
	struct ks_video_match_opts video_match;
	ks_progress_fn progress;   /* may be NULL; called about every half second */
	void *progress_ctx;
};

struct ks_scan_stats {
	uint64_t files, media, pictures, videos, archives, matches, errors;
	uint64_t skipped_sources; /* already scanned completely (resume) */
	double seconds;
};

/* Scans evidence into the case at case_dir. Evidence that cannot be opened is an
 * error for that source (recorded); the others are still scanned. Resumable: a source
 * (by absolute path, within the exhibit) whose scan completed is skipped unless
 * o->rescan; one whose scan was interrupted is forgotten and scanned again. Records
 * are committed in batches, so a crash loses at most the batch in flight. */
int ks_scan_run(const char *case_dir, const struct ks_scan_opts *o, struct ks_scan_stats *stats,
		struct ks_err *err);

struct ks_import_stats {
	int64_t set_id, entries, matched_media;
};
/* Imports a hash set file into the case (all or nothing) and matches the case's
 * existing media against it. */
int ks_hashset_import(const char *case_dir, const char *path, const struct ks_import_opts *o,
		      const char *who, struct ks_import_stats *stats, struct ks_err *err);

/* Matches one media's digests against idx and records the hits in the store.
 * Returns the number of hits recorded, or a negative status. */
int ks_match_media(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
		   const struct ks_digests *d, struct ks_err *err);

/* Opens the index file at path for a scan: registers its sets in the case (once: a
 * later scan finds them again by name and identity; audited), attaches it to idx so
 * that ks_index_lookup consults it, and returns it in *out (close it after idx is
 * freed). Needs no transaction open. */
int ks_scan_index_attach(struct ks_store *st, struct ks_index *idx, const char *path,
			 const char *who, struct ks_hashdb **out, struct ks_err *err);
/* Looks up a media's PDQ (32 bytes as index.h holds them) in the index files attached
 * to idx, within KS_PDQ_RADIUS_DEFAULT, and records each match with its distance and
 * entry. Nothing is looked up when quality is below KS_PDQ_QUALITY_FLOOR. Returns the
 * number of matches recorded or a negative status. */
int ks_match_media_near(struct ks_store *st, const struct ks_index *idx, int64_t media_id,
			const uint8_t pdq[32], int quality, struct ks_err *err);

#endif
