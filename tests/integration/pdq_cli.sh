#!/usr/bin/env bash
# pdq_cli.sh - `kestrel pdq` against the reference's own output format and values:
# --exact prints `hash,quality,filename` lines equal to expected.tsv (the reference
# tool's hashes) line by line, --dihedral the eight hashes of expected-dihedral.tsv;
# the default (fast) mode stays within a few bits; a missing or non-picture file is
# reported on stderr with exit status 1 while the other files are still hashed; no
# file gives exit status 2.
set -uo pipefail

if [ -z "${KESTREL:-}" ] || [ ! -x "$KESTREL" ]; then
	echo "skip: KESTREL binary not set"; exit 77
fi
if [ -z "${SHARED:-}" ] || [ ! -d "$SHARED/testdata/pdq" ]; then
	echo "skip: SHARED/testdata/pdq not available"; exit 77
fi
if ! "$KESTREL" pdq --help >/dev/null 2>&1; then
	echo "skip: this kestrel has no pdq verb yet"; exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$SHARED/testdata/pdq" || exit 1
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

tail -n +2 expected.tsv | cut -f3 > "$T/names"
tail -n +2 expected.tsv | awk -F'\t' '{print $1 "," $2 "," $3}' > "$T/want"
"$KESTREL" pdq --exact $(cat "$T/names") > "$T/got" 2> "$T/err"
check "exact exit status" '[ $? -eq 0 ]'
check "exact lines equal expected.tsv" 'diff "$T/want" "$T/got"'

tail -n +2 expected-dihedral.tsv | awk -F'\t' '{print $1","$2","$3","$4","$5","$6","$7","$8","$9","$10}' > "$T/wantd"
"$KESTREL" pdq --exact --dihedral --stdin < "$T/names" > "$T/gotd"
check "dihedral lines equal expected-dihedral.tsv" 'diff "$T/wantd" "$T/gotd"'

"$KESTREL" pdq $(cat "$T/names") > "$T/fast"
check "fast mode hashes every file" '[ $(wc -l < "$T/fast") -eq $(wc -l < "$T/want") ]'
mean=$(python3 - "$T/want" "$T/fast" <<'PY'
import sys
a = [l.split(',') for l in open(sys.argv[1])]
b = [l.split(',') for l in open(sys.argv[2])]
d = [bin(int(x[0], 16) ^ int(y[0], 16)).count('1') for x, y in zip(a, b)]
print('%.2f' % (sum(d) / len(d)))
PY
)
echo "fast vs exact: mean distance $mean"
check "fast mode mean distance <= 3" 'python3 -c "import sys; sys.exit(0 if $mean <= 3 else 1)"'

printf 'not a picture\n' > "$T/notes.jpg"
"$KESTREL" pdq --exact "$T/missing.jpg" "$T/notes.jpg" images/misc/wee.jpg > "$T/mixed" 2> "$T/mixederr"
check "errors give exit status 1" '[ $? -eq 1 ]'
check "the good file is still hashed" 'grep -q "^6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d,100,images/misc/wee.jpg$" "$T/mixed"'
check "each bad file is named on stderr" '[ $(grep -c "missing.jpg\|notes.jpg" "$T/mixederr") -eq 2 ]'
"$KESTREL" pdq > /dev/null 2>&1
check "no FILE is a usage error" '[ $? -eq 2 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
