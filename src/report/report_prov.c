/* Provenance in the reports: every item's references (chat messages, downloads,
 * thumbnail caches, media catalogues) and EXIF, the distribution figures — per
 * exhibit, the distinct media that a "sent" reference points at, per category,
 * including media known only by the SHA-256 an app recorded (the file is gone) —
 * and the cameras: per EXIF body serial, the media it took. Every writer takes
 * these from the same summary, so JSON, HTML and CSV say the same. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/exif.h"
#include "kestrel/media.h"
#include "report_prov.h"

/* ---- one reference in words ---------------------------------------------------------- */

static void party(struct ks_buf *b, const char *name, const char *id)
{
	if (name && *name && id && *id)
		ks_buf_addf(b, "%s (%s)", name, id);
	else if (name && *name)
		ks_buf_adds(b, name);
	else if (id && *id)
		ks_buf_adds(b, id);
	else
		ks_buf_adds(b, "an unknown party");
}

static const char *base_name(const char *path)
{
	const char *b = path ? path : "";
	for (const char *c = b; *c; c++)
		if (*c == '/' || *c == '\\')
			b = c + 1;
	return b;
}

static int has(const char *s)
{
	return s && *s;
}

void ks_report_ref_sentence(struct ks_buf *b, const struct ks_ref_row *r)
{
	const struct ks_ref_rec *x = &r->r;
	const char *app = has(x->app) ? x->app : x->parser;
	const char *kind = x->kind ? x->kind : "";
	int msg = 0;
	if (strcmp(kind, "sent") == 0 || strcmp(kind, "received") == 0) {
		int sent = kind[0] == 's';
		msg = 1;
		ks_buf_adds(b, sent ? "sent to " : "received from ");
		if (has(x->peer) || has(x->peer_name) || !(has(x->chat) || has(x->chat_name)))
			party(b, x->peer_name, x->peer);
		if (has(x->chat) || has(x->chat_name)) {
			ks_buf_adds(b, has(x->peer) || has(x->peer_name) ? " in group " : "group ");
			party(b, x->chat_name, x->chat);
		}
		ks_buf_addf(b, " via %s", app);
	} else if (strcmp(kind, "download") == 0) {
		ks_buf_adds(b, "downloaded");
		if (has(x->url))
			ks_buf_addf(b, " from %s", x->url);
		if (has(x->referrer))
			ks_buf_addf(b, " (referrer %s)", x->referrer);
		if (has(x->path))
			ks_buf_addf(b, " to %s", x->path);
		ks_buf_addf(b, " with %s", app);
	} else if (strcmp(kind, "thumbnail") == 0) {
		ks_buf_addf(b, "thumbnail in %s", has(r->artefact) ? base_name(r->artefact) : app);
		if (has(x->record))
			ks_buf_addf(b, " (%s)", x->record);
		if (has(x->path))
			ks_buf_addf(b, " of %s", x->path);
		else if (has(x->name))
			ks_buf_addf(b, " of %s", x->name);
	} else {
		ks_buf_addf(b, "catalogued by %s", app);
		if (has(x->path))
			ks_buf_addf(b, " as %s", x->path);
		if (has(x->owner))
			ks_buf_addf(b, ", from %s", x->owner);
	}
	if (x->time) {
		char when[32];
		ks_time_iso8601(x->time, when);
		ks_buf_addf(b, " at %s", when);
		if (!msg && has(x->time_what))
			ks_buf_addf(b, " (%s)", x->time_what);
	}
}

/* ---- JSON of a reference and of EXIF -------------------------------------------------- */

static void jkey(struct ks_buf *b, const char *key, const char *v)
{
	ks_buf_addf(b, ",\"%s\":", key);
	ks_json_add_string_or_null(b, has(v) ? v : NULL);
}

