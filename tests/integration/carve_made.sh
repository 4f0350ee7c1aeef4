#!/usr/bin/env bash
# Carving cases made at test time (kestrel scan --carve): (1) an image no opener
# recognises holding a JPEG laid out the way ext2 (1 KiB blocks) writes a long file:
# 12 direct blocks, an indirect block, 256 blocks, a double-indirect block, then an
# indirect block before every 256 blocks; it is carved byte-exact, as is a PNG
# written 3 bytes off sector alignment, and a cut JPEG is kept as partial. (2) a
# directory: a JPEG appended to a 70 MiB file of random bytes (larger than the reader
# holds: the streamed search) and a PNG after the end of a JPEG are found inside
# their files as children; a JPEG with nothing after it gets none. Movies longer than
# a carving window (in the image; after 1 MiB of random bytes in a file) are
# fingerprinted through the medium.
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick
IM=convert-im6.q16
L=$SRC/tests/integration/lib
cd "$T" || exit 1
$IM -size 900x700 plasma:fractal -quality 97 big.jpg && $IM logo: logo.png && $IM rose: rose.jpg \
  && $IM wizard: wiz.jpg || { bad "ImageMagick"; finish; }
# A QuickTime movie longer than a carving window (moov after a 70 MB mdat).
LONG=0
if command -v ffmpeg >/dev/null; then
  ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 4 -c:v mjpeg \
    -q:v 2 short.mov && ffmpeg -nostdin -loglevel error -y -stream_loop 9 -i short.mov -c copy long.mov \
    && LONG=1
fi
md5() { md5sum "$1" | cut -d' ' -f1; }
python3 - <<'PY' || { bad "building the images"; rm -f expect.txt; }
import os, random, struct
rnd = random.Random(7)
big = open("big.jpg", "rb").read()
assert len(big) > 300 * 1024, len(big)
bs = 1024
img = bytearray(24 << 20)
long = open("long.mov", "rb").read() if os.path.exists("long.mov") else b""
img += bytes(1234) + long + bytes(4096)
start_blk = 4096                        # the file's first block (4 MiB in)
data = [big[i:i + bs] for i in range(0, len(big), bs)]
blk = start_blk
def put(b, content):
    img[b * bs:b * bs + len(content)] = content
for i in range(12):
    put(blk, data[i]); blk += 1
ind = blk; blk += 1
ptrs = list(range(blk, blk + 256))
put(ind, struct.pack("<256I", *ptrs))
for i in range(256):
    put(blk, data[12 + i]); blk += 1
dind = blk; blk += 1
rest = data[12 + 256:]
inds = []
while rest:                             # one indirect block per 256 data blocks
    part, rest = rest[:256], rest[256:]
    ind2 = blk; blk += 1
    inds.append(ind2)
    put(ind2, struct.pack("<%dI" % len(part), *range(blk, blk + len(part))) + bytes(bs - 4 * len(part)))
    for c in part:
        put(blk, c); blk += 1
