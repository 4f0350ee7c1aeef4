#!/usr/bin/env bash
# generator_answer_key.sh - checks scripts/make-evidence.sh against an independent
# reader (The Sleuth Kit's mmls/fls/icat, unzip, tar, 7z): every planted file's bytes
# are where the answer key says, the deleted one is deleted, archive members match,
# the hash sets hold exactly the labelled rows, and the same seed gives the same key.
set -uo pipefail

SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
GEN=$SRC/scripts/make-evidence.sh
export PATH=$PATH:/usr/sbin:/sbin

for t in mmls fls icat fsstat unzip tar 7z python3 md5sum; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "skip: $t is not installed (scripts/install-deps.sh installs it)"
		exit 77
	fi
done

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok; else bad "$d"; fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/gen-key.XXXXXX")
trap 'rm -rf "$T"' EXIT

# ---------------------------------------------------------------- usage and tool errors
bash "$GEN" >/dev/null 2>&1
check "no -o exits 2" test $? -eq 2
bash "$GEN" -o "$T/x.img" -s 70 >/dev/null 2>&1
check "-s 70 exits 2" test $? -eq 2
env PATH=/nonexistent /bin/bash "$GEN" -o "$T/x.img" >/dev/null 2>"$T/missing.err"
rc=$?
check "missing tools exit 2 (got $rc)" test $rc -eq 2
check "missing tool message names its package" grep -q 'cwebp(webp)' "$T/missing.err"
check "nothing written when tools are missing" test ! -e "$T/x.img"

# ---------------------------------------------------------------- build
mkdir -p "$T/a" "$T/b" "$T/c"
if ! bash "$GEN" -o "$T/a/ev.img" --seed 5 >"$T/a/log" 2>&1; then
	cat "$T/a/log"
	echo "FAIL: make-evidence.sh failed"
	echo "$pass passed, $((fail + 1)) failed"
	exit 1
fi
IMG=$T/a/ev.img
KEY=$T/a/ev.answer-key.tsv
check "summary line printed" grep -q "^make-evidence: .*pictures" "$T/a/log"
check "image is 64 MiB" test "$(stat -c %s "$IMG")" -eq $((64 * 1048576))
check "answer key written" test -s "$KEY"
check "key header" test "$(head -1 "$KEY")" = \
	"$(printf 'id\tkind\ttype\tmd5\tsha1\tsha256\tsize\tlocation\tstate\texpect\tcategory')"
# (no {n} intervals: Debian's default awk is mawk)
check "every key row has 11 well-formed fields" awk -F'\t' '
	function hex(s, n) { return length(s) == n && s ~ /^[0-9a-f]+$/ }
	NR > 1 {
		if (NF != 11 || $1 != NR - 1 || $2 !~ /^(picture|video|decoy|container|other)$/ ||
		    !hex($4, 32) || !hex($5, 40) || !hex($6, 64) ||
		    $7 !~ /^[0-9]+$/ || $8 !~ /^p[0-9]+:\// || $9 !~ /^(live|deleted)$/ ||
		    $10 !~ /^(fs|undelete|archive|none)$/ || $11 !~ /^(A|B|C|N|-)$/) { print "bad row: " $0; bad = 1 }
	} END { exit bad }' "$KEY"
# the variety the brief promises
for want in picture:jpeg picture:png picture:gif picture:bmp picture:webp video:mp4 \
	container:zip container:tar.gz container:7z decoy:data other:text; do
	check "key has a ${want/:/ }" awk -F'\t' -v k="${want%%:*}" -v t="${want#*:}" \
		'$2 == k && $3 == t {f = 1} END {exit !f}' "$KEY"
done
check "two decoys" test "$(awk -F'\t' '$2 == "decoy"' "$KEY" | wc -l)" -eq 2
check "one deleted row" test "$(awk -F'\t' '$9 == "deleted"' "$KEY" | wc -l)" -eq 1
check "a duplicate (same md5, two locations)" test \
	"$(awk -F'\t' 'NR > 1 && $2 == "picture" {print $4}' "$KEY" | sort | uniq -d | wc -l)" -ge 1
check "a nested archive member" grep -q '!.*!' "$KEY"
check "copies share their label" awk -F'\t' 'NR > 1 { if (($4 in c) && c[$4] != $11) bad = 1; c[$4] = $11 }
	END { exit bad }' "$KEY"