static void json_ref(struct ks_buf *b, const struct ks_ref_row *r)
{
	const struct ks_ref_rec *x = &r->r;
	struct ks_buf s = {0};
	ks_report_ref_sentence(&s, r);
	ks_buf_adds(b, "{\"summary\":");
	ks_json_add_string(b, (const char *)s.data ? (const char *)s.data : "");
	ks_buf_release(&s);
	jkey(b, "exhibit", r->exhibit);
	jkey(b, "artefact", r->artefact);
	jkey(b, "parser", x->parser);
	jkey(b, "app", x->app);
	jkey(b, "kind", x->kind);
	jkey(b, "record", x->record);
	jkey(b, "peer", x->peer);
	jkey(b, "peer_name", x->peer_name);
	jkey(b, "chat", x->chat);
	jkey(b, "chat_name", x->chat_name);
	ks_buf_adds(b, ",\"time\":");
	ks_json_add_time(b, x->time);
	jkey(b, "time_raw", x->time_raw);
	jkey(b, "time_src", x->time_src);
	jkey(b, "time_what", x->time_what);
	jkey(b, "url", x->url);
	jkey(b, "referrer", x->referrer);
	jkey(b, "path", x->path);
	jkey(b, "name", x->name);
	jkey(b, "thumb_path", x->thumb_path);
	jkey(b, "mime", x->mime);
	if (x->size >= 0)
		ks_buf_addf(b, ",\"size\":%lld", (long long)x->size);
	else
		ks_buf_adds(b, ",\"size\":null");
	jkey(b, "owner", x->owner);
	jkey(b, "sha256", r->sha256);
	jkey(b, "note", x->note);
	jkey(b, "link", x->link_how);
	jkey(b, "media_sha256", r->media_sha256);
	jkey(b, "file", r->file);
	jkey(b, "thumbnail", r->thumb);
	ks_buf_adds(b, ",\"category\":");
	ks_json_add_string_or_null(b, r->category ? ks_report_cat_label(r->scheme, r->category)
						  : NULL);
	jkey(b, "category_code", r->category);
	jkey(b, "match", r->match);
	ks_buf_adds(b, "}");
}

void ks_report_json_exif(struct ks_buf *b, const struct ks_exif *x)
{
	ks_buf_adds(b, "{\"container\":");
	ks_json_add_string_or_null(b, has(x->container) ? x->container : NULL);
	jkey(b, "make", x->make);
	jkey(b, "model", x->model);
	jkey(b, "body_serial", x->body_serial);
	jkey(b, "lens_make", x->lens_make);
	jkey(b, "lens_model", x->lens_model);
	jkey(b, "lens_serial", x->lens_serial);
	jkey(b, "software", x->software);
	jkey(b, "artist", x->artist);
	jkey(b, "owner_name", x->owner_name);
	jkey(b, "image_unique_id", x->image_unique_id);
	jkey(b, "datetime_original", x->datetime_original);
	jkey(b, "offset_time_original", x->offset_time_original);
	jkey(b, "datetime", x->datetime);
	ks_buf_adds(b, ",\"time_utc\":");
	if (x->has_time_utc)
		ks_json_add_time(b, x->time_utc);
	else
		ks_buf_adds(b, "null");
	if (x->has_gps) {
		ks_buf_addf(b, ",\"gps\":{\"lat\":%.7f,\"lon\":%.7f", x->gps_lat, x->gps_lon);
		if (x->has_gps_alt)
			ks_buf_addf(b, ",\"alt\":%.2f}", x->gps_alt);
		else
			ks_buf_adds(b, ",\"alt\":null}");
	} else {
		ks_buf_adds(b, ",\"gps\":null");
	}
	ks_buf_adds(b, ",\"gps_time\":");
	ks_json_add_time(b, x->gps_time);
	if (x->orientation)
		ks_buf_addf(b, ",\"orientation\":%d", x->orientation);
	else
		ks_buf_adds(b, ",\"orientation\":null");
	ks_buf_addf(b, ",\"thumbnail\":%s", x->has_thumb ? "true" : "false");
	jkey(b, "warning", x->warning);
	ks_buf_adds(b, "}");
}

void ks_report_json_prov(struct ks_buf *b, const struct ks_file_row *r)
{
	ks_buf_adds(b, ",\"references\":[");
	for (size_t i = 0; i < r->nrefs; i++) {
		if (i)
			ks_buf_adds(b, ",");
		json_ref(b, r->refs[i]);
	}
	ks_buf_adds(b, "],\"exif\":");
	if (r->exif)
		ks_report_json_exif(b, r->exif);
	else
		ks_buf_adds(b, "null");
}

