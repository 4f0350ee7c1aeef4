#!/usr/bin/env bash
# EXIF end to end: photos tagged with exiftool (make, model, body serial, lens, software,
# capture time with its offset, GPS, orientation, an embedded thumbnail) in JPEG, PNG
# (eXIf) and TIFF, on a FAT image made with mtools, one of them deleted. What kestrel
# stores reads back exactly as exiftool reads the same files; each embedded thumbnail
# is a child item with its parent's state; the report lists the media per camera serial.
. "$(dirname "$0")/lib/common.sh"
need_tool convert-im6.q16 imagemagick; need_tool exiftool libimage-exiftool-perl
need_tool mcopy mtools; need_tool mkfs.fat dosfstools
IM=convert-im6.q16
P="$T/pics"; mkdir -p "$P/DCIM/100KO" "$P/Pictures" "$P/Scans"
$IM rose: -resize 40x40 "$P/th1.jpg"; $IM wizard: -resize 20% "$P/th2.jpg"
ET() { exiftool -q -overwrite_original "$@"; }
K1="$P/DCIM/100KO/KO_0001.JPG"; K2="$P/DCIM/100KO/KO_0002.JPG"
$IM rose: "$K1"; $IM wizard: -resize 50% "$K2"
ET -Make="Kestrel Optics" -Model="KO-1 Mark II" -SerialNumber="KO1-0042-7781" -LensMake=KO \
  -LensModel="KO 35mm f/2" -LensSerialNumber=L-991 -Software="KO firmware 1.2" \
  -DateTimeOriginal="2023:04:05 06:07:08" -OffsetTimeOriginal="+01:00" \
  -GPSLatitude=51.5 -GPSLatitudeRef=N -GPSLongitude=0.1275 -GPSLongitudeRef=W \
  -GPSAltitude=35.5 -GPSAltitudeRef=0 -Orientation#=6 "-ThumbnailImage<=$P/th1.jpg" "$K1"
ET -Make="Kestrel Optics" -Model="KO-1 Mark II" -SerialNumber="KO1-0042-7781" \
  -DateTimeOriginal="2023:04:05 07:30:00" -OffsetTimeOriginal="-05:30" \
  -GPSLatitude=33.8688 -GPSLatitudeRef=S -GPSLongitude=151.2093 -GPSLongitudeRef=E \
  "-ThumbnailImage<=$P/th2.jpg" "$K2"
$IM logo: -resize 25% "$P/Pictures/logo.png"
ET -Make=PNGCam -Model=P1 -SerialNumber=PNG-CAM-9 -DateTimeOriginal="2022:01:02 03:04:05" "$P/Pictures/logo.png"
$IM -size 64x48 gradient:white-black "$P/Scans/scan.tif"
ET -Make=ScanCo -Model="S 200" -SerialNumber=TIF-77 -Software="scan 3" "$P/Scans/scan.tif"
exiftool -q -j -n -Make -Model -SerialNumber -LensMake -LensModel -LensSerialNumber -Software \
  -DateTimeOriginal -OffsetTimeOriginal -GPSLatitude -GPSLongitude -GPSAltitude -Orientation \
  -ThumbnailLength -r "$P/DCIM" "$P/Pictures" "$P/Scans" > "$T/exiftool.json"

img="$T/card.img"
dd if=/dev/zero of="$img" bs=1M count=16 status=none
mkfs.fat -F 16 -n CARD "$img" >/dev/null
mcopy -s -i "$img" "$P/DCIM" "$P/Pictures" "$P/Scans" ::/
mdel -i "$img" ::/DCIM/100KO/KO_0002.JPG
sha256sum "$img" > "$T/img.sha256"

c="$T/case"
"$KESTREL" case init "$c" --ref EXIF-1 --examiner test >/dev/null
check "scan the card image" "$KESTREL" scan "$c" "$img" --exhibit CARD-1 --quiet
check "the image is unchanged after the scan" sha256sum -c --quiet "$T/img.sha256"
"$KESTREL" files "$c" --json > "$T/files.jsonl"
"$KESTREL" report "$c" --format json --out "$T/r.json" >/dev/null

check "EXIF read back exactly as exiftool reads it (JPEG, PNG eXIf, TIFF, a deleted JPEG)" \
  python3 - "$T/files.jsonl" "$T/exiftool.json" "$P" <<'PY'
import json, sys
rows = {json.loads(l)["path"]: json.loads(l) for l in open(sys.argv[1])}
tool = json.load(open(sys.argv[2]))
pairs = {"Make": "make", "Model": "model", "SerialNumber": "body_serial", "LensMake": "lens_make",
         "LensModel": "lens_model", "LensSerialNumber": "lens_serial", "Software": "software",
         "DateTimeOriginal": "datetime_original", "OffsetTimeOriginal": "offset_time_original",
         "Orientation": "orientation"}
