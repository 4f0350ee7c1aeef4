/* The JSON report: one document with "case", "generated", "sources", "totals",
 * "exhibits", "items" and "files". "generated" sits alone on its own line so that two
 * reports of the same case differ in that line only. One source, scope or item per
 * line keeps the file diffable. */
#include "report_prov.h"

static void add_cell(struct ks_buf *b, const struct ks_tally_cell *c)
{
	ks_buf_addf(b, "{\"distinct\": %lld", (long long)c->distinct);
	for (int l = 0; l < KS_LOC_COUNT; l++)
		ks_buf_addf(b, ", \"%s\": %lld", ks_tally_loc_name[l], (long long)c->where[l]);
	ks_buf_adds(b, "}");
}

static void add_kinds(struct ks_buf *b, const struct ks_tally_cell *k)
{
	for (int i = 0; i < KS_TALLY_KINDS; i++) {
		ks_buf_addf(b, "%s\"%s\": ", i ? ", " : "", ks_tally_kind_name[i]);
		add_cell(b, &k[i]);
	}
}

static void add_scope(struct ks_buf *b, const struct ks_tally *t, const struct ks_tally_scope *s)
{
	ks_buf_adds(b, "{");
	if (s->exhibit) {
		ks_buf_adds(b, "\"exhibit\": ");
		ks_json_add_string(b, s->exhibit);
		ks_buf_adds(b, ", ");
	}
	ks_buf_addf(b,
		    "\"files\": %lld, \"media_files\": %lld, \"containers\": %lld, "
		    "\"errors\": %lld, \"known_good\": {\"pictures\": %lld, \"videos\": %lld}, "
		    "\"grades_not_final\": {\"pending\": {\"pictures\": %lld, \"videos\": %lld}, "
		    "\"disputed\": {\"pictures\": %lld, \"videos\": %lld}}, "
		    "\"schemes\": [",
		    (long long)s->files, (long long)s->media_files, (long long)s->containers,
		    (long long)s->errors, (long long)s->known_good[KS_TALLY_STILL],
		    (long long)s->known_good[KS_TALLY_MOVING],
		    (long long)s->grade_pending[KS_TALLY_STILL],
		    (long long)s->grade_pending[KS_TALLY_MOVING],
		    (long long)s->grade_disputed[KS_TALLY_STILL],
		    (long long)s->grade_disputed[KS_TALLY_MOVING]);
	for (int i = 0; i < t->ntables; i++) {
		const struct ks_tally_table *tb = &s->tables[i];
		ks_buf_adds(b, i ? ", {\"scheme\": " : "{\"scheme\": ");
		ks_json_add_string(b, tb->scheme);
		ks_buf_adds(b, ", \"title\": ");
		ks_json_add_string(b, tb->title);
		ks_buf_addf(b, ", \"case_scheme\": %s, \"categories\": [", i == 0 ? "true" : "false");
		for (int c = 0; c < tb->ncats; c++) {
			ks_buf_adds(b, c ? ", {\"code\": " : "{\"code\": ");
			ks_json_add_string_or_null(b, tb->cats[c].code);
			ks_buf_adds(b, ", \"label\": ");
			ks_json_add_string(b, tb->cats[c].label);
			ks_buf_adds(b, ", ");
			add_kinds(b, tb->cats[c].k);
			ks_buf_adds(b, "}");
		}
		ks_buf_adds(b, "], \"total\": {");
		add_kinds(b, tb->total);
		ks_buf_adds(b, "}}");
	}
	ks_buf_adds(b, "]}");
}

struct items_ctx {
	FILE *out;
	struct ks_buf *b;
	struct ks_err *err;
	int listed; /* 0: items, 1: other hashed files */
	int64_t n;
};

static int on_row(void *ctx, const struct ks_file_row *r)
{
	struct items_ctx *c = ctx;
	if (c->listed ? !ks_report_is_listed_file(r) : !ks_report_is_item(r))
		return 0;
	ks_buf_adds(c->b, c->n++ ? ",\n" : "\n");
	ks_report_json_file(c->b, r);
	return c->b->len < 1 << 16 ? 0 : ks_report_flush(c->b, c->out, c->err);
}

