#!/usr/bin/env bash
# bench/scan.sh - how long `kestrel scan` takes on a large raw disk compared with just
# reading it (md5sum), and how much memory it needs. The disk comes from
# scripts/make-evidence.sh (the small planted layout plus an ext4 filler partition)
# and is cached under bench/out/ by size, seed and generator version.
#
# Usage: bench/scan.sh [IMAGE_MIB]      (default 4096; at least 80)
# Environment: KESTREL (default build/kestrel), SEED (default 1),
#   BENCH_OUT (default bench/out), BENCH_NO_WARM=1 to skip reading the image into the
#   page cache first (then the first timed run pays for the disk).
# Prints wall seconds of both, the ratio scan/md5sum and the scan's peak RSS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
MIB=${1:-4096}
SEED=${SEED:-1}
KESTREL=${KESTREL:-$root/build/kestrel}
OUTDIR=${BENCH_OUT:-$root/bench/out}
GEN=$root/scripts/make-evidence.sh
TIME=/usr/bin/time

[[ $MIB =~ ^[0-9]+$ ]] && [ "$MIB" -ge 80 ] || { echo "bench: IMAGE_MIB must be a number >= 80" >&2; exit 2; }
[ -x "$TIME" ] || { echo "bench: $TIME is missing (Debian package: time)" >&2; exit 2; }
mkdir -p "$OUTDIR"

# ---------------------------------------------------------------- the image (cached)
ver=$(sha256sum <"$GEN" | cut -c1-8)
stem=$OUTDIR/evidence-${MIB}m-seed${SEED}
IMG=$stem-$ver.img
if [ -s "$IMG" ] && [ -s "$stem-$ver.answer-key.tsv" ]; then
	echo "bench: using cached $IMG"
else
	# drop images of the same size and seed made by older generator versions
	rm -f "$stem"-*.img "$stem"-*.answer-key.tsv "$stem"-*.hashset.md5 "$stem"-*.hashset.vics.json
	need=$((MIB * 2 + 64)) # image + filler staging, in MiB
	avail=$(df -Pm "$OUTDIR" | awk 'NR == 2 {print $4}')
	[ "$avail" -ge "$need" ] || { echo "bench: need ~$need MiB free in $OUTDIR, have $avail" >&2; exit 1; }
	echo "bench: generating a $MIB MiB image (seed $SEED) ..."
	g0=$(date +%s)
	bash "$GEN" -o "$IMG" -s "$MIB" --seed "$SEED"
	echo "bench: generated in $(($(date +%s) - g0)) s"
fi
bytes=$(stat -c %s "$IMG")

if [ "${BENCH_NO_WARM:-0}" != 1 ]; then
	cat "$IMG" >/dev/null # same starting point for both runs: page cache (if RAM allows)
fi

# timed CMD...: runs under /usr/bin/time -v; sets T_WALL (s), T_RSS (KiB), T_RC
timed() {
	local tf=$OUTDIR/.time.$$
	set +e
	"$TIME" -v -o "$tf" "$@"
	T_RC=$?
	set -e
	T_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		printf "%.2f", s }' "$tf")
	T_RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
	rm -f "$tf"
}
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { if (s > 0) printf "%.0f", b / 1048576 / s; else print "inf" }'; }

# ---------------------------------------------------------------- md5sum
timed md5sum "$IMG" >/dev/null
[ "$T_RC" -eq 0 ] || { echo "bench: md5sum failed" >&2; exit 1; }
MD5_WALL=$T_WALL
echo "md5sum:        ${MD5_WALL} s  ($(rate "$MD5_WALL") MiB/s)"

# ---------------------------------------------------------------- kestrel scan
if [ ! -x "$KESTREL" ]; then
	echo "bench: no kestrel binary at $KESTREL (build it, or set KESTREL)" >&2
	exit 1
fi
CASEDIR=$(mktemp -d "$OUTDIR/case.XXXXXX")
trap 'rm -rf "$CASEDIR"' EXIT
CASE=$CASEDIR/case
LOG=$OUTDIR/scan-${MIB}m-seed${SEED}.log
if ! "$KESTREL" case init "$CASE" --ref BENCH --examiner bench >"$LOG" 2>&1; then
	echo "bench: kestrel case init failed (see $LOG)" >&2
	exit 1
fi
timed "$KESTREL" scan "$CASE" "$IMG" --exhibit BENCH >>"$LOG" 2>&1
if [ "$T_RC" -ne 0 ]; then
	echo "bench: kestrel scan exited $T_RC after ${T_WALL} s (see $LOG)" >&2
	exit 1
fi
echo "kestrel scan:  ${T_WALL} s  ($(rate "$T_WALL") MiB/s), peak RSS $(awk -v k="$T_RSS" 'BEGIN {printf "%.1f", k / 1024}') MiB"
awk -v a="$T_WALL" -v b="$MD5_WALL" -v mib="$MIB" -v rss="$T_RSS" 'BEGIN {
	printf "bench: %d MiB image: scan/md5sum ratio %.2f, scan peak RSS %.1f MiB\n",
		mib, (b > 0 ? a / b : 0), rss / 1024 }'
