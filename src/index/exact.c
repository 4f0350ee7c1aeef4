/* The in-memory exact index: which hash-set entries hold a given MD5, SHA-1 or SHA-256.
 * Three open-addressing tables (one per digest kind) map a digest to entry numbers;
 * an entry is 4 bytes (its class and which digests it has), a class being the interned
 * (set, role, scheme, category) that many entries share. Built single-threaded, then
 * read by any number of threads without locks (lookups never write). An index file
 * (ks_hashdb) may be attached: lookups then consult it too, behind the same calls. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/index.h"

#define HAS_SHIFT 29
#define CLS_MASK ((1u << HAS_SHIFT) - 1)
#define MAX_ENTRIES 0xFFFFFFFEu

enum { T_MD5, T_SHA1, T_SHA256 };

/* Slots are the digest followed by a uint32 entry number + 1 (0 = empty). */
struct dtable {
	uint8_t *slots;
	size_t cap, count; /* cap is 0 or a power of two */
	size_t klen, ssz;
};

struct cls {
	int64_t set_id;
	const char *scheme, *category; /* interned */
	int ignorable;
};

/* A set of indices into an array, hashed by a caller-computed hash (for interning). */
struct imap {
	uint32_t *slot; /* index + 1, 0 = empty */
	size_t cap, n;
};

struct ks_index {
	struct dtable t[3];
	uint32_t *ents;
	size_t nents, ecap;
	struct cls *cls;
	size_t ncls, ccap;
	struct imap cls_map;
	char **strs;
	size_t nstrs, scap;
	struct imap str_map;
	struct attached {
		const struct ks_hashdb *db;
		int64_t *sets; /* store set id of each of the file's sets */
		size_t nsets;
	} att[KS_INDEX_MAX_FILES]; /* attached index files */
	int natt;
};

static const char *const how_names[3] = {"md5", "sha1", "sha256"};

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t digest_hash(const uint8_t *k, size_t klen)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL * klen;
	size_t i = 0;
	for (; i + 8 <= klen; i += 8)
		h = (h ^ load64(k + i)) * 0x9e3779b97f4a7c15ULL;
	if (i < klen) {
		uint32_t t;
		memcpy(&t, k + i, 4); /* SHA-1: the last 4 of 20 bytes */
		h ^= t;
	}
	return fmix(h);
}

static uint32_t slot_ref(const struct dtable *t, size_t i)
{
	uint32_t r;
	memcpy(&r, t->slots + i * t->ssz + t->klen, 4);
	return r;
}

static void dtable_put(struct dtable *t, const uint8_t *key, uint32_t ref)
{
	size_t mask = t->cap - 1, i = digest_hash(key, t->klen) & mask;
	while (slot_ref(t, i))
		i = (i + 1) & mask;
	memcpy(t->slots + i * t->ssz, key, t->klen);
	memcpy(t->slots + i * t->ssz + t->klen, &ref, 4);
	t->count++;
}

static void dtable_grow(struct dtable *t)
{
	if (t->cap && (t->count + 1) * 10 <= t->cap * 7)
		return;
	struct dtable old = *t;
	t->cap = old.cap ? old.cap * 2 : 1024;
	t->count = 0;
	t->slots = ks_xcalloc(t->cap, t->ssz);
	for (size_t i = 0; i < old.cap; i++) {
		uint32_t r = slot_ref(&old, i);
		if (r)
			dtable_put(t, old.slots + i * old.ssz, r);
	}
	free(old.slots);
}

/* Calls found(ctx, entry) for each entry whose digest equals key; stops early when
 * found returns nonzero and returns that value. */
static int dtable_each(const struct dtable *t, const uint8_t *key,
		       int (*found)(void *ctx, uint32_t ent), void *ctx)
{
	if (!t->cap)
		return 0;
	size_t mask = t->cap - 1, i = digest_hash(key, t->klen) & mask;
	for (;;) {
		uint32_t r = slot_ref(t, i);
		if (!r)
			return 0;
		if (memcmp(t->slots + i * t->ssz, key, t->klen) == 0) {
			int rc = found(ctx, r - 1);
			if (rc)
				return rc;
		}
		i = (i + 1) & mask;
	}
}