static int json_write(struct ks_store *st, const struct ks_tally *t, FILE *out,
		      const struct ks_report_opts *opts, struct ks_err *err)
{
	struct ks_buf b = {0};
	struct items_ctx c = {.out = out, .b = &b, .err = err};
	char created[32];
	int rc;
	ks_time_iso8601(t->created, created);
	ks_buf_adds(&b, "{\n\"case\": {\"ref\": ");
	ks_json_add_string(&b, t->ref);
	ks_buf_adds(&b, ", \"examiner\": ");
	ks_json_add_string(&b, t->examiner);
	ks_buf_adds(&b, ", \"scheme\": ");
	ks_json_add_string(&b, t->scheme);
	ks_buf_adds(&b, ", \"scheme_title\": ");
	ks_json_add_string(&b, t->case_scheme ? t->case_scheme->title : t->scheme);
	ks_buf_adds(&b, ", \"created\": ");
	ks_json_add_string_or_null(&b, created[0] ? created : NULL);
	ks_buf_adds(&b, "},\n\"generated\": ");
	ks_json_add_string(&b, opts->generated ? opts->generated : "");
	ks_buf_adds(&b, ",\n\"counting\": ");
	ks_json_add_string(&b, ks_report_counting_note);
	ks_buf_adds(&b, ",\n\"sources\": [");
	for (size_t i = 0; i < t->nsources; i++) {
		const struct ks_tally_source *s = &t->sources[i];
		ks_buf_adds(&b, i ? ",\n{\"exhibit\": " : "\n{\"exhibit\": ");
		ks_json_add_string(&b, s->exhibit);
		ks_buf_adds(&b, ", \"path\": ");
		ks_json_add_string(&b, s->path);
		ks_buf_adds(&b, ", \"kind\": ");
		ks_json_add_string(&b, s->kind);
		ks_buf_addf(&b, ", \"size\": %llu, \"status\": ", (unsigned long long)s->size);
		ks_json_add_string(&b, s->status);
		const char *names[] = {"md5_before", "sha1_before", "md5_after", "sha1_after"};
		const char *vals[] = {s->md5_before, s->sha1_before, s->md5_after, s->sha1_after};
		for (int k = 0; k < 4; k++) {
			ks_buf_addf(&b, ", \"%s\": ", names[k]);
			ks_json_add_string_or_null(&b, *vals[k] ? vals[k] : NULL);
		}
		ks_buf_addf(&b, ", \"verified\": %s, \"verification\": ",
			    s->verified ? "true" : "false");
		ks_json_add_string(&b, s->verify);
		ks_buf_adds(&b, "}");
	}
	ks_buf_adds(&b, "],\n\"totals\": ");
	add_scope(&b, t, &t->total);
	ks_buf_adds(&b, ",\n\"exhibits\": [");
	for (size_t i = 0; i < t->nexhibits; i++) {
		ks_buf_adds(&b, i ? ",\n" : "\n");
		add_scope(&b, t, &t->exhibits[i]);
	}
	ks_buf_adds(&b, "]");
	if ((rc = ks_report_json_prov_sections(st, t, &b, out, err)) != KS_OK)
		goto out;
	ks_buf_adds(&b, ",\n\"items\": [");
	if ((rc = ks_report_flush(&b, out, err)) != KS_OK)
		goto out;
	if ((rc = ks_store_files_each(st, on_row, &c, err)) != KS_OK)
		goto out;
	ks_buf_adds(&b, "],\n\"files\": [");
	c.listed = 1;
	c.n = 0;
	if ((rc = ks_store_files_each(st, on_row, &c, err)) != KS_OK)
		goto out;
	ks_buf_adds(&b, "]\n}\n");
	rc = ks_report_flush(&b, out, err);
out:
	ks_buf_release(&b);
	return rc;
}

const struct ks_report_writer ks_report_json = {
	.name = "json",
	.write = json_write,
};
