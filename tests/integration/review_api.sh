#!/usr/bin/env bash
# Review server API: nothing without a session, login throttling and cookie flags,
# CSRF-less changes refused, roles, a grader cannot verify their own grade, path-like
# ids never reach files, pictures sent no-store under a strict CSP; every login,
# grade and verification is in the audit chain, which verifies and then fails after
# one byte of the log is changed; grades reach `kestrel files` and the report.
. "$(dirname "$0")/lib/common.sh"
need_tool /usr/bin/convert-im6.q16 imagemagick
need_tool python3 python3
need_tool sqlite3 sqlite3
C=/usr/bin/convert-im6.q16

mkdir -p "$T/ev/a" "$T/ev/b"
$C rose: -resize 320x240! "$T/ev/a/rose.jpg"
$C rose: -resize 320x240! -quality 50 "$T/ev/a/rose_q50.jpg"
$C logo: -resize 320x240! "$T/ev/b/logo.jpg"
$C -size 320x240 -seed 7 plasma:fractal "$T/ev/b/plasma.png"
HAVE_VIDEO=0
if command -v ffmpeg >/dev/null; then
  ffmpeg -loglevel error -f lavfi -i testsrc2=duration=4:size=320x240:rate=10 -pix_fmt yuv420p "$T/ev/b/clip.mp4" && HAVE_VIDEO=1
fi
if command -v exiftool >/dev/null; then
  exiftool -q -overwrite_original -Make=KestrelTestCam -Model=Bench1 "$T/ev/b/logo.jpg"
  HAVE_EXIF=1
else
  HAVE_EXIF=0
fi
"$KESTREL" case init "$T/case" --ref API1 --examiner tester >/dev/null
"$KESTREL" scan "$T/case" "$T/ev" --exhibit EX1 --quiet >/dev/null 2>&1
echo "grader-one-pass" | "$KESTREL" user add "$T/case" g1 --role grader --password-stdin >/dev/null
echo "verifier-one-pass" | "$KESTREL" user add "$T/case" v1 --role verifier --password-stdin >/dev/null
check "short passwords are refused" bash -c "! echo short | '$KESTREL' user add '$T/case' g2 --role grader --password-stdin 2>/dev/null"
check "bad roles are refused" bash -c "! echo long-enough-pass | '$KESTREL' user add '$T/case' g2 --role boss --password-stdin 2>/dev/null"
check "a non-loopback address without TLS is refused" bash -c "! '$KESTREL' serve '$T/case' --listen 0.0.0.0:0 2>/dev/null"

"$KESTREL" serve "$T/case" --listen 127.0.0.1:0 >"$T/serve.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do grep -qs "listening on" "$T/serve.out" && break; sleep 0.2; done
URL=$(grep -o 'http://[^ ]*' "$T/serve.out")
[ -n "$URL" ] || { cat "$T/serve.out"; echo "server did not start"; exit 1; }

PYTHONPATH="$(dirname "$0")/lib" python3 - "$URL" "$HAVE_EXIF" "$HAVE_VIDEO" <<'PY'
import sys
from review_client import Session, check, finish
url, have_exif, have_video = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
anon = Session(url)
st, h, b = anon.raw("GET", "/")
check("/ without a session redirects to the login page", st == 303 and h.get("location") == "/login")
st, h, b = anon.raw("GET", "/login")
check("the login page is served", st == 200 and b"login-form" in b)
check("with a strict CSP", "default-src 'self'" in h.get("content-security-policy", ""))
for p in ["/api/queue", "/api/me", "/api/thumb/1", "/api/media/1", "/api/group/1", "/api/counts",
          "/api/verify", "/api/disputes", "/static/app.js", "/static/app.html"]:
    st, h, b = anon.raw("GET", p)
    check("unauthenticated GET %s refused (%d)" % (p, st), st == 401 and b"\xff\xd8" not in b[:2])
for p in ["/api/grade", "/api/undo", "/api/verify", "/api/resolve", "/api/unblur", "/api/logout"]:
    st, _ = anon.post(p, {"group": 1, "category": "A"})
    check("unauthenticated POST %s refused (%d)" % (p, st), st == 401)

# Throttling: four free failures of a name, then it is locked out for a doubling time
# (its right password is refused too); the address is not locked yet.
bad = Session(url)
codes = [bad.login("nobody", "wrong-password-%d" % i)[0] for i in range(6)]
check("failed logins answer 401 then 429 (%s)" % codes, codes[:5] == [401] * 5 and codes[5] == 429)

