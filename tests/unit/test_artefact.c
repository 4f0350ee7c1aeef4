/* Artefact layer, SQLite stores: fixtures built at test time with the apps' real
 * schemas (sqlite3 C API) holding benign ImageMagick pictures — WhatsApp Android
 * (current and legacy schema, a row only in the WAL), WhatsApp iOS, Chrome and
 * Firefox downloads, Android MediaStore, iOS Photos — parsed through the stage from a
 * directory evidence source: direction, peer, time, path and SHA-256 read back,
 * the evidence byte-identical and unchanged afterwards. Plus hostile databases
 * (missing tables, wrong types, huge blobs, garbage, truncation): clear errors, no
 * crash. */
#include <dirent.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kestrel/artefact.h"
#include "kestrel/evidence.h"
#include "kestrel/hash.h"
#include "ktest.h"

static const char *tmp;
static char evdir[600], scratch[600];

static unsigned char *rose, *thumb;
static size_t rose_len, thumb_len;
static uint8_t rose_sha[32];
static char rose_b64[64];

/* ---- helpers --------------------------------------------------------------------- */

static void b64(const uint8_t *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "fixture SQL failed: %s\n  in: %.200s\n", msg, sql);
		ktest_fail++;
	}
	sqlite3_free(msg);
}

/* Runs sql with ?1 bound to a blob. */
static void exec_blob(sqlite3 *db, const char *sql, const void *blob, size_t n)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "fixture SQL failed: %s\n", sqlite3_errmsg(db));
		ktest_fail++;
		return;
	}
	sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "fixture insert failed: %s\n", sqlite3_errmsg(db));
		ktest_fail++;
	}
	sqlite3_finalize(st);
}

static sqlite3 *create(const char *dir, const char *name)
{
	char path[800];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "cannot create %s\n", path);
		exit(1);
	}
	exec(db, "PRAGMA page_size=4096;");
	return db;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Collected references (deep copies). */
struct got {
	int kind;
	char *parser, *app, *artefact, *record, *peer, *peer_name, *chat, *chat_name, *time_raw,
		*time_what, *url, *referrer, *path, *name, *thumb_path, *mime, *owner, *note;
	int64_t time, size;
	int time_src, has_sha256;
	uint8_t sha256[32];
	uint8_t *thumb;
	size_t thumb_len;
	uint64_t tag;
};
static struct got refs[256];
static size_t nrefs;

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void clear_refs(void)
{
	for (size_t i = 0; i < nrefs; i++) {
		struct got *g = &refs[i];
		char **f[] = {&g->parser, &g->app, &g->artefact, &g->record, &g->peer, &g->peer_name,
			      &g->chat, &g->chat_name, &g->time_raw, &g->time_what, &g->url,
			      &g->referrer, &g->path, &g->name, &g->thumb_path, &g->mime,
			      &g->owner, &g->note};
		for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
			free(*f[k]);
		free(g->thumb);
	}
	memset(refs, 0, sizeof refs);
	nrefs = 0;
}

static int collect(void *ctx, const struct ks_artefact_ref *r)
{
	(void)ctx;
	if (nrefs == sizeof refs / sizeof refs[0])
		return KS_E_LIMIT;
	struct got *g = &refs[nrefs++];
	g->kind = r->kind;
	g->parser = sdup(r->parser);
	g->app = sdup(r->app);
	g->artefact = sdup(r->artefact);
	g->record = sdup(r->record);
	g->peer = sdup(r->peer);
	g->peer_name = sdup(r->peer_name);
	g->chat = sdup(r->chat);
	g->chat_name = sdup(r->chat_name);
	g->time_raw = sdup(r->time_raw);
	g->time_what = sdup(r->time_what);
	g->url = sdup(r->url);
	g->referrer = sdup(r->referrer);
	g->path = sdup(r->path);
	g->name = sdup(r->name);
	g->thumb_path = sdup(r->thumb_path);
	g->mime = sdup(r->mime);
	g->owner = sdup(r->owner);
	g->note = sdup(r->note);
	g->time = r->time;
	g->size = r->size;
	g->time_src = r->time_src;
	g->has_sha256 = r->has_sha256;
	memcpy(g->sha256, r->sha256, 32);
	g->tag = r->artefact_tag;
	if (r->thumb) {
		g->thumb = malloc(r->thumb_len);
		memcpy(g->thumb, r->thumb, r->thumb_len);
		g->thumb_len = r->thumb_len;
	}
	return KS_OK;
}

static const struct got *find(const char *parser, const char *record)
{
	for (size_t i = 0; i < nrefs; i++)
		if (strcmp(refs[i].parser, parser) == 0 && strcmp(refs[i].record, record) == 0)
			return &refs[i];
	fprintf(stderr, "no reference %s / %s\n", parser, record);
	return NULL;
}

static size_t count(const char *parser)
{
	size_t k = 0;
	for (size_t i = 0; i < nrefs; i++)
		k += strcmp(refs[i].parser, parser) == 0;
	return k;
}

static char problems[4096];
static void on_problem(void *ctx, const char *where, const char *msg)
{
	(void)ctx;
	size_t n = strlen(problems);
	snprintf(problems + n, sizeof problems - n, "%s: %s\n", where, msg);
}

/* ---- fixtures -------------------------------------------------------------------- */

#define T0 1690000000LL /* 2023-07-22T04:26:40Z */

