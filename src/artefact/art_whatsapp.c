/* WhatsApp: Android msgstore.db (current message/message_media/chat/jid schema, and
 * the legacy messages table) and iOS ChatStorage.sqlite. Each media message becomes
 * a sent/received reference with peer, group, time, the file path the app recorded
 * and the media's SHA-256 (file_hash / ZVCARDNAME, base64), so a sent picture
 * matches hash sets after the file is gone; embedded message thumbnails ride along.
 * Column sets drift per app version: absent columns read as NULL. */
#include <string.h>

#include "artefact_impl.h"

static int ends_with(const char *s, const char *sfx)
{
	size_t n = s ? strlen(s) : 0, k = strlen(sfx);
	return n >= k && strcmp(s + n - k, sfx) == 0;
}

static int is_group(const char *jid)
{
	return ends_with(jid, "@g.us");
}

static int probe_android(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"msgstore.db", "msgstore-*.db", NULL};
	return ks_art_probe_name(path, names, 0, head, len, ks_art_sqlite_head);
}

static int probe_ios(const char *path, const uint8_t *head, size_t len)
{
	static const char *const names[] = {"ChatStorage.sqlite", NULL};
	return ks_art_probe_name(path, names, 0, head, len, ks_art_sqlite_head);
}

/* Thumbnail blob of column i when it looks like a picture (JPEG/PNG/WebP). */
static void take_thumb(struct ks_artefact_ref *r, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) != SQLITE_BLOB)
		return;
	const uint8_t *b = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	if (!b || n < 4)
		return;
	if ((b[0] == 0xFF && b[1] == 0xD8) || (b[0] == 0x89 && b[1] == 'P') ||
	    memcmp(b, "RIFF", 4) == 0) {
		r->thumb = b;
		r->thumb_len = n;
	}
}

/* "forwarded", caption … joined with "; ". */
static const char *join_note(struct ks_art_arena *a, const char *x, const char *y)
{
	if (!x || !*x)
		return y;
	if (!y || !*y)
		return x;
	return ks_art_printf(a, "%s; %s", x, y);
}

/* Peer, group and direction from the chat jid, the group sender and from_me. */
static void set_parties(struct ks_artefact_ref *r, const char *chat_jid, const char *subject,
			const char *sender, int from_me)
{
	r->kind = from_me ? KS_REF_SENT : KS_REF_RECEIVED;
	if (is_group(chat_jid)) {
		r->chat = chat_jid;
		r->chat_name = subject;
		r->peer = from_me ? NULL : sender;
	} else {
		r->peer = chat_jid;
	}
}

/* ---- Android, current schema ----------------------------------------------------- */

enum {
	A_ID, A_FROM_ME, A_TS, A_TYPE, A_FLAGS, A_CHAT_JID, A_SUBJECT, A_SENDER, A_PATH, A_SIZE,
	A_MIME, A_NAME, A_HASH, A_CAPTION, A_URL, A_THUMB, A_THUMB_LEN, A_NCOLS
};

static void jid_expr(struct ks_buf *sql, sqlite3 *db, const char *alias)
{
	if (ks_art_has_col(db, "jid", "raw_string"))
		ks_buf_addf(sql, "%s.raw_string", alias);
	else if (ks_art_has_col(db, "jid", "user") && ks_art_has_col(db, "jid", "server"))
		ks_buf_addf(sql, "(%s.user || '@' || %s.server)", alias, alias);
	else
		ks_buf_adds(sql, "NULL");
}