assert len(tool) == 4, tool
deleted = {"/DCIM/100KO/KO_0002.JPG": "/DCIM/100KO/_O_0002.JPG"}  # FAT marks the first byte
for t in tool:
    path = t["SourceFile"][len(sys.argv[3]):]
    path = deleted.get(path, path)
    r = rows[path]
    x = r["exif"]
    assert x is not None, path
    for k, ours in pairs.items():
        assert x[ours] == t.get(k), (path, k, x[ours], t.get(k))
    if "GPSLatitude" in t:
        g = x["gps"]
        assert abs(g["lat"] - t["GPSLatitude"]) < 1e-6 and abs(g["lon"] - t["GPSLongitude"]) < 1e-6, (g, t)
        assert (g["alt"] is None) == ("GPSAltitude" not in t), (g, t)
        if g["alt"] is not None:
            assert abs(g["alt"] - t["GPSAltitude"]) < 1e-6, (g, t)
    else:
        assert x["gps"] is None, x
    assert x["thumbnail"] == ("ThumbnailLength" in t), (path, x)
    if "ThumbnailLength" in t:
        child = rows[path + " \u203a exif-thumbnail"]
        assert child["size"] == t["ThumbnailLength"] and child["kind"] == "picture", child
        assert child["state"] == r["state"] and child["in_container"], (child, r["state"])
exp = {"/DCIM/100KO/KO_0001.JPG": ("jpeg", "live"), "/DCIM/100KO/_O_0002.JPG": ("jpeg", "deleted"),
       "/Pictures/logo.png": ("png", "live"), "/Scans/scan.tif": ("tiff", "live")}
for p, (cont, state) in exp.items():
    assert rows[p]["exif"]["container"] == cont and rows[p]["state"] == state, rows[p]
PY
check "capture times in UTC from the offsets; the embedded thumbnails are the bytes exiftool put there" \
  python3 - "$T/files.jsonl" "$(md5sum "$P/th1.jpg" | cut -c1-32)" "$(md5sum "$P/th2.jpg" | cut -c1-32)" <<'PY'
import json, sys
rows = {json.loads(l)["path"]: json.loads(l) for l in open(sys.argv[1])}
a, b = rows["/DCIM/100KO/KO_0001.JPG"], rows["/DCIM/100KO/_O_0002.JPG"]
assert a["exif"]["time_utc"] == "2023-04-05T05:07:08Z", a["exif"]
assert b["exif"]["time_utc"] == "2023-04-05T13:00:00Z", b["exif"]
assert rows["/Pictures/logo.png"]["exif"]["time_utc"] is None  # no offset: local time only
assert rows["/DCIM/100KO/KO_0001.JPG \u203a exif-thumbnail"]["md5"] == sys.argv[2]
t2 = rows["/DCIM/100KO/_O_0002.JPG \u203a exif-thumbnail"]
assert t2["md5"] == sys.argv[3] and t2["state"] == "deleted", t2
PY
check "report: media per camera serial" python3 - "$T/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cams = {c["body_serial"]: c for c in r["cameras"]}
assert sorted(cams) == ["KO1-0042-7781", "PNG-CAM-9", "TIF-77"], sorted(cams)
ko = cams["KO1-0042-7781"]
assert ko["make"] == "Kestrel Optics" and ko["model"] == "KO-1 Mark II" and ko["media_count"] == 2, ko
assert sorted(m["path"] for m in ko["media"]) == ["/DCIM/100KO/KO_0001.JPG", "/DCIM/100KO/_O_0002.JPG"], ko
assert all(m["exhibit"] == "CARD-1" for m in ko["media"]), ko
assert cams["TIF-77"]["media"][0]["exif"]["software"] == "scan 3", cams["TIF-77"]
PY
"$KESTREL" report "$c" --format html --out "$T/r.html" >/dev/null
check "HTML: cameras section and EXIF on the item" \
  bash -c "grep -q '<h3>Serial KO1-0042-7781 (Kestrel Optics KO-1 Mark II): 2 media</h3>' '$T/r.html' && grep -q 'EXIF: camera Kestrel Optics KO-1 Mark II; serial KO1-0042-7781' '$T/r.html'"
"$KESTREL" report "$c" --format csv --out "$T/r.csv" >/dev/null
check "CSV: camera rows" grep -q '^camera,KO1-0042-7781,Kestrel Optics,KO-1 Mark II,' "$T/r.csv"
finish
