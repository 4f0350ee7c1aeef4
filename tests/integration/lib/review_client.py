"""A small client for the review server's HTTP API, used by the review_* integration
tests: one cookie-holding session per officer, raw paths sent exactly as written
(no normalisation), and a pass/fail tally printed as 'N passed, N failed'."""
import http.client
import json
import urllib.parse

PASS = 0
FAIL = 0


def check(desc, cond):
    global PASS, FAIL
    if cond:
        PASS += 1
        print("ok:", desc)
    else:
        FAIL += 1
        print("FAIL:", desc)
    return cond


def finish():
    print("%d passed, %d failed" % (PASS, FAIL))
    return 0 if FAIL == 0 and PASS > 0 else 1


class Session:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.cookie = None
        self.csrf = None

    def raw(self, method, path, body=None, headers=None):
        """Sends the request with path exactly as given; returns (status, headers, bytes)."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if self.cookie and "Cookie" not in h:
            h["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        if data is not None:
            c.putheader("Content-Length", str(len(data)))
        c.endheaders()
        if data is not None:
            c.send(data)
        r = c.getresponse()
        out = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, out

    def get(self, path):
        st, h, b = self.raw("GET", path)
        try:
            return st, json.loads(b.decode())
        except ValueError:
            return st, None

    def post(self, path, obj, csrf=True, ctype="application/json", extra=None):
        h = {"Content-Type": ctype}
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(extra or {})
        st, hd, b = self.raw("POST", path, obj, h)
        try:
            return st, json.loads(b.decode())
        except ValueError:
            return st, None

    def login(self, name, password):
        st, h, b = self.raw("POST", "/api/login", {"name": name, "password": password},
                            {"Content-Type": "application/json"})
        if st == 200:
            self.cookie = h["set-cookie"].split(";")[0]
            self.csrf = json.loads(b.decode())["csrf"]
        return st, h
