/* `kestrel report --format vics`: a Project VIC VICS 2.0 case export (OData JSON,
 * "#Cases"): one case whose Media are the case's distinct pictures and videos with
 * their category in the case's scheme (region UK for "uk" — kestrel's numbering
 * 1=A 2=B 3=C 0=not indecent — and US for "vics-us"), hashes, IsDistributed (a chat
 * application recorded the device owner sending it), MediaFiles (every occurrence)
 * and MediaMetadata (EXIF camera fields and the references in words). Media known
 * only by the SHA-256 an app recorded are exported without MediaFiles. One Media per
 * line, in SHA-256 order, so the same case gives the same bytes apart from the
 * "Comments" line that carries the generated text. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/evidence.h"
#include "kestrel/exif.h"
#include "kestrel/media.h"
#include "report_prov.h"

struct vmedia {
	int64_t id;
	char sha256[65], md5[33], sha1[41];
	uint64_t size;
	char *type, *scheme, *category;
	int kind;
	struct ks_buf files, meta; /* JSON objects, comma-separated */
	int nfiles, nmeta, meta_done;
};

struct vics {
	struct vmedia *v;
	size_t n, cap;
	size_t *slot; /* open addressing on media id: index + 1, 0 empty */
	size_t nslot;
};

static void grow_slots(struct vics *x);

static struct vmedia *find(struct vics *x, int64_t id, int create)
{
	if (!x->nslot || (create && x->n * 2 >= x->nslot))
		grow_slots(x);
	size_t h = (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ull) & (x->nslot - 1);
	while (x->slot[h]) {
		struct vmedia *m = &x->v[x->slot[h] - 1];
		if (m->id == id)
			return m;
		h = (h + 1) & (x->nslot - 1);
	}
	if (!create)
		return NULL;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 256;
		x->v = ks_xrealloc(x->v, x->cap * sizeof *x->v);
	}
	struct vmedia *m = &x->v[x->n++];
	memset(m, 0, sizeof *m);
	m->id = id;
	x->slot[h] = x->n;
	return m;
}

static void grow_slots(struct vics *x)
{
	size_t n = x->nslot ? x->nslot * 2 : 1024;
	free(x->slot);
	x->slot = ks_xcalloc(n, sizeof *x->slot);
	x->nslot = n;
	for (size_t i = 0; i < x->n; i++) {
		size_t h = (size_t)((uint64_t)x->v[i].id * 0x9e3779b97f4a7c15ull) & (n - 1);
		while (x->slot[h])
			h = (h + 1) & (n - 1);
		x->slot[h] = i + 1;
	}
}

static void vics_release(struct vics *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].type);
		free(x->v[i].scheme);
		free(x->v[i].category);
		ks_buf_release(&x->v[i].files);
		ks_buf_release(&x->v[i].meta);
	}
	free(x->v);
	free(x->slot);
}

static void meta(struct vmedia *m, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	ks_buf_adds(&m->meta, m->nmeta++ ? ", {\"PropertyName\": " : "{\"PropertyName\": ");
	ks_json_add_string(&m->meta, name);
	ks_buf_adds(&m->meta, ", \"PropertyValue\": ");
	ks_json_add_string(&m->meta, value);
	ks_buf_adds(&m->meta, "}");
}

static void meta_refs(struct vmedia *m, const struct ks_ref_row *r)
{
	struct ks_buf s = {0};
	ks_report_ref_sentence(&s, r);
	meta(m, "Reference", (const char *)s.data);
	ks_buf_release(&s);
}

static void meta_exif(struct vmedia *m, const struct ks_exif *x)
{
	char v[64];
	meta(m, "Make", x->make);
	meta(m, "Model", x->model);
	meta(m, "BodySerialNumber", x->body_serial);
	meta(m, "LensModel", x->lens_model);
	meta(m, "LensSerialNumber", x->lens_serial);
	meta(m, "Software", x->software);
	meta(m, "DateTimeOriginal", x->datetime_original);
	meta(m, "OffsetTimeOriginal", x->offset_time_original);
	if (x->has_gps) {
		snprintf(v, sizeof v, "%.7f", x->gps_lat);
		meta(m, "GPSLatitude", v);
		snprintf(v, sizeof v, "%.7f", x->gps_lon);
		meta(m, "GPSLongitude", v);
	}
}

static void set_category(struct vmedia *m, const char *scheme, const char *category)
{
	if (!m->category && category) {
		m->scheme = ks_xstrdup(scheme ? scheme : "");
		m->category = ks_xstrdup(category);
	}
}

