#!/usr/bin/env bash
# bench/pdq/run.sh: makes (once, cached) benign 4000x3000 and 1600x1200 JPEGs with
# ImageMagick (plasma fractals, built-in pictures), then runs bench_pdq over them, one
# thread, rates from CPU time. The reference tool (Meta's pdq-photo-hasher) is timed too
# when it is on PATH; otherwise its dominant cost, `convert FILE pnm:-` (its decode), is
# timed as a lower bound of its time and so an upper bound of its rate (the exact /
# reference ratio printed is then a lower bound).
# Usage: bench/pdq/run.sh [BUILD_DIR] [CACHE_DIR]    (defaults: build, /tmp/kestrel-bench-pdq)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
CACHE=${2:-/tmp/kestrel-bench-pdq}
BIN=$BUILD/bench/bench_pdq
CONVERT=/usr/bin/convert-im6.q16
[ -x "$BIN" ] || { echo "run.sh: build first: cmake --build $BUILD --target bench_pdq" >&2; exit 1; }
[ -x "$CONVERT" ] || { echo "run.sh: needs ImageMagick ($CONVERT)" >&2; exit 1; }
mkdir -p "$CACHE"

make_one() { # NAME SIZE ARGS...
  local out=$CACHE/$1 size=$2; shift 2
  [ -s "$out" ] || "$CONVERT" "$@" -resize "$size!" -quality 90 -sampling-factor 2x2 "$out"
}
echo "run.sh: making test photos in $CACHE (first run only)" >&2
for i in 1 2 3 4; do
  make_one "plasma$i-12mp.jpg" 4000x3000 -seed $i -size 2000x1500 plasma:fractal -attenuate 0.4 +noise Gaussian
done
make_one wizard-12mp.jpg 4000x3000 wizard: -attenuate 0.3 +noise Gaussian
make_one logo-12mp.jpg 4000x3000 logo: -attenuate 0.3 +noise Gaussian
for i in 1 2 3; do
  make_one "plasma$i-2mp.jpg" 1600x1200 -seed $((10 + i)) -size 800x600 plasma:fractal -attenuate 0.4 +noise Gaussian
done

ref_rate() { # FILES...: photos/s of the reference tool, or of its ImageMagick decode,
  # from the CPU time (user + system) of the child processes, as bench_pdq counts its own
  python3 - "$CONVERT" "$@" <<'PY'
import os, resource, shutil, subprocess, sys
convert, files = sys.argv[1], sys.argv[2:]
ref = shutil.which("pdq-photo-hasher")
before = resource.getrusage(resource.RUSAGE_CHILDREN)
if ref:
    subprocess.run([ref] + files, stdout=subprocess.DEVNULL, check=False)
    what = "reference pdq-photo-hasher"
else:
    for f in files:
        subprocess.run([convert, f, "pnm:-"], stdout=subprocess.DEVNULL, check=False)
    what = "reference proxy: convert FILE pnm:- (pdq-photo-hasher not installed)"
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(what, file=sys.stderr)
print("%.3f" % (len(files) / cpu))
PY
}

for set in 12mp 2mp; do
  files=("$CACHE"/*-"$set".jpg)
  r=$(ref_rate "${files[@]}")
  echo "== ${#files[@]} photos, $set ($(identify-im6.q16 -format '%wx%h' "${files[0]}")), reference rate $r/s"
  "$BIN" -r 3 --ref-rate "$r" "${files[@]}"
done
