/* kestrel hashset: hash sets into a case, and index files.
 *   import CASE_DIR FILE   [--format F] [--scheme S] [--category C] [--role R] [--name NAME]
 *   build  INDEX FILE...   [--format F] [--scheme S] [--category C] [--role R] [--name NAME]
 *                          [--lean] [--memory MIB] [--min-quality Q] [--force]
 *   info   INDEX           [--verify] [--json]
 *   lookup INDEX HASH...   [--radius R] [--min-quality Q] [--json] [--preload]
 *   export INDEX --format vics --out FILE [--set NAME] */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kestrel/category.h"
#include "kestrel/index.h"
#include "kestrel/pipeline.h"

static const char usage[] =
	"kestrel hashset import CASE_DIR FILE [--format F] [--scheme uk|vics-us|dhs] [--category C]\n"
	"                 [--role alert|ignore] [--name NAME]\n"
	"       kestrel hashset build INDEX FILE... [--format F] [--scheme S] [--category C]\n"
	"                 [--role R] [--name NAME] [--lean] [--memory MIB] [--min-quality Q] [--force]\n"
	"       kestrel hashset info INDEX [--verify] [--json]\n"
	"       kestrel hashset lookup INDEX HASH... [--radius R] [--min-quality Q] [--json]\n"
	"                                           [--preload]\n"
	"       kestrel hashset export INDEX --format vics --out FILE [--set NAME]";

static const char help[] =
	"Hash sets: import one into a case (all or nothing; the case's media are matched\n"
	"against it), or build an index file that scans open with --index.\n"
	"  --format F       vics, md5, sha1, sha256, hashdeep, nsrl, icse, encase, hashkeeper,\n"
	"                   pdq, vpdq, tmk; probed from the content when omitted (export:\n"
	"                   vics). tmk (one known video's TMK+PDQF per .tmk file) is kept\n"
	"                   in the case for `scan --tmk`; index files hold no TMK\n"
	"  --scheme S       how the files number their categories: uk (1=A 2=B 3=C 0=not\n"
	"                   indecent, or letters), vics-us (0-4), dhs (legacy 0-5). Default uk;\n"
	"                   for build, a VICS file naming its region (UK or US) sets it\n"
	"  --category C     category of every entry, for formats that carry none\n"
	"  --role R         alert (default: matches are categorised) or ignore (known-good,\n"
	"                   e.g. NSRL)\n"
	"  --name NAME      set name (default: the file's own set name or its file name);\n"
	"                   build: all files go into the one set NAME\n"
	"  --lean           build: keep only digests, categories and PhotoDNA\n"
	"  --memory MIB     build: sort buffers before spilling to disk (default 1024)\n"
	"  --min-quality Q  PDQ quality floor (default 50): build leaves out hashes below it,\n"
	"                   lookup skips near matching for queries below it (HASH,QUALITY)\n"
	"  --force          build: replace an existing index file\n"
	"  --verify         info: check every section's checksum\n"
	"  --radius R       lookup: PDQ Hamming distance (default 31)\n"
	"  --preload        lookup: read the index into memory first (for many queries)\n"
	"  --json           one JSON object per line\n"
	"  --out FILE       export: the file to write\n"
	"  --set NAME       export: only this set\n"
	"Lookup queries are hex digests: 32 digits MD5, 40 SHA-1, 64 SHA-256 and PDQ (prefix\n"
	"md5:, sha1:, sha256: or pdq: to choose; a PDQ may end ,QUALITY); \"-\" reads them from\n"
	"standard input, one per line.\n";

struct opts {
	struct ks_import_opts io;
	int scheme_given, lean, force, verify, json, radius, min_quality, preload;
	uint64_t memory_mib;
	const char *out, *set;
};

static int check_import_opts(const struct opts *o)
{
	if (strcmp(o->io.role, "alert") != 0 && strcmp(o->io.role, "ignore") != 0)
		return ks_cli_usage(usage, "--role must be alert or ignore");
	if (strcmp(o->io.scheme, "dhs") != 0 && !ks_scheme_find(o->io.scheme))
		return ks_cli_usage(usage, "unknown scheme '%s'", o->io.scheme);
	if (o->io.category) {
		const char *sc, *code;
		if (ks_category_map(o->io.scheme, o->io.category, &sc, &code) < 0)
			return ks_cli_usage(usage, "'%s' is not a category of scheme %s",
					    o->io.category, o->io.scheme);
	}
	return EXIT_OK;
}

