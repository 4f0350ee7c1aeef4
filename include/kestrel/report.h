/* kestrel report layer: writers for the evidential report (HTML, CSV, JSON) and the
 * per-file JSON lines of `kestrel files`. Writers are a table (one file each); all of
 * them take their figures from ks_report_tally so every format says the same. */
#ifndef KESTREL_REPORT_H
#define KESTREL_REPORT_H

#include <stdio.h>

#include "kestrel/base.h"
#include "kestrel/store.h"

struct ks_report_opts {
	const char *generated; /* text of the one "generated" line (time, version) */
};

/* Writes the report in format "html", "csv" or "json" to out. The same case gives the
 * same bytes apart from the line holding opts->generated. */
int ks_report_write(struct ks_store *st, const char *format, FILE *out,
		    const struct ks_report_opts *opts, struct ks_err *err);

/* One JSON object per line per file occurrence (`kestrel files --json`). */
int ks_report_files_jsonl(struct ks_store *st, FILE *out, struct ks_err *err);

/* Appends s as a JSON string literal (quotes included) to b. */
void ks_json_add_string(struct ks_buf *b, const char *s);

#endif
