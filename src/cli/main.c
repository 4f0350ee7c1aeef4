/* The `kestrel` command: a table of verbs, each in its own cmd_*.c file. Exit status:
 * 0 success, 1 error, 2 usage. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct ks_verb verbs[] = {
	{"case", "create a case (case init)", ks_cmd_case},
	{"hashset", "import hash sets into a case", ks_cmd_hashset},
	{"scan", "scan evidence into a case", ks_cmd_scan},
	{"files", "list every file occurrence of a case", ks_cmd_files},
	{"report", "write the case report (html, csv, json)", ks_cmd_report},
	{"pdq", "PDQ perceptual hashes of pictures (hash,quality,filename)", ks_cmd_pdq},
	{"vpdq", "vPDQ frame hashes of videos", ks_cmd_vpdq},
	{"tmk", "TMK+PDQF fingerprints of videos (.tmk files) and their scores", ks_cmd_tmk},
	{"serve", "serve the review UI for grading (loopback by default)", ks_cmd_serve},
	{"user", "add review accounts (user add)", ks_cmd_user},
	{"audit", "check the case's hash-chained audit log (audit verify)", ks_cmd_audit},
};

static void log_sink(void *ctx, enum ks_log_level level, const char *msg)
{
	static const char *names[] = {"debug", "info", "warning", "error"};
	if (level == KS_LOG_DEBUG && !getenv("KESTREL_DEBUG"))
		return;
	fprintf(stderr, "kestrel: %s: %s\n", names[level], msg);
}

int ks_cli_fail(const char *what, const struct ks_err *err)
{
	fprintf(stderr, "kestrel: %s: %s\n", what, err && err->msg[0] ? err->msg : ks_status_name(err ? err->status : KS_E_ENV));
	return err && err->status == KS_E_USAGE ? EXIT_USAGE : EXIT_ERR;
}

int ks_cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kestrel: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return EXIT_USAGE;
}

const char *ks_cli_user(void)
{
	const char *u = getenv("KESTREL_USER");
	if (u && *u)
		return u;
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

static void help(FILE *out)
{
	fprintf(out, "kestrel %s: forensic triage and image categorisation\n\n"
		     "usage: kestrel VERB [options] (kestrel VERB --help for each)\n\nverbs:\n",
		KS_VERSION);
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

int main(int argc, char **argv)
{
	ks_log_set_sink(log_sink, NULL);
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		help(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("kestrel %s\n", KS_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "kestrel: unknown verb '%s'\n", argv[1]);
	help(stderr);
	return EXIT_USAGE;
}