g1, v1 = Session(url), Session(url)
st, h = g1.login("g1", "grader-one-pass")
check("g1 logs in", st == 200)
cookie = h.get("set-cookie", "")
check("session cookie is HttpOnly and SameSite=Strict", "HttpOnly" in cookie and "SameSite=Strict" in cookie)
check("v1 logs in", v1.login("v1", "verifier-one-pass")[0] == 200)

st, q = g1.get("/api/queue")
check("queue lists the groups", st == 200 and q["total"] == 3 + have_video)
if have_video:
    clip = [g for g in q["groups"] if g["name"] == "clip.mp4"]
    st, h, b = g1.raw("GET", "/api/thumb/%d" % clip[0]["cover"]) if clip else (0, {}, b"")
    check("a video is shown as a contact sheet (a JPEG, never the video)", st == 200 and b[:2] == b"\xff\xd8" and h.get("content-type") == "image/jpeg")
    st, grp = g1.get("/api/group/%d" % clip[0]["id"])
    check("...and listed as a video", grp["members"][0]["kind"] == "video")
rose = [g for g in q["groups"] if g["name"].startswith("rose")]
check("the two roses are one group of two", len(rose) == 1 and rose[0]["size"] == 2)
gid = rose[0]["id"]
cover = rose[0]["cover"]

st, h, b = g1.raw("GET", "/api/thumb/%d" % cover)
check("thumbnail is a JPEG", st == 200 and h.get("content-type") == "image/jpeg" and b[:2] == b"\xff\xd8")
check("thumbnail is no-store", h.get("cache-control") == "no-store")
check("thumbnail under a strict CSP", "default-src 'self'" in h.get("content-security-policy", ""))

# CSRF: no token, a wrong token, a form post, a foreign origin.
st, _ = g1.post("/api/grade", {"group": gid, "category": "C"}, csrf=False)
check("grade without CSRF token refused (%d)" % st, st == 403)
st, _ = g1.post("/api/grade", {"group": gid, "category": "C"}, csrf=False, extra={"X-CSRF-Token": "0" * 64})
check("grade with a wrong CSRF token refused (%d)" % st, st == 403)
st, _ = g1.post("/api/grade", b"group=1&category=C", ctype="application/x-www-form-urlencoded")
check("form-encoded change refused (%d)" % st, st == 403)
st, _ = g1.post("/api/grade", {"group": gid, "category": "C"}, extra={"Origin": "http://evil.example"})
check("change from a foreign origin refused (%d)" % st, st == 403)
st, _ = g1.post("/api/grade", {"group": gid, "category": "Z"})
check("a category outside the scheme is refused (%d)" % st, st == 400)
st, c = g1.get("/api/counts")
check("nothing was graded by the refused requests", c["pending"] == 0)

st, r = g1.post("/api/grade", {"group": gid, "category": "C"})
check("g1 grades the rose group with one call", st == 200 and r["graded"] == 2)
st, r = g1.post("/api/grade", {"group": gid, "category": "C"})
check("grading it again changes nothing", st == 200 and r["graded"] == 0)

st, _ = g1.get("/api/verify")
check("a grader cannot open the verification queue (%d)" % st, st == 403)
st, r = g1.post("/api/verify", {"media": [cover], "category": "C"})
check("a grader cannot verify (%d)" % st, st == 403)

# v1 grades the logo, then may not verify it; verifies g1's roses blind.
st, q = v1.get("/api/queue")
logo = [g for g in q["groups"] if g["name"].startswith("logo")][0]
check("v1 grades the logo", v1.post("/api/grade", {"group": logo["id"], "category": "N"})[0] == 200)
if have_exif:
    st, m = v1.get("/api/media/%d" % logo["cover"])
    check("media detail shows the EXIF the scan kept", st == 200 and (m.get("exif") or {}).get("make") == "KestrelTestCam")
st, vq = v1.get("/api/verify")
ids = [i["media"] for i in vq["items"]]
check("v1's blind queue holds g1's two roses only", st == 200 and vq["total"] == 2 and logo["cover"] not in ids)
check("the blind queue shows no first grade", all(i["category"] is None for i in vq["items"]))
st, m = v1.get("/api/media/%d" % cover)
check("media detail hides the pending first grade from v1", st == 200 and m["media"]["category"] is None)
st, m = g1.get("/api/media/%d" % cover)
check("...but shows it to its grader", st == 200 and m["media"]["category"] == "C")
check("media detail lists the occurrence", len(m["occurrences"]) == 1 and m["occurrences"][0]["exhibit"] == "EX1")
st, r = v1.post("/api/verify", {"media": [logo["cover"]], "category": "N"})
check("a verifier cannot verify their own grade (%d)" % st, st == 403 and "own grade" in (r or {}).get("error", ""))
st, r = v1.post("/api/verify", {"media": ids, "category": "C"})
check("v1 agrees with g1", st == 200 and r["agreed"] == 2)
st, c = v1.get("/api/counts")
check("counts: 2 verified, 1 pending", c["verified"] == 2 and c["pending"] == 1 and c["final"].get("C") == 2)

