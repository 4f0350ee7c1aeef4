#!/usr/bin/env bash
# Videos in a scan, made here with ffmpeg from benign ImageMagick pictures (a slideshow
# of rose:, logo:, granite: and plasma fractals; the "known still" is wizard:): an
# original, a re-encoded copy, a cut copy, a re-timed copy, a truncated copy, a video
# over the in-memory limit (sampled through the evidence) and a video that shows the
# known still for two seconds. With a PDQ list holding the still (from `kestrel pdq`)
# and a vPDQ list of the original (from `kestrel vpdq`) imported, the copies match the
# original ("vpdq"), the still's video is categorised from the still with the frame's
# time ("pdq-frame"), the truncated copy is decoded as far as it goes and marked. The
# same files on a FAT image, scanned before the lists are imported, end up matched too;
# an index file holding the still (--index) categorises the still's video as well.
# Categories here are invented labels.
. "$(dirname "$0")/lib/common.sh"
need_tool ffmpeg ffmpeg; need_tool convert-im6.q16 imagemagick; need_tool mcopy mtools
need_tool mkfs.fat dosfstools; need_tool python3 python3
C=convert-im6.q16
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# slides OUT PICTURE...: two seconds per picture, 25 fps, H.264 with the index first
slides() {
  local out=$1 n=0 fc="" args=()
  shift
  for p in "$@"; do args+=(-loop 1 -t 2 -i "$p"); fc="$fc[$n]"; n=$((n + 1)); done
  ff "${args[@]}" -filter_complex "${fc}concat=n=$n:v=1,format=yuv420p,fps=25" \
    -c:v libx264 -preset veryfast -movflags +faststart "$out"
}
cd "$T" || exit 1
$C rose: -resize 320x240! s1.png && $C logo: -resize 320x240! s2.png &&
  $C granite: -resize 320x240! s3.png && $C -seed 11 -size 320x240 plasma:fractal s4.png &&
  $C -seed 7 -size 320x240 plasma:fractal s5.png && $C -seed 9 -size 320x240 plasma:fractal s6.png &&
  $C wizard: -resize 320x240! still.png && $C still.png still.jpg || { bad "pictures"; finish; }

