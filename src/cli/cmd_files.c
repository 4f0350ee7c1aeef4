/* kestrel files CASE_DIR --json : one JSON object per line per file occurrence. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "kestrel/report.h"
#include "kestrel/store.h"

static const char usage[] = "kestrel files CASE_DIR --json";

int ks_cmd_files(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int json = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h':
			printf("usage: %s\n\nPrints every file occurrence of the case as one JSON object per line\n"
			       "(exhibit, path, volume, state, size, type, md5, sha1, sha256, category, match, times …).\n",
			       usage);
			return EXIT_OK;
		default: return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind + 1 != argc)
		return ks_cli_usage(usage, "files: expected one CASE_DIR");
	if (!json)
		return ks_cli_usage(usage, "files: only --json output exists so far");
	struct ks_store *st = NULL;
	struct ks_err err = {0};
	if (ks_store_open(argv[optind], 1, &st, &err) < 0)
		return ks_cli_fail("files", &err);
	int rc = ks_report_files_jsonl(st, stdout, &err);
	ks_store_close(st);
	if (rc < 0)
		return ks_cli_fail("files", &err);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERR;
}
