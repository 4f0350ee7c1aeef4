/* kestrel case init CASE_DIR --ref REF --examiner NAME [--scheme uk|vics-us] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kestrel/category.h"
#include "kestrel/store.h"

static const char usage[] = "kestrel case init CASE_DIR --ref REF --examiner NAME [--scheme uk|vics-us]";

int ks_cmd_case(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ref", required_argument, NULL, 'r'},
		{"examiner", required_argument, NULL, 'e'},
		{"scheme", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *ref = NULL, *examiner = NULL, *scheme = "uk";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': ref = optarg; break;
		case 'e': examiner = optarg; break;
		case 's': scheme = optarg; break;
		case 'h':
			printf("usage: %s\n\nCreates CASE_DIR holding a new, empty case store (SQLite).\n"
			       "  --ref REF         case reference (required)\n"
			       "  --examiner NAME   who creates it (required; recorded in the audit log)\n"
			       "  --scheme S        category scheme of the case: uk (default) or vics-us\n",
			       usage);
			return EXIT_OK;
		default: return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind >= argc || strcmp(argv[optind], "init") != 0)
		return ks_cli_usage(usage, "case: expected 'init'");
	if (optind + 2 != argc)
		return ks_cli_usage(usage, "case init: expected one CASE_DIR");
	if (!ref || !examiner)
		return ks_cli_usage(usage, "case init: --ref and --examiner are required");
	if (!ks_scheme_find(scheme))
		return ks_cli_usage(usage, "unknown scheme '%s'", scheme);
	struct ks_case_meta m = {.ref = ref, .examiner = examiner, .scheme = scheme, .created = ks_time_now()};
	struct ks_err err = {0};
	if (ks_store_create(argv[optind + 1], &m, &err) < 0)
		return ks_cli_fail("case init", &err);
	printf("case %s created in %s\n", ref, argv[optind + 1]);
	return EXIT_OK;
}
