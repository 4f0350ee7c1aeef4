/* The CSV report (RFC 4180: CRLF line ends, fields quoted when needed, quotes
 * doubled), one file. Every row starts with its record type; a "columns" row names
 * the fields of the record type in its second field. The layout, in order:
 *   case,<key>,<value>               ref, examiner, scheme, created
 *   generated,<text>                 the only line that differs between two runs
 *   note,<text>                      how media are counted
 *   count,<scope>,<exhibit>,<scheme>,<code>,<category>,<kind>,<distinct>,<live>,
 *         <deleted>,<carved>,<cache>,<in_container>
 *                                    scope "total" (exhibit empty) or "exhibit";
 *                                    code empty = Uncategorised, "*" = all categories
 *   known_good,<scope>,<exhibit>,<pictures>,<videos>
 *   grades_not_final,<scope>,<exhibit>,<pending pictures>,<pending videos>,
 *         <disputed pictures>,<disputed videos>   review grades not final yet
 *   summary,<scope>,<exhibit>,<files>,<media_files>,<containers>,<errors>
 *   source,<exhibit>,<path>,<kind>,<size>,<status>,<md5 before>,<sha1 before>,
 *          <md5 after>,<sha1 after>,<verified yes/no>,<verification>
 *   distributed,… / sent,… / camera,…  distribution figures, sent references and
 *                                    cameras (report_prov.c; columns rows give names)
 *   item,… / file,…                  one occurrence each (columns row gives names);
 *                                    "file" rows are hashed files that are neither
 *                                    media nor containers
 * Free text from evidence (paths, notes, errors, set names) that begins with = + - @
 * gets a ' in front so that spreadsheets never run it as a formula. */
#include <stdlib.h>

#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "report_prov.h"

static void field(struct ks_buf *b, const char *s, int text)
{
	ks_buf_add(b, ",", 1);
	ks_csv_add(b, s, text);
}

static void field_num(struct ks_buf *b, long long v)
{
	ks_buf_addf(b, ",%lld", v);
}

static void end_row(struct ks_buf *b)
{
	ks_buf_add(b, "\r\n", 2);
}

static void count_row(struct ks_buf *b, const struct ks_tally_scope *s, const char *scheme,
		      const char *code, const char *label, int kind,
		      const struct ks_tally_cell *c)
{
	ks_buf_adds(b, "count");
	field(b, s->exhibit ? "exhibit" : "total", 0);
	field(b, s->exhibit ? s->exhibit : "", 1);
	field(b, scheme, 0);
	field(b, code, 0);
	field(b, label, 0);
	field(b, ks_tally_kind_name[kind], 0);
	field_num(b, c->distinct);
	for (int l = 0; l < KS_LOC_COUNT; l++)
		field_num(b, c->where[l]);
	end_row(b);
}

static void scope_rows(struct ks_buf *b, const struct ks_tally *t, const struct ks_tally_scope *s)
{
	for (int i = 0; i < t->ntables; i++) {
		const struct ks_tally_table *tb = &s->tables[i];
		for (int c = 0; c < tb->ncats; c++)
			for (int k = 0; k < KS_TALLY_KINDS; k++)
				count_row(b, s, tb->scheme, tb->cats[c].code ? tb->cats[c].code : "",
					  tb->cats[c].label, k, &tb->cats[c].k[k]);
		for (int k = 0; k < KS_TALLY_KINDS; k++)
			count_row(b, s, tb->scheme, "*", "All categories", k, &tb->total[k]);
	}
}

static const char item_columns[] =
	"exhibit,path,volume,state,in_container,size,mtime,atime,ctime,crtime,offset,md5,sha1,"
	"sha256,type,kind,scheme,code,category,match,known_good,note,error";

struct items_ctx {
	FILE *out;
	struct ks_buf *b;
	struct ks_err *err;
	int listed;
};

static void time_field(struct ks_buf *b, int64_t t)
{
	char iso[32];
	ks_time_iso8601(t, iso);
	field(b, iso, 0);
}

static int on_row(void *ctx, const struct ks_file_row *r)
{
	struct items_ctx *c = ctx;
	struct ks_buf *b = c->b;
	if (c->listed ? !ks_report_is_listed_file(r) : !ks_report_is_item(r))
		return 0;
	ks_buf_adds(b, c->listed ? "file" : "item");
	field(b, r->exhibit, 1);
	field(b, r->path, 1);
	field(b, r->volume, 1);
	field(b, ks_state_name(r->state), 0);
	field(b, r->in_container ? "yes" : "no", 0);
	field_num(b, (long long)r->size);
	time_field(b, r->mtime);
	time_field(b, r->atime);
	time_field(b, r->ctime);
	time_field(b, r->crtime);
	if (r->offset >= 0)
		field_num(b, r->offset);
	else
		field(b, "", 0);
	field(b, r->md5, 0);
	field(b, r->sha1, 0);
	field(b, r->sha256, 0);
	field(b, r->type, 1);
	field(b, ks_kind_name(r->kind), 0);
	field(b, r->category ? r->scheme : "", 0);
	field(b, r->category ? r->category : "", 0);
	field(b, ks_report_item_label(r), 0);
	field(b, r->match, 1);
	field(b, r->known_good ? "yes" : "no", 0);
	field(b, r->note, 1);
	field(b, r->error, 1);
	end_row(b);
	return b->len < 1 << 16 ? 0 : ks_report_flush(b, c->out, c->err);
}