/* "Canon EOS 5D, serial 123; taken 2023:04:05 06:07:08 +01:00; GPS 51.5000000, -0.1275000" */
static void exif_words(struct ks_buf *b, const struct ks_exif *x)
{
	const char *sep = "";
	if (has(x->make) || has(x->model)) {
		ks_buf_addf(b, "camera %s%s%s", x->make, has(x->make) && has(x->model) ? " " : "",
			    x->model);
		sep = "; ";
	}
	if (has(x->body_serial)) {
		ks_buf_addf(b, "%sserial %s", sep, x->body_serial);
		sep = "; ";
	}
	if (has(x->lens_model)) {
		ks_buf_addf(b, "%slens %s", sep, x->lens_model);
		sep = "; ";
	}
	if (has(x->software)) {
		ks_buf_addf(b, "%ssoftware %s", sep, x->software);
		sep = "; ";
	}
	if (has(x->datetime_original)) {
		ks_buf_addf(b, "%staken %s%s%s", sep, x->datetime_original,
			    has(x->offset_time_original) ? " " : "", x->offset_time_original);
		sep = "; ";
	}
	if (x->has_gps)
		ks_buf_addf(b, "%sGPS %.7f, %.7f", sep, x->gps_lat, x->gps_lon);
}

void ks_report_html_item_prov(struct ks_buf *b, const struct ks_file_row *r)
{
	struct ks_buf s = {0};
	for (size_t i = 0; i < r->nrefs; i++) {
		ks_buf_reset(&s);
		ks_report_ref_sentence(&s, r->refs[i]);
		ks_buf_adds(b, "<br>");
		ks_html_add(b, (const char *)s.data);
	}
	if (r->exif) {
		ks_buf_reset(&s);
		exif_words(&s, r->exif);
		if (s.len) {
			ks_buf_adds(b, "<br>EXIF: ");
			ks_html_add(b, (const char *)s.data);
		}
	}
	ks_buf_release(&s);
}

/* ---- the summary: distribution and cameras --------------------------------------------- */

/* One "sent" reference, copied out of the store. */
struct sent {
	char *exhibit;
	int64_t ref_id, media_id, files;
	char sha256[65], md5[33];
	char *scheme, *category, *match;
	int kind;
	char *summary, *app, *peer, *peer_name, *chat, *chat_name, *artefact, *record;
	int64_t time;
};

/* A row of an exhibit's distribution table. */
struct dcat {
	const char *scheme, *code; /* code NULL: uncategorised */
	char *label;
	int64_t media;
};

struct dexhibit {
	const char *exhibit;
	size_t first, n; /* its sent references in the sorted array */
	int64_t media, unlinked;
	struct dcat *cats;
	int ncats;
};

struct camera_media {
	char sha256[65], md5[33];
	char *exhibit, *path, *scheme, *category;
	struct ks_exif x;
};

struct summary {
	struct sent *v;
	size_t n, cap;
	struct dexhibit *ex;
	size_t nex;
	struct camera_media *cam;
	size_t ncam, camcap;
};

static char *dup_or_null(const char *s)
{
	return s ? ks_xstrdup(s) : NULL;
}

static int keep_sent(void *ctx, const struct ks_ref_row *r)
{
	struct summary *s = ctx;
	if (!r->r.kind || strcmp(r->r.kind, "sent") != 0)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = ks_xrealloc(s->v, s->cap * sizeof *s->v);
	}
	struct sent *d = &s->v[s->n++];
	memset(d, 0, sizeof *d);
	d->exhibit = ks_xstrdup(r->exhibit);
	d->ref_id = r->id;
	d->media_id = r->r.media_id;
	d->files = r->media_files;
	snprintf(d->sha256, sizeof d->sha256, "%s", r->r.media_id ? r->media_sha256 : "");
	snprintf(d->md5, sizeof d->md5, "%s", r->r.media_id ? r->media_md5 : "");
	d->scheme = dup_or_null(r->scheme);
	d->category = dup_or_null(r->category);
	d->match = dup_or_null(r->match);
	d->kind = r->media_kind;
	struct ks_buf b = {0};
	ks_report_ref_sentence(&b, r);
	d->summary = ks_buf_take(&b);
	d->app = dup_or_null(r->r.app);
	d->peer = dup_or_null(r->r.peer);
	d->peer_name = dup_or_null(r->r.peer_name);
	d->chat = dup_or_null(r->r.chat);
	d->chat_name = dup_or_null(r->r.chat_name);
	d->artefact = dup_or_null(r->artefact);
	d->record = dup_or_null(r->r.record);
	d->time = r->r.time;
	return 0;
}

