/* Browser downloads: Chrome/Chromium/Edge History (downloads + downloads_url_chains,
 * with the SHA-256 Chrome records for completed downloads), Firefox places.sqlite
 * (moz_annos download annotations, referrer from the visit chain) and the legacy
 * Firefox downloads.sqlite. Each download is a reference with URL, referrer, target
 * path and time. */
#include <stdlib.h>
#include <string.h>

#include "artefact_impl.h"

static int probe_chrome(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"History", NULL};
	return ks_art_probe_name(path, names, 0, head, len, ks_art_sqlite_head);
}

static int probe_firefox(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"places.sqlite", NULL};
	return ks_art_probe_name(path, names, 0, head, len, ks_art_sqlite_head);
}

static int probe_firefox_legacy(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"downloads.sqlite", NULL};
	return ks_art_probe_name(path, names, 0, head, len, ks_art_sqlite_head);
}

/* Which Chromium browser, from where its profile lives. */
static const char *chromium_app(const char *path)
{
	static const struct {
		const char *needle, *app;
	} apps[] = {
		{"Microsoft/Edge", "Edge"},   {"Microsoft\\Edge", "Edge"}, {"microsoft-edge", "Edge"},
		{"BraveSoftware", "Brave"},   {"Opera", "Opera"},          {"Vivaldi", "Vivaldi"},
		{"chromium", "Chromium"},     {"Chromium", "Chromium"},
	};
	for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++)
		if (strstr(path, apps[i].needle))
			return apps[i].app;
	return "Chrome";
}

static const char *chrome_state(int64_t s)
{
	switch (s) {
	case 0:
		return "in progress";
	case 1:
		return "complete";
	case 2:
		return "cancelled";
	case 3:
		return "bug";
	case 4:
		return "interrupted";
	default:
		return "unknown state";
	}
}

enum {
	C_ID, C_TARGET, C_FULL, C_START, C_END, C_RECV, C_TOTAL, C_STATE, C_DANGER, C_OPENED,
	C_MIME, C_REFERRER, C_TAB_REFERRER, C_TAB_URL, C_HASH, C_URL_OLD, C_FINAL, C_FIRST
};

/* One Chrome History download as a reference. */
static int chrome_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
		      struct ks_artefact_ref *r)
{
	const char *app = arg;
	r->app = app;
	r->record = ks_art_printf(a, "download %lld", (long long)sqlite3_column_int64(st, C_ID));
	r->path = ks_art_text(a, st, C_TARGET);
	if (!r->path || !*r->path)
		r->path = ks_art_text(a, st, C_FULL);
	r->url = ks_art_text(a, st, C_FINAL);
	if (!r->url)
		r->url = ks_art_text(a, st, C_URL_OLD);
	r->referrer = ks_art_text(a, st, C_REFERRER);
	if (!r->referrer || !*r->referrer)
		r->referrer = ks_art_text(a, st, C_TAB_REFERRER);
	if (r->referrer && !*r->referrer)
		r->referrer = NULL;
	ks_art_time_col(r, a, st, C_START, KS_TIME_WEBKIT_US, "download start");
	/* Chrome 8-25 wrote Unix seconds into start_time. */
	if (!r->time && ks_time_to_unix(KS_TIME_UNIX_S, sqlite3_column_double(st, C_START))) {
		r->time_src = KS_TIME_UNIX_S;
		r->time = ks_time_to_unix(KS_TIME_UNIX_S, sqlite3_column_double(st, C_START));
	}
	r->mime = ks_art_text(a, st, C_MIME);
	if (r->mime && !*r->mime)
		r->mime = NULL;
	int64_t state = sqlite3_column_type(st, C_STATE) == SQLITE_NULL
			    ? -1
			    : sqlite3_column_int64(st, C_STATE);
	ks_art_size_col(r, st, C_RECV);
	/* The hash is the final hash of the file only for a completed download. */
	if (state == 1)
		ks_art_sha256_col(r, st, C_HASH);
	const char *first = ks_art_text(a, st, C_FIRST);
	int64_t end = ks_time_to_unix(KS_TIME_WEBKIT_US, sqlite3_column_double(st, C_END));
	char endtxt[32];
	ks_time_iso8601(end, endtxt);
	r->note = ks_art_printf(
	    a, "%s%s%s%s%s%s%s", state >= 0 ? chrome_state(state) : "state unknown",
	    end ? "; ended " : "", endtxt, sqlite3_column_int(st, C_OPENED) ? "; opened" : "",
	    sqlite3_column_int(st, C_DANGER) ? "; flagged dangerous" : "",
	    first && r->url && strcmp(first, r->url) != 0 ? "; first URL " : "",
	    first && r->url && strcmp(first, r->url) != 0 ? first : "");
	return 1;
}

