/* Exporting an index file's sets as a VICS 2.0 JSON hash set ("#Media"), the form
 * CAID, Project VIC and the review tools exchange: one Media per entry with its
 * digests (upper-case hex, as those tools write them), category in the numbering of
 * the set's scheme, size, distribution flag, series, PhotoDNA, file name (MediaFiles),
 * and a PDQ hash as AlternativeHashes "PDQ". Streamed through yajl's generator to a
 * temporary file that is renamed into place when complete. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "hashdb_int.h"

struct exp {
	yajl_gen g;
	FILE *f;
	int failed;
	uint64_t id;
	const char *scheme; /* the one scheme of the exported entries */
	struct ks_err *err;
};

static void put(void *ctx, const char *s, size_t n)
{
	struct exp *x = ctx;
	if (!x->failed && fwrite(s, 1, n, x->f) != n)
		x->failed = errno ? errno : EIO;
}

static void key(struct exp *x, const char *k)
{
	yajl_gen_string(x->g, (const unsigned char *)k, strlen(k));
}

static void str(struct exp *x, const char *k, const char *v)
{
	key(x, k);
	yajl_gen_string(x->g, (const unsigned char *)v, strlen(v));
}

static void hex_upper(struct exp *x, const char *k, const uint8_t *d, size_t n)
{
	char h[65];
	ks_hex_encode(d, n, h);
	for (char *p = h; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	str(x, k, h);
}

/* The category as the VICS numbering of its scheme writes it (kestrel's uk numbering:
 * 1 = A, 2 = B, 3 = C, 0 = not indecent). */
static int category_number(const char *scheme, const char *code)
{
	if (!code)
		return -1;
	if (scheme && strcmp(scheme, "uk") == 0) {
		static const char map[] = "NABC";
		const char *p = strchr(map, code[0]);
		return p && code[0] && !code[1] ? (int)(p - map) : -1;
	}
	if (code[0] >= '0' && code[0] <= '9' && !code[1])
		return code[0] - '0';
	return -1;
}

static int on_entry(void *ctx, uint32_t set, const struct ks_hash_entry *e)
{
	struct exp *x = ctx;
	if (x->failed)
		return KS_E_ENV;
	yajl_gen_map_open(x->g);
	key(x, "MediaID");
	yajl_gen_integer(x->g, (long long)++x->id);
	key(x, "Category");
	int cat = category_number(e->scheme, e->category);
	if (e->category && cat < 0)
		return ks_err_set(x->err, KS_E_UNSUPPORTED,
				  "category '%s' of scheme %s has no VICS number", e->category,
				  e->scheme ? e->scheme : "(none)");
	if (cat >= 0)
		yajl_gen_integer(x->g, cat);
	else
		yajl_gen_null(x->g);
	if (e->has & KS_HAS_MD5)
		hex_upper(x, "MD5", e->md5, 16);
	if (e->has & KS_HAS_SHA1)
		hex_upper(x, "SHA1", e->sha1, 20);
	if (e->has & KS_HAS_SHA256)
		hex_upper(x, "SHA256", e->sha256, 32);
	if (e->size >= 0) {
		key(x, "MediaSize");
		yajl_gen_integer(x->g, (long long)e->size);
	}
	if (e->distributed >= 0) {
		key(x, "IsDistributed");
		yajl_gen_bool(x->g, e->distributed);
	}
	if (e->series)
		str(x, "Series", e->series);
	if (e->photodna)
		str(x, "PhotoDNA", e->photodna);
	if (e->name) {
		key(x, "MediaFiles");
		yajl_gen_array_open(x->g);
		yajl_gen_map_open(x->g);
		str(x, "FileName", e->name);
		yajl_gen_map_close(x->g);
		yajl_gen_array_close(x->g);
	}
	if (e->has & KS_HAS_PDQ) {
		key(x, "AlternativeHashes");
		yajl_gen_array_open(x->g);
		yajl_gen_map_open(x->g);
		str(x, "HashName", "PDQ");
		char h[65];
		ks_hex_encode(e->pdq, 32, h);
		str(x, "HashValue", h);
		yajl_gen_map_close(x->g);
		yajl_gen_array_close(x->g);
	}
	yajl_gen_map_close(x->g);
	return x->failed ? KS_E_ENV : KS_OK;
}

int ks_hashdb_export_vics(const struct ks_hashdb *db, int set, const char *out_path,
			  struct ks_err *err)
{
	struct ks_err local;
	if (!err)
		err = &local;
	if (set >= 0 && (size_t)set >= db->nsets)
		return ks_err_set(err, KS_E_USAGE, "no set %d in the index", set);
	/* One file, one numbering: the sets exported must share a category scheme. */
	const char *scheme = NULL;
	for (size_t c = 0; c < db->ncls; c++) {
		if (set >= 0 && db->cls[c].set != (uint32_t)set)
			continue;
		const char *s = db->cls[c].scheme ? db->cls[c].scheme : "vics-us";
		if (!db->cls[c].category)
			continue;
		if (scheme && strcmp(scheme, s) != 0)
			return ks_err_set(err, KS_E_USAGE,
					  "the sets use both the %s and the %s category schemes; "
					  "export one set at a time",
					  scheme, s);
		scheme = s;
	}
	if (!scheme)
		scheme = "vics-us";
	char *copy = ks_xstrdup(out_path), *copy2 = ks_xstrdup(out_path);
	char *tmp = ks_xasprintf("%s/.%s.XXXXXX", dirname(copy), basename(copy2));
	free(copy);
	free(copy2);
	int rc = KS_OK;
	struct exp x = {.err = err, .scheme = scheme};
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = ks_err_set(err, KS_E_ENV, "cannot create a file beside %s: %s", out_path,
				strerror(errno));
		goto out;
	}
	x.f = fdopen(fd, "wb");
	if (!x.f) {
		close(fd);
		rc = ks_err_set(err, KS_E_ENV, "fdopen: %s", strerror(errno));
		goto out;
	}
	x.g = yajl_gen_alloc(NULL);
	if (!x.g)
		abort();
	yajl_gen_config(x.g, yajl_gen_print_callback, put, &x);
	yajl_gen_config(x.g, yajl_gen_beautify, 1);
	yajl_gen_config(x.g, yajl_gen_validate_utf8, 1);
	yajl_gen_map_open(x.g);
	char *ctx = ks_xasprintf("http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/"
				 "%s/$metadata#Media",
				 strcmp(scheme, "uk") == 0 ? "UK" : "US");
	str(&x, "@odata.context", ctx);
	free(ctx);
	key(&x, "value");
	yajl_gen_array_open(x.g);
	rc = ks_hashdb_each(db, set, on_entry, &x, err);
	if (rc < 0)
		goto out;
	yajl_gen_array_close(x.g);
	yajl_gen_map_close(x.g);
	if (x.failed || fflush(x.f) != 0 || fsync(fileno(x.f)) != 0) {
		rc = ks_err_set(err, KS_E_ENV, "writing %s: %s", out_path,
				strerror(x.failed ? x.failed : errno));
		goto out;
	}
	if (fclose(x.f) != 0) {
		x.f = NULL;
		rc = ks_err_set(err, KS_E_ENV, "writing %s: %s", out_path, strerror(errno));
		goto out;
	}
	x.f = NULL;
	if (rename(tmp, out_path) != 0) {
		rc = ks_err_set(err, KS_E_ENV, "renaming to %s: %s", out_path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
out:
	if (x.g)
		yajl_gen_free(x.g);
	if (x.f)
		fclose(x.f);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return rc;
}
