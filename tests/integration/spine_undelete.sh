#!/usr/bin/env bash
# DFTT #6 (FAT) and #7 (NTFS) undelete tests, scanned with --hash-all (their files
# are not media): every deleted file of the key is listed as deleted with the key's
# MD5. For FAT files the key marks as fragmented, the MD5 that a contiguous recovery
# gives (wrong_md5) is accepted and reported: FAT keeps no record of later fragments.
. "$(dirname "$0")/lib/common.sh"
need_shared testdata/forensic/dftt-06-undel-fat/6-undel-fat.zip
F=$SHARED/testdata/forensic
for t in dftt-06-undel-fat:6-undel-fat dftt-07-undel-ntfs:7-undel-ntfs; do
  dir=${t%%:*}; zip=${t##*:}
  unzip -q "$F/$dir/$zip.zip" -d "$T/$dir"
  img=$(find "$T/$dir" -name '*.dd' | head -1)
  c="$T/case-$dir"
  "$KESTREL" case init "$c" --ref "$dir" --examiner test >/dev/null
  check "$dir: scan" "$KESTREL" scan "$c" "$img" --exhibit "$dir" --hash-all --quiet
  "$KESTREL" files "$c" --json > "$T/$dir.jsonl"
  check "$dir: every deleted file found as deleted with its MD5" \
    python3 "$SRC/tests/integration/lib/check_key.py" "$T/$dir.jsonl" "$F/$dir/answer-key.tsv" \
      --expect undelete --accept-wrong-md5
done
finish
