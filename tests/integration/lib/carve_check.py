#!/usr/bin/env python3
"""Checks carving output from `kestrel files --json` (tests/integration/carve_*.sh).

usage: carve_check.py FILES_JSONL [--key KEY_TSV --expect carve,...]

Always: nothing is found twice (no two occurrences with the same MD5 at the same
image offset), every carved item says where it came from (an offset and a note
naming its region), and every embedded item ("@<offset>" under a parent) is a
picture or video with a note. With --key: every key row whose expect is listed and
that has a disk_offset (or a `sectors` column, DFTT #12) is found as a carved item at
that offset, or (carve-in-file, container) inside its file (an embedded child
"@<offset>", or a member of a container that opens as an archive), with the key's MD5.
Prints ok/FAIL lines and "N passed, N failed"; exit 1 on any failure.
"""
import argparse, collections, json, re, sys

ap = argparse.ArgumentParser()
ap.add_argument("files")
ap.add_argument("--key")
ap.add_argument("--expect", default="carve")
a = ap.parse_args()

rows = [json.loads(l) for l in open(a.files) if l.strip()]
p = f = 0

def ok(msg):
    global p
    p += 1
    print("ok: " + msg)

def bad(msg):
    global f
    f += 1
    print("FAIL: " + msg)

seen = collections.Counter((r["md5"], r["offset"]) for r in rows
                           if r.get("md5") and r.get("offset") is not None)
twice = [k for k, v in seen.items() if v > 1]
if twice:
    bad(f"found twice (md5, offset): {twice[:5]}")
else:
    ok("nothing found twice (same MD5 at the same offset)")

carved = [r for r in rows if r["state"] == "carved" and "›" not in r["path"]]
bad_prov = [r["path"] for r in carved if r.get("offset") is None or "carved from" not in (r.get("note") or "")]
if bad_prov:
    bad(f"carved items without offset/region note: {bad_prov[:5]}")
else:
    ok(f"{len(carved)} carved items say where they came from")

emb = [r for r in rows if re.search(r"› @\d+$", r["path"])]
bad_emb = [r["path"] for r in emb
           if r["kind"] not in ("picture", "video") or "embedded at byte" not in (r.get("note") or "")]
if bad_emb:
    bad(f"embedded items that are not media or lack their note: {bad_emb[:5]}")
else:
    ok(f"{len(emb)} embedded items are pictures/videos with their note")

if a.key:
    hdr = None
    expects = set(a.expect.split(","))
    for line in open(a.key):
        if line.startswith("#") or not line.strip():
            continue
        cols = line.rstrip("\n").split("\t")
        if hdr is None:
            hdr = cols
            continue
        k = dict(zip(hdr, cols))
        if k.get("expect") not in expects or k.get("category") not in ("picture", "video"):
            continue
        off = None
        if k.get("disk_offset", "-") not in ("-", ""):
            off = int(k["disk_offset"])
        elif k.get("sectors"):
            m = re.search(r"\):\s*(\d+)", k["sectors"])
            off = int(m.group(1)) * 512 if m else None
        hits = [r for r in rows if r.get("md5") == k["md5"]]
        if k["expect"] == "carve":
            where = [r for r in hits if r["state"] == "carved" and (off is None or r.get("offset") == off)]
        else:
            # inside a file: an embedded child "@<offset>", or a member of a container
            # that opens as an archive (.docx)
            at = k.get("location", "").rsplit("@", 1)
            suffix = f"› @{at[1]}" if len(at) == 2 and at[1].isdigit() else "›"
            where = [r for r in hits if suffix in r["path"] and r["kind"] in ("picture", "video")]
        if where:
            ok(f"row {k['id']} ({k['expect']}) found as {where[0]['path']} offset {where[0].get('offset')}")
        else:
            bad(f"row {k['id']} {k.get('location','')} ({k['expect']}, md5 {k['md5']}, offset {off}) "
                f"not found as expected (hits: {[(r['path'], r['state'], r.get('offset')) for r in hits]})")

print(f"{p} passed, {f} failed")
sys.exit(1 if f or not p else 0)