static int keep_camera(void *ctx, const struct ks_exif_row *r)
{
	struct summary *s = ctx;
	if (!has(r->exif->body_serial))
		return 0;
	if (s->ncam == s->camcap) {
		s->camcap = s->camcap ? s->camcap * 2 : 16;
		s->cam = ks_xrealloc(s->cam, s->camcap * sizeof *s->cam);
	}
	struct camera_media *c = &s->cam[s->ncam++];
	memset(c, 0, sizeof *c);
	snprintf(c->sha256, sizeof c->sha256, "%s", r->sha256);
	snprintf(c->md5, sizeof c->md5, "%s", r->md5);
	c->exhibit = ks_xstrdup(r->exhibit ? r->exhibit : "");
	c->path = ks_xstrdup(r->path ? r->path : "");
	c->scheme = dup_or_null(r->scheme);
	c->category = dup_or_null(r->category);
	c->x = *r->exif;
	return 0;
}

/* Exhibit, then identified media (by SHA-256) before unlinked references, then
 * reference id: the same case always lists in the same order. */
static int by_media(const void *x, const void *y)
{
	const struct sent *a = x, *b = y;
	int c = strcmp(a->exhibit, b->exhibit);
	if (c)
		return c;
	if ((a->media_id == 0) != (b->media_id == 0))
		return a->media_id == 0 ? 1 : -1;
	if ((c = strcmp(a->sha256, b->sha256)) != 0)
		return c;
	if (a->media_id != b->media_id)
		return a->media_id < b->media_id ? -1 : 1;
	return a->ref_id < b->ref_id ? -1 : a->ref_id > b->ref_id;
}

static int same_media(const struct sent *a, const struct sent *b)
{
	return a->media_id && a->media_id == b->media_id;
}

static void dcat_add(struct dexhibit *e, const char *scheme, const char *code)
{
	if (!scheme)
		code = NULL;
	for (int i = 0; i < e->ncats; i++) {
		struct dcat *c = &e->cats[i];
		if (!code ? !c->code
			  : (c->code && strcmp(c->code, code) == 0 &&
			     strcmp(c->scheme, scheme) == 0)) {
			c->media++;
			return;
		}
	}
	/* A category of another scheme: a row of its own before "Uncategorised". */
	e->cats = ks_xrealloc(e->cats, (size_t)(e->ncats + 1) * sizeof *e->cats);
	struct dcat *u = &e->cats[e->ncats - 1], *c = &e->cats[e->ncats];
	*c = *u;
	const struct ks_scheme *sc = ks_scheme_find(scheme);
	u->scheme = scheme;
	u->code = code;
	u->label =
	    ks_xasprintf("%s: %s", sc ? sc->title : scheme, ks_report_cat_label(scheme, code));
	u->media = 1;
	e->ncats++;
}

static void summary_free(struct summary *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sent *d = &s->v[i];
		char *p[] = {d->exhibit, d->scheme,    d->category, d->match,
			     d->summary, d->app,       d->peer,	    d->peer_name,
			     d->chat,	 d->chat_name, d->artefact, d->record};
		for (size_t k = 0; k < sizeof p / sizeof p[0]; k++)
			free(p[k]);
	}
	for (size_t i = 0; i < s->nex; i++) {
		for (int c = 0; c < s->ex[i].ncats; c++)
			free(s->ex[i].cats[c].label);
		free(s->ex[i].cats);
	}
	for (size_t i = 0; i < s->ncam; i++) {
		free(s->cam[i].exhibit);
		free(s->cam[i].path);
		free(s->cam[i].scheme);
		free(s->cam[i].category);
	}
	free(s->v);
	free(s->ex);
	free(s->cam);
	memset(s, 0, sizeof *s);
}