static int csv_write(struct ks_store *st, const struct ks_tally *t, FILE *out,
		     const struct ks_report_opts *opts, struct ks_err *err)
{
	struct ks_buf b = {0};
	struct items_ctx c = {.out = out, .b = &b, .err = err};
	char created[32], *gen = ks_report_one_line(opts->generated);
	int rc;
	ks_time_iso8601(t->created, created);

	ks_buf_adds(&b, "record,key,value\r\n");
	ks_buf_adds(&b, "case,ref");
	field(&b, t->ref, 1);
	ks_buf_adds(&b, "\r\ncase,examiner");
	field(&b, t->examiner, 1);
	ks_buf_adds(&b, "\r\ncase,scheme");
	field(&b, t->scheme, 0);
	ks_buf_adds(&b, "\r\ncase,created");
	field(&b, created, 0);
	ks_buf_adds(&b, "\r\ngenerated");
	field(&b, gen, 1);
	ks_buf_adds(&b, "\r\nnote");
	field(&b, ks_report_counting_note, 0);
	end_row(&b);

	ks_buf_adds(&b, "columns,count,scope,exhibit,scheme,code,category,kind,distinct");
	for (int l = 0; l < KS_LOC_COUNT; l++)
		field(&b, ks_tally_loc_name[l], 0);
	end_row(&b);
	scope_rows(&b, t, &t->total);
	for (size_t i = 0; i < t->nexhibits; i++)
		scope_rows(&b, t, &t->exhibits[i]);

	ks_buf_adds(&b, "columns,known_good,scope,exhibit,pictures,videos\r\n");
	ks_buf_addf(&b, "known_good,total,,%lld,%lld\r\n",
		    (long long)t->total.known_good[KS_TALLY_STILL],
		    (long long)t->total.known_good[KS_TALLY_MOVING]);
	for (size_t i = 0; i < t->nexhibits; i++) {
		const struct ks_tally_scope *s = &t->exhibits[i];
		ks_buf_adds(&b, "known_good,exhibit");
		field(&b, s->exhibit, 1);
		field_num(&b, s->known_good[KS_TALLY_STILL]);
		field_num(&b, s->known_good[KS_TALLY_MOVING]);
		end_row(&b);
	}

	/* Review grades that are not final yet (counted as uncategorised above). */
	ks_buf_adds(&b, "columns,grades_not_final,scope,exhibit,pending_pictures,pending_videos,"
			"disputed_pictures,disputed_videos\r\n");
	for (size_t i = 0; i <= t->nexhibits; i++) {
		const struct ks_tally_scope *s = i ? &t->exhibits[i - 1] : &t->total;
		ks_buf_adds(&b, i ? "grades_not_final,exhibit" : "grades_not_final,total,");
		if (i)
			field(&b, s->exhibit, 1);
		field_num(&b, s->grade_pending[KS_TALLY_STILL]);
		field_num(&b, s->grade_pending[KS_TALLY_MOVING]);
		field_num(&b, s->grade_disputed[KS_TALLY_STILL]);
		field_num(&b, s->grade_disputed[KS_TALLY_MOVING]);
		end_row(&b);
	}

	ks_buf_adds(&b, "columns,summary,scope,exhibit,files,media_files,containers,errors\r\n");
	for (size_t i = 0; i <= t->nexhibits; i++) {
		const struct ks_tally_scope *s = i == 0 ? &t->total : &t->exhibits[i - 1];
		ks_buf_adds(&b, "summary");
		field(&b, s->exhibit ? "exhibit" : "total", 0);
		field(&b, s->exhibit ? s->exhibit : "", 1);
		field_num(&b, s->files);
		field_num(&b, s->media_files);
		field_num(&b, s->containers);
		field_num(&b, s->errors);
		end_row(&b);
	}

	ks_buf_adds(&b, "columns,source,exhibit,path,kind,size,status,md5_before,sha1_before,"
			"md5_after,sha1_after,verified,verification\r\n");
	for (size_t i = 0; i < t->nsources; i++) {
		const struct ks_tally_source *s = &t->sources[i];
		ks_buf_adds(&b, "source");
		field(&b, s->exhibit, 1);
		field(&b, s->path, 1);
		field(&b, s->kind, 0);
		field_num(&b, (long long)s->size);
		field(&b, s->status, 1);
		field(&b, s->md5_before, 0);
		field(&b, s->sha1_before, 0);
		field(&b, s->md5_after, 0);
		field(&b, s->sha1_after, 0);
		field(&b, s->verified ? "yes" : "no", 0);
		field(&b, s->verify, 0);
		end_row(&b);
	}
	if ((rc = ks_report_csv_prov_sections(st, t, &b, out, err)) != KS_OK)
		goto out;

	ks_buf_addf(&b, "columns,item,%s\r\n", item_columns);
	if ((rc = ks_report_flush(&b, out, err)) != KS_OK)
		goto out;
	if ((rc = ks_store_files_each(st, on_row, &c, err)) != KS_OK)
		goto out;
	ks_buf_addf(&b, "columns,file,%s\r\n", item_columns);
	c.listed = 1;
	if ((rc = ks_store_files_each(st, on_row, &c, err)) != KS_OK)
		goto out;
	rc = ks_report_flush(&b, out, err);
out:
	ks_buf_release(&b);
	free(gen);
	return rc;
}

const struct ks_report_writer ks_report_csv = {
	.name = "csv",
	.write = csv_write,
};