static int parse_chrome(struct ks_artefact_ctx *c, struct ks_artefact_db *adb, struct ks_err *err)
{
	sqlite3 *db = ks_art_db(adb);
	struct ks_buf sql = {0};
	int rc;
	if (!ks_art_has_col(db, "downloads", "id")) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "History: no downloads table");
		goto out;
	}
	static const char *const cols[] = {"target_path", "full_path",  "start_time",
					   "end_time",    "received_bytes", "total_bytes",
					   "state",       "danger_type", "opened",
					   "mime_type",   "referrer",    "tab_referrer_url",
					   "tab_url",     "hash",        "url"};
	ks_buf_adds(&sql, "SELECT d.id");
	ks_art_cols(&sql, db, "d", "downloads", cols, sizeof cols / sizeof cols[0]);
	if (ks_art_has_col(db, "downloads_url_chains", "url") &&
	    ks_art_has_col(db, "downloads_url_chains", "chain_index"))
		ks_buf_adds(&sql, ", (SELECT u.url FROM downloads_url_chains u WHERE u.id = d.id"
				  " ORDER BY u.chain_index DESC LIMIT 1)"
				  ", (SELECT u.url FROM downloads_url_chains u WHERE u.id = d.id"
				  " ORDER BY u.chain_index ASC LIMIT 1)");
	else
		ks_buf_adds(&sql, ", NULL, NULL");
	ks_buf_adds(&sql, " FROM downloads d ORDER BY d.id");
	const char *app = chromium_app(c->path);
	rc = ks_art_rows(c, &ks_art_chrome, db, (const char *)sql.data, "History",
			 KS_REF_DOWNLOAD, chrome_row, app, err);
out:
	ks_buf_release(&sql);
	return rc;
}

/* Integer value of "key": in a small flat JSON object; -1 when absent. */
static int64_t json_int(const char *json, const char *key)
{
	if (!json)
		return -1;
	char pat[64];
	size_t k = strlen(key);
	if (k + 3 >= sizeof pat)
		return -1;
	pat[0] = '"';
	memcpy(pat + 1, key, k);
	pat[k + 1] = '"';
	pat[k + 2] = '\0';
	const char *p = strstr(json, pat);
	if (!p)
		return -1;
	p += k + 2;
	while (*p == ' ' || *p == ':')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	return strtoll(p, NULL, 10);
}

static const char *firefox_state(int64_t s)
{
	switch (s) {
	case 1:
		return "finished";
	case 2:
		return "failed";
	case 3:
		return "cancelled";
	case 4:
		return "paused";
	case 6:
		return "blocked (parental controls)";
	case 8:
		return "blocked (dirty)";
	default:
		return NULL;
	}
}

enum { F_ID, F_URL, F_DEST, F_ADDED, F_META, F_REFERRER };

/* One Firefox download annotation as a reference. */
static int firefox_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
		       struct ks_artefact_ref *r)
{
	(void)arg;
	r->record = ks_art_printf(a, "moz_annos %lld", (long long)sqlite3_column_int64(st, F_ID));
	r->url = ks_art_text(a, st, F_URL);
	const char *dest = ks_art_text(a, st, F_DEST);
	r->path = ks_art_file_uri_path(a, dest);
	if (!r->path)
		r->path = dest;
	r->referrer = ks_art_text(a, st, F_REFERRER);
	ks_art_time_col(r, a, st, F_ADDED, KS_TIME_UNIX_US, "download start");
	const char *meta = ks_art_text(a, st, F_META);
	int64_t size = json_int(meta, "fileSize");
	if (size >= 0)
		r->size = size;
	const char *state = firefox_state(json_int(meta, "state"));
	int64_t end = json_int(meta, "endTime");
	char endtxt[32];
	ks_time_iso8601(end > 0 ? ks_time_to_unix(KS_TIME_UNIX_MS, (double)end) : 0, endtxt);
	if (state || endtxt[0])
		r->note = ks_art_printf(a, "%s%s%s", state ? state : "",
					endtxt[0] ? (state ? "; ended " : "ended ") : "", endtxt);
	return 1;
}

