/* vPDQ (see vpdq.h): PDQ over the video sampler's frames, collapse of near repeats,
 * the reference tools' text lines, and video-to-video / frame-to-still matching. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/vpdq.h"

void ks_vpdq_add(struct ks_vpdq *v, const struct ks_vpdq_feature *f)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 64;
		v->f = ks_xrealloc(v->f, v->cap * sizeof *v->f);
	}
	v->f[v->n++] = *f;
}

void ks_vpdq_release(struct ks_vpdq *v)
{
	if (!v)
		return;
	free(v->f);
	v->f = NULL;
	v->n = v->cap = 0;
}

void ks_vpdq_collapse(struct ks_vpdq *v, int distance)
{
	if (distance < 0 || v->n < 2)
		return;
	size_t j = 1;
	for (size_t i = 1; i < v->n; i++)
		if (ks_pdq_distance(&v->f[i].hash, &v->f[j - 1].hash) > distance)
			v->f[j++] = v->f[i];
	v->n = j;
}

struct hash_ctx {
	struct ks_pdq *pdq;
	struct ks_vpdq *out;
	size_t first; /* out->n when this video began: collapse never reaches before it */
	int collapse;
	ks_video_frame_fn also;
	void *also_ctx;
};

static int on_frame(void *ctx, const struct ks_video_frame *fr, struct ks_err *err)
{
	struct hash_ctx *h = ctx;
	struct ks_vpdq_feature f = {.frame = fr->frame_number, .seconds = fr->pts};
	int rc = ks_pdq_hash_pixels(h->pdq, fr->pix, fr->width, fr->height, fr->channels,
				    fr->stride, &f.hash, NULL, &f.quality);
	if (rc)
		return ks_err_set(err, rc, "vpdq: cannot hash frame %lld", (long long)fr->frame_number);
	int dup = h->collapse >= 0 && h->out->n > h->first &&
		  ks_pdq_distance(&f.hash, &h->out->f[h->out->n - 1].hash) <= h->collapse;
	if (!dup)
		ks_vpdq_add(h->out, &f);
	return h->also ? h->also(h->also_ctx, fr, err) : KS_OK;
}

int ks_vpdq_hash_video(struct ks_video *v, struct ks_pdq *pdq, const struct ks_vpdq_opts *opts,
		       ks_video_frame_fn also, void *also_ctx, struct ks_vpdq *out,
		       struct ks_video_result *res, struct ks_err *err)
{
	struct ks_vpdq_opts o = {0};
	if (opts)
		o = *opts;
	o.sample.channels = 3;
	if (o.sample.max_side == 0)
		o.sample.max_side = KS_PDQ_RESIZE;
	struct hash_ctx h = {
		.pdq = pdq ? pdq : ks_pdq_new(),
		.out = out,
		.first = out->n,
		.collapse = o.collapse == 0		       ? KS_VPDQ_COLLAPSE_DEFAULT
			    : o.collapse == KS_VPDQ_COLLAPSE_SAME ? 0
			    : o.collapse < 0			       ? -1
							       : o.collapse,
		.also = also,
		.also_ctx = also_ctx,
	};
	int rc = ks_video_sample(v, &o.sample, on_frame, &h, res, err);
	if (!pdq)
		ks_pdq_free(h.pdq);
	return rc;
}

void ks_vpdq_format(const struct ks_vpdq *v, struct ks_buf *out)
{
	char hex[KS_PDQ_HEX_LEN + 1];
	for (size_t i = 0; i < v->n; i++) {
		const struct ks_vpdq_feature *f = &v->f[i];
		ks_pdq_to_hex(&f->hash, hex);
		ks_buf_addf(out, "%lld,%d,%s,%.3f\n", (long long)f->frame, f->quality, hex,
			    f->seconds);
	}
}

/* Parses a decimal integer field [p, end) fully; 0 or -1. */
static int parse_ll(const char *p, const char *end, long long *out)
{
	char tmp[32];
	size_t n = (size_t)(end - p);
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	char *e;
	errno = 0;
	long long v = strtoll(tmp, &e, 10);
	if (errno || *e)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *p, const char *end, double *out)
{
	char tmp[64];
	size_t n = (size_t)(end - p);
	while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	char *e;
	errno = 0;
	double v = strtod(tmp, &e);
	if (errno || *e || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int ks_vpdq_parse(const char *text, size_t len, struct ks_vpdq *out, struct ks_err *err)
{
	const char *p = text, *end = text + len;
	size_t line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		line++;
		const char *q = p;
		p = nl ? nl + 1 : end;
		if (q == le || *q == '#' || (le - q == 1 && *q == '\r'))
			continue;
		const char *field[5];
		const char *fend[5];
		int nf = 0;
		const char *s = q;
		while (nf < 5) {
			const char *c = memchr(s, ',', (size_t)(le - s));
			field[nf] = s;
			fend[nf] = c ? c : le;
			nf++;
			if (!c)
				break;
			s = c + 1;
		}
		struct ks_vpdq_feature f = {0};
		long long frame, quality;
		if (nf < 4 || parse_ll(field[0], fend[0], &frame) || frame < 0 ||
		    parse_ll(field[1], fend[1], &quality) || quality < 0 || quality > 100 ||
		    ks_pdq_from_hex(field[2], (size_t)(fend[2] - field[2]), &f.hash) ||
		    parse_double(field[3], fend[3], &f.seconds) || f.seconds < 0)
			return ks_err_set(err, KS_E_FORMAT,
					  "vpdq: line %zu is not \"frame,quality,hash,seconds\"",
					  line);
		f.frame = frame;
		f.quality = (int)quality;
		ks_vpdq_add(out, &f);
	}
	return KS_OK;
}

/* How many usable features of a have a usable feature of b strictly closer than d. */
static size_t count_found(const struct ks_vpdq *a, const struct ks_vpdq *b, int d, int minq,
			  size_t *usable)
{
	size_t found = 0;
	*usable = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->f[i].quality < minq)
			continue;
		(*usable)++;
		for (size_t j = 0; j < b->n; j++) {
			if (b->f[j].quality < minq)
				continue;
			if (ks_pdq_distance(&a->f[i].hash, &b->f[j].hash) < d) {
				found++;
				break;
			}
		}
	}
	return found;
}

void ks_vpdq_match(const struct ks_vpdq *query, const struct ks_vpdq *target, int distance,
		   int min_quality, double *query_pct, double *target_pct)
{
	size_t qn, tn;
	size_t qf = count_found(query, target, distance, min_quality, &qn);
	size_t tf = count_found(target, query, distance, min_quality, &tn);
	if (!qn || !tn) {
		*query_pct = *target_pct = 0;
		return;
	}
	*query_pct = 100.0 * (double)qf / (double)qn;
	*target_pct = 100.0 * (double)tf / (double)tn;
}

int ks_vpdq_nearest(const struct ks_vpdq *v, const struct ks_pdq_hash *h, int min_quality,
		    size_t *idx)
{
	int best = -1;
	for (size_t i = 0; i < v->n; i++) {
		if (v->f[i].quality < min_quality)
			continue;
		int d = ks_pdq_distance(&v->f[i].hash, h);
		if (best < 0 || d < best) {
			best = d;
			if (idx)
				*idx = i;
		}
	}
	return best;
}
