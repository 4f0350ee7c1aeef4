/* Fuzz target for the text importers (md5/sha1/sha256 lists, hashdeep, legacy
 * NSRLFile.txt): the input becomes a memfd opened by path, each importer reads it, and
 * what they deliver goes into an exact index that must find every entry again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_import_common.h"
#include "kestrel/index.h"

struct fctx {
	struct ks_index *idx;
	int64_t set;
};

static int add_entry(void *p, const struct ks_hash_entry *e)
{
	struct fctx *c = p;
	if (!e->has || (e->has & ~7u) || !e->scheme)
		abort();
	if (e->name)
		(void)strlen(e->name);
	ks_index_add(c->idx, c->set, 0, e);
	if (ks_index_lookup(c->idx, e->has & KS_HAS_MD5 ? e->md5 : NULL,
			    e->has & KS_HAS_SHA1 ? e->sha1 : NULL,
			    e->has & KS_HAS_SHA256 ? e->sha256 : NULL, NULL, NULL) < 1)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* SQLite databases are SQLite's to fuzz, not ours */
	if (size >= 16 && memcmp(data, "SQLite format 3", 16) == 0)
		return 0;
	char path[64];
	int fd = fz_memfd("fuzz_import_plain", data, size, path);
	if (fd < 0)
		return 0;
	static const char *const formats[] = {"md5", "sha1", "sha256", "hashdeep", "nsrl"};
	struct fctx c = {.idx = ks_index_new()};
	struct ks_import_opts o = {.category = "A"};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		struct ks_err err = {0};
		const struct ks_importer_ops *ops = ks_importer_find(path, formats[i], &err);
		c.set = (int64_t)i;
		if (ops && ops->run(path, &o, add_entry, &c, &err) < 0 && !err.msg[0])
			abort();
	}
	struct ks_err err = {0};
	ks_importer_find(path, NULL, &err);
	ks_index_free(c.idx);
	close(fd);
	return 0;
}