/* ---- interning -------------------------------------------------------------------- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static void imap_grow(struct imap *m, uint64_t (*hash)(const struct ks_index *, uint32_t),
		      const struct ks_index *idx)
{
	if (m->cap && (m->n + 1) * 2 <= m->cap)
		return;
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint32_t *slot = ks_xcalloc(cap, sizeof *slot);
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slot[i])
			continue;
		size_t j = hash(idx, m->slot[i] - 1) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = m->slot[i];
	}
	free(m->slot);
	m->slot = slot;
	m->cap = cap;
}

static uint64_t str_hash_at(const struct ks_index *idx, uint32_t i)
{
	return str_hash(idx->strs[i]);
}

static const char *intern(struct ks_index *idx, const char *s)
{
	if (!s)
		return NULL;
	imap_grow(&idx->str_map, str_hash_at, idx);
	size_t mask = idx->str_map.cap - 1, j = str_hash(s) & mask;
	for (; idx->str_map.slot[j]; j = (j + 1) & mask)
		if (strcmp(idx->strs[idx->str_map.slot[j] - 1], s) == 0)
			return idx->strs[idx->str_map.slot[j] - 1];
	if (idx->nstrs == idx->scap) {
		idx->scap = idx->scap ? idx->scap * 2 : 16;
		idx->strs = ks_xrealloc(idx->strs, idx->scap * sizeof *idx->strs);
	}
	idx->strs[idx->nstrs] = ks_xstrdup(s);
	idx->str_map.slot[j] = (uint32_t)++idx->nstrs;
	idx->str_map.n++;
	return idx->strs[idx->nstrs - 1];
}

static uint64_t cls_hash(const struct cls *c)
{
	uint64_t h = fmix((uint64_t)c->set_id ^ 0x51ed27a3ULL * (uint64_t)(c->ignorable + 1));
	h = fmix(h ^ (uint64_t)(uintptr_t)c->scheme);
	return fmix(h ^ (uint64_t)(uintptr_t)c->category);
}

static uint64_t cls_hash_at(const struct ks_index *idx, uint32_t i)
{
	return cls_hash(&idx->cls[i]);
}

static uint32_t class_of(struct ks_index *idx, const struct cls *c)
{
	imap_grow(&idx->cls_map, cls_hash_at, idx);
	size_t mask = idx->cls_map.cap - 1, j = cls_hash(c) & mask;
	for (; idx->cls_map.slot[j]; j = (j + 1) & mask) {
		const struct cls *o = &idx->cls[idx->cls_map.slot[j] - 1];
		if (o->set_id == c->set_id && o->ignorable == c->ignorable &&
		    o->scheme == c->scheme && o->category == c->category)
			return idx->cls_map.slot[j] - 1;
	}
	if (idx->ncls == CLS_MASK)
		abort(); /* 2^29 distinct (set, category) pairs: not a real hash-set library */
	if (idx->ncls == idx->ccap) {
		idx->ccap = idx->ccap ? idx->ccap * 2 : 16;
		idx->cls = ks_xrealloc(idx->cls, idx->ccap * sizeof *idx->cls);
	}
	idx->cls[idx->ncls] = *c;
	idx->cls_map.slot[j] = (uint32_t)++idx->ncls;
	idx->cls_map.n++;
	return (uint32_t)idx->ncls - 1;
}

/* ---- public ------------------------------------------------------------------------ */

struct ks_index *ks_index_new(void)
{
	struct ks_index *idx = ks_xcalloc(1, sizeof *idx);
	idx->t[T_MD5].klen = 16;
	idx->t[T_SHA1].klen = 20;
	idx->t[T_SHA256].klen = 32;
	for (int i = 0; i < 3; i++)
		idx->t[i].ssz = idx->t[i].klen + 4;
	return idx;
}

void ks_index_free(struct ks_index *idx)
{
	if (!idx)
		return;
	for (int i = 0; i < 3; i++)
		free(idx->t[i].slots);
	free(idx->ents);
	free(idx->cls);
	free(idx->cls_map.slot);
	for (size_t i = 0; i < idx->nstrs; i++)
		free(idx->strs[i]);
	free(idx->strs);
	free(idx->str_map.slot);
	for (int i = 0; i < idx->natt; i++)
		free(idx->att[i].sets);
	free(idx);
}

static const uint8_t *entry_digest(const struct ks_hash_entry *e, int t)
{
	return t == T_MD5 ? e->md5 : t == T_SHA1 ? e->sha1 : e->sha256;
}

static unsigned has_bit(int t)
{
	return t == T_MD5 ? KS_HAS_MD5 : t == T_SHA1 ? KS_HAS_SHA1 : KS_HAS_SHA256;
}

struct dup_probe {
	const struct ks_index *idx;
	const struct ks_hash_entry *e;
	uint32_t word; /* class | has of the new entry */
	int primary;
	uint32_t want; /* for is_ent */
};

