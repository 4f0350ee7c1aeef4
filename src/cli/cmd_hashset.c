/* kestrel hashset import CASE_DIR FILE [--format F] [--scheme S] [--category C]
 *                        [--role alert|ignore] [--name NAME] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kestrel/category.h"
#include "kestrel/pipeline.h"

static const char usage[] =
	"kestrel hashset import CASE_DIR FILE [--format vics|md5|sha1|sha256|hashdeep|nsrl] "
	"[--scheme uk|vics-us|dhs] [--category C] [--role alert|ignore] [--name NAME]";

int ks_cmd_hashset(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"scheme", required_argument, NULL, 's'},
		{"category", required_argument, NULL, 'c'},
		{"role", required_argument, NULL, 'r'},
		{"name", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct ks_import_opts o = {.scheme = "uk", .role = "alert"};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.format = optarg; break;
		case 's': o.scheme = optarg; break;
		case 'c': o.category = optarg; break;
		case 'r': o.role = optarg; break;
		case 'n': o.name = optarg; break;
		case 'h':
			printf("usage: %s\n\nImports a hash set into the case (all or nothing) and matches the\n"
			       "case's media against it.\n"
			       "  --format F    file format; probed from the content when omitted\n"
			       "  --scheme S    how the file numbers its categories: uk (1=A 2=B 3=C 0=not\n"
			       "                indecent, or letters), vics-us (0-4), dhs (legacy 0-5)\n"
			       "  --category C  category of every entry, for formats that carry none\n"
			       "  --role R      alert (default: matches are categorised) or ignore (known-good,\n"
			       "                e.g. NSRL)\n"
			       "  --name NAME   set name (default: the file name)\n",
			       usage);
			return EXIT_OK;
		default: return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind >= argc || strcmp(argv[optind], "import") != 0)
		return ks_cli_usage(usage, "hashset: expected 'import'");
	if (optind + 3 != argc)
		return ks_cli_usage(usage, "hashset import: expected CASE_DIR and FILE");
	if (strcmp(o.role, "alert") != 0 && strcmp(o.role, "ignore") != 0)
		return ks_cli_usage(usage, "--role must be alert or ignore");
	if (strcmp(o.scheme, "dhs") != 0 && !ks_scheme_find(o.scheme))
		return ks_cli_usage(usage, "unknown scheme '%s'", o.scheme);
	if (o.category) {
		const char *sc, *code;
		if (ks_category_map(o.scheme, o.category, &sc, &code) < 0)
			return ks_cli_usage(usage, "'%s' is not a category of scheme %s", o.category, o.scheme);
	}
	struct ks_import_stats stats = {0};
	struct ks_err err = {0};
	if (ks_hashset_import(argv[optind + 1], argv[optind + 2], &o, ks_cli_user(), &stats, &err) < 0)
		return ks_cli_fail("hashset import", &err);
	printf("imported %lld entries as set %lld; %lld media of the case matched\n",
	       (long long)stats.entries, (long long)stats.set_id, (long long)stats.matched_media);
	return EXIT_OK;
}
