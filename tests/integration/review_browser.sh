#!/usr/bin/env bash
# Runs the review UI's browser test (tests/browser/review.mjs) in Debian's headless
# Chromium through playwright-core, installed with npm into the build folder on first
# use. Skips (77) only when Chromium or npm cannot be had. Screenshots stay in
# $BUILD/review-browser for people to look at.
. "$(dirname "$0")/lib/common.sh"
need_tool /usr/bin/chromium chromium
need_tool node nodejs
need_tool npm npm
need_tool /usr/bin/convert-im6.q16 imagemagick
PW_DIR="${BUILD:-/tmp}/browser-deps"
PW_MODULE="$PW_DIR/node_modules/playwright-core"
if [ ! -f "$PW_MODULE/package.json" ]; then
  mkdir -p "$PW_DIR"
  if ! (cd "$PW_DIR" && npm install --no-audit --no-fund --silent playwright-core@1.65.1 >/dev/null 2>&1); then
    echo "SKIP: npm could not install playwright-core"
    exit 77
  fi
fi
C=/usr/bin/convert-im6.q16

mkdir -p "$T/base"
$C -size 640x480 -seed 3 plasma:fractal "$T/base/g1.png"
$C logo: -resize 640x480! "$T/base/g2.png"
$C wizard: -resize 480x640! "$T/base/g3.png"
for g in 1 2 3; do
  d="$T/ev/folder$g"
  mkdir -p "$d"
  b="$T/base/g$g.png"
  $C "$b" -quality 92 "$d/a_original.jpg"
  $C "$b" -resize 50% -quality 85 "$d/v_resized.jpg"
  $C "$b" -quality 35 "$d/v_recompressed.jpg"
  $C "$b" -gravity center -crop 98%x98%+0+0 +repage -quality 90 "$d/v_cropped.jpg"
  $C "$b" -fill '#ffffff80' -draw 'rectangle 12,12 100,40' -depth 8 "$d/v_watermarked.png"
done
"$KESTREL" case init "$T/case" --ref WEB --examiner tester >/dev/null
"$KESTREL" scan "$T/case" "$T/ev" --exhibit EX1 --quiet >/dev/null 2>&1
echo "grader-one-pass" | "$KESTREL" user add "$T/case" g1 --role grader --password-stdin >/dev/null
echo "verifier-one-pass" | "$KESTREL" user add "$T/case" v1 --role verifier --password-stdin >/dev/null
echo "admin-one-passw" | "$KESTREL" user add "$T/case" a1 --role admin --password-stdin >/dev/null

"$KESTREL" serve "$T/case" --listen 127.0.0.1:0 >"$T/serve.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do grep -qs "listening on" "$T/serve.out" && break; sleep 0.2; done
URL=$(grep -o 'http://[^ ]*' "$T/serve.out")
[ -n "$URL" ] || { cat "$T/serve.out"; exit 1; }

OUT="${BUILD:-$T}/review-browser"
rm -rf "$OUT"
URL="$URL" PW_MODULE="$PW_MODULE" OUT="$OUT" CASE="$T/case" KESTREL="$KESTREL" \
  timeout 600 node "$(dirname "$0")/../browser/review.mjs"
NRC=$?
kill $PID; wait $PID 2>/dev/null
check "the browser run passed" [ "$NRC" -eq 0 ]
check "every unblur was audited" [ "$(sqlite3 "$T/case/case.db" "SELECT count(*) FROM audit WHERE action = 'review.unblur'")" -ge 1 ]
check "the resolution is audited with its note" [ "$(sqlite3 "$T/case/case.db" "SELECT count(*) FROM audit WHERE action = 'review.resolve' AND detail LIKE '%both frames%'")" -eq 1 ]
check "the audit chain verifies" "$KESTREL" audit verify "$T/case"
finish
