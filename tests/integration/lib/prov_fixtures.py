#!/usr/bin/env python3
"""Builds app stores for the provenance integration tests, with the apps' real
schemas (the same as tests/unit/test_artefact.c) and small writers for the binary
thumbnail caches (as tests/unit/test_artefact_cache.c):

  prov_fixtures.py whatsapp-android DIR SPEC   DIR/msgstore.db (+ -wal for wal rows)
  prov_fixtures.py whatsapp-ios DIR SPEC       DIR/ChatStorage.sqlite
  prov_fixtures.py chrome DIR SPEC             DIR/History
  prov_fixtures.py firefox DIR SPEC            DIR/places.sqlite
  prov_fixtures.py thumbcache FILE SPEC        a Windows 8+ thumbcache_*.db
  prov_fixtures.py thumbsdb FILE SPEC          a Windows XP Thumbs.db (OLE2)

SPEC is a JSON file; "file" fields name pictures whose bytes (or SHA-256) go into
the store. Standard library only."""
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import sys
import tempfile


def sha256_of(path):
    return hashlib.sha256(open(path, "rb").read()).digest()


def read(path):
    return open(path, "rb").read()


# ---- WhatsApp Android msgstore.db ------------------------------------------------

WA_ANDROID = """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT
 NOT NULL, agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden
 INTEGER, subject TEXT, created_timestamp INTEGER, display_message_row_id INTEGER,
 last_message_row_id INTEGER, last_read_message_row_id INTEGER, archived INTEGER,
 sort_timestamp INTEGER);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL,
 from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER,
 broadcast INTEGER, recipient_count INTEGER, participant_hash TEXT, origination_flags
 INTEGER, origin INTEGER, timestamp INTEGER, received_timestamp INTEGER,
 receipt_server_timestamp INTEGER, message_type INTEGER, text_data TEXT, starred INTEGER,
 lookup_tables INTEGER, message_add_on_flags INTEGER, sort_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER,
 autotransfer_retry_enabled INTEGER, multicast_id TEXT, media_job_uuid TEXT, transferred
 INTEGER, transcoded INTEGER, file_path TEXT, file_size INTEGER, suspicious_content INTEGER,
 trim_from INTEGER, trim_to INTEGER, face_x INTEGER, face_y INTEGER, media_key BLOB,
 media_key_timestamp INTEGER, width INTEGER, height INTEGER, has_streaming_sidecar INTEGER,
 gif_attribution INTEGER, thumbnail_height_width_ratio REAL, direct_path TEXT,
 first_scan_sidecar BLOB, first_scan_length INTEGER, message_url TEXT, mime_type TEXT,
 file_length INTEGER, media_name TEXT, file_hash TEXT, media_duration INTEGER, page_count
 INTEGER, enc_file_hash TEXT, partial_media_hash TEXT, partial_media_enc_hash TEXT,
 is_animated_sticker INTEGER, original_file_hash TEXT, mute_video INTEGER DEFAULT 0,
 media_caption TEXT, media_upload_handle TEXT);
CREATE INDEX message_media_hash_index ON message_media(file_hash);
CREATE TABLE message_thumbnail (message_row_id INTEGER PRIMARY KEY, thumbnail BLOB);
CREATE TABLE jid_map (lid_row_id INTEGER PRIMARY KEY, jid_row_id INTEGER);
"""