static int is_ent(void *ctx, uint32_t ent)
{
	return ent == ((struct dup_probe *)ctx)->want;
}

/* An existing entry with the same class and exactly the same digests? */
static int same_entry(void *ctx, uint32_t ent)
{
	struct dup_probe *d = ctx;
	if (d->idx->ents[ent] != d->word)
		return 0;
	for (int t = 0; t < 3; t++) {
		if (t == d->primary || !(d->e->has & has_bit(t)))
			continue;
		d->want = ent;
		if (!dtable_each(&d->idx->t[t], entry_digest(d->e, t), is_ent, d))
			return 0;
	}
	return 1;
}

void ks_index_add(struct ks_index *idx, int64_t set_id, int ignorable,
		  const struct ks_hash_entry *e)
{
	unsigned has = e->has & (KS_HAS_MD5 | KS_HAS_SHA1 | KS_HAS_SHA256);
	if (!has)
		return;
	struct cls c = {.set_id = set_id,
			.ignorable = ignorable ? 1 : 0,
			.scheme = intern(idx, e->scheme),
			.category = intern(idx, e->category)};
	uint32_t word = class_of(idx, &c) | (uint32_t)has << HAS_SHIFT;
	int primary = has & KS_HAS_SHA256 ? T_SHA256 : has & KS_HAS_SHA1 ? T_SHA1 : T_MD5;
	struct dup_probe d = {.idx = idx, .e = e, .word = word, .primary = primary};
	if (dtable_each(&idx->t[primary], entry_digest(e, primary), same_entry, &d))
		return; /* the same entry again (e.g. one NSRL hash in many packages) */
	if (idx->nents == MAX_ENTRIES)
		abort(); /* beyond the in-memory index: the mmap index's job */
	if (idx->nents == idx->ecap) {
		idx->ecap = idx->ecap ? idx->ecap * 2 : 1024;
		idx->ents = ks_xrealloc(idx->ents, idx->ecap * sizeof *idx->ents);
	}
	uint32_t ent = (uint32_t)idx->nents++;
	idx->ents[ent] = word;
	for (int t = 0; t < 3; t++) {
		if (!(has & has_bit(t)))
			continue;
		dtable_grow(&idx->t[t]);
		dtable_put(&idx->t[t], entry_digest(e, t), ent + 1);
	}
}

struct found {
	uint32_t ent;
	int how; /* T_* of the digest that matched */
};

struct collect {
	struct found *v;
	size_t n, cap;
	struct found stackbuf[32];
	int how;
};

static int collect_one(void *ctx, uint32_t ent)
{
	struct collect *c = ctx;
	if (c->n == c->cap) {
		size_t cap = c->cap * 2;
		struct found *v = ks_xmalloc(cap * sizeof *v);
		memcpy(v, c->v, c->n * sizeof *v);
		if (c->v != c->stackbuf)
			free(c->v);
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].ent = ent;
	c->v[c->n].how = c->how;
	c->n++;
	return 0;
}

static int by_entry_then_strength(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	if (x->ent != y->ent)
		return x->ent < y->ent ? -1 : 1;
	return y->how - x->how;
}

/* ---- the attached index file ------------------------------------------------------- */

int ks_index_attach(struct ks_index *idx, const struct ks_hashdb *db, const int64_t *set_ids)
{
	if (idx->natt == KS_INDEX_MAX_FILES)
		return KS_E_LIMIT;
	struct ks_hashdb_info in;
	ks_hashdb_get_info(db, &in);
	struct attached *a = &idx->att[idx->natt++];
	a->db = db;
	a->nsets = in.nsets;
	a->sets = ks_xmalloc((in.nsets ? in.nsets : 1) * sizeof *a->sets);
	memcpy(a->sets, set_ids, in.nsets * sizeof *a->sets);
	return KS_OK;
}

struct db_found {
	struct ks_hashdb_hit h;
	int how;
};

struct db_collect {
	struct db_found v[64];
	size_t n;
	int how;
	const struct attached *a;
	ks_hit_fn fn;
	void *ctx;
	int hits;
};

static void db_report(struct db_collect *c, const struct ks_hashdb_hit *h, int how)
{
	if (h->set >= c->a->nsets)
		return;
	struct ks_index_hit out = {.set_id = c->a->sets[h->set],
				   .ignorable = h->ignorable,
				   .how = how < 0 ? "pdq" : how_names[how],
				   .scheme = h->scheme,
				   .category = h->category,
				   .distance = h->distance,
				   .matched = how < 0 ? h->hash : NULL};
	struct ks_hash_entry e;
	if (how < 0 && ks_hashdb_entry(c->a->db, h, &e) == KS_OK)
		out.name = e.name;
	c->hits++;
	if (c->fn)
		c->fn(c->ctx, &out);
}

