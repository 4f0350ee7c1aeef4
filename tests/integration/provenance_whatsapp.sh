#!/usr/bin/env bash
# WhatsApp provenance end to end. An Android phone (msgstore.db with a row only in its
# WAL) and an iPhone (ChatStorage.sqlite), built at test time with the apps' schemas:
# on each, a picture was sent and then deleted from the phone. The report must show
# it as distributed, with peer and time, matched by the SHA-256 the app recorded
# against a VICS set that holds only that SHA-256. Also: a received picture linked by
# hash, a sent one linked by path, the embedded message thumbnail as a cache item,
# the VICS export's IsDistributed, the same phone as a FAT image (the sent picture
# deleted there, found deleted and linked), and the evidence byte-identical after.
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick; need_tool mcopy mtools; need_tool mkfs.fat dosfstools
L="$SRC/tests/integration/lib"
IM=convert-im6.q16
P="$T/pics"; mkdir -p "$P"
$IM rose: "$P/rose.jpg"; $IM wizard: "$P/wizard.jpg"; $IM logo: -resize 50% "$P/logo.jpg"
$IM -size 96x64 plasma:fractal -seed 3 "$P/plasma.jpg" 2>/dev/null || $IM -size 96x64 gradient:blue-yellow "$P/plasma.jpg"
$IM rose: -resize 32x32 "$P/rose-thumb.jpg"; $IM -size 96x64 gradient:red-green -resize 24x16 "$P/plasma-thumb.jpg"
sha() { sha256sum "$1" | cut -c1-64; }

# ---- Android: /data/data/com.whatsapp plus shared storage (media/0) ---------------------
A="$T/android"; WA="$A/media/0/WhatsApp/Media/WhatsApp Images"
mkdir -p "$WA/Sent" "$A/data/data/com.whatsapp/databases"
cp "$P/wizard.jpg" "$WA/IMG-20230722-WA0002.jpg"
cp "$P/logo.jpg" "$WA/Sent/IMG-20230722-WA0003.jpg"
cat > "$T/android.json" <<EOF
{"messages": [
 {"id": 1, "from_me": true, "chat": "447700900123@s.whatsapp.net", "ts_ms": 1690000000123,
  "path": "Media/WhatsApp Images/Sent/IMG-20230722-WA0001.jpg", "hash_of": "$P/rose.jpg",
  "size_of": "$P/rose.jpg", "thumb": "$P/rose-thumb.jpg"},
 {"id": 2, "from_me": false, "chat": "120363012345678901@g.us", "subject": "Book club",
  "sender": "447700900456@s.whatsapp.net", "ts_ms": 1690000200000,
  "path": "Media/WhatsApp Images/IMG-20230722-WA0002.jpg", "hash_of": "$P/wizard.jpg"},
 {"id": 3, "from_me": true, "chat": "447700900789@s.whatsapp.net", "ts_ms": 1690000300000,
  "path": "/storage/emulated/0/WhatsApp/Media/WhatsApp Images/Sent/IMG-20230722-WA0003.jpg",
  "wal": true}
]}
EOF
python3 "$L/prov_fixtures.py" whatsapp-android "$A/data/data/com.whatsapp/databases" "$T/android.json"
check "Android fixture has a WAL" test -s "$A/data/data/com.whatsapp/databases/msgstore.db-wal"

# ---- iOS: the shared app group, the sent picture gone, its .thumb still there ------------
G="$T/ios/private/var/mobile/Containers/Shared/AppGroup/0A1B2C3D-0000-4000-8000-000000000001"
I="$T/ios"; mkdir -p "$G/Message/Media/447700900123@s.whatsapp.net/1/f"
cp "$P/plasma-thumb.jpg" "$G/Message/Media/447700900123@s.whatsapp.net/1/f/1f2e3d4c.thumb"
cat > "$T/ios.json" <<EOF
{"sessions": [{"pk": 1, "jid": "447700900123@s.whatsapp.net", "name": "Alex Example"}],
 "messages": [
 {"id": 1, "session": 1, "from_me": true, "unix": 1690000600,
  "path": "Media/447700900123@s.whatsapp.net/1/f/1f2e3d4c.jpg",
  "thumb_path": "Media/447700900123@s.whatsapp.net/1/f/1f2e3d4c.thumb",
  "hash_of": "$P/plasma.jpg", "size_of": "$P/plasma.jpg"}]}