static void make_whatsapp_android(const char *dir)
{
	char sub[800];
	snprintf(sub, sizeof sub, "%s/data/data/com.whatsapp/databases", dir);
	sh("mkdir -p '%s'", sub);
	sqlite3 *db = create(sub, "msgstore.db");
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
	exec(db,
	     "CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server "
	     "TEXT NOT NULL, agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);"
	     "CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, "
	     "hidden INTEGER, subject TEXT, created_timestamp INTEGER, display_message_row_id "
	     "INTEGER, last_message_row_id INTEGER, last_read_message_row_id INTEGER, "
	     "archived INTEGER, sort_timestamp INTEGER);"
	     "CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT "
	     "NULL, from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, "
	     "status INTEGER, broadcast INTEGER, recipient_count INTEGER, participant_hash TEXT, "
	     "origination_flags INTEGER, origin INTEGER, timestamp INTEGER, received_timestamp "
	     "INTEGER, receipt_server_timestamp INTEGER, message_type INTEGER, text_data TEXT, "
	     "starred INTEGER, lookup_tables INTEGER, message_add_on_flags INTEGER, sort_id "
	     "INTEGER NOT NULL DEFAULT 0);"
	     "CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, "
	     "autotransfer_retry_enabled INTEGER, multicast_id TEXT, media_job_uuid TEXT, "
	     "transferred INTEGER, transcoded INTEGER, file_path TEXT, file_size INTEGER, "
	     "suspicious_content INTEGER, trim_from INTEGER, trim_to INTEGER, face_x INTEGER, "
	     "face_y INTEGER, media_key BLOB, media_key_timestamp INTEGER, width INTEGER, height "
	     "INTEGER, has_streaming_sidecar INTEGER, gif_attribution INTEGER, "
	     "thumbnail_height_width_ratio REAL, direct_path TEXT, first_scan_sidecar BLOB, "
	     "first_scan_length INTEGER, message_url TEXT, mime_type TEXT, file_length INTEGER, "
	     "media_name TEXT, file_hash TEXT, media_duration INTEGER, page_count INTEGER, "
	     "enc_file_hash TEXT, partial_media_hash TEXT, partial_media_enc_hash TEXT, "
	     "is_animated_sticker INTEGER, original_file_hash TEXT, mute_video INTEGER DEFAULT 0, "
	     "media_caption TEXT, media_upload_handle TEXT);"
	     "CREATE INDEX message_media_hash_index ON message_media(file_hash);"
	     "CREATE TABLE message_thumbnail (message_row_id INTEGER PRIMARY KEY, thumbnail BLOB);"
	     "CREATE TABLE jid_map (lid_row_id INTEGER PRIMARY KEY, jid_row_id INTEGER);");
	exec(db, "INSERT INTO jid VALUES (1,'447700900123','s.whatsapp.net',0,0,0,"
		 "'447700900123@s.whatsapp.net'),"
		 "(2,'120363012345678901','g.us',0,0,1,'120363012345678901@g.us'),"
		 "(3,'447700900456','s.whatsapp.net',0,0,0,'447700900456@s.whatsapp.net'),"
		 "(4,'88001122334455','lid',0,0,0,'88001122334455@lid'),"
		 "(5,'447700900789','s.whatsapp.net',0,0,0,'447700900789@s.whatsapp.net');"
		 "INSERT INTO jid_map VALUES (4,5);"
		 "INSERT INTO chat (_id,jid_row_id,subject,created_timestamp) VALUES "
		 "(1,1,NULL,1689000000000),(2,2,'Book club',1689000000000),(3,4,NULL,1689000000000);");
	char sql[2048];
	/* 1: a picture the owner sent to +447700900123 (file since deleted) */
	snprintf(sql, sizeof sql,
		 "INSERT INTO message (_id,chat_row_id,from_me,key_id,sender_jid_row_id,status,"
		 "origination_flags,timestamp,received_timestamp,message_type,sort_id) VALUES "
		 "(1,1,1,'3EB0A1B2C3D4',NULL,13,0,%lld123,%lld456,1,1);"
		 "INSERT INTO message_media (message_row_id,chat_row_id,transferred,file_path,"
		 "file_size,mime_type,media_name,file_hash,media_caption,message_url) VALUES "
		 "(1,1,1,'Media/WhatsApp Images/Sent/IMG-20230722-WA0001.jpg',%zu,'image/jpeg',"
		 "NULL,'%s','the rose','https://mmg.whatsapp.net/v/t62/abc');",
		 T0, T0, rose_len, rose_b64);
	exec(db, sql);
	exec_blob(db, "INSERT INTO message_thumbnail VALUES (1, ?1)", thumb, thumb_len);
	/* 2: text only, not a reference */
	exec(db, "INSERT INTO message (_id,chat_row_id,from_me,key_id,timestamp,message_type,"
		 "text_data,sort_id) VALUES (2,1,0,'AB12',1690000100000,0,'hello',2);");
	/* 3: a forwarded picture received in a group from +447700900456 */
	exec(db, "INSERT INTO message (_id,chat_row_id,from_me,key_id,sender_jid_row_id,"
		 "origination_flags,timestamp,message_type,sort_id) VALUES "
		 "(3,2,0,'CD34',3,1,1690000200000,1,3);"
		 "INSERT INTO message_media (message_row_id,chat_row_id,file_path,file_size,"
		 "mime_type,file_hash) VALUES (3,2,'Media/WhatsApp Images/IMG-20230722-WA0002.jpg',"
		 "1000,'image/jpeg','AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');");
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE);");
	/* 4: after the checkpoint: lives only in the WAL. A video from a LID contact,
	 * mapped to the phone-number jid through jid_map. */
	exec(db, "INSERT INTO message (_id,chat_row_id,from_me,key_id,timestamp,message_type,"
		 "sort_id) VALUES (4,3,0,'EF56',1690000300000,3,4);"
		 "INSERT INTO message_media (message_row_id,chat_row_id,file_path,file_size,"
		 "mime_type) VALUES (4,3,'Media/WhatsApp Video/VID-20230722-WA0003.mp4',2048,"
		 "'video/mp4');");
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	sqlite3_close(db);
}

static void make_whatsapp_legacy(const char *dir)
{
	char sub[800];
	snprintf(sub, sizeof sub, "%s/old", dir);
	sh("mkdir -p '%s'", sub);
	sqlite3 *db = create(sub, "msgstore.db");
	exec(db, "CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid "
		 "TEXT NOT NULL, key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, "
		 "needs_push INTEGER, data TEXT, timestamp INTEGER, media_url TEXT, media_mime_type "
		 "TEXT, media_wa_type TEXT, media_size INTEGER, media_name TEXT, media_caption TEXT, "
		 "media_hash TEXT, media_duration INTEGER, origin INTEGER, latitude REAL, longitude "
		 "REAL, thumb_image TEXT, remote_resource TEXT, received_timestamp INTEGER, "
		 "send_timestamp INTEGER, receipt_server_timestamp INTEGER, receipt_device_timestamp "
		 "INTEGER, raw_data BLOB, recipient_count INTEGER);"
		 "CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT "
		 "UNIQUE, message_table_id INTEGER, subject TEXT, creation INTEGER);"
		 "INSERT INTO messages (_id,key_remote_jid,key_from_me,key_id,status) VALUES "
		 "(1,'-1',0,'-1',-1);"
		 "INSERT INTO chat_list (key_remote_jid,subject) VALUES ('447700900999@s.whatsapp.net',NULL);");
	/* A java.io serialised MediaData with the local path as a TC_STRING. */
	const char *path = "/storage/emulated/0/WhatsApp/Media/WhatsApp Images/Sent/IMG-20190101-WA0003.jpg";
	uint8_t ser[256];
	size_t n = 0;
	memcpy(ser, "\xac\xed\x00\x05sr\x00\x19" "com.whatsapp.MediaData", 31);
	n = 31;
	ser[n++] = 0x74;
	ser[n++] = (uint8_t)(strlen(path) >> 8);
	ser[n++] = (uint8_t)strlen(path);
	memcpy(ser + n, path, strlen(path));
	n += strlen(path);
	ser[n++] = 0x78;
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "INSERT INTO messages (_id,key_remote_jid,key_from_me,key_id,status,timestamp,"
		 "media_mime_type,media_wa_type,media_size,media_hash,thumb_image,raw_data) VALUES "
		 "(2,'447700900999@s.whatsapp.net',1,'XY1',13,1546300800000,'image/jpeg','1',%zu,"
		 "'%s',?1,NULL);",
		 rose_len, rose_b64);
	exec_blob(db, sql, ser, n);
	exec(db, "INSERT INTO messages (_id,key_remote_jid,key_from_me,key_id,timestamp,data,"
		 "media_wa_type) VALUES (3,'447700900999@s.whatsapp.net',0,'XY2',1546300900000,"
		 "'hi','0');");
	sqlite3_close(db);
}

