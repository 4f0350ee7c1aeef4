#!/usr/bin/env bash
# TMK+PDQF in a scan (`scan --tmk`), on videos made here with ffmpeg (lavfi test
# patterns, benign): the original's .tmk (from `kestrel tmk`) is imported as a known
# video (category A, an invented label); a FAT image holds a re-encoded, resized and
# re-timed copy, an unrelated pattern and a copy over the 64 MiB held in memory (read
# through the evidence). Scanned with --tmk, both copies match the original ("tmk",
# both scores >= 0.7) and are categorised A; the other pattern is not. Without --tmk
# nothing is computed; importing the .tmk after a --tmk scan matches as well; the
# thresholds are configurable; a tiny budget marks the descriptor; a damaged .tmk is
# refused; a copy carved from unallocated bytes matches too.
. "$(dirname "$0")/lib/common.sh"
need_tool ffmpeg ffmpeg; need_tool mcopy mtools; need_tool mkfs.fat dosfstools
need_tool python3 python3
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
cd "$T" || exit 1

ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=8 -c:v libx264 -pix_fmt yuv420p orig.mp4
mkdir ev
ff -i orig.mp4 -c:v mpeg4 -q:v 10 -s 240x180 -r 20 ev/copy.mkv
ff -f lavfi -i mandelbrot=size=320x240:rate=25 -t 8 -c:v libx264 -pix_fmt yuv420p ev/other.mp4
# Over the 64 MiB held in memory: a transport stream padded with null packets.
ff -i ev/copy.mkv -c:v libx264 -preset veryfast -f mpegts ev/big.ts
python3 -c '
import sys
pkt = b"\x47\x1f\xff\x10" + b"\xff" * 184
with open(sys.argv[1], "ab") as f:
    f.write(pkt * (65 * 1024 * 1024 // 188))' ev/big.ts
[ "$(stat -c %s ev/big.ts)" -gt $((64 * 1024 * 1024)) ] || bad "big.ts is over 64 MiB"
mkfs.fat -C -n TMK disk.img 102400 >/dev/null && mcopy -i disk.img ev/* :: || bad "FAT image"

"$KESTREL" tmk --out . orig.mp4
check "orig.tmk written" [ "$(stat -c %s orig.tmk 2>/dev/null)" = 263344 ]

# vcheck.py CASE PATH KEY=VALUE...: the file's video object in files --json.
#   tmk=STATUS  frames>=N  why~TEXT  nomatch
#   match=SET:CATEGORY (a tmk match, and the file categorised so)
#   level>=X (both scores of the tmk match)  tmknull
cat > vcheck.py <<'EOF'
import json, os, subprocess, sys
case, path, conds = sys.argv[1], sys.argv[2], sys.argv[3:]
out = subprocess.run([os.environ["KESTREL"], "files", case, "--json"],
                     capture_output=True, text=True).stdout
row = None
for line in out.splitlines():
    o = json.loads(line)
    if o.get("path", "").endswith(path) and o.get("video"):
        row = o
if row is None:
    print("no video row for", path); sys.exit(1)
v = row["video"]
t = v.get("tmk")
m = [x for x in v["matches"] if x["how"] == "tmk"]
ok = True
for c in conds:
    if c == "tmknull":
        good = t is None
    elif c == "nomatch":
        good = not m
    elif c.startswith("tmk="):
        good = t is not None and t["status"] == c[4:]
    elif c.startswith("frames>="):
        good = t is not None and t["frames"] >= int(c[8:])
    elif c.startswith("why~"):
        good = t is not None and c[4:] in (t["why"] or "")
    elif c.startswith("match="):
        s, cat = c[6:].split(":")
        good = any(x["set"] == s and x["category_code"] == cat for x in m) and \
            row["category_code"] == cat
    elif c.startswith("level>="):
        good = bool(m) and all(x["level1"] >= float(c[7:]) and x["level2"] >= float(c[7:])
                               for x in m)
    else:
        good = False
    if not good:
        print("failed:", c, "tmk:", t, "matches:", m); ok = False
sys.exit(0 if ok else 1)
EOF
vc() { KESTREL="$KESTREL" python3 vcheck.py "$@"; }

# 1. known first, then the image scanned with --tmk
"$KESTREL" case init A --ref TMK-A --examiner tester >/dev/null
"$KESTREL" hashset import A orig.tmk --category A --name known-tmk > imp.txt
check "import probes the .tmk" grep -q "imported 1 entries" imp.txt
"$KESTREL" scan A disk.img --exhibit E1 --tmk --quiet > scan.txt
check "scan --tmk runs" grep -q "3 videos" scan.txt
check "re-encoded copy in the image matched by TMK, category A" \
  vc A copy.mkv tmk=ok 'frames>=100' match=known-tmk:A 'level>=0.7'
check "copy over 64 MiB (read through the evidence) matched" \
  vc A big.ts tmk=ok 'frames>=100' match=known-tmk:A 'level>=0.7'
check "other pattern: TMK computed, no match" vc A other.mp4 tmk=ok 'frames>=100' nomatch
"$KESTREL" report A --format html --out A.html >/dev/null
check "report shows the TMK scores" grep -q "TMK+PDQF scores 0\.9[0-9]* / 0\.9[0-9]* against known video orig.tmk in set known-tmk" A.html

# 2. without --tmk nothing is computed (opt-in)
"$KESTREL" case init B --ref TMK-B --examiner tester >/dev/null
"$KESTREL" hashset import B orig.tmk --category A --name known-tmk >/dev/null
"$KESTREL" scan B ev --exhibit E1 --quiet >/dev/null
check "no --tmk: no descriptor" vc B copy.mkv tmknull nomatch

# 3. scanned first, the .tmk imported afterwards
"$KESTREL" case init C --ref TMK-C --examiner tester >/dev/null
"$KESTREL" scan C ev --exhibit E1 --tmk --quiet >/dev/null
"$KESTREL" hashset import C orig.tmk --category B --name later > impc.txt
check "import after the scan matches the stored descriptors" grep -q "2 media of the case matched" impc.txt
check "copy categorised B by the later import" vc C copy.mkv match=later:B

# 4. thresholds are configurable
"$KESTREL" case init D --ref TMK-D --examiner tester >/dev/null
"$KESTREL" hashset import D orig.tmk --category A --name known-tmk >/dev/null
"$KESTREL" scan D ev/copy.mkv --exhibit E1 --tmk --tmk-match 0.9999,0.9999 --quiet >/dev/null
check "--tmk-match 0.9999,0.9999: the copy is not close enough" vc D copy.mkv tmk=ok nomatch
"$KESTREL" scan D ev --exhibit E1 --tmk --tmk-match 2,0.7 --quiet >/dev/null 2>&1
check "--tmk-match out of range is a usage error" [ $? -eq 2 ]

# 5. a budget too small for the video marks its descriptor
"$KESTREL" case init E --ref TMK-E --examiner tester >/dev/null
"$KESTREL" scan E ev/other.mp4 --exhibit E1 --tmk --tmk-budget 0.000001 --quiet >/dev/null
check "tiny --tmk-budget: marked, says the time limit" vc E other.mp4 why~"time limit"
check "tiny --tmk-budget: not ok" bash -c '! KESTREL="$0" python3 vcheck.py E other.mp4 tmk=ok >/dev/null' "$KESTREL"

# 6. carved: a copy in unallocated bytes of a raw image (no file system) found by --carve
ff -i orig.mp4 -c:v mpeg4 -q:v 8 -s 240x180 -movflags +faststart carve.mp4
python3 -c '
import sys
z = b"\0" * (1 << 20)
open("blob.dd", "wb").write(z + open("carve.mp4", "rb").read() + z)'
"$KESTREL" case init F --ref TMK-F --examiner tester >/dev/null
"$KESTREL" hashset import F orig.tmk --category A --name known-tmk >/dev/null
"$KESTREL" scan F blob.dd --exhibit E1 --carve --tmk --quiet >/dev/null 2>&1
check "carved copy matched by TMK, category A" vc F "@1048576" tmk=ok 'frames>=100' match=known-tmk:A

# 7. a damaged .tmk is refused
head -c 100000 orig.tmk > cut.tmk
"$KESTREL" hashset import A cut.tmk --category A > cut.txt 2>&1
check "truncated .tmk refused" [ $? -ne 0 ]
check "says why" grep -q "fewer bytes" cut.txt
finish
