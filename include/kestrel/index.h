/* kestrel index layer: hash sets. Importers (a table of formats: VICS JSON, plain
 * md5/sha1/sha256/hashdeep lists, NSRL RDSv3) stream entries out of a file with
 * bounded memory; the exact index answers "which sets hold this MD5/SHA-1/SHA-256".
 * The national-scale mmap index (a later issue) replaces ks_index behind the same
 * functions. */
#ifndef KESTREL_INDEX_H
#define KESTREL_INDEX_H

#include <stdint.h>
#include <stdio.h>

#include "kestrel/base.h"

enum {
	KS_HAS_MD5 = 1,
	KS_HAS_SHA1 = 2,
	KS_HAS_SHA256 = 4,
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
};

/* What the user said about the file on the command line. */
struct ks_import_opts {
	const char *format;   /* "vics" "md5" "sha1" "sha256" "hashdeep" "nsrl"; NULL = probe */
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
	const char *how;      /* "md5" "sha1" "sha256": which digest matched */
	const char *scheme;   /* category of the entry, as stored */
	const char *category; /* NULL: in the set, uncategorised */
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

#endif
