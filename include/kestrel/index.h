/* kestrel index layer: hash sets. Importers (a table of formats: VICS JSON, plain
 * md5/sha1/sha256/hashdeep lists, NSRL, Interpol ICSE, EnCase, HashKeeper, PDQ lists)
 * stream entries out of a file with bounded memory; the exact index answers "which
 * sets hold this MD5/SHA-1/SHA-256". The index file (ks_hashdb: built once, opened
 * with mmap, shared read-only) holds national-scale sets with exact and PDQ near
 * lookup, and can back a ks_index behind the same functions. */
#ifndef KESTREL_INDEX_H
#define KESTREL_INDEX_H

#include <stdint.h>
#include <stdio.h>

#include "kestrel/base.h"

enum {
	KS_HAS_MD5 = 1,
	KS_HAS_SHA1 = 2,
	KS_HAS_SHA256 = 4,
	KS_HAS_PDQ = 8, /* a PDQ hash (only the index file holds these) */
};

/* One entry of a hash set. A category is (scheme, code) as category.h stores it;
 * code NULL is uncategorised. Strings are borrowed for the callback. */
struct ks_hash_entry {
	unsigned has; /* KS_HAS_* bits: which digests are present */
	uint8_t md5[16];
	uint8_t sha1[20];
	uint8_t sha256[32];
	const char *scheme;   /* "uk" / "vics-us" */
	const char *category; /* code or NULL */
	int64_t size;         /* -1 unknown */
	const char *name;     /* file name if the format carries one, else NULL */
	int distributed;      /* VICS IsDistributed: 1 yes, 0 no, -1 unknown */
	const char *series;   /* VICS Series, NULL if none */
	const char *photodna; /* opaque PhotoDNA value kept for export, NULL if none */
	uint8_t pdq[32];      /* PDQ hash as its 64 hex digits read (KS_HAS_PDQ) */
	int pdq_quality;      /* 0..100, -1 unknown; only meaningful with KS_HAS_PDQ */
	/* A frame of a known video (vPDQ lists): pdq is the frame's hash, name the video's
	 * name, frame and seconds where the frame is in it. 0 for every other entry. */
	int video_frame;
	int64_t frame;
	double seconds;
	/* A known video's TMK+PDQF (.tmk files, kestrel/tmk.h): the file's bytes, checked
	 * by ks_tmk_read, name the video's name. NULL for every other entry; such an entry
	 * has no digest (has 0) and lives in the case only, not in index files. */
	const uint8_t *tmk;
	size_t tmk_len;
};

/* What the user said about the file on the command line. */
struct ks_import_opts {
	const char *format;   /* "vics" "md5" "sha1" "sha256" "hashdeep" "nsrl" "icse" "encase"
			       * "hashkeeper" "pdq" "vpdq" "tmk"; NULL = probe */
	const char *scheme;   /* numbering of categories in the file: "uk" "vics-us" "dhs";
			       * NULL: "vics-us" for VICS files, "uk" for the others */
	const char *category; /* category for formats that carry none (md5/sha1/sha256 lists,
			       * hashdeep), in the numbering of scheme; NULL = uncategorised.
			       * VICS uses each entry's own; NSRL entries are uncategorised */
	const char *role;     /* "alert" (default) or "ignore" */
	const char *name;     /* set name; default: the file's base name */
};

/* Called per entry. Return KS_OK to go on, a negative status to stop the import. */
typedef int (*ks_entry_fn)(void *ctx, const struct ks_hash_entry *e);

struct ks_importer_ops {
	const char *name; /* "vics", "md5", … as given to --format */
	/* Confidence 0..100 that head (first bytes of the file) is this format. */
	int (*probe)(const uint8_t *head, size_t len, const char *path);
	/* Streams entries of the file at path to fn. On malformed input returns KS_E_FORMAT
	 * with err naming the line or offset; entries already delivered are the caller's
	 * to discard (the store imports inside one transaction). */
	int (*run)(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		   struct ks_err *err);
	/* Optional (NULL when the format names no set): the set's own name as the file
	 * gives it (EnCase: "name (category)"), into out. 0 or a negative status. */
	int (*describe)(const char *path, struct ks_buf *out, struct ks_err *err);
};

/* Finds the importer for o->format, or probes the file when it is NULL. Two probes
 * claiming the file with equal confidence is an error, never a silent pick. */
const struct ks_importer_ops *ks_importer_find(const char *path, const char *format,
					       struct ks_err *err);
