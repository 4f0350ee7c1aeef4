/* kestrel artefact layer: turns application stores found in the evidence (chat-app
 * databases, thumbnail caches, browser download histories, media catalogues) into
 * references that say where a picture came from or went: sent/received with peer and
 * time, downloaded from a URL, cached as a thumbnail, catalogued by the OS. A
 * reference points at media by path and/or by the hash the app recorded, and may
 * carry thumbnail bytes that become an item of their own (state "cache").
 * Parsers are a table (struct ks_artefact_ops): probe by path pattern + head bytes,
 * then parse. SQLite stores are never opened in place: they are copied with their
 * -wal and -journal into a private directory and the copy is opened (WAL replayed,
 * then read-only). Depends on base and evidence only. */
#ifndef KESTREL_ARTEFACT_H
#define KESTREL_ARTEFACT_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"
#include "kestrel/evidence.h"

/* What a reference says happened to the media. */
enum ks_ref_kind {
	KS_REF_SENT = 1,        /* the device owner sent it (chat app) */
	KS_REF_RECEIVED = 2,    /* the device owner received it (chat app) */
	KS_REF_DOWNLOAD = 3,    /* a browser downloaded it */
	KS_REF_THUMBNAIL = 4,   /* a thumbnail cache holds a picture of it */
	KS_REF_MEDIA_STORE = 5, /* an OS media catalogue lists it (MediaStore, Photos) */
};
/* "sent" "received" "download" "thumbnail" "media-store"; "?" otherwise. */
const char *ks_ref_kind_name(int kind);

/* How the app wrote a time (so the raw value can be shown beside the UTC one). */
enum ks_time_src {
	KS_TIME_NONE = 0,
	KS_TIME_UNIX_S,    /* seconds since 1970 */
	KS_TIME_UNIX_MS,   /* milliseconds since 1970 (WhatsApp Android) */
	KS_TIME_UNIX_US,   /* microseconds since 1970 (Firefox PRTime) */
	KS_TIME_COCOA_S,   /* seconds since 2001-01-01 (Core Data: WhatsApp iOS, Photos) */
	KS_TIME_WEBKIT_US, /* microseconds since 1601-01-01 (Chrome) */
	KS_TIME_FILETIME,  /* 100 ns since 1601-01-01 (Windows) */
};
/* "unix-s" "unix-ms" "unix-us" "cocoa-s" "webkit-us" "filetime" ("" for none). */
const char *ks_time_src_name(int src);
/* Unix seconds (UTC, rounded down) of a raw value in the given unit; 0 when src is
 * NONE, raw is 0 (apps write 0 for "unset") or the result lies outside 1971..2200. */
int64_t ks_time_to_unix(int src, double raw);

/* One reference. Every pointer is borrowed for the duration of the callback only;
 * strings are NUL-terminated UTF-8 (as the app stored them, cut at 4 KiB), NULL when
 * the store has no value. */
struct ks_artefact_ref {
	int kind;             /* enum ks_ref_kind */
	const char *parser;   /* table row that produced it: "whatsapp-android" */
	const char *app;      /* "WhatsApp", "Chrome", "Edge", "Windows Explorer", … */
	const char *volume;   /* where the store was found (as given to the stage) */
	const char *artefact; /* path of the store itself in the evidence */
	const char *record;   /* stable locator inside the store: "message 12",
	                         "entry 5d3c9a0b12ef4410", "stream 21" */
	uint64_t artefact_tag; /* the caller's tag for the store (ks_artefact_stage_offer) */

	const char *peer;      /* other party: jid / user id (1:1 chat, or group sender) */
	const char *peer_name; /* display name when the store has one */
	const char *chat;      /* group id when the message went to/came from a group */
	const char *chat_name; /* group subject */

	int64_t time;          /* Unix seconds UTC of the event, 0 unknown */
	const char *time_raw;  /* the value as stored ("1690000000123", "712345678.5") */
	int time_src;          /* enum ks_time_src of time_raw */
	const char *time_what; /* "message", "download start", "original mtime",
	                          "catalog", "added", "created" */

	const char *url;      /* download URL (final after redirects) / thumbnail URI */
	const char *referrer; /* page that led to the download */
	const char *path;     /* path of the media as the app recorded it: may be a device
	                         path (/storage/emulated/0/…), relative to the app's folder
	                         (Media/WhatsApp Images/…), or a Windows path (C:\…) */
	const char *name;     /* original file name when that is all the store keeps */
	const char *thumb_path; /* a separate file in the evidence that is a thumbnail of
	                           this media (WhatsApp iOS .thumb, Android .thumbnails/N.jpg,
	                           iOS Thumbnails/V2/…, or the freedesktop PNG itself) */
	const char *mime;
	int64_t size;         /* bytes of the media per the store, -1 unknown */
	const char *owner;    /* app that created/imported the media (MediaStore
	                         owner_package_name, Photos importing bundle id) */

