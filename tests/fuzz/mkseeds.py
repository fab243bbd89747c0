#!/usr/bin/python3
"""mkseeds.py - makes the fuzz targets' test keys (tests/fuzz/data/) and
seed corpora (tests/fuzz/corpus/<target>/).  Run once by hand
(/usr/bin/python3 tests/fuzz/mkseeds.py); the output is committed so
`make fuzz` needs no Python.  Keys are made only when missing, so seeds
stay valid against the committed keys.  Timestamps are relative to FZ_NOW
in common.h, the instant every fuzzed request is evaluated at.  Nothing
here is a real secret."""
import base64, datetime, hashlib, hmac, json, os, subprocess, sys
import jwt
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519

NOW = 1800000000
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
CORPUS = os.path.join(HERE, "corpus")


def w(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def seed(target, name, data):
    w(os.path.join(CORPUS, target, name), data)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def pem_priv(k):
    return k.private_bytes(serialization.Encoding.PEM,
                           serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def load_or_make(name, make):
    p = os.path.join(DATA, name)
    if not os.path.exists(p):
        w(p, pem_priv(make()), 0o600)
    return serialization.load_pem_private_key(open(p, "rb").read(), None)


def req(headers, body=None, pseudo=()):
    s = "".join(p + "\n" for p in pseudo)
    s += "".join("%s: %s\n" % h for h in headers)
    if body is not None:
        s += "\n" + body
    return s.encode()


# ---- jwt ---------------------------------------------------------------
rsa_k = load_or_make("jwt-rsa.pem",
                     lambda: rsa.generate_private_key(65537, 2048))
ec_k = load_or_make("jwt-ec.pem", lambda: ec.generate_private_key(ec.SECP256R1()))
ed_k = load_or_make("jwt-ed.pem", ed25519.Ed25519PrivateKey.generate)
HS = b"fuzz-hmac-secret-0123456789abcdef"
w(os.path.join(DATA, "jwt-hs.secret"), HS, 0o600)


def jwk_pub(k, kid):
    from jwcrypto import jwk
    j = json.loads(jwk.JWK.from_pem(
        k.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)).export_public())
    j["kid"] = kid
    return j


jwks = {"keys": [dict(jwk_pub(rsa_k, "rsa1"), use="sig", alg="RS256"),
                 dict(jwk_pub(rsa_k, "rsa-ps"), alg="PS256"),
                 jwk_pub(ec_k, "ec1"), jwk_pub(ed_k, "ed1")]}
w(os.path.join(DATA, "jwt.jwks"), json.dumps(jwks, indent=1))
seed("jwks", "full.json", json.dumps(jwks))
seed("jwks", "rsa.json", json.dumps({"keys": [jwks["keys"][0]]}))
seed("jwks", "ec.json", json.dumps({"keys": [jwks["keys"][2]]}))
seed("jwks", "ed.json", json.dumps({"keys": [jwks["keys"][3]]}))
seed("jwks", "oct.json", json.dumps({"keys": [
    {"kty": "oct", "kid": "hs1", "alg": "HS256", "k": b64u(HS)}]}))
seed("jwks", "x5c.json", json.dumps({"keys": [dict(jwks["keys"][0], x5c=["MIIB"])]}))
seed("jwks", "empty.json", '{"keys": []}')

base = {"iss": "https://issuer.example", "aud": "api", "sub": "alice",
        "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 3600,
        "scope": "read write", "email": "a@example.org", "jti": "j-1",
        "client_id": "cli-1"}


def tok(claims, key, alg, kid, **hdr):
    return jwt.encode(claims, key, algorithm=alg,
                      headers=dict({"kid": kid, "typ": "at+jwt"}, **hdr))


toks = {
    "rs256": tok(base, rsa_k, "RS256", "rsa1"),
    "ps256": tok(base, rsa_k, "PS256", "rsa-ps"),
    "es256": tok(base, ec_k, "ES256", "ec1"),
    "eddsa": tok(base, ed_k, "EdDSA", "ed1"),
    "hs256": tok(base, HS, "HS256", "hs1"),
    "expired": tok(dict(base, exp=NOW - 3600), rsa_k, "RS256", "rsa1"),
    "wrongaud": tok(dict(base, aud=["x", "y"]), rsa_k, "RS256", "rsa1"),
    "noscope": tok(dict(base, scope="other"), ec_k, "ES256", "ec1"),
    "nosub": tok({k: v for k, v in base.items() if k != "sub"}, rsa_k,
                 "RS256", "rsa1"),
    "cnf": tok(dict(base, cnf={"x5t#S256": b64u(b"\0" * 32)}), ec_k,
               "ES256", "ec1"),
}
parts = toks["rs256"].split(".")
toks["none"] = b64u(b'{"alg":"none","typ":"JWT"}') + "." + parts[1] + "."
toks["badsig"] = parts[0] + "." + parts[1] + "." + parts[2][:-4] + "AAAA"
toks["duphdr"] = b64u(b'{"alg":"RS256","alg":"HS256","kid":"rsa1"}') + "." + \
    parts[1] + "." + parts[2]
for name, t in toks.items():
    seed("jwt", name, b"\x00" + req([("Authorization", "Bearer " + t)]))
seed("jwt", "cookie", b"\x01" + req([("Cookie", "a=b; session=" + toks["hs256"])]))
seed("jwt", "query", b"\x01" + req([], pseudo=(":query access_token=" + toks["eddsa"],)))
seed("jwt", "two", b"\x00" + req([("Authorization", "Bearer " + toks["rs256"]),
                                  ("Authorization", "Bearer x")]))
seed("jwt", "basic", b"\x00" + req([("Authorization", "Basic Zm9vOmJhcg==")]))
with open(os.path.join(DATA, "jwt.tokens"), "w") as f:
    for k in ("rs256", "ps256", "es256", "eddsa", "hs256"):
        f.write(toks[k] + "\n")

# ---- hmac ----------------------------------------------------------------
SK = "fuzz-secret-key-0123456789"
w(os.path.join(DATA, "hmac.secrets"), "key1 alice %s\nAKIDEXAMPLE bob %s\n" % (SK, SK), 0o600)
STRIPE = "whsec_stripe_fuzz_secret_0123456789"
w(os.path.join(DATA, "hmac.stripe"), STRIPE + "\n", 0o600)
SW = base64.b64encode(b"standard-webhooks-fuzz-key-32by").decode()
w(os.path.join(DATA, "hmac.stdwh"), "whsec_" + SW + "\n", 0o600)

ts = datetime.datetime.utcfromtimestamp(NOW).strftime("%Y%m%dT%H%M%SZ")
body = '{"amount":100}'
bh = hashlib.sha256(body.encode()).hexdigest()
for i, (m, p, q) in enumerate([("POST", "/v1/charges", "a=1&b=2"),
                               ("GET", "/v1/x", "")]):
    nonce = "nonce-%08d" % i
    pq = p + ("?" + q if q else "")
    msg = "\n".join([m, pq, ts, nonce, bh])
    sig = hmac.new(SK.encode(), msg.encode(), hashlib.sha256).hexdigest()
    seed("hmac", "bast%d" % i, b"\x00" + req(
        [("X-Api-Key", "key1"), ("X-Timestamp", ts), ("X-Nonce", nonce),
         ("X-Body-Hash", bh), ("X-Signature", sig)], body,
        (":method " + m, ":path " + p, ":query " + q)))
# stripe
payload = "%d.%s" % (NOW, body)
sig = hmac.new(STRIPE.encode(), payload.encode(), hashlib.sha256).hexdigest()
seed("hmac", "stripe", b"\x02" + req(
    [("Stripe-Signature", "t=%d,v1=%s,v0=abc" % (NOW, sig))], body,
    (":method POST", ":path /hooks")))
# standard webhooks
mid = "msg_2Lh9"
sig = base64.b64encode(hmac.new(base64.b64decode(SW),
                                ("%s.%d.%s" % (mid, NOW, body)).encode(),
                                hashlib.sha256).digest()).decode()
seed("hmac", "stdwh", b"\x03" + req(
    [("webhook-id", mid), ("webhook-timestamp", str(NOW)),
     ("webhook-signature", "v1,%s v1,%s" % (sig, base64.b64encode(b"x" * 32).decode()))], body,
    (":method POST", ":path /hooks")))
# sigv4 via botocore
try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import unittest.mock as um
    creds = Credentials("AKIDEXAMPLE", SK)
    r = AWSRequest(method="POST", url="https://api.example/v1/items?b=2&a=1",
                   data=body, headers={"Host": "api.example"})
    with um.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = datetime.datetime.utcfromtimestamp(NOW)
        dt.datetime.now.return_value = datetime.datetime.utcfromtimestamp(NOW)
        SigV4Auth(creds, "execute-api", "eu-west-1").add_auth(r)
    seed("hmac", "sigv4", b"\x01" + req(list(r.headers.items()), body,
                                        (":method POST", ":path /v1/items",
                                         ":query b=2&a=1")))
except Exception as e:  # botocore missing: a hand-written shape
    print("sigv4 seed without botocore:", e, file=sys.stderr)
seed("hmac", "sigv4-presigned", b"\x01" + req(
    [("Host", "api.example")], None,
    (":method GET", ":path /v1/items",
     ":query X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"
     + ts[:8] + "%2Feu-west-1%2Fexecute-api%2Faws4_request&X-Amz-Date=" + ts +
     "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "0" * 64)))

# ---- apikey ----------------------------------------------------------------
ALPH = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58_fixed(b, width):
    n = int.from_bytes(b, "big")
    out = ""
    for _ in range(width):
        n, r = divmod(n, 58)
        out = ALPH[r] + out
    return out


import zlib
body58 = b58_fixed(bytes(range(1, 33)), 44)
pre = "bast_" + body58
key = pre + b58_fixed(zlib.crc32(pre.encode()).to_bytes(4, "big"), 6)
w(os.path.join(DATA, "apikey.key"), key + "\n")
seed("apikey", "bearer", b"\x00" + req([("Authorization", "Bearer " + key)]))
seed("apikey", "xapikey", b"\x00" + req([("X-Api-Key", key)]))
seed("apikey", "query", b"\x01" + req([], pseudo=(":query api_key=" + key,)))
seed("apikey", "badcrc", b"\x00" + req([("X-Api-Key", key[:-1] + "1")]))
seed("apikey", "two", b"\x00" + req([("X-Api-Key", key), ("X-Api-Key", key)]))

# ---- mtls ------------------------------------------------------------------
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fuzz")])


ca_k = load_or_make("mtls-ca.key", lambda: ec.generate_private_key(ec.SECP256R1()))
leaf_k = load_or_make("mtls-leaf.key", lambda: ec.generate_private_key(ec.SECP256R1()))
start = datetime.datetime.utcfromtimestamp(NOW - 86400 * 30)
end = datetime.datetime.utcfromtimestamp(NOW + 86400 * 3650)
ca = (x509.CertificateBuilder().subject_name(name("Fuzz CA"))
      .issuer_name(name("Fuzz CA")).public_key(ca_k.public_key())
      .serial_number(1).not_valid_before(start).not_valid_after(end)
      .add_extension(x509.BasicConstraints(ca=True, path_length=1), True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True,
                                   True, False, False), True)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_k.public_key()), False)
      .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_k.public_key()), False)
      .sign(ca_k, hashes.SHA256()))