static void build_android_new(struct ks_buf *sql, sqlite3 *db, uint32_t max_thumb)
{
	int have_chat = ks_art_has_table(db, "chat"), have_jid = ks_art_has_table(db, "jid");
	int have_thumb = ks_art_has_table(db, "message_thumbnail") &&
			 ks_art_has_col(db, "message_thumbnail", "thumbnail");
	int have_map = have_jid && ks_art_has_table(db, "jid_map");
	ks_buf_adds(sql, "SELECT m._id, ");
	ks_art_col(sql, db, "m", "message", "from_me");
	ks_buf_adds(sql, ", ");
	ks_art_col(sql, db, "m", "message", "timestamp");
	ks_buf_adds(sql, ", ");
	ks_art_col(sql, db, "m", "message", "message_type");
	ks_buf_adds(sql, ", ");
	ks_art_col(sql, db, "m", "message", "origination_flags");
	ks_buf_adds(sql, ", ");
	if (have_chat && have_jid) {
		if (have_map) {
			ks_buf_adds(sql, "coalesce(");
			jid_expr(sql, db, "pj");
			ks_buf_adds(sql, ", ");
			jid_expr(sql, db, "cj");
			ks_buf_adds(sql, ")");
		} else {
			jid_expr(sql, db, "cj");
		}
	} else {
		ks_buf_adds(sql, "NULL");
	}
	ks_buf_adds(sql, ", ");
	ks_art_col(sql, db, "c", have_chat ? "chat" : NULL, "subject");
	ks_buf_adds(sql, ", ");
	if (have_jid && ks_art_has_col(db, "message", "sender_jid_row_id"))
		jid_expr(sql, db, "sj");
	else
		ks_buf_adds(sql, "NULL");
	static const char *const mm_cols[] = {"file_path", "file_size",  "mime_type",
					      "media_name", "file_hash", "media_caption",
					      "message_url"};
	ks_art_cols(sql, db, "mm", "message_media", mm_cols, sizeof mm_cols / sizeof mm_cols[0]);
	if (have_thumb)
		ks_buf_addf(sql,
			    ", CASE WHEN length(mt.thumbnail) <= %u THEN mt.thumbnail END, "
			    "length(mt.thumbnail)",
			    max_thumb);
	else
		ks_buf_adds(sql, ", NULL, NULL");
	ks_buf_adds(sql, " FROM message m JOIN message_media mm ON mm.message_row_id = m._id");
	if (have_chat && ks_art_has_col(db, "message", "chat_row_id"))
		ks_buf_adds(sql, " LEFT JOIN chat c ON c._id = m.chat_row_id");
	else if (have_chat)
		ks_buf_adds(sql, " LEFT JOIN chat c ON 0");
	if (have_chat && have_jid) {
		if (ks_art_has_col(db, "chat", "jid_row_id"))
			ks_buf_adds(sql, " LEFT JOIN jid cj ON cj._id = c.jid_row_id");
		else
			ks_buf_adds(sql, " LEFT JOIN jid cj ON 0");
		if (have_map)
			ks_buf_adds(sql, " LEFT JOIN jid_map jmap ON jmap.lid_row_id = cj._id"
					 " LEFT JOIN jid pj ON pj._id = jmap.jid_row_id");
	}
	if (have_jid && ks_art_has_col(db, "message", "sender_jid_row_id"))
		ks_buf_adds(sql, " LEFT JOIN jid sj ON sj._id = m.sender_jid_row_id");
	if (have_thumb)
		ks_buf_adds(sql, " LEFT JOIN message_thumbnail mt ON mt.message_row_id = m._id");
	ks_buf_adds(sql, " ORDER BY m._id");
}

/* One message with its media (current Android schema) as a reference. */
static int android_new_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
			   struct ks_artefact_ref *r)
{
	(void)arg;
	r->record = ks_art_printf(a, "message %lld", (long long)sqlite3_column_int64(st, A_ID));
	set_parties(r, ks_art_text(a, st, A_CHAT_JID), ks_art_text(a, st, A_SUBJECT),
		    ks_art_text(a, st, A_SENDER), sqlite3_column_int(st, A_FROM_ME) == 1);
	ks_art_time_col(r, a, st, A_TS, KS_TIME_UNIX_MS, "message");
	r->path = ks_art_text(a, st, A_PATH);
	r->mime = ks_art_text(a, st, A_MIME);
	r->name = ks_art_text(a, st, A_NAME);
	r->url = ks_art_text(a, st, A_URL);
	ks_art_size_col(r, st, A_SIZE);
	ks_art_sha256_col(r, st, A_HASH);
	take_thumb(r, st, A_THUMB);
	const char *note = NULL;
	if (sqlite3_column_int64(st, A_FLAGS) & 1)
		note = "forwarded";
	const char *cap = ks_art_text(a, st, A_CAPTION);
	if (cap && *cap)
		note = join_note(a, note, ks_art_printf(a, "caption: %s", cap));
	if (sqlite3_column_type(st, A_THUMB) == SQLITE_NULL &&
	    sqlite3_column_type(st, A_THUMB_LEN) == SQLITE_INTEGER)
		note = join_note(a, note,
				 ks_art_printf(a, "thumbnail of %lld bytes not taken (limit)",
					       (long long)sqlite3_column_int64(st, A_THUMB_LEN)));
	if (!r->path)
		note = join_note(a, note, "no local file recorded");
	r->note = note;
	return 1;
}