/* Probe-and-run in one call. */
int ks_import_file(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		   struct ks_err *err);

/* Parses one hash given as text (hex, either case, surrounding space ignored) and
 * sets the matching KS_HAS_ bit and digest in e. Returns 0, or -1 if it is not an
 * MD5/SHA-1/SHA-256 in hex. Shared by the importers and the CLI. */
int ks_hash_entry_set_hex(struct ks_hash_entry *e, const char *hex, size_t len);

/* ---- exact index --------------------------------------------------------------- */

struct ks_index;
struct ks_index *ks_index_new(void);
void ks_index_free(struct ks_index *idx); /* accepts NULL */

/* Adds an entry under set_id (the store's id for the set) with the set's role. The
 * strings are copied (interned). An entry without any digest is ignored; an entry
 * equal to one already held (same set, role, category and digests) is held once. */
void ks_index_add(struct ks_index *idx, int64_t set_id, int ignorable,
		  const struct ks_hash_entry *e);

struct ks_index_hit {
	int64_t set_id;
	int ignorable;
	const char *how;      /* "md5" "sha1" "sha256" "pdq": which digest matched */
	const char *scheme;   /* category of the entry, as stored */
	const char *category; /* NULL: in the set, uncategorised */
	int distance;         /* Hamming distance for "pdq", 0 for exact digests */
	const uint8_t *matched; /* "pdq": the entry's 32-byte hash; NULL for exact digests */
	const char *name;       /* "pdq": the entry's name if its file kept one, else NULL */
};
typedef void (*ks_hit_fn)(void *ctx, const struct ks_index_hit *hit);

/* Calls fn for every entry matching any of the given digests (NULL = not known);
 * one call per (set, entry), the strongest digest reported. Thread-safe for
 * concurrent lookups once building is done. Returns the number of hits. */
int ks_index_lookup(const struct ks_index *idx, const uint8_t md5[16], const uint8_t sha1[20],
		    const uint8_t sha256[32], ks_hit_fn fn, void *ctx);
size_t ks_index_count(const struct ks_index *idx); /* distinct entries held */
/* Bytes the index holds (for sizing and the tests' memory bound). */
size_t ks_index_memory(const struct ks_index *idx);

/* ---- index file ------------------------------------------------------------------ */
/* One file per collection of hash sets (format: src/index/hashdb_format.h): a
 * versioned header, a checksummed section table, the sets' metadata, sorted MD5,
 * SHA-1 and SHA-256 tables whose rows carry a 4-byte payload (the entry's set and
 * category, or a record holding its other digests and metadata), and PDQ hashes with
 * a multi-index-hashing structure for exact near lookup. Opened with mmap; any number
 * of threads may look up at once. */

#define KS_PDQ_RADIUS_DEFAULT 31
#define KS_PDQ_QUALITY_FLOOR 50 /* PDQ quality below this is unreliable */

/* A set as the index file describes it. Strings are borrowed (from the map, or from
 * the caller when building). */
struct ks_hashdb_set {
	const char *name;
	const char *format;  /* importer(s) it came from, "vics" or "md5,vics" */
	const char *scheme;  /* numbering its files used ("uk" "vics-us" "dhs"); NULL default */
	const char *role;    /* "alert" or "ignore" */
	const char *sources; /* one "SHA256  PATH" line per file it came from */
	int64_t imported;    /* unix seconds */
	/* Filled by the builder (ignored on input): */
	uint64_t entries;    /* entries held (duplicates counted once) */
	uint64_t n_md5, n_sha1, n_sha256, n_pdq; /* rows per table */
	uint64_t low_quality; /* PDQ entries left out for quality below the floor */
};

struct ks_hashdb_build_opts {
	uint64_t memory;    /* bytes of sort buffers before spilling runs; 0 = 1 GiB */
	int lean;           /* keep only digests, categories and PhotoDNA (no names, sizes,
			     * series, distribution flags) */
	int min_quality;    /* PDQ entries with known quality below this are left out;
			     * 0 = KS_PDQ_QUALITY_FLOOR, -1 = keep all */
	int mih_tables;     /* PDQ substring tables; 0 = chosen from the entry count */
};

struct ks_hashdb_builder;
/* Starts building the index file path. Nothing appears at path until finish
 * succeeds: the file is written under a temporary name beside it and renamed at the
 * end; runs spilled during the build go to temporary files beside it as well. An
 * existing file at path is replaced only by a complete new one. o may be NULL. */
