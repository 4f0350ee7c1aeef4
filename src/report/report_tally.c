/* The figures of the report, computed once from the store so that every format says
 * the same: per exhibit and in total, for each category, the DISTINCT still and
 * moving images (a media found in 40 places counts once per exhibit and once in the
 * total), split by where they were found, plus known-good matches and the sources. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "kestrel/store_review.h"
#include "report_impl.h"

const char *const ks_tally_loc_name[KS_LOC_COUNT] = {"live", "deleted", "carved", "cache",
						     "in_container"};
const char *const ks_tally_loc_title[KS_LOC_COUNT] = {"Live", "Deleted", "Carved", "Cache",
						      "In container"};
const char *const ks_tally_kind_name[KS_TALLY_KINDS] = {"pictures", "videos"};
const char *const ks_tally_kind_title[KS_TALLY_KINDS] = {"Still images", "Moving images"};

/* One picture/video occurrence, reduced to what the counts need. */
struct rec {
	int64_t media; /* media id, or -file id for an occurrence that was never hashed */
	uint32_t ex;   /* exhibit index (order of first sight) */
	uint16_t table, cat;
	uint8_t kind, loc, known_good;
	uint8_t grade; /* enum ks_grade_state of the media */
};

/* A figures table under construction: its rows, growable for codes the scheme lacks. */
struct table_def {
	char *scheme, *title;
	int ncats;
	char **codes, **labels; /* code NULL: the Uncategorised row */
	int used;               /* some media counted in it */
};

struct build {
	struct ks_tally *t;
	struct rec *recs;
	size_t nrecs, cap;
	char **ex_names;
	size_t nex, excap;
	size_t last_ex;
	struct table_def *tables;
	int ntables;
	/* running per-exhibit figures (indexed by ex) that need no dedup */
	struct ks_tally_scope *ex_plain;
	size_t plaincap;
};

int ks_tally_loc_of(const struct ks_file_row *r)
{
	if (r->in_container)
		return KS_LOC_CONTAINER;
	switch (r->state) {
	case KS_STATE_LIVE: return KS_LOC_LIVE;
	case KS_STATE_DELETED: return KS_LOC_DELETED;
	case KS_STATE_CARVED: return KS_LOC_CARVED;
	case KS_STATE_CACHE: return KS_LOC_CACHE;
	}
	return -1;
}

static int table_add(struct build *b, const char *scheme)
{
	b->tables = ks_xrealloc(b->tables, (size_t)(b->ntables + 1) * sizeof *b->tables);
	struct table_def *d = &b->tables[b->ntables];
	memset(d, 0, sizeof *d);
	d->scheme = ks_xstrdup(scheme);
	const struct ks_scheme *s = ks_scheme_find(scheme);
	d->title = ks_xstrdup(s ? s->title : scheme);
	int n = s ? s->ncats : 0;
	d->codes = ks_xcalloc((size_t)n + 1, sizeof *d->codes);
	d->labels = ks_xcalloc((size_t)n + 1, sizeof *d->labels);
	for (int i = 0; i < n; i++) {
		d->codes[i] = ks_xstrdup(s->cats[i].code);
		d->labels[i] = ks_xstrdup(s->cats[i].label);
	}
	d->ncats = n;
	return b->ntables++;
}

static int table_find(struct build *b, const char *scheme)
{
	for (int i = 0; i < b->ntables; i++)
		if (strcmp(b->tables[i].scheme, scheme) == 0)
			return i;
	return table_add(b, scheme);
}

/* Row of code in table ti; unknown codes get a row of their own (never lost). */
static int cat_find(struct build *b, int ti, const char *code)
{
	struct table_def *d = &b->tables[ti];
	for (int i = 0; i < d->ncats; i++)
		if ((!code && !d->codes[i]) || (code && d->codes[i] && strcmp(d->codes[i], code) == 0))
			return i;
	d->codes = ks_xrealloc(d->codes, (size_t)(d->ncats + 1) * sizeof *d->codes);
	d->labels = ks_xrealloc(d->labels, (size_t)(d->ncats + 1) * sizeof *d->labels);
	d->codes[d->ncats] = code ? ks_xstrdup(code) : NULL;
	d->labels[d->ncats] = ks_xstrdup(code ? code : "Uncategorised");
	return d->ncats++;
}

