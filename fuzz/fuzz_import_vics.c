/* Fuzz target for the VICS JSON importer: the input becomes a memfd that the importer
 * opens by path (/proc/self/fd/N), read under two numberings, and probed. Every entry
 * delivered must be well-formed; anything else must come back as an error, never a
 * crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_import_common.h"
#include "kestrel/index.h"

static int check_entry(void *ctx, const struct ks_hash_entry *e)
{
	if (!e->has || (e->has & ~15u) || !e->scheme)
		abort();
	size_t n = strlen(e->scheme);
	if (e->category)
		n += strlen(e->category);
	if (e->name)
		n += strlen(e->name);
	if (e->series)
		n += strlen(e->series);
	if (e->photodna)
		n += strlen(e->photodna);
	*(size_t *)ctx += n + 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fz_memfd("fuzz_import_vics", data, size, path);
	if (fd < 0)
		return 0;
	struct ks_err err = {0};
	size_t seen = 0;
	const struct ks_importer_ops *ops = ks_importer_find(path, "vics", &err);
	if (ops) {
		struct ks_import_opts o = {.scheme = NULL};
		int rc = ops->run(path, &o, check_entry, &seen, &err);
		if (rc < 0 && !err.msg[0])
			abort(); /* every failure says why */
		o.scheme = "dhs";
		ops->run(path, &o, check_entry, &seen, &err);
	}
	ks_importer_find(path, NULL, &err);
	close(fd);
	return 0;
}
