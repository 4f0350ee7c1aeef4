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
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh" # bench_setup, bench_clip, timed
bench_setup vpdq 3600 "${1:-}"
bench_clip any

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