static void make_whatsapp_ios(const char *dir)
{
	char sub[800];
	snprintf(sub, sizeof sub, "%s/private/var/mobile/Containers/Shared/AppGroup/"
				  "0A1B2C3D-0000-4000-8000-000000000001", dir);
	sh("mkdir -p '%s'", sub);
	sqlite3 *db = create(sub, "ChatStorage.sqlite");
	exec(db, "PRAGMA journal_mode=WAL;");
	exec(db, "CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER "
		 "INTEGER, Z_MAX INTEGER);"
		 "CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), "
		 "Z_PLIST BLOB);"
		 "CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT "
		 "INTEGER, ZARCHIVED INTEGER, ZREMOVED INTEGER, ZSESSIONTYPE INTEGER, ZUNREADCOUNT "
		 "INTEGER, ZLASTMESSAGE INTEGER, ZLASTMESSAGEDATE TIMESTAMP, ZCONTACTJID VARCHAR, "
		 "ZPARTNERNAME VARCHAR, ZLASTMESSAGETEXT VARCHAR);"
		 "CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT "
		 "INTEGER, ZISACTIVE INTEGER, ZISADMIN INTEGER, ZCHATSESSION INTEGER, ZCONTACTNAME "
		 "VARCHAR, ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR);"
		 "CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, "
		 "ZCHILDMESSAGESDELIVEREDCOUNT INTEGER, ZDATAITEMVERSION INTEGER, ZFLAGS INTEGER, "
		 "ZGROUPEVENTTYPE INTEGER, ZISFROMME INTEGER, ZMESSAGEERRORSTATUS INTEGER, "
		 "ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER, ZSPOTLIGHTSTATUS "
		 "INTEGER, ZSTARRED INTEGER, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, "
		 "ZLASTSESSION INTEGER, ZMEDIAITEM INTEGER, ZMESSAGEINFO INTEGER, ZPARENTMESSAGE "
		 "INTEGER, ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR, "
		 "ZMEDIASECTIONID VARCHAR, ZPHASH VARCHAR, ZPUSHNAME VARCHAR, ZSTANZAID VARCHAR, "
		 "ZTEXT VARCHAR, ZTOJID VARCHAR);"
		 "CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, "
		 "ZCLOUDSTATUS INTEGER, ZFILESIZE INTEGER, ZMEDIAORIGIN INTEGER, ZMOVIEDURATION "
		 "INTEGER, ZMESSAGE INTEGER, ZASPECTRATIO FLOAT, ZHACCURACY FLOAT, ZLATITUDE FLOAT, "
		 "ZLONGITUDE FLOAT, ZMEDIAURLDATE TIMESTAMP, ZAUTHORNAME VARCHAR, ZCOLLECTIONNAME "
		 "VARCHAR, ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTHUMBNAILLOCALPATH VARCHAR, "
		 "ZTITLE VARCHAR, ZVCARDNAME VARCHAR, ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR, "
		 "ZMEDIAKEY BLOB, ZMETADATA BLOB);");
	char sql[2048];
	snprintf(sql, sizeof sql,
		 "INSERT INTO ZWACHATSESSION (Z_PK,Z_ENT,ZSESSIONTYPE,ZCONTACTJID,ZPARTNERNAME) "
		 "VALUES (1,4,0,'447700900123@s.whatsapp.net','Alex Example'),"
		 "(2,4,1,'120363099999999999@g.us','Gardening');"
		 "INSERT INTO ZWAGROUPMEMBER (Z_PK,ZCHATSESSION,ZCONTACTNAME,ZMEMBERJID) VALUES "
		 "(1,2,'Sam Sample','447700900456@s.whatsapp.net');"
		 "INSERT INTO ZWAMESSAGE (Z_PK,Z_ENT,ZFLAGS,ZISFROMME,ZMESSAGETYPE,ZCHATSESSION,"
		 "ZMEDIAITEM,ZMESSAGEDATE,ZFROMJID,ZTOJID,ZSTANZAID) VALUES "
		 "(1,9,0,1,1,1,1,%lld.5,NULL,'447700900123@s.whatsapp.net','3A0001'),"
		 "(2,9,128,0,1,2,2,%lld,'120363099999999999@g.us',NULL,'3A0002'),"
		 "(3,9,0,0,4,1,3,%lld,'447700900123@s.whatsapp.net',NULL,'3A0003');"
		 "UPDATE ZWAMESSAGE SET ZGROUPMEMBER = 1 WHERE Z_PK = 2;"
		 "INSERT INTO ZWAMEDIAITEM (Z_PK,Z_ENT,ZFILESIZE,ZMESSAGE,ZMEDIALOCALPATH,"
		 "ZXMPPTHUMBPATH,ZVCARDNAME,ZVCARDSTRING,ZTITLE) VALUES "
		 "(1,8,%zu,1,'Media/447700900123@s.whatsapp.net/1/f/1f2e3d4c.jpg',"
		 "'Media/447700900123@s.whatsapp.net/1/f/1f2e3d4c.thumb','%s','image/jpeg',NULL),"
		 "(2,8,3000,2,'Media/120363099999999999@g.us/a/b/abcd.jpg',NULL,"
		 "'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=','image/jpeg','roses'),"
		 "(3,8,0,3,NULL,NULL,'Alex','BEGIN:VCARD',NULL);",
		 T0 - 978307200LL, T0 + 60 - 978307200LL, T0 + 120 - 978307200LL, rose_len, rose_b64);
	exec(db, sql);
	sqlite3_close(db);
}

static void make_chrome(const char *dir, const char *profile)
{
	char sub[800];
	snprintf(sub, sizeof sub, "%s/%s", dir, profile);
	sh("mkdir -p '%s'", sub);
	sqlite3 *db = create(sub, "History");
	exec(db,
	     "CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);"
	     "CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title "
	     "LONGVARCHAR,visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT "
	     "NULL,last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL);"
	     "CREATE TABLE downloads (id INTEGER PRIMARY KEY, guid VARCHAR NOT NULL, current_path "
	     "LONGVARCHAR NOT NULL, target_path LONGVARCHAR NOT NULL, start_time INTEGER NOT NULL, "
	     "received_bytes INTEGER NOT NULL, total_bytes INTEGER NOT NULL, state INTEGER NOT "
	     "NULL, danger_type INTEGER NOT NULL, interrupt_reason INTEGER NOT NULL, hash BLOB NOT "
	     "NULL, end_time INTEGER NOT NULL, opened INTEGER NOT NULL, last_access_time INTEGER "
	     "NOT NULL, transient INTEGER NOT NULL, referrer VARCHAR NOT NULL, site_url VARCHAR "
	     "NOT NULL, embedder_download_data VARCHAR NOT NULL, tab_url VARCHAR NOT NULL, "
	     "tab_referrer_url VARCHAR NOT NULL, http_method VARCHAR NOT NULL, by_ext_id VARCHAR "
	     "NOT NULL, by_ext_name VARCHAR NOT NULL, by_web_app_id VARCHAR NOT NULL, etag VARCHAR "
	     "NOT NULL, last_modified VARCHAR NOT NULL, mime_type VARCHAR(255) NOT NULL, "
	     "original_mime_type VARCHAR(255) NOT NULL);"
	     "CREATE TABLE downloads_url_chains (id INTEGER NOT NULL, chain_index INTEGER NOT NULL, "
	     "url LONGVARCHAR NOT NULL, PRIMARY KEY (id, chain_index));");
	char sql[2048];
	long long start = (T0 + 11644473600LL) * 1000000LL;
	snprintf(sql, sizeof sql,
		 "INSERT INTO downloads VALUES (1,'0b5c3d7e-0000-4000-8000-000000000001',"
		 "'C:\\Users\\alex\\Downloads\\rose.jpg','C:\\Users\\alex\\Downloads\\rose.jpg',"
		 "%lld,%zu,%zu,1,0,0,?1,%lld,1,%lld,0,'https://example.org/gallery',"
		 "'https://example.org/','','https://example.org/gallery','','GET','','','',"
		 "'\"abc\"','Sat, 22 Jul 2023 04:26:40 GMT','image/jpeg','image/jpeg');",
		 start, rose_len, rose_len, start + 2000000LL, start + 5000000LL);
	exec_blob(db, sql, rose_sha, 32);
	snprintf(sql, sizeof sql,
		 "INSERT INTO downloads VALUES (2,'0b5c3d7e-0000-4000-8000-000000000002',"
		 "'C:\\Users\\alex\\Downloads\\big.mp4.crdownload','C:\\Users\\alex\\Downloads\\big.mp4',"
		 "%lld,100,5000,4,0,20,?1,0,0,0,0,'','','','','','GET','','','','','','video/mp4',"
		 "'video/mp4');",
		 start + 60000000LL);
	exec_blob(db, sql, rose_sha, 32); /* a hash on an interrupted download is not valid */
	exec(db, "INSERT INTO downloads_url_chains VALUES (1,0,'https://example.org/dl?id=7'),"
		 "(1,1,'https://cdn.example.org/img/rose.jpg'),(2,0,'https://example.org/big.mp4');");
	sqlite3_close(db);
}