static int parse_android_new(struct ks_artefact_ctx *c, sqlite3 *db, struct ks_err *err)
{
	struct ks_buf sql = {0};
	int rc;
	if (!ks_art_has_col(db, "message", "_id") ||
	    !ks_art_has_col(db, "message_media", "message_row_id")) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "msgstore.db: message/message_media lack their keys");
		goto out;
	}
	build_android_new(&sql, db, c->lim.max_thumb_bytes);
	rc = ks_art_rows(c, &ks_art_whatsapp_android, db, (const char *)sql.data, "msgstore.db",
			 KS_REF_RECEIVED, android_new_row, NULL, err);
out:
	ks_buf_release(&sql);
	return rc;
}

/* ---- Android, legacy messages table ---------------------------------------------- */

enum {
	L_ID, L_JID, L_FROM_ME, L_TS, L_MIME, L_NAME, L_SIZE, L_HASH, L_URL, L_CAPTION,
	L_SENDER, L_SUBJECT, L_RAW, L_THUMB_IMAGE, L_THUMB2
};

/* The local path inside a Java-serialised com.whatsapp.MediaData: the first
 * TC_STRING (0x74, u16 length) that is an absolute path. */
static const char *serialised_path(struct ks_art_arena *a, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) != SQLITE_BLOB)
		return NULL;
	const uint8_t *b = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	for (size_t k = 0; b && k + 4 < n; k++) {
		if (b[k] != 0x74)
			continue;
		size_t len = (size_t)b[k + 1] << 8 | b[k + 2];
		if (len < 2 || len > n - k - 3 || b[k + 3] != '/')
			continue;
		return ks_art_strn(a, (const char *)b + k + 3, len);
	}
	return NULL;
}

/* One media message of the legacy Android table as a reference. */
static int android_legacy_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
			      struct ks_artefact_ref *r)
{
	(void)arg;
	const char *jid = ks_art_text(a, st, L_JID);
	if (jid && strcmp(jid, "-1") == 0)
		return 0;
	r->record = ks_art_printf(a, "messages %lld", (long long)sqlite3_column_int64(st, L_ID));
	set_parties(r, jid, ks_art_text(a, st, L_SUBJECT), ks_art_text(a, st, L_SENDER),
		    sqlite3_column_int(st, L_FROM_ME) == 1);
	ks_art_time_col(r, a, st, L_TS, KS_TIME_UNIX_MS, "message");
	r->mime = ks_art_text(a, st, L_MIME);
	r->name = ks_art_text(a, st, L_NAME);
	r->url = ks_art_text(a, st, L_URL);
	ks_art_size_col(r, st, L_SIZE);
	ks_art_sha256_col(r, st, L_HASH);
	r->path = serialised_path(a, st, L_THUMB_IMAGE);
	take_thumb(r, st, L_THUMB2);
	if (!r->thumb)
		take_thumb(r, st, L_RAW);
	const char *cap = ks_art_text(a, st, L_CAPTION);
	if (cap && *cap)
		r->note = ks_art_printf(a, "caption: %s", cap);
	if (!r->path)
		r->note = join_note(a, r->note, "no local file recorded");
	return 1;
}

