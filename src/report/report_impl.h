/* Private contract of the report layer: the tally (figures computed once from the
 * store, shared by every writer so every format says the same), the writer table,
 * and the text helpers (escaping for HTML, CSV and JSON, item selection, labels). */
#ifndef KESTREL_REPORT_IMPL_H
#define KESTREL_REPORT_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "kestrel/category.h"
#include "kestrel/report.h"
#include "kestrel/store.h"

/* Where an occurrence was found, as the report splits the counts. An occurrence inside
 * a container (archive, document) is "in container" whatever the state of the
 * outermost file; otherwise its allocation state decides. */
enum ks_tally_loc {
	KS_LOC_LIVE,
	KS_LOC_DELETED,
	KS_LOC_CARVED,
	KS_LOC_CACHE,
	KS_LOC_CONTAINER,
	KS_LOC_COUNT
};
extern const char *const ks_tally_loc_name[KS_LOC_COUNT];  /* "live" … "in_container" */
extern const char *const ks_tally_loc_title[KS_LOC_COUNT]; /* "Live" … "In container" */

/* Still images (kind picture) and moving images (kind video). */
enum { KS_TALLY_STILL, KS_TALLY_MOVING, KS_TALLY_KINDS };
extern const char *const ks_tally_kind_name[KS_TALLY_KINDS];  /* "pictures" "videos" */
extern const char *const ks_tally_kind_title[KS_TALLY_KINDS]; /* "Still images" … */

struct ks_tally_cell {
	int64_t distinct;              /* distinct media */
	int64_t where[KS_LOC_COUNT];   /* distinct media with an occurrence there */
};

/* One row of a figures table: a category of the table's scheme, or the
 * "Uncategorised" row (code NULL, only in the case scheme's table). */
struct ks_tally_cat {
	const char *code, *label;
	struct ks_tally_cell k[KS_TALLY_KINDS];
};

struct ks_tally_table {
	const char *scheme, *title; /* scheme name and its title */
	int ncats;
	struct ks_tally_cat *cats;
	struct ks_tally_cell total[KS_TALLY_KINDS]; /* sum over the rows */
};

/* The figures of one exhibit, or of the whole case (exhibit NULL). Every scope has
 * the same tables in the same order: [0] is the case's scheme; the others are the
 * schemes that media were categorised under only (see ks_tally.ntables). */
struct ks_tally_scope {
	const char *exhibit; /* owned by the tally */
	struct ks_tally_table *tables;
	int64_t known_good[KS_TALLY_KINDS]; /* distinct media that matched an ignore set */
	/* distinct media graded once and waiting for the second grader, or disputed:
	 * not final, so counted as uncategorised above */
	int64_t grade_pending[KS_TALLY_KINDS], grade_disputed[KS_TALLY_KINDS];
	int64_t files;      /* every file occurrence recorded */
	int64_t media_files;/* occurrences of pictures and videos */
	int64_t containers; /* archive and document occurrences */
	int64_t errors;     /* occurrences with a bad-evidence error */
};

struct ks_tally_source {
	char *exhibit, *path, *kind, *status;
	uint64_t size;
	char *md5_before, *sha1_before, *md5_after, *sha1_after;
	int verified;       /* 1: both phases hashed and equal */
	const char *verify; /* "yes", "NO: hashes differ", "no: not hashed …" */
};

struct ks_tally {
	char *ref, *examiner, *scheme; /* the case */
	int64_t created;
	const struct ks_scheme *case_scheme; /* NULL if the case names an unknown scheme */
	/* Tables shown: [0] the case scheme, then schemes that media were categorised
	 * under only. layout owns the strings every scope's tables point to. */
	int ntables;
	struct ks_tally_table *layout;
	struct ks_tally_scope total;
	struct ks_tally_scope *exhibits; /* by exhibit reference */
	size_t nexhibits;
	struct ks_tally_source *sources;
	size_t nsources;
};

/* Computes every figure from ks_store_files_each and ks_store_sources_each. */
int ks_tally_build(struct ks_store *st, struct ks_tally **out, struct ks_err *err);
void ks_tally_free(struct ks_tally *t); /* accepts NULL */
/* Location of one occurrence, or -1 for a state the report does not know. */
int ks_tally_loc_of(const struct ks_file_row *r);

/* One report format. The store holds a read snapshot while write runs, so the items
 * it lists from ks_store_files_each agree with the tally. */
struct ks_report_writer {
	const char *name; /* "html", "csv", "json" */
	int (*write)(struct ks_store *st, const struct ks_tally *t, FILE *out,
		     const struct ks_report_opts *opts, struct ks_err *err);
};
extern const struct ks_report_writer ks_report_html;
extern const struct ks_report_writer ks_report_csv;
extern const struct ks_report_writer ks_report_json;

/* ---- helpers shared by the writers (report_util.c) ---------------------------------- */

/* Rows the report lists as items: pictures, videos, containers, and anything with an
 * error. Other hashed files go to the "files" section of JSON and CSV only. */
int ks_report_is_item(const struct ks_file_row *r);
int ks_report_is_listed_file(const struct ks_file_row *r);
/* Label of a category ("Category A"), the code itself if the scheme does not know it,
 * "Uncategorised" for code NULL. */
const char *ks_report_cat_label(const char *scheme, const char *code);
/* Category label for an item column: the label, "Uncategorised" for a picture or
 * video without one, "" for anything else (an archive is not graded). */
const char *ks_report_item_label(const struct ks_file_row *r);
/* The generated line's text with control characters made spaces (one line always). */
char *ks_report_one_line(const char *s);

/* Decodes one UTF-8 sequence at s (n bytes available, n > 0). Returns the bytes it
 * takes and sets *cp; an invalid or truncated sequence takes one byte and gives
 * U+FFFD. */
size_t ks_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);
/* Appends the UTF-8 encoding of cp. */
void ks_utf8_add(struct ks_buf *b, uint32_t cp);
/* Appends s escaped for HTML text and attribute values (invalid UTF-8 → U+FFFD,
 * control characters other than tab and newline → U+FFFD). */
void ks_html_add(struct ks_buf *b, const char *s);
/* Appends s as one CSV field (RFC 4180: quoted when it holds a comma, quote, CR or LF;
 * quotes doubled; invalid UTF-8 → U+FFFD). text=1 for free text from evidence: a
 * leading = + - @ gets a ' before it so spreadsheets never run it as a formula. */
void ks_csv_add(struct ks_buf *b, const char *s, int text);
/* Appends a JSON value: the string, or null for NULL. */
void ks_json_add_string_or_null(struct ks_buf *b, const char *s);
/* Appends an ISO-8601 UTC time as a JSON string, or null for 0. */
void ks_json_add_time(struct ks_buf *b, int64_t t);
/* Appends the JSON object of one file occurrence (the `kestrel files --json` line,
 * also the report's items), compact (no spaces): exhibit, path, volume, state,
 * in_container, size, type, kind, valid ("ok" "truncated" "bad"; null if not hashed),
 * md5, sha1, sha256, category (label), category_code, scheme, match, known_good,
 * grade (review state or null), grader, verifier, mtime, atime, ctime, crtime,
 * offset, note, error. */
void ks_report_json_file(struct ks_buf *b, const struct ks_file_row *r);
/* The sentence every format prints to say how media are counted. */
extern const char ks_report_counting_note[];
/* Writes b to out and empties it; KS_E_ENV on a write error. */
int ks_report_flush(struct ks_buf *b, FILE *out, struct ks_err *err);

#endif