static void make_firefox(const char *dir)
{
	char sub[800];
	snprintf(sub, sizeof sub, "%s/home/alex/.mozilla/firefox/x1y2z3.default-release", dir);
	sh("mkdir -p '%s'", sub);
	sqlite3 *db = create(sub, "places.sqlite");
	exec(db, "PRAGMA journal_mode=WAL;");
	exec(db,
	     "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, "
	     "rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT "
	     "NULL, typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL, "
	     "last_visit_date INTEGER , guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL, "
	     "url_hash INTEGER DEFAULT 0 NOT NULL , description TEXT, preview_image_url TEXT, "
	     "origin_id INTEGER, site_name TEXT);"
	     "CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id "
	     "INTEGER, visit_date INTEGER, visit_type INTEGER, session INTEGER, source INTEGER "
	     "DEFAULT 0 NOT NULL, triggeringPlaceId INTEGER);"
	     "CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE NOT "
	     "NULL);"
	     "CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL, "
	     "anno_attribute_id INTEGER, content LONGVARCHAR, flags INTEGER DEFAULT 0, expiration "
	     "INTEGER DEFAULT 0, type INTEGER DEFAULT 0, dateAdded INTEGER DEFAULT 0, lastModified "
	     "INTEGER DEFAULT 0);"
	     "INSERT INTO moz_places (id,url,title) VALUES (1,'https://example.org/gallery',"
	     "'Gallery'),(2,'https://cdn.example.org/img/wizard.png','wizard.png');"
	     "INSERT INTO moz_historyvisits (id,from_visit,place_id,visit_date,visit_type) VALUES "
	     "(1,0,1,1690000000000000,1),(2,1,2,1690000030000000,7);"
	     "INSERT INTO moz_anno_attributes VALUES (1,'downloads/destinationFileURI'),"
	     "(2,'downloads/metaData');"
	     "INSERT INTO moz_annos (id,place_id,anno_attribute_id,content,flags,expiration,type,"
	     "dateAdded,lastModified) VALUES (1,2,1,'file:///home/alex/Downloads/wizard%20copy.png',"
	     "0,4,3,1690000030000000,1690000030000000),(2,2,2,"
	     "'{\"state\":1,\"deleted\":false,\"endTime\":1690000035000,\"fileSize\":8806}',0,4,3,"
	     "1690000035000000,1690000035000000);");
	sqlite3_close(db);
}

static void make_mediastore(const char *dir)
{
	char sub[800];
	snprintf(sub, sizeof sub, "%s/data/data/com.google.android.providers.media.module/databases",
		 dir);
	sh("mkdir -p '%s'", sub);
	sqlite3 *db = create(sub, "external.db");
	exec(db,
	     "CREATE TABLE files (_id INTEGER PRIMARY KEY AUTOINCREMENT, _data TEXT UNIQUE COLLATE "
	     "NOCASE, _size INTEGER, format INTEGER, parent INTEGER, date_added INTEGER, "
	     "date_modified INTEGER, mime_type TEXT, title TEXT, description TEXT, _display_name "
	     "TEXT, picasa_id TEXT, orientation INTEGER, latitude DOUBLE, longitude DOUBLE, "
	     "datetaken INTEGER, mini_thumb_magic INTEGER, bucket_id TEXT, bucket_display_name "
	     "TEXT, isprivate INTEGER, title_key TEXT, artist_id INTEGER, album_id INTEGER, "
	     "composer TEXT, track INTEGER, year INTEGER CHECK(year!=0), is_ringtone INTEGER, "
	     "is_music INTEGER, is_alarm INTEGER, is_notification INTEGER, is_podcast INTEGER, "
	     "album_artist TEXT, duration INTEGER, bookmark INTEGER, artist TEXT, album TEXT, "
	     "resolution TEXT, tags TEXT, category TEXT, language TEXT, mini_thumb_data TEXT, name "
	     "TEXT, media_type INTEGER, old_id INTEGER, is_drm INTEGER, width INTEGER, height "
	     "INTEGER, title_resource_uri TEXT, owner_package_name TEXT DEFAULT NULL, "
	     "color_standard INTEGER, color_transfer INTEGER, color_range INTEGER, _hash BLOB "
	     "DEFAULT NULL, is_pending INTEGER DEFAULT 0, is_download INTEGER DEFAULT 0, "
	     "download_uri TEXT DEFAULT NULL, referer_uri TEXT DEFAULT NULL, is_audiobook INTEGER "
	     "DEFAULT 0, date_expires INTEGER DEFAULT NULL, is_trashed INTEGER DEFAULT 0, group_id "
	     "INTEGER DEFAULT NULL, primary_directory TEXT DEFAULT NULL, secondary_directory TEXT "
	     "DEFAULT NULL, document_id TEXT DEFAULT NULL, instance_id TEXT DEFAULT NULL, "
	     "original_document_id TEXT DEFAULT NULL, relative_path TEXT DEFAULT NULL, volume_name "
	     "TEXT DEFAULT NULL);"
	     "INSERT INTO files (_id,_data,_size,date_added,date_modified,mime_type,_display_name,"
	     "datetaken,media_type,owner_package_name,relative_path,volume_name) VALUES "
	     "(31,'/storage/emulated/0/DCIM/Camera/IMG_20230722_101010.jpg',4242,1690000000,"
	     "1690000000,'image/jpeg','IMG_20230722_101010.jpg',1689999990000,1,"
	     "'com.google.android.GoogleCamera','DCIM/Camera/','external_primary');"
	     "INSERT INTO files (_id,_data,_size,date_added,mime_type,_display_name,media_type,"
	     "owner_package_name,is_download,download_uri,referer_uri,is_trashed,relative_path) "
	     "VALUES (32,'/storage/emulated/0/Download/.trashed-1690600000-clip.mp4',99,1690000100,"
	     "'video/mp4','clip.mp4',3,'com.android.chrome',1,'https://cdn.example.org/clip.mp4',"
	     "'https://example.org/videos',1,'Download/');"
	     "INSERT INTO files (_id,_data,media_type) VALUES (33,'/storage/emulated/0/Music/a.mp3',2);");
	sqlite3_close(db);
}

