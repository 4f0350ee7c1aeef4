#!/usr/bin/env bash
# Review at scale: a synthetic case of N media (default 1,000,000) in near-duplicate
# clusters; times one grid page (queue + 100 previews) and grading a group of 1,000,
# server side, warm. The case is kept in OUT (default bench/out/review-case) and
# reused by later runs. usage: run.sh [BUILD_DIR] [N]
set -eu
BUILD=${1:-$(dirname "$0")/../../build}
N=${2:-1000000}
OUT=${OUT:-$(dirname "$0")/../out/review-case-$N}
"$BUILD/bench/bench_review" "$OUT" "$N"
