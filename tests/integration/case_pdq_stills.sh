#!/usr/bin/env bash
# PDQ lists imported into a case near-match the scan's pictures, as index files do:
# a known picture (benign ImageMagick wizard, resized and recompressed as the "known"
# copy) imported as a PDQ list with an invented category; the scan records the near
# match with its distance and entry and categorises the picture; unrelated pictures
# stay unmatched; a list whose hashes are all below the quality floor matches nothing;
# a set imported with role ignore is reported as ignorable; both the PDQ list and an
# index file given with --index are consulted in one scan; a list imported after the
# scan matches the pictures already stored.
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick
need_tool sqlite3 sqlite3
IM=convert-im6.q16
ev="$T/evidence"; ref="$T/reference"
mkdir -p "$ev" "$ref"
$IM wizard: -quality 92 "$ev/wizard.jpg"
$IM rose: "$ev/rose.png"
$IM -seed 7 -size 320x240 plasma:fractal -quality 90 "$ev/plasma.jpg"
$IM -seed 9 -size 320x240 plasma:fractal -quality 90 "$ev/plasma2.jpg"
$IM "$ev/wizard.jpg" -resize 85% -quality 60 "$ref/wizard-known.jpg"
$IM "$ev/plasma2.jpg" -resize 90% -quality 70 "$ref/plasma2-known.jpg"
"$KESTREL" pdq "$ref/wizard-known.jpg" > "$T/known.pdq"
"$KESTREL" pdq "$ref/plasma2-known.jpg" > "$T/index.pdq"
KNOWN_PDQ=$(cut -d, -f1 "$T/known.pdq")
INDEX_PDQ=$(cut -d, -f1 "$T/index.pdq")
check "pdq list made (quality >= 50)" test "$(cut -d, -f2 "$T/known.pdq")" -ge 50
# the same hash with quality 10: left out of near matching
echo "$KNOWN_PDQ,10,lowq" > "$T/lowq.pdq"

case="$T/case"
"$KESTREL" case init "$case" --ref CPDQ-1 --examiner test --scheme vics-us >/dev/null
check "import the PDQ list" "$KESTREL" hashset import "$case" "$T/known.pdq" --format pdq \
  --category 2 --scheme vics-us --name known-stills
check "import a low-quality list" "$KESTREL" hashset import "$case" "$T/lowq.pdq" --format pdq \
  --category 1 --scheme vics-us --name low-quality
check "build an index of another picture" "$KESTREL" hashset build "$T/other.kix" "$T/index.pdq" \
  --format pdq --category 3 --scheme vics-us --name index-stills
check "scan" "$KESTREL" scan "$case" "$ev" --exhibit EX-1 --index "$T/other.kix" --quiet
db="$case/case.db"
q() { sqlite3 -separator ' ' "$db" "$1"; }
md5() { md5sum "$1" | cut -c1-32; }
near=$(q "SELECT x.distance, x.matched, x.category, h.name FROM \"match\" x JOIN media m ON
  m.id = x.media JOIN hashset h ON h.id = x.hashset
  WHERE x.how = 'pdq' AND lower(hex(m.md5)) = '$(md5 "$ev/wizard.jpg")'")
echo "case list near match: $near"
check "the case's PDQ list matched the wizard with distance and entry" python3 - "$near" "$KNOWN_PDQ" <<'PY'
import sys
rows = [r.split() for r in sys.argv[1].splitlines()]
assert len(rows) == 1, rows   # once, and not from the low-quality list
d, h, c, name = rows[0]
assert 1 <= int(d) <= 31 and h == sys.argv[2] and c == "2" and name == "known-stills", rows
PY
near2=$(q "SELECT x.distance, x.matched, x.category FROM \"match\" x JOIN media m ON
  m.id = x.media WHERE x.how = 'pdq' AND lower(hex(m.md5)) = '$(md5 "$ev/plasma2.jpg")'")
echo "index near match: $near2"
check "the index file matched the other picture in the same scan" python3 - "$near2" "$INDEX_PDQ" <<'PY'
import sys
d, h, c = sys.argv[1].split()
assert 0 <= int(d) <= 31 and h == sys.argv[2] and c == "3", sys.argv[1]
PY
check "no other near matches" test "$(q "SELECT count(*) FROM \"match\" WHERE how = 'pdq'")" = 2
"$KESTREL" files "$case" --json > "$T/files.jsonl"
check "files: the wizard is categorised by the case list" python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = {json.loads(l)["path"].split("/")[-1]: json.loads(l) for l in open(sys.argv[1])}
w = rows["wizard.jpg"]
assert w.get("category_code") == "2", w
assert rows["rose.png"].get("category_code") in (None, ""), rows["rose.png"]
assert rows["plasma.jpg"].get("category_code") in (None, ""), rows["plasma.jpg"]
PY
check "no index file left in the case folder" bash -c '! ls "$0"/.case-pdq-* 2>/dev/null' "$case"

# role ignore: the match is recorded as ignorable (known-good)
case2="$T/case2"
"$KESTREL" case init "$case2" --ref CPDQ-2 --examiner test --scheme vics-us >/dev/null
"$KESTREL" hashset import "$case2" "$T/known.pdq" --format pdq --category 2 --scheme vics-us \
  --name known-good --role ignore >/dev/null
check "scan (ignorable list)" "$KESTREL" scan "$case2" "$ev" --exhibit EX-2 --quiet
check "near match against an ignorable list recorded" test "$(sqlite3 "$case2/case.db" \
  "SELECT count(*) FROM \"match\" x JOIN hashset h ON h.id = x.hashset
   WHERE x.how = 'pdq' AND h.role = 'ignore'")" = 1

# a list imported after the scan matches the pictures already stored
case3="$T/case3"
"$KESTREL" case init "$case3" --ref CPDQ-3 --examiner test --scheme vics-us >/dev/null
check "scan before any list" "$KESTREL" scan "$case3" "$ev" --exhibit EX-3 --quiet
out=$("$KESTREL" hashset import "$case3" "$T/known.pdq" --format pdq --category 2 \
  --scheme vics-us --name late-list)
echo "$out"
check "import after the scan reports the picture it matched" \
  bash -c '[[ "$0" == *"1 media of the case matched"* ]]' "$out"
late=$(sqlite3 -separator ' ' "$case3/case.db" "SELECT x.distance, x.category FROM \"match\" x
  JOIN media m ON m.id = x.media WHERE x.how = 'pdq' AND lower(hex(m.md5)) = '$(md5 "$ev/wizard.jpg")'")
check "the late list's near match recorded with its distance" python3 - "$late" <<'PY'
import sys
d, c = sys.argv[1].split()
assert 1 <= int(d) <= 31 and c == "2", sys.argv[1]
PY
check "no index file left in the case folder after the import" \
  bash -c '! ls "$0"/.case-pdq-* 2>/dev/null' "$case3"
finish
