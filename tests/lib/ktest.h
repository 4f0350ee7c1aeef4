/* Minimal unit-test helpers: CHECK records a failure and goes on; ktest_done prints
 * "N passed, N failed" and returns the exit status. ktest_shared() gives the
 * ../shared folder or NULL (then tests skip with exit 77, saying why). */
#ifndef KTEST_H
#define KTEST_H

#include <stdio.h>
#include <string.h>

extern int ktest_pass, ktest_fail;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (cond) {                                                                    \
			ktest_pass++;                                                          \
		} else {                                                                       \
			ktest_fail++;                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                                        \
	do {                                                                                   \
		const char *a_ = (a), *b_ = (b);                                               \
		if (a_ && b_ && strcmp(a_, b_) == 0) {                                         \
			ktest_pass++;                                                          \
		} else {                                                                       \
			ktest_fail++;                                                          \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		}                                                                              \
	} while (0)

int ktest_done(void);
/* ../shared (from $SHARED) if it exists, else NULL. */
const char *ktest_shared(void);
/* A fresh empty temporary directory (removed by the OS's tmp cleaning, not by us). */
const char *ktest_tmpdir(void);
/* Reads a whole file; NULL on failure. *len gets its size. Caller frees. */
unsigned char *ktest_read_file(const char *path, size_t *len);

#endif
