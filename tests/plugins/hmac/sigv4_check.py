"""Drive `bast verify` for the aws-sigv4 profile (run by hmac_sigv4.test.sh).

Part 1: the cases of AWS's published Signature Version 4 test suite
(credentials AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service"):
each request must verify with its published signature.
Part 2: requests signed by Debian's python3-botocore (SigV4Auth, S3SigV4Auth,
SigV4QueryAuth, S3SigV4QueryAuth) over real bodies verify, and any change
to method, path, query, a signed header, the date or the body is denied.
Prints ok/not ok lines.
"""
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

BAST = os.environ["BAST"]
CONF = sys.argv[1]
failed = 0


def report(good, what, detail=""):
    global failed
    print(("ok - " if good else "not ok - ") + what + ("" if good else " " + detail))
    failed += not good


def verify(app, req, now=None):
    args = [BAST, "verify", "--app", app, "--confdir", CONF, "--request", "-"]
    if now is not None:
        args += ["--now", str(now)]
    p = subprocess.run(args, input=json.dumps(req).encode(), capture_output=True)
    try:
        return json.loads(p.stdout.decode().splitlines()[0])
    except (IndexError, ValueError):
        return {"decision": "error", "stderr": p.stderr.decode()}


def expect(what, res, decision, error=None, identity=None):
    got = (res.get("decision"), res.get("error"), res.get("identity"))
    report(got == (decision, error, identity), what,
           "(expected %s, got %s)" % ((decision, error, identity), got))


# ---- part 1: the published suite -------------------------------------------
SUITE_NOW = 1440938160  # 20150830T123600Z
TOKEN = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
STS = ("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKW"
       "HGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1"
       "NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHN"
       "VXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9F"
       "X9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==")
