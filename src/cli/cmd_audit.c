/* kestrel audit verify CASE_DIR: recomputes the case's hash-chained audit log and says
 * whether it is intact (exit 0) or where it breaks (exit 1). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kestrel/store.h"

static const char usage[] = "kestrel audit verify CASE_DIR";

static int last_row(void *ctx, const struct ks_audit_row *r)
{
	char *head = ctx;
	snprintf(head, 65, "%s", r->hash);
	return 0;
}

int ks_cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: %s\n\nChecks the audit log's hash chain row by row and "
			       "prints the"
			       " number of rows\nand the head hash (keep it elsewhere: removing "
			       "the newest"
			       " rows can only be\nseen against a head hash kept before).\n",
			       usage);
			return EXIT_OK;
		default:
			return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind + 2 != argc || strcmp(argv[optind], "verify") != 0)
		return ks_cli_usage(usage, "audit: expected verify CASE_DIR");
	struct ks_store *st = NULL;
	struct ks_err err = {0};
	int64_t rows = 0;
	char head[65] = "";
	if (ks_store_open(argv[optind + 1], 1, &st, &err) < 0)
		return ks_cli_fail("audit", &err);
	int rc = ks_store_audit_verify(st, &rows, &err);
	if (rc == KS_OK)
		rc = ks_store_audit_each(st, last_row, head, &err);
	ks_store_close(st);
	if (rc < 0) {
		fprintf(stderr, "kestrel: audit: BROKEN after %lld good rows: %s\n",
			(long long)rows, err.msg);
		return EXIT_ERR;
	}
	printf("audit log intact: %lld rows, head %s\n", (long long)rows, head);
	return EXIT_OK;
}
