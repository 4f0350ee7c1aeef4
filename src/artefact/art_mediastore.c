/* Android media catalogue: MediaStore external.db (files table: path, owner app,
 * download URL and referrer, trash state, and where its thumbnail lives: the legacy
 * thumbnails table or Android 10+'s <volume>/Pictures|Movies/.thumbnails/<_id>.jpg)
 * and the MiniThumbFile blocks (.thumbdata3/4--*: fixed 10000-byte blocks, block
 * index = files._id) that outlive the pictures they show. */
#include <stdio.h>
#include <string.h>

#include "artefact_impl.h"

#define MINI_BLOCK 10000u
#define MINI_HEADER 13u /* status byte, u64 magic, u32 length (big-endian) */

static int probe_mediastore(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"external.db", "external-*.db", NULL};
	return ks_art_probe_name(path, names, 0, head, len, ks_art_sqlite_head);
}

enum {
	M_ID, M_DATA, M_NAME, M_SIZE, M_MIME, M_TYPE, M_ADDED, M_TAKEN, M_OWNER, M_IS_DOWNLOAD,
	M_DL_URI, M_REFERER, M_TRASHED, M_RELPATH, M_THUMB
};

/* Android 10+ keeps thumbnails at <volume root>/Pictures|Movies/.thumbnails/<_id>.jpg;
 * the root is _data without relative_path + file name. */
static const char *derived_thumb(struct ks_art_arena *a, const char *data, const char *rel,
				 int64_t id, int video)
{
	if (!data || !rel)
		return NULL;
	const char *p = strstr(data, rel);
	if (!p || p == data)
		return NULL;
	int root = (int)(p - data);
	return ks_art_printf(a, "%.*s%s/.thumbnails/%lld.jpg", root, data,
			     video ? "Movies" : "Pictures", (long long)id);
}

/* Appends "; part" (or "part" first) to a short note. */
static void note_part(char *note, size_t cap, const char *part)
{
	size_t n = strlen(note);
	snprintf(note + n, cap - n, "%s%s", n ? "; " : "", part);
}

/* One MediaStore file as a reference. */
static int mediastore_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
			  struct ks_artefact_ref *r)
{
	(void)arg;
	int64_t id = sqlite3_column_int64(st, M_ID);
	r->record = ks_art_printf(a, "files %lld", (long long)id);
	r->path = ks_art_text(a, st, M_DATA);
	r->name = ks_art_text(a, st, M_NAME);
	ks_art_size_col(r, st, M_SIZE);
	r->mime = ks_art_text(a, st, M_MIME);
	r->owner = ks_art_text(a, st, M_OWNER);
	r->url = ks_art_text(a, st, M_DL_URI);
	r->referrer = ks_art_text(a, st, M_REFERER);
	ks_art_time_col(r, a, st, M_ADDED, KS_TIME_UNIX_S, "added");
	r->thumb_path = ks_art_text(a, st, M_THUMB);
	if (!r->thumb_path)
		r->thumb_path = derived_thumb(a, r->path, ks_art_text(a, st, M_RELPATH), id,
					      sqlite3_column_int(st, M_TYPE) == 3);
	int64_t taken = ks_time_to_unix(KS_TIME_UNIX_MS, sqlite3_column_double(st, M_TAKEN));
	char note[96] = "", takentxt[32];
	if (sqlite3_column_int(st, M_TRASHED))
		note_part(note, sizeof note, "in trash");
	if (sqlite3_column_int(st, M_IS_DOWNLOAD))
		note_part(note, sizeof note, "download");
	if (taken) {
		char t[48];
		ks_time_iso8601(taken, takentxt);
		snprintf(t, sizeof t, "taken %s", takentxt);
		note_part(note, sizeof note, t);
	}
	r->note = note[0] ? ks_art_strn(a, note, sizeof note) : NULL;
	return 1;
}