	int has_sha256;       /* the store recorded the media's SHA-256 (WhatsApp
	                         file_hash, Chrome downloads.hash): matches known-hash
	                         sets even when the file is gone */
	uint8_t sha256[32];

	/* Thumbnail bytes held inside the store (WhatsApp message_thumbnail, a
	 * thumbcache entry, a Thumbs.db stream): the caller makes them an item of their
	 * own (state KS_STATE_CACHE, parent = the store's file) and links it here. NULL
	 * when none (or over limits.max_thumb_bytes: then note says so). */
	const uint8_t *thumb;
	size_t thumb_len;

	const char *note; /* "forwarded", "state interrupted", "original deleted", … */
};

/* Called per reference. Return KS_OK to go on; a negative status stops the parse and
 * is returned by it (use it for environment failures). */
typedef int (*ks_ref_fn)(void *ctx, const struct ks_artefact_ref *r);

/* A zero field (or a NULL pointer) means the default. */
struct ks_artefact_limits {
	uint64_t max_db_bytes;    /* SQLite store plus companions copied: 2 GiB */
	uint64_t max_cache_bytes; /* binary cache (thumbcache, Thumbs.db …) parsed: 1 GiB */
	uint32_t max_thumb_bytes; /* embedded thumbnail delivered: 16 MiB */
	uint64_t max_refs;        /* references per store: 50 million */
};

/* What a parser gets besides the store. */
struct ks_artefact_ctx {
	const char *volume, *path; /* where the store was found (path: '/'-separated) */
	uint64_t tag;              /* caller's tag, copied into every reference */
	struct ks_artefact_limits lim; /* all fields set (defaults applied) */
	ks_ref_fn fn;
	void *fn_ctx;
	uint64_t nrefs;            /* references delivered so far */
};

/* A private, opened copy of an SQLite store (see ks_artefact_db_open). */
struct ks_artefact_db;

enum ks_artefact_input {
	KS_ARTEFACT_BYTES = 1,  /* parse_bytes on the store's bytes */
	KS_ARTEFACT_SQLITE = 2, /* parse_db on a private copy (with -wal / -journal) */
};

/* Probe confidence: NAME when only the path pattern matches (head not given),
 * CONTENT when the path matches and the head bytes carry the format's magic.
 * A path match whose head contradicts the magic is NO. */
enum ks_artefact_conf { KS_ARTEFACT_NO = 0, KS_ARTEFACT_NAME = 1, KS_ARTEFACT_CONTENT = 2 };

struct ks_artefact_ops {
	const char *name; /* "whatsapp-android" */
	const char *app;  /* default app name for its references */
	int input;        /* enum ks_artefact_input */
	/* path: '/'-separated evidence path; head: first bytes of the file (may be NULL
	 * with len 0: judge by name only). Returns an enum ks_artefact_conf. */
	int (*probe)(const char *path, const uint8_t *head, size_t len);
	/* One of these, as input says. Return KS_OK when the store was read to its end,
	 * KS_E_EVIDENCE when it is unusable or damaged (references before the damage
	 * were delivered; err says what), KS_E_LIMIT when max_refs stopped it, or what
	 * c->fn returned. */
	int (*parse_bytes)(struct ks_artefact_ctx *c, const uint8_t *data, size_t len,
			   struct ks_err *err);
	int (*parse_db)(struct ks_artefact_ctx *c, struct ks_artefact_db *db, struct ks_err *err);
};

/* Row i of the parser table (0 …), NULL past the end. */
const struct ks_artefact_ops *ks_artefact_at(size_t i);
/* The row called name, NULL if none. */
const struct ks_artefact_ops *ks_artefact_get(const char *name);

/* Picks the parser for a file by path and head (head may be NULL: name only).
 * KS_OK with *out NULL when no row claims it; KS_E_EVIDENCE when two rows claim it
 * with the same confidence (a table defect: detection never guesses). */
int ks_artefact_probe(const char *path, const uint8_t *head, size_t len,
		      const struct ks_artefact_ops **out, struct ks_err *err);
/* 1 if path is the "-wal" or "-journal" companion of a file that an SQLite row claims
 * by name, else 0. */
int ks_artefact_is_companion(const char *path);
/* 1 if the stage wants this file: some row claims it (head may be NULL) or it is a
 * companion. Cheap: call it for every item. */
int ks_artefact_wants(const char *path, const uint8_t *head, size_t len);