check "pictures and videos are all labelled round-robin (A, B, C, N and - each used)" \
	test "$(awk -F'\t' 'NR > 1 && ($2 == "picture" || $2 == "video") {print $11}' "$KEY" | sort -u | tr -d '\n')" = "-ABCN"
check "decoys, containers and other rows carry no label" awk -F'\t' \
	'NR > 1 && $2 != "picture" && $2 != "video" && $11 != "-" {bad = 1} END {exit bad}' "$KEY"

# ---------------------------------------------------------------- partitions (mmls)
declare -A OFF
while read -r slot start; do
	n=${slot#*:}
	OFF[p$((10#$n + 1))]=$((10#$start))
done < <(mmls "$IMG" | awk '$2 ~ /^[0-9]+:[0-9]+$/ {print $2, $3}')
check "mmls sees p1 and p2" test -n "${OFF[p1]:-}" -a -n "${OFF[p2]:-}"
check "p1 is FAT32" sh -c "fsstat -o ${OFF[p1]:-0} '$IMG' | grep -q 'File System Type: FAT32'"
check "p2 is ext4" sh -c "fsstat -o ${OFF[p2]:-0} '$IMG' | grep -q 'File System Type: Ext4'"
check "p1 volume label CAMERA" sh -c "fsstat -o ${OFF[p1]:-0} '$IMG' | grep -q 'Volume Label.*CAMERA'"

# fls listings: "state<TAB>inode<TAB>path" (state: live or deleted)
for p in p1 p2; do
	fls -r -p -o "${OFF[$p]:-0}" "$IMG" 2>/dev/null | awk -F'\t' '$1 ~ /^r\/r / {
		d = ($1 ~ / \* /) ? "deleted" : "live"
		ino = $1; sub(/^r\/r (\* )?/, "", ino); sub(/:$/, "", ino)
		print d "\t" ino "\t/" $2 }' >"$T/fls.$p"
done

# icat_md5 PART INODE
icat_md5() { icat -o "${OFF[$1]}" "$IMG" "$2" | md5sum | cut -c1-32; }

# ---------------------------------------------------------------- fs rows
nfs=0
while IFS=$'\t' read -r id _ _ md5 _ _ _ loc _ _ _; do
	part=${loc%%:*} path=${loc#*:}
	ino=$(awk -F'\t' -v p="$path" '$1 == "live" && $3 == p {print $2; exit}' "$T/fls.$part")
	if [ -z "$ino" ]; then bad "row $id: $loc not listed live by fls"; continue; fi
	got=$(icat_md5 "$part" "$ino")
	check "row $id: icat md5 of $loc" test "$got" = "$md5"
	nfs=$((nfs + 1))
done < <(awk -F'\t' 'NR > 1 && $10 == "fs"' "$KEY")
check "checked at least 25 fs rows ($nfs)" test "$nfs" -ge 25

# ---------------------------------------------------------------- deleted row
while IFS=$'\t' read -r id _ _ md5 _ _ _ loc _ _ _; do
	part=${loc%%:*} path=${loc#*:}
	dir=${path%/*} base=${path##*/}
	# FAT overwrites a deleted entry's first name byte: match it as any character
	ino=$(awk -F'\t' -v d="$dir/" -v b="${base:1}" '$1 == "deleted" &&
		toupper(substr($3, 1, length(d))) == toupper(d) &&
		toupper(substr($3, length(d) + 2)) == toupper(b) {print $2; exit}' "$T/fls.$part")
	if [ -z "$ino" ]; then bad "row $id: $loc not listed as deleted by fls"; continue; fi
	ok
	check "row $id: not listed live any more" test -z \
		"$(awk -F'\t' -v p="$path" '$1 == "live" && $3 == p' "$T/fls.$part")"
	check "row $id: icat recovers the deleted file's bytes" test "$(icat_md5 "$part" "$ino")" = "$md5"
done < <(awk -F'\t' 'NR > 1 && $9 == "deleted"' "$KEY")

# ---------------------------------------------------------------- archive members
# member_cat CONTAINER_FILE MEMBER: the member's bytes on stdout
member_cat() {
	case $1 in
	*.zip) unzip -p "$1" "$2" ;;
	*.tar.gz | *.tgz) tar -xzOf "$1" "$2" ;;
	*.7z) 7z e -so "$1" "$2" 2>/dev/null ;;
	*) return 1 ;;
	esac
}
narc=0
while IFS=$'\t' read -r id _ _ md5 _ _ _ loc _ _ _; do
	part=${loc%%:*} chain=${loc#*:}
	outer=${chain%%!*} rest=${chain#*!}
	ino=$(awk -F'\t' -v p="$outer" '$1 == "live" && $3 == p {print $2; exit}' "$T/fls.$part")
	if [ -z "$ino" ]; then bad "row $id: container $outer not found"; continue; fi
	cur=$T/m$id.0${outer##*/}
	icat -o "${OFF[$part]}" "$IMG" "$ino" >"$cur"
	i=0
	while :; do
		m=${rest%%!*}
		i=$((i + 1))
		nxt=$T/m$id.$i${m##*/}
		member_cat "$cur" "$m" >"$nxt" || { bad "row $id: cannot extract $m"; break; }
		cur=$nxt
		[ "$rest" = "$m" ] && break
		rest=${rest#*!}
	done
	check "row $id: md5 of $loc" test "$(md5sum <"$cur" | cut -c1-32)" = "$md5"
	narc=$((narc + 1))
done < <(awk -F'\t' 'NR > 1 && $10 == "archive"' "$KEY")
check "checked at least 6 archive rows ($narc)" test "$narc" -ge 6

# ---------------------------------------------------------------- hash sets
HMD5=$T/a/ev.hashset.md5
HVICS=$T/a/ev.hashset.vics.json
check "md5 hash set in md5sum format" sh -c "test -s '$HMD5' && ! grep -Evq '^[0-9a-f]{32}  [^ ]' '$HMD5'"
check "md5 hash set = the distinct rows labelled A" test \
	"$(cut -c1-32 "$HMD5" | sort | tr '\n' ' ')" = \
	"$(awk -F'\t' 'NR > 1 && $11 == "A" {print $4}' "$KEY" | sort -u | tr '\n' ' ')"
check "VICS JSON = the distinct labelled rows, UK numbering 1=A 2=B 3=C 0=N" \
	python3 - "$KEY" "$HVICS" <<'EOF'
import csv, json, sys
key, vics = sys.argv[1:3]
num = {"A": 1, "B": 2, "C": 3, "N": 0}
want = {}
with open(key, newline="") as f:
    for r in csv.DictReader(f, delimiter="\t"):
        if r["category"] in num:
            want[r["md5"].upper()] = (num[r["category"]], r["sha1"].upper(), int(r["size"]))
doc = json.load(open(vics))
ok = doc.get("@odata.context", "").startswith("http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/")
got, ids = {}, []
for m in doc["value"]:
    ids.append(m["MediaID"])
    ok &= m["IsDistributed"] == "false" and m["MD5"] == m["MD5"].upper()
    got[m["MD5"]] = (m["Category"], m["SHA1"], m["MediaSize"])
ok &= len(got) == len(doc["value"]) and ids == list(range(1, len(ids) + 1))
if not ok or got != want:
    print("VICS mismatch (first 3):", sorted(set(got.items()) ^ set(want.items()))[:3])
    sys.exit(1)
EOF

# ---------------------------------------------------------------- reproducibility
bash "$GEN" -o "$T/b/ev.img" --seed 5 >/dev/null 2>&1
check "same seed: same md5 column" test "$(cut -f4 "$KEY")" = "$(cut -f4 "$T/b/ev.answer-key.tsv" 2>/dev/null)"
check "same seed: same key" cmp -s "$KEY" "$T/b/ev.answer-key.tsv"
check "same seed: same hash sets" sh -c "cmp -s '$HMD5' '$T/b/ev.hashset.md5' && cmp -s '$HVICS' '$T/b/ev.hashset.vics.json'"
check "same seed: same image bytes" cmp -s "$IMG" "$T/b/ev.img"
bash "$GEN" -o "$T/c/ev.img" --seed 6 >/dev/null 2>&1
check "other seed: the plasma pictures differ" test \
	"$(awk -F'\t' 'NR == 2 {print $4}' "$T/c/ev.answer-key.tsv" 2>/dev/null)" != "$(awk -F'\t' 'NR == 2 {print $4}' "$KEY")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
