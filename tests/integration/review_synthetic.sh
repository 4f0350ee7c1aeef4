#!/usr/bin/env bash
# The review queue on a synthetic case: K known pictures (their MD5s imported as a
# hash set with a category) plus G groups of near-duplicate variants made with
# ImageMagick from benign pictures (resized, recompressed, cropped, watermarked). The
# queue must hold exactly G groups, each with all its variants, and none of the K.
. "$(dirname "$0")/lib/common.sh"
need_tool /usr/bin/convert-im6.q16 imagemagick
need_tool python3 python3
C=/usr/bin/convert-im6.q16
G=3
K=4

mkdir -p "$T/ev/known" "$T/base"
$C -size 640x480 -seed 3 plasma:fractal "$T/base/g1.png"
$C logo: -resize 640x480! "$T/base/g2.png"
$C wizard: -resize 480x640! "$T/base/g3.png"
for g in $(seq $G); do
  d="$T/ev/folder$g"
  mkdir -p "$d"
  b="$T/base/g$g.png"
  $C "$b" -quality 92 "$d/a_original.jpg"
  $C "$b" -resize 50% -quality 85 "$d/v_resized.jpg"
  $C "$b" -quality 35 "$d/v_recompressed.jpg"
  $C "$b" -gravity center -crop 98%x98%+0+0 +repage -quality 90 "$d/v_cropped.jpg"
  $C "$b" -fill '#ffffff80' -draw 'rectangle 12,12 100,40' -depth 8 "$d/v_watermarked.png"
done
for k in $(seq $K); do
  $C -size 400x300 -seed $((k + 20)) plasma:fractal -swirl $((k * 40)) "$T/ev/known/k$k.jpg"
done
(cd "$T/ev/known" && md5sum ./*.jpg | cut -c1-32) > "$T/known.md5"

"$KESTREL" case init "$T/case" --ref SYN --examiner tester >/dev/null
"$KESTREL" hashset import "$T/case" "$T/known.md5" --format md5 --scheme uk --category A --name known >/dev/null
"$KESTREL" scan "$T/case" "$T/ev" --exhibit EX1 --quiet >/dev/null 2>&1
echo "grader-one-pass" | "$KESTREL" user add "$T/case" g1 --role grader --password-stdin >/dev/null

"$KESTREL" serve "$T/case" --listen 127.0.0.1:0 >"$T/serve.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do grep -qs "listening on" "$T/serve.out" && break; sleep 0.2; done
URL=$(grep -o 'http://[^ ]*' "$T/serve.out")
[ -n "$URL" ] || { cat "$T/serve.out"; exit 1; }

(cd "$T/ev/known" && sha256sum ./*.jpg | cut -c1-64) > "$T/known.sha256"
PYTHONPATH="$(dirname "$0")/lib" python3 - "$URL" "$G" "$K" "$T/known.sha256" <<'PY'
import sys
from review_client import Session, check, finish
url, G, K = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
known = set(open(sys.argv[4]).read().split())
s = Session(url)
check("log in", s.login("g1", "grader-one-pass")[0] == 200)
st, q = s.get("/api/queue?limit=100")
check("queue holds exactly G=%d groups (has %s)" % (G, q and q["total"]), st == 200 and q["total"] == G)
folders = sorted(g["folder"] for g in q["groups"])
check("one group per folder, in folder order", [g["folder"].split("/")[-1] for g in q["groups"]] == ["folder%d" % i for i in range(1, G + 1)])
seen = set()
for g in q["groups"]:
    st, grp = s.get("/api/group/%d" % g["id"])
    names = sorted(m["name"] for m in grp["members"])
    check("group %s holds its five variants (%s)" % (g["folder"], names), len(names) == 5 and len({m["folder"] for m in grp["members"]}) == 1)
    for m in grp["members"]:
        st, d = s.get("/api/media/%d" % m["media"])
        seen.update(o["sha256"] for o in d["occurrences"])
check("none of the K known pictures is in the queue", not (seen & known) and len(known) == K)
st, c = s.get("/api/counts")
check("the K known pictures are counted as left out", c["known"] == K and c["media_open"] == 5 * G)
st, qa = s.get("/api/queue?all=1")
check("asked for, the categorised ones are listed too", qa["total"] == G + K)
# one key press grades a whole group
st, r = s.post("/api/grade", {"group": q["groups"][0]["id"], "category": "N"})
check("grading a group grades its five members", st == 200 and r["graded"] == 5)
st, q2 = s.get("/api/queue")
check("the queue then holds G-1 groups", q2["total"] == G - 1)
sys.exit(finish())
PY
PYRC=$?
[ "$PYRC" -eq 0 ] && ok "queue checks" || bad "queue checks (see above)"
finish