/* ---- import (into a case) ---------------------------------------------------------- */

static int cmd_import(struct opts *o, int argc, char **argv)
{
	if (argc != 3)
		return ks_cli_usage(usage, "hashset import: expected CASE_DIR and FILE");
	int rc = check_import_opts(o);
	if (rc != EXIT_OK)
		return rc;
	struct ks_import_stats stats = {0};
	struct ks_err err = {0};
	if (ks_hashset_import(argv[1], argv[2], &o->io, ks_cli_user(), &stats, &err) < 0)
		return ks_cli_fail("hashset import", &err);
	printf("imported %lld entries as set %lld; %lld media of the case matched\n",
	       (long long)stats.entries, (long long)stats.set_id, (long long)stats.matched_media);
	return EXIT_OK;
}

/* ---- build ------------------------------------------------------------------------- */

/* The numbering a VICS file declares by its region, when the user named none. */
static const char *vics_region(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char head[8192];
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	if (memmem(head, n, "/UK/$metadata", 13))
		return "uk";
	if (memmem(head, n, "/US/$metadata", 13))
		return "vics-us";
	return NULL;
}

static int build_file(struct ks_hashdb_builder *b, const struct opts *o, const char *path,
		      uint64_t *entries, struct ks_err *err)
{
	struct ks_import_opts io = o->io;
	const struct ks_importer_ops *ops = ks_importer_find(path, io.format, err);
	if (!ops)
		return err->status;
	if (strcmp(ops->name, "tmk") == 0)
		return ks_err_set(err, KS_E_UNSUPPORTED,
				  "%s: a TMK+PDQF known video goes into a case (kestrel hashset "
				  "import CASE_DIR %s), not into an index file",
				  path, path);
	if (!o->scheme_given) {
		const char *region = strcmp(ops->name, "vics") == 0 ? vics_region(path) : NULL;
		if (region)
			io.scheme = region;
	}
	return ks_hashdb_builder_add_file(b, path, &io, entries, err);
}

static int name_used(char **used, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(used[i], name) == 0)
			return 1;
	return 0;
}