static int summary_build(struct ks_store *st, const struct ks_tally *t, struct summary *s,
			 struct ks_err *err)
{
	memset(s, 0, sizeof *s);
	int rc = ks_store_refs_each(st, keep_sent, s, err);
	if (rc == KS_OK)
		rc = ks_store_exif_each(st, keep_camera, s, err);
	if (rc == KS_E_UNSUPPORTED)
		rc = KS_OK; /* a backend without provenance: nothing to say */
	if (rc != KS_OK)
		return rc;
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, by_media);
	const struct ks_scheme *cs = ks_scheme_find(t->scheme);
	s->nex = t->nexhibits;
	s->ex = ks_xcalloc(s->nex + 1, sizeof *s->ex);
	size_t j = 0;
	for (size_t i = 0; i < s->nex; i++) {
		struct dexhibit *e = &s->ex[i];
		e->exhibit = t->exhibits[i].exhibit;
		int n = cs ? cs->ncats : 0;
		e->cats = ks_xcalloc((size_t)n + 1, sizeof *e->cats);
		for (int c = 0; c < n; c++)
			e->cats[c] = (struct dcat){cs->name, cs->cats[c].code,
						   ks_xstrdup(cs->cats[c].label), 0};
		e->cats[n] = (struct dcat){t->scheme, NULL, ks_xstrdup("Uncategorised"), 0};
		e->ncats = n + 1;
		while (j < s->n && strcmp(s->v[j].exhibit, e->exhibit) < 0)
			j++; /* an exhibit the tally does not know: nothing to count it under */
		e->first = j;
		while (j < s->n && strcmp(s->v[j].exhibit, e->exhibit) == 0) {
			const struct sent *d = &s->v[j];
			if (d->media_id == 0) {
				e->unlinked++;
			} else if (j == e->first || !same_media(&s->v[j - 1], d)) {
				e->media++;
				dcat_add(e, d->scheme, d->category);
			}
			j++;
		}
		e->n = j - e->first;
	}
	return KS_OK;
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void json_sent_ref(struct ks_buf *b, const struct sent *d)
{
	ks_buf_adds(b, "{\"summary\":");
	ks_json_add_string(b, d->summary);
	jkey(b, "app", d->app);
	jkey(b, "peer", d->peer);
	jkey(b, "peer_name", d->peer_name);
	jkey(b, "chat", d->chat);
	jkey(b, "chat_name", d->chat_name);
	ks_buf_adds(b, ",\"time\":");
	ks_json_add_time(b, d->time);
	jkey(b, "artefact", d->artefact);
	jkey(b, "record", d->record);
	ks_buf_adds(b, "}");
}

static void json_exhibit(struct ks_buf *b, const struct summary *s, const struct dexhibit *e)
{
	ks_buf_adds(b, "{\"exhibit\": ");
	ks_json_add_string(b, e->exhibit);
	ks_buf_addf(b,
		    ", \"distributed_media\": %lld, \"sent_references\": %lld,"
		    " \"unidentified_sent_references\": %lld, \"categories\": [",
		    (long long)e->media, (long long)e->n, (long long)e->unlinked);
	for (int c = 0; c < e->ncats; c++) {
		ks_buf_adds(b, c ? ", {\"scheme\": " : "{\"scheme\": ");
		ks_json_add_string(b, e->cats[c].scheme);
		ks_buf_adds(b, ", \"code\": ");
		ks_json_add_string_or_null(b, e->cats[c].code);
		ks_buf_adds(b, ", \"label\": ");
		ks_json_add_string(b, e->cats[c].label);
		ks_buf_addf(b, ", \"media\": %lld}", (long long)e->cats[c].media);
	}
	ks_buf_adds(b, "], \"media\": [");
	int nm = 0;
	for (size_t i = e->first; i < e->first + e->n;) {
		const struct sent *d = &s->v[i];
		ks_buf_adds(b, nm++ ? ",\n {\"sha256\":" : "\n {\"sha256\":");
		ks_json_add_string_or_null(b, d->media_id ? d->sha256 : NULL);
		ks_buf_adds(b, ",\"md5\":");
		ks_json_add_string_or_null(b, has(d->md5) ? d->md5 : NULL);
		ks_buf_adds(b, ",\"kind\":");
		ks_json_add_string_or_null(b, d->kind >= 0 ? ks_kind_name(d->kind) : NULL);
		ks_buf_adds(b, ",\"category\":");
		ks_json_add_string_or_null(
		    b, d->category ? ks_report_cat_label(d->scheme, d->category) : NULL);
		jkey(b, "category_code", d->category);
		jkey(b, "scheme", d->category ? d->scheme : NULL);
		jkey(b, "match", d->match);
		ks_buf_addf(b, ",\"files_in_case\":%lld,\"references\":[", (long long)d->files);
		size_t k = i;
		do {
			if (k > i)
				ks_buf_adds(b, ",");
			json_sent_ref(b, &s->v[k]);
			k++;
		} while (k < e->first + e->n && same_media(&s->v[i], &s->v[k]));
		ks_buf_adds(b, "]}");
		i = k;
	}
	ks_buf_adds(b, "]}");
}