static size_t exhibit_index(struct build *b, const char *ref)
{
	if (b->nex && strcmp(b->ex_names[b->last_ex], ref) == 0)
		return b->last_ex;
	for (size_t i = 0; i < b->nex; i++)
		if (strcmp(b->ex_names[i], ref) == 0)
			return b->last_ex = i;
	if (b->nex == b->excap) {
		b->excap = b->excap ? b->excap * 2 : 8;
		b->ex_names = ks_xrealloc(b->ex_names, b->excap * sizeof *b->ex_names);
		b->ex_plain = ks_xrealloc(b->ex_plain, b->excap * sizeof *b->ex_plain);
	}
	b->ex_names[b->nex] = ks_xstrdup(ref);
	memset(&b->ex_plain[b->nex], 0, sizeof b->ex_plain[b->nex]);
	return b->last_ex = b->nex++;
}

static const char *verify_text(const struct ks_tally_source *s, int *ok)
{
	*ok = 0;
	int before = *s->md5_before || *s->sha1_before, after = *s->md5_after || *s->sha1_after;
	if (!before && !after)
		return "no: not hashed";
	if (!after)
		return "no: not hashed after the scan";
	if (!before)
		return "no: not hashed before the scan";
	if (strcmp(s->md5_before, s->md5_after) != 0 || strcmp(s->sha1_before, s->sha1_after) != 0)
		return "NO: hashes before and after differ";
	*ok = 1;
	return "yes";
}

static int on_source(void *ctx, const struct ks_source_row *r)
{
	struct build *b = ctx;
	struct ks_tally *t = b->t;
	t->sources = ks_xrealloc(t->sources, (t->nsources + 1) * sizeof *t->sources);
	struct ks_tally_source *s = &t->sources[t->nsources++];
	s->exhibit = ks_xstrdup(r->exhibit);
	s->path = ks_xstrdup(r->path);
	s->kind = ks_xstrdup(r->kind);
	s->status = ks_xstrdup(r->status);
	s->size = r->size;
	s->md5_before = ks_xstrdup(r->md5_before);
	s->sha1_before = ks_xstrdup(r->sha1_before);
	s->md5_after = ks_xstrdup(r->md5_after);
	s->sha1_after = ks_xstrdup(r->sha1_after);
	s->verify = verify_text(s, &s->verified);
	exhibit_index(b, r->exhibit);
	return 0;
}

static int on_file(void *ctx, const struct ks_file_row *r)
{
	struct build *b = ctx;
	size_t ex = exhibit_index(b, r->exhibit);
	struct ks_tally_scope *p = &b->ex_plain[ex];
	p->files++;
	if (r->error && *r->error)
		p->errors++;
	if (r->kind == KS_KIND_ARCHIVE || r->kind == KS_KIND_DOCUMENT)
		p->containers++;
	if (r->kind != KS_KIND_PICTURE && r->kind != KS_KIND_VIDEO)
		return 0;
	p->media_files++;
	int ti = r->category && r->scheme ? table_find(b, r->scheme) : 0;
	int ci = cat_find(b, ti, r->category && r->scheme ? r->category : NULL);
	b->tables[ti].used = 1;
	int loc = ks_tally_loc_of(r);
	if (b->nrecs == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->recs = ks_xrealloc(b->recs, b->cap * sizeof *b->recs);
	}
	b->recs[b->nrecs++] = (struct rec){
		.media = r->media_id ? r->media_id : -r->file_id,
		.ex = (uint32_t)ex,
		.table = (uint16_t)ti,
		.cat = (uint16_t)ci,
		.kind = r->kind == KS_KIND_PICTURE ? KS_TALLY_STILL : KS_TALLY_MOVING,
		.loc = (uint8_t)(loc < 0 ? 0xff : loc),
		.known_good = (uint8_t)(r->known_good ? 1 : 0),
		.grade = (uint8_t)r->grade_state,
	};
	return 0;
}

/* Orders for counting the whole case (rec_cmp) or one exhibit at a time. */
static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
#define CMP(f)                                                                                 \
	if (x->f != y->f)                                                                      \
		return x->f < y->f ? -1 : 1;
	CMP(table)
	CMP(cat)
	CMP(kind)
	CMP(media)
	CMP(loc)
#undef CMP
	return 0;
}

static int rec_cmp_ex(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->ex != y->ex)
		return x->ex < y->ex ? -1 : 1;
	return rec_cmp(a, b);
}