def whatsapp_android(out_dir, spec):
    """spec: {"messages": [{"id", "from_me", "chat", "subject", "sender", "ts_ms", "path",
    "mime", "hash_of", "size_of", "thumb", "caption", "wal": bool}]}"""
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp()
    db_path = os.path.join(tmp, "msgstore.db")
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA page_size=4096")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.executescript(WA_ANDROID)
    jids, chats = {}, {}

    def jid(raw):
        if raw not in jids:
            user, server = raw.split("@", 1)
            cur = db.execute("INSERT INTO jid (user, server, agent, device, type, raw_string)"
                             " VALUES (?,?,0,0,?,?)", (user, server,
                                                       1 if server == "g.us" else 0, raw))
            jids[raw] = cur.lastrowid
        return jids[raw]

    def chat(raw, subject):
        if raw not in chats:
            cur = db.execute("INSERT INTO chat (jid_row_id, subject, created_timestamp)"
                             " VALUES (?,?,1689000000000)", (jid(raw), subject))
            chats[raw] = cur.lastrowid
        return chats[raw]

    msgs = spec["messages"]
    for phase in (False, True):  # checkpointed rows first, then rows left in the WAL
        for m in msgs:
            if bool(m.get("wal")) != phase:
                continue
            c = chat(m["chat"], m.get("subject"))
            sender = jid(m["sender"]) if m.get("sender") else None
            db.execute("INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id,"
                       " status, origination_flags, timestamp, received_timestamp, message_type,"
                       " sort_id) VALUES (?,?,?,?,?,13,0,?,?,1,?)",
                       (m["id"], c, 1 if m.get("from_me") else 0, "K%d" % m["id"], sender,
                        m["ts_ms"], m["ts_ms"] + 500, m["id"]))
            fh = base64.b64encode(sha256_of(m["hash_of"])).decode() if m.get("hash_of") else None
            size = os.path.getsize(m["size_of"]) if m.get("size_of") else None
            db.execute("INSERT INTO message_media (message_row_id, chat_row_id, transferred,"
                       " file_path, file_size, mime_type, file_hash, media_caption) VALUES"
                       " (?,?,1,?,?,?,?,?)", (m["id"], c, m.get("path"), size,
                                             m.get("mime", "image/jpeg"), fh, m.get("caption")))
            if m.get("thumb"):
                db.execute("INSERT INTO message_thumbnail VALUES (?,?)", (m["id"], read(m["thumb"])))
        if not phase:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # Copy while the connection is open: the WAL keeps the rows written after the
    # checkpoint, as on a phone that was seized with the app running.
    for f in ("msgstore.db", "msgstore.db-wal"):
        p = os.path.join(tmp, f)
        if os.path.exists(p) and os.path.getsize(p) > 0:
            shutil.copyfile(p, os.path.join(out_dir, f))
    db.close()
    shutil.rmtree(tmp)


# ---- WhatsApp iOS ChatStorage.sqlite ----------------------------------------------

WA_IOS = """
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER,
 Z_MAX INTEGER);
CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
 ZARCHIVED INTEGER, ZREMOVED INTEGER, ZSESSIONTYPE INTEGER, ZUNREADCOUNT INTEGER,
 ZLASTMESSAGE INTEGER, ZLASTMESSAGEDATE TIMESTAMP, ZCONTACTJID VARCHAR, ZPARTNERNAME
 VARCHAR, ZLASTMESSAGETEXT VARCHAR);
CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
 ZISACTIVE INTEGER, ZISADMIN INTEGER, ZCHATSESSION INTEGER, ZCONTACTNAME VARCHAR,
 ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR);
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
 ZCHILDMESSAGESDELIVEREDCOUNT INTEGER, ZDATAITEMVERSION INTEGER, ZFLAGS INTEGER,
 ZGROUPEVENTTYPE INTEGER, ZISFROMME INTEGER, ZMESSAGEERRORSTATUS INTEGER, ZMESSAGESTATUS
 INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER, ZSPOTLIGHTSTATUS INTEGER, ZSTARRED INTEGER,
 ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZLASTSESSION INTEGER, ZMEDIAITEM INTEGER,
 ZMESSAGEINFO INTEGER, ZPARENTMESSAGE INTEGER, ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP,
 ZFROMJID VARCHAR, ZMEDIASECTIONID VARCHAR, ZPHASH VARCHAR, ZPUSHNAME VARCHAR, ZSTANZAID
 VARCHAR, ZTEXT VARCHAR, ZTOJID VARCHAR);
CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
 ZCLOUDSTATUS INTEGER, ZFILESIZE INTEGER, ZMEDIAORIGIN INTEGER, ZMOVIEDURATION INTEGER,
 ZMESSAGE INTEGER, ZASPECTRATIO FLOAT, ZHACCURACY FLOAT, ZLATITUDE FLOAT, ZLONGITUDE FLOAT,
 ZMEDIAURLDATE TIMESTAMP, ZAUTHORNAME VARCHAR, ZCOLLECTIONNAME VARCHAR, ZMEDIALOCALPATH
 VARCHAR, ZMEDIAURL VARCHAR, ZTHUMBNAILLOCALPATH VARCHAR, ZTITLE VARCHAR, ZVCARDNAME
 VARCHAR, ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR, ZMEDIAKEY BLOB, ZMETADATA BLOB);
"""

COCOA = 978307200


