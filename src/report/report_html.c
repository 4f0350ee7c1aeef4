/* The HTML report: one self-contained page (inline CSS, no scripts, no images, no
 * external address of any kind; a Content-Security-Policy forbids loading anything)
 * that prints cleanly for court. Every value from the case is escaped. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "report_prov.h"
#include "report_video.h"

static const char head_css[] =
	"<style>\n"
	"body{font-family:\"DejaVu Sans\",Arial,sans-serif;margin:1.5em;color:#111;"
	"font-size:11pt}\n"
	"h1{font-size:150%}h2{font-size:125%;margin-top:1.5em}h3{font-size:110%}\n"
	"table{border-collapse:collapse;margin:0.4em 0 1.2em}\n"
	"th,td{border:1px solid #888;padding:2px 6px;text-align:left;vertical-align:top}\n"
	"th{background:#eee}td.n{text-align:right}tr.total td,tr.total th{font-weight:bold}\n"
	"caption{text-align:left;font-weight:bold;padding:2px 0}\n"
	"table.items td{font-size:85%;word-break:break-all}\n"
	".hash{font-family:\"DejaVu Sans Mono\",monospace}\n"
	".bad{color:#a00;font-weight:bold}\n"
	"@media print{body{margin:0}h2{page-break-before:always}}\n"
	"</style>\n";

static void text(struct ks_buf *b, const char *s)
{
	ks_html_add(b, s);
}

static void td(struct ks_buf *b, const char *s)
{
	ks_buf_adds(b, "<td>");
	ks_html_add(b, s);
	ks_buf_adds(b, "</td>");
}

static void td_num(struct ks_buf *b, long long v)
{
	ks_buf_addf(b, "<td class=\"n\">%lld</td>", v);
}

static void cells(struct ks_buf *b, const struct ks_tally_cell *k)
{
	for (int i = 0; i < KS_TALLY_KINDS; i++) {
		td_num(b, k[i].distinct);
		for (int l = 0; l < KS_LOC_COUNT; l++)
			td_num(b, k[i].where[l]);
	}
}

static void figures_table(struct ks_buf *b, const struct ks_tally_table *tb, int case_scheme)
{
	ks_buf_adds(b, "<table class=\"fig\"><caption>");
	if (!case_scheme)
		ks_buf_adds(b, "Categorised only under another scheme: ");
	text(b, tb->title);
	ks_buf_addf(b, "</caption>\n<thead><tr><th rowspan=\"2\">Category</th>"
		       "<th colspan=\"%d\">%s</th><th colspan=\"%d\">%s</th></tr>\n<tr>",
		    KS_LOC_COUNT + 1, ks_tally_kind_title[0], KS_LOC_COUNT + 1,
		    ks_tally_kind_title[1]);
	for (int i = 0; i < KS_TALLY_KINDS; i++) {
		ks_buf_adds(b, "<th>Distinct</th>");
		for (int l = 0; l < KS_LOC_COUNT; l++)
			ks_buf_addf(b, "<th>%s</th>", ks_tally_loc_title[l]);
	}
	ks_buf_adds(b, "</tr></thead>\n<tbody>\n");
	for (int c = 0; c < tb->ncats; c++) {
		ks_buf_adds(b, "<tr>");
		td(b, tb->cats[c].label);
		cells(b, tb->cats[c].k);
		ks_buf_adds(b, "</tr>\n");
	}
	ks_buf_adds(b, "<tr class=\"total\"><td>All categories</td>");
	cells(b, tb->total);
	ks_buf_adds(b, "</tr>\n</tbody></table>\n");
}

static void scope_section(struct ks_buf *b, const struct ks_tally *t,
			  const struct ks_tally_scope *s)
{
	ks_buf_adds(b, "<h3>");
	if (s->exhibit) {
		ks_buf_adds(b, "Exhibit ");
		text(b, s->exhibit);
	} else {
		ks_buf_adds(b, "All exhibits");
	}
	ks_buf_adds(b, "</h3>\n");
	for (int i = 0; i < t->ntables; i++)
		figures_table(b, &s->tables[i], i == 0);
	ks_buf_addf(b,
		    "<p>Known good (matched an ignore hash set, also counted above): %lld still "
		    "images, %lld moving images.</p>\n"
		    "<p>Grades not yet final (counted as uncategorised above): %lld still and %lld "
		    "moving images wait for the second grader; %lld still and %lld moving images "
		    "are disputed.</p>\n"
		    "<p>Files recorded: %lld; picture and video occurrences: %lld; archives and "
		    "documents: %lld; items with errors: %lld.</p>\n",
		    (long long)s->known_good[KS_TALLY_STILL],
		    (long long)s->known_good[KS_TALLY_MOVING],
		    (long long)s->grade_pending[KS_TALLY_STILL],
		    (long long)s->grade_pending[KS_TALLY_MOVING],
		    (long long)s->grade_disputed[KS_TALLY_STILL],
		    (long long)s->grade_disputed[KS_TALLY_MOVING], (long long)s->files,
		    (long long)s->media_files, (long long)s->containers, (long long)s->errors);
}

struct items_ctx {
	FILE *out;
	struct ks_buf *b;
	struct ks_err *err;
	const char *case_scheme;
	int64_t n;
};

static void td_time(struct ks_buf *b, int64_t t)
{
	char iso[32];
	ks_time_iso8601(t, iso);
	td(b, iso);
}

static int on_item(void *ctx, const struct ks_file_row *r)
{
	struct items_ctx *c = ctx;
	struct ks_buf *b = c->b;
	if (!ks_report_is_item(r))
		return 0;
	c->n++;
	ks_buf_adds(b, "<tr>");
	td(b, r->exhibit);
	ks_buf_adds(b, "<td>");
	text(b, r->path);
	if (r->volume && *r->volume) {
		ks_buf_adds(b, "<br>volume: ");
		text(b, r->volume);
	}
	if (r->offset >= 0)
		ks_buf_addf(b, "<br>offset: %lld", (long long)r->offset);
	ks_buf_adds(b, "</td>");
	ks_buf_adds(b, "<td>");
	text(b, ks_state_name(r->state));
	if (r->in_container)
		ks_buf_adds(b, ", in container");
	ks_buf_adds(b, "</td>");
	td_num(b, (long long)r->size);
	td_time(b, r->mtime);
	td_time(b, r->atime);
	td_time(b, r->ctime);
	td_time(b, r->crtime);
	ks_buf_adds(b, "<td class=\"hash\">");
	if (r->md5 && *r->md5) {
		ks_buf_adds(b, "MD5 ");
		text(b, r->md5);
		ks_buf_adds(b, "<br>SHA-1 ");
		text(b, r->sha1);
		ks_buf_adds(b, "<br>SHA-256 ");
		text(b, r->sha256);
	}
	ks_buf_adds(b, "</td><td>");
	text(b, r->type);
	ks_buf_adds(b, " (");
	text(b, ks_kind_name(r->kind));
	ks_buf_adds(b, ")</td><td>");
	text(b, ks_report_item_label(r));
	if (r->category && r->scheme && strcmp(r->scheme, c->case_scheme) != 0) {
		ks_buf_adds(b, " [");
		text(b, r->scheme);
		ks_buf_adds(b, "]");
	}
	if (r->known_good)
		ks_buf_adds(b, "<br>known good");
	ks_buf_adds(b, "</td>");
	td(b, r->match);
	ks_buf_adds(b, "<td>");
	text(b, r->note);
	ks_report_html_item_prov(b, r);
	ks_report_html_item_video(b, r);
	if (r->error && *r->error) {
		ks_buf_adds(b, (r->note && *r->note) ? "<br><span class=\"bad\">error: "
						     : "<span class=\"bad\">error: ");
		text(b, r->error);
		ks_buf_adds(b, "</span>");
	}
	ks_buf_adds(b, "</td></tr>\n");
	return b->len < 1 << 16 ? 0 : ks_report_flush(b, c->out, c->err);
}

static int html_write(struct ks_store *st, const struct ks_tally *t, FILE *out,
		      const struct ks_report_opts *opts, struct ks_err *err)
{
	struct ks_buf b = {0};
	struct items_ctx c = {.out = out, .b = &b, .err = err, .case_scheme = t->scheme};
	char created[32], *gen = ks_report_one_line(opts->generated);
	int rc;
	ks_time_iso8601(t->created, created);

	ks_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
			"style-src 'unsafe-inline'\">\n<title>Case ");
	text(&b, t->ref);
	ks_buf_adds(&b, " - kestrel report</title>\n");
	ks_buf_adds(&b, head_css);
	ks_buf_adds(&b, "</head>\n<body>\n<h1>Forensic triage report: case ");
	text(&b, t->ref);
	ks_buf_adds(&b, "</h1>\n<table class=\"meta\">\n<tr><th>Case reference</th>");
	td(&b, t->ref);
	ks_buf_adds(&b, "</tr>\n<tr><th>Examiner</th>");
	td(&b, t->examiner);
	ks_buf_adds(&b, "</tr>\n<tr><th>Category scheme</th>");
	td(&b, t->case_scheme ? t->case_scheme->title : t->scheme);
	ks_buf_adds(&b, "</tr>\n<tr><th>Case created</th>");
	td(&b, created);
	ks_buf_adds(&b, "</tr>\n</table>\n<p class=\"generated\">Generated: ");
	text(&b, gen);
	ks_buf_adds(&b, "</p>\n");

	ks_buf_adds(&b, "<h2>Figures</h2>\n<p>");
	text(&b, ks_report_counting_note);
	ks_buf_adds(&b, "</p>\n");
	scope_section(&b, t, &t->total);
	for (size_t i = 0; i < t->nexhibits; i++)
		scope_section(&b, t, &t->exhibits[i]);

	ks_buf_adds(&b, "<h2>Sources</h2>\n<table class=\"sources\">\n<thead><tr><th>Exhibit</th>"
			"<th>Evidence</th><th>Kind</th><th>Size (bytes)</th><th>Status</th>"
			"<th>Before the scan</th><th>After the scan</th><th>Verified</th></tr>"
			"</thead>\n<tbody>\n");
	for (size_t i = 0; i < t->nsources; i++) {
		const struct ks_tally_source *s = &t->sources[i];
		ks_buf_adds(&b, "<tr>");
		td(&b, s->exhibit);
		td(&b, s->path);
		td(&b, s->kind);
		td_num(&b, (long long)s->size);
		td(&b, s->status);
		ks_buf_adds(&b, "<td class=\"hash\">MD5 ");
		text(&b, s->md5_before);
		ks_buf_adds(&b, "<br>SHA-1 ");
		text(&b, s->sha1_before);
		ks_buf_adds(&b, "</td><td class=\"hash\">MD5 ");
		text(&b, s->md5_after);
		ks_buf_adds(&b, "<br>SHA-1 ");
		text(&b, s->sha1_after);
		ks_buf_adds(&b, s->verified ? "</td><td>" : "</td><td class=\"bad\">");
		text(&b, s->verify);
		ks_buf_adds(&b, "</td></tr>\n");
	}
	ks_buf_adds(&b, "</tbody></table>\n");
	if ((rc = ks_report_html_prov_sections(st, t, &b, out, err)) != KS_OK)
		goto out;

	ks_buf_adds(&b, "<h2>Items</h2>\n<p>Every picture and video occurrence, every archive "
			"or document, and every item with an error. Times are UTC.</p>\n"
			"<table class=\"items\">\n<thead><tr><th>Exhibit</th><th>Path</th>"
			"<th>State</th><th>Size</th><th>Modified</th><th>Accessed</th>"
			"<th>Changed</th><th>Created</th><th>Hashes</th><th>Type</th>"
			"<th>Category</th><th>Match</th><th>Note / error</th></tr></thead>\n"
			"<tbody>\n");
	if ((rc = ks_report_flush(&b, out, err)) != KS_OK)
		goto out;
	if ((rc = ks_store_files_each(st, on_item, &c, err)) != KS_OK)
		goto out;
	ks_buf_addf(&b, "</tbody></table>\n<p>%lld items.</p>\n</body>\n</html>\n",
		    (long long)c.n);
	rc = ks_report_flush(&b, out, err);
out:
	ks_buf_release(&b);
	free(gen);
	return rc;
}

const struct ks_report_writer ks_report_html = {
	.name = "html",
	.write = html_write,
};