EOF
python3 "$L/prov_fixtures.py" whatsapp-ios "$G" "$T/ios.json"

# The hash set: only the SHA-256 of the two pictures that were sent and deleted.
cat > "$T/set.json" <<EOF
{"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/\$metadata#Media",
 "value": [{"MediaID": 1, "Category": 1, "SHA256": "$(sha "$P/rose.jpg")"},
           {"MediaID": 2, "Category": 2, "SHA256": "$(sha "$P/plasma.jpg")"}]}
EOF

digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
digest "$A" > "$T/a.before"; digest "$I" > "$T/i.before"

c="$T/case"
"$KESTREL" case init "$c" --ref WA-1 --examiner test >/dev/null
check "import the VICS set (SHA-256 only)" "$KESTREL" hashset import "$c" "$T/set.json" --format vics --scheme uk
check "scan the Android tree" "$KESTREL" scan "$c" "$A" --exhibit PHONE-A --quiet
check "scan the iOS tree" "$KESTREL" scan "$c" "$I" --exhibit PHONE-I --quiet
digest "$A" > "$T/a.after"; digest "$I" > "$T/i.after"
check "Android evidence byte-identical after the scan" cmp -s "$T/a.before" "$T/a.after"
check "iOS evidence byte-identical after the scan" cmp -s "$T/i.before" "$T/i.after"
check "the WAL was part of the evidence that stayed identical" grep -q "msgstore.db-wal" "$T/a.after"

"$KESTREL" report "$c" --format json --out "$T/r.json" >/dev/null
"$KESTREL" files "$c" --json > "$T/files.jsonl"
"$KESTREL" report "$c" --format vics --out "$T/vics.json" >/dev/null

check "Android: the sent and deleted picture is distributed, with peer and time, matched by SHA-256" \
  python3 - "$T/r.json" "$(sha "$P/rose.jpg")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ex = {e["exhibit"]: e for e in r["distribution"]}["PHONE-A"]
m = [m for m in ex["media"] if m["sha256"] == sys.argv[2]]
assert len(m) == 1, ex
m = m[0]
assert m["files_in_case"] == 0 and m["md5"] is None, m
assert m["category_code"] == "A" and m["category"] == "Category A", m
assert "(sha256)" in m["match"], m
ref = m["references"][0]
assert ref["peer"] == "447700900123@s.whatsapp.net", ref
assert ref["time"] == "2023-07-22T04:26:40Z", ref
assert ref["app"] == "WhatsApp" and ref["record"] == "message 1", ref
assert ref["summary"] == "sent to 447700900123@s.whatsapp.net via WhatsApp at 2023-07-22T04:26:40Z", ref
PY
check "Android: distribution figures (A: 1, uncategorised: 1, the WAL-only message counted)" \
  python3 - "$T/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ex = {e["exhibit"]: e for e in r["distribution"]}["PHONE-A"]
cats = {c["code"]: c["media"] for c in ex["categories"]}
assert ex["distributed_media"] == 2 and ex["sent_references"] == 2, ex
assert cats == {"A": 1, "B": 0, "C": 0, "N": 0, None: 1}, cats
PY
check "iOS: the sent and deleted picture is distributed, with peer name and time, matched by SHA-256" \
  python3 - "$T/r.json" "$(sha "$P/plasma.jpg")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ex = {e["exhibit"]: e for e in r["distribution"]}["PHONE-I"]
assert ex["distributed_media"] == 1, ex
m = ex["media"][0]
assert m["sha256"] == sys.argv[2] and m["files_in_case"] == 0 and m["category_code"] == "B", m
ref = m["references"][0]
assert ref["peer"] == "447700900123@s.whatsapp.net" and ref["peer_name"] == "Alex Example", ref
assert ref["time"] == "2023-07-22T04:36:40Z", ref
assert "sent to Alex Example (447700900123@s.whatsapp.net) via WhatsApp" in ref["summary"], ref
PY
check "the message thumbnail is a cache item under msgstore.db, linked to its message" \
  python3 - "$T/files.jsonl" "$(md5sum "$P/rose-thumb.jpg" | cut -c1-32)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
