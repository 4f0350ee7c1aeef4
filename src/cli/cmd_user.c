/* kestrel user add CASE_DIR NAME --role grader|verifier|admin [--password-stdin]:
 * makes (or updates) a review account. The password is read from the terminal
 * without echo, asked twice, or as the first line of standard input. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "kestrel/review.h"

static const char usage[] =
    "kestrel user add CASE_DIR NAME --role grader|verifier|admin [--password-stdin]";

/* Reads one line into buf (newline dropped); echo off when fd 0 is a terminal. */
static int read_password(const char *prompt, char *buf, size_t n, int tty)
{
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) != 0)
			return -1;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
			return -1;
	}
	char *got = fgets(buf, (int)n, stdin);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (!got)
		return -1;
	size_t len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return 0;
}

int ks_cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"password-stdin", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *role = NULL;
	int from_stdin = 0, c, rc = EXIT_OK;
	char pw[KS_PASSWORD_MAX + 2], again[KS_PASSWORD_MAX + 2];
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			role = optarg;
			break;
		case 'p':
			from_stdin = 1;
			break;
		case 'h':
			printf("usage: %s\n\nMakes a review account, or sets the role and password "
			       "of an"
			       " existing one.\nThe password (%d to %d bytes) is asked twice "
			       "without echo,"
			       " or read from\nthe first line of standard input with "
			       "--password-stdin.\n",
			       usage, KS_PASSWORD_MIN, KS_PASSWORD_MAX);
			return EXIT_OK;
		default:
			return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind + 3 != argc || strcmp(argv[optind], "add") != 0)
		return ks_cli_usage(usage, "user: expected add CASE_DIR NAME");
	if (!role)
		return ks_cli_usage(usage, "user: --role is required");
	int tty = !from_stdin && isatty(STDIN_FILENO);
	if (!from_stdin && !tty)
		return ks_cli_usage(
		    usage, "user: no terminal to ask the password on: use --password-stdin");
	if (read_password("Password: ", pw, sizeof pw, tty) != 0) {
		fprintf(stderr, "kestrel: user: no password given\n");
		return EXIT_USAGE;
	}
	if (tty &&
	    (read_password("Again: ", again, sizeof again, tty) != 0 || strcmp(pw, again) != 0)) {
		fprintf(stderr, "kestrel: user: the passwords differ\n");
		rc = EXIT_USAGE;
		goto out;
	}
	struct ks_err err = {0};
	if (ks_review_user_set(argv[optind + 1], argv[optind + 2], role, pw, ks_cli_user(), &err) <
	    0) {
		rc = ks_cli_fail("user", &err);
		goto out;
	}
	printf("user %s (%s) saved in %s\n", argv[optind + 2], role, argv[optind + 1]);
out:
	memset(pw, 0, sizeof pw);
	memset(again, 0, sizeof again);
	return rc;
}
