/* Building an index file with bounded memory: entries stream in (from importers or the
 * caller), their digest rows collect in per-table buffers that are sorted and spilled
 * to run files when full, entries needing more than a row are serialised once into a
 * record file, and finish merges the runs (dropping duplicates) straight into the new
 * file's sections, builds the PDQ substring tables, and renames the file into place.
 * Layout: hashdb_format.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashdb_format.h"
#include "index_int.h"

#define DEFAULT_MEMORY (1ull << 30)
#define MIN_BUF_ROWS 65536
#define RUN_READ_BUF (1u << 20)
#define MAX_ROWS 0xFFFFFFFFull
/* A new index this big leaves the page cache (finish): past the reach of the TLB on 4 KB
 * pages (1,500-3,000 entries: 6-12 MB) */
#define DROP_MIN (8 << 20)

static const unsigned row_size[T_COUNT] = {20, 24, 36, 36};
static const char *const table_name[T_COUNT] = {"MD5", "SHA-1", "SHA-256", "PDQ"};

struct run {
	char *path;
	uint64_t rows;
};

struct rowbuf {
	uint8_t *data;
	size_t n, cap, max; /* rows held, rows allocated, rows allowed before a spill */
	struct run *runs;
	size_t nruns, rcap;
	uint64_t total; /* rows added (before duplicates are dropped) */
};

struct bset {
	char *name, *format, *scheme, *role;
	struct ks_buf sources;
	int64_t imported;
	int ignorable;
	uint64_t entries, n[T_COUNT], lowq;
};

struct bclass {
	uint32_t set, scheme, category; /* string refs, HDB_NONE for NULL */
};

struct recslot {
	uint64_t fp1, fp2;
	uint32_t rec; /* + 1; 0 = empty */
};

struct ks_hashdb_builder {
	char *path;
	struct ks_hashdb_build_opts o;
	int failed, finished;
	struct bset *sets;
	size_t nsets, setcap;
	struct bclass *cls;
	size_t ncls, clscap;
	size_t set_first_class; /* classes of the current set start here */
	size_t last_class;
	struct ks_buf strings; /* NUL-terminated strings, refs are offsets */
	struct rowbuf rows[T_COUNT];
	FILE *recf;
	char *recpath;
	uint64_t nrec, recbytes;
	uint64_t *recoff; /* nrec + 1 offsets */
	uint32_t *recclass;
	size_t reccap;
	struct recslot *rmap;
	size_t rmapcap;
	struct ks_buf rec; /* the record being serialised */
};

/* ---- small helpers ---------------------------------------------------------------- */

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void fingerprint(const uint8_t *p, size_t n, uint64_t *a, uint64_t *b)
{
	uint64_t h1 = 0x243f6a8885a308d3ULL ^ n, h2 = 0x13198a2e03707344ULL + n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		h1 = mix64(h1 ^ v);
		h2 = (h2 ^ v) * 0x9e3779b97f4a7c15ULL + (h2 >> 29);
	}
	uint64_t t = 0;
	memcpy(&t, p + i, n - i);
	*a = mix64(h1 ^ t ^ 0x5851f42d4c957f2dULL);
	*b = mix64(h2 ^ t) ^ (h2 >> 17);
}

static char *tmp_name(const char *path, const char *what)
{
	char *copy = ks_xstrdup(path);
	char *base = basename(copy);
	char *dir_copy = ks_xstrdup(path);
	char *dir = dirname(dir_copy);
	char *t = ks_xasprintf("%s/.%s.%s.XXXXXX", dir, base, what);
	free(copy);
	free(dir_copy);
	return t;
}

/* Opens a fresh temporary file beside path (mkstemp) for writing and reading. */
static FILE *tmp_open(const char *path, const char *what, char **name, struct ks_err *err)
{
	char *t = tmp_name(path, what);
	int fd = mkstemp(t);
	if (fd < 0) {
		ks_err_set(err, KS_E_ENV, "cannot create a temporary file beside %s: %s", path,
			   strerror(errno));
		free(t);
		return NULL;
	}
	FILE *f = fdopen(fd, "w+b");
	if (!f) {
		close(fd);
		unlink(t);
		free(t);
		ks_err_set(err, KS_E_ENV, "fdopen: %s", strerror(errno));
		return NULL;
	}
	*name = t;
	return f;
}

static uint32_t str_ref(struct ks_hashdb_builder *b, const char *s)
{
	if (!s)
		return HDB_NONE;
	/* The pool holds set names, schemes and categories: few, so a scan is enough. */
	size_t n = strlen(s);
	for (size_t off = 0; off < b->strings.len;) {
		const char *p = (const char *)b->strings.data + off;
		size_t l = strlen(p);
		if (l == n && memcmp(p, s, n) == 0)
			return (uint32_t)off;
		off += l + 1;
	}
	uint32_t off = (uint32_t)b->strings.len;
	ks_buf_add(&b->strings, s, n + 1);
	return off;
}

/* ---- row buffers, sorting and runs -------------------------------------------------- */

static int cmp_rows(const void *x, const void *y, void *arg)
{
	return memcmp(x, y, *(const unsigned *)arg);
}

/* Sorts n rows of rsz bytes: a counting pass on the first two bytes into scratch,
 * then each bucket on its own (digests are near uniform, so buckets are small). */
static void sort_rows(uint8_t *rows, size_t n, unsigned rsz)
{
	if (n < 2)
		return;
	if (n < 4096) {
		qsort_r(rows, n, rsz, cmp_rows, &rsz);
		return;
	}
	size_t *count = ks_xcalloc(65537, sizeof *count);
	uint8_t *scratch = ks_xmalloc(n * rsz);
	for (size_t i = 0; i < n; i++)
		count[(size_t)rows[i * rsz] << 8 | rows[i * rsz + 1]]++;
	size_t sum = 0;
	for (size_t k = 0; k < 65536; k++) {
		size_t c = count[k];
		count[k] = sum;
		sum += c;
	}
	count[65536] = n;
	size_t *pos = ks_xmalloc(65536 * sizeof *pos);
	memcpy(pos, count, 65536 * sizeof *pos);
	for (size_t i = 0; i < n; i++) {
		size_t k = (size_t)rows[i * rsz] << 8 | rows[i * rsz + 1];
		memcpy(scratch + pos[k]++ * rsz, rows + i * rsz, rsz);
	}
	for (size_t k = 0; k < 65536; k++)
		if (count[k + 1] - count[k] > 1)
			qsort_r(scratch + count[k] * rsz, count[k + 1] - count[k], rsz, cmp_rows,
				&rsz);
	memcpy(rows, scratch, n * rsz);
	free(pos);
	free(scratch);
	free(count);
}

