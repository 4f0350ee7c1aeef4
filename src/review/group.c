/* Near-duplicate grouping: leader clustering over PDQ hashes with a multi-index hash
 * table. The 256 bits are cut into 16 chunks of 16 bits; two hashes within distance
 * 31 must agree to within one bit on at least one chunk (16 chunks each 2 or more
 * bits apart would make 32), so probing each chunk's value and its 16 one-bit
 * neighbours finds every leader in range without comparing against all of them. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/media.h"
#include "kestrel/review.h"
#include "kestrel/store_review.h"

#define CHUNKS 16
#define BATCH 5000

struct leader {
	int64_t group;
	uint16_t w[16];
};

struct bucket {
	uint32_t *v;
	uint32_t n, cap;
};

struct mih {
	struct leader *l;
	uint32_t *stamp; /* per leader: the query that last looked at it */
	size_t n, cap;
	uint32_t query;
	struct bucket *b; /* CHUNKS * 65536 */
};

static void words(const uint8_t pdq[32], uint16_t w[16])
{
	for (int i = 0; i < 16; i++)
		w[i] = (uint16_t)(pdq[2 * i] | (pdq[2 * i + 1] << 8));
}

static int distance(const uint16_t *a, const uint16_t *b)
{
	int d = 0;
	for (int i = 0; i < 16; i++)
		d += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

static void mih_add(struct mih *m, int64_t group, const uint16_t w[16])
{
	if (!m->b)
		m->b = ks_xcalloc((size_t)CHUNKS * 65536, sizeof *m->b);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->l = ks_xrealloc(m->l, m->cap * sizeof *m->l);
		m->stamp = ks_xrealloc(m->stamp, m->cap * sizeof *m->stamp);
	}
	uint32_t idx = (uint32_t)m->n++;
	m->l[idx].group = group;
	memcpy(m->l[idx].w, w, sizeof m->l[idx].w);
	m->stamp[idx] = 0;
	for (int c = 0; c < CHUNKS; c++) {
		struct bucket *b = &m->b[(size_t)c * 65536 + w[c]];
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 2;
			b->v = ks_xrealloc(b->v, b->cap * sizeof *b->v);
		}
		b->v[b->n++] = idx;
	}
}

/* The nearest leader within threshold (ties: the older, i.e. lower index), or -1. */
static int64_t mih_find(struct mih *m, const uint16_t w[16], int threshold, int *dist)
{
	if (!m->n)
		return -1;
	if (++m->query == 0) {
		memset(m->stamp, 0, m->n * sizeof *m->stamp);
		m->query = 1;
	}
	int best = threshold + 1;
	int64_t best_idx = -1;
	for (int c = 0; c < CHUNKS; c++) {
		for (int flip = -1; flip < 16; flip++) {
			uint16_t v = flip < 0 ? w[c] : (uint16_t)(w[c] ^ (1u << flip));
			const struct bucket *b = &m->b[(size_t)c * 65536 + v];
			for (uint32_t k = 0; k < b->n; k++) {
				uint32_t idx = b->v[k];
				if (m->stamp[idx] == m->query)
					continue;
				m->stamp[idx] = m->query;
				int d = distance(m->l[idx].w, w);
				if (d < best || (d == best && (int64_t)idx < best_idx)) {
					best = d;
					best_idx = idx;
				}
			}
		}
	}
	if (best_idx < 0)
		return -1;
	*dist = best;
	return best_idx;
}

static void mih_free(struct mih *m)
{
	if (m->b)
		for (size_t i = 0; i < (size_t)CHUNKS * 65536; i++)
			free(m->b[i].v);
	free(m->b);
	free(m->l);
	free(m->stamp);
}

static int on_leader(void *ctx, int64_t group, const uint8_t pdq[32])
{
	uint16_t w[16];
	words(pdq, w);
	mih_add(ctx, group, w);
	return 0;
}

struct pending {
	struct ks_review_new *v;
	size_t n, cap;
};

static int on_unplaced(void *ctx, const struct ks_review_new *m)
{
	struct pending *p = ctx;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->v = ks_xrealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n++] = *m;
	return 0;
}

int ks_review_group_update(struct ks_store *st, int threshold, int full,
			   struct ks_review_group_stats *stats, struct ks_err *err)
{
	struct mih m = {0};
	struct pending p = {0};
	struct ks_review_place *v = NULL;
	struct ks_review_group_stats s = {0};
	int rc;
	if (threshold <= 0)
		threshold = KS_REVIEW_DEFAULT_THRESHOLD;
	if (threshold > 255)
		return ks_err_set(err, KS_E_USAGE, "grouping threshold %d is out of range",
				  threshold);

	if ((rc = ks_store_begin(st, err)) != KS_OK)
		goto out;
	rc = ks_store_review_refresh(st, &s.known, err);
	if (rc == KS_OK)
		rc = ks_store_commit(st, err);
	if (rc != KS_OK)
		goto out;
	if ((rc = ks_store_review_leaders(st, KS_REVIEW_MIN_QUALITY, on_leader, &m, err)) != KS_OK)
		goto out;
	for (;;) {
		p.n = 0;
		if ((rc = ks_store_review_unplaced(st, BATCH, full, on_unplaced, &p, err)) != KS_OK)
			goto out;
		if (!p.n)
			break;
		/* Leaders made in this batch are known by -(their index + 1) until the
		 * store gives them ids. */
		v = ks_xrealloc(v, p.n * sizeof *v);
		size_t first_new = m.n;
		for (size_t i = 0; i < p.n; i++) {
			const struct ks_review_new *x = &p.v[i];
			int usable = x->kind == KS_KIND_PICTURE && x->has_pdq &&
				     x->quality >= KS_REVIEW_MIN_QUALITY;
			uint16_t w[16];
			int dist = 0;
			int64_t idx = -1;
			v[i] = (struct ks_review_place){.media = x->media};
			if (usable) {
				words(x->pdq, w);
				idx = mih_find(&m, w, threshold, &dist);
			}
			if (idx >= 0) {
				v[i].group = m.l[idx].group;
				v[i].dist = dist;
				s.joined++;
			} else if (usable) {
				mih_add(&m, -(int64_t)i - 1, w);
			}
		}
		if ((rc = ks_store_begin(st, err)) != KS_OK)
			goto out;
		rc = ks_store_review_place(st, v, p.n, err);
		if (rc == KS_OK)
			rc = ks_store_commit(st, err);
		if (rc != KS_OK)
			goto out;
		for (size_t k = first_new; k < m.n; k++)
			m.l[k].group = v[-m.l[k].group - 1].group;
		s.placed += (int64_t)p.n;
	}
	rc = KS_OK;
out:
	ks_store_rollback(st);
	if (stats)
		*stats = s;
	free(p.v);
	free(v);
	mih_free(&m);
	return rc;
}