static int cmd_build(struct opts *o, int argc, char **argv)
{
	if (argc < 3)
		return ks_cli_usage(usage, "hashset build: expected INDEX and at least one FILE");
	int rc = check_import_opts(o);
	if (rc != EXIT_OK)
		return rc;
	const char *index = argv[1];
	if (!o->force && access(index, F_OK) == 0)
		return ks_cli_usage(usage, "%s exists; --force replaces it", index);
	struct ks_hashdb_build_opts bo = {.memory = o->memory_mib << 20,
					  .lean = o->lean,
					  .min_quality = o->min_quality ? o->min_quality : 0};
	struct ks_err err = {0};
	struct ks_hashdb_builder *b = NULL;
	double t0 = ks_time_mono();
	if (ks_hashdb_builder_new(index, &bo, &b, &err) < 0)
		return ks_cli_fail("hashset build", &err);
	int status = EXIT_OK;
	struct ks_buf name = {0};
	char **used = NULL;
	size_t nused = 0;
	for (int i = 2; i < argc; i++) {
		const char *path = argv[i];
		if (i == 2 || !o->io.name) {
			struct ks_hashdb_set s = {.role = o->io.role, .imported = ks_time_now()};
			s.scheme = o->io.scheme;
			if (o->io.name) {
				s.name = o->io.name;
			} else {
				const struct ks_importer_ops *ops =
				    ks_importer_find(path, o->io.format, &err);
				ks_buf_reset(&name);
				if (ops && ops->describe && ops->describe(path, &name, &err) == KS_OK &&
				    name.len)
					s.name = (const char *)name.data;
				if (!s.name) {
					char *copy = ks_xstrdup(path);
					ks_buf_adds(&name, basename(copy));
					free(copy);
					s.name = (const char *)name.data;
				}
			}
			/* two files of one name (from different folders): "name #2", … */
			if (!o->io.name) {
				char *base = ks_xstrdup(s.name);
				for (int k = 2; name_used(used, nused, s.name); k++) {
					ks_buf_reset(&name);
					ks_buf_addf(&name, "%s #%d", base, k);
					s.name = (const char *)name.data;
				}
				free(base);
				used = ks_xrealloc(used, (nused + 1) * sizeof *used);
				used[nused++] = ks_xstrdup(s.name);
			}
			if (!o->scheme_given && !o->io.name) {
				const char *region = vics_region(path);
				if (region)
					s.scheme = region;
			}
			if (ks_hashdb_builder_set(b, &s, &err) < 0) {
				status = ks_cli_fail("hashset build", &err);
				goto out;
			}
		}
		uint64_t n = 0;
		if (build_file(b, o, path, &n, &err) < 0) {
			status = ks_cli_fail("hashset build", &err);
			goto out;
		}
		fprintf(stderr, "%s: %llu entries\n", path, (unsigned long long)n);
	}
	if (ks_hashdb_builder_finish(b, &err) < 0) {
		status = ks_cli_fail("hashset build", &err);
		goto out;
	}
	struct ks_hashdb *db = NULL;
	if (ks_hashdb_open(index, 0, &db, &err) < 0) {
		status = ks_cli_fail("hashset build", &err);
		goto out;
	}
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	uint64_t lowq = 0;
	for (size_t i = 0; i < in.nsets; i++)
		lowq += ks_hashdb_set_at(db, i)->low_quality;
	printf("built %s: %zu set%s, %llu entries (MD5 %llu, SHA-1 %llu, SHA-256 %llu, PDQ %llu), "
	       "%llu bytes, %.1f s\n",
	       index, in.nsets, in.nsets == 1 ? "" : "s", (unsigned long long)in.entries,
	       (unsigned long long)in.n_md5, (unsigned long long)in.n_sha1,
	       (unsigned long long)in.n_sha256, (unsigned long long)in.n_pdq,
	       (unsigned long long)in.file_size, ks_time_mono() - t0);
	if (lowq)
		printf("%llu PDQ hashes of quality below %d left out\n", (unsigned long long)lowq,
		       o->min_quality ? o->min_quality : KS_PDQ_QUALITY_FLOOR);
	ks_hashdb_close(db);
out:
	for (size_t i = 0; i < nused; i++)
		free(used[i]);
	free(used);
	ks_buf_release(&name);
	ks_hashdb_builder_free(b);
	return status;
}

/* ---- info -------------------------------------------------------------------------- */

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static int open_index(const char *path, unsigned flags, struct ks_hashdb **db)
{
	struct ks_err err = {0};
	if (ks_hashdb_open(path, flags, db, &err) < 0)
		return ks_cli_fail("hashset", &err);
	return EXIT_OK;
}

static double per(uint64_t bytes, uint64_t n)
{
	return n ? (double)bytes / (double)n : 0;
}