static void json_camera_media(struct ks_buf *b, const struct camera_media *c)
{
	ks_buf_adds(b, "{\"sha256\":");
	ks_json_add_string(b, c->sha256);
	ks_buf_adds(b, ",\"md5\":");
	ks_json_add_string_or_null(b, has(c->md5) ? c->md5 : NULL);
	jkey(b, "exhibit", c->exhibit);
	jkey(b, "path", c->path);
	ks_buf_adds(b, ",\"category\":");
	ks_json_add_string_or_null(b, c->category ? ks_report_cat_label(c->scheme, c->category)
						  : NULL);
	ks_buf_adds(b, ",\"exif\":");
	ks_report_json_exif(b, &c->x);
	ks_buf_adds(b, "}");
}

/* Cameras in serial order; c[first..first+n) share (serial, make, model). */
static size_t camera_run(const struct summary *s, size_t first)
{
	size_t k = first + 1;
	const struct ks_exif *a = &s->cam[first].x;
	while (k < s->ncam && strcmp(s->cam[k].x.body_serial, a->body_serial) == 0 &&
	       strcmp(s->cam[k].x.make, a->make) == 0 && strcmp(s->cam[k].x.model, a->model) == 0)
		k++;
	return k - first;
}

int ks_report_json_prov_sections(struct ks_store *st, const struct ks_tally *t, struct ks_buf *b,
				 FILE *out, struct ks_err *err)
{
	struct summary s;
	int rc = summary_build(st, t, &s, err);
	if (rc != KS_OK)
		goto out;
	ks_buf_adds(b, ",\n\"distribution\": [");
	for (size_t i = 0; i < s.nex && rc == KS_OK; i++) {
		ks_buf_adds(b, i ? ",\n" : "\n");
		json_exhibit(b, &s, &s.ex[i]);
		if (b->len > 1 << 16)
			rc = ks_report_flush(b, out, err);
	}
	ks_buf_adds(b, "],\n\"cameras\": [");
	for (size_t i = 0; i < s.ncam && rc == KS_OK;) {
		size_t n = camera_run(&s, i);
		const struct ks_exif *x = &s.cam[i].x;
		ks_buf_adds(b, i ? ",\n{\"body_serial\": " : "\n{\"body_serial\": ");
		ks_json_add_string(b, x->body_serial);
		ks_buf_adds(b, ", \"make\": ");
		ks_json_add_string_or_null(b, has(x->make) ? x->make : NULL);
		ks_buf_adds(b, ", \"model\": ");
		ks_json_add_string_or_null(b, has(x->model) ? x->model : NULL);
		ks_buf_addf(b, ", \"media_count\": %zu, \"media\": [", n);
		for (size_t k = i; k < i + n; k++) {
			ks_buf_adds(b, k > i ? ",\n " : "\n ");
			json_camera_media(b, &s.cam[k]);
		}
		ks_buf_adds(b, "]}");
		i += n;
		if (b->len > 1 << 16)
			rc = ks_report_flush(b, out, err);
	}
	ks_buf_adds(b, "]");
out:
	summary_free(&s);
	return rc;
}

/* ---- HTML --------------------------------------------------------------------------------- */

static void td(struct ks_buf *b, const char *s)
{
	ks_buf_adds(b, "<td>");
	ks_html_add(b, s ? s : "");
	ks_buf_adds(b, "</td>");
}