def whatsapp_ios(out_dir, spec):
    """spec: {"sessions": [{"pk", "jid", "name", "group"}], "messages": [{"id", "session",
    "from_me", "unix", "path", "thumb_path", "hash_of", "size_of", "mime"}]}"""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ChatStorage.sqlite")
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(WA_IOS)
    for s in spec["sessions"]:
        db.execute("INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, ZSESSIONTYPE, ZCONTACTJID,"
                   " ZPARTNERNAME) VALUES (?,4,?,?,?)",
                   (s["pk"], 1 if s.get("group") else 0, s["jid"], s.get("name")))
    for m in spec["messages"]:
        db.execute("INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, ZFLAGS, ZISFROMME, ZMESSAGETYPE,"
                   " ZCHATSESSION, ZMEDIAITEM, ZMESSAGEDATE, ZSTANZAID) VALUES (?,9,0,?,1,?,?,?,?)",
                   (m["id"], 1 if m.get("from_me") else 0, m["session"], m["id"],
                    m["unix"] - COCOA, "3A%04d" % m["id"]))
        fh = base64.b64encode(sha256_of(m["hash_of"])).decode() if m.get("hash_of") else None
        size = os.path.getsize(m["size_of"]) if m.get("size_of") else None
        db.execute("INSERT INTO ZWAMEDIAITEM (Z_PK, Z_ENT, ZFILESIZE, ZMESSAGE, ZMEDIALOCALPATH,"
                   " ZXMPPTHUMBPATH, ZVCARDNAME, ZVCARDSTRING) VALUES (?,8,?,?,?,?,?,?)",
                   (m["id"], size, m["id"], m.get("path"), m.get("thumb_path"), fh,
                    m.get("mime", "image/jpeg")))
    db.close()


# ---- Chrome History -------------------------------------------------------------------

CHROME = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,
 visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,
 last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE downloads (id INTEGER PRIMARY KEY, guid VARCHAR NOT NULL, current_path
 LONGVARCHAR NOT NULL, target_path LONGVARCHAR NOT NULL, start_time INTEGER NOT NULL,
 received_bytes INTEGER NOT NULL, total_bytes INTEGER NOT NULL, state INTEGER NOT NULL,
 danger_type INTEGER NOT NULL, interrupt_reason INTEGER NOT NULL, hash BLOB NOT NULL,
 end_time INTEGER NOT NULL, opened INTEGER NOT NULL, last_access_time INTEGER NOT NULL,
 transient INTEGER NOT NULL, referrer VARCHAR NOT NULL, site_url VARCHAR NOT NULL,
 embedder_download_data VARCHAR NOT NULL, tab_url VARCHAR NOT NULL, tab_referrer_url
 VARCHAR NOT NULL, http_method VARCHAR NOT NULL, by_ext_id VARCHAR NOT NULL, by_ext_name
 VARCHAR NOT NULL, by_web_app_id VARCHAR NOT NULL, etag VARCHAR NOT NULL, last_modified
 VARCHAR NOT NULL, mime_type VARCHAR(255) NOT NULL, original_mime_type VARCHAR(255) NOT NULL);
CREATE TABLE downloads_url_chains (id INTEGER NOT NULL, chain_index INTEGER NOT NULL, url
 LONGVARCHAR NOT NULL, PRIMARY KEY (id, chain_index));
"""

WEBKIT = 11644473600


def chrome(out_dir, spec):
    """spec: {"downloads": [{"id", "target", "unix", "urls": [...], "referrer", "hash_of",
    "size_of", "mime"}]}"""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "History")
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(CHROME)
    for d in spec["downloads"]:
        start = (d["unix"] + WEBKIT) * 1000000
        size = os.path.getsize(d["size_of"]) if d.get("size_of") else 0
        h = sha256_of(d["hash_of"]) if d.get("hash_of") else b""
        db.execute("INSERT INTO downloads VALUES (?,?,?,?,?,?,?,1,0,0,?,?,1,?,0,?,?,'',?,'','GET',"
                   "'','','','','',?,?)",
                   (d["id"], "0b5c3d7e-0000-4000-8000-%012d" % d["id"], d["target"], d["target"],
                    start, size, size, h, start + 2000000, start + 5000000,
                    d.get("referrer", ""), d.get("referrer", ""), d.get("referrer", ""),
                    d.get("mime", "image/jpeg"), d.get("mime", "image/jpeg")))
        for i, u in enumerate(d["urls"]):
            db.execute("INSERT INTO downloads_url_chains VALUES (?,?,?)", (d["id"], i, u))
    db.close()


# ---- Firefox places.sqlite ---------------------------------------------------------------

FIREFOX = """
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,
 rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL,
 typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL, last_visit_date
 INTEGER , guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL, url_hash INTEGER DEFAULT 0
 NOT NULL , description TEXT, preview_image_url TEXT, origin_id INTEGER, site_name TEXT);
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id
 INTEGER, visit_date INTEGER, visit_type INTEGER, session INTEGER, source INTEGER DEFAULT 0
 NOT NULL, triggeringPlaceId INTEGER);
CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE NOT NULL);
CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL,
 anno_attribute_id INTEGER, content LONGVARCHAR, flags INTEGER DEFAULT 0, expiration
 INTEGER DEFAULT 0, type INTEGER DEFAULT 0, dateAdded INTEGER DEFAULT 0, lastModified
 INTEGER DEFAULT 0);
INSERT INTO moz_anno_attributes VALUES (1,'downloads/destinationFileURI'),
 (2,'downloads/metaData');
"""


def firefox(out_dir, spec):
    """spec: {"referrer": url, "downloads": [{"url", "dest_uri", "unix", "size_of"}]}"""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "places.sqlite")
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(FIREFOX)
    db.execute("INSERT INTO moz_places (id, url, title) VALUES (1, ?, 'page')", (spec["referrer"],))
    db.execute("INSERT INTO moz_historyvisits (id, from_visit, place_id, visit_date, visit_type)"
               " VALUES (1, 0, 1, ?, 1)", (spec["downloads"][0]["unix"] * 1000000 - 30000000,))
    for i, d in enumerate(spec["downloads"]):
        pid, us = i + 2, d["unix"] * 1000000
        db.execute("INSERT INTO moz_places (id, url, title) VALUES (?,?,?)",
                   (pid, d["url"], d["url"].rsplit("/", 1)[-1]))
        db.execute("INSERT INTO moz_historyvisits (id, from_visit, place_id, visit_date,"
                   " visit_type) VALUES (?,1,?,?,7)", (pid, pid, us))
        size = os.path.getsize(d["size_of"]) if d.get("size_of") else 0
        meta = json.dumps({"state": 1, "deleted": False, "endTime": d["unix"] * 1000 + 5000,
                           "fileSize": size})
        db.execute("INSERT INTO moz_annos (place_id, anno_attribute_id, content, flags,"
                   " expiration, type, dateAdded, lastModified) VALUES (?,1,?,0,4,3,?,?)",
                   (pid, d["dest_uri"], us, us))
        db.execute("INSERT INTO moz_annos (place_id, anno_attribute_id, content, flags,"
                   " expiration, type, dateAdded, lastModified) VALUES (?,2,?,0,4,3,?,?)",
                   (pid, meta, us + 5000000, us + 5000000))
    db.close()


# ---- Windows thumbcache_*.db (Windows 8 and later layout) ----------------------------

def thumbcache(out_path, spec):
    """spec: {"entries": [{"hash": "16 hex digits", "file": picture}]}"""
    o = bytearray(b"CMMM" + struct.pack("<III", 0x20, 3, 0) + struct.pack("<II", 24, 0))
    for e in spec["entries"]:
        data = read(e["file"])
        ident = e["hash"].encode("utf-16-le")
        hdr = 56
        pad = (8 - (hdr + len(ident) + len(data)) % 8) % 8
        o += b"CMMM" + struct.pack("<I", hdr + len(ident) + pad + len(data))
        o += struct.pack("<Q", int(e["hash"], 16))
        o += struct.pack("<IIIIII", len(ident), pad, len(data), 96, 96, 0)
        o += struct.pack("<QQ", 0x1122334455667788, 0x8877665544332211)
        o += ident + b"\0" * pad + data
    struct.pack_into("<I", o, 20, len(o))  # first available byte
    open(out_path, "wb").write(bytes(o))


# ---- Windows Thumbs.db: an OLE2 compound file --------------------------------------

SS, MSS, ENDCH, FREES, NOSTREAM = 512, 64, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF


def up(n, to):
    return (n + to - 1) // to


def cfb(streams):
    """streams: [(name, bytes)] under the root storage. Returns the file's bytes."""
    mini, minifat = bytearray(), []
    starts = {}
    for name, data in streams:
        if 0 < len(data) < 4096:
            k = up(len(data), MSS)
            starts[name] = len(minifat)
            for j in range(k):
                minifat.append(len(minifat) + 1 if j + 1 < k else ENDCH)
            mini += data + b"\0" * (k * MSS - len(data))
    n = len(streams)
    dir_secs, minifat_secs = up((1 + n) * 128, SS), up(len(minifat) * 4, SS)
    mini_secs = up(len(mini), SS)
    big_secs = sum(up(len(d), SS) for _, d in streams if len(d) >= 4096)
    body = dir_secs + minifat_secs + mini_secs + big_secs
    fat_secs = 1
    while fat_secs * (SS // 4) < body + fat_secs:
        fat_secs += 1
    fat = [FREES] * (fat_secs * (SS // 4))
    for i in range(fat_secs):
        fat[i] = 0xFFFFFFFD
    nxt = [fat_secs]

    def chain(k):
        first = nxt[0]
        for j in range(k):
            fat[nxt[0]] = nxt[0] + 1 if j + 1 < k else ENDCH
            nxt[0] += 1
        return first

    dir_first = chain(dir_secs)
    minifat_first = chain(minifat_secs) if minifat_secs else ENDCH
    mini_first = chain(mini_secs) if mini_secs else ENDCH
    for name, data in streams:
        if len(data) >= 4096:
            starts[name] = chain(up(len(data), SS))
    o = bytearray(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + b"\0" * 16)
    o += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    o += struct.pack("<IIIIIIIII", 0, fat_secs, dir_first, 0, 4096, minifat_first, minifat_secs,
                     ENDCH, 0)
    for i in range(109):
        o += struct.pack("<I", i if i < fat_secs else FREES)
    assert len(o) == SS
    for v in fat:
        o += struct.pack("<I", v)
    dir_at = len(o)
    entries = [("Root Entry", None)] + list(streams)
    for i, (name, data) in enumerate(entries):
        u = name.encode("utf-16-le") + b"\0\0"
        e = u + b"\0" * (64 - len(u)) + struct.pack("<H", len(u))
        e += bytes([5 if i == 0 else 2, 1])
        right = i + 1 if 0 < i < n else NOSTREAM
        child = 1 if i == 0 and n else NOSTREAM
        e += struct.pack("<III", NOSTREAM, right, child) + b"\0" * 20 + struct.pack("<QQ", 0, 0)
        if i == 0:
            e += struct.pack("<IQ", mini_first, len(mini))
        else:
            e += struct.pack("<IQ", starts.get(name, ENDCH) if data else ENDCH, len(data))
        assert len(e) == 128
        o += e
    while len(o) - dir_at < dir_secs * SS:
        o += b"\0" * 68 + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + b"\0" * 48
    for i in range(minifat_secs * (SS // 4)):
        o += struct.pack("<I", minifat[i] if i < len(minifat) else FREES)
    o += mini + b"\0" * (mini_secs * SS - len(mini))
    for name, data in streams:
        if len(data) >= 4096:
            o += data + b"\0" * (up(len(data), SS) * SS - len(data))
    return bytes(o)


def filetime(unix):
    return (unix + 11644473600) * 10000000


def thumbsdb(out_path, spec):
    """spec: {"entries": [{"id", "name", "unix", "file"}]}: catalog + one stream each,
    named by the reversed decimal id as Windows XP does."""
    cat = bytearray(struct.pack("<HHIII", 16, 7, len(spec["entries"]), 96, 96))
    streams = []
    for e in spec["entries"]:
        name = e["name"].encode("utf-16-le")
        cat += struct.pack("<IIQ", 16 + len(name) + 4, e["id"], filetime(e["unix"])) + name
        cat += b"\0\0\0\0"
        data = read(e["file"])
        streams.append((str(e["id"])[::-1], struct.pack("<III", 12, e["id"], len(data)) + data))
    open(out_path, "wb").write(cfb([("Catalog", bytes(cat))] + streams))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    kind, out, spec = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
    {"whatsapp-android": whatsapp_android, "whatsapp-ios": whatsapp_ios, "chrome": chrome,
     "firefox": firefox, "thumbcache": thumbcache, "thumbsdb": thumbsdb}[kind](out, spec)


if __name__ == "__main__":
    main()