static int parse_android_legacy(struct ks_artefact_ctx *c, sqlite3 *db, struct ks_err *err)
{
	struct ks_buf sql = {0};
	static const char *const cols[] = {"key_remote_jid", "key_from_me",  "timestamp",
					   "media_mime_type", "media_name",  "media_size",
					   "media_hash",     "media_url",    "media_caption",
					   "remote_resource"};
	ks_buf_adds(&sql, "SELECT m._id");
	ks_art_cols(&sql, db, "m", "messages", cols, sizeof cols / sizeof cols[0]);
	int have_cl = ks_art_has_table(db, "chat_list") && ks_art_has_col(db, "chat_list", "subject");
	ks_buf_adds(&sql, have_cl ? ", cl.subject" : ", NULL");
	uint32_t max = c->lim.max_thumb_bytes;
	if (ks_art_has_col(db, "messages", "raw_data"))
		ks_buf_addf(&sql, ", CASE WHEN length(m.raw_data) <= %u THEN m.raw_data END", max);
	else
		ks_buf_adds(&sql, ", NULL");
	if (ks_art_has_col(db, "messages", "thumb_image"))
		ks_buf_adds(&sql, ", CASE WHEN length(m.thumb_image) <= 1048576 THEN m.thumb_image END");
	else
		ks_buf_adds(&sql, ", NULL");
	int have_mt = ks_art_has_table(db, "message_thumbnails") &&
		      ks_art_has_col(db, "message_thumbnails", "key_id") &&
		      ks_art_has_col(db, "messages", "key_id");
	if (have_mt)
		ks_buf_addf(&sql, ", CASE WHEN length(t.thumbnail) <= %u THEN t.thumbnail END", max);
	else
		ks_buf_adds(&sql, ", NULL");
	ks_buf_adds(&sql, " FROM messages m");
	if (have_cl)
		ks_buf_adds(&sql, " LEFT JOIN chat_list cl ON cl.key_remote_jid = m.key_remote_jid");
	if (have_mt)
		ks_buf_adds(&sql, " LEFT JOIN message_thumbnails t ON t.key_id = m.key_id"
				  " AND t.key_remote_jid = m.key_remote_jid");
	/* media: image, audio, video, document, GIF, sticker, view-once image/video */
	if (ks_art_has_col(db, "messages", "media_wa_type"))
		ks_buf_adds(&sql, " WHERE m.media_wa_type IN (1,2,3,9,13,20,42,43)");
	else
		ks_buf_adds(&sql, " WHERE 0");
	ks_buf_adds(&sql, " ORDER BY m._id");
	int rc = ks_art_rows(c, &ks_art_whatsapp_android, db, (const char *)sql.data,
			     "msgstore.db (legacy)", KS_REF_RECEIVED, android_legacy_row, NULL, err);
	ks_buf_release(&sql);
	return rc;
}

static int parse_android(struct ks_artefact_ctx *c, struct ks_artefact_db *adb, struct ks_err *err)
{
	sqlite3 *db = ks_art_db(adb);
	int have_new = ks_art_has_table(db, "message") && ks_art_has_table(db, "message_media");
	int have_old = ks_art_has_table(db, "messages") &&
		       ks_art_has_col(db, "messages", "key_remote_jid");
	if (!have_new && !have_old)
		return ks_err_set(err, KS_E_EVIDENCE,
				  "msgstore.db: neither message+message_media nor messages table");
	int rc = KS_OK;
	if (have_new)
		rc = parse_android_new(c, db, err);
	/* Databases migrated in place can keep the legacy table beside the new ones; its
	 * rows are only read when the new schema is absent, to avoid counting twice. */
	if (rc == KS_OK && !have_new)
		rc = parse_android_legacy(c, db, err);
	return rc;
}

/* ---- iOS ChatStorage.sqlite -------------------------------------------------------- */

enum {
	I_ID, I_FROM_ME, I_DATE, I_TYPE, I_FLAGS, I_CHAT_JID, I_PARTNER, I_SESSION_TYPE,
	I_MEMBER_JID, I_MEMBER_NAME, I_PATH, I_THUMB_PATH, I_SIZE, I_MIME, I_HASH, I_TITLE, I_URL
};

/* One iOS media message as a reference. */
static int ios_row(const void *arg, sqlite3_stmt *st, struct ks_art_arena *a,
		   struct ks_artefact_ref *r)
{
	(void)arg;
	r->record = ks_art_printf(a, "ZWAMESSAGE %lld", (long long)sqlite3_column_int64(st, I_ID));
	const char *jid = ks_art_text(a, st, I_CHAT_JID);
	const char *partner = ks_art_text(a, st, I_PARTNER);
	int from_me = sqlite3_column_int(st, I_FROM_ME) == 1;
	int group = is_group(jid) || sqlite3_column_int(st, I_SESSION_TYPE) == 1;
	r->kind = from_me ? KS_REF_SENT : KS_REF_RECEIVED;
	if (group) {
		r->chat = jid;
		r->chat_name = partner;
		if (!from_me) {
			r->peer = ks_art_text(a, st, I_MEMBER_JID);
			r->peer_name = ks_art_text(a, st, I_MEMBER_NAME);
		}
	} else {
		r->peer = jid;
		r->peer_name = partner;
	}
	ks_art_time_col(r, a, st, I_DATE, KS_TIME_COCOA_S, "message");
	r->path = ks_art_text(a, st, I_PATH);
	r->thumb_path = ks_art_text(a, st, I_THUMB_PATH);
	ks_art_size_col(r, st, I_SIZE);
	/* For media messages ZVCARDSTRING holds the MIME type and ZVCARDNAME the
	 * base64 SHA-256 of the file. */
	const char *mime = ks_art_text(a, st, I_MIME);
	if (mime && strchr(mime, '/') && strlen(mime) < 128 && !strchr(mime, '\n'))
		r->mime = mime;
	ks_art_sha256_col(r, st, I_HASH);
	r->url = ks_art_text(a, st, I_URL);
	const char *note = NULL;
	if (sqlite3_column_int64(st, I_FLAGS) & (1 << 7))
		note = "forwarded";
	const char *title = ks_art_text(a, st, I_TITLE);
	if (title && *title)
		note = join_note(a, note, ks_art_printf(a, "caption: %s", title));
	if (!r->path)
		note = join_note(a, note, "no local file recorded");
	r->note = note;
	return 1;
}

