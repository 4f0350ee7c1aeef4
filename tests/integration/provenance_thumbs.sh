#!/usr/bin/env bash
# Thumbnail caches on a FAT image made with mtools: a Windows 10 thumbcache_256.db and
# a Windows XP Thumbs.db (an OLE2 file), built at test time, holding thumbnails of
# pictures that are no longer on the disk (and one whose original is still there).
# Every thumbnail becomes an item of state "cache" under its cache file, is matched
# against an MD5 list of the thumbnails, counted in the report's cache column, and
# linked: to the original by its path when it exists, else to the thumbnail itself.
# The image is unchanged by the scan.
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick; need_tool mcopy mtools; need_tool mkfs.fat dosfstools; need_tool sqlite3 sqlite3
L="$SRC/tests/integration/lib"
IM=convert-im6.q16
P="$T/pics"; mkdir -p "$P"
$IM rose: -resize 64x64 "$P/t-rose.jpg"
$IM wizard: -resize 64x64 "$P/t-wizard.jpg"
$IM -size 64x48 gradient:navy-orange "$P/t-sunset.jpg"
$IM -size 48x48 pattern:hexagons "$P/t-hex.png"
$IM -size 40x40 pattern:crosshatch "$P/t-cross.jpg"
$IM wizard: "$P/wizard.jpg"
md5() { md5sum "$1" | cut -c1-32; }

E="$T/tree"
TC="$E/Users/alex/AppData/Local/Microsoft/Windows/Explorer"
XP="$E/Documents and Settings/alex/My Documents/holiday"
mkdir -p "$TC" "$XP"
cat > "$T/tc.json" <<EOF
{"entries": [{"hash": "5d3c9a0b12ef4410", "file": "$P/t-sunset.jpg"},
             {"hash": "a1b2c3d4e5f60718", "file": "$P/t-hex.png"}]}
EOF
python3 "$L/prov_fixtures.py" thumbcache "$TC/thumbcache_256.db" "$T/tc.json"
cat > "$T/tdb.json" <<EOF
{"entries": [{"id": 1, "name": "rose.jpg", "unix": 1690000000, "file": "$P/t-rose.jpg"},
             {"id": 2, "name": "wizard.jpg", "unix": 1690000060, "file": "$P/t-wizard.jpg"},
             {"id": 12, "name": "cross.jpg", "unix": 1690000120, "file": "$P/t-cross.jpg"}]}
EOF
python3 "$L/prov_fixtures.py" thumbsdb "$XP/Thumbs.db" "$T/tdb.json"
cp "$P/wizard.jpg" "$XP/wizard.jpg" # the only original still on the disk

img="$T/disk.img"
dd if=/dev/zero of="$img" bs=1M count=16 status=none
mkfs.fat -F 16 -n WINDISK "$img" >/dev/null
mcopy -s -i "$img" "$E/Users" "$E/Documents and Settings" ::/
sha256sum "$img" > "$T/img.sha256"

# The hash set: MD5s of the thumbnails (a list as a unit would get from a thumbnail
# database), labelled category B for the test.
for f in t-rose.jpg t-wizard.jpg t-sunset.jpg t-hex.png t-cross.jpg; do md5 "$P/$f"; done > "$T/thumbs.md5"

c="$T/case"
"$KESTREL" case init "$c" --ref TH-1 --examiner test >/dev/null
check "import the MD5 list of the thumbnails" "$KESTREL" hashset import "$c" "$T/thumbs.md5" --format md5 --category B
check "scan the FAT image" "$KESTREL" scan "$c" "$img" --exhibit DISK-1 --quiet
check "the image is unchanged after the scan" sha256sum -c --quiet "$T/img.sha256"
"$KESTREL" files "$c" --json > "$T/files.jsonl"
"$KESTREL" report "$c" --format json --out "$T/r.json" >/dev/null

