/* Unit tests of the case store's provenance half (SQLite): references and their links,
 * media known by SHA-256 only (matched, completed when the bytes turn up, skipped by
 * media_each), EXIF kept once per media, references and EXIF attached to file rows,
 * a cached thumbnail not counted "in container", and a source forgotten with its
 * references. Digests and labels are made up. */
#include <stdlib.h>
#include <string.h>

#include "kestrel/evidence.h"
#include "kestrel/exif.h"
#include "kestrel/media.h"
#include "kestrel/store.h"
#include "kestrel/store_review.h"
#include "ktest.h"

static void digests(struct ks_digests *d, int seed)
{
	for (int i = 0; i < 16; i++)
		d->md5[i] = (uint8_t)(seed + i);
	for (int i = 0; i < 20; i++)
		d->sha1[i] = (uint8_t)(seed * 3 + i);
	for (int i = 0; i < 32; i++)
		d->sha256[i] = (uint8_t)(seed * 7 + i);
}

static int64_t add_file(struct ks_store *st, int64_t ex, int64_t src, int64_t media, int64_t parent,
			const char *path, int state)
{
	struct ks_file_rec f = {.exhibit_id = ex,
				.source_id = src,
				.media_id = media,
				.parent_id = parent,
				.path = path,
				.state = state,
				.size = 10,
				.offset = -1,
				.type = media ? "jpeg" : "data",
				.kind = media ? KS_KIND_PICTURE : KS_KIND_OTHER};
	int64_t id = 0;
	struct ks_err err = {0};
	CHECK(ks_store_file_add(st, &f, &id, &err) == KS_OK);
	return id;
}

struct seen {
	int rows;
	char thumb_refs[256], media_refs[256], exif_serial[KS_EXIF_STR];
	int thumb_in_container, thumb_nrefs;
	int64_t hash_only[8];
	int nhash_only, media_each;
};

static int on_row(void *ctx, const struct ks_file_row *r)
{
	struct seen *s = ctx;
	s->rows++;
	if (strstr(r->path, "message 1")) {
		s->thumb_in_container = r->in_container;
		s->thumb_nrefs = (int)r->nrefs;
		for (size_t i = 0; i < r->nrefs; i++)
			snprintf(s->thumb_refs + strlen(s->thumb_refs),
				 sizeof s->thumb_refs - strlen(s->thumb_refs), "%s/%s;",
				 r->refs[i]->r.record, r->refs[i]->r.link_how);
	}
	if (strcmp(r->path, "/sdcard/DCIM/a.jpg") == 0) {
		for (size_t i = 0; i < r->nrefs; i++)
			snprintf(s->media_refs + strlen(s->media_refs),
				 sizeof s->media_refs - strlen(s->media_refs), "%s/%s/%s;",
				 r->refs[i]->r.kind, r->refs[i]->r.peer, r->refs[i]->file);
		if (r->exif)
			snprintf(s->exif_serial, sizeof s->exif_serial, "%s", r->exif->body_serial);
	}
	return 0;
}

static int on_hash_only(void *ctx, int64_t id, const uint8_t sha256[32])
{
	struct seen *s = ctx;
	if (s->nhash_only < 8)
		s->hash_only[s->nhash_only++] = id;
	(void)sha256;
	return 0;
}

static int on_media(void *ctx, int64_t id, const struct ks_digests *d)
{
	struct seen *s = ctx;
	s->media_each++;
	(void)id;
	(void)d;
	return 0;
}

struct refs_seen {
	int n, hash_only_categorised, hash_only_b;
	char artefacts[512];
};

static int on_ref(void *ctx, const struct ks_ref_row *r)
{
	struct refs_seen *s = ctx;
	s->n++;
	snprintf(s->artefacts + strlen(s->artefacts), sizeof s->artefacts - strlen(s->artefacts),
		 "%s|%s|%s;", r->artefact, r->r.record, r->sha256);
	if (r->media_files == 0 && r->category && strcmp(r->category, "A") == 0 &&
	    strcmp(r->match, "set (sha256)") == 0 && r->media_md5[0] == '\0')
		s->hash_only_categorised++;
	if (r->media_files == 0 && r->category && strcmp(r->category, "B") == 0)
		s->hash_only_b++;
	return 0;
}

