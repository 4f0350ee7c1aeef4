#!/usr/bin/env bash
# make-evidence.sh - builds a small synthetic "seized disk" (raw MBR image) holding
# benign pictures hidden in the common ways, plus its answer key and two hash sets,
# for kestrel's demo, integration tests and benchmarks. No root, no mounts, no loop
# devices: FAT32 via mkfs.vfat + mtools, ext4 via mkfs.ext4 -d, MBR via sfdisk.
#
# Usage: make-evidence.sh -o OUT.img [-s SIZE_MIB] [--seed N]
#   -o OUT.img   the raw disk image to write (replaced if it exists)
#   -s SIZE_MIB  total size, default 64; any size >= 80 adds p3, an ext4 "filler"
#                partition from 64 MiB to the end, ~80 % full of 1 MiB pseudo-random
#                blobs (80 %) and base64 text files (20 %)
#   --seed N     seed for the plasma pictures and all pseudo-random bytes (default 1);
#                the same seed on the same tool versions gives the same image and key
#
# Layout (512-byte sectors): 0 MBR; p1 2048+81920 FAT32 "CAMERA" (512 B clusters);
# p2 83968+47104 ext4 "HOME"; p3 131072..end ext4 "FILLER" (only with -s >= 80).
#
# Writes beside OUT (OUT minus .img):
#   .answer-key.tsv  id kind type md5 sha1 sha256 size location state expect category
#     kind     picture | video | decoy | container | other
#     location pN:/path, archive members as pN:/path/to.zip!member (nested: a!b!c)
#     state    live | deleted
#     expect   how a tool reaches the bytes: fs (file-system walk), undelete (deleted
#              directory entry), archive (inside a container), none (unreachable)
#     category an INVENTED test label (A B C N or -), round-robin over the distinct
#              pictures and videos; it says nothing about the (benign) content
#   .hashset.md5        md5sum-format list of the distinct items labelled A
#   .hashset.vics.json  Project VIC VICS 2.0 JSON of every labelled item, Category in
#                       kestrel's UK numbering (1=A 2=B 3=C 0=N, include/kestrel/category.h)
# Exit status: 0 done, 1 failure, 2 usage error or missing tool.
set -euo pipefail

prog=make-evidence
die() { echo "$prog: $*" >&2; exit 1; }
usage() { sed -n '6,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

OUT="" SIZE=64 SEED=1
while [ $# -gt 0 ]; do
	case $1 in
	-o) [ $# -ge 2 ] || usage; OUT=$2; shift 2 ;;
	-s) [ $# -ge 2 ] || usage; SIZE=$2; shift 2 ;;
	--seed) [ $# -ge 2 ] || usage; SEED=$2; shift 2 ;;
	--seed=*) SEED=${1#--seed=}; shift ;;
	-h | --help) usage ;;
	*) echo "$prog: unknown argument: $1" >&2; usage ;;
	esac