assert len(inds) >= 2
put(dind, struct.pack("<%dI" % len(inds), *inds) + bytes(bs - 4 * len(inds)))
png = open("logo.png", "rb").read()
at = (16 << 20) + 3                     # off sector alignment
img[at:at + len(png)] = png
cut = open("wiz.jpg", "rb").read()
img[(20 << 20):(20 << 20) + len(cut) // 2] = cut[:len(cut) // 2]
open("raw.img", "wb").write(bytes(img))
open("expect.txt", "w").write(f"{start_blk * bs} {at} {20 << 20} {(24 << 20) + 1234}\n")
os.makedirs("dir", exist_ok=True)
jpg = open("rose.jpg", "rb").read()
with open("dir/huge.bin", "wb") as f:
    f.write(bytes(rnd.getrandbits(8) for _ in range(1 << 20)) * 70)
    f.write(jpg)
open("dir/pic.jpg", "wb").write(jpg + png)
open("dir/plain.jpg", "wb").write(jpg)
PY
[ -s expect.txt ] || finish
read -r OFF_BIG OFF_PNG OFF_CUT OFF_LONG < expect.txt

"$KESTREL" case init c1 --ref M1 --examiner test >/dev/null
check "scan --carve of the unrecognised image" "$KESTREL" scan c1 raw.img --exhibit M1 --carve --quiet
"$KESTREL" files c1 --json > c1.jsonl
check "the JPEG written through ext2 indirect and double-indirect blocks is byte-exact" \
  python3 "$L/jsonl_has.py" c1.jsonl state=carved "offset=$OFF_BIG" "md5=$(md5 big.jpg)" valid=ok \
    'note~indirect blocks skipped'
check "the PNG 3 bytes off sector alignment is byte-exact" \
  python3 "$L/jsonl_has.py" c1.jsonl state=carved "offset=$OFF_PNG" "md5=$(md5 logo.png)"
check "the cut JPEG is kept, marked partial" \
  python3 "$L/jsonl_has.py" c1.jsonl state=carved "offset=$OFF_CUT" type=jpeg valid=truncated 'note~partial'
if [ "$LONG" = 1 ]; then
  check "the 70 MB movie is carved whole (end from its boxes, hashed streaming)" \
    python3 "$L/jsonl_has.py" c1.jsonl state=carved "offset=$OFF_LONG" "md5=$(md5 long.mov)" \
      "size=$(stat -c %s long.mov)" valid=ok 'note~hashed whole'
  check "the 70 MB movie is fingerprinted through the medium (40 s, a frame a second)" \
    python3 - c1.jsonl "$OFF_LONG" <<'PY'
import json, sys
r = [r for r in map(json.loads, open(sys.argv[1])) if r["offset"] == int(sys.argv[2])]
v = r[0].get("video") if len(r) == 1 else None
print(v)
sys.exit(0 if v and v["status"] == "ok" and abs(v["duration"] - 40) < 1
         and v["frames_fingerprinted"] >= 20 else 1)
PY
else
  echo "skip: long movie (needs ffmpeg)"
fi
check "nothing else carved, nothing twice" python3 "$L/carve_check.py" c1.jsonl
check "the carved items" python3 "$L/jsonl_has.py" c1.jsonl state=carved in_container=false \
  --count $((3 + LONG))

# The long movie after 1 MiB of random bytes: a file too large to hold, searched streaming.
[ "$LONG" = 1 ] && { head -c 1048576 /dev/urandom > dir/tail.bin && cat long.mov >> dir/tail.bin \
  || bad "tail.bin"; }
"$KESTREL" case init c2 --ref M2 --examiner test >/dev/null
check "scan --carve of the directory" "$KESTREL" scan c2 dir --exhibit M2 --carve --quiet
"$KESTREL" files c2 --json > c2.jsonl
check "the JPEG at the end of the 70 MiB file is found (streamed search)" \
  python3 "$L/jsonl_has.py" c2.jsonl "path=/huge.bin › @$((70 << 20))" "md5=$(md5 rose.jpg)"
if [ "$LONG" = 1 ]; then
  check "the movie inside a file too large to hold is found and fingerprinted through it" \
    python3 - c2.jsonl "/tail.bin › @1048576" "$(md5 long.mov)" <<'PY'
import json, sys
r = [r for r in map(json.loads, open(sys.argv[1])) if r["path"] == sys.argv[2]]
v = r[0].get("video") if len(r) == 1 else None
print(r and r[0]["md5"], v)
sys.exit(0 if v and r[0]["md5"] == sys.argv[3] and v["status"] == "ok"
         and abs(v["duration"] - 40) < 1 and v["frames_fingerprinted"] >= 20 else 1)
PY
fi
check "the PNG after the end of a JPEG is its child" \
  python3 "$L/jsonl_has.py" c2.jsonl "path=/pic.jpg › @$(stat -c %s rose.jpg)" "md5=$(md5 logo.png)"
check "a JPEG with nothing after it has no embedded child" \
  python3 "$L/jsonl_has.py" c2.jsonl 'path~/plain.jpg › @' --count 0
check "no region is carved from a directory" python3 "$L/jsonl_has.py" c2.jsonl state=carved --count 0
# (3) a FAT image: deleted files that hold a picture (appended to random bytes; stored in
# a zip) are reported once, inside their files, at their image offsets; the region
# carving of the same free clusters does not report them again.
if command -v mkfs.fat >/dev/null && command -v mcopy >/dev/null && command -v zip >/dev/null; then
  head -c 3000 /dev/urandom > cat.bin && cat rose.jpg >> cat.bin && cp wiz.jpg w.jpg \
    && zip -q -0 st.zip w.jpg && mkfs.fat -C fat.img 8192 >/dev/null \
    && mcopy -i fat.img cat.bin ::/cat.bin && mcopy -i fat.img st.zip ::/st.zip \
    && mdel -i fat.img ::/cat.bin ::/st.zip || bad "building the FAT image"
  "$KESTREL" case init c4 --ref M4 --examiner test >/dev/null
  check "scan --carve of the FAT image" "$KESTREL" scan c4 fat.img --exhibit M4 --carve --quiet
  "$KESTREL" files c4 --json > c4.jsonl
  check "the JPEG in the deleted file is found once, as its child, with its image offset" \
    python3 - c4.jsonl "$(md5 rose.jpg)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
hits = [r for r in rows if r["md5"] == sys.argv[2]]
print([(r["path"], r["state"], r["offset"]) for r in hits])
sys.exit(0 if len(hits) == 1 and hits[0]["path"].endswith("at.bin › @3000")
         and hits[0]["state"] == "deleted" and hits[0]["offset"] is not None else 1)
PY
  check "the JPEG stored in the deleted zip is found once, as its member" \
    python3 "$L/jsonl_has.py" c4.jsonl "md5=$(md5 wiz.jpg)" --count 1
  check "nothing twice" python3 "$L/carve_check.py" c4.jsonl
else
  echo "skip: FAT image (needs dosfstools, mtools, zip)"
fi

"$KESTREL" case init c3 --ref M3 --examiner test >/dev/null
"$KESTREL" scan c3 dir --exhibit M3 --quiet >/dev/null 2>&1
"$KESTREL" files c3 --json > c3.jsonl
check "without --carve nothing is searched inside files" \
  python3 "$L/jsonl_has.py" c3.jsonl 'path~@' --count 0
finish