static void scope_init(struct ks_tally_scope *s, const struct ks_tally *t)
{
	s->tables = ks_xcalloc((size_t)t->ntables, sizeof *s->tables);
	for (int i = 0; i < t->ntables; i++) {
		const struct ks_tally_table *d = &t->layout[i];
		struct ks_tally_table *tt = &s->tables[i];
		tt->scheme = d->scheme;
		tt->title = d->title;
		tt->ncats = d->ncats;
		tt->cats = ks_xcalloc((size_t)d->ncats, sizeof *tt->cats);
		for (int c = 0; c < d->ncats; c++) {
			tt->cats[c].code = d->cats[c].code;
			tt->cats[c].label = d->cats[c].label;
		}
	}
}

/* Counts the sorted run r[0..n) (one scope) into s. Records of the same (table, cat,
 * kind, media) are adjacent, so distinct media and distinct (media, location) pairs
 * are counted by watching the sort key change. Known-good is a property of the media. */
static void count_run(const struct rec *r, size_t n, struct ks_tally_scope *s)
{
	for (size_t i = 0; i < n; i++) {
		const struct rec *x = &r[i], *prev = i ? &r[i - 1] : NULL;
		struct ks_tally_cell *c = &s->tables[x->table].cats[x->cat].k[x->kind];
		struct ks_tally_cell *tot = &s->tables[x->table].total[x->kind];
		int new_media = !prev || prev->table != x->table || prev->cat != x->cat ||
				prev->kind != x->kind || prev->media != x->media;
		if (new_media) {
			c->distinct++;
			tot->distinct++;
			if (x->known_good)
				s->known_good[x->kind]++;
			if (x->grade == KS_GRADE_PENDING)
				s->grade_pending[x->kind]++;
			else if (x->grade == KS_GRADE_DISPUTED)
				s->grade_disputed[x->kind]++;
		}
		if (x->loc < KS_LOC_COUNT && (new_media || prev->loc != x->loc)) {
			c->where[x->loc]++;
			tot->where[x->loc]++;
		}
	}
}

static int name_cmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	return strcmp(*x, *y);
}

static void table_def_release(struct table_def *d)
{
	for (int c = 0; c < d->ncats; c++) {
		free(d->codes[c]);
		free(d->labels[c]);
	}
	free(d->codes);
	free(d->labels);
	free(d->scheme);
	free(d->title);
	memset(d, 0, sizeof *d);
}

/* Moves the shown tables' definitions into t->layout (the tally owns the strings the
 * scopes point to) and renumbers the records' tables. */
static int take_layout(struct build *b, struct ks_tally *t, struct ks_err *err)
{
	if (b->ntables > UINT16_MAX)
		return ks_err_set(err, KS_E_LIMIT, "report: too many category schemes");
	int *map = ks_xcalloc((size_t)b->ntables, sizeof *map);
	t->layout = ks_xcalloc((size_t)b->ntables, sizeof *t->layout);
	t->ntables = 0;
	for (int i = 0; i < b->ntables; i++) {
		struct table_def *d = &b->tables[i];
		if (i != 0 && !d->used) {
			map[i] = -1;
			continue;
		}
		map[i] = t->ntables;
		struct ks_tally_table *l = &t->layout[t->ntables++];
		l->scheme = d->scheme;
		l->title = d->title;
		l->ncats = d->ncats;
		l->cats = ks_xcalloc((size_t)d->ncats, sizeof *l->cats);
		for (int c = 0; c < d->ncats; c++) {
			l->cats[c].code = d->codes[c];
			l->cats[c].label = d->labels[c];
		}
		free(d->codes);
		free(d->labels);
		memset(d, 0, sizeof *d); /* ownership moved */
	}
	for (size_t i = 0; i < b->nrecs; i++)
		b->recs[i].table = (uint16_t)map[b->recs[i].table];
	free(map);
	return KS_OK;
}

