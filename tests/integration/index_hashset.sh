#!/usr/bin/env bash
# Index files end to end with the kestrel binary: build from a VICS set and a PDQ list
# (benign ImageMagick pictures, invented categories), info, lookup --json, a scan with
# --index that records exact matches and a near match with its distance and entry,
# sets registered once across scans, export to VICS and rebuild with the same answers,
# a malformed input leaving nothing behind; and Meta's MIH vectors through the CLI
# (100 needles against 1,350 hashes at radius 31: exactly the 250 expected pairs).
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick
need_tool sqlite3 sqlite3
IM=convert-im6.q16
ev="$T/evidence"; ref="$T/reference"
mkdir -p "$ev/sub" "$ref"
$IM rose: "$ev/rose.png"
$IM logo: "$ev/logo.jpg"
$IM wizard: -quality 92 "$ev/wizard.jpg"
$IM -seed 7 -size 320x240 plasma:fractal -quality 90 "$ev/plasma.jpg"
cp "$ev/logo.jpg" "$ev/sub/logo-copy.jpg"
# the known version of the wizard differs from the one on the "device": resized, recompressed
$IM "$ev/wizard.jpg" -resize 85% -quality 60 "$ref/wizard-known.jpg"

md5() { md5sum "$1" | cut -c1-32; }
sha1() { sha1sum "$1" | cut -c1-40; }
ROSE_MD5=$(md5 "$ev/rose.png"); PLASMA_SHA1=$(sha1 "$ev/plasma.jpg")
cat > "$T/known.json" <<EOF
{"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/\$metadata#Media",
 "value": [
  {"MediaID": 1, "Category": 1, "MD5": "${ROSE_MD5^^}", "MediaSize": $(stat -c %s "$ev/rose.png"),
   "Series": "invented series", "PhotoDNA": "AAEC/w==", "MediaFiles": [{"FileName": "rose.png"}]},
  {"MediaID": 2, "Category": 4, "SHA1": "$PLASMA_SHA1"}
 ]}
EOF
"$KESTREL" pdq "$ref/wizard-known.jpg" > "$T/known.pdq"
KNOWN_PDQ=$(cut -d, -f1 "$T/known.pdq")
check "pdq list made (quality >= 50)" test "$(cut -d, -f2 "$T/known.pdq")" -ge 50

idx="$T/known.kix"
check "build" "$KESTREL" hashset build "$idx" "$T/known.json" "$T/known.pdq" --category 2 \
  --scheme vics-us
"$KESTREL" hashset info "$idx" --verify --json > "$T/info.json"
check "info: 2 sets, 1 MD5, 1 SHA-1, 1 PDQ, verified" python3 - "$T/info.json" <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))
assert len(i["sets"]) == 2 and i["md5"] == 1 and i["sha1"] == 1 and i["pdq"] == 1, i
assert i["verified"] is True and i["sets"][1]["format"] == "pdq", i
PY
check "build refuses to replace without --force" \
  bash -c '! "$0" hashset build "$1" "$2" 2>/dev/null' "$KESTREL" "$idx" "$T/known.json"

"$KESTREL" hashset lookup "$idx" "$ROSE_MD5" "pdq:$KNOWN_PDQ" 0123456789abcdef0123456789abcdef \
  --json > "$T/lookup.jsonl"
check "lookup --json: one object per query with hash, distance, set, category" \
  python3 - "$T/lookup.jsonl" "$ROSE_MD5" "$KNOWN_PDQ" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3, rows
m = rows[0]["matches"]
assert rows[0]["query"] == sys.argv[2] and len(m) == 1, rows[0]
assert m[0]["hash"] == sys.argv[2] and m[0]["distance"] == 0, m
assert m[0]["set"] == "known.json" and m[0]["category"] == "1", m
m = rows[1]["matches"]
assert len(m) == 1 and m[0]["distance"] == 0 and m[0]["category"] == "2", m
assert m[0]["set"] == "known.pdq" and m[0]["hash"] == sys.argv[3], m
assert rows[2]["matches"] == [], rows[2]
PY
"$KESTREL" hashset lookup "$idx" "$ROSE_MD5" "pdq:$KNOWN_PDQ" 0123456789abcdef0123456789abcdef \
  --json --preload > "$T/lookup-preload.jsonl"
check "lookup --preload: the same answers as from the map" \
  cmp "$T/lookup.jsonl" "$T/lookup-preload.jsonl"

case="$T/case"
"$KESTREL" case init "$case" --ref IDX-1 --examiner test --scheme vics-us >/dev/null
check "scan --index" "$KESTREL" scan "$case" "$ev" --exhibit EX-1 --index "$idx" --quiet
db="$case/case.db"
q() { sqlite3 -separator ' ' "$db" "$1"; }
check "exact MD5 match recorded" test "$(q "SELECT count(*) FROM \"match\" x JOIN media m ON
  m.id = x.media WHERE x.how = 'md5' AND lower(hex(m.md5)) = '$ROSE_MD5' AND x.category = '1'")" = 1
check "exact SHA-1 match recorded" test "$(q "SELECT count(*) FROM \"match\" x JOIN media m ON
  m.id = x.media WHERE x.how = 'sha1' AND lower(hex(m.sha1)) = '$PLASMA_SHA1' AND x.category = '4'")" = 1