int main(void)
{
	const char *dir = ktest_tmpdir();
	char case_dir[512];
	snprintf(case_dir, sizeof case_dir, "%s/case", dir);
	struct ks_err err = {0};
	struct ks_case_meta meta = {.ref = "P-1", .examiner = "tester"};
	CHECK(ks_store_create(case_dir, &meta, &err) == KS_OK);
	struct ks_store *st = NULL;
	CHECK(ks_store_open(case_dir, 0, &st, &err) == KS_OK);
	if (!st) {
		fprintf(stderr, "open: %s\n", err.msg);
		return ktest_done();
	}
	int64_t ex = 0, src = 0, set = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(st, "EX-1", &ex, &err) == KS_OK);
	CHECK(ks_store_source_add(st, ex, "/evidence/phone", "directory", 0, &src, &err) == KS_OK);
	struct ks_hashset_meta hm = {
	    .name = "set", .format = "vics", .scheme = "uk", .role = "alert"};
	CHECK(ks_store_hashset_add(st, &hm, &set, &err) == KS_OK);

	/* A picture on disk, the store, a thumbnail item under it. */
	struct ks_digests d1, d2;
	digests(&d1, 1);
	digests(&d2, 2);
	struct ks_media_rec m1 = {.d = &d1, .size = 10, .type = "jpeg", .kind = KS_KIND_PICTURE};
	int64_t media1 = 0, media_thumb = 0, hash_only = 0;
	int is_new = 0;
	CHECK(ks_store_media_put(st, &m1, &media1, &is_new, &err) == KS_OK && is_new == 1);
	int64_t fa = add_file(st, ex, src, media1, 0, "/sdcard/DCIM/a.jpg", KS_STATE_LIVE);
	int64_t fdb = add_file(st, ex, src, 0, 0, "/data/msgstore.db", KS_STATE_LIVE);
	struct ks_media_rec mt = {.d = &d2, .size = 10, .type = "jpeg", .kind = KS_KIND_PICTURE};
	CHECK(ks_store_media_put(st, &mt, &media_thumb, &is_new, &err) == KS_OK);
	int64_t fth = add_file(st, ex, src, media_thumb, fdb, "message 1", KS_STATE_CACHE);

	/* The deleted picture, known by the SHA-256 the app recorded. */
	uint8_t gone[32];
	memset(gone, 0xab, sizeof gone);
	CHECK(ks_store_media_by_sha256(st, gone, KS_KIND_PICTURE, 4242, &hash_only, &is_new,
				       &err) == KS_OK);
	CHECK(is_new == 1 && hash_only > 0);
	int64_t again = 0;
	CHECK(ks_store_media_by_sha256(st, gone, KS_KIND_PICTURE, 4242, &again, &is_new, &err) ==
	      KS_OK);
	CHECK(again == hash_only && is_new == 0);
	CHECK(ks_store_media_by_sha256(st, d1.sha256, KS_KIND_PICTURE, -1, &again, &is_new, &err) ==
	      KS_OK);
	CHECK(again == media1 && is_new == 0); /* a file's media is found, not duplicated */
	CHECK(ks_store_match_add(st, hash_only, set, "sha256", "uk", "A", 3, &err) == KS_OK);

	struct ks_ref_rec r1 = {.exhibit_id = ex,
				.source_id = src,
				.artefact_file_id = fdb,
				.parser = "whatsapp-android",
				.app = "WhatsApp",
				.kind = "sent",
				.record = "message 1",
				.peer = "447700900123@s.whatsapp.net",
				.time = 1690000000,
				.time_raw = "1690000000123",
				.time_src = "unix-ms",
				.size = 4242,
				.sha256 = gone,
				.media_id = hash_only,
				.thumb_file_id = fth,
				.link_how = "sha256"};
	struct ks_ref_rec r2 = {.exhibit_id = ex,
				.source_id = src,
				.artefact_file_id = fdb,
				.parser = "whatsapp-android",
				.kind = "received",
				.record = "message 2",
				.peer = "447700900456@s.whatsapp.net",
				.path = "DCIM/a.jpg",
				.size = -1};
	int64_t id1 = 0, id2 = 0;
	CHECK(ks_store_ref_add(st, &r1, &id1, &err) == KS_OK && id1 > 0);
	CHECK(ks_store_ref_add(st, &r2, &id2, &err) == KS_OK && id2 > id1);
	struct ks_ref_rec bad = r2;
	bad.kind = "posted";
	CHECK(ks_store_ref_add(st, &bad, NULL, &err) == KS_E_USAGE);
	struct ks_ref_link l = {.id = id2, .media_id = media1, .file_id = fa, .link_how = "path"};
	CHECK(ks_store_ref_set_link(st, &l, &err) == KS_OK);
	l.id = 999;
	CHECK(ks_store_ref_set_link(st, &l, &err) == KS_E_NOTFOUND);

	struct ks_exif x;
	memset(&x, 0, sizeof x);
	snprintf(x.container, sizeof x.container, "jpeg");
	snprintf(x.body_serial, sizeof x.body_serial, "SN-1");
	snprintf(x.make, sizeof x.make, "Maker");
	x.has_gps = 1;
	x.gps_lat = 51.5;
	x.gps_lon = -0.1275;
	CHECK(ks_store_exif_put(st, media1, &x, &err) == KS_OK);
	snprintf(x.body_serial, sizeof x.body_serial, "SN-2");
	CHECK(ks_store_exif_put(st, media1, &x, &err) == KS_OK); /* the first is kept */
	CHECK(ks_store_commit(st, &err) == KS_OK);

	/* Read back. */
	struct seen s;
	memset(&s, 0, sizeof s);
	CHECK(ks_store_files_each(st, on_row, &s, &err) == KS_OK);
	CHECK(s.rows == 3);
	CHECK_STR(s.thumb_refs, "message 1/sha256;");
	CHECK(s.thumb_in_container == 0 && s.thumb_nrefs == 1);
	CHECK_STR(s.media_refs, "received/447700900456@s.whatsapp.net//sdcard/DCIM/a.jpg;");
	CHECK_STR(s.exif_serial, "SN-1");
	CHECK(ks_store_media_hash_only_each(st, on_hash_only, &s, &err) == KS_OK);
	CHECK(s.nhash_only == 1 && s.hash_only[0] == hash_only);
	CHECK(ks_store_media_each(st, on_media, &s, &err) == KS_OK);
	CHECK(s.media_each == 2); /* the hash-only media is not handed out with fake digests */
	struct refs_seen rs;
	memset(&rs, 0, sizeof rs);
	CHECK(ks_store_refs_each(st, on_ref, &rs, &err) == KS_OK);
	CHECK(rs.n == 2 && rs.hash_only_categorised == 1);
	CHECK(strstr(rs.artefacts, "/data/msgstore.db|message 1|abababab") != NULL);
	CHECK(strstr(rs.artefacts, "/data/msgstore.db|message 2|;") != NULL);

	/* A verified review grade is the media's category for its references too, as it
	 * is for file rows. */
	int64_t done = 0, action = 0, agreed = 0, disputed = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_grade(st, &hash_only, 1, "grader-1", "uk", "B", &done, &action, &err) ==
	      KS_OK);
	CHECK(ks_store_grade_verify(st, &hash_only, 1, "grader-2", "B", &agreed, &disputed, &action,
				    &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	CHECK(done == 1 && agreed == 1);
	memset(&rs, 0, sizeof rs);
	CHECK(ks_store_refs_each(st, on_ref, &rs, &err) == KS_OK);
	CHECK(rs.n == 2 && rs.hash_only_categorised == 0 && rs.hash_only_b == 1);

	/* The bytes of the deleted picture turn up (another source): the row is completed
	 * and reported new, so it is matched on every digest. */
	struct ks_digests d3;
	digests(&d3, 3);
	memcpy(d3.sha256, gone, 32);
	struct ks_media_rec m3 = {.d = &d3,
				  .size = 4242,
				  .type = "jpeg",
				  .kind = KS_KIND_PICTURE,
				  .width = 7,
				  .height = 9};
	int64_t media3 = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_media_put(st, &m3, &media3, &is_new, &err) == KS_OK);
	CHECK(media3 == hash_only && is_new == 1);
	CHECK(ks_store_media_put(st, &m3, &media3, &is_new, &err) == KS_OK && is_new == 0);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	s.nhash_only = 0;
	s.media_each = 0;
	CHECK(ks_store_media_hash_only_each(st, on_hash_only, &s, &err) == KS_OK &&
	      s.nhash_only == 0);
	CHECK(ks_store_media_each(st, on_media, &s, &err) == KS_OK && s.media_each == 3);

	/* Forgetting the source takes its references and leaves the media. */
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_source_forget(st, src, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	memset(&rs, 0, sizeof rs);
	CHECK(ks_store_refs_each(st, on_ref, &rs, &err) == KS_OK && rs.n == 0);
	ks_store_close(st);

	/* A read-only handle reads, and refuses provenance writes. */
	CHECK(ks_store_open(case_dir, 1, &st, &err) == KS_OK);
	CHECK(ks_store_ref_add(st, &r2, NULL, &err) == KS_E_USAGE);
	CHECK(ks_store_refs_each(st, on_ref, &rs, &err) == KS_OK);
	ks_store_close(st);
	return ktest_done();
}