static int parse_firefox(struct ks_artefact_ctx *c, struct ks_artefact_db *adb, struct ks_err *err)
{
	sqlite3 *db = ks_art_db(adb);
	struct ks_buf sql = {0};
	int rc;
	if (!ks_art_has_col(db, "moz_annos", "content") ||
	    !ks_art_has_col(db, "moz_anno_attributes", "name") ||
	    !ks_art_has_col(db, "moz_places", "url")) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "places.sqlite: no moz_annos/moz_places tables");
		goto out;
	}
	ks_buf_adds(&sql, "SELECT a.id, p.url, a.content, ");
	ks_art_col(&sql, db, "a", "moz_annos", "dateAdded");
	ks_buf_adds(&sql, ", (SELECT a2.content FROM moz_annos a2 JOIN moz_anno_attributes n2"
			  " ON n2.id = a2.anno_attribute_id WHERE a2.place_id = a.place_id"
			  " AND n2.name = 'downloads/metaData' LIMIT 1)");
	if (ks_art_has_col(db, "moz_historyvisits", "from_visit"))
		ks_buf_adds(&sql, ", (SELECT rp.url FROM moz_historyvisits v"
				  " JOIN moz_historyvisits rv ON rv.id = v.from_visit"
				  " JOIN moz_places rp ON rp.id = rv.place_id"
				  " WHERE v.place_id = a.place_id ORDER BY v.visit_date DESC LIMIT 1)");
	else
		ks_buf_adds(&sql, ", NULL");
	ks_buf_adds(&sql, " FROM moz_annos a JOIN moz_anno_attributes n ON n.id = a.anno_attribute_id"
			  " JOIN moz_places p ON p.id = a.place_id"
			  " WHERE n.name = 'downloads/destinationFileURI' ORDER BY a.id");
	rc = ks_art_rows(c, &ks_art_firefox, db, (const char *)sql.data, "places.sqlite",
			 KS_REF_DOWNLOAD, firefox_row, NULL, err);
out:
	ks_buf_release(&sql);
	return rc;
}

enum { D_ID, D_SOURCE, D_TARGET, D_START, D_REFERRER, D_MIME, D_SIZE, D_STATE };

/* One legacy Firefox download as a reference. */
static int firefox_legacy_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
			      struct ks_artefact_ref *r)
{
	(void)arg;
	r->record =
	    ks_art_printf(a, "moz_downloads %lld", (long long)sqlite3_column_int64(st, D_ID));
	r->url = ks_art_text(a, st, D_SOURCE);
	const char *target = ks_art_text(a, st, D_TARGET);
	r->path = ks_art_file_uri_path(a, target);
	if (!r->path)
		r->path = target;
	r->referrer = ks_art_text(a, st, D_REFERRER);
	r->mime = ks_art_text(a, st, D_MIME);
	ks_art_time_col(r, a, st, D_START, KS_TIME_UNIX_US, "download start");
	if (sqlite3_column_type(st, D_SIZE) == SQLITE_INTEGER &&
	    sqlite3_column_int64(st, D_SIZE) >= 0)
		r->size = sqlite3_column_int64(st, D_SIZE);
	r->note = firefox_state(sqlite3_column_int64(st, D_STATE));
	return 1;
}

static int parse_firefox_legacy(struct ks_artefact_ctx *c, struct ks_artefact_db *adb,
				struct ks_err *err)
{
	sqlite3 *db = ks_art_db(adb);
	struct ks_buf sql = {0};
	int rc;
	if (!ks_art_has_col(db, "moz_downloads", "id")) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "downloads.sqlite: no moz_downloads table");
		goto out;
	}
	static const char *const cols[] = {"source",   "target",  "startTime",
					   "referrer", "mimeType", "maxBytes", "state"};
	ks_buf_adds(&sql, "SELECT d.id");
	ks_art_cols(&sql, db, "d", "moz_downloads", cols, sizeof cols / sizeof cols[0]);
	ks_buf_adds(&sql, " FROM moz_downloads d ORDER BY d.id");
	rc = ks_art_rows(c, &ks_art_firefox_legacy, db, (const char *)sql.data, "downloads.sqlite",
			 KS_REF_DOWNLOAD, firefox_legacy_row, NULL, err);
out:
	ks_buf_release(&sql);
	return rc;
}

const struct ks_artefact_ops ks_art_chrome = {
	.name = "chrome-history",
	.app = "Chrome",
	.input = KS_ARTEFACT_SQLITE,
	.probe = probe_chrome,
	.parse_db = parse_chrome,
};

const struct ks_artefact_ops ks_art_firefox = {
	.name = "firefox-places",
	.app = "Firefox",
	.input = KS_ARTEFACT_SQLITE,
	.probe = probe_firefox,
	.parse_db = parse_firefox,
};

const struct ks_artefact_ops ks_art_firefox_legacy = {
	.name = "firefox-downloads",
	.app = "Firefox",
	.input = KS_ARTEFACT_SQLITE,
	.probe = probe_firefox_legacy,
	.parse_db = parse_firefox_legacy,
};
