#!/usr/bin/env bash
# bench/carve/run.sh - kestrel's full scan with carving versus PhotoRec on the shared
# synthetic disk (../shared/testdata/forensic/synthetic/make-image.sh, 4 GiB by
# default: the 256 MiB planted layout plus an ext4 filler partition), both timed in
# this script on the same page-cached image. PhotoRec runs as the peer baseline ran
# it (peer-baseline/run-peers.sh): whole disk, paranoid, every file type. Both are
# scored against the key the same run of make-image.sh wrote: how many of the
# recoverable pictures and videos (every row but the one marked `none`, the EXIF
# thumbnail row `optional` included) each finds with the key's MD5.
#
# Usage: bench/carve/run.sh [IMAGE_MIB]     (default 4096; 256 for a quick run)
# Environment: KESTREL (default build/kestrel), BENCH_OUT (default bench/out),
#   SHARED (default ../shared beside the repository), BENCH_NO_PHOTOREC=1 to skip it.
# Needs: testdisk (photorec), time, python3, and make-image.sh's packages.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MIB=${1:-4096}
KESTREL=${KESTREL:-$root/build/kestrel}
OUTDIR=${BENCH_OUT:-$root/bench/out}
SHARED=${SHARED:-$root/../shared}
GEN=$SHARED/testdata/forensic/synthetic/make-image.sh
TIME=/usr/bin/time

[[ $MIB =~ ^[0-9]+$ ]] && [ "$MIB" -ge 256 ] || { echo "bench: IMAGE_MIB must be a number >= 256" >&2; exit 2; }
[ -x "$TIME" ] || { echo "bench: $TIME is missing (Debian package: time)" >&2; exit 2; }
[ -f "$GEN" ] || { echo "bench: $GEN is missing (set SHARED)" >&2; exit 2; }
[ -x "$KESTREL" ] || { echo "bench: no kestrel binary at $KESTREL (build it, or set KESTREL)" >&2; exit 2; }
mkdir -p "$OUTDIR"

# ---------------------------------------------------------------- the image (cached)
ver=$(sha256sum <"$GEN" | cut -c1-8)
IMG=$OUTDIR/synthetic-${MIB}m-$ver.img
KEY=${IMG%.img}.answer-key.tsv
if [ -s "$IMG" ] && [ -s "$KEY" ]; then
	echo "bench: using cached $IMG"
else
	rm -rf "$OUTDIR"/synthetic-"${MIB}"m-*
	echo "bench: generating a $MIB MiB synthetic disk (make-image.sh) ..."
	g0=$(date +%s)
	if [ "$MIB" -eq 256 ]; then
		bash "$GEN" -o "$IMG" >"$OUTDIR/make-image.log" 2>&1
	else
		bash "$GEN" -o "$IMG" -s "$MIB" >"$OUTDIR/make-image.log" 2>&1
	fi || { tail "$OUTDIR/make-image.log" >&2; exit 1; }
	echo "bench: generated in $(($(date +%s) - g0)) s"
fi
bytes=$(stat -c %s "$IMG")
cat "$IMG" >/dev/null # both tools start from the page cache

timed() { # timed CMD...: sets T_WALL (s), T_RSS (KiB), T_RC
	local tf=$OUTDIR/.time.$$
	set +e
	"$TIME" -v -o "$tf" "$@"
	T_RC=$?
	set -e
	T_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		printf "%.2f", s }' "$tf")
	T_RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$tf")
	rm -f "$tf"
}
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { if (s > 0) printf "%.0f", b / 1048576 / s; else print "inf" }'; }

# Recoverable rows found (by MD5) among the MD5s listed in file $1.
score() {
	python3 - "$KEY" "$1" <<'PY'
import sys
key, found = sys.argv[1], set(l.split()[0] for l in open(sys.argv[2]) if l.strip())
hdr, rows = None, []
for line in open(key):
    if line.startswith("#") or not line.strip():
        continue
    c = line.rstrip("\n").split("\t")
    if hdr is None:
        hdr = c
        continue
    rows.append(dict(zip(hdr, c)))
want = [r for r in rows if r["category"] in ("picture", "video") and r["expect"] != "none"]
hit = [r for r in want if r["md5"] in found]
miss = [r["id"] + ":" + r["expect"] for r in want if r["md5"] not in found]
print(f"{len(hit)} {len(want)} {' '.join(miss) or '-'}")
PY
}