static void make_photos(const char *dir)
{
	char sub[800];
	snprintf(sub, sizeof sub, "%s/private/var/mobile/Media/PhotoData", dir);
	sh("mkdir -p '%s'", sub);
	sqlite3 *db = create(sub, "Photos.sqlite");
	exec(db,
	     "CREATE TABLE ZASSET (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, "
	     "ZHIDDEN INTEGER, ZKIND INTEGER, ZSAVEDASSETTYPE INTEGER, ZTRASHEDSTATE INTEGER, "
	     "ZADDITIONALATTRIBUTES INTEGER, ZADDEDDATE TIMESTAMP, ZDATECREATED TIMESTAMP, "
	     "ZMODIFICATIONDATE TIMESTAMP, ZTRASHEDDATE TIMESTAMP, ZLATITUDE FLOAT, ZLONGITUDE "
	     "FLOAT, ZDIRECTORY VARCHAR, ZFILENAME VARCHAR, ZUNIFORMTYPEIDENTIFIER VARCHAR, ZUUID "
	     "VARCHAR);"
	     "CREATE TABLE ZADDITIONALASSETATTRIBUTES (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, "
	     "Z_OPT INTEGER, ZASSET INTEGER, ZORIGINALFILESIZE INTEGER, ZIMPORTEDBYBUNDLEIDENTIFIER "
	     "VARCHAR, ZORIGINALFILENAME VARCHAR, ZTIMEZONENAME VARCHAR);"
	     "INSERT INTO ZASSET (Z_PK,ZHIDDEN,ZKIND,ZSAVEDASSETTYPE,ZTRASHEDSTATE,"
	     "ZADDITIONALATTRIBUTES,ZADDEDDATE,ZDATECREATED,ZDIRECTORY,ZFILENAME,"
	     "ZUNIFORMTYPEIDENTIFIER) VALUES (1,0,0,3,1,1,711692900.0,711692800.0,'DCIM/100APPLE',"
	     "'IMG_0001.JPG','public.jpeg');"
	     "INSERT INTO ZADDITIONALASSETATTRIBUTES (Z_PK,ZASSET,ZORIGINALFILESIZE,"
	     "ZIMPORTEDBYBUNDLEIDENTIFIER,ZORIGINALFILENAME) VALUES (1,1,4242,"
	     "'net.whatsapp.WhatsApp','IMG-20230722-WA0001.jpg');");
	sqlite3_close(db);
}

/* ---- evidence hashing ------------------------------------------------------------ */

/* "path sha256\n" for every file under dir, in name order (find | sort). */
static char *tree_digest(const char *dir)
{
	char cmd[1024], *out = malloc(1 << 16);
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && find . -type f -print0 | sort -z | xargs -0 sha256sum", dir);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, (1 << 16) - 1, p) : 0;
	out[n] = '\0';
	if (p)
		pclose(p);
	return out;
}

/* ---- the walk --------------------------------------------------------------------- */

struct walkctx {
	struct ks_artefact_stage *st;
	int staged, errors;
	uint64_t seq;
};

static int on_item(void *ctx, const struct ks_item_info *info, struct ks_item_reader *rd)
{
	struct walkctx *w = ctx;
	struct ks_err err = {0};
	int rc = ks_artefact_stage_offer(w->st, info, rd, NULL, 0, ++w->seq, &err);
	if (rc == 1)
		w->staged++;
	else if (rc < 0) {
		fprintf(stderr, "offer %s: %s\n", info->path, err.msg);
		w->errors++;
	}
	return KS_OK;
}