done
[ -n "$OUT" ] || { echo "$prog: -o OUT.img is required" >&2; usage; }
[[ $SIZE =~ ^[0-9]{1,7}$ ]] || { echo "$prog: -s wants a size in MiB" >&2; exit 2; }
[[ $SEED =~ ^[0-9]{1,9}$ ]] || { echo "$prog: --seed wants a number (0..999999999)" >&2; exit 2; }
SIZE=$((10#$SIZE)) SEED=$((10#$SEED))
if [ "$SIZE" -lt 64 ] || { [ "$SIZE" -gt 64 ] && [ "$SIZE" -lt 80 ]; }; then
	echo "$prog: -s must be 64 or at least 80 (MiB)" >&2; exit 2
fi

# ---------------------------------------------------------------- tools
export PATH=$PATH:/usr/sbin:/sbin
# ImageMagick 6 by its real name: /usr/local/bin/convert may be something else.
IM=""
for c in /usr/bin/convert-im6.q16 /usr/bin/convert-im6 convert-im6.q16; do
	if command -v "$c" >/dev/null 2>&1; then IM=$(command -v "$c"); break; fi
done
missing=""
[ -n "$IM" ] || missing="$missing convert-im6.q16(imagemagick)"
for tp in cwebp:webp ffmpeg:ffmpeg mkfs.vfat:dosfstools mmd:mtools mcopy:mtools \
	mdel:mtools mkfs.ext4:e2fsprogs debugfs:e2fsprogs sfdisk:fdisk zip:zip 7z:p7zip-full tar:tar \
	gzip:gzip openssl:openssl md5sum:coreutils sha1sum:coreutils sha256sum:coreutils \
	split:coreutils base64:coreutils truncate:coreutils awk:mawk; do
	command -v "${tp%%:*}" >/dev/null 2>&1 || missing="$missing ${tp%%:*}(${tp#*:})"
done
if [ -n "$missing" ]; then
	echo "$prog: missing tools (Debian package in brackets):$missing" >&2
	echo "$prog: install them with scripts/install-deps.sh" >&2
	exit 2
fi

# ---------------------------------------------------------------- setup
T0=$(date +%s)
case $OUT in *.img) BASE=${OUT%.img} ;; *) BASE=$OUT ;; esac
KEY=$BASE.answer-key.tsv
HMD5=$BASE.hashset.md5
HVICS=$BASE.hashset.vics.json
outdir=$(dirname -- "$OUT")
[ -d "$outdir" ] || die "no such directory: $outdir"
outdir=$(cd -- "$outdir" && pwd) # absolute: the archive steps run in subshells elsewhere
# The work dir sits beside OUT so that big filler staging lands on the same disk.
WORK=$(mktemp -d "$outdir/.make-evidence.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
S=$WORK/src     # the bytes of every planted item, by short name
mkdir -p "$S"
MAN=$WORK/manifest.tsv   # kind type srcfile location state expect
: >"$MAN"

export TZ=UTC LC_ALL=C MTOOLS_SKIP_CHECK=1
EPOCH=1700000000
export SOURCE_DATE_EPOCH=$EPOCH E2FSPROGS_FAKE_TIME=$EPOCH

P1_START=2048 P1_SECT=81920
P2_START=83968 P2_SECT=47104
P3_START=131072 P3_SECT=$(( (SIZE - 64) * 2048 ))

# seeded pseudo-random bytes: prng LABEL NBYTES (AES-256-CTR keystream; the key is
# derived from the seed and the label so every stream is independent)
prng() {
	local k
	k=$(printf 'kestrel-evidence:%s:%s' "$SEED" "$1" | sha256sum | cut -c1-64)
	{ openssl enc -aes-256-ctr -nosalt -K "$k" -iv 00000000000000000000000000000000 \
		-in /dev/zero 2>/dev/null || true; } | head -c "$2"
}
# a per-seed hex id: hexid LABEL NCHARS
hexid() { printf 'kestrel-id:%s:%s' "$SEED" "$1" | sha256sum | cut -c1-"$2"; }
uuid() { local h; h=$(hexid "$1" 32); echo "${h:0:8}-${h:8:4}-4${h:13:3}-8${h:17:3}-${h:20:12}"; }

im() { "$IM" "$@"; }
PNGOPT=(-strip -define 'png:exclude-chunks=date,time')
# plasma "landscape": plasma K WxH then extra convert arguments and the output
plasma() { local k=$1 g=$2; shift 2; im -seed $((SEED * 100 + k)) -size "$g" plasma:fractal -blur 0x1 "$@"; }
jpg() { local n=$1 k=$2 g=$3 q=$4; shift 4; plasma "$k" "$g" "$@" -quality "$q" -strip "JPEG:$S/$n"; }

# mkfs.ext4 -d copies each staged file's ctime (the time of this run) into its inode;
# pin them to EPOCH so that the image, not only the key, is reproducible.
# ext4_pin_ctime IMAGE[?offset=N] STAGEDIR
ext4_pin_ctime() {
	find "$2" -mindepth 1 -printf 'sif "/%P" ctime @'"$EPOCH"'\n' >"$WORK/ctime.cmd"
	debugfs -w -f "$WORK/ctime.cmd" "$1" >/dev/null 2>&1 || die "debugfs failed on $1"
}

# row KIND TYPE SRC LOCATION STATE EXPECT  -> one manifest line
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$MAN"; }

# ---------------------------------------------------------------- pictures and files
jpg cam1.jpg 1 1024x768 90
jpg cam2.jpg 2 800x600 85
jpg cam3.jpg 3 800x600 85 -interlace Plane                 # progressive
im logo: -quality 85 -strip "JPEG:$S/cam4.jpg"
im rose: -scale 400% -quality 88 -strip "JPEG:$S/cam5.jpg"
im wizard: -quality 85 -strip "JPEG:$S/cam6.jpg"
im -size 800x600 gradient:steelblue-khaki -quality 85 -strip "JPEG:$S/cam7.jpg"
im -size 640x480 pattern:checkerboard -fill darkorange -colorize 30% -quality 85 -strip "JPEG:$S/cam8.jpg"
jpg cam9.jpg 9 800x600 85                                   # deleted later
jpg full10.jpg 10 1024x768 90
head -c $(($(stat -c %s "$S/full10.jpg") * 2 / 5)) "$S/full10.jpg" >"$S/cam10.jpg"   # truncated
rm -f "$S/full10.jpg"
ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi \
	-i "testsrc=size=320x240:rate=10:duration=2" -threads 1 -c:v libx264 -pix_fmt yuv420p \
	-map_metadata -1 -fflags +bitexact -flags +bitexact -movflags +faststart "$S/cam11.mp4"
plasma 12 640x480 "${PNGOPT[@]}" "PNG:$S/cam12.png"
plasma 13 400x300 -colors 64 "${PNGOPT[@]}" "GIF:$S/cam13.gif"
plasma 14 320x240 -strip "BMP3:$S/cam14.bmp"
plasma 15 640x480 "${PNGOPT[@]}" "PNG:$WORK/webp-in.png"
cwebp -quiet -q 80 "$WORK/webp-in.png" -o "$S/cam15.webp"
prng decoy-random 24576 >"$S/decoy1.jpg"
{ printf '\xff\xd8\xff\xe0'; prng decoy-header 20476; } >"$S/decoy2.jpg"
jpg renamed.dll 19 640x480 80
jpg beach.jpg 21 800x600 85
plasma 22 480x360 "${PNGOPT[@]}" "PNG:$S/hills.png"
jpg lake.jpg 24 640x480 85
jpg tree.jpg 27 640x480 85
printf 'CAMERA card\r\nThis card was formatted by the camera.\r\n' >"$S/readme.txt"
# ext4 home
jpg mountains.jpg 29 1024x768 88
im -size 400x400 pattern:checkerboard \( -size 400x400 gradient:navy-gold \) \
	-compose multiply -composite "${PNGOPT[@]}" "PNG:$S/testcard.png"
im logo: -resize 50% "${PNGOPT[@]}" "GIF:$S/logo.gif"
jpg forest.jpg 33 800x600 85
{ echo "Meeting notes"; echo; prng notes 3000 | base64 -w 72; } >"$S/notes.txt"
{ echo "item,qty"; for i in 1 2 3 4 5 6; do echo "thing$i,$((i * SEED % 17 + 1))"; done; } >"$S/shopping.csv"
printf '# ~/.bashrc\nexport EDITOR=vi\nalias ll="ls -l"\n' >"$S/bashrc"

# containers (all inputs get one fixed mtime so archives are reproducible)
C=$WORK/c
mkdir -p "$C/nest"
find "$S" -type f -exec touch -h -d "@$EPOCH" {} +
(cd "$S" && zip -q -X -9 "$C/holiday.zip" beach.jpg hills.png)
(cd "$S" && tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
	-cf - lake.jpg | gzip -n -9 >"$C/old.tar.gz")
(cd "$S" && zip -q -X "$C/nest/inner.zip" tree.jpg)
touch -h -d "@$EPOCH" "$C/nest/inner.zip"
(cd "$C/nest" && zip -q -X -0 "$C/nested.zip" inner.zip)
(cd "$S" && 7z a -bd -bso0 -bsp0 -mx=5 "$C/photos.7z" forest.jpg >/dev/null)
cp "$C/nest/inner.zip" "$S/inner.zip"
cp "$C/holiday.zip" "$C/old.tar.gz" "$C/nested.zip" "$C/photos.7z" "$S/"

# ---------------------------------------------------------------- manifest (key order)
D=p1:/DCIM/100CAMRA
row picture jpeg cam1.jpg "$D/IMG_0001.JPG" live fs
row picture jpeg cam2.jpg "$D/IMG_0002.JPG" live fs
row picture jpeg cam3.jpg "$D/IMG_0003.JPG" live fs
row picture jpeg cam4.jpg "$D/IMG_0004.JPG" live fs
row picture jpeg cam5.jpg "$D/IMG_0005.JPG" live fs
row picture jpeg cam6.jpg "$D/IMG_0006.JPG" live fs
row picture jpeg cam7.jpg "$D/IMG_0007.JPG" live fs
row picture jpeg cam8.jpg "$D/IMG_0008.JPG" live fs
row picture jpeg cam9.jpg "$D/IMG_0009.JPG" deleted undelete
row picture jpeg cam10.jpg "$D/IMG_0010.JPG" live fs
row video mp4 cam11.mp4 "$D/MVI_0011.MP4" live fs
row picture png cam12.png "$D/IMG_0012.PNG" live fs
row picture gif cam13.gif "$D/IMG_0013.GIF" live fs
row picture bmp cam14.bmp "$D/IMG_0014.BMP" live fs
row picture webp cam15.webp "$D/IMG_0015.WEBP" live fs
row decoy data decoy1.jpg "$D/IMG_0016.JPG" live fs
row decoy data decoy2.jpg "$D/IMG_0017.JPG" live fs
row picture jpeg cam2.jpg p1:/Backup/IMG_0002.JPG live fs
row picture jpeg renamed.dll p1:/Windows/System32/mfc42u.dll live fs
row container zip holiday.zip p1:/Archive/holiday.zip live fs
row picture jpeg beach.jpg 'p1:/Archive/holiday.zip!beach.jpg' live archive
row picture png hills.png 'p1:/Archive/holiday.zip!hills.png' live archive
row container tar.gz old.tar.gz p1:/Archive/old.tar.gz live fs
row picture jpeg lake.jpg 'p1:/Archive/old.tar.gz!lake.jpg' live archive
row container zip nested.zip p1:/Archive/nested.zip live fs
row container zip inner.zip 'p1:/Archive/nested.zip!inner.zip' live archive
row picture jpeg tree.jpg 'p1:/Archive/nested.zip!inner.zip!tree.jpg' live archive
row other text readme.txt p1:/readme.txt live fs
H=p2:/home/user
row picture jpeg mountains.jpg "$H/Pictures/mountains.jpg" live fs
row picture png testcard.png "$H/Pictures/testcard.png" live fs
row picture gif logo.gif "$H/Pictures/logo.gif" live fs
row container 7z photos.7z "$H/Downloads/photos.7z" live fs
row picture jpeg forest.jpg "$H/Downloads/photos.7z!forest.jpg" live archive
row other text notes.txt "$H/Documents/notes.txt" live fs
row other text shopping.csv "$H/Documents/shopping.csv" live fs
row other text bashrc "$H/.bashrc" live fs

# ---------------------------------------------------------------- p1: FAT32
P1=$WORK/p1.img
truncate -s $((P1_SECT * 512)) "$P1"
mkfs.vfat -F 32 -s 1 -S 512 -n CAMERA -i "$(hexid fat-volid 8)" -h $P1_START --invariant "$P1" >/dev/null
mmd -i "$P1" ::/DCIM ::/DCIM/100CAMRA ::/Backup ::/Windows ::/Windows/System32 ::/Archive
# Every fs/undelete row on p1 is copied in key order; the deleted one is removed last,
# after everything else is written, so no later file reuses its clusters.
awk -F'\t' '$4 ~ /^p1:/ && $6 != "archive" {sub(/^p1:/, "", $4); print $3 "\t" $4}' "$MAN" |
	while IFS=$'\t' read -r src dst; do mcopy -i "$P1" -o "$S/$src" "::$dst"; done
awk -F'\t' '$4 ~ /^p1:/ && $5 == "deleted" {sub(/^p1:/, "", $4); print $4}' "$MAN" |
	while read -r dst; do mdel -i "$P1" "::$dst"; done

# ---------------------------------------------------------------- p2: ext4
R=$WORK/p2root
awk -F'\t' '$4 ~ /^p2:/ && $6 == "fs" {sub(/^p2:/, "", $4); print $3 "\t" $4}' "$MAN" |
	while IFS=$'\t' read -r src dst; do
		mkdir -p "$R$(dirname -- "$dst")"
		cp "$S/$src" "$R$dst"
	done
mkdir -p "$R/etc"
echo "workstation" >"$R/etc/hostname"
find "$R" -exec touch -h -d "@$EPOCH" {} +
P2=$WORK/p2.img
truncate -s $((P2_SECT * 512)) "$P2"
mkfs.ext4 -q -F -b 4096 -L HOME -U "$(uuid ext4-home)" \
	-E "root_owner=0:0,hash_seed=$(uuid ext4-home-hash)" -d "$R" "$P2"
ext4_pin_ctime "$P2" "$R"

# ---------------------------------------------------------------- assemble the disk
PART=$OUT.partial
rm -f "$PART"
truncate -s $((SIZE * 1048576)) "$PART"
{
	echo "label: dos"
	echo "label-id: 0x$(hexid mbr-id 8)"
	echo "unit: sectors"
	echo "start=$P1_START, size=$P1_SECT, type=c"
	echo "start=$P2_START, size=$P2_SECT, type=83"
	[ "$P3_SECT" -eq 0 ] || echo "start=$P3_START, size=$P3_SECT, type=83"
} | sfdisk -q "$PART" >/dev/null
dd if="$P1" of="$PART" bs=1M seek=$((P1_START / 2048)) conv=notrunc,sparse status=none
dd if="$P2" of="$PART" bs=1M seek=$((P2_START / 2048)) conv=notrunc,sparse status=none
rm -f "$P1" "$P2"

# ---------------------------------------------------------------- p3: filler
if [ "$P3_SECT" -gt 0 ]; then
	F=$WORK/p3root
	mkdir -p "$F/data" "$F/docs"
	fill=$((P3_SECT / 2048 * 80 / 100)) # MiB of files
	nbin=$((fill * 8 / 10))
	ntxt=$((fill - nbin))
	[ "$nbin" -eq 0 ] ||
		prng filler-bin $((nbin * 1048576)) |
		split -b 1048576 -d -a 6 --additional-suffix=.dat - "$F/data/blob"
	# base64 grows 4/3 (+ newlines): 3/4 MiB of random bytes per ~1 MiB text file
	[ "$ntxt" -eq 0 ] ||
		prng filler-txt $((ntxt * 786432)) | base64 -w 76 |
		split -C 1048576 -d -a 6 --additional-suffix=.txt - "$F/docs/doc"
	find "$F" -exec touch -h -d "@$EPOCH" {} +
	mkfs.ext4 -q -F -b 4096 -i 262144 -L FILLER -U "$(uuid ext4-filler)" \
		-E "root_owner=0:0,hash_seed=$(uuid ext4-filler-hash),offset=$((P3_START * 512))" \
		-d "$F" "$PART" "$((P3_SECT / 2))k"
	ext4_pin_ctime "$PART?offset=$((P3_START * 512))" "$F"
	rm -rf "$F"
fi

# ---------------------------------------------------------------- key and hash sets
KT=$WORK/key.tsv
printf 'id\tkind\ttype\tmd5\tsha1\tsha256\tsize\tlocation\tstate\texpect\tcategory\n' >"$KT"
id=0
while IFS=$'\t' read -r kind type src loc state expect; do
	id=$((id + 1))
	f=$S/$src
	md5=$(md5sum <"$f" | cut -c1-32)
	sha1=$(sha1sum <"$f" | cut -c1-40)
	sha256=$(sha256sum <"$f" | cut -c1-64)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$kind" "$type" "$md5" "$sha1" \
		"$sha256" "$(stat -c %s "$f")" "$loc" "$state" "$expect"
done <"$MAN" |
	# labels go round-robin over distinct content: a copy keeps its original's label
	awk -F'\t' -v OFS='\t' '{
		c = "-"
		if ($2 == "picture" || $2 == "video") {
			if (!($4 in lab)) lab[$4] = substr("ABCN-", n++ % 5 + 1, 1)
			c = lab[$4]
		}
		print $0, c
	}' >>"$KT"