int ks_tally_build(struct ks_store *st, struct ks_tally **out, struct ks_err *err)
{
	struct build b = {0};
	struct ks_tally *t = ks_xcalloc(1, sizeof *t);
	uint32_t *rank = NULL;
	char **sorted = NULL;
	struct ks_case_meta meta;
	b.t = t;
	int rc = ks_store_get_case(st, &meta, err);
	if (rc != KS_OK)
		goto out;
	t->ref = ks_xstrdup(meta.ref);
	t->examiner = ks_xstrdup(meta.examiner);
	t->scheme = ks_xstrdup(meta.scheme);
	t->created = meta.created;
	t->case_scheme = ks_scheme_find(meta.scheme);

	/* Table 0 is the case's scheme with its Uncategorised row; the other built-in
	 * schemes follow in their own order, so the layout does not depend on the data. */
	table_add(&b, meta.scheme);
	cat_find(&b, 0, NULL);
	for (int i = 0; ks_scheme_at(i); i++)
		if (strcmp(ks_scheme_at(i)->name, meta.scheme) != 0)
			table_add(&b, ks_scheme_at(i)->name);

	if ((rc = ks_store_sources_each(st, on_source, &b, err)) != KS_OK)
		goto out;
	if ((rc = ks_store_files_each(st, on_file, &b, err)) != KS_OK)
		goto out;
	if ((rc = take_layout(&b, t, err)) != KS_OK)
		goto out;

	/* Exhibits in reference order: rank[i] is the place of the i-th name seen. */
	sorted = ks_xcalloc(b.nex ? b.nex : 1, sizeof *sorted);
	memcpy(sorted, b.ex_names, b.nex * sizeof *sorted);
	qsort(sorted, b.nex, sizeof *sorted, name_cmp);
	rank = ks_xcalloc(b.nex ? b.nex : 1, sizeof *rank);
	for (size_t i = 0; i < b.nex; i++) {
		char **hit = bsearch(&b.ex_names[i], sorted, b.nex, sizeof *sorted, name_cmp);
		rank[i] = (uint32_t)(hit - sorted);
	}
	t->nexhibits = b.nex;
	t->exhibits = ks_xcalloc(b.nex ? b.nex : 1, sizeof *t->exhibits);
	scope_init(&t->total, t);
	for (size_t i = 0; i < b.nex; i++) {
		struct ks_tally_scope *s = &t->exhibits[rank[i]];
		const struct ks_tally_scope *p = &b.ex_plain[i];
		scope_init(s, t);
		s->exhibit = b.ex_names[i]; /* ownership moves to the scope */
		b.ex_names[i] = NULL;
		s->files = p->files;
		s->media_files = p->media_files;
		s->containers = p->containers;
		s->errors = p->errors;
		t->total.files += p->files;
		t->total.media_files += p->media_files;
		t->total.containers += p->containers;
		t->total.errors += p->errors;
	}
	for (size_t i = 0; i < b.nrecs; i++)
		b.recs[i].ex = rank[b.recs[i].ex];

	qsort(b.recs, b.nrecs, sizeof *b.recs, rec_cmp);
	count_run(b.recs, b.nrecs, &t->total);
	qsort(b.recs, b.nrecs, sizeof *b.recs, rec_cmp_ex);
	for (size_t i = 0; i < b.nrecs;) {
		size_t j = i;
		while (j < b.nrecs && b.recs[j].ex == b.recs[i].ex)
			j++;
		count_run(b.recs + i, j - i, &t->exhibits[b.recs[i].ex]);
		i = j;
	}
	rc = KS_OK;
out:
	free(sorted);
	free(rank);
	free(b.recs);
	free(b.ex_plain);
	for (size_t i = 0; i < b.nex; i++)
		free(b.ex_names[i]);
	free(b.ex_names);
	for (int i = 0; i < b.ntables; i++)
		table_def_release(&b.tables[i]);
	free(b.tables);
	if (rc != KS_OK) {
		ks_tally_free(t);
		t = NULL;
	}
	*out = t;
	return rc;
}

static void scope_release(struct ks_tally_scope *s, int ntables)
{
	for (int i = 0; s->tables && i < ntables; i++)
		free(s->tables[i].cats);
	free(s->tables);
	free((char *)s->exhibit);
}

void ks_tally_free(struct ks_tally *t)
{
	if (!t)
		return;
	scope_release(&t->total, t->ntables);
	for (size_t i = 0; i < t->nexhibits; i++)
		scope_release(&t->exhibits[i], t->ntables);
	free(t->exhibits);
	for (int i = 0; t->layout && i < t->ntables; i++) {
		for (int c = 0; c < t->layout[i].ncats; c++) {
			free((char *)t->layout[i].cats[c].code);
			free((char *)t->layout[i].cats[c].label);
		}
		free(t->layout[i].cats);
		free((char *)t->layout[i].scheme);
		free((char *)t->layout[i].title);
	}
	free(t->layout);
	for (size_t i = 0; i < t->nsources; i++) {
		struct ks_tally_source *s = &t->sources[i];
		free(s->exhibit);
		free(s->path);
		free(s->kind);
		free(s->status);
		free(s->md5_before);
		free(s->sha1_before);
		free(s->md5_after);
		free(s->sha1_after);
	}
	free(t->sources);
	free(t->ref);
	free(t->examiner);
	free(t->scheme);
	free(t);
}