UNRES = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# name, method, path, query, extra headers, body, signature
SUITE = [
    ("get-vanilla", "GET", "/", "", [], "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("get-vanilla-empty-query-key", "GET", "/", "Param1=value1", [], "", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
    ("get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", [], "", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ("get-vanilla-query-order-key", "GET", "/", "Param1=value2&Param1=Value1", [], "", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
    ("get-vanilla-query-order-value", "GET", "/", "Param1=value2&Param1=value1", [], "", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
    ("get-vanilla-query-order-encoded", "GET", "/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", [], "", "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"),
    ("get-vanilla-query-unreserved", "GET", "/", UNRES + "=" + UNRES, [], "", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    ("get-vanilla-utf8-query", "GET", "/", "\u1234=bar", [], "", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    ("get-vanilla-with-session-token", "GET", "/", "", [("X-Amz-Security-Token", TOKEN)], "", "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
    ("get-unreserved", "GET", "/" + UNRES, "", [], "", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
    ("get-utf8", "GET", "/\u1234", "", [], "", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    ("get-header-key-duplicate", "GET", "/", "", [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")], "", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
    ("get-header-value-multiline", "GET", "/", "", [("My-Header1", "value1   value2      value3")], "", "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd"),
    ("get-header-value-order", "GET", "/", "", [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")], "", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
    ("get-header-value-trim", "GET", "/", "", [("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')], "", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    ("post-vanilla", "POST", "/", "", [], "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ("post-vanilla-query", "POST", "/", "Param1=value1", [], "", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    ("post-header-key-sort", "POST", "/", "", [("My-Header1", "value1")], "", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
    ("post-header-value-case", "POST", "/", "", [("My-Header1", "VALUE1")], "", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
    ("post-x-www-form-urlencoded", "POST", "/", "", [("Content-Type", "application/x-www-form-urlencoded")], "Param1=value1", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    ("post-x-www-form-urlencoded-parameters", "POST", "/", "", [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], "Param1=value1", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
    ("post-sts-header-before", "POST", "/", "", [("X-Amz-Security-Token", STS)], "", "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
    ("normalize-path/get-relative", "GET", "/example/..", "", [], "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("normalize-path/get-relative-relative", "GET", "/example1/example2/../..", "", [], "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("normalize-path/get-slash", "GET", "//", "", [], "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("normalize-path/get-slash-dot-slash", "GET", "/./", "", [], "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("normalize-path/get-slash-pointless-dot", "GET", "/./example", "", [], "", "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
    ("normalize-path/get-slashes", "GET", "//example//", "", [], "", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
    ("normalize-path/get-space", "GET", "/example space/", "", [], "", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    ("get-special-character", "GET", "/example/$delete", "", [], "", "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27"),
]


def suite_request(method, path, query, extra, body, sig):
    headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")] + extra
    names = sorted({n.lower() for n, _ in headers})
    auth = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
            "aws4_request, SignedHeaders=%s, Signature=%s" % (";".join(names), sig))
    return {"method": method, "path": path, "query": query, "body": body,
            "headers": [list(h) for h in headers] + [["Authorization", auth]]}


for name, method, path, query, extra, body, sig in SUITE:
    res = verify("suite", suite_request(method, path, query, extra, body, sig), SUITE_NOW)
    expect("suite vector " + name, res, "allow", None, "aws-example")

# the vectors turned into attacks
base = SUITE[19]  # post-x-www-form-urlencoded
r = suite_request(*base[1:])
expect("suite: published request as is", verify("suite", r, SUITE_NOW), "allow", None, "aws-example")
for what, change in [
        ("method", lambda q: q.update(method="PUT")),
        ("path", lambda q: q.update(path="/other")),
        ("query", lambda q: q.update(query="x=1")),
        ("body", lambda q: q.update(body="Param1=value2")),
        ("signed header", lambda q: q["headers"].__setitem__(2, ["Content-Type", "text/plain"])),
        ("host", lambda q: q["headers"].__setitem__(0, ["Host", "evil.example.com"]))]:
    q = json.loads(json.dumps(r))
    change(q)
    expect("suite: changed " + what, verify("suite", q, SUITE_NOW), "deny", "invalid_signature")
q = json.loads(json.dumps(r))
q["headers"].insert(3, ["X-Unsigned", "anything"])
expect("suite: an unsigned header may be added", verify("suite", q, SUITE_NOW), "allow", None, "aws-example")
expect("suite: 301 s later is stale", verify("suite", r, SUITE_NOW + 301), "deny", "stale_timestamp")
expect("suite: 301 s earlier is stale", verify("suite", r, SUITE_NOW - 301), "deny", "stale_timestamp")
expect("suite: other region configured", verify("eu", r, SUITE_NOW), "deny", "invalid_scope")
r2 = json.loads(json.dumps(r))
r2["headers"][-1][1] = r2["headers"][-1][1].replace("AKIDEXAMPLE", "AKIDOTHER")
expect("suite: unknown access key", verify("suite", r2, SUITE_NOW), "deny", "unknown_key")
for what, auth in [
        ("no Signature", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date"),
        ("bad credential", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64),
        ("short signature", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"),
        ("date differs from X-Amz-Date", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64),
        ("unsorted SignedHeaders", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + "0" * 64),
        ("host not signed", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=x-amz-date, Signature=" + "0" * 64),
        ("signed header missing", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-missing, Signature=" + "0" * 64)]:
    q = json.loads(json.dumps(r))
    q["headers"][-1][1] = auth
    expect("suite: malformed, " + what, verify("suite", q, SUITE_NOW), "deny", "invalid_request")
q = json.loads(json.dumps(r))
q["headers"].append(q["headers"][-1])
expect("suite: two Authorization headers", verify("suite", q, SUITE_NOW), "deny", "invalid_request")
q = json.loads(json.dumps(r))
q["headers"] = [h for h in q["headers"] if h[0] != "Authorization"]
res = verify("suite", q, SUITE_NOW)
report(res.get("trace", [{}])[0].get("result") == "absent", "suite: no signature is absent", str(res))
q["headers"].append(["Authorization", "Bearer abc"])
res = verify("suite", q, SUITE_NOW)
report(res.get("trace", [{}])[0].get("result") == "absent", "suite: another scheme's Authorization is absent", str(res))
stream = json.dumps(r) + "\n" + json.dumps(r) + "\n"
p = subprocess.run([BAST, "verify", "--app", "suite", "--confdir", CONF, "--request", "-", "--now", str(SUITE_NOW)],
                   input=stream.encode(), capture_output=True)
lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
expect("suite: replayed in one context", lines[1] if len(lines) > 1 else {}, "deny", "replay")

# ---- part 2: botocore --------------------------------------------------------
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

CREDS = Credentials("AKIDBOTOCORE0001", "botocore-secret/KEY+0123456789abcdefABCDEF")


def to_bast(req, body=None):
    parts = urlsplit(req.url)
    headers = [["Host", parts.netloc]] + [[k, v] for k, v in req.headers.items()]
    out = {"method": req.method, "path": parts.path, "query": parts.query, "headers": headers}
    b = req.body if body is None else body
    if b is not None:
        out["body_base64"] = __import__("base64").b64encode(b if isinstance(b, bytes) else b.encode()).decode()
    return out


def boto(signer, method, url, body, headers=None):
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    signer.add_auth(req)
    return req.prepare() if False else req


BODY = b'{"order": 42, "items": ["caf\xc3\xa9", "t\xc3\xa9"]}'
URL = "http://api.example.test/v1/orders/a%20b/caf%C3%A9?expand=items&filter=x%2Fy&empty="
req = boto(SigV4Auth(CREDS, "execute-api", "eu-west-1"), "POST", URL, BODY,
           {"Content-Type": "application/json", "X-Trace": "t  1"})
good = to_bast(req)
expect("botocore SigV4Auth POST with a body", verify("boto", good), "allow", None, "boto-user")
res = verify("boto", good)
report(res.get("attributes", {}).get("region") == "eu-west-1" and
       res.get("attributes", {}).get("service") == "execute-api", "botocore: region and service attributes", str(res))
for what, change in [
        ("method", lambda q: q.update(method="PUT")),
        ("path", lambda q: q.update(path="/v1/orders/a%20b/cafe")),
        ("path encoding", lambda q: q.update(path="/v1/orders/a b/caf%C3%A9")),
        ("query value", lambda q: q.update(query="expand=items&filter=x%2Fz&empty=")),
        ("query dropped", lambda q: q.update(query="")),
        ("query added", lambda q: q.update(query=q["query"] + "&admin=1")),
        ("body", lambda q: q.update(body_base64=__import__("base64").b64encode(BODY.replace(b"42", b"43")).decode())),
        ("signed header", lambda q: [h.__setitem__(1, "text/plain") for h in q["headers"] if h[0] == "Content-Type"]),
        ("X-Amz-Date", lambda q: [h.__setitem__(1, h[1][:-3] + "00Z" if not h[1].endswith("00Z") else h[1][:-3] + "01Z") for h in q["headers"] if h[0] == "X-Amz-Date"])]:
    q = json.loads(json.dumps(good))
    change(q)
    expect("botocore: changed " + what, verify("boto", q), "deny", "invalid_signature")
q = json.loads(json.dumps(good))
del q["body_base64"]
expect("botocore: body not seen by the server", verify("boto", q), "deny", "body_unavailable")

req = boto(SigV4Auth(CREDS, "execute-api", "eu-west-1"), "GET",
           "http://api.example.test/v1/./orders//list/../items?b=2&a=1&a=0", b"")
expect("botocore SigV4Auth GET with dot segments and repeated keys", verify("boto", to_bast(req)), "allow", None, "boto-user")

req = boto(S3SigV4Auth(CREDS, "s3", "eu-west-1"), "PUT", "http://bucket.s3.example.test/dir/file.txt", BODY)
s3 = to_bast(req)
expect("botocore S3SigV4Auth with x-amz-content-sha256", verify("boto", s3), "allow", None, "boto-user")
q = json.loads(json.dumps(s3))
q["body_base64"] = __import__("base64").b64encode(b"other").decode()
expect("botocore S3: other body, same declared hash", verify("boto", q), "deny", "body_hash_mismatch")
q = json.loads(json.dumps(s3))
del q["body_base64"]
expect("botocore S3: no body, declared hash not trusted", verify("boto", q), "deny", "body_unavailable")
res = verify("trust", q)
expect("botocore S3: no body, declared hash trusted", res, "allow", None, "boto-user")
report(len(res.get("attributes", {}).get("declared_body_hash", "")) == 64, "declared hash handed upstream", str(res))

for cls, label in [(SigV4QueryAuth, "SigV4QueryAuth"), (S3SigV4QueryAuth, "S3SigV4QueryAuth")]:
    req = boto(cls(CREDS, "s3" if "S3" in label else "execute-api", "eu-west-1", expires=60), "GET",
               "http://api.example.test/v1/files/report.pdf?version=3", None)
    pre = to_bast(req)
    pre.pop("body_base64", None)
    expect("botocore %s presigned GET" % label, verify("boto", pre), "allow", None, "boto-user")
    expect("%s: used again (presigned URLs are reusable)" % label, verify("boto", pre), "allow", None, "boto-user")
    q = json.loads(json.dumps(pre))
    q["path"] = "/v1/files/other.pdf"
    expect("%s: other path" % label, verify("boto", q), "deny", "invalid_signature")
    q = json.loads(json.dumps(pre))
    q["query"] = q["query"].replace("version=3", "version=4")
    expect("%s: other query parameter" % label, verify("boto", q), "deny", "invalid_signature")
    q = json.loads(json.dumps(pre))
    q["query"] = q["query"].replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    expect("%s: longer expiry" % label, verify("boto", q), "deny", "invalid_signature")
    import time
    expect("%s: after X-Amz-Expires" % label, verify("boto", pre, int(time.time()) + 120), "deny", "expired")
    q = json.loads(json.dumps(pre))
    q["headers"].append(["Authorization", "AWS4-HMAC-SHA256 Credential=x"])
    expect("%s: plus an Authorization header" % label, verify("boto", q), "deny", "invalid_request")

sys.exit(1 if failed else 0)
