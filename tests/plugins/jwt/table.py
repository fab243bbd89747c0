#!/usr/bin/python3
"""Table-driven checks for the jwt plugin's tests.  Reads cases (one JSON
object per line) on stdin, turns each into a request, runs them all through
one `bast verify --request FILE` (one context, in order) and prints an
"ok - ..." / "not ok - ..." line per case.

  table.py BAST APP CONFDIR TOKENS [--now EPOCH]

A case: {"name", "token": name in TOKENS (sent as Authorization: Bearer),
         "raw": a literal token instead, "headers": [[n, v], ...] instead,
         "query", "cert": PEM file, "expect": {"result", "error",
         "identity", "status", "challenge" (substring), "scopes",
         "attributes" (subset)}}
"""
import json
import subprocess
import sys
import tempfile

bast, app, confdir, tokfile = sys.argv[1:5]
extra = sys.argv[5:]
tokens = {}
for line in open(tokfile):
    if line.strip():
        name, tok = line.split(None, 1)
        tokens[name] = tok.strip()

cases = [json.loads(l) for l in sys.stdin if l.strip()]
reqs = []
for c in cases:
    r = {"method": c.get("method", "GET"), "path": c.get("path", "/v1/x")}
    if "headers" in c:
        r["headers"] = [[n, v.replace("@TOKEN@", tokens.get(c.get("token"), ""))]
                        for n, v in c["headers"]]
    else:
        tok = c["raw"] if "raw" in c else tokens[c["token"]]
        r["headers"] = [["Authorization", "Bearer " + tok]]
    if "query" in c:
        r["query"] = c["query"].replace("@TOKEN@", tokens.get(c.get("token"), ""))
    if "cert" in c:
        r["peer_cert_pem"] = open(c["cert"]).read()
    reqs.append(r)

with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    for r in reqs:
        f.write(json.dumps(r) + "\n")
    reqfile = f.name
p = subprocess.run([bast, "verify", "--app", app, "--confdir", confdir,
                    "--request", reqfile] + extra, capture_output=True, text=True)
outs = [l for l in p.stdout.splitlines() if l.strip()]
if len(outs) != len(cases):
    print("not ok - %d results for %d requests (rc %d): %s" %
          (len(outs), len(cases), p.returncode, p.stderr.strip()[:300]))
    sys.exit(0)

for c, o in zip(cases, outs):
    res = json.loads(o)
    tr = res["trace"][-1] if res.get("trace") else {}
    got = {"result": tr.get("result"), "error": res.get("error"),
           "identity": res.get("identity"), "status": res.get("status"),
           "scopes": (res.get("attributes") or {}).get("scopes")}
    bad = []
    for k, want in c["expect"].items():
        if k == "challenge":
            if not any(want in ch for ch in res.get("challenges", [])):
                bad.append("challenge %r not in %r" % (want, res.get("challenges")))
        elif k == "attributes":
            attrs = res.get("attributes") or {}
            for ak, av in want.items():
                if attrs.get(ak) != av:
                    bad.append("attribute %s: want %r got %r" % (ak, av, attrs.get(ak)))
        elif got.get(k) != want:
            bad.append("%s: want %r got %r" % (k, want, got.get(k)))
    # a denied request must never carry an identity, an allowed one must
    if res.get("decision") == "allow" and not res.get("identity"):
        bad.append("allowed without identity")
    if res.get("decision") != "allow" and res.get("identity"):
        bad.append("identity on a denial")
    if bad:
        print("not ok - %s: %s (%s)" % (c["name"], "; ".join(bad),
                                         res.get("error_description")))
    else:
        print("ok - %s" % c["name"])