/* Parses a binary store held in memory with row ops (input BYTES). Thread-safe: any
 * number at once. volume/path say where it was found; lim may be NULL. */
int ks_artefact_parse_bytes(const struct ks_artefact_ops *ops, const char *volume,
			    const char *path, const uint8_t *data, size_t len,
			    const struct ks_artefact_limits *lim, ks_ref_fn fn, void *ctx,
			    struct ks_err *err);

/* ---- SQLite: private copies ------------------------------------------------------- */

/* Writes db (and, when non-NULL, its WAL and rollback journal) into a fresh private
 * directory (mode 0700) under tmp_parent (NULL: $TMPDIR or /tmp), opens the copy
 * read-write so SQLite replays the WAL / rolls back a hot journal, then makes the
 * connection read-only (query_only, no checkpoint on close). The evidence is never
 * touched: only the buffers are read. Returns KS_OK and *out, KS_E_LIMIT when the
 * bytes exceed max_db_bytes (lim may be NULL), KS_E_EVIDENCE when SQLite refuses the
 * file ("file is not a database"), KS_E_ENV on a temp-dir failure. */
int ks_artefact_db_open(const char *tmp_parent, const uint8_t *db, size_t dblen,
			const uint8_t *wal, size_t wallen, const uint8_t *journal,
			size_t journallen, const struct ks_artefact_limits *lim,
			struct ks_artefact_db **out, struct ks_err *err);
/* Closes the connection and deletes the private copy. Accepts NULL. */
void ks_artefact_db_close(struct ks_artefact_db *db);
/* The sqlite3 * of the copy (for parsers and tests; read-only connection). */
struct sqlite3 *ks_artefact_db_handle(struct ks_artefact_db *db);
/* Runs row ops (input SQLITE) on an opened copy. lim may be NULL. */
int ks_artefact_parse_db(const struct ks_artefact_ops *ops, const char *volume, const char *path,
			 struct ks_artefact_db *db, const struct ks_artefact_limits *lim,
			 ks_ref_fn fn, void *ctx, struct ks_err *err);

/* ---- The stage: how the pipeline feeds stores found during a walk -------------------
 * A store and its companions arrive as separate items in any order, so the reader
 * offers every item the stage wants; the stage copies the bytes into its private
 * directory at once (the evidence is read once, through the item reader, never
 * written), and ks_artefact_stage_run parses everything staged after the walk.
 * One stage per source; not thread-safe. */
struct ks_artefact_stage;

/* Creates a stage with its private directory under tmp_parent (NULL: $TMPDIR or
 * /tmp). lim may be NULL. */
int ks_artefact_stage_new(const char *tmp_parent, const struct ks_artefact_limits *lim,
			  struct ks_artefact_stage **out, struct ks_err *err);
/* Deletes every private copy and the directory. Accepts NULL. */
void ks_artefact_stage_free(struct ks_artefact_stage *st);

/* Offers one item (call from the walk callback with its info and reader). tag is the
 * caller's handle for the item (e.g. its sequence number, to find its file row
 * later); every reference from this store carries it as artefact_tag. Returns 1
 * when staged, 0 when not wanted (ks_artefact_wants says no), KS_E_LIMIT when larger
 * than the limits (bad evidence: record it on the item and go on), KS_E_EVIDENCE
 * when the item could not be read or two parsers claim it, KS_E_ENV on a temp-dir
 * failure. head/hlen are the item's first bytes if the caller has them (NULL: the
 * stage reads them). */
int ks_artefact_stage_offer(struct ks_artefact_stage *st, const struct ks_item_info *info,
			    struct ks_item_reader *rd, const uint8_t *head, size_t hlen,
			    uint64_t tag, struct ks_err *err);
/* Same for bytes already in memory (archive members, tests); state is an enum
 * ks_state. */
int ks_artefact_stage_offer_bytes(struct ks_artefact_stage *st, const char *volume,
				  const char *path, int state, const uint8_t *data, size_t len,
				  uint64_t tag, struct ks_err *err);
/* Parses everything staged so far, then forgets it (the copies are deleted). Each
 * SQLite store is opened with the companions staged beside it: same volume and
 * allocation state, path + "-wal" / "-journal" (a deleted -wal never joins a live
 * store). A store that fails to parse is reported through problem(ctx, store path,
 * message) and the run goes on; companions without their store are dropped.
 * Returns KS_OK, KS_E_ENV, or the negative status fn returned. */
int ks_artefact_stage_run(struct ks_artefact_stage *st, ks_ref_fn fn, ks_problem_fn problem,
			  void *ctx, struct ks_err *err);
/* Number of stores (not companions) staged and not yet run. */
size_t ks_artefact_stage_count(const struct ks_artefact_stage *st);

#endif
