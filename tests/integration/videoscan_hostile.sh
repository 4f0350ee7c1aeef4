#!/usr/bin/env bash
# Hostile videos in a scan stay within their budget and are marked, and the scan goes
# on: a long 720p MJPEG whose every second is a frame to fingerprint (over a 0.5 s
# budget: enough for a first frame on a loaded machine, far from all 600 on a fast one), an MJPEG whose frames all declare 65000x65000 (refused frame by frame), an
# MP4 cut before its index, and an MP4 header followed by zeros (validation refuses it
# already). A picture and a small video beside them are still recorded. Made here
# with ffmpeg test patterns.
. "$(dirname "$0")/lib/common.sh"
need_tool ffmpeg ffmpeg; need_tool python3 python3
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
cd "$T" || exit 1
mkdir ev
ff -f lavfi -i testsrc2=size=1280x720:rate=1:duration=600 -c:v mjpeg -q:v 20 ev/slow.avi
ff -f lavfi -i testsrc=size=160x120:rate=10:duration=3 -c:v mjpeg -q:v 10 ev/huge.avi
python3 - ev/huge.avi <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
n = 0
for i in range(len(b) - 9):
    if b[i] == 0xFF and b[i + 1] == 0xC0:  # SOF0: height and width at +5 and +7
        b[i + 5:i + 9] = b"\xfd\xe8\xfd\xe8"
        n += 1
open(p, "wb").write(b)
print(f"{n} frames patched")
EOF
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 -preset veryfast small.mp4
cp small.mp4 ev/small.mp4
head -c 20000 small.mp4 > ev/noindex.mp4
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(32); open(sys.argv[2], "wb").write(d + bytes(1 << 20))' \
  small.mp4 ev/zeros.mp4
ff -f lavfi -i testsrc=size=64x48:rate=1:duration=1 -frames:v 1 ev/picture.png

c=case
"$KESTREL" case init $c --ref HOSTILE --examiner test >/dev/null
start=$(date +%s)
check "scan finishes" "$KESTREL" scan $c ev --exhibit H1 --quiet --threads 2 --video-budget 0.5
took=$(($(date +%s) - start))
check "scan well within a minute ($took s)" [ "$took" -lt 60 ]
"$KESTREL" files $c --json > files.jsonl
cat > vrow.py <<'EOF'
import json, sys
rows = {json.loads(l)["path"]: json.loads(l) for l in open(sys.argv[1])}
r = rows.get(sys.argv[2])
if r is None:
    sys.exit(f"{sys.argv[2]}: no row")
v = r.get("video") or {}
for c in sys.argv[3:]:
    k, _, want = c.partition("~")
    got = str(v.get(k)) if k != "kind" else r["kind"]
    if want not in got:
        sys.exit(f"{sys.argv[2]}: {k}={got!r}, wanted {want!r}: {json.dumps(r)}")
EOF
vrow() { python3 vrow.py files.jsonl "$@"; }
check "long video stopped by the time budget and marked" vrow /slow.avi marks~limit why~time
check "... with the frames fingerprinted before the budget ran out" \
  python3 -c 'import json,sys
for l in open("files.jsonl"):
    r = json.loads(l)
    if r["path"] == "/slow.avi":
        v = r["video"]; sys.exit(0 if 1 <= v["frames_fingerprinted"] < 600 and v["status"] == "partial" else 1)
sys.exit(1)'
check "absurd frame size refused and marked" vrow /huge.avi status~failed marks~corrupt
check "MP4 cut before its index marked" vrow /noindex.mp4 status~failed marks~no-index
check "MP4 header and zeros: not taken for a video" python3 "$SRC/tests/integration/lib/jsonl_has.py" \
  files.jsonl path=/zeros.mp4 kind=other 'note~is not one'
check "small video beside them recorded" vrow /small.mp4 kind~video status~
check "picture beside them recorded" python3 "$SRC/tests/integration/lib/jsonl_has.py" files.jsonl \
  path=/picture.png kind=picture
finish