/* Sorts the buffer and drops adjacent duplicates; returns the rows left. */
static size_t sort_unique(uint8_t *rows, size_t n, unsigned rsz)
{
	sort_rows(rows, n, rsz);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && memcmp(rows + (w - 1) * rsz, rows + i * rsz, rsz) == 0)
			continue;
		if (w != i)
			memcpy(rows + w * rsz, rows + i * rsz, rsz);
		w++;
	}
	return w;
}

static int spill(struct ks_hashdb_builder *b, int t, struct ks_err *err)
{
	struct rowbuf *rb = &b->rows[t];
	unsigned rsz = row_size[t];
	if (!rb->n)
		return KS_OK;
	size_t n = sort_unique(rb->data, rb->n, rsz);
	char *name = NULL;
	FILE *f = tmp_open(b->path, "run", &name, err);
	if (!f)
		return err->status;
	int rc = KS_OK;
	if (fwrite(rb->data, rsz, n, f) != n || fflush(f) != 0)
		rc = ks_err_set(err, KS_E_ENV, "writing a sort run beside %s: %s", b->path,
				strerror(errno));
	fclose(f);
	if (rc < 0) {
		unlink(name);
		free(name);
		return rc;
	}
	if (rb->nruns == rb->rcap) {
		rb->rcap = rb->rcap ? rb->rcap * 2 : 8;
		rb->runs = ks_xrealloc(rb->runs, rb->rcap * sizeof *rb->runs);
	}
	rb->runs[rb->nruns++] = (struct run){name, n};
	rb->n = 0;
	return KS_OK;
}

static int add_row(struct ks_hashdb_builder *b, int t, const uint8_t *digest, uint32_t payload,
		   struct ks_err *err)
{
	struct rowbuf *rb = &b->rows[t];
	unsigned rsz = row_size[t], dlen = rsz - 4;
	if (rb->total >= MAX_ROWS)
		return ks_err_set(err, KS_E_LIMIT, "more than %llu %s rows in one index",
				  (unsigned long long)MAX_ROWS, table_name[t]);
	if (rb->n == rb->cap) {
		if (rb->cap >= rb->max) {
			int rc = spill(b, t, err);
			if (rc < 0)
				return rc;
		} else {
			size_t cap = rb->cap ? rb->cap * 2 : MIN_BUF_ROWS;
			if (cap > rb->max)
				cap = rb->max;
			rb->data = ks_xrealloc(rb->data, cap * rsz);
			rb->cap = cap;
		}
	}
	uint8_t *r = rb->data + rb->n * rsz;
	memcpy(r, digest, dlen);
	hdb_put32(r + dlen, payload);
	rb->n++;
	rb->total++;
	return KS_OK;
}

/* ---- sets, classes, records ---------------------------------------------------------- */

int ks_hashdb_builder_new(const char *path, const struct ks_hashdb_build_opts *o,
			  struct ks_hashdb_builder **out, struct ks_err *err)
{
	*out = NULL;
	if (!path || !*path)
		return ks_err_set(err, KS_E_USAGE, "no index file name");
	struct ks_hashdb_builder *b = ks_xcalloc(1, sizeof *b);
	b->path = ks_xstrdup(path);
	if (o)
		b->o = *o;
	if (!b->o.memory)
		b->o.memory = DEFAULT_MEMORY;
	if (b->o.memory < (16u << 20))
		b->o.memory = 16u << 20;
	if (b->o.min_quality == 0)
		b->o.min_quality = KS_PDQ_QUALITY_FLOOR;
	for (int t = 0; t < T_COUNT; t++) {
		/* four buffers plus the sort's scratch copy of one of them */
		size_t max = (size_t)(b->o.memory / 5 / row_size[t]);
		b->rows[t].max = max < MIN_BUF_ROWS ? MIN_BUF_ROWS : max;
	}
	b->recf = tmp_open(path, "records", &b->recpath, err);
	if (!b->recf) {
		ks_hashdb_builder_free(b);
		return err->status;
	}
	ks_buf_add(&b->strings, "", 1); /* ref 0: the empty string */
	*out = b;
	return KS_OK;
}

void ks_hashdb_builder_free(struct ks_hashdb_builder *b)
{
	if (!b)
		return;
	for (int t = 0; t < T_COUNT; t++) {
		for (size_t i = 0; i < b->rows[t].nruns; i++) {
			unlink(b->rows[t].runs[i].path);
			free(b->rows[t].runs[i].path);
		}
		free(b->rows[t].runs);
		free(b->rows[t].data);
	}
	if (b->recf)
		fclose(b->recf);
	if (b->recpath) {
		unlink(b->recpath);
		free(b->recpath);
	}
	for (size_t i = 0; i < b->nsets; i++) {
		free(b->sets[i].name);
		free(b->sets[i].format);
		free(b->sets[i].scheme);
		free(b->sets[i].role);
		ks_buf_release(&b->sets[i].sources);
	}
	free(b->sets);
	free(b->cls);
	free(b->recoff);
	free(b->recclass);
	free(b->rmap);
	ks_buf_release(&b->strings);
	ks_buf_release(&b->rec);
	free(b->path);
	free(b);
}

int ks_hashdb_builder_set(struct ks_hashdb_builder *b, const struct ks_hashdb_set *m,
			  struct ks_err *err)
{
	if (b->failed || b->finished)
		return ks_err_set(err, KS_E_USAGE, "the index build has already failed or ended");
	if (!m || !m->name || !*m->name)
		return ks_err_set(err, KS_E_USAGE, "a set needs a name");
	const char *role = m->role ? m->role : "alert";
	if (strcmp(role, "alert") != 0 && strcmp(role, "ignore") != 0)
		return ks_err_set(err, KS_E_USAGE, "role must be alert or ignore, not '%s'", role);
	for (size_t i = 0; i < b->nsets; i++)
		if (strcmp(b->sets[i].name, m->name) == 0)
			return ks_err_set(err, KS_E_USAGE, "two sets named '%s' in one index",
					  m->name);
	if (b->nsets == b->setcap) {
		b->setcap = b->setcap ? b->setcap * 2 : 8;
		b->sets = ks_xrealloc(b->sets, b->setcap * sizeof *b->sets);
	}
	struct bset *s = &b->sets[b->nsets++];
	memset(s, 0, sizeof *s);
	s->name = ks_xstrdup(m->name);
	s->format = m->format ? ks_xstrdup(m->format) : NULL;
	s->scheme = m->scheme ? ks_xstrdup(m->scheme) : NULL;
	s->role = ks_xstrdup(role);
	s->ignorable = strcmp(role, "ignore") == 0;
	s->imported = m->imported ? m->imported : ks_time_now();
	if (m->sources)
		ks_buf_adds(&s->sources, m->sources);
	b->set_first_class = b->ncls;
	return KS_OK;
}

