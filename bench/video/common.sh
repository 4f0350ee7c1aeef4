# bench/video/common.sh: what the video benches (run.sh, tmk.sh) share; sourced, not
# run. bench_setup finds the tree, the build and kestrel and checks what the bench
# needs; bench_clip makes (once, cached under bench/out/) the testsrc2 clip they time;
# timed prints the wall seconds of a command.
ME=${0##*/}

# bench_setup VERB DEFAULT_SECONDS [BUILD_DIR]: sets SRC, BUILD (default SRC/build),
# KESTREL (env, default BUILD/kestrel), OUT (env BENCH_OUT, default bench/out) and
# SECS (env BENCH_SECONDS, default DEFAULT_SECONDS); exits unless ffmpeg is there and
# kestrel has VERB.
bench_setup() {
  SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  BUILD=${3:-$SRC/build}
  KESTREL=${KESTREL:-$BUILD/kestrel}
  OUT=${BENCH_OUT:-$SRC/bench/out}
  SECS=${BENCH_SECONDS:-$2}
  command -v ffmpeg >/dev/null || { echo "$ME: needs ffmpeg" >&2; exit 1; }
  [ -x "$KESTREL" ] || { echo "$ME: no kestrel at $KESTREL (build first)" >&2; exit 1; }
  "$KESTREL" "$1" --help >/dev/null 2>&1 || { echo "$ME: $KESTREL has no $1 verb" >&2; exit 1; }
  mkdir -p "$OUT"
}

# bench_clip any|h264: sets clip to SECS seconds of 1280x720 testsrc2 at 25 fps under
# OUT, made on first use: H.264 (libx264, its default GOP); with any, MPEG-4 part 2
# where ffmpeg has no libx264 (said so).
bench_clip() {
  local codec=h264 enc=(-c:v libx264 -preset veryfast -pix_fmt yuv420p) encoders
  if [ "$1" = any ]; then
    encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
    if ! grep -q ' libx264 ' <<<"$encoders"; then
      codec=mpeg4 enc=(-c:v mpeg4 -q:v 5 -g 250)
      echo "$ME: libx264 missing: the clip is MPEG-4 part 2, not H.264" >&2
    fi
  fi
  clip=$OUT/testsrc2-720p25-${SECS}s-$codec.mp4
  if [ ! -s "$clip" ]; then
    echo "$ME: making $clip (first run only; takes a while)" >&2
    nice ffmpeg -nostdin -hide_banner -loglevel error -y \
      -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=$SECS" "${enc[@]}" "$clip.tmp.mp4"
    mv "$clip.tmp.mp4" "$clip"
  fi
}

timed() { # prints wall seconds of "$@" (stdout discarded)
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "print('%.3f' % ($t1 - $t0))"
}
