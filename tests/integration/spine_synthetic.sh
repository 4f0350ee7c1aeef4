#!/usr/bin/env bash
# The shared synthetic disk (MBR: FAT32 + ext4 + NTFS + unpartitioned gaps), built at
# test time by ../shared's make-image.sh, 256 MiB: every row the file system,
# undelete, archives and the ADS can give is found with the MD5 in the key written by
# the same run; decoys are not pictures.
. "$(dirname "$0")/lib/common.sh"
need_shared testdata/forensic/synthetic/make-image.sh
need_tool mcopy mtools; need_tool mkntfs ntfs-3g; need_tool convert-im6.q16 imagemagick
bash "$SHARED/testdata/forensic/synthetic/make-image.sh" -o "$T/synthetic.img" > "$T/make.log" 2>&1 \
  || { cat "$T/make.log"; bad "make-image.sh"; finish; }
c="$T/case"
"$KESTREL" case init "$c" --ref SYN --examiner test >/dev/null
check "scan" "$KESTREL" scan "$c" "$T/synthetic.img" --exhibit SYN-1 --quiet
"$KESTREL" files "$c" --json > "$T/files.jsonl"
check "answer key: fs, undelete, archive, ads rows and decoys" \
  python3 "$SRC/tests/integration/lib/check_key.py" "$T/files.jsonl" "$T/synthetic.answer-key.tsv" \
    --expect fs,undelete,archive,ads --decoys
check "truncated JPEG is a picture flagged truncated" \
  python3 "$SRC/tests/integration/lib/jsonl_has.py" "$T/files.jsonl" path=/invalid/truncated.jpg \
    kind=picture 'note~truncated'
finish