awk -F'\t' 'NR > 1 && $11 == "A" && !seen[$4]++ {print $4 "  " $8}' "$KT" >"$WORK/set.md5"
awk -F'\t' 'BEGIN {
		num["A"] = 1; num["B"] = 2; num["C"] = 3; num["N"] = 0
		printf "{\"@odata.context\":\"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Media\",\"value\":["
	}
	NR > 1 && ($11 in num) && !seen[$4]++ {
		sep = n ? "," : ""
		n++
		printf "%s\n{\"MediaID\":%d,\"Category\":%d,\"MD5\":\"%s\",\"SHA1\":\"%s\",\"MediaSize\":%d,\"IsDistributed\":\"false\"}",
			sep, n, num[$11], toupper($4), toupper($5), $7
	}
	END { print "\n]}" }' "$KT" >"$WORK/set.json"

mv -f "$KT" "$KEY"
mv -f "$WORK/set.md5" "$HMD5"
mv -f "$WORK/set.json" "$HVICS"
mv -f "$PART" "$OUT"

awk -F'\t' -v out="$OUT" -v size="$SIZE" -v seed="$SEED" -v secs=$(($(date +%s) - T0)) \
	'NR > 1 { k[$2]++; if ($11 != "-") l++ }
	END { printf "%s: %s (%d MiB, seed %s, %d s): %d pictures, %d videos, %d decoys, %d containers, %d other; %d labelled; key %s\n",
		"make-evidence", out, size, seed, secs, k["picture"], k["video"], k["decoy"], k["container"], k["other"], l,
		substr(out, 1, length(out) - (out ~ /\.img$/ ? 4 : 0)) ".answer-key.tsv" }' "$KEY"