static void add_time(struct ks_buf *b, const char *key, int64_t t)
{
	if (!t)
		return;
	ks_buf_addf(b, ", \"%s\": ", key);
	ks_json_add_time(b, t);
}

static int on_file(void *ctx, const struct ks_file_row *r)
{
	struct vics *x = ctx;
	if (!r->media_id || (r->kind != KS_KIND_PICTURE && r->kind != KS_KIND_VIDEO))
		return 0;
	struct vmedia *m = find(x, r->media_id, 1);
	if (!m->type) {
		snprintf(m->sha256, sizeof m->sha256, "%s", r->sha256);
		snprintf(m->md5, sizeof m->md5, "%s", r->md5);
		snprintf(m->sha1, sizeof m->sha1, "%s", r->sha1);
		m->size = r->size;
		m->type = ks_xstrdup(r->type);
		m->kind = r->kind;
		set_category(m, r->scheme, r->category);
	}
	if (!m->meta_done) { /* the same for every occurrence of the media */
		m->meta_done = 1;
		if (r->exif)
			meta_exif(m, r->exif);
		for (size_t i = 0; i < r->nrefs; i++)
			if (r->refs[i]->r.media_id == r->media_id)
				meta_refs(m, r->refs[i]);
	}
	struct ks_buf *b = &m->files;
	const char *name = r->path;
	for (const char *c = r->path; *c; c++)
		if (*c == '/')
			name = c + 1;
	ks_buf_adds(b, m->nfiles++ ? ", {\"MD5\": " : "{\"MD5\": ");
	ks_json_add_string_or_null(b, *r->md5 ? r->md5 : NULL);
	ks_buf_adds(b, ", \"FileName\": ");
	ks_json_add_string(b, name);
	ks_buf_adds(b, ", \"FilePath\": ");
	ks_json_add_string(b, r->path);
	add_time(b, "Created", r->crtime);
	add_time(b, "Written", r->mtime);
	add_time(b, "Accessed", r->atime);
	ks_buf_addf(b, ", \"Deleted\": %s, \"Unallocated\": %s",
		    r->state == KS_STATE_DELETED ? "true" : "false",
		    r->state == KS_STATE_CARVED ? "true" : "false");
	if (r->offset >= 0)
		ks_buf_addf(b, ", \"PhysicalLocation\": %lld", (long long)r->offset);
	ks_buf_adds(b, ", \"SourceID\": ");
	ks_json_add_string(b, r->exhibit);
	ks_buf_adds(b, "}");
	return 0;
}

/* Media that no file holds, known by the SHA-256 an app recorded. */
static int on_ref(void *ctx, const struct ks_ref_row *r)
{
	struct vics *x = ctx;
	if (!r->r.media_id || r->media_files != 0 ||
	    (r->media_kind != KS_KIND_PICTURE && r->media_kind != KS_KIND_VIDEO))
		return 0;
	struct vmedia *m = find(x, r->r.media_id, 1);
	if (!m->type) {
		snprintf(m->sha256, sizeof m->sha256, "%s", r->media_sha256);
		m->type = ks_xstrdup("");
		m->kind = r->media_kind;
		if (r->r.size > 0)
			m->size = (uint64_t)r->r.size;
		set_category(m, r->scheme, r->category);
		meta(m, "MimeType", r->r.mime);
	}
	meta_refs(m, r);
	return 0;
}

static int by_sha(const void *a, const void *b)
{
	return strcmp(((const struct vmedia *)a)->sha256, ((const struct vmedia *)b)->sha256);
}

static const char *mime_of(const char *type)
{
	static const char *const map[][2] = {
	    {"jpeg", "image/jpeg"},	{"png", "image/png"},	     {"gif", "image/gif"},
	    {"bmp", "image/bmp"},	{"webp", "image/webp"},	     {"tiff", "image/tiff"},
	    {"heif", "image/heif"},	{"mp4", "video/mp4"},	     {"mov", "video/quicktime"},
	    {"avi", "video/x-msvideo"}, {"mkv", "video/x-matroska"}, {"webm", "video/webm"},
	};
	for (size_t i = 0; type && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i][0], type) == 0)
			return map[i][1];
	return NULL;
}

/* Category in the export's numbering, or NULL when the media has none in the case's
 * scheme (then MediaMetadata says which it has). */
static const char *vics_category(const struct vmedia *m, const char *case_scheme)
{
	if (!m->category || strcmp(m->scheme, case_scheme) != 0)
		return NULL;
	if (strcmp(case_scheme, "uk") == 0) {
		static const char *const uk[][2] = {{"A", "1"}, {"B", "2"}, {"C", "3"}, {"N", "0"}};
		for (size_t i = 0; i < 4; i++)
			if (strcmp(m->category, uk[i][0]) == 0)
				return uk[i][1];
		return NULL;
	}
	return m->category; /* vics-us codes are the numbers */
}

