#!/usr/bin/env bash
# `kestrel tmk`: the answer key is upstream's. Computed by kestrel straight from the
# three sample videos of ../shared/testdata/tmk (no ffmpeg involved), the .tmk files
# must be byte-identical to upstream's hashes and --compare must print upstream's
# pair scores (tmk-two-level-score) to three decimals. Then videos made here with
# ffmpeg (lavfi test patterns): a re-encoded, resized, re-timed copy scores at least
# 0.7/0.7 against the original, other patterns do not; bad input is reported.
set -u
"$KESTREL" tmk --help >/dev/null 2>&1 || { echo "kestrel has no tmk verb: skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

K=${SHARED:-}/testdata/tmk
if [ -n "${SHARED:-}" ] && [ -d "$K/videos" ]; then
	mkdir "$T/out"
	"$KESTREL" tmk --out "$T/out" "$K"/videos/*.mp4
	ok "exit status" '[ $? -eq 0 ]'
	for e in "$K"/expected/*.tmk; do
		n=$(basename "$e")
		ok "$n byte-identical to upstream's" 'cmp -s "$T/out/$n" "$e"'
	done
	(cd "$T/out" && "$KESTREL" tmk --compare doorknob-hd-no-bar.tmk pattern-sd-grey-bar.tmk \
		pattern-sd-with-small-logo-bar.tmk) > "$T/scores"
	ok "three pairs" '[ "$(wc -l < "$T/scores")" -eq 3 ]'
	# every pair of upstream's file (self pairs too, computed from the videos here)
	while read -r s1 s2 a b; do
		if [ "$a" = "$b" ]; then
			got=$("$KESTREL" tmk --compare "$T/out/$a" "$K/videos/${a%.tmk}.mp4" | cut -d' ' -f1,2)
		else
			got=$(grep " $a $b\$" "$T/scores" | cut -d' ' -f1,2)
		fi
		want=$(printf '%.3f %.3f' "$s1" "$s2")
		have=$([ -n "$got" ] && printf '%.3f %.3f' $got)
		ok "$a $b: $have (upstream $want)" '[ "$have" = "$want" ]'
	done < "$K/expected/pair-scores.txt"
	"$KESTREL" tmk --out "$T/out" "$K/videos/doorknob-hd-no-bar.mp4" 2>/dev/null
	ok "never overwrites" '[ $? -eq 1 ]'
else
	echo "../shared/testdata/tmk is absent: upstream's answer key skipped"
fi

if command -v ffmpeg >/dev/null; then
	ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
	ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=8 -c:v libx264 -pix_fmt yuv420p "$T/a.mp4"
	ff -i "$T/a.mp4" -c:v mpeg4 -q:v 10 -s 240x180 -r 20 "$T/b.mkv"
	ff -f lavfi -i testsrc=size=320x240:rate=25 -t 8 -c:v libx264 -pix_fmt yuv420p "$T/c.mp4"
	ff -f lavfi -i mandelbrot=size=320x240:rate=25 -t 8 -c:v libx264 -pix_fmt yuv420p "$T/d.mp4"
	head -c 20000 "$T/a.mp4" > "$T/cut.mp4"
	"$KESTREL" tmk --compare "$T/a.mp4" "$T/b.mkv" "$T/c.mp4" "$T/d.mp4" > "$T/gen"
	ok "six pairs" '[ "$(wc -l < "$T/gen")" -eq 6 ]'
	cat "$T/gen"
	match() { awk -v a="$1" -v b="$2" '$3 ~ a"$" && $4 ~ b"$" { exit !($1 >= 0.7 && $2 >= 0.7) } END { if (NR == 0) exit 1 }' "$T/gen"; }
	ok "re-encoded copy matches" 'match a.mp4 b.mkv'
	ok "testsrc does not match testsrc2" '! match a.mp4 c.mp4'
	ok "mandelbrot does not match testsrc2" '! match a.mp4 d.mp4'
	ok "nor the copy" '! match b.mkv d.mp4 && ! match b.mkv c.mp4'
	mkdir "$T/gout"
	"$KESTREL" tmk --out "$T/gout" "$T/a.mp4" "$T/cut.mp4" 2> "$T/err"
	ok "a failed file makes exit 1" '[ $? -eq 1 ]'
	ok "truncated mp4 reported" 'grep -q "cut.mp4: .*moov" "$T/err"'
	ok "no output for it" '[ ! -e "$T/gout/cut.tmk" ]'
	ok "a.tmk written, upstream's size" '[ "$(stat -c %s "$T/gout/a.tmk")" -eq 263344 ]'
	r=$("$KESTREL" tmk --compare "$T/gout/a.tmk" "$T/a.mp4" | cut -d' ' -f1,2)
	ok "a file and its video score 1 ($r)" '[ "$r" = "1.000000 1.000000" ]'
	"$KESTREL" hashset build "$T/known.kix" "$T/gout/a.tmk" 2> "$T/berr"
	ok "hashset build refuses a .tmk (index files hold no TMK)" '[ $? -ne 0 ]'
	ok "...saying to import it into a case" 'grep -q "goes into a case" "$T/berr"'
	ok "...and leaves no index behind" '[ ! -e "$T/known.kix" ]'
else
	echo "ffmpeg missing: generated-video checks skipped"
fi
"$KESTREL" tmk --time-limit 0 "$T/a.mp4" >/dev/null 2>&1
ok "bad option is a usage error" '[ $? -eq 2 ]'
"$KESTREL" tmk --compare "$T/a.mp4" >/dev/null 2>&1
ok "compare wants two files" '[ $? -eq 2 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || exit 1
[ "$pass" -gt 3 ] || { echo "nothing to test: skipped"; exit 77; }