int ks_hashdb_builder_new(const char *path, const struct ks_hashdb_build_opts *o,
			  struct ks_hashdb_builder **out, struct ks_err *err);
/* Starts a new set: entries added from now on belong to it. m is copied. */
int ks_hashdb_builder_set(struct ks_hashdb_builder *b, const struct ks_hashdb_set *m,
			  struct ks_err *err);
/* Adds one entry to the current set (strings copied). An entry without any digest is
 * ignored; one equal to an entry already added to the set is held once. */
int ks_hashdb_builder_add(struct ks_hashdb_builder *b, const struct ks_hash_entry *e,
			  struct ks_err *err);
/* Streams a hash-set file through its importer (o as for ks_import_file) into the
 * current set, and notes the file's SHA-256 and the importer among the set's sources.
 * On a malformed file returns its error (naming file and line or offset); the build
 * cannot be finished after a failed file (free it). *entries (may be NULL) gets the
 * number of entries the file delivered. */
int ks_hashdb_builder_add_file(struct ks_hashdb_builder *b, const char *path,
			       const struct ks_import_opts *o, uint64_t *entries,
			       struct ks_err *err);
/* Sorts, writes and renames the file into place. The builder is spent either way
 * (free it after). */
int ks_hashdb_builder_finish(struct ks_hashdb_builder *b, struct ks_err *err);
/* Abandons an unfinished build (temporary files removed); accepts NULL. */
void ks_hashdb_builder_free(struct ks_hashdb_builder *b);

struct ks_hashdb;
/* Open flags: KS_HASHDB_VERIFY also checks what ks_hashdb_verify does; KS_HASHDB_PRELOAD
 * reads the whole file into private memory on huge pages instead of mapping it (a
 * second per GB or so at open and the file's size in memory, for lookups that miss the
 * TLB far less: worth it for millions of lookups, not for one scan's pictures). The map
 * asks for huge pages too, which it gets where the file system caches files in large
 * folios (ext4 since Linux 6.16, XFS): the preloaded copy then gains little. */
enum { KS_HASHDB_VERIFY = 1, KS_HASHDB_PRELOAD = 2 };
/* Opens an index file read-only (mmap, or a private copy with KS_HASHDB_PRELOAD).
 * Checks the header, the section table and the small sections' checksums, and the
 * shape of every section, so that lookups never read outside the map whatever the file
 * holds; the big tables' checksums only with KS_HASHDB_VERIFY (or ks_hashdb_verify). */
int ks_hashdb_open(const char *path, unsigned flags, struct ks_hashdb **out,
		   struct ks_err *err);
void ks_hashdb_close(struct ks_hashdb *db); /* accepts NULL */
/* Checks every section's SHA-256, and that the PDQ tables spell every hash in order
 * (which walks them all: seconds per 10 million hashes); KS_E_FORMAT naming the
 * section or row on a mismatch. */
int ks_hashdb_verify(const struct ks_hashdb *db, struct ks_err *err);

struct ks_hashdb_info {
	uint32_t version;
	uint64_t file_size;
	int64_t created;
	size_t nsets;
	uint64_t n_md5, n_sha1, n_sha256, n_pdq; /* rows per table */
	uint64_t records;                        /* entries stored with metadata */
	uint64_t entries;                        /* over all sets */
	int mih_tables;                          /* PDQ substring tables (0: no PDQ) */
	uint64_t bytes_md5, bytes_sha1, bytes_sha256, bytes_pdq; /* on disk, per table
								  * with its directories */
};
void ks_hashdb_get_info(const struct ks_hashdb *db, struct ks_hashdb_info *out);
/* Set i (0-based), borrowed from the map; NULL past the end. */
const struct ks_hashdb_set *ks_hashdb_set_at(const struct ks_hashdb *db, size_t i);

struct ks_hashdb_hit {
	unsigned kind;        /* KS_HAS_MD5 / _SHA1 / _SHA256 / _PDQ: the table that matched */
	const uint8_t *hash;  /* the entry's digest in that table (16/20/32/32 bytes) */
	int distance;         /* Hamming distance for PDQ, 0 otherwise */
	uint32_t set;         /* index of the set */
	int ignorable;        /* the set's role is "ignore" */
	const char *scheme;   /* stored category, as ks_index_hit */
	const char *category;
	uint64_t ref;         /* the entry: equal refs are one entry (seen from two tables) */
};
typedef void (*ks_hashdb_hit_fn)(void *ctx, const struct ks_hashdb_hit *hit);

