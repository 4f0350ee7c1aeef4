#!/usr/bin/env bash
# bench/video/tmk.sh: the cost of TMK+PDQF (`kestrel tmk`, what `scan --tmk` adds per
# video). Makes (once, cached under bench/out/ like run.sh) BENCH_SECONDS of 1280x720
# H.264 at 25 fps from ffmpeg's testsrc2 pattern, then times in the same run:
#   kestrel tmk          every frame decoded (one thread), 64x64 at 15 fps, TMK+PDQF
#   ffmpeg pipeline      upstream's frame source: ffmpeg -s 64:64 -pix_fmt rgb24 -r 15
#                        to a pipe (default threads, and -threads 1) - the decode and
#                        scaling alone, no fingerprint
#   kestrel vpdq         key frames only (what every scan does), for comparison
# and prints seconds per minute of video and the ratios. With ../shared present the
# 720p30 camera clip of the TMK sample videos is timed too (4 s: a rough figure).
# Usage: bench/video/tmk.sh [BUILD_DIR]   env: BENCH_SECONDS (default 120),
#        KESTREL (default BUILD_DIR/kestrel), BENCH_OUT (default bench/out), SHARED
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh" # bench_setup, bench_clip, timed
bench_setup tmk 120 "${1:-}"
SHARED=${SHARED:-$SRC/../shared}
bench_clip h264
renice -n 10 $$ >/dev/null 2>&1 || true # a shared machine: the whole bench runs niced
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

pipeline() { ffmpeg -nostdin -hide_banner -loglevel error "$@" -s 64:64 -an -f rawvideo \
  -c:v rawvideo -pix_fmt rgb24 -r 15 -; }

# one clip: name, seconds of video
bench() {
  local f=$1 secs=$2
  cat "$f" >/dev/null # page cache
  rm -f "$W"/*.tmk
  local tmk ff ff1 vp
  tmk=$(timed "$KESTREL" tmk --out "$W" "$f")
  ff=$(timed pipeline -i "$f")
  ff1=$(timed pipeline -threads 1 -i "$f")
  vp=$(timed "$KESTREL" vpdq "$f")
  python3 - "$f" "$secs" "$tmk" "$ff" "$ff1" "$vp" <<'PY'
import os, sys
f, secs, tmk, ff, ff1, vp = sys.argv[1], *(float(x) for x in sys.argv[2:])
per = 60.0 / secs
print(f"clip: {os.path.basename(f)} ({os.path.getsize(f) / 1e6:.1f} MB, {secs:.0f} s of video)")
print(f"  kestrel tmk (1 thread):            {tmk:7.2f} s  = {tmk * per:6.2f} s per minute of video")
print(f"  ffmpeg -s 64:64 -r 15 (threads):   {ff:7.2f} s  = {ff * per:6.2f} s per minute")
print(f"  ffmpeg -s 64:64 -r 15 (1 thread):  {ff1:7.2f} s  = {ff1 * per:6.2f} s per minute")
print(f"  kestrel vpdq (key frames):         {vp:7.2f} s  = {vp * per:6.2f} s per minute")
print(f"  tmk / ffmpeg 1 thread: {tmk / ff1:.2f}x   tmk / vpdq: {tmk / vp:.1f}x")
PY
}
echo "host: $(nproc) cores, $(uname -m); kestrel $("$KESTREL" --version 2>/dev/null | head -1 || true)"
bench "$clip" "$SECS"
cam=$SHARED/testdata/tmk/videos/doorknob-hd-no-bar.mp4
if [ -s "$cam" ]; then
  bench "$cam" 4
fi