near=$(q "SELECT x.distance, x.matched, x.category FROM \"match\" x JOIN media m ON m.id = x.media
  WHERE x.how = 'pdq' AND lower(hex(m.md5)) = '$(md5 "$ev/wizard.jpg")'")
echo "near match: $near"
check "near match recorded with its distance and entry" python3 - "$near" "$KNOWN_PDQ" <<'PY'
import sys
d, h, c = sys.argv[1].split()
assert 0 <= int(d) <= 31 and h == sys.argv[2] and c == "2", sys.argv[1]
PY
check "no near match for the other pictures" test "$(q "SELECT count(*) FROM \"match\" WHERE how = 'pdq'")" = 1
"$KESTREL" files "$case" --json > "$T/files.jsonl"
check "files: the wizard is categorised by its near match" python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = {json.loads(l)["path"].split("/")[-1]: json.loads(l) for l in open(sys.argv[1])}
w = rows["wizard.jpg"]
assert w.get("category_code") == "2" and w.get("scheme") == "vics-us", w
assert "(pdq)" in w.get("match", ""), w
assert rows["logo.jpg"].get("category_code") in (None, ""), rows["logo.jpg"]
PY
check "second scan" "$KESTREL" scan "$case" "$ev" --exhibit EX-2 --index "$idx" --quiet
check "index sets registered once" test "$(q "SELECT count(*) FROM hashset WHERE format = 'index'")" = 2
check "attach audited" test "$(q "SELECT count(*) FROM audit WHERE action = 'hashset.attach'")" = 2

# export to VICS and build again: the same answers
check "export" "$KESTREL" hashset export "$idx" --format vics --out "$T/export.json"
check "rebuild from the export" "$KESTREL" hashset build "$T/again.kix" "$T/export.json" \
  --scheme vics-us
"$KESTREL" hashset lookup "$T/again.kix" "$ROSE_MD5" "pdq:$KNOWN_PDQ" "sha1:$PLASMA_SHA1" \
  --json > "$T/lookup2.jsonl"
"$KESTREL" hashset lookup "$idx" "$ROSE_MD5" "pdq:$KNOWN_PDQ" "sha1:$PLASMA_SHA1" \
  --json > "$T/lookup1.jsonl"
check "round trip: same matches (set names aside)" python3 - "$T/lookup1.jsonl" "$T/lookup2.jsonl" <<'PY'
import json, sys
def norm(p):
    out = []
    for l in open(p):
        r = json.loads(l)
        out.append((r["query"], sorted((m["hash"], m["distance"], m["category"], m["kind"])
                                       for m in r["matches"])))
    return out
a, b = norm(sys.argv[1]), norm(sys.argv[2])
assert a == b and all(m for _, m in a), (a, b)
PY

# two files of one name from different folders: two sets, the second "name #2"
mkdir -p "$T/d1" "$T/d2"
echo "$ROSE_MD5" > "$T/d1/list.md5"; md5 "$ev/logo.jpg" > "$T/d2/list.md5"
check "build two same-named files" "$KESTREL" hashset build "$T/two.kix" "$T/d1/list.md5" \
  "$T/d2/list.md5" --role ignore
"$KESTREL" hashset info "$T/two.kix" --json > "$T/two.json"
check "same-named files: sets 'list.md5' and 'list.md5 #2'" python3 - "$T/two.json" <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))
assert [s["name"] for s in i["sets"]] == ["list.md5", "list.md5 #2"], i["sets"]
assert all(s["role"] == "ignore" and s["md5"] == 1 for s in i["sets"]), i["sets"]
PY

# a malformed input: an error naming the file and line, nothing left behind
printf '%s  a\nnot-a-hash  b\n' "$ROSE_MD5" > "$T/bad.md5"
mkdir "$T/out"
"$KESTREL" hashset build "$T/out/bad.kix" "$T/bad.md5" --format md5 2> "$T/bad.err"
rc=$?
check "malformed input: build fails" test "$rc" -ne 0
check "malformed input: the error names file and line" grep -q "bad.md5.*line 2" "$T/bad.err"
check "malformed input: nothing left behind" test -z "$(ls -A "$T/out")"

# Meta's MIH vectors, through the CLI
if [ -n "${SHARED:-}" ] && [ -e "$SHARED/testdata/pdq/mih/haystack.txt" ]; then
  M="$SHARED/testdata/pdq/mih"
  check "build the haystack" "$KESTREL" hashset build "$T/mih.kix" "$M/haystack.txt" --format pdq
  "$KESTREL" hashset lookup "$T/mih.kix" - --json --radius 31 < "$M/needles.txt" > "$T/mih.jsonl"
  check "MIH vectors: exactly the 250 expected pairs" python3 - "$T/mih.jsonl" "$M" <<'PY'
import json, sys
got = set()
for n, l in enumerate(open(sys.argv[1]), 1):
    for m in json.loads(l)["matches"]:
        got.add((n, m["hash"], m["distance"]))
exp = set()
for l in list(open(sys.argv[2] + "/expected-matches-d31.tsv"))[1:]:
    f = l.split()
    exp.add((int(f[0]), f[4], int(f[2])))
assert len(exp) == 250 and got == exp, (len(got), len(exp), sorted(got ^ exp)[:5])
PY
  # 300 queries from standard input go through the batched search: the same answers
  for k in 1 2 3; do cat "$M/needles.txt"; done > "$T/needles3.txt"
  "$KESTREL" hashset lookup "$T/mih.kix" - --json --radius 31 < "$T/needles3.txt" \
    > "$T/mih3.jsonl"
  check "MIH vectors, batched (300 queries): the same 250 pairs, three times, in order" \
    python3 - "$T/mih.jsonl" "$T/mih3.jsonl" <<'PY'
import sys
one = open(sys.argv[1]).read().splitlines()
three = open(sys.argv[2]).read().splitlines()
assert len(one) == 100 and three == one * 3, (len(one), len(three))
PY
else
  echo "note: SHARED absent, MIH vectors not checked"
fi
finish