# Path-like ids never reach a file.
for p in ["/api/thumb/../../case.db", "/api/thumb/..%2f..%2fcase.db", "/api/thumb/1/../2",
          "/api/thumb/%2e%2e", "/api/thumb/-1", "/api/thumb/0", "/api/thumb/1abc", "/api/thumb/",
          "/api/media/1;DROP", "/static/../case.db", "/static/%2e%2e/case.db",
          "/static/..%2fcase.db", "/../case.db", "/case.db", "/api/../case.db"]:
    st, h, b = g1.raw("GET", p)
    check("path %s gives %d and no file" % (p, st), st in (404, 401, 405) and not b.startswith(b"SQLite") and b"\xff\xd8" != b[:2])
# A NUL cuts the decoded path: what remains is a plain id, answered from the store.
st, h, b = g1.raw("GET", "/api/group/%d%%00/../../case.db" % gid)
check("a NUL in the path reaches no file (%d)" % st, st in (200, 404) and not b.startswith(b"SQLite"))

st, r = g1.post("/api/unblur", {"media": cover})
check("an unblur is accepted", st == 200)
st, w = g1.get("/api/welfare")
check("welfare counts views and unblurs", st == 200 and w["viewed"] >= 1 and w["unblurred"] == 1 and w["mix"].get("C") == 2)

st, _ = g1.post("/api/logout", {})
check("logout", st == 200)
st, _ = g1.get("/api/me")
check("the session is gone after logout", st == 401)
sys.exit(finish())
PY
PYRC=$?
kill $PID; wait $PID 2>/dev/null

audit_has() { sqlite3 "$T/case/case.db" "SELECT count(*) FROM audit WHERE action = '$1'"; }
check "logins are audited" [ "$(audit_has review.login)" -ge 2 ]
check "failed logins are audited" [ "$(audit_has review.login.fail)" -ge 5 ]
check "grades are audited" [ "$(audit_has review.grade)" -eq 2 ]
check "verifications are audited" [ "$(audit_has review.verify)" -eq 1 ]
check "unblurred views are audited" [ "$(audit_has review.unblur)" -eq 1 ]
check "files --json carries grader and verifier" bash -c "'$KESTREL' files '$T/case' --json | grep rose | grep -q '\"grade\":\"verified\",\"grader\":\"g1\",\"verifier\":\"v1\"'"
check "files --json: the verified grade is the category" bash -c "'$KESTREL' files '$T/case' --json | grep rose | grep -q '\"category_code\":\"C\"'"
"$KESTREL" report "$T/case" --format json --out "$T/report.json"
check "the report counts the pending grade as not final" python3 -c "
import json,sys
r=json.load(open('$T/report.json'))
def find(o):
    if isinstance(o,dict):
        if 'grades_not_final' in o: return o['grades_not_final']
        for v in o.values():
            x=find(v)
            if x: return x
    if isinstance(o,list):
        for v in o:
            x=find(v)
            if x: return x
g=find(r); sys.exit(0 if g and g['pending']['pictures']==1 and g['disputed']['pictures']==0 else 1)"
if command -v openssl >/dev/null && command -v curl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj "/CN=localhost" 2>/dev/null
  "$KESTREL" serve "$T/case" --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" >"$T/tls.out" 2>&1 &
  TPID=$!
  for _ in $(seq 50); do grep -qs "listening on" "$T/tls.out" && break; sleep 0.2; done
  TURL=$(grep -o 'https://[^ ]*' "$T/tls.out")
  check "with TLS the server answers HTTPS" bash -c "curl -sk -o /dev/null -w '%{http_code}' '${TURL}login' | grep -q 200"
  check "with TLS the session cookie is Secure" bash -c "curl -sk -i -H 'Content-Type: application/json' -d '{\"name\":\"g1\",\"password\":\"grader-one-pass\"}' '${TURL}api/login' | grep -i '^set-cookie' | grep -q Secure"
  kill $TPID; wait $TPID 2>/dev/null
fi
check "audit verify passes" "$KESTREL" audit verify "$T/case"
sqlite3 "$T/case/case.db" "UPDATE audit SET detail = replace(detail, 'uk:C', 'uk:B') WHERE seq = (SELECT min(seq) FROM audit WHERE action = 'review.grade')"
check "audit verify fails after one byte of the log changed" bash -c "! '$KESTREL' audit verify '$T/case' 2>/dev/null"
[ "$PYRC" -eq 0 ] || bad "API checks (see above)"
finish