/* Keeps one hit per entry (the strongest digest: SHA-256 tables are asked first). */
static void db_collect_one(void *ctx, const struct ks_hashdb_hit *h)
{
	struct db_collect *c = ctx;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].h.ref == h->ref)
			return;
	if (c->n == sizeof c->v / sizeof c->v[0]) {
		db_report(c, h, c->how); /* beyond the dedupe window: report as it comes */
		return;
	}
	c->v[c->n].h = *h;
	c->v[c->n].how = c->how;
	c->n++;
}

static int db_lookup(const struct attached *a, const uint8_t *keys[3], ks_hit_fn fn, void *ctx)
{
	struct db_collect c = {.a = a, .fn = fn, .ctx = ctx};
	static const unsigned kind[3] = {KS_HAS_MD5, KS_HAS_SHA1, KS_HAS_SHA256};
	for (int t = T_SHA256; t >= T_MD5; t--) {
		if (!keys[t])
			continue;
		c.how = t;
		ks_hashdb_lookup(a->db, kind[t], keys[t], db_collect_one, &c);
	}
	for (size_t i = 0; i < c.n; i++)
		db_report(&c, &c.v[i].h, c.v[i].how);
	return c.hits;
}

static void db_near_one(void *ctx, const struct ks_hashdb_hit *h)
{
	db_report(ctx, h, -1);
}

int ks_index_lookup_pdq(const struct ks_index *idx, const uint8_t pdq[32], int radius,
			ks_hit_fn fn, void *ctx)
{
	if (!idx || !pdq)
		return 0;
	int hits = 0;
	for (int i = 0; i < idx->natt; i++) {
		struct db_collect c = {.a = &idx->att[i], .fn = fn, .ctx = ctx};
		ks_hashdb_near(idx->att[i].db, pdq, radius, db_near_one, &c);
		hits += c.hits;
	}
	return hits;
}

int ks_index_lookup(const struct ks_index *idx, const uint8_t md5[16], const uint8_t sha1[20],
		    const uint8_t sha256[32], ks_hit_fn fn, void *ctx)
{
	if (!idx)
		return 0;
	struct collect c = {.n = 0};
	c.v = c.stackbuf;
	c.cap = sizeof c.stackbuf / sizeof c.stackbuf[0];
	const uint8_t *keys[3] = {md5, sha1, sha256};
	for (int t = T_SHA256; t >= T_MD5; t--) {
		if (!keys[t])
			continue;
		c.how = t;
		dtable_each(&idx->t[t], keys[t], collect_one, &c);
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof *c.v, by_entry_then_strength);
	int hits = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (i && c.v[i].ent == c.v[i - 1].ent)
			continue; /* a weaker digest of an entry already reported */
		const struct cls *k = &idx->cls[idx->ents[c.v[i].ent] & CLS_MASK];
		struct ks_index_hit h = {.set_id = k->set_id,
					 .ignorable = k->ignorable,
					 .how = how_names[c.v[i].how],
					 .scheme = k->scheme,
					 .category = k->category};
		hits++;
		if (fn)
			fn(ctx, &h);
	}
	if (c.v != c.stackbuf)
		free(c.v);
	for (int i = 0; i < idx->natt; i++)
		hits += db_lookup(&idx->att[i], keys, fn, ctx);
	return hits;
}

size_t ks_index_count(const struct ks_index *idx)
{
	if (!idx)
		return 0;
	size_t n = idx->nents;
	for (int i = 0; i < idx->natt; i++) {
		struct ks_hashdb_info in;
		ks_hashdb_get_info(idx->att[i].db, &in);
		n += (size_t)in.entries;
	}
	return n;
}

size_t ks_index_memory(const struct ks_index *idx)
{
	if (!idx)
		return 0;
	size_t n = sizeof *idx + idx->ecap * sizeof *idx->ents + idx->ccap * sizeof *idx->cls +
		   (idx->cls_map.cap + idx->str_map.cap) * sizeof(uint32_t) +
		   idx->scap * sizeof(char *);
	for (int i = 0; i < 3; i++)
		n += idx->t[i].cap * idx->t[i].ssz;
	for (size_t i = 0; i < idx->nstrs; i++)
		n += strlen(idx->strs[i]) + 1;
	return n;
}
