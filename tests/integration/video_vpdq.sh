#!/usr/bin/env bash
# `kestrel vpdq`: reference-format lines for videos made here with ffmpeg (lavfi test
# patterns), contact sheets, a truncated MP4 reported and skipped, and --compare.
set -u
command -v ffmpeg >/dev/null || { echo "ffmpeg missing: skipped"; exit 77; }
"$KESTREL" vpdq --help >/dev/null 2>&1 || { echo "kestrel has no vpdq verb yet: skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v mpeg4 -g 25 "$T/a.mp4"
ff -i "$T/a.mp4" -c:v mpeg4 -q:v 8 -g 25 "$T/b.mkv"
ff -f lavfi -i smptebars=size=320x240:rate=25:duration=4 -c:v mpeg4 -g 25 "$T/c.mp4"
head -c 20000 "$T/a.mp4" > "$T/cut.mp4"

"$KESTREL" vpdq --no-collapse "$T/a.mp4" > "$T/a.txt"
ok "exit status" '[ $? -eq 0 ]'
ok "four lines, one per second" '[ "$(wc -l < "$T/a.txt")" -eq 4 ]'
ok "reference line format" 'grep -Eqx "25,[0-9]{1,3},[0-9a-f]{64},1\.000" "$T/a.txt"'
ok "first line" 'grep -Eqx "0,[0-9]{1,3},[0-9a-f]{64},0\.000" "$T/a.txt"'

"$KESTREL" vpdq "$T/c.mp4" > "$T/c.txt"
ok "static bars collapse to one line" '[ "$(wc -l < "$T/c.txt")" -eq 1 ]'

mkdir "$T/out" "$T/sheets"
"$KESTREL" vpdq --out "$T/out" --sheet "$T/sheets" "$T/a.mp4" "$T/cut.mp4" "$T/b.mkv" 2> "$T/err"
ok "a failed file makes exit 1" '[ $? -eq 1 ]'
ok "truncated mp4 reported" 'grep -q "cut.mp4: .*moov" "$T/err"'
ok "no output for it" '[ ! -e "$T/out/cut.mp4.txt" ]'
ok "outputs written" '[ -s "$T/out/a.mp4.txt" ] && [ -s "$T/out/b.mkv.txt" ]'
ok "contact sheet is a JPEG" '[ "$(head -c 3 "$T/sheets/a.mp4.jpg" | xxd -p)" = "ffd8ff" ]'
"$KESTREL" vpdq --out "$T/out" "$T/a.mp4" 2>/dev/null
ok "never overwrites" '[ $? -eq 1 ]'

r=$("$KESTREL" vpdq --compare "$T/out/b.mkv.txt" "$T/a.mp4")
ok "re-encoded copy matches ($r)" '[ "$r" = "100.000,100.000" ]'
r=$("$KESTREL" vpdq --compare "$T/c.mp4" "$T/a.mp4")
ok "other video does not ($r)" '[ "$r" = "0.000,0.000" ]'
"$KESTREL" vpdq --rate 0 "$T/a.mp4" >/dev/null 2>&1
ok "bad option is a usage error" '[ $? -eq 2 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