static void test_scan_tree(void)
{
	char *before = tree_digest(evdir);
	struct ks_source *src = NULL;
	struct ks_err err = {0};
	CHECK(ks_source_open(evdir, &src, &err) == KS_OK);
	if (!src) {
		fprintf(stderr, "%s\n", err.msg);
		free(before);
		return;
	}
	struct walkctx w = {0};
	CHECK(ks_artefact_stage_new(scratch, NULL, &w.st, &err) == KS_OK);
	CHECK(ks_source_walk(src, NULL, on_item, NULL, &w, &err) == KS_OK);
	CHECK(w.errors == 0);
	/* 8 stores (2 msgstore, ChatStorage, 2 History, places, external, Photos) + 1 WAL */
	CHECK(w.staged == 9);
	CHECK(ks_artefact_stage_count(w.st) == 8);
	problems[0] = '\0';
	clear_refs();
	CHECK(ks_artefact_stage_run(w.st, collect, on_problem, NULL, &err) == KS_OK);
	if (problems[0])
		fprintf(stderr, "problems:\n%s", problems);
	CHECK(problems[0] == '\0');
	CHECK(ks_artefact_stage_count(w.st) == 0);
	ks_artefact_stage_free(w.st);
	ks_source_close(src);

	/* The evidence is byte-identical, with no file added (no -shm, no journal). */
	char *after = tree_digest(evdir);
	CHECK(strcmp(before, after) == 0);
	CHECK(strstr(after, "msgstore.db-wal") != NULL);
	free(before);
	free(after);
	/* The stage removed its private copies. */
	DIR *d = opendir(scratch);
	int left = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		left += de->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(left == 0);

	/* WhatsApp Android, current schema: 3 media messages (text skipped), one only in
	 * the WAL. */
	CHECK(count("whatsapp-android") == 3 + 1);
	const struct got *g = find("whatsapp-android", "message 1");
	if (g) {
		CHECK(g->kind == KS_REF_SENT);
		CHECK_STR(g->app, "WhatsApp");
		CHECK_STR(g->artefact, "/data/data/com.whatsapp/databases/msgstore.db");
		CHECK(g->tag > 0);
		CHECK_STR(g->peer, "447700900123@s.whatsapp.net");
		CHECK(g->chat == NULL);
		CHECK(g->time == T0);
		CHECK_STR(g->time_raw, "1690000000123");
		CHECK(g->time_src == KS_TIME_UNIX_MS);
		CHECK_STR(g->path, "Media/WhatsApp Images/Sent/IMG-20230722-WA0001.jpg");
		CHECK(g->size == (int64_t)rose_len);
		CHECK_STR(g->mime, "image/jpeg");
		CHECK(g->has_sha256 && memcmp(g->sha256, rose_sha, 32) == 0);
		CHECK(g->thumb_len == thumb_len && g->thumb && memcmp(g->thumb, thumb, thumb_len) == 0);
		CHECK(g->note && strstr(g->note, "caption: the rose"));
	}
	g = find("whatsapp-android", "message 3");
	if (g) {
		CHECK(g->kind == KS_REF_RECEIVED);
		CHECK_STR(g->chat, "120363012345678901@g.us");
		CHECK_STR(g->chat_name, "Book club");
		CHECK_STR(g->peer, "447700900456@s.whatsapp.net");
		CHECK(g->note && strstr(g->note, "forwarded"));
		CHECK(g->has_sha256 && g->sha256[0] == 0 && g->sha256[31] == 0);
		CHECK(g->thumb == NULL);
	}
	g = find("whatsapp-android", "message 4"); /* from the WAL */
	if (g) {
		CHECK(g->kind == KS_REF_RECEIVED);
		CHECK_STR(g->peer, "447700900789@s.whatsapp.net"); /* LID mapped */
		CHECK_STR(g->path, "Media/WhatsApp Video/VID-20230722-WA0003.mp4");
		CHECK(!g->has_sha256);
	}
	/* Legacy schema: path from the serialised MediaData, hash from media_hash. */
	g = find("whatsapp-android", "messages 2");
	if (g) {
		CHECK(g->kind == KS_REF_SENT);
		CHECK_STR(g->peer, "447700900999@s.whatsapp.net");
		CHECK_STR(g->path, "/storage/emulated/0/WhatsApp/Media/WhatsApp Images/Sent/"
				   "IMG-20190101-WA0003.jpg");
		CHECK(g->time == 1546300800);
		CHECK(g->has_sha256 && memcmp(g->sha256, rose_sha, 32) == 0);
	}

	/* WhatsApp iOS: the vCard message (type 4) is not media. */
	CHECK(count("whatsapp-ios") == 2);
	g = find("whatsapp-ios", "ZWAMESSAGE 1");
	if (g) {
		CHECK(g->kind == KS_REF_SENT);
		CHECK_STR(g->peer, "447700900123@s.whatsapp.net");
		CHECK_STR(g->peer_name, "Alex Example");
		CHECK(g->time == T0);
		CHECK(g->time_src == KS_TIME_COCOA_S);
		CHECK_STR(g->path, "Media/447700900123@s.whatsapp.net/1/f/1f2e3d4c.jpg");
		CHECK_STR(g->thumb_path, "Media/447700900123@s.whatsapp.net/1/f/1f2e3d4c.thumb");
		CHECK_STR(g->mime, "image/jpeg");
		CHECK(g->has_sha256 && memcmp(g->sha256, rose_sha, 32) == 0);
	}
	g = find("whatsapp-ios", "ZWAMESSAGE 2");
	if (g) {
		CHECK(g->kind == KS_REF_RECEIVED);
		CHECK_STR(g->chat, "120363099999999999@g.us");
		CHECK_STR(g->chat_name, "Gardening");
		CHECK_STR(g->peer, "447700900456@s.whatsapp.net");
		CHECK_STR(g->peer_name, "Sam Sample");
		CHECK(g->time == T0 + 60);
		CHECK(g->note && strstr(g->note, "forwarded") && strstr(g->note, "caption: roses"));
	}

	/* Chrome and Edge: URL after redirects, referrer, target path, time, hash only for
	 * the completed download. */
	CHECK(count("chrome-history") == 4);
	int chrome = 0, edge = 0;
	for (size_t i = 0; i < nrefs; i++) {
		g = &refs[i];
		if (strcmp(g->parser, "chrome-history") != 0 || strcmp(g->record, "download 1") != 0)
			continue;
		chrome += strcmp(g->app, "Chrome") == 0;
		edge += strcmp(g->app, "Edge") == 0;
		CHECK(g->kind == KS_REF_DOWNLOAD);
		CHECK_STR(g->url, "https://cdn.example.org/img/rose.jpg");
		CHECK_STR(g->referrer, "https://example.org/gallery");
		CHECK_STR(g->path, "C:\\Users\\alex\\Downloads\\rose.jpg");
		CHECK(g->time == T0);
		CHECK(g->time_src == KS_TIME_WEBKIT_US);
		CHECK_STR(g->time_raw, "13334473600000000");
		CHECK(g->has_sha256 && memcmp(g->sha256, rose_sha, 32) == 0);
		CHECK(g->size == (int64_t)rose_len);
		CHECK(g->note && strstr(g->note, "complete") &&
		      strstr(g->note, "first URL https://example.org/dl?id=7"));
	}
	CHECK(chrome == 1 && edge == 1);
	for (size_t i = 0; i < nrefs; i++)
		if (strcmp(refs[i].parser, "chrome-history") == 0 &&
		    strcmp(refs[i].record, "download 2") == 0) {
			CHECK(!refs[i].has_sha256);
			CHECK(refs[i].note && strstr(refs[i].note, "interrupted"));
			CHECK_STR(refs[i].path, "C:\\Users\\alex\\Downloads\\big.mp4");
		}

	/* Firefox: file URI decoded, referrer from the visit chain, meta JSON. */
	CHECK(count("firefox-places") == 1);
	g = find("firefox-places", "moz_annos 1");
	if (g) {
		CHECK(g->kind == KS_REF_DOWNLOAD);
		CHECK_STR(g->app, "Firefox");
		CHECK_STR(g->url, "https://cdn.example.org/img/wizard.png");
		CHECK_STR(g->path, "/home/alex/Downloads/wizard copy.png");
		CHECK_STR(g->referrer, "https://example.org/gallery");
		CHECK(g->time == T0 + 30);
		CHECK(g->size == 8806);
		CHECK(g->note && strstr(g->note, "finished") &&
		      strstr(g->note, "2023-07-22T04:27:15Z"));
	}

	/* MediaStore: images and videos only, thumbnail path derived (Android 10+). */
	CHECK(count("android-mediastore") == 2);
	g = find("android-mediastore", "files 31");
	if (g) {
		CHECK(g->kind == KS_REF_MEDIA_STORE);
		CHECK_STR(g->path, "/storage/emulated/0/DCIM/Camera/IMG_20230722_101010.jpg");
		CHECK_STR(g->owner, "com.google.android.GoogleCamera");
		CHECK_STR(g->thumb_path, "/storage/emulated/0/Pictures/.thumbnails/31.jpg");
		CHECK(g->time == T0);
		CHECK(g->size == 4242);
	}
	g = find("android-mediastore", "files 32");
	if (g) {
		CHECK_STR(g->url, "https://cdn.example.org/clip.mp4");
		CHECK_STR(g->referrer, "https://example.org/videos");
		CHECK_STR(g->thumb_path, "/storage/emulated/0/Movies/.thumbnails/32.jpg");
		CHECK(g->note && strstr(g->note, "in trash") && strstr(g->note, "download"));
	}

	/* iOS Photos */
	g = find("ios-photos", "ZASSET 1");
	if (g) {
		CHECK(g->kind == KS_REF_MEDIA_STORE);
		CHECK_STR(g->path, "DCIM/100APPLE/IMG_0001.JPG");
		CHECK_STR(g->name, "IMG-20230722-WA0001.jpg");
		CHECK_STR(g->owner, "net.whatsapp.WhatsApp");
		CHECK_STR(g->thumb_path, "PhotoData/Thumbnails/V2/DCIM/100APPLE/IMG_0001.JPG/5005.JPG");
		CHECK_STR(g->mime, "image/jpeg");
		CHECK(g->time == T0);
		CHECK(g->size == 4242);
		CHECK(g->note && strstr(g->note, "recently deleted"));
	}
}

/* The WAL decides: without it the row written after the checkpoint is not there. */
static void test_wal_from_buffers(void)
{
	char p[900];
	snprintf(p, sizeof p, "%s/data/data/com.whatsapp/databases/msgstore.db", evdir);
	size_t dn = 0, wn = 0;
	unsigned char *db = ktest_read_file(p, &dn);
	strcat(p, "-wal");
	unsigned char *wal = ktest_read_file(p, &wn);
	CHECK(db && wal && wn > 0);
	if (!db || !wal)
		goto out;
	const struct ks_artefact_ops *ops = ks_artefact_get("whatsapp-android");
	struct ks_err err = {0};
	for (int with = 0; with < 2; with++) {
		struct ks_artefact_db *adb = NULL;
		CHECK(ks_artefact_db_open(scratch, db, dn, with ? wal : NULL, wn, NULL, 0, NULL, &adb,
					  &err) == KS_OK);
		if (!adb)
			continue;
		/* The connection is read-only. */
		CHECK(sqlite3_exec(ks_artefact_db_handle(adb), "DELETE FROM message", NULL, NULL,
				   NULL) != SQLITE_OK);
		clear_refs();
		CHECK(ks_artefact_parse_db(ops, "", "msgstore.db", adb, NULL, collect, NULL, &err) ==
		      KS_OK);
		CHECK(nrefs == (with ? 3u : 2u));
		ks_artefact_db_close(adb);
	}
out:
	free(db);
	free(wal);
}

