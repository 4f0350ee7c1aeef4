#!/usr/bin/env python3
"""Compares a kestrel JSON report's totals with counts computed from a key.

usage: check_counts.py REPORT_JSON LABELS_TSV
LABELS_TSV has a header and columns md5, kind (picture|video), category (A/B/C/N or
"" for uncategorised): the distinct media the test expects in the case, each with
the category its hash set gave it. Checks, for every category of the uk scheme and
for uncategorised, the distinct picture and video counts of the case-scheme table.
Prints ok/FAIL lines and "N passed, N failed".
"""
import csv, json, sys

rep = json.load(open(sys.argv[1]))
want = {}
seen = set()
for r in csv.DictReader(open(sys.argv[2]), delimiter="\t"):
    if r["md5"] in seen:
        continue
    seen.add(r["md5"])
    k = (r["category"] or None, r["kind"])
    want[k] = want.get(k, 0) + 1

table = next(s for s in rep["totals"]["schemes"] if s["case_scheme"])
p = f = 0
for c in table["categories"]:
    for kind, col in (("picture", "pictures"), ("video", "videos")):
        got = c[col]["distinct"]
        exp = want.get((c["code"], kind), 0)
        if got == exp:
            p += 1
            print(f"ok: {c['label']} {col}: {got}")
        else:
            f += 1
            print(f"FAIL: {c['label']} {col}: report {got}, key {exp}")
print(f"{p} passed, {f} failed")
sys.exit(1 if f else 0)