static int parse_mediastore(struct ks_artefact_ctx *c, struct ks_artefact_db *adb,
			    struct ks_err *err)
{
	sqlite3 *db = ks_art_db(adb);
	struct ks_buf sql = {0};
	int rc;
	if (!ks_art_has_col(db, "files", "_id") || !ks_art_has_col(db, "files", "_data")) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "external.db: no MediaStore files table");
		goto out;
	}
	static const char *const cols[] = {"_data",       "_display_name", "_size",
					   "mime_type",   "media_type",    "date_added",
					   "datetaken",   "owner_package_name", "is_download",
					   "download_uri", "referer_uri",  "is_trashed",
					   "relative_path"};
	ks_buf_adds(&sql, "SELECT f._id");
	ks_art_cols(&sql, db, "f", "files", cols, sizeof cols / sizeof cols[0]);
	int have_thumbs = ks_art_has_col(db, "thumbnails", "image_id") &&
			  ks_art_has_col(db, "thumbnails", "_data");
	if (have_thumbs)
		ks_buf_adds(&sql, ", (SELECT t._data FROM thumbnails t WHERE t.image_id = f._id"
				  " ORDER BY t._id LIMIT 1)");
	else
		ks_buf_adds(&sql, ", NULL");
	ks_buf_adds(&sql, " FROM files f");
	if (ks_art_has_col(db, "files", "media_type"))
		ks_buf_adds(&sql, " WHERE f.media_type IN (1,3)"); /* image, video */
	ks_buf_adds(&sql, " ORDER BY f._id");
	rc = ks_art_rows(c, &ks_art_mediastore, db, (const char *)sql.data, "external.db",
			 KS_REF_MEDIA_STORE, mediastore_row, NULL, err);
out:
	ks_buf_release(&sql);
	return rc;
}

/* ---- MiniThumbFile ----------------------------------------------------------------- */

static int mini_magic(const uint8_t *head, size_t len)
{
	/* Block 0 is usually empty (status 0) or present (1); nothing else is valid. */
	return len >= 1 && head[0] <= 1;
}

static int probe_minithumb(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {".thumbdata3--*", ".thumbdata4--*", ".thumbdata5--*",
					    ".thumbdata--*", NULL};
	return ks_art_probe_name(path, names, 0, head, len, mini_magic);
}

static int parse_minithumb(struct ks_artefact_ctx *c, const uint8_t *d, size_t len,
			   struct ks_err *err)
{
	struct ks_art_arena a;
	int rc = KS_OK;
	ks_art_arena_init(&a, 4096);
	for (size_t off = 0, id = 0; len - off >= MINI_HEADER; off += MINI_BLOCK, id++) {
		const uint8_t *b = d + off;
		if (b[0] != 1)
			goto next;
		uint64_t magic = 0;
		for (int i = 1; i <= 8; i++)
			magic = magic << 8 | b[i];
		uint32_t n = (uint32_t)b[9] << 24 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 8 | b[12];
		size_t room = len - off - MINI_HEADER;
		if (room > MINI_BLOCK - MINI_HEADER)
			room = MINI_BLOCK - MINI_HEADER;
		if (n == 0 || n > room)
			goto next;
		struct ks_artefact_ref r;
		ks_art_arena_reset(&a);
		ks_art_ref_init(&r, KS_REF_THUMBNAIL);
		r.app = "Android MediaStore";
		r.record = ks_art_printf(&a, "block %zu", id);
		r.thumb = b + MINI_HEADER;
		r.thumb_len = n;
		r.note = ks_art_printf(&a, "MediaStore files._id %zu, mini_thumb_magic %llu", id,
				       (unsigned long long)magic);
		rc = ks_art_emit(c, &ks_art_minithumb, &r, &a, err);
		if (rc != KS_OK)
			break;
	next:
		if (len - off < MINI_BLOCK)
			break;
	}
	ks_art_arena_release(&a);
	return rc;
}

const struct ks_artefact_ops ks_art_mediastore = {
	.name = "android-mediastore",
	.app = "Android MediaStore",
	.input = KS_ARTEFACT_SQLITE,
	.probe = probe_mediastore,
	.parse_db = parse_mediastore,
};

const struct ks_artefact_ops ks_art_minithumb = {
	.name = "android-minithumb",
	.app = "Android MediaStore",
	.input = KS_ARTEFACT_BYTES,
	.probe = probe_minithumb,
	.parse_bytes = parse_minithumb,
};