/* A rollback journal left by an interrupted transaction is rolled back on the copy:
 * the committed row counts, the half-written one does not. */
static void test_hot_journal(void)
{
	char dir[800], p[900];
	snprintf(dir, sizeof dir, "%s/journal", tmp);
	sh("mkdir -p '%s'", dir);
	sqlite3 *db = create(dir, "History");
	exec(db, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=1;"
		 "CREATE TABLE downloads (id INTEGER PRIMARY KEY, target_path LONGVARCHAR NOT NULL, "
		 "start_time INTEGER NOT NULL, state INTEGER NOT NULL, hash BLOB NOT NULL, pad BLOB);"
		 "INSERT INTO downloads VALUES (1,'/home/a/committed.jpg',13334473600000000,1,x'',"
		 "NULL);");
	/* Uncommitted: enough data to spill pages into the database file. */
	exec(db, "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE "
		 "x < 200) INSERT INTO downloads SELECT 100 + x, '/home/a/uncommitted.jpg', "
		 "13334473600000000, 1, x'', randomblob(3000) FROM c;");
	size_t dn = 0, jn = 0;
	snprintf(p, sizeof p, "%s/History", dir);
	unsigned char *dbb = ktest_read_file(p, &dn);
	snprintf(p, sizeof p, "%s/History-journal", dir);
	unsigned char *jb = ktest_read_file(p, &jn);
	exec(db, "ROLLBACK;");
	sqlite3_close(db);
	if (!jb) {
		printf("sqlite did not spill a journal here: hot-journal case skipped\n");
		free(dbb);
		return;
	}
	CHECK(dbb != NULL && jn > 0);
	struct ks_artefact_db *adb = NULL;
	struct ks_err err = {0};
	CHECK(ks_artefact_db_open(scratch, dbb, dn, NULL, 0, jb, jn, NULL, &adb, &err) == KS_OK);
	if (adb) {
		clear_refs();
		CHECK(ks_artefact_parse_db(ks_artefact_get("chrome-history"), "", "History", adb, NULL,
					   collect, NULL, &err) == KS_OK);
		CHECK(nrefs == 1);
		CHECK(nrefs == 1 && refs[0].path && strcmp(refs[0].path, "/home/a/committed.jpg") == 0);
		ks_artefact_db_close(adb);
	}
	free(dbb);
	free(jb);
}

/* ---- hostile databases ------------------------------------------------------------- */

static int parse_file(const char *parser, const char *path, const struct ks_artefact_limits *lim,
		      struct ks_err *err)
{
	size_t n = 0;
	unsigned char *b = ktest_read_file(path, &n);
	if (!b)
		return -100;
	struct ks_artefact_db *adb = NULL;
	clear_refs();
	int rc = ks_artefact_db_open(scratch, b, n, NULL, 0, NULL, 0, lim, &adb, err);
	if (rc == KS_OK) {
		rc = ks_artefact_parse_db(ks_artefact_get(parser), "", path, adb, lim, collect, NULL,
					  err);
		ks_artefact_db_close(adb);
	}
	free(b);
	return rc;
}

static void test_hostile(void)
{
	char dir[800], p[900];
	struct ks_err err = {0};
	snprintf(dir, sizeof dir, "%s/hostile", tmp);
	sh("mkdir -p '%s'", dir);

	/* An empty database named like every store: a clear "no table" error each. */
	sqlite3 *db = create(dir, "empty.db");
	exec(db, "CREATE TABLE unrelated (x);");
	sqlite3_close(db);
	snprintf(p, sizeof p, "%s/empty.db", dir);
	static const char *const sqlite_rows[] = {"whatsapp-android", "whatsapp-ios",
						  "chrome-history",   "firefox-places",
						  "firefox-downloads", "android-mediastore",
						  "ios-photos"};
	for (size_t i = 0; i < sizeof sqlite_rows / sizeof sqlite_rows[0]; i++) {
		memset(&err, 0, sizeof err);
		CHECK(parse_file(sqlite_rows[i], p, NULL, &err) == KS_E_EVIDENCE);
		CHECK(err.msg[0] != '\0' && nrefs == 0);
	}

	/* Right tables, wrong types, missing columns, a huge thumbnail. */
	db = create(dir, "types.db");
	exec(db, "CREATE TABLE message (_id INTEGER PRIMARY KEY, from_me TEXT, timestamp TEXT);"
		 "CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, file_path BLOB, "
		 "file_hash INTEGER, file_size TEXT);"
		 "CREATE TABLE message_thumbnail (message_row_id INTEGER PRIMARY KEY, thumbnail BLOB);"
		 "INSERT INTO message VALUES (1,'yes','yesterday'),(2,NULL,x'00ff'),(3,'1',1e300);"
		 "INSERT INTO message_media VALUES (1,x'2f00410142ff',12345,'big'),"
		 "(2,NULL,NULL,NULL),(3,'ok.jpg','not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!',-5);"
		 "INSERT INTO message_thumbnail VALUES (3, x'00');");
	uint8_t *huge = calloc(1, 3000000);
	huge[0] = 0xFF, huge[1] = 0xD8, huge[2] = 0xFF;
	exec_blob(db, "INSERT INTO message_thumbnail VALUES (1, ?1)", huge, 3000000);
	free(huge);
	sqlite3_close(db);
	snprintf(p, sizeof p, "%s/types.db", dir);
	struct ks_artefact_limits lim = {.max_thumb_bytes = 1 << 20};
	memset(&err, 0, sizeof err);
	CHECK(parse_file("whatsapp-android", p, &lim, &err) == KS_OK);
	CHECK(nrefs == 3);
	for (size_t i = 0; i < nrefs; i++) {
		CHECK(!refs[i].has_sha256);
		CHECK(refs[i].thumb == NULL);
		CHECK(refs[i].time == 0);
		CHECK(refs[i].chat == NULL && refs[i].peer == NULL);
	}
	const struct got *g = find("whatsapp-android", "message 1");
	if (g && (!g->note || !strstr(g->note, "not taken")))
		fprintf(stderr, "note: %s\n", g->note ? g->note : "(null)");
	CHECK(g && g->note && strstr(g->note, "not taken"));
	CHECK(g && g->path && strcmp(g->path, "/") == 0); /* cut at the NUL */

	/* max_refs stops a parse with KS_E_LIMIT. */
	struct ks_artefact_limits one = {.max_refs = 1};
	CHECK(parse_file("whatsapp-android", p, &one, &err) == KS_E_LIMIT && nrefs == 1);

	/* Not a database at all, and a truncated one. */
	snprintf(p, sizeof p, "%s/garbage.db", dir);
	FILE *f = fopen(p, "wb");
	for (int i = 0; f && i < 8192; i++)
		fputc((i * 7919) & 0xFF, f);
	if (f)
		fclose(f);
	memset(&err, 0, sizeof err);
	CHECK(parse_file("whatsapp-android", p, NULL, &err) == KS_E_EVIDENCE);
	CHECK(strstr(err.msg, "not a readable SQLite database") != NULL);

	char src[900];
	snprintf(src, sizeof src, "%s/data/data/com.whatsapp/databases/msgstore.db", evdir);
	size_t n = 0;
	unsigned char *b = ktest_read_file(src, &n);
	CHECK(b && n > 8192);
	if (b) {
		for (size_t cut = 100; cut < n; cut += 4096 + 100 * (cut / 4096)) {
			struct ks_artefact_db *adb = NULL;
			memset(&err, 0, sizeof err);
			clear_refs();
			int rc = ks_artefact_db_open(scratch, b, cut, NULL, 0, NULL, 0, NULL, &adb, &err);
			if (rc == KS_OK) {
				rc = ks_artefact_parse_db(ks_artefact_get("whatsapp-android"), "", "x",
							  adb, NULL, collect, NULL, &err);
				ks_artefact_db_close(adb);
			}
			CHECK(rc == KS_OK || ((rc == KS_E_EVIDENCE) && err.msg[0]));
		}
		/* A database over the size limit is refused before any copy. */
		struct ks_artefact_limits tiny = {.max_db_bytes = 1024};
		struct ks_artefact_db *adb = NULL;
		CHECK(ks_artefact_db_open(scratch, b, n, NULL, 0, NULL, 0, &tiny, &adb, &err) ==
		      KS_E_LIMIT);
		free(b);
	}
}

