#!/usr/bin/env bash
# Carving on the DFTT images (kestrel scan --carve): DFTT #12, an ext2 image whose
# superblock is destroyed (no file system opens), gives all 5 pictures byte-exact
# (the key's MD5s) at their first sector, through the ext2 indirect blocks inside
# four of them; DFTT #8 (NTFS) gives the JPEG appended to file11.dat (row 11a) and
# the one inside the Word document file12.doc (row 12a) as children of their files,
# keeps every row the file system gives, reports no decoy as a picture and nothing
# twice. Without --carve nothing is carved.
. "$(dirname "$0")/lib/common.sh"
need_shared testdata/forensic/dftt-12-carve-ext2/12-carve-ext2.zip
need_shared testdata/forensic/dftt-08-jpeg-search/8-jpeg-search.zip
F=$SHARED/testdata/forensic
L=$SRC/tests/integration/lib

scan() { # scan NAME EVIDENCE [OPTIONS...]
  local n=$1 ev=$2; shift 2
  "$KESTREL" case init "$T/case-$n" --ref "C-$n" --examiner test >/dev/null || { bad "$n: case init"; return 1; }
  "$KESTREL" scan "$T/case-$n" "$ev" --exhibit "EX-$n" --quiet "$@" > "$T/$n.scan.txt" 2>&1 \
    || { bad "$n: scan failed: $(cat "$T/$n.scan.txt")"; return 1; }
  "$KESTREL" files "$T/case-$n" --json > "$T/$n.jsonl" || { bad "$n: files"; return 1; }
}

# ---- DFTT #12
unzip -q "$F/dftt-12-carve-ext2/12-carve-ext2.zip" -d "$T/d12"
IMG12=$(find "$T/d12" -name '*.dd' | head -1)
if scan d12 "$IMG12" --carve; then
  check "DFTT #12: 5 pictures carved byte-exact at their first sector, nothing twice" \
    python3 "$L/carve_check.py" "$T/d12.jsonl" --key "$F/dftt-12-carve-ext2/answer-key.tsv" --expect carve
  check "DFTT #12: the four with indirect blocks inside say so" \
    python3 "$L/jsonl_has.py" "$T/d12.jsonl" state=carved 'note~indirect blocks skipped' --count 4
  check "DFTT #12: exactly the 5 pictures are carved (documents are not pictures)" \
    python3 "$L/jsonl_has.py" "$T/d12.jsonl" state=carved kind=picture in_container=false 'path~whole file@' --count 5
fi
if scan d12plain "$IMG12"; then
  check "DFTT #12 without --carve: nothing carved" \
    python3 "$L/jsonl_has.py" "$T/d12plain.jsonl" state=carved --count 0
fi

# ---- DFTT #8
unzip -q "$F/dftt-08-jpeg-search/8-jpeg-search.zip" -d "$T/d8"
IMG8=$(find "$T/d8" -name '*.dd' | head -1)
if scan d8 "$IMG8" --carve; then
  check "DFTT #8: rows 11a (appended) and 12a (in the .doc) inside their files, nothing twice" \
    python3 "$L/carve_check.py" "$T/d8.jsonl" --key "$F/dftt-08-jpeg-search/answer-key.tsv" \
      --expect carve-in-file,container
  check "DFTT #8: 11a is a child of file11.dat at byte 1572" \
    python3 "$L/jsonl_has.py" "$T/d8.jsonl" 'path=/misc/file11.dat › @1572' kind=picture \
      md5=35c9da622659465956cf2d210c89bf07
  check "DFTT #8: 12a is a child of file12.doc at byte 4937" \
    python3 "$L/jsonl_has.py" "$T/d8.jsonl" 'path=/misc/file12.doc › @4937' kind=picture \
      md5=936d202fbedecbe64b42c5f3d03233e5
  check "DFTT #8: every file-system row still found, decoys are not pictures" \
    python3 "$L/check_key.py" "$T/d8.jsonl" "$F/dftt-08-jpeg-search/answer-key.tsv" \
      --expect fs,undelete,archive,ads,carve-in-file,container --categories picture,video --decoys
  check "DFTT #8: the deleted JPEGs are not carved again (same offset, same length)" \
    python3 "$L/jsonl_has.py" "$T/d8.jsonl" state=carved md5=afd55222024a4e22f7f5a3a665320763 --count 0
fi
finish