static int cmd_info(struct opts *o, int argc, char **argv)
{
	if (argc != 2)
		return ks_cli_usage(usage, "hashset info: expected INDEX");
	struct ks_hashdb *db = NULL;
	double t0 = ks_time_mono();
	int rc = open_index(argv[1], 0, &db);
	if (rc != EXIT_OK)
		return rc;
	double topen = ks_time_mono() - t0;
	struct ks_err err = {0};
	const char *check = "not checked (--verify)";
	if (o->verify) {
		if (ks_hashdb_verify(db, &err) < 0) {
			ks_hashdb_close(db);
			return ks_cli_fail("hashset info", &err);
		}
		check = "all verified";
	}
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	char created[32];
	ks_time_iso8601(in.created, created);
	if (o->json) {
		printf("{\"index\":");
		json_str(argv[1]);
		printf(",\"version\":%u,\"created\":\"%s\",\"bytes\":%llu,\"entries\":%llu,"
		       "\"records\":%llu,\"md5\":%llu,\"sha1\":%llu,\"sha256\":%llu,\"pdq\":%llu,"
		       "\"pdq_tables\":%d,\"verified\":%s,\"sets\":[",
		       in.version, created, (unsigned long long)in.file_size,
		       (unsigned long long)in.entries, (unsigned long long)in.records,
		       (unsigned long long)in.n_md5, (unsigned long long)in.n_sha1,
		       (unsigned long long)in.n_sha256, (unsigned long long)in.n_pdq, in.mih_tables,
		       o->verify ? "true" : "false");
		for (size_t i = 0; i < in.nsets; i++) {
			const struct ks_hashdb_set *s = ks_hashdb_set_at(db, i);
			char imp[32];
			ks_time_iso8601(s->imported, imp);
			printf("%s{\"name\":", i ? "," : "");
			json_str(s->name);
			printf(",\"role\":");
			json_str(s->role);
			printf(",\"scheme\":");
			json_str(s->scheme ? s->scheme : "");
			printf(",\"format\":");
			json_str(s->format ? s->format : "");
			printf(",\"imported\":\"%s\",\"entries\":%llu,\"md5\":%llu,\"sha1\":%llu,"
			       "\"sha256\":%llu,\"pdq\":%llu,\"low_quality\":%llu,\"sources\":",
			       imp, (unsigned long long)s->entries, (unsigned long long)s->n_md5,
			       (unsigned long long)s->n_sha1, (unsigned long long)s->n_sha256,
			       (unsigned long long)s->n_pdq, (unsigned long long)s->low_quality);
			json_str(s->sources);
			printf("}");
		}
		printf("]}\n");
		ks_hashdb_close(db);
		return EXIT_OK;
	}
	printf("index %s\n", argv[1]);
	printf("  format version %u, built %s, %llu bytes, opened in %.3f s, checksums %s\n",
	       in.version, created, (unsigned long long)in.file_size, topen, check);
	printf("  %llu entries (%llu kept with metadata)\n", (unsigned long long)in.entries,
	       (unsigned long long)in.records);
	printf("  MD5      %12llu rows %14llu bytes (%.1f per row)\n", (unsigned long long)in.n_md5,
	       (unsigned long long)in.bytes_md5, per(in.bytes_md5, in.n_md5));
	printf("  SHA-1    %12llu rows %14llu bytes (%.1f per row)\n", (unsigned long long)in.n_sha1,
	       (unsigned long long)in.bytes_sha1, per(in.bytes_sha1, in.n_sha1));
	printf("  SHA-256  %12llu rows %14llu bytes (%.1f per row)\n",
	       (unsigned long long)in.n_sha256, (unsigned long long)in.bytes_sha256,
	       per(in.bytes_sha256, in.n_sha256));
	printf("  PDQ      %12llu rows %14llu bytes (%.1f per row, %d substring tables)\n",
	       (unsigned long long)in.n_pdq, (unsigned long long)in.bytes_pdq,
	       per(in.bytes_pdq, in.n_pdq), in.mih_tables);
	for (size_t i = 0; i < in.nsets; i++) {
		const struct ks_hashdb_set *s = ks_hashdb_set_at(db, i);
		char imp[32];
		ks_time_iso8601(s->imported, imp);
		printf("set %zu: %s\n", i + 1, s->name);
		printf("  role %s, numbering %s, format %s, built from files read %s\n", s->role,
		       s->scheme ? s->scheme : "(default)", s->format ? s->format : "(entries)",
		       imp);
		printf("  %llu entries: MD5 %llu, SHA-1 %llu, SHA-256 %llu, PDQ %llu",
		       (unsigned long long)s->entries, (unsigned long long)s->n_md5,
		       (unsigned long long)s->n_sha1, (unsigned long long)s->n_sha256,
		       (unsigned long long)s->n_pdq);
		if (s->low_quality)
			printf(" (%llu low-quality PDQ left out)", (unsigned long long)s->low_quality);
		printf("\n");
		for (const char *p = s->sources; p && *p;) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);
			printf("  source %.*s\n", len, p);
			p = nl ? nl + 1 : p + len;
		}
	}
	ks_hashdb_close(db);
	return EXIT_OK;
}

/* ---- lookup ------------------------------------------------------------------------ */

struct match {
	unsigned kind;
	char hash[65];
	int distance;
	uint32_t set;
	const char *scheme, *category;
};

struct matches {
	struct match *v;
	size_t n, cap;
};

static void on_match(void *ctx, const struct ks_hashdb_hit *h)
{
	struct matches *m = ctx;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->v = ks_xrealloc(m->v, m->cap * sizeof *m->v);
	}
	struct match *x = &m->v[m->n++];
	x->kind = h->kind;
	ks_hex_encode(h->hash, h->kind == KS_HAS_MD5 ? 16 : h->kind == KS_HAS_SHA1 ? 20 : 32,
		      x->hash);
	x->distance = h->distance;
	x->set = h->set;
	x->scheme = h->scheme;
	x->category = h->category;
}

