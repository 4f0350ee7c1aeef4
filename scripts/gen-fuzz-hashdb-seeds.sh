#!/bin/sh
# Writes the fuzz_hashdb seed corpus (fuzz/corpus/fuzz_hashdb/seed-*.kix) with the CLI,
# from invented hash lists (the same every run): run it after a change of the index
# file's layout, then replay the corpus (ctest -R fuzz/fuzz_hashdb).
#   seed-0: a PDQ list (18 hashes), one set
#   seed-1: an MD5 list (12, 4 of them sharing their first 8 bytes), a SHA-1 list (6)
#           and the PDQ list, three sets
#   seed-2: a VICS US file (12 media with MD5 and SHA-1, 6 with a PDQ too), role ignore
#   seed-3: 200 MD5s sharing their first 4 bytes among 60 others (rows far past their
#           home slots), 20 SHA-256s
#   seed-4: 30 PDQ originals with 4 variants each (the last 1-3 hex digits changed, so
#           within 12 bits: near matches walked round the tables), named (records)
# usage: scripts/gen-fuzz-hashdb-seeds.sh KESTREL [OUTDIR]
set -eu
K=$(realpath "$1")
OUT=$(realpath "${2:-$(dirname "$0")/../fuzz/corpus/fuzz_hashdb}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" # the sets name their files without the directory
# hex digits of an invented hash: HEX LABEL LENGTH
hex() { printf '%s' "$1" | sha256sum | cut -c1-"$2"; }
# a digest list of invented hashes, "HASH  NAMEk" for k = 0..COUNT-1, the first SHARED
# of them beginning with PREFIX: LABEL LENGTH NAME COUNT [SHARED PREFIX]
lines() {
	k=0
	while [ $k -lt "$4" ]; do
		if [ $k -lt "${5:-0}" ]; then
			echo "$6$(hex "$1$k" $(($2 - ${#6})))  $3$k"
		else
			echo "$(hex "$1$k" "$2")  $3$k"
		fi
		k=$((k + 1))
	done
}

i=0
while [ $i -lt 18 ]; do
	echo "$(hex "pdq$i" 64),100"
	i=$((i + 1))
done > "a.pdq"
lines md5 32 file 12 4 "$(hex md5shared 16)" > "b.md5"
lines sha1 40 file 6 > "c.sha1"
{
	echo '{"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media", "value": ['
	i=0
	while [ $i -lt 12 ]; do
		[ $i -gt 0 ] && echo ','
		printf '{"MediaID": %d, "Category": %d, "MD5": "%s", "SHA1": "%s", "MediaSize": %d' \
			$((i + 1)) $((i % 5)) "$(hex "vmd5$i" 32)" "$(hex "vsha1$i" 40)" $((1000 + i))
		if [ $((i % 2)) -eq 0 ]; then
			printf ', "AlternativeHashes": [{"HashName": "PDQ", "HashValue": "%s"}]' \
				"$(hex "vpdq$i" 64)"
		fi
		printf '}'
		i=$((i + 1))
	done
	echo ']}'
} > "v.json"
lines crowd 32 c 260 200 00000000 > "crowd.md5"
lines sha256- 64 s 20 > "d.sha256"

"$K" hashset build "seed-0.kix" "a.pdq" --format pdq --name pdqset --scheme vics-us \
	--category 2
"$K" hashset build "seed-1.kix" "b.md5" "c.sha1" "a.pdq" --category A
"$K" hashset build "seed-2.kix" "v.json" --role ignore
i=0
while [ $i -lt 150 ]; do
	o=$((i / 5))
	case $((i % 5)) in
	0) echo "$(hex "near$o" 64),90,orig$o.jpg" ;;
	*) echo "$(hex "near$o" $((64 - i % 4 - 1)))$(hex "v$i" $((i % 4 + 1))),80,var$i.jpg" ;;
	esac
	i=$((i + 1))
done > "e.pdq"

"$K" hashset build "seed-3.kix" "crowd.md5" "d.sha256" --category B
"$K" hashset build "seed-4.kix" "e.pdq" --category C
for s in 0 1 2 3 4; do
	cp "seed-$s.kix" "$OUT/seed-$s.kix"
done