int ks_report_html_prov_sections(struct ks_store *st, const struct ks_tally *t, struct ks_buf *b,
				 FILE *out, struct ks_err *err)
{
	struct summary s;
	int rc = summary_build(st, t, &s, err);
	if (rc != KS_OK)
		goto out;
	ks_buf_adds(b, "<h2>Distribution</h2>\n<p>Media that the device owner sent, as chat "
		       "applications recorded it: distinct media per exhibit and category. A media "
		       "may be identified by the SHA-256 the application kept although its file is "
		       "no longer on the exhibit (files in case: 0).</p>\n");
	for (size_t i = 0; i < s.nex; i++) {
		const struct dexhibit *e = &s.ex[i];
		ks_buf_adds(b, "<h3>Exhibit ");
		ks_html_add(b, e->exhibit);
		ks_buf_addf(
		    b, "</h3>\n<table class=\"fig\"><thead><tr><th>Category</th><th>Distributed "
		       "media</th></tr></thead>\n<tbody>\n");
		for (int c = 0; c < e->ncats; c++) {
			ks_buf_adds(b, "<tr>");
			td(b, e->cats[c].label);
			ks_buf_addf(b, "<td class=\"n\">%lld</td></tr>\n",
				    (long long)e->cats[c].media);
		}
		ks_buf_addf(b,
			    "<tr class=\"total\"><td>All categories</td><td class=\"n\">%lld</td>"
			    "</tr>\n</tbody></table>\n<p>Sent references: %lld; of them not "
			    "identified with any media: %lld.</p>\n",
			    (long long)e->media, (long long)e->n, (long long)e->unlinked);
		if (!e->n)
			continue;
		ks_buf_adds(b,
			    "<table class=\"items\"><thead><tr><th>Media (SHA-256)</th><th>Category"
			    "</th><th>Match</th><th>Files in case</th><th>Sent</th></tr></thead>\n"
			    "<tbody>\n");
		for (size_t k = e->first; k < e->first + e->n;) {
			const struct sent *d = &s.v[k];
			ks_buf_adds(b, "<tr><td class=\"hash\">");
			ks_html_add(b, d->media_id ? d->sha256 : "not identified");
			ks_buf_adds(b, "</td>");
			td(b, d->category ? ks_report_cat_label(d->scheme, d->category)
					  : (d->media_id ? "Uncategorised" : ""));
			td(b, d->match);
			ks_buf_addf(b, "<td class=\"n\">%lld</td><td>", (long long)d->files);
			size_t m = k;
			do {
				if (m > k)
					ks_buf_adds(b, "<br>");
				ks_html_add(b, s.v[m].summary);
				if (has(s.v[m].artefact)) {
					ks_buf_adds(b, " [");
					ks_html_add(b, s.v[m].artefact);
					if (has(s.v[m].record)) {
						ks_buf_adds(b, ", ");
						ks_html_add(b, s.v[m].record);
					}
					ks_buf_adds(b, "]");
				}
				m++;
			} while (m < e->first + e->n && same_media(d, &s.v[m]));
			ks_buf_adds(b, "</td></tr>\n");
			k = m;
		}
		ks_buf_adds(b, "</tbody></table>\n");
		if (b->len > 1 << 16 && (rc = ks_report_flush(b, out, err)) != KS_OK)
			goto out;
	}
	ks_buf_adds(b, "<h2>Cameras</h2>\n<p>Media whose EXIF names a camera body serial number, "
		       "by camera.</p>\n");
	if (!s.ncam)
		ks_buf_adds(b, "<p>None.</p>\n");
	for (size_t i = 0; i < s.ncam;) {
		size_t n = camera_run(&s, i);
		const struct ks_exif *x = &s.cam[i].x;
		ks_buf_adds(b, "<h3>Serial ");
		ks_html_add(b, x->body_serial);
		if (has(x->make) || has(x->model)) {
			ks_buf_adds(b, " (");
			ks_html_add(b, x->make);
			ks_buf_adds(b, has(x->make) && has(x->model) ? " " : "");
			ks_html_add(b, x->model);
			ks_buf_adds(b, ")");
		}
		ks_buf_addf(b,
			    ": %zu media</h3>\n<table class=\"items\"><thead><tr><th>Exhibit</th>"
			    "<th>Path</th><th>SHA-256</th><th>Category</th><th>Taken</th><th>GPS"
			    "</th></tr></thead>\n<tbody>\n",
			    n);
		for (size_t k = i; k < i + n; k++) {
			const struct camera_media *c = &s.cam[k];
			char gps[96] = "";
			if (c->x.has_gps)
				snprintf(gps, sizeof gps, "%.7f, %.7f", c->x.gps_lat, c->x.gps_lon);
			ks_buf_adds(b, "<tr>");
			td(b, c->exhibit);
			td(b, c->path);
			ks_buf_adds(b, "<td class=\"hash\">");
			ks_html_add(b, c->sha256);
			ks_buf_adds(b, "</td>");
			td(b, c->category ? ks_report_cat_label(c->scheme, c->category)
					  : "Uncategorised");
			ks_buf_adds(b, "<td>");
			ks_html_add(b, c->x.datetime_original);
			if (has(c->x.offset_time_original)) {
				ks_buf_adds(b, " ");
				ks_html_add(b, c->x.offset_time_original);
			}
			ks_buf_adds(b, "</td>");
			td(b, gps);
			ks_buf_adds(b, "</tr>\n");
		}
		ks_buf_adds(b, "</tbody></table>\n");
		i += n;
	}
	rc = ks_report_flush(b, out, err);
out:
	summary_free(&s);
	return rc;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

static void field(struct ks_buf *b, const char *s, int text)
{
	ks_buf_add(b, ",", 1);
	ks_csv_add(b, s ? s : "", text);
}

int ks_report_csv_prov_sections(struct ks_store *st, const struct ks_tally *t, struct ks_buf *b,
				FILE *out, struct ks_err *err)
{
	struct summary s;
	int rc = summary_build(st, t, &s, err);
	if (rc != KS_OK)
		goto out;
	ks_buf_adds(b, "columns,distributed,exhibit,scheme,code,category,media\r\n");
	for (size_t i = 0; i < s.nex; i++) {
		const struct dexhibit *e = &s.ex[i];
		for (int c = 0; c <= e->ncats; c++) {
			ks_buf_adds(b, "distributed");
			field(b, e->exhibit, 1);
			field(b, c < e->ncats ? e->cats[c].scheme : t->scheme, 0);
			field(b, c < e->ncats ? e->cats[c].code : "*", 0);
			field(b, c < e->ncats ? e->cats[c].label : "All categories", 0);
			ks_buf_addf(b, ",%lld\r\n",
				    (long long)(c < e->ncats ? e->cats[c].media : e->media));
		}
	}
	ks_buf_adds(b, "columns,sent,exhibit,sha256,md5,category,match,files_in_case,app,peer,"
		       "peer_name,chat,chat_name,time,artefact,record,summary\r\n");
	for (size_t i = 0; i < s.n; i++) {
		const struct sent *d = &s.v[i];
		char when[32];
		ks_time_iso8601(d->time, when);
		ks_buf_adds(b, "sent");
		field(b, d->exhibit, 1);
		field(b, d->sha256, 0);
		field(b, d->md5, 0);
		field(b, d->category ? ks_report_cat_label(d->scheme, d->category) : "", 0);
		field(b, d->match, 1);
		ks_buf_addf(b, ",%lld", (long long)d->files);
		const char *f[] = {d->app, d->peer,	d->peer_name, d->chat,	 d->chat_name,
				   when,   d->artefact, d->record,    d->summary};
		for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
			field(b, f[k], 1);
		ks_buf_adds(b, "\r\n");
		if (b->len > 1 << 16 && (rc = ks_report_flush(b, out, err)) != KS_OK)
			goto out;
	}
	ks_buf_adds(b, "columns,camera,body_serial,make,model,sha256,exhibit,path,category,"
		       "datetime_original,offset_time_original,gps_lat,gps_lon\r\n");
	for (size_t i = 0; i < s.ncam; i++) {
		const struct camera_media *c = &s.cam[i];
		ks_buf_adds(b, "camera");
		field(b, c->x.body_serial, 1);
		field(b, c->x.make, 1);
		field(b, c->x.model, 1);
		field(b, c->sha256, 0);
		field(b, c->exhibit, 1);
		field(b, c->path, 1);
		field(b, c->category ? ks_report_cat_label(c->scheme, c->category) : "", 0);
		field(b, c->x.datetime_original, 0);
		field(b, c->x.offset_time_original, 0);
		if (c->x.has_gps)
			ks_buf_addf(b, ",%.7f,%.7f\r\n", c->x.gps_lat, c->x.gps_lon);
		else
			ks_buf_adds(b, ",,\r\n");
	}
	rc = ks_report_flush(b, out, err);
out:
	summary_free(&s);
	return rc;
}

/* ---- for VICS ---------------------------------------------------------------------------- */

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int keep_id(void *ctx, const struct ks_ref_row *r)
{
	struct ids *d = ctx;
	if (!r->r.media_id || !r->r.kind || strcmp(r->r.kind, "sent") != 0)
		return 0;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->v = ks_xrealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n++] = r->r.media_id;
	return 0;
}

static int cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

int ks_report_distributed_ids(struct ks_store *st, int64_t **out, size_t *n, struct ks_err *err)
{
	struct ids d = {0};
	int rc = ks_store_refs_each(st, keep_id, &d, err);
	if (rc == KS_E_UNSUPPORTED)
		rc = KS_OK;
	if (d.n)
		qsort(d.v, d.n, sizeof *d.v, cmp_id);
	size_t k = 0;
	for (size_t i = 0; i < d.n; i++)
		if (k == 0 || d.v[k - 1] != d.v[i])
			d.v[k++] = d.v[i];
	*out = d.v;
	*n = rc == KS_OK ? k : 0;
	return rc;
}