leaf = (x509.CertificateBuilder().subject_name(name("svc-a"))
        .issuer_name(ca.subject).public_key(leaf_k.public_key())
        .serial_number(2).not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("svc-a.example"),
            x509.UniformResourceIdentifier("spiffe://example.org/svc-a"),
            x509.RFC822Name("svc@example.org")]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_k.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_k.public_key()), False)
        .sign(ca_k, hashes.SHA256()))
pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
w(os.path.join(DATA, "mtls-ca.pem"), pem(ca))
seed("mtls", "leaf", b"\x00" + req([], pem(leaf).decode()))
seed("mtls", "chain", b"\x00" + req([], (pem(leaf) + pem(ca)).decode()))
seed("mtls", "ca-as-leaf", b"\x01" + req([], pem(ca).decode()))
seed("mtls", "leaf-der", b"\x02" + leaf.public_bytes(serialization.Encoding.DER))
seed("mtls", "leaf-der-san", b"\x03" + leaf.public_bytes(serialization.Encoding.DER))

# ---- basic -----------------------------------------------------------------
h = subprocess.run(["mkpasswd", "-m", "sha-512", "-R", "1000", "-S",
                    "fuzzsaltfuzzsalt", "s3cret"], capture_output=True,
                   text=True).stdout.strip()
w(os.path.join(DATA, "basic.users"), "client-a:%s\napp:1%%+:%s\n" % (h, h), 0o600)
for n, cred in [("ok", "client-a:s3cret"), ("bad", "client-a:nope"),
                ("encoded", "app%3A1%25%2B:s3cret"), ("nocolon", "client-a"),
                ("utf8", "m\u00fcller:gr\u00fc\u00dfe")]:
    seed("basic", n, b"\x00" + req([("Authorization", "Basic " +
                                     base64.b64encode(cred.encode()).decode())]))
seed("basic", "notls", b"\x01" + req([("Authorization", "Basic Y2xpZW50LWE6czNjcmV0")],
                                     pseudo=(":notls",)))
print("seeds written under", CORPUS)
