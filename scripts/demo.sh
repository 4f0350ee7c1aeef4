#!/usr/bin/env bash
# The main job on the embedded default: makes a synthetic exhibit with the project's
# own generator, creates a case (SQLite), imports a demo VICS hash set (invented test
# labels), scans the exhibit and writes the report in every format.
# usage: scripts/demo.sh [KESTREL_BINARY] [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KESTREL=${1:-$here/build/kestrel}
OUT=${2:-$here/out/demo}
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== making a synthetic exhibit (benign generated pictures) in $OUT"
bash "$here/scripts/make-evidence.sh" -o "$OUT/exhibit.img" --seed 7
echo "== case"
"$KESTREL" case init "$OUT/case" --ref DEMO-001 --examiner "demo"
echo "== hash set (categories are invented labels for the demo)"
"$KESTREL" hashset import "$OUT/case" "$OUT/exhibit.hashset.vics.json" --format vics --scheme uk --name demo-vics
echo "== scan"
"$KESTREL" scan "$OUT/case" "$OUT/exhibit.img" --exhibit EX-1
echo "== report"
for f in html csv json; do
  "$KESTREL" report "$OUT/case" --format $f --out "$OUT/report.$f"
done
echo
echo "Demo done. Open $OUT/report.html in a browser (it loads nothing from the network)."
echo "Case store: $OUT/case/case.db   Evidence: $OUT/exhibit.img (+ answer key beside it)"
