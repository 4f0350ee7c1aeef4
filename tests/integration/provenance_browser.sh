#!/usr/bin/env bash
# Browser downloads linked to the downloaded files. A Windows profile (Chrome and Edge
# History with url chains, referrer and Chrome's SHA-256 of the finished file) and a
# Linux home (Firefox places.sqlite download annotations), built at test time with the
# browsers' schemas, scanned as directory trees: each downloaded picture carries its
# download (URL, referrer, time) linked by path (Windows paths case-insensitively),
# and the History files are byte-identical after the scan.
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick
L="$SRC/tests/integration/lib"
IM=convert-im6.q16
P="$T/pics"; mkdir -p "$P"
$IM rose: "$P/rose.jpg"; $IM wizard: "$P/wizard.jpg"; $IM logo: -resize 40% "$P/logo.jpg"
$IM -size 80x60 pattern:checkerboard "$P/checks.png"

W="$T/win"; mkdir -p "$W/Users/Alex/Downloads"
cp "$P/rose.jpg" "$W/Users/Alex/Downloads/rose.jpg"
cp "$P/wizard.jpg" "$W/Users/Alex/Downloads/wizard.jpg"
cp "$P/checks.png" "$W/Users/Alex/Downloads/checks.png"
cat > "$T/chrome.json" <<EOF
{"downloads": [
 {"id": 1, "target": "C:\\\\Users\\\\Alex\\\\Downloads\\\\rose.jpg", "unix": 1690000000,
  "urls": ["https://example.org/dl?id=7", "https://cdn.example.org/img/rose.jpg"],
  "referrer": "https://example.org/gallery", "hash_of": "$P/rose.jpg", "size_of": "$P/rose.jpg"},
 {"id": 2, "target": "C:\\\\USERS\\\\alex\\\\Downloads\\\\Wizard.JPG", "unix": 1690000100,
  "urls": ["https://cdn.example.org/img/wizard.jpg"], "referrer": "https://example.org/art",
  "size_of": "$P/wizard.jpg"}
]}
EOF
python3 "$L/prov_fixtures.py" chrome "$W/Users/Alex/AppData/Local/Google/Chrome/User Data/Default" "$T/chrome.json"
cat > "$T/edge.json" <<EOF
{"downloads": [
 {"id": 1, "target": "C:\\\\Users\\\\Alex\\\\Downloads\\\\checks.png", "unix": 1690000200,
  "urls": ["https://img.example.net/checks.png"], "referrer": "https://example.net/",
  "size_of": "$P/checks.png", "mime": "image/png"}
]}
EOF
python3 "$L/prov_fixtures.py" chrome "$W/Users/Alex/AppData/Local/Microsoft/Edge/User Data/Default" "$T/edge.json"

X="$T/linux"; FF="$X/home/alex/.mozilla/firefox/x1y2z3.default-release"
mkdir -p "$X/home/alex/Downloads"
cp "$P/logo.jpg" "$X/home/alex/Downloads/logo copy.jpg"
cat > "$T/firefox.json" <<EOF
{"referrer": "https://example.com/logos",
 "downloads": [{"url": "https://cdn.example.com/logo.jpg",
  "dest_uri": "file:///home/alex/Downloads/logo%20copy.jpg", "unix": 1690000300,
  "size_of": "$P/logo.jpg"}]}
EOF
python3 "$L/prov_fixtures.py" firefox "$FF" "$T/firefox.json"

before=$(sha256sum "$W/Users/Alex/AppData/Local/Google/Chrome/User Data/Default/History" \
  "$W/Users/Alex/AppData/Local/Microsoft/Edge/User Data/Default/History" "$FF/places.sqlite")
c="$T/case"
"$KESTREL" case init "$c" --ref DL-1 --examiner test >/dev/null
check "scan the Windows profile" "$KESTREL" scan "$c" "$W" --exhibit LAPTOP-W --quiet
check "scan the Linux home" "$KESTREL" scan "$c" "$X" --exhibit LAPTOP-L --quiet
after=$(sha256sum "$W/Users/Alex/AppData/Local/Google/Chrome/User Data/Default/History" \
  "$W/Users/Alex/AppData/Local/Microsoft/Edge/User Data/Default/History" "$FF/places.sqlite")
check "History and places.sqlite byte-identical after the scan" test "$before" = "$after"
"$KESTREL" files "$c" --json > "$T/files.jsonl"

check "Chrome: rose.jpg carries its download (final URL, referrer, time), linked to the file" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
f = [r for r in rows if r["path"] == "/Users/Alex/Downloads/rose.jpg"][0]
assert len(f["references"]) == 1, f["references"]
x = f["references"][0]
assert x["kind"] == "download" and x["app"] == "Chrome", x
assert x["url"] == "https://cdn.example.org/img/rose.jpg", x
assert x["referrer"] == "https://example.org/gallery", x
assert x["time"] == "2023-07-22T04:26:40Z" and x["time_src"] == "webkit-us", x
assert x["file"] == "/Users/Alex/Downloads/rose.jpg", x   # found by its path
assert x["link"] == "sha256" and x["sha256"] == f["sha256"], x  # and Chrome's hash agrees
assert x["summary"] == ("downloaded from https://cdn.example.org/img/rose.jpg (referrer "
                        "https://example.org/gallery) to C:\\Users\\Alex\\Downloads\\rose.jpg "
                        "with Chrome at 2023-07-22T04:26:40Z (download start)"), x["summary"]
PY
check "Chrome: a download without a hash is linked by its Windows path, ignoring case" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
f = [r for r in rows if r["path"] == "/Users/Alex/Downloads/wizard.jpg"][0]
x = f["references"][0]
assert x["link"] == "path" and x["sha256"] is None and x["file"] == f["path"], x
assert x["url"] == "https://cdn.example.org/img/wizard.jpg" and x["time"] == "2023-07-22T04:28:20Z", x
assert x["media_sha256"] == f["sha256"], x
PY
check "Edge: the download is told apart from Chrome and linked by path" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
f = [r for r in rows if r["path"] == "/Users/Alex/Downloads/checks.png"][0]
x = f["references"][0]
assert x["app"] == "Edge" and x["link"] == "path" and x["referrer"] == "https://example.net/", x
PY
check "Firefox: the download annotation is linked to the file by path" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
f = [r for r in rows if r["path"] == "/home/alex/Downloads/logo copy.jpg"][0]
assert f["exhibit"] == "LAPTOP-L", f
x = f["references"][0]
assert x["kind"] == "download" and x["app"] == "Firefox", x
assert x["url"] == "https://cdn.example.com/logo.jpg", x
assert x["path"] == "/home/alex/Downloads/logo copy.jpg" and x["link"] == "path", x
assert x["time"] == "2023-07-22T04:31:40Z" and x["time_src"] == "unix-us", x
assert x["referrer"] == "https://example.com/logos", x
PY
check "no download is linked to a file of the other exhibit" \
  python3 - "$T/files.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    for x in r["references"]:
        assert x["exhibit"] == r["exhibit"], (r["path"], x)
PY
"$KESTREL" report "$c" --format html --out "$T/r.html" >/dev/null
check "HTML items show the download in words" \
  grep -q "downloaded from https://cdn.example.com/logo.jpg (referrer https://example.com/logos) to /home/alex/Downloads/logo copy.jpg with Firefox" "$T/r.html"
finish
