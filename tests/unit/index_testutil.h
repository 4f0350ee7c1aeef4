/* Helpers for the index-layer tests: write a fixture file, collect what an importer
 * delivers into plain copies (the entry's strings are only borrowed), run one importer
 * by name. Header-only so each test stays one .c file. */
#ifndef INDEX_TESTUTIL_H
#define INDEX_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/index.h"
#include "ktest.h"

struct got {
	unsigned has;
	char md5[33], sha1[41], sha256[65];
	char scheme[16], category[16]; /* "(null)" for NULL */
	char name[256], series[64], photodna[256];
	long long size;
	int distributed;
};

struct coll {
	struct got *v;
	size_t n, cap;
	size_t stop_after; /* 0 = never */
	int stop_status;
};

static inline void tu_copy(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "(null)");
}

static inline int tu_collect(void *ctx, const struct ks_hash_entry *e)
{
	struct coll *c = ctx;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = realloc(c->v, c->cap * sizeof *c->v);
	}
	struct got *g = &c->v[c->n++];
	memset(g, 0, sizeof *g);
	g->has = e->has;
	if (e->has & KS_HAS_MD5)
		ks_hex_encode(e->md5, 16, g->md5);
	if (e->has & KS_HAS_SHA1)
		ks_hex_encode(e->sha1, 20, g->sha1);
	if (e->has & KS_HAS_SHA256)
		ks_hex_encode(e->sha256, 32, g->sha256);
	tu_copy(g->scheme, sizeof g->scheme, e->scheme);
	tu_copy(g->category, sizeof g->category, e->category);
	tu_copy(g->name, sizeof g->name, e->name);
	tu_copy(g->series, sizeof g->series, e->series);
	tu_copy(g->photodna, sizeof g->photodna, e->photodna);
	g->size = (long long)e->size;
	g->distributed = e->distributed;
	if (c->stop_after && c->n >= c->stop_after)
		return c->stop_status;
	return 0;
}

static inline void tu_reset(struct coll *c)
{
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* Writes len bytes (len < 0: strlen) to dir/name; returns the path (static buffer
 * rotation of 8, enough for one test step). */
static inline const char *tu_write(const char *dir, const char *name, const char *data, long len)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 512, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	if (!f) {
		perror(p);
		exit(1);
	}
	size_t n = len < 0 ? strlen(data) : (size_t)len;
	if (fwrite(data, 1, n, f) != n) {
		perror(p);
		exit(1);
	}
	fclose(f);
	return p;
}

/* Runs the named importer on path; returns its status, entries land in c. */
static inline int tu_run(const char *format, const char *path, const struct ks_import_opts *o,
		  struct coll *c, struct ks_err *err)
{
	ks_err_clear(err);
	const struct ks_importer_ops *ops = ks_importer_find(path, format, err);
	if (!ops)
		return err->status;
	return ops->run(path, o, tu_collect, c, err);
}

/* The name of the importer the probes pick for path, or "(none)". */
static inline const char *tu_probe(const char *path)
{
	struct ks_err err = {0};
	const struct ks_importer_ops *ops = ks_importer_find(path, NULL, &err);
	return ops ? ops->name : "(none)";
}

#define CHECK_HAS(msg, needle)                                                                     \
	do {                                                                                       \
		const char *m_ = (msg), *n_ = (needle);                                            \
		if (strstr(m_, n_)) {                                                              \
			ktest_pass++;                                                              \
		} else {                                                                           \
			ktest_fail++;                                                              \
			fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__,          \
				__LINE__, m_, n_);                                                 \
		}                                                                                  \
	} while (0)

#endif
