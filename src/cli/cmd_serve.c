/* kestrel serve CASE_DIR [--listen ADDR:PORT] [--tls-cert F --tls-key F | --insecure]:
 * runs the review server until SIGINT or SIGTERM. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kestrel/review.h"

static const char usage[] =
    "kestrel serve CASE_DIR [--listen ADDR:PORT] [--tls-cert PEM --tls-key PEM | --insecure]\n"
    "       [--threshold N] [--break-minutes N] [--idle-minutes N]";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void ready(void *ctx, const char *url)
{
	(void)ctx;
	printf("kestrel review server listening on %s (Ctrl-C stops it)\n", url);
	fflush(stdout);
}

static int number(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || end == s || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int ks_cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"tls-cert", required_argument, NULL, 'c'},
	    {"tls-key", required_argument, NULL, 'k'},
	    {"insecure", no_argument, NULL, 'i'},
	    {"threshold", required_argument, NULL, 't'},
	    {"break-minutes", required_argument, NULL, 'b'},
	    {"idle-minutes", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct ks_review_opts o = {.ready = ready};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'c':
			o.tls_cert = optarg;
			break;
		case 'k':
			o.tls_key = optarg;
			break;
		case 'i':
			o.insecure = 1;
			break;
		case 't':
			if (number(optarg, 1, 255, &o.threshold))
				return ks_cli_usage(usage, "serve: --threshold is 1..255");
			break;
		case 'b':
			if (number(optarg, 1, 24 * 60, &o.break_minutes))
				return ks_cli_usage(usage, "serve: --break-minutes is 1..1440");
			break;
		case 'd':
			if (number(optarg, 1, 24 * 60, &o.idle_minutes))
				return ks_cli_usage(usage, "serve: --idle-minutes is 1..1440");
			break;
		case 'h':
			printf(
			    "usage: %s\n\nServes the review UI for the case. Binds to "
			    "127.0.0.1:8443 by"
			    " default; any\nother address needs --tls-cert and --tls-key (PEM), or"
			    " --insecure.\nPDQ near-duplicates within --threshold (default %d) are"
			    " stacked; a break is\nprompted after --break-minutes (default 45) of"
			    " continuous grading.\nAccounts: kestrel user add.\n",
			    usage, KS_REVIEW_DEFAULT_THRESHOLD);
			return EXIT_OK;
		default:
			return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind + 1 != argc)
		return ks_cli_usage(usage, "serve: expected one CASE_DIR");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct ks_err err = {0};
	if (ks_review_serve(argv[optind], &o, &stop, &err) < 0)
		return ks_cli_fail("serve", &err);
	printf("kestrel review server stopped\n");
	return EXIT_OK;
}
