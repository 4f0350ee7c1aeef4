/* See ktest.h. */
#include <stdlib.h>
#include <sys/stat.h>

#include "ktest.h"

int ktest_pass, ktest_fail;

int ktest_done(void)
{
	printf("%d passed, %d failed\n", ktest_pass, ktest_fail);
	return ktest_fail ? 1 : 0;
}

const char *ktest_shared(void)
{
	const char *s = getenv("SHARED");
	struct stat st;
	if (s && *s && stat(s, &st) == 0 && S_ISDIR(st.st_mode))
		return s;
	return NULL;
}

const char *ktest_tmpdir(void)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/kstest.XXXXXX");
	if (!mkdtemp(path))
		return NULL;
	return path;
}

unsigned char *ktest_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *p = malloc(n > 0 ? (size_t)n : 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p && len)
		*len = (size_t)n;
	return p;
}