mkdir ev
slides orig.mp4 s1.png s2.png s3.png s4.png s5.png
slides ev/withstill.mp4 s6.png s2.png still.png s4.png
cp orig.mp4 ev/orig.mp4
ff -i orig.mp4 -c:v mpeg4 -q:v 6 ev/reenc.mkv
ff -ss 3 -i orig.mp4 -c:v libx264 -preset veryfast ev/cut.mp4
ff -i orig.mp4 -r 15 -c:v libx264 -preset veryfast ev/retimed.mp4
head -c $(($(stat -c %s orig.mp4) * 45 / 100)) orig.mp4 > ev/trunc.mp4
# Over the 64 MiB held in memory: a transport stream padded with null packets.
mkdir big
ff -i orig.mp4 -c copy -f mpegts big/big.ts
python3 -c '
import sys
pkt = b"\x47\x1f\xff\x10" + b"\xff" * 184
with open(sys.argv[1], "ab") as f:
    f.write(pkt * (65 * 1024 * 1024 // 188))' big/big.ts
[ "$(stat -c %s big/big.ts)" -gt $((64 * 1024 * 1024)) ] || bad "big.ts is over 64 MiB"

"$KESTREL" pdq still.jpg > stills.pdq
"$KESTREL" vpdq orig.mp4 > orig.vpdq
check "PDQ list written" grep -Eq '^[0-9a-f]{64},[0-9]+,still.jpg$' stills.pdq
check "vPDQ list written" grep -Eq '^0,[0-9]+,[0-9a-f]{64},0.000$' orig.vpdq

# jq-like checks on files --json: check_video FILE PATH KEY=VALUE...
# Keys: status, marks~, why~, frames>=N, duration~, match=HOW:SET:CATEGORY, time=T (first
# match's frame time, +-0.6 s), qpct>=N.
cat > vcheck.py <<'EOF'
import json, sys
rows = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    rows[r["path"]] = r
r = rows.get(sys.argv[2])
if r is None:
    sys.exit(f"{sys.argv[2]}: no such row (have {sorted(rows)})")
v = r.get("video")
if v is None:
    sys.exit(f"{sys.argv[2]}: no video object")
ms = v["matches"]
for c in sys.argv[3:]:
    if c.startswith("status="):
        ok = v["status"] == c[7:]
    elif c.startswith("marks~"):
        ok = c[6:] in v["marks"]
    elif c.startswith("why~"):
        ok = c[4:] in (v["why"] or "")
    elif c.startswith("frames>="):
        ok = v["frames_fingerprinted"] >= int(c[8:])
    elif c.startswith("duration="):
        ok = v["duration"] is not None and abs(v["duration"] - float(c[9:])) < 0.6
    elif c.startswith("match="):
        how, s, cat = c[6:].split(":")
        ok = any(m["how"] == how and m["set"] == s and m["category_code"] == cat for m in ms)
    elif c == "nomatch":
        ok = not ms and r["category"] is None
    elif c.startswith("category="):
        ok = r["category_code"] == c[9:]
    elif c.startswith("time="):
        ok = any(m["how"] == "pdq-frame" and abs(m["time"] - float(c[5:])) < 0.6 for m in ms)
    elif c.startswith("qpct>="):
        ok = any(m["how"] == "vpdq" and m["query_pct"] >= float(c[6:]) for m in ms)
    else:
        sys.exit("bad condition " + c)
    if not ok:
        sys.exit(f"{sys.argv[2]}: {c} fails: {json.dumps(v)} category={r['category_code']}")
EOF
vcheck() { python3 vcheck.py "$@"; }

# ---- lists first, then a directory scan -----------------------------------------------
c=case1
"$KESTREL" case init $c --ref VS1 --examiner test >/dev/null
check "import PDQ list" "$KESTREL" hashset import $c stills.pdq --format pdq --category B --name stills
check "import vPDQ list (format probed)" "$KESTREL" hashset import $c orig.vpdq --category A --name knownvids
check "scan" "$KESTREL" scan $c ev big --exhibit E1 --quiet
"$KESTREL" files $c --json > files1.jsonl
check "original matches itself" vcheck files1.jsonl /orig.mp4 status=ok frames\>=5 duration=10 match=vpdq:knownvids:A qpct\>=100 category=A
check "re-encoded copy matches" vcheck files1.jsonl /reenc.mkv status=ok match=vpdq:knownvids:A category=A
check "cut copy matches" vcheck files1.jsonl /cut.mp4 status=ok duration=7 match=vpdq:knownvids:A category=A
check "re-timed copy matches" vcheck files1.jsonl /retimed.mp4 status=ok match=vpdq:knownvids:A category=A
check "truncated copy decoded as far as it goes, marked, matched" \
  vcheck files1.jsonl /trunc.mp4 status=partial marks~truncated why~"data ends" frames\>=1 match=vpdq:knownvids:A
check "still's video categorised from the still, frame at 4 s" \
  vcheck files1.jsonl /withstill.mp4 status=ok match=pdq-frame:stills:B time=4 category=B
check "video over the memory limit sampled through the evidence" \
  vcheck files1.jsonl /big.ts frames\>=4 match=vpdq:knownvids:A category=A
# sheet CASE PATH: the media at PATH has a contact sheet (a JPEG) as its preview.
sheet() {
  python3 - "$1/case.db" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
r = db.execute("SELECT p.kind, p.jpeg FROM media_preview p JOIN file f ON f.media = p.media"
               " WHERE f.path = ?", (sys.argv[2],)).fetchone()
ok = r is not None and r[0] == 2 and r[1] is not None and r[1][:3] == b"\xff\xd8\xff"
sys.exit(0 if ok else f"{sys.argv[2]}: preview {r and (r[0], len(r[1] or b''))}")
EOF
}
check "contact sheet from the fingerprint's frames" sheet $c /orig.mp4
check "contact sheet of the video over the memory limit too" sheet $c /big.ts
"$KESTREL" report $c --format html --out report.html >/dev/null
check "report shows the frame time" grep -q "frame at 0:00:04.0 within" report.html
check "report shows the duration" grep -q "video: 0:00:10.0, 320x240 h264" report.html

# ---- an index file (kestrel hashset build) gives the known still to the scan ------------
"$KESTREL" hashset build known.kix stills.pdq --format pdq --scheme uk --category A \
  --name kixstills >/dev/null || bad "hashset build"
mkdir ev3 && cp ev/withstill.mp4 ev3/
c=case3
"$KESTREL" case init $c --ref VS3 --examiner test >/dev/null
check "scan with --index" "$KESTREL" scan $c ev3 --exhibit E3 --index known.kix --quiet
"$KESTREL" files $c --json > files3.jsonl
check "index file's still found in the video through its near lookup" \
  vcheck files3.jsonl /withstill.mp4 match=pdq-frame:kixstills:A time=4 category=A

# ---- a FAT image scanned first, the lists imported after ---------------------------------
mkfs.fat -C fat.img 4096 >/dev/null && mcopy -i fat.img ev/withstill.mp4 ev/cut.mp4 ev/trunc.mp4 ::/ \
  || bad "FAT image"
c=case2
"$KESTREL" case init $c --ref VS2 --examiner test >/dev/null
check "scan FAT image" "$KESTREL" scan $c fat.img --exhibit E2 --quiet
"$KESTREL" files $c --json > files2a.jsonl
check "nothing matched before the lists" vcheck files2a.jsonl /withstill.mp4 status=ok nomatch
check "import after the scan matches the still's video" \
  "$KESTREL" hashset import $c stills.pdq --format pdq --category C --name stills
check "and the vPDQ list the cut copy" \
  "$KESTREL" hashset import $c orig.vpdq --format vpdq --category A --name knownvids
"$KESTREL" files $c --json > files2.jsonl
check "FAT: still's video categorised with the frame time" \
  vcheck files2.jsonl /withstill.mp4 match=pdq-frame:stills:C time=4 category=C
check "FAT: cut copy matches the known video" vcheck files2.jsonl /cut.mp4 match=vpdq:knownvids:A category=A
check "FAT: truncated copy marked" vcheck files2.jsonl /trunc.mp4 status=partial marks~truncated
finish
