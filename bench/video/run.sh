#!/usr/bin/env bash
# bench/video/run.sh: video fingerprinting speed. Makes (once, cached under bench/out/)
# one hour of 1280x720 H.264 at 25 fps from ffmpeg's testsrc2 pattern (libx264, its
# default GOP; MPEG-4 part 2 if libx264 is missing, said so), then times in the same
# run: `kestrel vpdq` (key frames, one thread) and a plain full decode
# `ffmpeg -i FILE -f null -` (its default threads, and -threads 1 beside it). Prints
# each as a multiple of real time and the ratio to the full decode.
# Usage: bench/video/run.sh [BUILD_DIR]   env: BENCH_SECONDS (default 3600),
#        KESTREL (default BUILD_DIR/kestrel), BENCH_OUT (default bench/out)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
KESTREL=${KESTREL:-$BUILD/kestrel}
OUT=${BENCH_OUT:-$SRC/bench/out}
SECS=${BENCH_SECONDS:-3600}
command -v ffmpeg >/dev/null || { echo "run.sh: needs ffmpeg" >&2; exit 1; }
[ -x "$KESTREL" ] || { echo "run.sh: no kestrel at $KESTREL (build first)" >&2; exit 1; }
"$KESTREL" vpdq --help >/dev/null 2>&1 || { echo "run.sh: $KESTREL has no vpdq verb" >&2; exit 1; }
mkdir -p "$OUT"

encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
if grep -q ' libx264 ' <<<"$encoders"; then
  codec=h264 enc=(-c:v libx264 -preset veryfast -pix_fmt yuv420p)
else
  codec=mpeg4 enc=(-c:v mpeg4 -q:v 5 -g 250)
  echo "run.sh: libx264 missing: the clip is MPEG-4 part 2, not H.264" >&2
fi
clip=$OUT/testsrc2-720p25-${SECS}s-$codec.mp4
if [ ! -s "$clip" ]; then
  echo "run.sh: making $clip (first run only; takes a while)" >&2
  nice ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=$SECS" "${enc[@]}" "$clip.tmp.mp4"
  mv "$clip.tmp.mp4" "$clip"
fi

timed() { # prints wall seconds of "$@" (stdout discarded)
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "print('%.3f' % ($t1 - $t0))"
}
# Warm the page cache so that both sides read from memory.
cat "$clip" >/dev/null

fp=$(timed "$KESTREL" vpdq "$clip")
lines=$("$KESTREL" vpdq "$clip" | wc -l)
dec=$(timed ffmpeg -nostdin -hide_banner -loglevel error -i "$clip" -f null -)
dec1=$(timed ffmpeg -nostdin -hide_banner -loglevel error -threads 1 -i "$clip" -f null -)

python3 - "$SECS" "$fp" "$dec" "$dec1" "$lines" "$clip" <<'PY'
import os, sys
secs, fp, dec, dec1 = (float(x) for x in sys.argv[1:5])
lines, clip = sys.argv[5], sys.argv[6]
print(f"clip: {os.path.basename(clip)} ({os.path.getsize(clip) / 1e6:.0f} MB, {secs:.0f} s of video)")
print(f"kestrel vpdq (key frames, 1 thread): {fp:8.2f} s  {secs / fp:8.1f}x real time  ({lines} hashes)")
print(f"ffmpeg -f null (default threads):    {dec:8.2f} s  {secs / dec:8.1f}x real time")
print(f"ffmpeg -threads 1 -f null:           {dec1:8.2f} s  {secs / dec1:8.1f}x real time")
print(f"kestrel vs full decode: {dec / fp:.1f}x faster (default threads), {dec1 / fp:.1f}x (1 thread)")
PY
