/* iOS Photos.sqlite (best effort): one media-store reference per asset of ZASSET
 * (iOS 14+) or ZGENERICASSET (iOS 11-13) with its path under Media/, original file
 * name, importing app, creation time, trash/hidden state, and the path of its
 * Thumbnails/V2 derivative (a directory named after the original's path), which
 * often survives the original. Column sets differ per iOS version. */
#include <stdio.h>
#include <string.h>

#include "artefact_impl.h"

static int probe_photos(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"Photos.sqlite", NULL};
	return ks_art_probe_name(path, names, 0, head, len, ks_art_sqlite_head);
}

enum {
	P_ID, P_DIR, P_FILE, P_CREATED, P_ADDED, P_TRASHED, P_HIDDEN, P_UTI, P_ORIG_NAME,
	P_IMPORTED_BY, P_CREATOR, P_ORIG_SIZE
};

/* MIME type of the common uniform type identifiers Photos records. */
static const char *uti_mime(const char *uti)
{
	static const char *const map[][2] = {
		{"public.jpeg", "image/jpeg"},      {"public.heic", "image/heic"},
		{"public.png", "image/png"},        {"com.compuserve.gif", "image/gif"},
		{"public.mpeg-4", "video/mp4"},     {"com.apple.quicktime-movie", "video/quicktime"},
		{"public.heif", "image/heif"},      {"org.webmproject.webp", "image/webp"},
	};
	for (size_t i = 0; uti && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(uti, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* One Photos asset as a reference. */
static int photos_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
		      struct ks_artefact_ref *r)
{
	const char *asset = arg;
	r->app = "iOS Photos";
	r->record = ks_art_printf(a, "%s %lld", asset, (long long)sqlite3_column_int64(st, P_ID));
	const char *dir = ks_art_text(a, st, P_DIR);
	const char *file = ks_art_text(a, st, P_FILE);
	if (file) {
		/* Relative to /private/var/mobile/Media/ */
		r->path = dir && *dir ? ks_art_printf(a, "%s/%s", dir, file) : file;
		r->thumb_path = ks_art_printf(a, "PhotoData/Thumbnails/V2/%s/5005.JPG", r->path);
	}
	r->name = ks_art_text(a, st, P_ORIG_NAME);
	r->owner = ks_art_text(a, st, P_IMPORTED_BY);
	if (!r->owner)
		r->owner = ks_art_text(a, st, P_CREATOR);
	r->mime = uti_mime(ks_art_text(a, st, P_UTI));
	ks_art_size_col(r, st, P_ORIG_SIZE);
	ks_art_time_col(r, a, st, P_CREATED, KS_TIME_COCOA_S, "created");
	int trashed = sqlite3_column_int(st, P_TRASHED) == 1;
	int hidden = sqlite3_column_int(st, P_HIDDEN) == 1;
	if (trashed || hidden)
		r->note = trashed && hidden ? "recently deleted; hidden"
			  : trashed	    ? "recently deleted"
					    : "hidden";
	return 1;
}

static int parse_photos(struct ks_artefact_ctx *c, struct ks_artefact_db *adb, struct ks_err *err)
{
	sqlite3 *db = ks_art_db(adb);
	struct ks_buf sql = {0};
	int rc;
	const char *asset = ks_art_has_col(db, "ZASSET", "Z_PK")          ? "ZASSET"
			    : ks_art_has_col(db, "ZGENERICASSET", "Z_PK") ? "ZGENERICASSET"
									  : NULL;
	if (!asset) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "Photos.sqlite: no ZASSET/ZGENERICASSET table");
		goto out;
	}
	int have_aa = ks_art_has_col(db, "ZADDITIONALASSETATTRIBUTES", "Z_PK") &&
		      ks_art_has_col(db, asset, "ZADDITIONALATTRIBUTES");
	static const char *const acols[] = {"ZDIRECTORY",  "ZFILENAME", "ZDATECREATED",
					    "ZADDEDDATE",  "ZTRASHEDSTATE", "ZHIDDEN",
					    "ZUNIFORMTYPEIDENTIFIER"};
	ks_buf_adds(&sql, "SELECT a.Z_PK");
	ks_art_cols(&sql, db, "a", asset, acols, sizeof acols / sizeof acols[0]);
	static const char *const xcols[] = {"ZORIGINALFILENAME", "ZIMPORTEDBYBUNDLEIDENTIFIER",
					    "ZCREATORBUNDLEID", "ZORIGINALFILESIZE"};
	ks_art_cols(&sql, db, "x", have_aa ? "ZADDITIONALASSETATTRIBUTES" : NULL, xcols,
		    sizeof xcols / sizeof xcols[0]);
	ks_buf_addf(&sql, " FROM %s a", asset);
	if (have_aa)
		ks_buf_adds(&sql, " LEFT JOIN ZADDITIONALASSETATTRIBUTES x"
				  " ON x.Z_PK = a.ZADDITIONALATTRIBUTES");
	ks_buf_adds(&sql, " ORDER BY a.Z_PK");
	rc = ks_art_rows(c, &ks_art_ios_photos, db, (const char *)sql.data, "Photos.sqlite",
			 KS_REF_MEDIA_STORE, photos_row, asset, err);
out:
	ks_buf_release(&sql);
	return rc;
}

const struct ks_artefact_ops ks_art_ios_photos = {
	.name = "ios-photos",
	.app = "iOS Photos",
	.input = KS_ARTEFACT_SQLITE,
	.probe = probe_photos,
	.parse_db = parse_photos,
};