static int same_str(const struct ks_hashdb_builder *b, uint32_t ref, const char *s)
{
	if (ref == HDB_NONE || !s)
		return ref == HDB_NONE && !s;
	return strcmp((const char *)b->strings.data + ref, s) == 0;
}

static uint32_t class_of(struct ks_hashdb_builder *b, const char *scheme, const char *category)
{
	uint32_t set = (uint32_t)(b->nsets - 1);
	/* entries of a set mostly share one class: try the last one first */
	if (b->ncls > b->set_first_class) {
		const struct bclass *c = &b->cls[b->last_class];
		if (b->last_class >= b->set_first_class && same_str(b, c->scheme, scheme) &&
		    same_str(b, c->category, category))
			return (uint32_t)b->last_class;
	}
	uint32_t sr = str_ref(b, scheme), cr = str_ref(b, category);
	for (size_t i = b->set_first_class; i < b->ncls; i++)
		if (b->cls[i].scheme == sr && b->cls[i].category == cr) {
			b->last_class = i;
			return (uint32_t)i;
		}
	if (b->ncls == b->clscap) {
		b->clscap = b->clscap ? b->clscap * 2 : 16;
		b->cls = ks_xrealloc(b->cls, b->clscap * sizeof *b->cls);
	}
	b->cls[b->ncls] = (struct bclass){set, sr, cr};
	b->last_class = b->ncls;
	return (uint32_t)b->ncls++;
}

static void rec_string(struct ks_buf *r, const char *s, size_t n)
{
	uint8_t len[4];
	hdb_put32(len, (uint32_t)n);
	ks_buf_add(r, len, 4);
	ks_buf_add(r, s, n);
	ks_buf_add(r, "", 1);
}

static void rmap_grow(struct ks_hashdb_builder *b)
{
	if (b->rmapcap && (b->nrec + 1) * 10 <= b->rmapcap * 7)
		return;
	size_t cap = b->rmapcap ? b->rmapcap * 2 : 4096;
	struct recslot *m = ks_xcalloc(cap, sizeof *m);
	for (size_t i = 0; i < b->rmapcap; i++) {
		if (!b->rmap[i].rec)
			continue;
		size_t j = b->rmap[i].fp1 & (cap - 1);
		while (m[j].rec)
			j = (j + 1) & (cap - 1);
		m[j] = b->rmap[i];
	}
	free(b->rmap);
	b->rmap = m;
	b->rmapcap = cap;
}

/* Stores the serialised record in b->rec once; *rec gets its number. Records are
 * told apart by a 128-bit fingerprint of their bytes. */
static int record_put(struct ks_hashdb_builder *b, uint32_t cls, uint32_t *rec, struct ks_err *err)
{
	uint64_t f1, f2;
	fingerprint(b->rec.data, b->rec.len, &f1, &f2);
	rmap_grow(b);
	size_t mask = b->rmapcap - 1, j = f1 & mask;
	for (; b->rmap[j].rec; j = (j + 1) & mask)
		if (b->rmap[j].fp1 == f1 && b->rmap[j].fp2 == f2) {
			*rec = b->rmap[j].rec - 1;
			return KS_OK;
		}
	if (b->nrec >= (HDB_REC_FLAG - 1))
		return ks_err_set(err, KS_E_LIMIT, "more than 2^31 entries with metadata");
	if (fwrite(b->rec.data, 1, b->rec.len, b->recf) != b->rec.len)
		return ks_err_set(err, KS_E_ENV, "writing records beside %s: %s", b->path,
				  strerror(errno));
	if (b->nrec + 2 > b->reccap) {
		b->reccap = b->reccap ? b->reccap * 2 : 1024;
		b->recoff = ks_xrealloc(b->recoff, b->reccap * sizeof *b->recoff);
		b->recclass = ks_xrealloc(b->recclass, b->reccap * sizeof *b->recclass);
	}
	b->recoff[b->nrec] = b->recbytes;
	b->recclass[b->nrec] = cls;
	b->recbytes += b->rec.len;
	*rec = (uint32_t)b->nrec;
	b->rmap[j] = (struct recslot){f1, f2, (uint32_t)b->nrec + 1};
	b->nrec++;
	b->sets[b->cls[cls].set].entries++;
	return KS_OK;
}

static size_t bounded_len(const char *s)
{
	return s ? strlen(s) : 0;
}

int ks_hashdb_builder_add(struct ks_hashdb_builder *b, const struct ks_hash_entry *e,
			  struct ks_err *err)
{
	if (b->failed || b->finished)
		return ks_err_set(err, KS_E_USAGE, "the index build has already failed or ended");
	if (!b->nsets)
		return ks_err_set(err, KS_E_USAGE, "no set started (ks_hashdb_builder_set)");
	struct bset *set = &b->sets[b->nsets - 1];
	unsigned has = e->has & (KS_HAS_MD5 | KS_HAS_SHA1 | KS_HAS_SHA256 | KS_HAS_PDQ);
	if ((has & KS_HAS_PDQ) && b->o.min_quality > 0 && e->pdq_quality >= 0 &&
	    e->pdq_quality < b->o.min_quality) {
		has &= ~(unsigned)KS_HAS_PDQ;
		set->lowq++;
	}
	if (!has)
		return KS_OK;
	uint32_t cls = class_of(b, e->scheme, e->category);
	int lean = b->o.lean;
	unsigned flags = 0;
	size_t ln = lean ? 0 : bounded_len(e->name), ls = lean ? 0 : bounded_len(e->series);
	size_t lp = bounded_len(e->photodna);
	if (!lean && e->size >= 0)
		flags |= REC_SIZE;
	if (!lean && e->distributed >= 0)
		flags |= REC_DIST;
	if (ln)
		flags |= REC_NAME;
	if (ls)
		flags |= REC_SERIES;
	if (lp)
		flags |= REC_PHOTODNA;
	if (ln > REC_MAX_STRING || ls > REC_MAX_STRING || lp > REC_MAX_STRING)
		return ks_err_set(err, KS_E_LIMIT, "an entry's text field is longer than %d bytes",
				  REC_MAX_STRING);
	int ndig = __builtin_popcount(has);
	uint32_t payload = cls;
	if (ndig > 1 || flags) {
		if ((has & KS_HAS_PDQ) && e->pdq_quality >= 0 && e->pdq_quality <= 100)
			flags |= REC_QUALITY;
		struct ks_buf *r = &b->rec;
		ks_buf_reset(r);
		uint8_t head[6];
		hdb_put32(head, cls);
		head[4] = (uint8_t)has;
		head[5] = (uint8_t)flags;
		ks_buf_add(r, head, 6);
		if (has & KS_HAS_MD5)
			ks_buf_add(r, e->md5, 16);
		if (has & KS_HAS_SHA1)
			ks_buf_add(r, e->sha1, 20);
		if (has & KS_HAS_SHA256)
			ks_buf_add(r, e->sha256, 32);
		if (has & KS_HAS_PDQ)
			ks_buf_add(r, e->pdq, 32);
		if (flags & REC_SIZE) {
			uint8_t v[8];
			hdb_put64(v, (uint64_t)e->size);
			ks_buf_add(r, v, 8);
		}
		if (flags & REC_DIST) {
			uint8_t v = e->distributed ? 1 : 0;
			ks_buf_add(r, &v, 1);
		}
		if (flags & REC_QUALITY) {
			uint8_t v = (uint8_t)e->pdq_quality;
			ks_buf_add(r, &v, 1);
		}
		if (flags & REC_NAME)
			rec_string(r, e->name, ln);
		if (flags & REC_SERIES)
			rec_string(r, e->series, ls);
		if (flags & REC_PHOTODNA)
			rec_string(r, e->photodna, lp);
		uint32_t rec = 0;
		int rc = record_put(b, cls, &rec, err);
		if (rc < 0)
			return rc;
		payload = HDB_REC_FLAG | rec;
	}
	const uint8_t *dig[T_COUNT] = {e->md5, e->sha1, e->sha256, e->pdq};
	static const unsigned bit[T_COUNT] = {KS_HAS_MD5, KS_HAS_SHA1, KS_HAS_SHA256, KS_HAS_PDQ};
	for (int t = 0; t < T_COUNT; t++) {
		if (!(has & bit[t]))
			continue;
		int rc = add_row(b, t, dig[t], payload, err);
		if (rc < 0)
			return rc;
	}
	return KS_OK;
}

