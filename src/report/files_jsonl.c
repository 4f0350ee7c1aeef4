/* `kestrel files --json`: one JSON object per line per file occurrence, in the
 * store's stable order. The same object is the report's "items" entry. */
#include <string.h>

#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "kestrel/store_review.h"
#include "report_prov.h"
#include "report_video.h"

void ks_report_json_file(struct ks_buf *b, const struct ks_file_row *r)
{
	int hashed = r->md5 && *r->md5;
	ks_buf_adds(b, "{\"exhibit\":");
	ks_json_add_string(b, r->exhibit);
	ks_buf_adds(b, ",\"path\":");
	ks_json_add_string(b, r->path);
	ks_buf_adds(b, ",\"volume\":");
	ks_json_add_string(b, r->volume);
	ks_buf_adds(b, ",\"state\":");
	ks_json_add_string(b, ks_state_name(r->state));
	ks_buf_addf(b, ",\"in_container\":%s,\"size\":%llu,\"type\":",
		    r->in_container ? "true" : "false", (unsigned long long)r->size);
	ks_json_add_string(b, r->type);
	ks_buf_adds(b, ",\"kind\":");
	ks_json_add_string(b, ks_kind_name(r->kind));
	ks_buf_adds(b, ",\"valid\":");
	ks_json_add_string_or_null(b, r->valid >= 0 ? ks_valid_name(r->valid) : NULL);
	ks_buf_adds(b, ",\"md5\":");
	ks_json_add_string_or_null(b, hashed ? r->md5 : NULL);
	ks_buf_adds(b, ",\"sha1\":");
	ks_json_add_string_or_null(b, hashed ? r->sha1 : NULL);
	ks_buf_adds(b, ",\"sha256\":");
	ks_json_add_string_or_null(b, hashed ? r->sha256 : NULL);
	ks_buf_adds(b, ",\"category\":");
	ks_json_add_string_or_null(b, r->category ? ks_report_cat_label(r->scheme, r->category)
						  : NULL);
	ks_buf_adds(b, ",\"category_code\":");
	ks_json_add_string_or_null(b, r->category);
	ks_buf_adds(b, ",\"scheme\":");
	ks_json_add_string_or_null(b, r->category ? r->scheme : NULL);
	ks_buf_adds(b, ",\"match\":");
	ks_json_add_string_or_null(b, r->match && *r->match ? r->match : NULL);
	ks_buf_addf(b, ",\"known_good\":%s", r->known_good ? "true" : "false");
	ks_buf_adds(b, ",\"grade\":");
	ks_json_add_string_or_null(b, r->grade_state ? ks_grade_state_name(r->grade_state) : NULL);
	ks_buf_adds(b, ",\"grader\":");
	ks_json_add_string_or_null(b, r->grader);
	ks_buf_adds(b, ",\"verifier\":");
	ks_json_add_string_or_null(b, r->verifier);
	ks_buf_adds(b, ",\"mtime\":");
	ks_json_add_time(b, r->mtime);
	ks_buf_adds(b, ",\"atime\":");
	ks_json_add_time(b, r->atime);
	ks_buf_adds(b, ",\"ctime\":");
	ks_json_add_time(b, r->ctime);
	ks_buf_adds(b, ",\"crtime\":");
	ks_json_add_time(b, r->crtime);
	if (r->offset >= 0)
		ks_buf_addf(b, ",\"offset\":%lld", (long long)r->offset);
	else
		ks_buf_adds(b, ",\"offset\":null");
	ks_buf_adds(b, ",\"note\":");
	ks_json_add_string_or_null(b, r->note && *r->note ? r->note : NULL);
	ks_buf_adds(b, ",\"error\":");
	ks_json_add_string_or_null(b, r->error && *r->error ? r->error : NULL);
	ks_report_json_prov(b, r);
	ks_report_json_video(b, r);
	ks_buf_adds(b, "}");
}

struct jsonl_ctx {
	FILE *out;
	struct ks_buf b;
	struct ks_err *err;
};

static int on_row(void *ctx, const struct ks_file_row *r)
{
	struct jsonl_ctx *c = ctx;
	ks_report_json_file(&c->b, r);
	ks_buf_add(&c->b, "\n", 1);
	if (c->b.len < 1 << 16)
		return 0;
	return ks_report_flush(&c->b, c->out, c->err);
}

int ks_report_files_jsonl(struct ks_store *st, FILE *out, struct ks_err *err)
{
	struct jsonl_ctx c = {.out = out, .err = err};
	int rc = ks_store_files_each(st, on_row, &c, err);
	if (rc == KS_OK)
		rc = ks_report_flush(&c.b, out, err);
	if (rc == KS_OK && (fflush(out) != 0 || ferror(out)))
		rc = ks_err_set(err, KS_E_ENV, "writing the file list failed");
	ks_buf_release(&c.b);
	return rc;
}
