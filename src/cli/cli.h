/* Private to the cli: the verb table's signature and the few helpers verbs share.
 * Only the cli prints to the terminal or exits; the layers below report through
 * struct ks_err and the log sink. */
#ifndef KS_CLI_H
#define KS_CLI_H

#include "kestrel/base.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

struct ks_verb {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the verb */
};

/* Prints "kestrel: <msg>" for err to stderr and returns EXIT_ERR (or EXIT_USAGE for
 * KS_E_USAGE). */
int ks_cli_fail(const char *what, const struct ks_err *err);
/* Prints a usage error with the verb's usage line and returns EXIT_USAGE. */
int ks_cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The examiner name for the audit log: $KESTREL_USER, else the login name. */
const char *ks_cli_user(void);

int ks_cmd_case(int argc, char **argv);
int ks_cmd_hashset(int argc, char **argv);
int ks_cmd_scan(int argc, char **argv);
int ks_cmd_files(int argc, char **argv);
int ks_cmd_report(int argc, char **argv);
int ks_cmd_pdq(int argc, char **argv);
int ks_cmd_vpdq(int argc, char **argv);
int ks_cmd_tmk(int argc, char **argv);
int ks_cmd_serve(int argc, char **argv);
int ks_cmd_user(int argc, char **argv);
int ks_cmd_audit(int argc, char **argv);

#endif
