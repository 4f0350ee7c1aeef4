#!/usr/bin/env python3
"""Exit 0 if some line of a JSON-lines file satisfies every condition.

usage: jsonl_has.py FILE KEY=VALUE... [KEY~SUBSTRING]... [--count N]
KEY=VALUE compares the value's string form exactly (null as "null", booleans as
"true"/"false"); KEY~SUB requires SUB in the string form. With --count N, exactly N
lines must match. Prints the matching count.
"""
import json, sys

args = sys.argv[2:]
count = None
if "--count" in args:
    i = args.index("--count")
    count = int(args[i + 1])
    del args[i:i + 2]

def form(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

def ok(obj):
    for c in args:
        if "~" in c and ("=" not in c or c.index("~") < c.index("=")):
            k, sub = c.split("~", 1)
            if sub not in form(obj.get(k)):
                return False
        else:
            k, v = c.split("=", 1)
            if form(obj.get(k)) != v:
                return False
    return True

n = sum(1 for l in open(sys.argv[1]) if l.strip() and ok(json.loads(l)))
print(f"{n} matching lines")
sys.exit(0 if (n == count if count is not None else n > 0) else 1)
