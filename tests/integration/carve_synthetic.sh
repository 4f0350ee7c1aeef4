#!/usr/bin/env bash
# Carving on the shared synthetic disk (MBR: FAT32 + ext4 + NTFS + unpartitioned gaps,
# 256 MiB, built at test time by ../shared's make-image.sh): with --carve every row
# the key expects from carving (never-allocated clusters and blocks, ext4 deletions
# without metadata, unpartitioned space incl. a PNG 100 bytes off sector alignment,
# a GIF on a 512-byte boundary and an MP4 with moov after mdat), from inside a file
# (appended JPEG) and from containers (PDF DCTDecode, .docx) is found with the MD5 in
# the key written by the same run, at the key's disk offset; the file-system rows
# are all still there, the decoys are not pictures, and nothing is found twice.
. "$(dirname "$0")/lib/common.sh"
need_shared testdata/forensic/synthetic/make-image.sh
need_tool mcopy mtools; need_tool mkntfs ntfs-3g; need_tool convert-im6.q16 imagemagick
bash "$SHARED/testdata/forensic/synthetic/make-image.sh" -o "$T/synthetic.img" > "$T/make.log" 2>&1 \
  || { cat "$T/make.log"; bad "make-image.sh"; finish; }
L=$SRC/tests/integration/lib
KEY=$T/synthetic.answer-key.tsv
c="$T/case"
"$KESTREL" case init "$c" --ref SYN --examiner test >/dev/null
check "scan --carve" "$KESTREL" scan "$c" "$T/synthetic.img" --exhibit SYN-1 --carve --quiet
"$KESTREL" files "$c" --json > "$T/files.jsonl"
check "carve, carve-in-file and container rows at their offsets; nothing twice" \
  python3 "$L/carve_check.py" "$T/files.jsonl" --key "$KEY" --expect carve,carve-in-file,container
check "every recoverable row (all but 'none' and the optional thumbnail) and the decoys" \
  python3 "$L/check_key.py" "$T/files.jsonl" "$KEY" \
    --expect fs,undelete,archive,ads,carve,carve-in-file,container --decoys
check "the unaligned PNG is carved at its byte offset" \
  python3 "$L/jsonl_has.py" "$T/files.jsonl" state=carved type=png \
    "offset=$(awk -F'\t' '$10 ~ /unaligned/ {print $12}' "$KEY")"
check "the MP4 with moov after mdat is carved whole" \
  python3 "$L/jsonl_has.py" "$T/files.jsonl" state=carved type=mp4 valid=ok 'note~complete'
finish
