/* kestrel report CASE_DIR --format html|csv|json|vics --out PATH */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kestrel/report.h"
#include "kestrel/store.h"

static const char usage[] = "kestrel report CASE_DIR --format html|csv|json|vics --out PATH";

int ks_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *format = "html", *out = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
			printf("usage: %s\n\nWrites the case report: per exhibit and in total, the number of still and\n"
			       "moving images in each category, split by where they were found, the sources\n"
			       "with their hashes, then every item with its provenance. The same case gives\n"
			       "the same bytes apart from the one 'generated' line. --out - writes to stdout.\n",
			       usage);
			return EXIT_OK;
		default: return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind + 1 != argc)
		return ks_cli_usage(usage, "report: expected one CASE_DIR");
	if (!out)
		return ks_cli_usage(usage, "report: --out is required");
	if (strcmp(format, "html") && strcmp(format, "csv") && strcmp(format, "json") &&
	    strcmp(format, "vics"))
		return ks_cli_usage(usage, "report: unknown format '%s'", format);

	struct ks_store *st = NULL;
	struct ks_err err = {0};
	if (ks_store_open(argv[optind], 1, &st, &err) < 0)
		return ks_cli_fail("report", &err);
	FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
	if (!f) {
		ks_store_close(st);
		ks_err_set(&err, KS_E_ENV, "cannot write %s", out);
		return ks_cli_fail("report", &err);
	}
	char gen[128], when[32];
	ks_time_iso8601(ks_time_now(), when);
	snprintf(gen, sizeof gen, "generated %s by kestrel %s (%s)", when, KS_VERSION, ks_cli_user());
	struct ks_report_opts ro = {.generated = gen};
	int rc = ks_report_write(st, format, f, &ro, &err);
	ks_store_close(st);
	int cerr = f == stdout ? fflush(f) : fclose(f);
	if (rc < 0)
		return ks_cli_fail("report", &err);
	if (cerr != 0) {
		ks_err_set(&err, KS_E_ENV, "error writing %s", out);
		return ks_cli_fail("report", &err);
	}
	if (f != stdout)
		printf("report written to %s\n", out);
	return EXIT_OK;
}