/* Exact lookup of one digest (kind KS_HAS_MD5 / _SHA1 / _SHA256 / _PDQ, digest of that
 * kind's length): fn once per row holding it. Returns the number of hits. */
int ks_hashdb_lookup(const struct ks_hashdb *db, unsigned kind, const uint8_t *digest,
		     ks_hashdb_hit_fn fn, void *ctx);
/* Exact lookup of n digests of one kind, laid out one after another (16, 20, 32 or 32
 * bytes each), with their memory fetches overlapped: many times the rate of single
 * lookups on a large file. fn gets the query's number with each hit, not necessarily
 * in query order. Returns the total number of hits. */
typedef void (*ks_hashdb_batch_fn)(void *ctx, size_t query, const struct ks_hashdb_hit *hit);
int ks_hashdb_lookup_batch(const struct ks_hashdb *db, unsigned kind, const uint8_t *digests,
			   size_t n, ks_hashdb_batch_fn fn, void *ctx);
/* Near lookup of a PDQ hash: fn once per PDQ row within Hamming distance radius
 * (0..256), exact (no entry within the radius is ever missed), in no particular order.
 * Multi-index hashing; falls back to a linear scan when the radius makes that
 * cheaper. Returns the number of hits. */
int ks_hashdb_near(const struct ks_hashdb *db, const uint8_t pdq[32], int radius,
		   ks_hashdb_hit_fn fn, void *ctx);
/* ks_hashdb_near for n hashes (32 bytes each, back to back) at once: the same hits,
 * fn told which query each is for (in no particular order). Faster per query from 64
 * queries up (the tables read in order, each bucket once for all the queries that
 * probe it, rather than fetched at random query by query); it needs at most about
 * 40 MB of memory whatever n. Returns the hits. */
int ks_hashdb_near_batch(const struct ks_hashdb *db, const uint8_t *pdqs, size_t n, int radius,
			 ks_hashdb_batch_fn fn, void *ctx);
/* The same answer by a plain linear scan (the reference for tests and benchmarks). */
int ks_hashdb_near_scan(const struct ks_hashdb *db, const uint8_t pdq[32], int radius,
			ks_hashdb_hit_fn fn, void *ctx);
/* The whole entry behind a hit: digests, category and any metadata kept. Strings are
 * borrowed from the map. Returns 0, or KS_E_FORMAT if the file is damaged there. */
int ks_hashdb_entry(const struct ks_hashdb *db, const struct ks_hashdb_hit *hit,
		    struct ks_hash_entry *out);
/* Every entry of set `set` (or of all sets if set < 0), each once, in file order; fn
 * as for importers (a negative return stops and is returned). */
int ks_hashdb_each(const struct ks_hashdb *db, int set,
		   int (*fn)(void *ctx, uint32_t set, const struct ks_hash_entry *e), void *ctx,
		   struct ks_err *err);
/* Writes set `set` (all sets if < 0; they must then share one category scheme) as a
 * VICS 2.0 JSON hash set ("#Media") that VICS importers read back, PDQ hashes as
 * AlternativeHashes "PDQ". Written to a temporary name and renamed. */
int ks_hashdb_export_vics(const struct ks_hashdb *db, int set, const char *out_path,
			  struct ks_err *err);

/* Makes idx consult db as well: hits from db's set i carry set_ids[i] (copied; db has
 * ks_hashdb_get_info().nsets sets). db must outlive idx. Call before any lookup. Up to
 * KS_INDEX_MAX_FILES files (KS_E_LIMIT beyond). */
#define KS_INDEX_MAX_FILES 8
int ks_index_attach(struct ks_index *idx, const struct ks_hashdb *db, const int64_t *set_ids);
/* Near lookup of a PDQ hash in the index files attached to idx (the in-memory sets
 * hold no PDQ; the case's own PDQ lists are attached as a file, see the pipeline):
 * fn once per entry within radius, how "pdq", distance and matched set. Returns the
 * number of hits. */
int ks_index_lookup_pdq(const struct ks_index *idx, const uint8_t pdq[32], int radius,
			ks_hit_fn fn, void *ctx);
/* The 32 bytes an index holds for a PDQ hash, from the 16 words of struct ks_pdq_hash
 * (the hash's hex text decoded, word 15 first). */
void ks_pdq_words_to_bytes(const uint16_t w[16], uint8_t out[32]);

#endif