t = [r for r in rows if r["path"].endswith("msgstore.db \u203a message 1")]
assert len(t) == 1, [r["path"] for r in rows]
t = t[0]
assert t["state"] == "cache" and not t["in_container"] and t["md5"] == sys.argv[2], t
assert t["type"] == "jpeg" and t["kind"] == "picture", t
refs = t["references"]
assert len(refs) == 1 and refs[0]["kind"] == "sent" and refs[0]["link"] == "sha256", refs
assert refs[0]["thumbnail"] == t["path"], refs
PY
check "the received picture carries its message (group, sender), linked by SHA-256" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
w = [r for r in rows if r["path"].endswith("WhatsApp Images/IMG-20230722-WA0002.jpg")][0]
refs = w["references"]
assert len(refs) == 1, refs
x = refs[0]
assert x["kind"] == "received" and x["chat_name"] == "Book club", x
assert x["peer"] == "447700900456@s.whatsapp.net" and x["link"] == "sha256", x
assert x["file"] == w["path"], x
assert x["summary"].startswith("received from 447700900456@s.whatsapp.net in group Book club"), x
PY
check "the picture sent from the WAL-only message is linked by its device path" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
w = [r for r in rows if r["path"].endswith("Sent/IMG-20230722-WA0003.jpg")][0]
x = w["references"][0]
assert x["kind"] == "sent" and x["link"] == "path" and x["record"] == "message 3", x
assert x["peer"] == "447700900789@s.whatsapp.net" and x["time"] == "2023-07-22T04:31:40Z", x
PY
check "iOS: the .thumb file is linked as the sent picture's thumbnail" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
t = [r for r in rows if r["path"].endswith("1f2e3d4c.thumb")][0]
x = t["references"][0]
assert x["kind"] == "sent" and x["link"] == "sha256" and x["thumbnail"] == t["path"], x
PY
check "VICS export: IsDistributed, categories, a media without files" \
  python3 - "$T/vics.json" "$(sha "$P/rose.jpg")" "$(sha "$P/wizard.jpg")" "$(sha "$P/logo.jpg")" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["@odata.context"].endswith("2.0.xml/UK/$metadata#Cases"), d["@odata.context"]
media = {m["SHA256"]: m for m in d["value"][0]["Media"]}
rose, wizard, logo = media[sys.argv[2]], media[sys.argv[3]], media[sys.argv[4]]
assert rose["IsDistributed"] is True and rose["Category"] == 1 and rose["MediaFiles"] == [], rose
assert logo["IsDistributed"] is True and len(logo["MediaFiles"]) == 1, logo
assert wizard["IsDistributed"] is False, wizard
refs = [p["PropertyValue"] for p in rose["MediaMetadata"] if p["PropertyName"] == "Reference"]
assert refs == ["sent to 447700900123@s.whatsapp.net via WhatsApp at 2023-07-22T04:26:40Z"], refs
PY
c2="$T/case-roundtrip"
"$KESTREL" case init "$c2" --ref WA-2 --examiner test >/dev/null
check "the VICS export imports back as a hash set" "$KESTREL" hashset import "$c2" "$T/vics.json" --scheme uk
check "HTML report has the distribution with the peer" \
  bash -c "'$KESTREL' report '$c' --format html --out '$T/r.html' >/dev/null && grep -q '<h2>Distribution</h2>' '$T/r.html' && grep -q 'sent to Alex Example (447700900123@s.whatsapp.net) via WhatsApp at 2023-07-22T04:36:40Z' '$T/r.html'"
check "CSV report has the distributed rows" \
  bash -c "'$KESTREL' report '$c' --format csv --out '$T/r.csv' >/dev/null && grep -q '^distributed,PHONE-A,uk,A,Category A,1' '$T/r.csv' && grep -q '^sent,PHONE-I,$(sha "$P/plasma.jpg")' '$T/r.csv'"

# The hash set imported after the scan matches the media known by hash only; a rescan
# replaces the source's references instead of adding to them.
c4="$T/case-late"
"$KESTREL" case init "$c4" --ref WA-4 --examiner test >/dev/null
"$KESTREL" scan "$c4" "$A" --exhibit PHONE-A --quiet >/dev/null
check "VICS set imported after the scan matches the sent and deleted picture" \
  bash -c "'$KESTREL' hashset import '$c4' '$T/set.json' --format vics --scheme uk | grep -q '1 media of the case matched'"