static int bsearch_id(const int64_t *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == id;
}

/* A stable identifier for the case: a GUID made from the SHA-256 of its reference
 * and creation time. */
static void case_guid(const struct ks_tally *t, char out[40])
{
	struct ks_digests d;
	char *seed = ks_xasprintf("kestrel case %s %lld", t->ref, (long long)t->created);
	ks_hash_buffer(seed, strlen(seed), &d);
	free(seed);
	char h[65];
	ks_hex_encode(d.sha256, 16, h);
	snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static int vics_write(struct ks_store *st, const struct ks_tally *t, FILE *out,
		      const struct ks_report_opts *opts, struct ks_err *err)
{
	struct vics x = {0};
	struct ks_buf b = {0};
	int64_t *dist = NULL;
	size_t ndist = 0;
	char guid[40];
	int rc = ks_store_files_each(st, on_file, &x, err);
	if (rc == KS_OK) {
		rc = ks_store_refs_each(st, on_ref, &x, err);
		if (rc == KS_E_UNSUPPORTED)
			rc = KS_OK;
	}
	if (rc == KS_OK)
		rc = ks_report_distributed_ids(st, &dist, &ndist, err);
	if (rc != KS_OK)
		goto out;
	if (x.n)
		qsort(x.v, x.n, sizeof *x.v, by_sha);
	const char *region = strcmp(t->scheme, "uk") == 0 ? "UK" : "US";
	case_guid(t, guid);
	ks_buf_addf(&b,
		    "{\"@odata.context\": \"http://github.com/VICSDATAMODEL/ProjectVic/"
		    "DataModels/2.0.xml/%s/$metadata#Cases\",\n\"value\": [{\"CaseID\": \"%s\", "
		    "\"CaseNumber\": ",
		    region, guid);
	ks_json_add_string(&b, t->ref);
	ks_buf_adds(&b, ", \"SourceApplicationName\": \"kestrel\", \"ExaminerName\": ");
	ks_json_add_string(&b, t->examiner);
	ks_buf_adds(&b, ",\n\"Comments\": ");
	char *gen = ks_report_one_line(opts->generated);
	ks_json_add_string(&b, gen);
	free(gen);
	ks_buf_adds(&b, ",\n\"Media\": [");
	for (size_t i = 0; i < x.n && rc == KS_OK; i++) {
		struct vmedia *m = &x.v[i];
		const char *cat = vics_category(m, t->scheme);
		ks_buf_addf(&b, "%s{\"MediaID\": %zu, \"Category\": %s", i ? ",\n" : "\n", i + 1,
			    cat ? cat : "null");
		if (*m->md5)
			ks_buf_addf(&b, ", \"MD5\": \"%s\", \"SHA1\": \"%s\"", m->md5, m->sha1);
		ks_buf_addf(&b, ", \"SHA256\": \"%s\"", m->sha256);
		if (m->size)
			ks_buf_addf(&b, ", \"MediaSize\": %llu", (unsigned long long)m->size);
		const char *mime = mime_of(m->type);
		if (mime)
			ks_buf_addf(&b, ", \"MimeType\": \"%s\"", mime);
		ks_buf_addf(&b, ", \"IsDistributed\": %s",
			    bsearch_id(dist, ndist, m->id) ? "true" : "false");
		if (m->category && !cat) {
			char *v = ks_xasprintf(
			    "%s (%s)", ks_report_cat_label(m->scheme, m->category), m->scheme);
			meta(m, "Category", v);
			free(v);
		}
		ks_buf_adds(&b, ", \"MediaFiles\": [");
		if (m->files.len)
			ks_buf_add(&b, m->files.data, m->files.len);
		ks_buf_adds(&b, "], \"MediaMetadata\": [");
		if (m->meta.len)
			ks_buf_add(&b, m->meta.data, m->meta.len);
		ks_buf_adds(&b, "]}");
		if (b.len > 1 << 16)
			rc = ks_report_flush(&b, out, err);
	}
	if (rc != KS_OK)
		goto out;
	ks_buf_adds(&b, "\n]}]}\n");
	rc = ks_report_flush(&b, out, err);
out:
	ks_buf_release(&b);
	free(dist);
	vics_release(&x);
	return rc;
}

const struct ks_report_writer ks_report_vics = {
    .name = "vics",
    .write = vics_write,
};