# ---------------------------------------------------------------- kestrel
CASEDIR=$(mktemp -d "$OUTDIR/carve-case.XXXXXX")
PRDIR=$(mktemp -d "$OUTDIR/carve-photorec.XXXXXX")
trap 'rm -rf "$CASEDIR" "$PRDIR"' EXIT
LOG=$OUTDIR/carve-${MIB}m.log
"$KESTREL" case init "$CASEDIR/case" --ref BENCH --examiner bench >"$LOG" 2>&1
timed "$KESTREL" scan "$CASEDIR/case" "$IMG" --exhibit BENCH --carve --quiet >>"$LOG" 2>&1
[ "$T_RC" -eq 0 ] || { echo "bench: kestrel scan exited $T_RC (see $LOG)" >&2; exit 1; }
K_WALL=$T_WALL K_RSS=$T_RSS
"$KESTREL" files "$CASEDIR/case" --json |
	python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if d.get("md5"): print(d["md5"])' >"$CASEDIR/md5s"
read -r K_HIT K_WANT K_MISS <<<"$(score "$CASEDIR/md5s")"
echo "kestrel scan --carve: ${K_WALL} s ($(rate "$K_WALL") MiB/s), peak RSS ${K_RSS} MiB," \
	"$K_HIT/$K_WANT recoverable pictures/videos exact (missed: $K_MISS)"

# The same without hashing the whole image (MD5 + SHA-1 before and after, which the
# full scan does for the record and PhotoRec does not): what carving itself costs.
"$KESTREL" case init "$CASEDIR/case2" --ref BENCH --examiner bench >>"$LOG" 2>&1
timed "$KESTREL" scan "$CASEDIR/case2" "$IMG" --exhibit BENCH --carve --no-source-hash --quiet >>"$LOG" 2>&1
[ "$T_RC" -eq 0 ] || { echo "bench: kestrel scan --no-source-hash exited $T_RC (see $LOG)" >&2; exit 1; }
echo "kestrel scan --carve --no-source-hash: ${T_WALL} s ($(rate "$T_WALL") MiB/s), peak RSS ${T_RSS} MiB"

# ---------------------------------------------------------------- PhotoRec
if [ "${BENCH_NO_PHOTOREC:-0}" = 1 ]; then
	exit 0
fi
command -v photorec >/dev/null || { echo "bench: photorec missing (Debian package: testdisk)" >&2; exit 2; }
(cd "$PRDIR" && TERM=dumb timed photorec /log /d "$PRDIR/recup" /cmd "$IMG" \
	partition_none,options,paranoid,fileopt,everything,enable,search </dev/null >/dev/null 2>&1
	echo "$T_WALL $T_RSS" >"$PRDIR/t")
read -r P_WALL P_RSS <"$PRDIR/t"
find "$PRDIR" -type f -path '*recup*' -exec md5sum {} + | awk '{print $1}' >"$PRDIR/md5s"
read -r P_HIT P_WANT P_MISS <<<"$(score "$PRDIR/md5s")"
echo "photorec (paranoid, everything): ${P_WALL} s ($(rate "$P_WALL") MiB/s), peak RSS ${P_RSS} MiB," \
	"$P_HIT/$P_WANT exact (missed: $P_MISS)"
awk -v k="$K_WALL" -v p="$P_WALL" -v mib="$MIB" -v kh="$K_HIT" -v ph="$P_HIT" -v n="$K_WANT" 'BEGIN {
	printf "bench: %d MiB disk: kestrel/photorec time ratio %.2f (%s), found %d vs %d of %d\n",
		mib, (p > 0 ? k / p : 0), (k <= p ? "kestrel at least as fast" : "kestrel slower"), kh, ph, n }'