check "thumbcache: both thumbnails are cache items under the cache, matched, linked" \
  python3 - "$T/files.jsonl" "$(md5 "$P/t-sunset.jpg")" "$(md5 "$P/t-hex.png")" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
tc = "/Users/alex/AppData/Local/Microsoft/Windows/Explorer/thumbcache_256.db"
for entry, md5 in (("entry 5d3c9a0b12ef4410", sys.argv[2]), ("entry a1b2c3d4e5f60718", sys.argv[3])):
    r = [r for r in rows if r["path"] == tc + " \u203a " + entry]
    assert len(r) == 1, (entry, [x["path"] for x in rows])
    r = r[0]
    assert r["state"] == "cache" and r["in_container"] is False, r
    assert r["md5"] == md5 and r["category_code"] == "B" and r["match"] == "thumbs.md5 (md5)", r
    x = r["references"]
    assert len(x) == 1 and x[0]["kind"] == "thumbnail" and x[0]["link"] == "thumbnail", x
    assert x[0]["thumbnail"] == r["path"] and x[0]["artefact"] == tc, x
    assert x[0]["summary"] == "thumbnail in thumbcache_256.db (%s)" % entry, x
PY
check "Thumbs.db: thumbnails of deleted pictures are cache items with their original names and times" \
  python3 - "$T/files.jsonl" "$(md5 "$P/t-rose.jpg")" "$(md5 "$P/t-cross.jpg")" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
tdb = "/Documents and Settings/alex/My Documents/holiday/Thumbs.db"
for rec, md5, name, when in (("stream 1 (catalog id 1)", sys.argv[2], "rose.jpg", "2023-07-22T04:26:40Z"),
                             ("stream 21 (catalog id 12)", sys.argv[3], "cross.jpg", "2023-07-22T04:28:40Z")):
    r = [r for r in rows if r["path"] == tdb + " \u203a " + rec]
    assert len(r) == 1, (rec, [x["path"] for x in rows if "Thumbs" in x["path"]])
    r = r[0]
    assert r["state"] == "cache" and r["md5"] == md5 and r["category_code"] == "B", r
    x = r["references"][0]
    assert x["name"] == name and x["time"] == when and x["time_src"] == "filetime", x
    assert x["path"] == "/Documents and Settings/alex/My Documents/holiday/" + name, x
    assert x["link"] == "thumbnail" and x["file"] is None, x  # the original is gone
PY
check "Thumbs.db: the thumbnail of a picture still on disk is linked to the original by path" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
orig = [r for r in rows if r["path"] == "/Documents and Settings/alex/My Documents/holiday/wizard.jpg"][0]
assert orig["state"] == "live" and orig["category"] is None, orig  # the original is not in the list
x = orig["references"]
assert len(x) == 1 and x[0]["link"] == "path" and x[0]["file"] == orig["path"], x
assert x[0]["media_sha256"] == orig["sha256"], x
thumb = [r for r in rows if r["path"].endswith("Thumbs.db \u203a stream 2 (catalog id 2)")][0]
assert thumb["category_code"] == "B" and x[0]["thumbnail"] == thumb["path"], (thumb, x)
assert thumb["references"][0]["record"] == "stream 2 (catalog id 2)", thumb
PY
check "report: the five thumbnails count as cached category B pictures" \
  python3 - "$T/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]["schemes"][0]
b = [c for c in t["categories"] if c["code"] == "B"][0]["pictures"]
assert b["distinct"] == 5 and b["cache"] == 5 and b["live"] == 0 and b["in_container"] == 0, b
items = [i for i in r["items"] if i["state"] == "cache"]
assert len(items) == 5 and all(i["references"] for i in items), items
PY
check "the audit log records the app stores read (2) and the thumbnails made (5)" \
  bash -c "sqlite3 '$c/case.db' \"SELECT detail FROM audit WHERE action = 'scan.artefacts'\" | grep -q ': 2 app stores read from private copies, 5 references, 5 items made'"
finish
