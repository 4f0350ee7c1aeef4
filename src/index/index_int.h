/* Private to the index layer: the importer rows the registry lists, and the helpers
 * the importers share (a bounded line reader, a CSV splitter, the category an import
 * applies to every entry). Not installed, not for other layers. */
#ifndef KESTREL_INDEX_INT_H
#define KESTREL_INDEX_INT_H

#include <stdint.h>
#include <stdio.h>

#include "kestrel/index.h"

extern const struct ks_importer_ops ks_import_vics_ops;
extern const struct ks_importer_ops ks_import_md5_ops;
extern const struct ks_importer_ops ks_import_sha1_ops;
extern const struct ks_importer_ops ks_import_sha256_ops;
extern const struct ks_importer_ops ks_import_hashdeep_ops;
extern const struct ks_importer_ops ks_import_nsrl_ops;
extern const struct ks_importer_ops ks_import_icse_ops;
extern const struct ks_importer_ops ks_import_encase_ops;
extern const struct ks_importer_ops ks_import_hashkeeper_ops;
extern const struct ks_importer_ops ks_import_pdq_ops;
extern const struct ks_importer_ops ks_import_vpdq_ops;
extern const struct ks_importer_ops ks_import_tmk_ops;

/* How many bytes of a file the probes see. */
#define KS_IMPORT_HEAD 8192
/* Longest text line any text importer accepts (a longer one is a format error, so a
 * file without newlines cannot make us buffer it whole). */
#define KS_IMPORT_LINE_MAX 65536

/* The probing rule on its own, over any table (so the tie rule can be tested):
 * returns the single importer with the highest non-zero confidence, or NULL with err
 * set (KS_E_UNSUPPORTED when none claims the head, KS_E_FORMAT naming both on a tie). */
const struct ks_importer_ops *ks_importer_pick(const struct ks_importer_ops *const *tab, size_t n,
					       const uint8_t *head, size_t len, const char *path,
					       struct ks_err *err);

/* Line reader over a FILE with a fixed buffer. next returns 1 with *line (NUL-
 * terminated, CR/LF stripped, a UTF-8 BOM on line 1 removed) and *len, 0 at end of
 * file, or a negative status (line longer than KS_IMPORT_LINE_MAX, read error).
 * lineno is the 1-based number of the line last returned. */
struct ks_lines {
	FILE *f;
	char *buf;
	size_t cap, start, end;
	int eof;
	uint64_t lineno;
};
int ks_lines_open(struct ks_lines *lr, const char *path, struct ks_err *err);
int ks_lines_next(struct ks_lines *lr, char **line, size_t *len, struct ks_err *err);
void ks_lines_close(struct ks_lines *lr);

/* Splits one CSV line in place on sep (',' or ICSE's ';'; "quoted" fields with ""
 * escapes, or bare ones) into at most max fields. Returns the field count, or -1 on a
 * malformed quote or more than max fields. Fields are NUL-terminated inside line. */
int ks_csv_split(char *line, size_t len, char sep, char **fields, size_t *lens, int max);

/* The (stored scheme, code) that o gives every entry of a format carrying no category
 * of its own. Defaults: scheme "uk", no category. KS_E_USAGE when o names an unknown
 * numbering or a value that is not a category of it. */
int ks_import_fixed_category(const struct ks_import_opts *o, const char **scheme,
			     const char **category, struct ks_err *err);

/* For probes: the length of a UTF-8 byte-order mark at the start of head (3 or 0). */
size_t ks_import_bom(const uint8_t *head, size_t len);
/* For probes: the first index from i on that is neither blank (space, tab, CR, LF) nor
 * inside a line starting with '#'; len when there is none. */
size_t ks_skip_blank_comments(const char *s, size_t len, size_t i);
/* Length of the run of hex digits at the start of s. */
size_t ks_hex_run(const char *s, size_t len);

/* Decodes a hex digest of exactly n bytes, surrounding blanks ignored; 0 or -1. */
int ks_hex_field(const char *s, size_t len, uint8_t *out, size_t n);
/* Parses a non-negative decimal (surrounding blanks ignored); -1 if it is not one. */
int64_t ks_parse_size(const char *s, size_t len);
/* Writes a short printable copy of s (at most 60 bytes shown) for error messages. */
void ks_quote_excerpt(const char *s, size_t len, char out[80]);

/* Reports that the entry callback asked to stop (unless err was filled by it). */
int ks_import_stopped(int status, uint64_t entry, struct ks_err *err);

/* The loop of every line-oriented importer: the fixed category taken from the options,
 * the file read line by line (empty lines skipped), each other line parsed into an
 * entry that starts with that category and unknown size and distribution; the entry
 * given to fn, whose negative return stops the import. parse returns 1 with *e filled,
 * 0 to skip the line (a comment, a header), or a negative status with err set. */
struct ks_line_import {
	const char *scheme, *category;
	unsigned long long lineno; /* of the line being parsed */
	uint64_t entries;	   /* entries given to fn so far */
	void *state;		   /* the importer's own */
};
typedef int (*ks_line_parse_fn)(struct ks_line_import *li, char *line, size_t len,
				struct ks_hash_entry *e, struct ks_err *err);
int ks_import_lines(const char *path, const struct ks_import_opts *o, ks_line_parse_fn parse,
		    void *state, ks_entry_fn fn, void *ctx, struct ks_err *err);

/* CSV files whose first line names the columns (HashKeeper, ICSE). The importer sets
 * sep, max, bad, format and row. Each non-empty line is split (KS_E_FORMAT naming the
 * line when it is malformed or, after the header, has another number of fields) and
 * given to row: the header while ncols is 0 (row sets col and ncols, returns 0), then
 * the data rows (row returns as a ks_line_parse_fn does). */
#define KS_CSV_COLS_MAX 64
struct ks_csv_table;
typedef int (*ks_csv_row_fn)(struct ks_csv_table *t, unsigned long long lineno, char **f,
			     size_t *lens, int nf, struct ks_hash_entry *e, struct ks_err *err);
struct ks_csv_table {
	char sep;
	int max;		  /* fields a line may have, at most KS_CSV_COLS_MAX */
	const char *bad;	  /* the error for a line ks_csv_split rejects */
	const char *format;	  /* for "no <format> header line" */
	ks_csv_row_fn row;
	int col[KS_CSV_COLS_MAX]; /* the importer's code of each column */
	int ncols;		  /* columns of the header; 0 until it has been read */
};
/* ks_import_lines over such a file; KS_E_FORMAT when no header line was read. */
int ks_import_csv_table(const char *path, const struct ks_import_opts *o, struct ks_csv_table *t,
			ks_entry_fn fn, void *ctx, struct ks_err *err);

#endif
