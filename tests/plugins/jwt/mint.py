#!/usr/bin/python3
"""Token factory for the jwt plugin's tests, built on independent
implementations (Debian's python3-jwt = PyJWT and python3-jwcrypto).

  mint.py keys DIR [PFX]   keys for every algorithm: DIR/jwks.json (public),
                           DIR/<kid>.pem (private), DIR/<kid>.pub.pem,
                           DIR/hs.key (HMAC secret, 64 chars)
  mint.py batch DIR        JSON specs on stdin, one per line; prints
                           "name token" lines.  Spec kinds:
    {"name", "lib": "pyjwt"|"jwcrypto", "alg", "kid", "claims", "header"}
    {"name", "kind": "raw", "alg", "kid", "header_text", "payload_text"}
    {"name", "kind": "confuse", "claims"}   HS256 keyed with the RSA public PEM
    {"name", "kind": "none", "alg": "none"|"None"|..., "claims"}
    {"name", "kind": "noncanon"|"strip"|"tamper", "of": earlier name}
  mint.py thumb CERT.pem   the RFC 8705 x5t#S256 of a certificate
"""
import base64
import hashlib
import hmac
import json
import os
import sys

import jwt as pyjwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from jwcrypto import jwk, jwt as jcjwt

KIDS = {"rsa": ("RSA", 2048), "ec256": ("EC", "P-256"), "ec384": ("EC", "P-384"),
        "ec521": ("EC", "P-521"), "ed": ("OKP", "Ed25519")}
ALG_KID = {"RS256": "rsa", "RS384": "rsa", "RS512": "rsa", "PS256": "rsa",
           "PS384": "rsa", "PS512": "rsa", "ES256": "ec256", "ES384": "ec384",
           "ES512": "ec521", "EdDSA": "ed", "HS256": "hs", "HS384": "hs",
           "HS512": "hs"}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def keys(d, prefix=""):
    os.makedirs(d, exist_ok=True)
    pub = []
    for kid, (kty, param) in KIDS.items():
        if kty == "RSA":
            k = jwk.JWK.generate(kty=kty, size=param, kid=prefix + kid)
        else:
            k = jwk.JWK.generate(kty=kty, crv=param, kid=prefix + kid)
        with open(os.path.join(d, kid + ".pem"), "wb") as f:
            f.write(k.export_to_pem(private_key=True, password=None))
        with open(os.path.join(d, kid + ".pub.pem"), "wb") as f:
            f.write(k.export_to_pem())
        pub.append(json.loads(k.export_public()))
    secret = b64(os.urandom(48))  # 64 printable characters
    with open(os.path.join(d, "hs.key"), "w") as f:
        f.write(secret)
    os.chmod(os.path.join(d, "hs.key"), 0o600)
    pub.append({"kty": "oct", "kid": prefix + "hs", "k": b64(secret.encode())})
    with open(os.path.join(d, "jwks.json"), "w") as f:
        json.dump({"keys": pub}, f)


def private(d, kid):
    if kid == "hs":
        return open(os.path.join(d, "hs.key")).read().encode()
    return open(os.path.join(d, kid + ".pem"), "rb").read()


def sign_raw(d, alg, kid, signing_input):
    key = private(d, kid)
    if alg.startswith("HS"):
        h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
             "HS512": hashlib.sha512}[alg]
        return hmac.new(key, signing_input, h).digest()
    k = serialization.load_pem_private_key(key, None)
    if alg == "EdDSA":
        return k.sign(signing_input)
    h = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    if alg.startswith("RS"):
        return k.sign(signing_input, padding.PKCS1v15(), h)
    if alg.startswith("PS"):
        return k.sign(signing_input, padding.PSS(padding.MGF1(h), h.digest_size), h)
    r, s = utils.decode_dss_signature(k.sign(signing_input, ec.ECDSA(h)))
    n = (k.curve.key_size + 7) // 8
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def one(d, spec, made):
    kind = spec.get("kind", "lib")
    alg = spec.get("alg", "RS256")
    kid = spec.get("kid", ALG_KID.get(alg))
    claims = spec.get("claims", {})
    if kind == "lib":
        header = dict(spec.get("header", {}))
        if kid:
            header["kid"] = spec.get("kid_prefix", "") + kid
        if spec["lib"] == "pyjwt":
            return pyjwt.encode(claims, private(d, ALG_KID[alg]), algorithm=alg,
                                headers=header)
        if ALG_KID[alg] == "hs":
            key = jwk.JWK(kty="oct", k=b64(private(d, "hs")))
        else:
            key = jwk.JWK.from_pem(private(d, ALG_KID[alg]))
        header["alg"] = alg
        t = jcjwt.JWT(header=header, claims=claims)
        t.make_signed_token(key)
        return t.serialize()
    if kind == "raw":
        si = (b64(spec["header_text"].encode()) + "." +
              b64(spec["payload_text"].encode())).encode()
        return si.decode() + "." + b64(sign_raw(d, alg, ALG_KID[alg], si))
    if kind == "confuse":
        secret = open(os.path.join(d, "rsa.pub.pem"), "rb").read()
        si = (b64(json.dumps({"alg": "HS256", "kid": "rsa"}).encode()) + "." +
              b64(json.dumps(claims).encode())).encode()
        return si.decode() + "." + b64(hmac.new(secret, si, hashlib.sha256).digest())
    if kind == "none":
        return (b64(json.dumps({"alg": alg}).encode()) + "." +
                b64(json.dumps(claims).encode()) + ".")
    base = made[spec["of"]]
    h, p, s = base.split(".")
    if kind == "strip":
        return h + "." + p + "."
    if kind == "tamper":
        c = json.loads(unb64(p))
        c.update(spec.get("claims", {"sub": "mallory"}))
        return h + "." + b64(json.dumps(c).encode()) + "." + s
    if kind == "noncanon":
        # same bytes, one of the unused low bits of a last character set
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        parts = [h, p, s]
        for j in (2, 1, 0):
            seg = parts[j]
            if len(seg) % 4 in (2, 3):
                seg2 = seg[:-1] + alphabet[alphabet.index(seg[-1]) | 1]
                if seg2 != seg:
                    assert unb64(seg2) == unb64(seg)
                    parts[j] = seg2
                    return ".".join(parts)
        raise SystemExit("no segment with pad bits")
    raise SystemExit("unknown kind " + kind)


def main():
    if sys.argv[1] == "keys":
        keys(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    elif sys.argv[1] == "batch":
        made = {}
        for line in sys.stdin:
            if not line.strip():
                continue
            spec = json.loads(line)
            made[spec["name"]] = one(sys.argv[2], spec, made)
            print(spec["name"], made[spec["name"]])
    elif sys.argv[1] == "thumb":
        cert = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
        print(b64(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()))


main()