check "rescan the Android tree" "$KESTREL" scan "$c4" "$A" --exhibit PHONE-A --rescan --quiet
"$KESTREL" report "$c4" --format json --out "$T/r4.json" >/dev/null
check "after import and rescan: the same distribution, category A from the late import" \
  python3 - "$T/r4.json" "$(sha "$P/rose.jpg")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ex = r["distribution"][0]
assert ex["distributed_media"] == 2 and ex["sent_references"] == 2, ex
m = [m for m in ex["media"] if m["sha256"] == sys.argv[2]][0]
assert m["category_code"] == "A" and len(m["references"]) == 1, m
PY

# ---- the same extraction delivered as a zip (app stores and media as archive members) ----
need_tool zip zip
(cd "$A" && zip -q -r "$T/extraction.zip" data media)
mkdir -p "$T/zipev" && mv "$T/extraction.zip" "$T/zipev/"
c5="$T/case-zip"
"$KESTREL" case init "$c5" --ref WA-5 --examiner test >/dev/null
"$KESTREL" hashset import "$c5" "$T/set.json" --format vics --scheme uk >/dev/null
check "scan the zipped extraction" "$KESTREL" scan "$c5" "$T/zipev" --exhibit PHONE-A-ZIP --quiet
"$KESTREL" report "$c5" --format json --out "$T/r5.json" >/dev/null
check "zip: the stores inside the archive give the same distribution, linked inside the archive" \
  python3 - "$T/r5.json" "$(sha "$P/rose.jpg")" "$(sha "$P/logo.jpg")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ex = r["distribution"][0]
assert ex["distributed_media"] == 2 and ex["sent_references"] == 2, ex
by = {m["sha256"]: m for m in ex["media"]}
assert by[sys.argv[2]]["files_in_case"] == 0 and by[sys.argv[2]]["category_code"] == "A", by
assert by[sys.argv[3]]["references"][0]["record"] == "message 3", by  # the WAL row, in the zip
t = [i for i in r["items"] if i["path"].endswith("msgstore.db \u203a message 1")]
assert len(t) == 1 and t[0]["state"] == "cache" and "/extraction.zip \u203a " in t[0]["path"], t
logo = [i for i in r["items"] if i["sha256"] == sys.argv[3]][0]
assert logo["references"][0]["link"] == "path" and logo["in_container"], logo
PY

# ---- the Android phone as a FAT image, the sent picture deleted (recoverable) ------------
img="$T/android.img"
dd if=/dev/zero of="$img" bs=1M count=32 status=none
mkfs.fat -F 16 -n PHONE "$img" >/dev/null
cp "$P/rose.jpg" "$WA/Sent/IMG-20230722-WA0001.jpg"
mcopy -s -i "$img" "$A/data" "$A/media" ::/
mdel -i "$img" "::/media/0/WhatsApp/Media/WhatsApp Images/Sent/IMG-20230722-WA0001.jpg"
rm "$WA/Sent/IMG-20230722-WA0001.jpg"
sha256sum "$img" > "$T/img.before"
c3="$T/case-img"
"$KESTREL" case init "$c3" --ref WA-3 --examiner test >/dev/null
"$KESTREL" hashset import "$c3" "$T/set.json" --format vics --scheme uk >/dev/null
check "scan the FAT image" "$KESTREL" scan "$c3" "$img" --exhibit PHONE-A-IMG --quiet
check "image unchanged after the scan" sha256sum -c --quiet "$T/img.before"
"$KESTREL" report "$c3" --format json --out "$T/r3.json" >/dev/null
check "FAT image: the sent picture, found deleted, is linked by SHA-256 and distributed" \
  python3 - "$T/r3.json" "$(sha "$P/rose.jpg")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ex = r["distribution"][0]
assert ex["exhibit"] == "PHONE-A-IMG" and ex["distributed_media"] == 2, ex
m = [m for m in ex["media"] if m["sha256"] == sys.argv[2]][0]
assert m["files_in_case"] == 1 and m["category_code"] == "A" and m["md5"], m
assert m["references"][0]["peer"] == "447700900123@s.whatsapp.net", m
items = [i for i in r["items"] if i["sha256"] == sys.argv[2]]
assert len(items) == 1 and items[0]["state"] == "deleted", items
assert items[0]["references"][0]["kind"] == "sent", items[0]
PY
finish
