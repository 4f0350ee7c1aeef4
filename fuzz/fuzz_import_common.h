/* Shared body of the importer fuzz targets that feed the index file builder: the input
 * becomes a memfd opened by path, the named importer streams it into a builder, and a
 * successful import must build, open (with every checksum verified) and find each
 * entry's first digest again. Header-only so each target stays one small file (static
 * inline: a target that only needs fz_memfd, as fuzz_import_tmk, leaves the rest). */
#ifndef FUZZ_IMPORT_COMMON_H
#define FUZZ_IMPORT_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kestrel/index.h"

struct fz {
	struct ks_hashdb_builder *b;
	uint8_t first[32];
	unsigned first_kind;
	uint64_t n;
};

static inline int fz_entry(void *ctx, const struct ks_hash_entry *e)
{
	struct fz *c = ctx;
	if (!e->has || (e->has & ~15u) || !e->scheme)
		abort();
	if ((e->has & KS_HAS_PDQ) && (e->pdq_quality < -1 || e->pdq_quality > 100))
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
	(void)n;
	if (!c->n) {
		c->first_kind = e->has & KS_HAS_MD5	 ? KS_HAS_MD5
				: e->has & KS_HAS_SHA1	 ? KS_HAS_SHA1
				: e->has & KS_HAS_SHA256 ? KS_HAS_SHA256
							 : KS_HAS_PDQ;
		const uint8_t *d = c->first_kind == KS_HAS_MD5	    ? e->md5
				   : c->first_kind == KS_HAS_SHA1   ? e->sha1
				   : c->first_kind == KS_HAS_SHA256 ? e->sha256
								    : e->pdq;
		memcpy(c->first, d,
		       c->first_kind == KS_HAS_MD5    ? 16
		       : c->first_kind == KS_HAS_SHA1 ? 20
						      : 32);
		if (c->first_kind == KS_HAS_PDQ && e->pdq_quality >= 0 &&
		    e->pdq_quality < KS_PDQ_QUALITY_FLOOR)
			c->first_kind = 0; /* left out by the builder: nothing to find */
	}
	c->n++;
	struct ks_err err = {0};
	int rc = ks_hashdb_builder_add(c->b, e, &err);
	if (rc < 0 && !err.msg[0])
		abort();
	return rc;
}

static char fz_dirname[64];

static inline void fz_cleanup(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/fuzz.kix", fz_dirname);
	unlink(p);
	rmdir(fz_dirname);
}

/* A private folder for the index files built, removed at exit. */
static inline const char *fz_dir(void)
{
	if (!fz_dirname[0]) {
		snprintf(fz_dirname, sizeof fz_dirname, "/tmp/kestrel-fuzz.XXXXXX");
		if (!mkdtemp(fz_dirname))
			abort();
		atexit(fz_cleanup);
	}
	return fz_dirname;
}

/* The input as a memfd called name, for importers that open by path: path gets
 * /proc/self/fd/N. Returns the fd (the caller closes it), or -1: nothing to test. */
static inline int fz_memfd(const char *name, const uint8_t *data, size_t size, char path[64])
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

static inline int fuzz_import_one(const char *format, const uint8_t *data, size_t size)
{
	char path[64], out[128];
	int fd = fz_memfd("fuzz_import", data, size, path);
	if (fd < 0)
		return 0;
	snprintf(out, sizeof out, "%s/fuzz.kix", fz_dir());
	struct ks_err err = {0};
	struct fz c = {0};
	if (ks_hashdb_builder_new(out, NULL, &c.b, &err) < 0)
		abort();
	struct ks_hashdb_set s = {.name = "fuzz"};
	if (ks_hashdb_builder_set(c.b, &s, &err) < 0)
		abort();
	const struct ks_importer_ops *ops = ks_importer_find(path, format, &err);
	struct ks_import_opts o = {.category = "1", .scheme = "vics-us"};
	int rc = ops->run(path, &o, fz_entry, &c, &err);
	if (rc < 0 && !err.msg[0])
		abort();
	if (ops->describe) {
		struct ks_buf name = {0};
		if (ops->describe(path, &name, &err) == KS_OK && name.len)
			(void)strlen((const char *)name.data);
		ks_buf_release(&name);
	}
	if (rc == KS_OK) {
		if (ks_hashdb_builder_finish(c.b, &err) < 0)
			abort();
		struct ks_hashdb *db = NULL;
		if (ks_hashdb_open(out, KS_HASHDB_VERIFY, &db, &err) < 0)
			abort();
		if (c.n && c.first_kind &&
		    ks_hashdb_lookup(db, c.first_kind, c.first, NULL, NULL) < 1)
			abort();
		ks_hashdb_close(db);
		unlink(out);
	}
	ks_hashdb_builder_free(c.b);
	ks_importer_find(path, NULL, &err); /* the probes on hostile input */
	close(fd);
	return 0;
}

#endif
