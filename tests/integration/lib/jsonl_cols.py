#!/usr/bin/env python3
"""Prints chosen keys of every line of a JSON-lines file (stdin or FILE), one line
each, sorted: for comparing two listings. Exits 1 if there are no lines at all, so
a comparison of two empty listings cannot pass.
usage: jsonl_cols.py [FILE] --keys path,state,md5"""
import json, sys
args = sys.argv[1:]
keys = args[args.index("--keys") + 1].split(",")
del args[args.index("--keys"):args.index("--keys") + 2]
src = open(args[0]) if args else sys.stdin
out = sorted(" ".join(str(j.get(k)) for k in keys) for j in map(json.loads, (l for l in src if l.strip())))
print("\n".join(out))
sys.exit(0 if out else 1)
