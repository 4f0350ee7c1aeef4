#!/usr/bin/env bash
# Resumable scans: scanning a source the exhibit already holds skips it; a scan that
# was killed part-way leaves a consistent store, and the next scan forgets the partial
# source and gives exactly the files a clean scan gives (nothing twice, nothing lost).
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick; need_tool mcopy mtools; need_tool sqlite3 sqlite3
bash "$SRC/scripts/make-evidence.sh" -o "$T/ex.img" --seed 5 > "$T/gen.log" 2>&1 \
  || { cat "$T/gen.log"; bad "make-evidence.sh"; finish; }
listing() { "$KESTREL" files "$1" --json | python3 "$SRC/tests/integration/lib/jsonl_cols.py" --keys path,state,md5; }

clean="$T/clean"
"$KESTREL" case init "$clean" --ref R --examiner test >/dev/null
"$KESTREL" scan "$clean" "$T/ex.img" --exhibit E1 --quiet >/dev/null
listing "$clean" > "$T/clean.txt"
check "clean scan found files" test "$(wc -l < "$T/clean.txt")" -gt 30

# 1. the same source again: skipped, nothing added
out=$("$KESTREL" scan "$clean" "$T/ex.img" --exhibit E1 --quiet)
check "second scan of a complete source is skipped" grep -q "already scanned" <<<"$out"
listing "$clean" > "$T/again.txt"
check "…and adds nothing" cmp -s "$T/clean.txt" "$T/again.txt"

# 2. --rescan replaces the source's records
"$KESTREL" scan "$clean" "$T/ex.img" --exhibit E1 --quiet --rescan >/dev/null
listing "$clean" > "$T/rescan.txt"
check "--rescan gives the same files, once" cmp -s "$T/clean.txt" "$T/rescan.txt"

# 3. killed part-way (one worker, small batches of work in flight): consistent store,
#    then a resumed scan equals the clean one
c="$T/killed"
"$KESTREL" case init "$c" --ref R --examiner test >/dev/null
"$KESTREL" scan "$c" "$T/ex.img" --exhibit E1 --quiet --threads 1 >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "store intact after kill -9" bash -c "[ \"\$(sqlite3 '$c/case.db' 'PRAGMA integrity_check')\" = ok ]"
"$KESTREL" scan "$c" "$T/ex.img" --exhibit E1 --quiet >/dev/null
listing "$c" > "$T/resumed.txt"
check "resumed scan equals a clean scan" cmp -s "$T/clean.txt" "$T/resumed.txt"
check "one source row, complete" bash -c "[ \"\$(sqlite3 '$c/case.db' \"SELECT count(*) || ' ' || max(status) FROM source\")\" = '1 complete' ]"
check "audit log records the scans" bash -c "[ \"\$(sqlite3 '$c/case.db' 'SELECT count(*) FROM audit')\" -gt 2 ]"

# 4. an interrupted scan recorded as still running is redone, not duplicated
sqlite3 "$c/case.db" "UPDATE source SET status = 'running'"
"$KESTREL" scan "$c" "$T/ex.img" --exhibit E1 --quiet >/dev/null
listing "$c" > "$T/redone.txt"
check "a source left 'running' is scanned again without duplicates" cmp -s "$T/clean.txt" "$T/redone.txt"
finish
