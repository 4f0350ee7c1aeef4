#!/usr/bin/env bash
# DFTT #8 (NTFS, pictures live, deleted, in archives, in an ADS, and decoys) as the
# raw image, as one E01 and as a two-segment E01/E02 set: every picture the key
# expects from the file system, undelete, archives and the ADS is found with the key's
# MD5 (deleted ones as deleted) and no decoy is typed as a picture.
. "$(dirname "$0")/lib/common.sh"
need_shared testdata/forensic/dftt-08-jpeg-search/8-jpeg-search.zip
D=$SHARED/testdata/forensic/dftt-08-jpeg-search
unzip -q "$D/8-jpeg-search.zip" -d "$T/zip"
RAW=$(find "$T/zip" -name '*.dd' | head -1)

run() { # run NAME EVIDENCE
  local c="$T/case-$1"
  "$KESTREL" case init "$c" --ref "DFTT8-$1" --examiner test >/dev/null || { bad "$1: case init"; return; }
  if ! "$KESTREL" scan "$c" "$2" --exhibit "EX-$1" --quiet > "$T/$1.scan.txt" 2>&1; then
    bad "$1: scan failed: $(cat "$T/$1.scan.txt")"; return
  fi
  "$KESTREL" files "$c" --json > "$T/$1.jsonl" || { bad "$1: files"; return; }
  check "$1: answer key (fs, undelete, archive, ads) and decoys" \
    python3 "$SRC/tests/integration/lib/check_key.py" "$T/$1.jsonl" "$D/answer-key.tsv" \
      --expect fs,undelete,archive,ads --categories picture,video --decoys
  # the source was hashed (MD5 + SHA-1 of the media, whatever the container format)
  # and verified unchanged after the scan
  "$KESTREL" report "$c" --format json --out "$T/$1.report.json" >/dev/null
  check "$1: source hashed and verified" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["sources"][0]
sys.exit(0 if s["md5_before"] == "9bdb9c76b80e90d155806a1fc7846db5" == s["md5_after"]
         and s["sha1_before"] == "7e9a3852fc53f3871d2f89a0a72c939405febbae" and s["verified"] else 1)' "$T/$1.report.json"
  # the ADS keeps its stream name; archive members carry their container chain
  check "$1: ADS is an item of its own, a picture" \
    python3 "$SRC/tests/integration/lib/jsonl_has.py" "$T/$1.jsonl" path=/misc/file13.dll:here kind=picture
  check "$1: archive member path shows its container" grep -q 'file9.boo › file9.jpg' "$T/$1.jsonl"
}
run raw "$RAW"
run e01 "$D/8-jpeg-search.E01"
run seg "$D/8-jpeg-search-seg.E01"

# The same image in all three forms gives the same (path, md5) set.
for n in raw e01 seg; do
  python3 "$SRC/tests/integration/lib/jsonl_cols.py" "$T/$n.jsonl" --keys path,state,md5 > "$T/$n.set" \
    || bad "$n: empty listing"
done
check "raw, E01 and segmented E01 give the same files" cmp -s "$T/raw.set" "$T/e01.set"
check "E01 and segmented E01 give the same files" cmp -s "$T/e01.set" "$T/seg.set"
finish