/* ---- table, probes, helpers ------------------------------------------------------- */

static void test_table(void)
{
	static const uint8_t sqlite_head[16] = "SQLite format 3";
	struct ks_err err = {0};
	const struct ks_artefact_ops *ops;
	CHECK(ks_artefact_probe("/data/data/com.whatsapp/databases/msgstore.db", sqlite_head, 16,
				&ops, &err) == KS_OK &&
	      ops && strcmp(ops->name, "whatsapp-android") == 0);
	CHECK(ks_artefact_probe("/x/msgstore.db", (const uint8_t *)"garbage garbage!", 16, &ops,
				&err) == KS_OK &&
	      ops == NULL);
	CHECK(ks_artefact_probe("/x/msgstore.db.crypt14", sqlite_head, 16, &ops, &err) == KS_OK &&
	      ops == NULL);
	CHECK(ks_artefact_probe("/Users/a/AppData/Local/Microsoft/Windows/Explorer/THUMBCACHE_256.DB",
				(const uint8_t *)"CMMM\x20\0\0\0", 8, &ops, &err) == KS_OK &&
	      ops && strcmp(ops->name, "windows-thumbcache") == 0);
	CHECK(ks_artefact_probe("/x/thumbcache_idx.db", (const uint8_t *)"IMMM", 4, &ops, &err) ==
		      KS_OK &&
	      ops == NULL);
	CHECK(ks_artefact_is_companion("/data/data/com.whatsapp/databases/msgstore.db-wal"));
	CHECK(ks_artefact_is_companion("/p/History-journal"));
	CHECK(!ks_artefact_is_companion("/p/History-shm"));
	CHECK(!ks_artefact_is_companion("/p/random.db-wal"));
	CHECK(ks_artefact_wants("/p/Photos.sqlite", NULL, 0));
	CHECK(!ks_artefact_wants("/p/photo.jpg", NULL, 0));

	/* No two rows claim the same sample path with the same confidence (detection
	 * never guesses): every row's own sample is claimed by that row alone. */
	static const char *const samples[] = {
		"/a/msgstore.db", "/a/ChatStorage.sqlite", "/a/History", "/a/places.sqlite",
		"/a/downloads.sqlite", "/a/external.db", "/DCIM/.thumbnails/.thumbdata3--1967290299",
		"/a/Photos.sqlite", "/a/thumbcache_96.db", "/a/Thumbs.db",
		"/home/u/.cache/thumbnails/normal/0123456789abcdef0123456789abcdef.png"};
	size_t rows = 0;
	while (ks_artefact_at(rows))
		rows++;
	CHECK(rows == sizeof samples / sizeof samples[0]);
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		int claims = 0;
		for (size_t k = 0; k < rows; k++)
			claims += ks_artefact_at(k)->probe(samples[i], NULL, 0) > 0;
		CHECK(claims == 1);
		CHECK(ks_artefact_probe(samples[i], NULL, 0, &ops, &err) == KS_OK && ops);
		CHECK(ks_artefact_get(ks_artefact_at(i)->name) == ks_artefact_at(i));
	}

	CHECK(ks_time_to_unix(KS_TIME_UNIX_MS, 1690000000123.0) == T0);
	CHECK(ks_time_to_unix(KS_TIME_COCOA_S, 711692800.0) == T0);
	CHECK(ks_time_to_unix(KS_TIME_WEBKIT_US, 13334473600000000.0) == T0);
	CHECK(ks_time_to_unix(KS_TIME_FILETIME, 133344736000000000.0) == T0);
	CHECK(ks_time_to_unix(KS_TIME_UNIX_US, 1690000000000000.0) == T0);
	CHECK(ks_time_to_unix(KS_TIME_UNIX_S, 0) == 0);
	CHECK(ks_time_to_unix(KS_TIME_UNIX_MS, -5) == 0);
	CHECK_STR(ks_ref_kind_name(KS_REF_SENT), "sent");
	CHECK_STR(ks_ref_kind_name(KS_REF_MEDIA_STORE), "media-store");
	CHECK_STR(ks_time_src_name(KS_TIME_WEBKIT_US), "webkit-us");
}

int main(void)
{
	tmp = ktest_tmpdir();
	CHECK(tmp != NULL);
	if (!tmp)
		return ktest_done();
	test_table();
	if (system("command -v convert-im6.q16 >/dev/null 2>&1") != 0) {
		printf("convert-im6.q16 missing: fixture cases skipped\n");
		ktest_done();
		return 77;
	}
	snprintf(evdir, sizeof evdir, "%s/evidence", tmp);
	snprintf(scratch, sizeof scratch, "%s/scratch", tmp);
	sh("mkdir -p '%s' '%s'", evdir, scratch);
	char p[800];
	CHECK(sh("cd '%s' && convert-im6.q16 rose: rose.jpg && convert-im6.q16 wizard: -resize "
		 "40x40 thumb.jpg",
		 tmp) == 0);
	snprintf(p, sizeof p, "%s/rose.jpg", tmp);
	rose = ktest_read_file(p, &rose_len);
	snprintf(p, sizeof p, "%s/thumb.jpg", tmp);
	thumb = ktest_read_file(p, &thumb_len);
	CHECK(rose && thumb);
	if (!rose || !thumb)
		return ktest_done();
	struct ks_digests dg;
	ks_hash_buffer(rose, rose_len, &dg);
	memcpy(rose_sha, dg.sha256, 32);
	b64(rose_sha, 32, rose_b64);

	make_whatsapp_android(evdir);
	make_whatsapp_legacy(evdir);
	make_whatsapp_ios(evdir);
	make_chrome(evdir, "Users/alex/AppData/Local/Google/Chrome/User Data/Default");
	make_chrome(evdir, "Users/alex/AppData/Local/Microsoft/Edge/User Data/Default");
	make_firefox(evdir);
	make_mediastore(evdir);
	make_photos(evdir);
	snprintf(p, sizeof p, "%s/data/data/com.whatsapp/databases/msgstore.db-wal", evdir);
	struct stat sb;
	CHECK(stat(p, &sb) == 0 && sb.st_size > 0); /* the fixture kept its WAL */

	test_scan_tree();
	test_wal_from_buffers();
	test_hot_journal();
	test_hostile();
	clear_refs();
	free(rose);
	free(thumb);
	return ktest_done();
}
