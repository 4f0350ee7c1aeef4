#!/usr/bin/env bash
# The shared synthetic disk's three videos (an MP4 on FAT, an MJPEG AVI on NTFS, an MP4
# with its index after the data in unpartitioned space), built at test time by
# ../shared's make-image.sh (256 MiB): a scan with --carve finds each one (by the MD5
# in the key written by the same run) and fingerprints it: probe facts and at least
# one vPDQ frame, nothing marked.
. "$(dirname "$0")/lib/common.sh"
need_shared testdata/forensic/synthetic/make-image.sh
need_tool mcopy mtools; need_tool mkntfs ntfs-3g; need_tool convert-im6.q16 imagemagick
need_tool ffmpeg ffmpeg
bash "$SHARED/testdata/forensic/synthetic/make-image.sh" -o "$T/synthetic.img" > "$T/make.log" 2>&1 \
  || { cat "$T/make.log"; bad "make-image.sh"; finish; }
c="$T/case"
"$KESTREL" case init "$c" --ref SYN --examiner test >/dev/null
check "scan --carve" "$KESTREL" scan "$c" "$T/synthetic.img" --exhibit SYN-1 --carve --quiet
"$KESTREL" files "$c" --json > "$T/files.jsonl"
check "the key's three videos are found and fingerprinted" python3 - "$T/files.jsonl" \
  "$T/synthetic.answer-key.tsv" <<'PY'
import csv, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lines = [l for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
key = [r for r in csv.DictReader(lines, delimiter="\t") if r["category"] == "video"]
bad = 0
for k in key:
    found = [r for r in rows if r["md5"] == k["md5"]]
    v = found[0].get("video") if found else None
    ok = bool(v) and v["status"] == "ok" and v["frames_fingerprinted"] >= 1 \
        and v["marks"] == "ok" and (v["duration"] or 0) > 0 and v["width"] > 0
    print(("ok  " if ok else "BAD ") + k["location"], json.dumps(v) if v else "not found")
    bad += not ok
sys.exit(1 if bad or len(key) != 3 else 0)
PY
finish
