/* The report front end: the table of writers and ks_report_write, which takes one
 * read snapshot of the case, computes the figures once (report_tally.c) and hands
 * them to the writer of the requested format. */
#include <string.h>

#include "report_prov.h"

static const struct ks_report_writer *const writers[] = {
	&ks_report_html,
	&ks_report_csv,
	&ks_report_json,
	&ks_report_vics,
};

const char ks_report_counting_note[] =
	"Figures count distinct media (identical content, by SHA-256): a picture or video "
	"found in several places counts once per exhibit and once in the total. The columns "
	"live, deleted, carved, cache and in container split the same media by where they "
	"were found; a media found in more than one kind of place is counted in each of "
	"them, so these columns can add up to more than the distinct count. A file inside "
	"an archive or document counts as in container whatever the state of the outermost "
	"file. A media's category is the most serious one among the alert hash sets it "
	"matched in the case's scheme; media categorised only under another scheme are "
	"counted in a separate table for that scheme. Known-good media (matched an ignore "
	"hash set) are also counted above under their category.";

int ks_report_write(struct ks_store *st, const char *format, FILE *out,
		    const struct ks_report_opts *opts, struct ks_err *err)
{
	const struct ks_report_writer *w = NULL;
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++)
		if (format && strcmp(writers[i]->name, format) == 0)
			w = writers[i];
	if (!w)
		return ks_err_set(err, KS_E_USAGE, "unknown report format \"%s\" (html, csv, json, vics)",
				  format ? format : "");
	struct ks_report_opts none = {.generated = ""};
	if (!opts)
		opts = &none;

	/* The report reads the case twice (figures, then items): one snapshot makes
	 * both see the same case. A caller already inside a transaction has one. */
	struct ks_tally *t = NULL;
	int own = ks_store_begin_read(st, err) == KS_OK;
	int rc = ks_tally_build(st, &t, err);
	if (rc == KS_OK)
		rc = w->write(st, t, out, opts, err);
	if (rc == KS_OK && (fflush(out) != 0 || ferror(out)))
		rc = ks_err_set(err, KS_E_ENV, "writing the %s report failed", w->name);
	if (own)
		ks_store_rollback(st);
	ks_tally_free(t);
	return rc;
}