/* ---- importing files ------------------------------------------------------------------ */

struct file_ctx {
	struct ks_hashdb_builder *b;
	struct ks_err *err;
	uint64_t n;
};

static int on_entry(void *vctx, const struct ks_hash_entry *e)
{
	struct file_ctx *c = vctx;
	c->n++;
	return ks_hashdb_builder_add(c->b, e, c->err);
}

static int file_sha256(const char *path, char out[65], struct ks_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ks_err_set(err, KS_E_ENV, "%s: cannot open: %s", path, strerror(errno));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	uint8_t *buf = ks_xmalloc(1 << 20);
	size_t n;
	while ((n = fread(buf, 1, 1 << 20, f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	uint8_t md[32];
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	free(buf);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return ks_err_set(err, KS_E_ENV, "%s: read error", path);
	ks_hex_encode(md, 32, out);
	return KS_OK;
}

int ks_hashdb_builder_add_file(struct ks_hashdb_builder *b, const char *path,
			       const struct ks_import_opts *o, uint64_t *entries,
			       struct ks_err *err)
{
	static const struct ks_import_opts none;
	struct ks_err local;
	if (!err)
		err = &local;
	ks_err_clear(err);
	if (!o)
		o = &none;
	if (entries)
		*entries = 0;
	if (b->failed || b->finished)
		return ks_err_set(err, KS_E_USAGE, "the index build has already failed or ended");
	if (!b->nsets)
		return ks_err_set(err, KS_E_USAGE, "no set started (ks_hashdb_builder_set)");
	const struct ks_importer_ops *ops = ks_importer_find(path, o->format, err);
	if (!ops)
		return err->status ? err->status : KS_E_USAGE;
	char sha[65];
	int rc = file_sha256(path, sha, err);
	if (rc < 0)
		return rc;
	struct file_ctx c = {b, err, 0};
	struct ks_import_opts io = *o;
	io.format = ops->name;
	ks_err_clear(err);
	rc = ops->run(path, &io, on_entry, &c, err);
	if (rc < 0) {
		b->failed = 1;
		ks_err_prefix(err, "%s (%s)", path, ops->name);
		return rc;
	}
	struct bset *s = &b->sets[b->nsets - 1];
	ks_buf_addf(&s->sources, "%s  %s\n", sha, path);
	if (!s->format) {
		s->format = ks_xstrdup(ops->name);
	} else if (!strstr(s->format, ops->name)) {
		char *f = ks_xasprintf("%s,%s", s->format, ops->name);
		free(s->format);
		s->format = f;
	}
	if (entries)
		*entries = c.n;
	return KS_OK;
}

/* ---- writing the file ------------------------------------------------------------------ */

struct section {
	uint32_t kind, arg;
	uint64_t off, size, count;
	uint8_t sha[32];
};

struct writer {
	FILE *f;
	char *tmp;
	uint64_t pos;
	struct section sec[HDB_MAX_SECTIONS];
	int nsec;
	EVP_MD_CTX *md;
	struct ks_err *err;
	int rc;
};

static void w_raw(struct writer *w, const void *p, size_t n)
{
	if (w->rc < 0 || !n)
		return;
	if (fwrite(p, 1, n, w->f) != n) {
		w->rc = ks_err_set(w->err, KS_E_ENV, "writing %s: %s", w->tmp, strerror(errno));
		return;
	}
	w->pos += n;
}

static void w_begin(struct writer *w, uint32_t kind, uint32_t arg)
{
	static const uint8_t zero[HDB_ALIGN];
	if (w->rc < 0)
		return;
	if (w->nsec == HDB_MAX_SECTIONS)
		abort(); /* the layout has a fixed, small number of sections */
	w_raw(w, zero, (HDB_ALIGN - w->pos % HDB_ALIGN) % HDB_ALIGN);
	struct section *s = &w->sec[w->nsec];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->arg = arg;
	s->off = w->pos;
	if (EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
		abort();
}

static void w_data(struct writer *w, const void *p, size_t n)
{
	if (w->rc < 0)
		return;
	EVP_DigestUpdate(w->md, p, n);
	w_raw(w, p, n);
}

static void w_end(struct writer *w, uint64_t count)
{
	if (w->rc < 0)
		return;
	struct section *s = &w->sec[w->nsec++];
	s->size = w->pos - s->off;
	s->count = count;
	EVP_DigestFinal_ex(w->md, s->sha, NULL);
}

/* k-way merge of a table's runs (and its buffer), duplicates dropped. */
struct reader {
	FILE *f;
	uint8_t *buf;
	size_t n, i; /* rows in buf, next row */
	const uint8_t *mem;
	size_t memn;
};

struct merge {
	struct reader *r;
	size_t nr;
	size_t *heap, nh;
	unsigned rsz;
	struct ks_err *err;
	int rc;
};

static const uint8_t *rd_cur(struct merge *m, size_t k)
{
	struct reader *r = &m->r[k];
	return r->mem ? r->mem + r->i * m->rsz : r->buf + r->i * m->rsz;
}

/* Moves reader k to its next row; 0 when it has none left. */
static int rd_next(struct merge *m, size_t k, int first)
{
	struct reader *r = &m->r[k];
	if (!first)
		r->i++;
	if (r->mem)
		return r->i < r->memn;
	if (r->i < r->n)
		return 1;
	size_t cap = RUN_READ_BUF / m->rsz;
	r->n = fread(r->buf, m->rsz, cap, r->f);
	r->i = 0;
	if (r->n == 0 && ferror(r->f)) {
		m->rc = ks_err_set(m->err, KS_E_ENV, "reading a sort run: %s", strerror(errno));
		return 0;
	}
	return r->n > 0;
}

static int heap_less(struct merge *m, size_t a, size_t b)
{
	return memcmp(rd_cur(m, m->heap[a]), rd_cur(m, m->heap[b]), m->rsz) < 0;
}

static void heap_down(struct merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < m->nh && heap_less(m, l, s))
			s = l;
		if (r < m->nh && heap_less(m, r, s))
			s = r;
		if (s == i)
			return;
		size_t t = m->heap[i];
		m->heap[i] = m->heap[s];
		m->heap[s] = t;
		i = s;
	}
}

typedef void (*row_fn)(void *ctx, const uint8_t *row);

/* Calls fn for each distinct row of table t in order. Returns 0 or a status. */
static int merge_table(struct ks_hashdb_builder *b, int t, row_fn fn, void *ctx, struct ks_err *err)
{
	struct rowbuf *rb = &b->rows[t];
	unsigned rsz = row_size[t];
	rb->n = sort_unique(rb->data, rb->n, rsz);
	struct merge m = {.rsz = rsz, .err = err};
	m.nr = rb->nruns + 1;
	m.r = ks_xcalloc(m.nr, sizeof *m.r);
	m.heap = ks_xmalloc(m.nr * sizeof *m.heap);
	int rc = KS_OK;
	for (size_t k = 0; k < rb->nruns; k++) {
		m.r[k].f = fopen(rb->runs[k].path, "rb");
		if (!m.r[k].f) {
			rc = ks_err_set(err, KS_E_ENV, "reopening a sort run: %s", strerror(errno));
			goto out;
		}
		m.r[k].buf = ks_xmalloc(RUN_READ_BUF);
	}
	m.r[rb->nruns].mem = rb->data;
	m.r[rb->nruns].memn = rb->n;
	for (size_t k = 0; k < m.nr; k++)
		if (rd_next(&m, k, 1))
			m.heap[m.nh++] = k;
	if (m.rc < 0) {
		rc = m.rc;
		goto out;
	}
	for (size_t i = m.nh; i-- > 0;)
		heap_down(&m, i);
	uint8_t *last = ks_xmalloc(rsz);
	int have_last = 0;
	while (m.nh) {
		size_t k = m.heap[0];
		const uint8_t *row = rd_cur(&m, k);
		if (!have_last || memcmp(last, row, rsz) != 0) {
			fn(ctx, row);
			memcpy(last, row, rsz);
			have_last = 1;
		}
		if (!rd_next(&m, k, 0)) {
			if (m.rc < 0)
				break;
			m.heap[0] = m.heap[--m.nh];
		}
		heap_down(&m, 0);
	}
	free(last);
	rc = m.rc;
out:
	for (size_t k = 0; k < m.nr; k++) {
		if (m.r[k].f)
			fclose(m.r[k].f);
		free(m.r[k].buf);
	}
	free(m.r);
	free(m.heap);
	return rc;
}

struct rows_out {
	struct ks_hashdb_builder *b;
	struct writer *w;
	int t;
	uint64_t homes; /* home slots */
	uint64_t slot;	/* the next free slot */
	uint64_t n;
};

static void count_row(struct rows_out *o, uint32_t payload)
{
	struct ks_hashdb_builder *b = o->b;
	uint32_t set;
	if (payload & HDB_REC_FLAG) {
		uint32_t rec = payload & ~HDB_REC_FLAG;
		set = b->cls[b->recclass[rec]].set;
	} else {
		set = b->cls[payload].set;
		b->sets[set].entries++; /* a row on its own is a whole entry */
	}
	b->sets[set].n[o->t]++;
}

static void row_out(void *ctx, const uint8_t *row)
{
	struct rows_out *o = ctx;
	unsigned dlen = row_size[o->t] - 4;
	uint32_t payload = hdb_le32(row + dlen);
	count_row(o, payload);
	/* the first free slot not before the row's home; the slots skipped are fillers
	 * holding its digest */
	uint64_t k0 = 0;
	for (int i = 0; i < 8; i++)
		k0 = k0 << 8 | row[i];
	uint64_t home = hdb_home(k0, o->homes);
	if (o->slot < home) {
		uint8_t fill[36];
		memcpy(fill, row, dlen);
		hdb_put32(fill + dlen, HDB_FILLER);
		for (; o->slot < home; o->slot++)
			w_data(o->w, fill, row_size[o->t]);
	}
	w_data(o->w, row, row_size[o->t]);
	o->slot++;
	o->n++;
}

/* A digest table (MD5, SHA-1, SHA-256): its rows and directory. */
static int write_table(struct ks_hashdb_builder *b, struct writer *w, int t, struct ks_err *err)
{
	struct rowbuf *rb = &b->rows[t];
	struct rows_out o = {.b = b, .w = w, .t = t};
	if (!rb->total)
		return KS_OK;
	o.homes = hdb_homes(rb->total); /* duplicates dropped below only lower the load */
	w_begin(w, SEC_ROWS, (uint32_t)t);
	int rc = merge_table(b, t, row_out, &o, err);
	w_end(w, o.slot);
	if (rc == KS_OK && w->rc < 0)
		rc = w->rc;
	if (rc == KS_OK) {
		uint8_t v[16];
		hdb_put64(v, o.homes);
		hdb_put64(v + 8, o.n);
		w_begin(w, SEC_DIR, (uint32_t)t);
		w_data(w, v, sizeof v);
		w_end(w, 2);
		rc = w->rc;
	}
	return rc;
}

/* Each of the n sorted hashes' key in table i, and where it goes there (bucket order,
 * inside a bucket the hashes' own), from the table's bucket bounds. */
static void table_places(const uint8_t *hashes, uint64_t n, const struct hdb_mih_shape *sh, int i,
			 const uint32_t *dir, uint32_t *key, uint32_t *pos)
{
	size_t nb = (size_t)1 << sh->len[i];
	uint32_t *next = ks_xmalloc(nb * sizeof *next);
	memcpy(next, dir, nb * sizeof *next);
	for (uint64_t e = 0; e < n; e++) {
		key[e] = hdb_bits(hashes + e * 32, sh->off[i], sh->len[i]);
		pos[e] = next[key[e]]++;
	}
	free(next);
}

static int cmp_exc(const void *a, const void *b)
{
	uint32_t x = hdb_le32(a), y = hdb_le32(b);
	return x < y ? -1 : x > y;
}

static void w_dir(struct writer *w, int i, const uint32_t *dir, size_t nb)
{
	w_begin(w, SEC_MIH_DIR, (uint32_t)i);
	for (size_t k = 0; k <= nb; k++) {
		uint8_t v[4];
		hdb_put32(v, dir[k]);
		w_data(w, v, 4);
	}
	w_end(w, nb + 1);
}

/* Bits a residue r needs: r zigzagged (0, -1, 1, -2, ... as 0, 1, 2, 3, ...) must stay
 * below all one bits, which mark an exception. */
static unsigned residue_bits(int64_t r)
{
	uint64_t z = hdb_zigzag(r) + 1;
	unsigned b = 1;
	while (b < 40 && z >> b)
		b++;
	return b;
}

/* The PDQ tables over the n sorted hashes at hashes (their payloads take pay_bytes):
 * per table its directory of bucket bounds by key, then bucket by bucket its rows' tags
 * (the 16 bits after the key) and links (to the hash's row in the next table), and the
 * links left to the exceptions. The hashes themselves are not written: the tables
 * spell them (hashdb_format.h). */
static int write_mih(struct writer *w, const uint8_t *hashes, uint64_t n, unsigned pay_bytes,
		     int m_want)
{
	struct hdb_mih_shape sh;
	hdb_mih_shape(n, m_want, pay_bytes, &sh);
	int m = sh.m;
	uint32_t *dir[MIH_MAX_TABLES] = {0};
	unsigned lw[MIH_MAX_TABLES];
	for (int i = 0; i < m; i++) {
		size_t nb = (size_t)1 << sh.len[i];
		dir[i] = ks_xcalloc(nb + 1, sizeof *dir[i]);
		for (uint64_t e = 0; e < n; e++)
			dir[i][hdb_bits(hashes + e * 32, sh.off[i], sh.len[i])]++;
		uint32_t sum = 0;
		for (size_t k = 0; k < nb; k++) {
			uint32_t c = dir[i][k];
			dir[i][k] = sum;
			sum += c;
		}
		dir[i][nb] = sum;
	}
	/* per hash: its row and key in table i and in table j = i + 1, its residue */
	uint32_t *cur = ks_xmalloc(n * sizeof *cur), *nxt = ks_xmalloc(n * sizeof *nxt);
	uint32_t *kcur = ks_xmalloc(n * sizeof *kcur), *knxt = ks_xmalloc(n * sizeof *knxt);
	int32_t *res = ks_xmalloc(n * sizeof *res);
	size_t rcap = 2 * (size_t)n + (size_t)((n * 32) >> 3) + ((size_t)1 << MIH_MAX_KEY_BITS) + 8;
	uint8_t *rbuf = ks_xmalloc(rcap);
	uint8_t *exc = NULL;
	size_t nexc = 0, cexc = 0;
	table_places(hashes, n, &sh, 0, dir[0], kcur, cur);
	for (uint64_t e = 0; e < n; e++)
		if (cur[e] != e)
			abort(); /* table 0 is the sorted hashes' own order: our bug */
	for (int i = 0; i < m && w->rc == KS_OK; i++) {
		int j = (i + 1) % m;
		table_places(hashes, n, &sh, j, dir[j], knxt, nxt);
		/* each link's residue from its predicted row; then the fewest bits leaving
		 * at most n / MIH_EXC_SHARE links to the exceptions */
		unsigned sub = hdb_link_sub_bits(sh.len[j]);
		uint64_t need[41] = {0};
		for (uint64_t e = 0; e < n; e++) {
			uint32_t p = cur[e], ki = kcur[e], kj = knxt[e];
			uint64_t pred = hdb_link_pred(i, p, dir[i][ki], dir[i][ki + 1], n,
						      dir[j][kj], dir[j][kj + 1]);
			int64_t r = (int64_t)nxt[e] - (int64_t)pred;
			res[e] = r < INT32_MIN ? INT32_MIN : r > INT32_MAX ? INT32_MAX : (int32_t)r;
			need[residue_bits(res[e])]++;
		}
		unsigned rb = 1;
		for (;;) {
			uint64_t over = 0;
			for (unsigned b = rb + 1; b <= 40; b++)
				over += need[b];
			if (over <= n / MIH_EXC_SHARE || sub + rb == 32)
				break;
			rb++;
		}
		unsigned wb = sub + rb;
		lw[i] = wb;
		uint32_t ones = wb == 32 ? 0xFFFFFFFFu : (1u << wb) - 1;
		size_t rsize =
		    2 * (size_t)n + (size_t)((n * wb) >> 3) + ((size_t)1 << sh.len[i]) + 8;
		memset(rbuf, 0, rsize);
		nexc = 0;
		for (uint64_t e = 0; e < n; e++) {
			uint32_t p = cur[e], nb, ki = kcur[e], lo = dir[i][ki], hi = dir[i][ki + 1];
			uint32_t tag =
			    hdb_bits(hashes + e * 32, sh.off[i] + sh.len[i], MIH_TAG_BITS);
			uint8_t *t = rbuf + (((uint64_t)wb * lo) >> 3) + ki + 2 * (size_t)p;
			t[0] = (uint8_t)tag;
			t[1] = (uint8_t)(tag >> 8);
			uint64_t g = knxt[e] - hdb_group(sh.len[j], tag, &nb);
			uint64_t v = g << rb | hdb_zigzag(res[e]);
			if (residue_bits(res[e]) > rb) {
				if (nexc == cexc) {
					cexc = cexc ? 2 * cexc : 1024;
					exc = ks_xrealloc(exc, cexc * 8);
				}
				hdb_put32(exc + 8 * nexc, p);
				hdb_put32(exc + 8 * nexc + 4, nxt[e]);
				nexc++;
				v = ones;
			}
			uint64_t bit = (uint64_t)p * wb, x = v << (bit & 7);
			uint8_t *l = rbuf + 2 * (size_t)hi + ki + (bit >> 3);
			for (unsigned b = 0; b < 5; b++)
				l[b] |= (uint8_t)(x >> (8 * b));
		}
		w_dir(w, i, dir[i], (size_t)1 << sh.len[i]);
		w_begin(w, SEC_MIH_ROWS, (uint32_t)i);
		w_data(w, rbuf, rsize);
		w_end(w, n);
		if (nexc) {
			qsort(exc, nexc, 8, cmp_exc);
			w_begin(w, SEC_MIH_EXC, (uint32_t)i);
			w_data(w, exc, nexc * 8);
			w_end(w, nexc);
		}
		uint32_t *t = cur;
		cur = nxt;
		nxt = t;
		t = kcur;
		kcur = knxt;
		knxt = t;
	}
	w_begin(w, SEC_MIH, 0);
	for (int i = 0; i < m; i++) {
		uint8_t v[8] = {0};
		v[0] = (uint8_t)sh.off[i];
		v[1] = (uint8_t)(sh.off[i] >> 8);
		v[2] = sh.len[i];
		v[3] = MIH_TAG_BITS;
		v[4] = (uint8_t)lw[i];
		w_data(w, v, 8);
	}
	w_end(w, (uint64_t)m);
	for (int i = 0; i < m; i++)
		free(dir[i]);
	free(cur);
	free(nxt);
	free(kcur);
	free(knxt);
	free(res);
	free(rbuf);
	free(exc);
	return w->rc;
}

/* The PDQ rows: merged into a temporary file of sorted hashes beside the output (the
 * payloads kept), from which the tables are built; only payloads and tables are
 * written. */
struct pdq_out {
	struct rows_out o;
	FILE *f;
	uint32_t *pay;
	int bad;
};

static void pdq_row_out(void *ctx, const uint8_t *row)
{
	struct pdq_out *p = ctx;
	uint32_t payload = hdb_le32(row + 32);
	count_row(&p->o, payload);
	if (fwrite(row, 1, 32, p->f) != 32)
		p->bad = 1;
	p->pay[p->o.n++] = payload;
}

static int write_pdq(struct ks_hashdb_builder *b, struct writer *w, struct ks_err *err)
{
	uint64_t total = b->rows[T_PDQ].total;
	if (!total)
		return KS_OK;
	char *tmp = NULL;
	FILE *f = tmp_open(b->path, "pdq", &tmp, err);
	if (!f)
		return err->status;
	struct pdq_out p = {.o = {.b = b, .t = T_PDQ}, .f = f};
	p.pay = ks_xmalloc(total * sizeof *p.pay);
	int rc = merge_table(b, T_PDQ, pdq_row_out, &p, err);
	uint64_t n = p.o.n;
	if (rc == KS_OK && (p.bad || fflush(f) != 0))
		rc = ks_err_set(err, KS_E_ENV, "writing %s: %s", tmp, strerror(errno));
	void *map = MAP_FAILED;
	if (rc == KS_OK && n) {
		map = mmap(NULL, n * 32, PROT_READ, MAP_SHARED, fileno(f), 0);
		if (map == MAP_FAILED)
			rc = ks_err_set(err, KS_E_ENV, "mapping %s: %s", tmp, strerror(errno));
	}
	if (rc == KS_OK && n) {
		uint32_t most = 0;
		for (uint64_t i = 0; i < n; i++)
			most |= p.pay[i];
		unsigned pw = most >> 24 ? 4 : most >> 16 ? 3 : most >> 8 ? 2 : 1;
		w_begin(w, SEC_PDQ_PAY, pw);
		uint8_t buf[4096];
		size_t used = 0;
		for (uint64_t i = 0; i < n; i++) {
			uint8_t v[4];
			hdb_put32(v, p.pay[i]);
			memcpy(buf + used, v, pw);
			used += pw;
			if (used > sizeof buf - 4 || i + 1 == n) {
				w_data(w, buf, used);
				used = 0;
			}
		}
		w_end(w, n);
		rc = write_mih(w, map, n, pw, b->o.mih_tables);
	}
	if (map != MAP_FAILED)
		munmap(map, n * 32);
	fclose(f);
	unlink(tmp);
	free(tmp);
	free(p.pay);
	return rc;
}

static int write_records(struct ks_hashdb_builder *b, struct writer *w, struct ks_err *err)
{
	if (!b->nrec)
		return KS_OK;
	b->recoff[b->nrec] = b->recbytes;
	w_begin(w, SEC_REC_OFF, 0);
	for (uint64_t i = 0; i <= b->nrec; i++) {
		uint8_t v[8];
		hdb_put64(v, b->recoff[i]);
		w_data(w, v, 8);
	}
	w_end(w, b->nrec);
	if (fflush(b->recf) != 0 || fseeko(b->recf, 0, SEEK_SET) != 0)
		return ks_err_set(err, KS_E_ENV, "records beside %s: %s", b->path, strerror(errno));
	w_begin(w, SEC_REC_DATA, 0);
	uint8_t *buf = ks_xmalloc(RUN_READ_BUF);
	uint64_t left = b->recbytes;
	while (left && w->rc == KS_OK) {
		size_t want = left < RUN_READ_BUF ? (size_t)left : RUN_READ_BUF;
		size_t got = fread(buf, 1, want, b->recf);
		if (got != want) {
			free(buf);
			return ks_err_set(err, KS_E_ENV, "reading records back: short read");
		}
		w_data(w, buf, got);
		left -= got;
	}
	free(buf);
	w_end(w, b->recbytes);
	return w->rc;
}

static void write_meta(struct ks_hashdb_builder *b, struct writer *w)
{
	/* every string the sets refer to must be in the pool before it is written */
	uint32_t *refs = ks_xcalloc(b->nsets * 5 + 1, sizeof *refs);
	for (size_t i = 0; i < b->nsets; i++) {
		struct bset *s = &b->sets[i];
		refs[i * 5] = str_ref(b, s->name);
		refs[i * 5 + 1] = str_ref(b, s->format);
		refs[i * 5 + 2] = str_ref(b, s->scheme);
		refs[i * 5 + 3] = str_ref(b, s->role);
		refs[i * 5 + 4] = str_ref(b, s->sources.len ? (char *)s->sources.data : "");
	}
	w_begin(w, SEC_STRINGS, 0);
	w_data(w, b->strings.data, b->strings.len);
	w_end(w, b->strings.len);

	w_begin(w, SEC_CLASSES, 0);
	for (size_t i = 0; i < b->ncls; i++) {
		uint8_t v[CLASS_SIZE] = {0};
		hdb_put32(v, b->cls[i].set);
		hdb_put32(v + 4, b->cls[i].scheme);
		hdb_put32(v + 8, b->cls[i].category);
		w_data(w, v, CLASS_SIZE);
	}
	w_end(w, b->ncls);

	w_begin(w, SEC_SETS, 0);
	for (size_t i = 0; i < b->nsets; i++) {
		struct bset *s = &b->sets[i];
		uint8_t v[SET_SIZE] = {0};
		hdb_put32(v + SET_NAME, refs[i * 5]);
		hdb_put32(v + SET_FORMAT, refs[i * 5 + 1]);
		hdb_put32(v + SET_SCHEME, refs[i * 5 + 2]);
		hdb_put32(v + SET_ROLE, refs[i * 5 + 3]);
		hdb_put32(v + SET_SOURCES, refs[i * 5 + 4]);
		hdb_put32(v + SET_FLAGS, s->ignorable ? 1 : 0);
		hdb_put64(v + SET_IMPORTED, (uint64_t)s->imported);
		hdb_put64(v + SET_ENTRIES, s->entries);
		for (int t = 0; t < T_COUNT; t++)
			hdb_put64(v + SET_N + 8 * t, s->n[t]);
		hdb_put64(v + SET_LOWQ, s->lowq);
		w_data(w, v, SET_SIZE);
	}
	w_end(w, b->nsets);
	free(refs);
}

int ks_hashdb_builder_finish(struct ks_hashdb_builder *b, struct ks_err *err)
{
	struct ks_err local;
	if (!err)
		err = &local;
	ks_err_clear(err);
	if (b->failed || b->finished)
		return ks_err_set(err, KS_E_USAGE, "the index build has already failed or ended");
	b->finished = 1;
	if (!b->nsets)
		return ks_err_set(err, KS_E_USAGE, "an index needs at least one set");
	struct writer w = {.err = err};
	int rc;
	w.f = tmp_open(b->path, "new", &w.tmp, err);
	if (!w.f)
		return err->status;
	w.md = EVP_MD_CTX_new();
	if (!w.md)
		abort();
	setvbuf(w.f, NULL, _IOFBF, 4u << 20);
	uint8_t header[HDB_HEADER_SIZE] = {0};
	w_raw(&w, header, sizeof header);
	for (int t = T_MD5; t <= T_SHA256 && w.rc == KS_OK; t++) {
		if ((rc = write_table(b, &w, t, err)) < 0)
			goto out;
	}
	if ((rc = write_pdq(b, &w, err)) < 0)
		goto out;
	if ((rc = write_records(b, &w, err)) < 0)
		goto out;
	write_meta(b, &w);
	char *meta = ks_xasprintf("kestrel=%s\nformat=%d\n",
#ifdef KS_VERSION
				  KS_VERSION,
#else
				  "0.1.0",
#endif
				  HDB_VERSION);
	w_begin(&w, SEC_META, 0);
	w_data(&w, meta, strlen(meta));
	w_end(&w, strlen(meta));
	free(meta);
	if ((rc = w.rc) < 0)
		goto out;

	/* section table, then the header at 0 */
	static const uint8_t zero[HDB_ALIGN];
	w_raw(&w, zero, (HDB_ALIGN - w.pos % HDB_ALIGN) % HDB_ALIGN);
	uint64_t table_off = w.pos;
	uint8_t *table = ks_xcalloc((size_t)w.nsec, HDB_SECTION_SIZE);
	for (int i = 0; i < w.nsec; i++) {
		uint8_t *e = table + (size_t)i * HDB_SECTION_SIZE;
		hdb_put32(e, w.sec[i].kind);
		hdb_put32(e + 4, w.sec[i].arg);
		hdb_put64(e + 8, w.sec[i].off);
		hdb_put64(e + 16, w.sec[i].size);
		hdb_put64(e + 24, w.sec[i].count);
		memcpy(e + 32, w.sec[i].sha, 32);
	}
	w_raw(&w, table, (size_t)w.nsec * HDB_SECTION_SIZE);
	memcpy(header + HDR_MAGIC, HDB_MAGIC, 8);
	hdb_put32(header + HDR_VERSION, HDB_VERSION);
	hdb_put32(header + HDR_HSIZE, HDB_HEADER_SIZE);
	hdb_put64(header + HDR_FILESIZE, w.pos);
	hdb_put64(header + HDR_CREATED, (uint64_t)ks_time_now());
	hdb_put32(header + HDR_NSECT, (uint32_t)w.nsec);
	hdb_put64(header + HDR_TABLE_OFF, table_off);
	unsigned mdlen;
	EVP_Digest(table, (size_t)w.nsec * HDB_SECTION_SIZE, header + HDR_TABLE_SHA, &mdlen,
		   EVP_sha256(), NULL);
	EVP_Digest(header, HDR_SHA, header + HDR_SHA, &mdlen, EVP_sha256(), NULL);
	free(table);
	if ((rc = w.rc) < 0)
		goto out;
	if (fflush(w.f) != 0 || pwrite(fileno(w.f), header, sizeof header, 0) != sizeof header ||
	    fsync(fileno(w.f)) != 0) {
		rc = ks_err_set(err, KS_E_ENV, "writing %s: %s", w.tmp, strerror(errno));
		goto out;
	}
	/* The pages just written sit in the page cache in whatever pieces the writes left
	 * (4 KB ones, often): a map of them costs a page walk per random lookup. Dropped
	 * now that they are on disk, they are read back on first use 2 MB at a time where
	 * the file system allows (map_huge in hashdb_open.c): 1.4x the lookups/s of a
	 * big index. Small files gain nothing and are left cached. */
	struct stat st;
	if (fstat(fileno(w.f), &st) == 0 && st.st_size >= DROP_MIN)
		posix_fadvise(fileno(w.f), 0, 0, POSIX_FADV_DONTNEED);
	if (fchmod(fileno(w.f), 0644) != 0 || fclose(w.f) != 0) {
		w.f = NULL;
		rc = ks_err_set(err, KS_E_ENV, "closing %s: %s", w.tmp, strerror(errno));
		goto out;
	}
	w.f = NULL;
	if (rename(w.tmp, b->path) != 0) {
		rc = ks_err_set(err, KS_E_ENV, "renaming %s to %s: %s", w.tmp, b->path,
				strerror(errno));
		goto out;
	}
	free(w.tmp);
	w.tmp = NULL;
	rc = KS_OK;
out:
	if (w.f)
		fclose(w.f);
	if (w.tmp) {
		unlink(w.tmp);
		free(w.tmp);
	}
	EVP_MD_CTX_free(w.md);
	return rc;
}