static int by_distance(const void *a, const void *b)
{
	const struct match *x = a, *y = b;
	if (x->distance != y->distance)
		return x->distance - y->distance;
	if (x->set != y->set)
		return x->set < y->set ? -1 : 1;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return strcmp(x->hash, y->hash);
}

static const char *kind_name(unsigned k)
{
	return k == KS_HAS_MD5 ? "md5" : k == KS_HAS_SHA1 ? "sha1" : k == KS_HAS_SHA256 ? "sha256" : "pdq";
}

/* Parses one query; returns 0, or -1 with why set. kinds gets KS_HAS_* bits to try. */
static int parse_query(const char *q, unsigned *kinds, uint8_t d[32], int *quality,
		       const char **why)
{
	unsigned want = 0;
	static const struct {
		const char *prefix;
		unsigned kind;
	} prefixes[] = {{"md5:", KS_HAS_MD5},
			{"sha1:", KS_HAS_SHA1},
			{"sha256:", KS_HAS_SHA256},
			{"pdq:", KS_HAS_PDQ}};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (!strncmp(q, prefixes[i].prefix, strlen(prefixes[i].prefix))) {
			want = prefixes[i].kind;
			q += strlen(prefixes[i].prefix);
		}
	*quality = -1;
	size_t len = strcspn(q, ",");
	if (q[len] == ',') {
		char *end;
		long v = strtol(q + len + 1, &end, 10);
		if (*end || end == q + len + 1 || v < 0 || v > 100) {
			*why = "the quality after ',' must be a number from 0 to 100";
			return -1;
		}
		*quality = (int)v;
	}
	unsigned by_len = len == 32 ? KS_HAS_MD5 : len == 40 ? KS_HAS_SHA1
					 : len == 64 ? KS_HAS_SHA256 | KS_HAS_PDQ
						     : 0;
	if (!by_len || (want && !(by_len & want))) {
		*why = "not a hex MD5 (32 digits), SHA-1 (40) or SHA-256/PDQ (64)";
		return -1;
	}
	if (ks_hex_decode(q, len, d, len / 2) < 0) {
		*why = "not hex";
		return -1;
	}
	if (*quality >= 0 && !(by_len & KS_HAS_PDQ)) {
		*why = "only a PDQ hash takes a quality";
		return -1;
	}
	*kinds = want ? want : by_len;
	return 0;
}

/* One query of a lookup: its text, what it asks for, and the matches found. */
struct query {
	char *text;
	unsigned kinds;
	uint8_t d[32];
	int quality;
	const char *note;
	struct matches m;
};

static void print_query(struct ks_hashdb *db, const struct opts *o, struct query *qq)
{
	struct matches *m = &qq->m;
	const char *q = qq->text, *note = qq->note;
	if (m->n > 1)
		qsort(m->v, m->n, sizeof *m->v, by_distance);
	if (o->json) {
		printf("{\"query\":");
		json_str(q);
		printf(",\"matches\":[");
		for (size_t i = 0; i < m->n; i++) {
			const struct ks_hashdb_set *s = ks_hashdb_set_at(db, m->v[i].set);
			printf("%s{\"hash\":\"%s\",\"kind\":\"%s\",\"distance\":%d,\"set\":",
			       i ? "," : "", m->v[i].hash, kind_name(m->v[i].kind), m->v[i].distance);
			json_str(s ? s->name : "");
			printf(",\"role\":");
			json_str(s ? s->role : "");
			printf(",\"scheme\":");
			if (m->v[i].scheme)
				json_str(m->v[i].scheme);
			else
				printf("null");
			printf(",\"category\":");
			if (m->v[i].category)
				json_str(m->v[i].category);
			else
				printf("null");
			printf("}");
		}
		printf("]");
		if (note) {
			printf(",\"note\":");
			json_str(note);
		}
		printf("}\n");
	} else {
		if (!m->n)
			printf("%s\t-\t%s\n", q, note ? note : "no match");
		for (size_t i = 0; i < m->n; i++) {
			const struct ks_hashdb_set *s = ks_hashdb_set_at(db, m->v[i].set);
			printf("%s\t%s\t%d\t%s\t%s%s%s\t%s\n", q, kind_name(m->v[i].kind),
			       m->v[i].distance, s ? s->name : "?",
			       m->v[i].scheme ? m->v[i].scheme : "", m->v[i].category ? ":" : "",
			       m->v[i].category ? m->v[i].category : "(uncategorised)",
			       m->v[i].hash);
		}
	}
}