static int parse_ios(struct ks_artefact_ctx *c, struct ks_artefact_db *adb, struct ks_err *err)
{
	sqlite3 *db = ks_art_db(adb);
	struct ks_buf sql = {0};
	int rc;
	if (!ks_art_has_col(db, "ZWAMESSAGE", "Z_PK") || !ks_art_has_col(db, "ZWAMEDIAITEM", "ZMESSAGE")) {
		rc = ks_err_set(err, KS_E_EVIDENCE,
				"ChatStorage.sqlite: no ZWAMESSAGE/ZWAMEDIAITEM tables");
		goto out;
	}
	int have_s = ks_art_has_table(db, "ZWACHATSESSION") &&
		     ks_art_has_col(db, "ZWAMESSAGE", "ZCHATSESSION");
	int have_g = ks_art_has_table(db, "ZWAGROUPMEMBER") &&
		     ks_art_has_col(db, "ZWAMESSAGE", "ZGROUPMEMBER");
	ks_buf_adds(&sql, "SELECT m.Z_PK");
	static const char *const mcols[] = {"ZISFROMME", "ZMESSAGEDATE", "ZMESSAGETYPE", "ZFLAGS"};
	ks_art_cols(&sql, db, "m", "ZWAMESSAGE", mcols, 4);
	static const char *const scols[] = {"ZCONTACTJID", "ZPARTNERNAME", "ZSESSIONTYPE"};
	ks_art_cols(&sql, db, "s", have_s ? "ZWACHATSESSION" : NULL, scols, 3);
	static const char *const gcols[] = {"ZMEMBERJID", "ZCONTACTNAME"};
	ks_art_cols(&sql, db, "g", have_g ? "ZWAGROUPMEMBER" : NULL, gcols, 2);
	static const char *const icols[] = {"ZMEDIALOCALPATH", "ZXMPPTHUMBPATH", "ZFILESIZE",
					    "ZVCARDSTRING",    "ZVCARDNAME",     "ZTITLE",
					    "ZMEDIAURL"};
	ks_art_cols(&sql, db, "i", "ZWAMEDIAITEM", icols, sizeof icols / sizeof icols[0]);
	ks_buf_adds(&sql, " FROM ZWAMESSAGE m JOIN ZWAMEDIAITEM i ON i.ZMESSAGE = m.Z_PK");
	if (have_s)
		ks_buf_adds(&sql, " LEFT JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION");
	if (have_g)
		ks_buf_adds(&sql, " LEFT JOIN ZWAGROUPMEMBER g ON g.Z_PK = m.ZGROUPMEMBER");
	/* image, video, audio, document, GIF, sticker (4 contact and 5 location reuse
	 * the media columns for vCards and places) */
	if (ks_art_has_col(db, "ZWAMESSAGE", "ZMESSAGETYPE"))
		ks_buf_adds(&sql, " WHERE m.ZMESSAGETYPE IN (1,2,3,8,11,15)");
	ks_buf_adds(&sql, " ORDER BY m.Z_PK");
	rc = ks_art_rows(c, &ks_art_whatsapp_ios, db, (const char *)sql.data, "ChatStorage.sqlite",
			 KS_REF_RECEIVED, ios_row, NULL, err);
out:
	ks_buf_release(&sql);
	return rc;
}

const struct ks_artefact_ops ks_art_whatsapp_android = {
	.name = "whatsapp-android",
	.app = "WhatsApp",
	.input = KS_ARTEFACT_SQLITE,
	.probe = probe_android,
	.parse_db = parse_android,
};

const struct ks_artefact_ops ks_art_whatsapp_ios = {
	.name = "whatsapp-ios",
	.app = "WhatsApp",
	.input = KS_ARTEFACT_SQLITE,
	.probe = probe_ios,
	.parse_db = parse_ios,
};
