#!/usr/bin/env python3
"""Checks `kestrel files --json` output against a forensic answer key (TSV).

usage: check_key.py FILES_JSONL KEY_TSV --expect fs,undelete,... [--decoys]
       [--deleted-expect undelete] [--accept-wrong-md5]

For every key row whose `expect` is listed: some file line has the row's MD5 (and,
for rows whose expect is in --deleted-expect, state "deleted"). With --decoys, every
row of category `decoy` must not appear as a picture or video. Prints one ok/FAIL line
per row, then "N passed, N failed"; exit 1 on any failure.
"""
import argparse, json, sys

ap = argparse.ArgumentParser()
ap.add_argument("files")
ap.add_argument("key")
ap.add_argument("--expect", required=True)
ap.add_argument("--deleted-expect", default="undelete")
ap.add_argument("--decoys", action="store_true")
ap.add_argument("--categories", default="",
                help="only check rows of these key categories (e.g. picture,video)")
ap.add_argument("--accept-wrong-md5", action="store_true",
                help="a row with a wrong_md5 column may match either MD5 (reported)")
a = ap.parse_args()

files = [json.loads(l) for l in open(a.files) if l.strip()]
by_md5 = {}
for f in files:
    if f.get("md5"):
        by_md5.setdefault(f["md5"], []).append(f)

rows = []
hdr = None
for line in open(a.key):
    if line.startswith("#") or not line.strip():
        continue
    cols = line.rstrip("\n").split("\t")
    if hdr is None:
        hdr = cols
        continue
    rows.append(dict(zip(hdr, cols)))

expects = set(a.expect.split(","))
deleted_expect = set(a.deleted_expect.split(",")) if a.deleted_expect else set()
p = f = 0
for r in rows:
    cats = set(a.categories.split(",")) if a.categories else None
    if r.get("expect") in expects and (cats is None or r.get("category") in cats):
        md5s = [r["md5"]]
        if a.accept_wrong_md5 and r.get("wrong_md5"):
            md5s.append(r["wrong_md5"])
        hits = [x for m in md5s for x in by_md5.get(m, [])]
        if r.get("expect") in deleted_expect:
            hits = [x for x in hits if x.get("state") == "deleted"]
        if r.get("category") in ("picture", "video"):
            hits = [x for x in hits if x.get("kind") in ("picture", "video")]
        if hits:
            p += 1
            note = " (with the contiguous-recovery MD5 the key gives as wrong)" if hits[0]["md5"] != r["md5"] else ""
            print(f"ok: row {r['id']} {r.get('location','')} found as {hits[0]['path']} [{hits[0]['state']}, {hits[0].get('type')}]{note}")
        else:
            f += 1
            print(f"FAIL: row {r['id']} {r.get('location','')} ({r.get('expect')}, md5 {r['md5']}) not found")
    if a.decoys and r.get("category") == "decoy":
        wrong = [x for x in by_md5.get(r["md5"], []) if x.get("kind") in ("picture", "video")]
        if wrong:
            f += 1
            print(f"FAIL: decoy row {r['id']} {r.get('location','')} reported as {wrong[0].get('type')}")
        else:
            p += 1
            print(f"ok: decoy row {r['id']} not reported as a picture")
print(f"{p} passed, {f} failed")
sys.exit(1 if f or not p else 0)