static void on_near_batch(void *ctx, size_t i, const struct ks_hashdb_hit *h)
{
	struct query **near = ctx;
	on_match(&near[i]->m, h);
}

/* Looks up a group of queries (in order; bad ones are reported and skipped) and prints
 * each one's matches. PDQ near lookups of a big group go through one batched search.
 * Returns 0, or -1 if some query was malformed. */
static int lookup_group(struct ks_hashdb *db, const struct opts *o, struct query *qs, size_t n)
{
	int bad = 0, floor = o->min_quality ? o->min_quality : KS_PDQ_QUALITY_FLOOR;
	struct query **near = ks_xmalloc((n ? n : 1) * sizeof *near);
	uint8_t *hashes = ks_xmalloc((n ? n : 1) * 32);
	size_t nnear = 0;
	for (size_t k = 0; k < n; k++) {
		struct query *q = &qs[k];
		const char *why = NULL;
		if (parse_query(q->text, &q->kinds, q->d, &q->quality, &why) < 0) {
			fprintf(stderr, "kestrel: hashset lookup: %s: %s\n", q->text, why);
			q->kinds = 0;
			bad = 1;
			continue;
		}
		if (q->kinds & KS_HAS_MD5)
			ks_hashdb_lookup(db, KS_HAS_MD5, q->d, on_match, &q->m);
		if (q->kinds & KS_HAS_SHA1)
			ks_hashdb_lookup(db, KS_HAS_SHA1, q->d, on_match, &q->m);
		if (q->kinds & KS_HAS_SHA256)
			ks_hashdb_lookup(db, KS_HAS_SHA256, q->d, on_match, &q->m);
		if (q->kinds & KS_HAS_PDQ) {
			if (q->quality >= 0 && q->quality < floor) {
				q->note = "PDQ quality below the floor: no near lookup";
			} else {
				near[nnear] = q;
				memcpy(hashes + 32 * nnear++, q->d, 32);
			}
		}
	}
	if (nnear >= 256) {
		ks_hashdb_near_batch(db, hashes, nnear, o->radius, on_near_batch, near);
	} else {
		for (size_t k = 0; k < nnear; k++)
			ks_hashdb_near(db, hashes + 32 * k, o->radius, on_match, &near[k]->m);
	}
	for (size_t k = 0; k < n; k++) {
		if (qs[k].kinds)
			print_query(db, o, &qs[k]);
		free(qs[k].m.v);
		free(qs[k].text);
	}
	free(near);
	free(hashes);
	return bad ? -1 : 0;
}

#define LOOKUP_GROUP 4096 /* queries from standard input looked up together */

static int cmd_lookup(struct opts *o, int argc, char **argv)
{
	if (argc < 3)
		return ks_cli_usage(usage, "hashset lookup: expected INDEX and at least one HASH");
	if (o->radius < 0 || o->radius > 256)
		return ks_cli_usage(usage, "--radius must be from 0 to 256");
	struct ks_hashdb *db = NULL;
	int rc = open_index(argv[1], o->preload ? KS_HASHDB_PRELOAD : 0, &db);
	if (rc != EXIT_OK)
		return rc;
	int bad = 0;
	struct query *qs = ks_xcalloc(LOOKUP_GROUP, sizeof *qs);
	size_t n = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-") != 0) {
			qs[n++].text = ks_xstrdup(argv[i]);
		} else {
			char line[256];
			while (fgets(line, sizeof line, stdin)) {
				line[strcspn(line, "\r\n")] = '\0';
				if (!line[0] || line[0] == '#')
					continue;
				qs[n++].text = ks_xstrdup(line);
				if (n == LOOKUP_GROUP) {
					bad |= lookup_group(db, o, qs, n) < 0;
					memset(qs, 0, n * sizeof *qs);
					n = 0;
				}
			}
		}
		if (n == LOOKUP_GROUP) {
			bad |= lookup_group(db, o, qs, n) < 0;
			memset(qs, 0, n * sizeof *qs);
			n = 0;
		}
	}
	bad |= lookup_group(db, o, qs, n) < 0;
	free(qs);
	ks_hashdb_close(db);
	return bad ? EXIT_USAGE : EXIT_OK;
}

/* ---- export ------------------------------------------------------------------------ */

static int cmd_export(struct opts *o, int argc, char **argv)
{
	if (argc != 2)
		return ks_cli_usage(usage, "hashset export: expected INDEX");
	if (!o->out)
		return ks_cli_usage(usage, "hashset export: --out FILE is required");
	if (o->io.format && strcmp(o->io.format, "vics") != 0)
		return ks_cli_usage(usage, "hashset export: only --format vics is written");
	struct ks_hashdb *db = NULL;
	int rc = open_index(argv[1], 0, &db);
	if (rc != EXIT_OK)
		return rc;
	int set = -1;
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	if (o->set) {
		for (size_t i = 0; i < in.nsets; i++)
			if (strcmp(ks_hashdb_set_at(db, i)->name, o->set) == 0)
				set = (int)i;
		if (set < 0) {
			ks_hashdb_close(db);
			return ks_cli_usage(usage, "no set named '%s' in %s", o->set, argv[1]);
		}
	}
	struct ks_err err = {0};
	rc = ks_hashdb_export_vics(db, set, o->out, &err);
	ks_hashdb_close(db);
	if (rc < 0)
		return ks_cli_fail("hashset export", &err);
	printf("wrote %s\n", o->out);
	return EXIT_OK;
}

int ks_cmd_hashset(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"scheme", required_argument, NULL, 's'},
		{"category", required_argument, NULL, 'c'},
		{"role", required_argument, NULL, 'r'},
		{"name", required_argument, NULL, 'n'},
		{"lean", no_argument, NULL, 'L'},
		{"memory", required_argument, NULL, 'M'},
		{"min-quality", required_argument, NULL, 'Q'},
		{"force", no_argument, NULL, 'F'},
		{"verify", no_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'},
		{"radius", required_argument, NULL, 'R'},
		{"preload", no_argument, NULL, 'P'},
		{"out", required_argument, NULL, 'o'},
		{"set", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct opts o = {.io = {.scheme = "uk", .role = "alert"}, .radius = KS_PDQ_RADIUS_DEFAULT};
	int c;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.io.format = optarg; break;
		case 's':
			o.io.scheme = optarg;
			o.scheme_given = 1;
			break;
		case 'c': o.io.category = optarg; break;
		case 'r': o.io.role = optarg; break;
		case 'n': o.io.name = optarg; break;
		case 'L': o.lean = 1; break;
		case 'M':
			o.memory_mib = strtoull(optarg, &end, 10);
			if (*end || !o.memory_mib)
				return ks_cli_usage(usage, "--memory takes a number of MiB");
			break;
		case 'Q':
			o.min_quality = (int)strtol(optarg, &end, 10);
			if (*end || o.min_quality < 0 || o.min_quality > 100)
				return ks_cli_usage(usage, "--min-quality takes 0 to 100");
			if (o.min_quality == 0)
				o.min_quality = -1; /* keep everything */
			break;
		case 'F': o.force = 1; break;
		case 'V': o.verify = 1; break;
		case 'j': o.json = 1; break;
		case 'P': o.preload = 1; break;
		case 'R':
			o.radius = (int)strtol(optarg, &end, 10);
			if (*end)
				return ks_cli_usage(usage, "--radius takes a number");
			break;
		case 'o': o.out = optarg; break;
		case 'S': o.set = optarg; break;
		case 'h': printf("usage: %s\n\n%s", usage, help); return EXIT_OK;
		default: return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind >= argc)
		return ks_cli_usage(usage, "hashset: expected import, build, info, lookup or export");
	const char *verb = argv[optind];
	int n = argc - optind;
	char **v = argv + optind;
	if (!strcmp(verb, "import"))
		return cmd_import(&o, n, v);
	if (!strcmp(verb, "build"))
		return cmd_build(&o, n, v);
	if (!strcmp(verb, "info"))
		return cmd_info(&o, n, v);
	if (!strcmp(verb, "lookup"))
		return cmd_lookup(&o, n, v);
	if (!strcmp(verb, "export"))
		return cmd_export(&o, n, v);
	return ks_cli_usage(usage, "hashset: unknown '%s' (import, build, info, lookup, export)",
			    verb);
}
