#!/usr/bin/env bash
# jwt: the attack set of issue 3 must fail with the right result:
# alg none/None, HS256 keyed with the RSA public key (key confusion),
# stripped signature, tampered payload, expired, nbf ahead, iat far ahead,
# wrong aud/iss, unknown kid, kid with path characters, unknown crit,
# oversized token, duplicate alg, non-canonical base64url, exp as a string,
# plus a few more (JWE-shaped, empty sub, exp far beyond max_lifetime).
. "$TOP/tests/lib.sh"
J=$TOP/tests/plugins/jwt
$PY "$J/mint.py" keys "$T/k"
mkconf "$T/c"
# the asymmetric keys only: HS256 is allowed but no HMAC key exists
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); d["keys"]=[k for k in d["keys"] if k["kty"]!="oct"]; json.dump(d,open(sys.argv[2],"w"))' "$T/k/jwks.json" "$T/c/keys.jwks"
cp "$T/k/rsa.pub.pem" "$T/c/"
cat >"$T/c/conf.d/api.conf" <<'CONF'
[app]
realm = api

[bearer]
plugin = jwt
control = required
jwks_file = keys.jwks
algorithms = RS256 ES256 EdDSA HS256
issuer = https://idp.example
audience = api-1 api-2
max_lifetime = 1h
CONF
# the same RSA key as a PEM, allowing HS256 too: the classic confusion setup
cat >"$T/c/conf.d/pem.conf" <<'CONF'
[app]
realm = pem

[bearer]
plugin = jwt
control = required
public_key = rsa.pub.pem
algorithms = RS256 HS256
CONF
now=$(date +%s)
good="\"iss\": \"https://idp.example\", \"aud\": \"api-2\", \"sub\": \"alice\", \"iat\": $now, \"exp\": $((now + 600))"
big=$(head -c 9000 /dev/zero | tr '\0' x)
$PY "$J/mint.py" batch "$T/k" >"$T/tokens" <<EOF
{"name": "good", "lib": "pyjwt", "alg": "RS256", "claims": {$good}}
{"name": "good-aud-list", "lib": "jwcrypto", "alg": "ES256", "claims": {$good, "aud": ["other", "api-1"]}}
{"name": "none", "kind": "none", "alg": "none", "claims": {$good}}
{"name": "None", "kind": "none", "alg": "None", "claims": {$good}}
{"name": "NONE", "kind": "none", "alg": "NONE", "claims": {$good}}
{"name": "confuse", "kind": "confuse", "claims": {$good}}
{"name": "strip", "kind": "strip", "of": "good"}
{"name": "tamper", "kind": "tamper", "of": "good", "claims": {"sub": "admin"}}
{"name": "expired", "lib": "pyjwt", "alg": "RS256", "claims": {"iss": "https://idp.example", "aud": "api-1", "sub": "alice", "iat": $((now - 1000)), "exp": $((now - 100))}}
{"name": "nbf-ahead", "lib": "pyjwt", "alg": "RS256", "claims": {$good, "nbf": $((now + 300))}}
{"name": "iat-ahead", "lib": "pyjwt", "alg": "RS256", "claims": {"iss": "https://idp.example", "aud": "api-1", "sub": "alice", "iat": $((now + 3000)), "exp": $((now + 3300))}}
{"name": "wrong-aud", "lib": "pyjwt", "alg": "RS256", "claims": {$good, "aud": "api-3"}}
{"name": "no-aud", "lib": "pyjwt", "alg": "RS256", "claims": {"iss": "https://idp.example", "sub": "alice", "exp": $((now + 600))}}
{"name": "wrong-iss", "lib": "pyjwt", "alg": "RS256", "claims": {$good, "iss": "https://evil.example"}}
{"name": "unknown-kid", "lib": "pyjwt", "alg": "RS256", "kid": "nope", "claims": {$good}}
{"name": "path-kid", "lib": "pyjwt", "alg": "RS256", "kid": "../../../../etc/passwd", "claims": {$good}}
{"name": "null-kid", "lib": "pyjwt", "alg": "RS256", "kid": "/dev/null", "claims": {$good}}
{"name": "crit", "lib": "pyjwt", "alg": "RS256", "header": {"crit": ["exp-ext"], "exp-ext": 1}, "claims": {$good}}
{"name": "oversized", "lib": "pyjwt", "alg": "RS256", "claims": {$good, "pad": "$big"}}
{"name": "dup-alg", "kind": "raw", "alg": "RS256", "header_text": "{\"alg\":\"HS256\",\"kid\":\"rsa\",\"alg\":\"RS256\"}", "payload_text": "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"aud\":\"api-1\",\"exp\":$((now + 600))}"}
{"name": "dup-sub", "kind": "raw", "alg": "RS256", "header_text": "{\"alg\":\"RS256\",\"kid\":\"rsa\"}", "payload_text": "{\"sub\":\"alice\",\"sub\":\"admin\",\"iss\":\"https://idp.example\",\"aud\":\"api-1\",\"exp\":$((now + 600))}"}
{"name": "noncanon", "kind": "noncanon", "of": "good"}
{"name": "exp-string", "lib": "pyjwt", "alg": "RS256", "claims": {"iss": "https://idp.example", "aud": "api-1", "sub": "alice", "exp": "$((now + 600))"}}
{"name": "no-exp", "lib": "pyjwt", "alg": "RS256", "claims": {"iss": "https://idp.example", "aud": "api-1", "sub": "alice"}}
{"name": "long-life", "lib": "pyjwt", "alg": "RS256", "claims": {$good, "exp": $((now + 86400))}}
{"name": "no-sub", "lib": "pyjwt", "alg": "RS256", "claims": {"iss": "https://idp.example", "aud": "api-1", "exp": $((now + 600))}}
{"name": "empty-sub", "lib": "pyjwt", "alg": "RS256", "claims": {$good, "sub": ""}}
{"name": "deep", "kind": "raw", "alg": "RS256", "header_text": "{\"alg\":\"RS256\",\"kid\":\"rsa\"}", "payload_text": "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"aud\":\"api-1\",\"exp\":$((now + 600)),\"x\":[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]}"}
{"name": "payload-array", "kind": "raw", "alg": "RS256", "header_text": "{\"alg\":\"RS256\",\"kid\":\"rsa\"}", "payload_text": "[1,2,3]"}
{"name": "hs-nokey", "lib": "pyjwt", "alg": "HS256", "claims": {$good}}
{"name": "ed-as-es", "kind": "raw", "alg": "EdDSA", "header_text": "{\"alg\":\"ES256\",\"kid\":\"ed\"}", "payload_text": "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"aud\":\"api-1\",\"exp\":$((now + 600))}"}
EOF
check_eq "attack tokens minted" 31 "$(wc -l <"$T/tokens")"
# a JWE-shaped token (five segments) and garbage
echo "jwe eyJhbGciOiJSU0EtT0FFUCJ9.AAAA.AAAA.AAAA.AAAA" >>"$T/tokens"
echo "garbage not-a-jwt" >>"$T/tokens"

inv='"result": "deny", "error": "invalid_token", "status": 401, "challenge": "error=\"invalid_token\""'
$PY "$J/table.py" "$BAST" api "$T/c" "$T/tokens" <<EOF
{"name": "control: a good RS256 token verifies", "token": "good", "expect": {"result": "success", "identity": "alice"}}
{"name": "control: aud as a list, any-of", "token": "good-aud-list", "expect": {"result": "success", "identity": "alice"}}
{"name": "alg none", "token": "none", "expect": {$inv}}
{"name": "alg None", "token": "None", "expect": {$inv}}
{"name": "alg NONE", "token": "NONE", "expect": {$inv}}
{"name": "HS256 keyed with the RSA public key (JWKS)", "token": "confuse", "expect": {"result": "deny"}}
{"name": "stripped signature", "token": "strip", "expect": {$inv}}
{"name": "tampered payload", "token": "tamper", "expect": {$inv}}
{"name": "expired", "token": "expired", "expect": {"result": "deny", "error": "token_expired", "status": 401, "challenge": "error=\"invalid_token\""}}
{"name": "nbf ahead", "token": "nbf-ahead", "expect": {$inv}}
{"name": "iat far ahead", "token": "iat-ahead", "expect": {$inv}}
{"name": "wrong aud", "token": "wrong-aud", "expect": {$inv}}
{"name": "no aud when an audience is configured", "token": "no-aud", "expect": {$inv}}
{"name": "wrong iss", "token": "wrong-iss", "expect": {$inv}}
{"name": "unknown kid", "token": "unknown-kid", "expect": {"result": "deny", "error": "unknown_key", "challenge": "error=\"invalid_token\""}}
{"name": "kid with path characters", "token": "path-kid", "expect": {"result": "deny", "error": "unknown_key"}}
{"name": "kid /dev/null", "token": "null-kid", "expect": {"result": "deny", "error": "unknown_key"}}
{"name": "unknown crit", "token": "crit", "expect": {$inv}}
{"name": "oversized token (over 8 KiB)", "token": "oversized", "expect": {$inv}}
{"name": "duplicate alg in the header", "token": "dup-alg", "expect": {$inv}}
{"name": "duplicate sub in the claims", "token": "dup-sub", "expect": {$inv}}
{"name": "non-canonical base64url", "token": "noncanon", "expect": {$inv}}
{"name": "exp as a string", "token": "exp-string", "expect": {$inv}}
{"name": "no exp", "token": "no-exp", "expect": {$inv}}
{"name": "lifetime over max_lifetime", "token": "long-life", "expect": {$inv}}
{"name": "no sub", "token": "no-sub", "expect": {$inv}}
{"name": "empty sub", "token": "empty-sub", "expect": {$inv}}
{"name": "claims nested too deep", "token": "deep", "expect": {$inv}}
{"name": "claims not an object", "token": "payload-array", "expect": {$inv}}
{"name": "HS256 with no HMAC key configured", "token": "hs-nokey", "expect": {"result": "deny"}}
{"name": "Ed25519 signature under alg ES256", "token": "ed-as-es", "expect": {"result": "deny"}}
{"name": "JWE-shaped token", "token": "jwe", "expect": {$inv}}
{"name": "garbage", "token": "garbage", "expect": {$inv}}
EOF
$PY "$J/table.py" "$BAST" pem "$T/c" "$T/tokens" <<EOF
{"name": "PEM: control RS256 verifies", "token": "good", "expect": {"result": "success", "identity": "alice"}}
{"name": "PEM: HS256 keyed with the RSA public key is denied", "token": "confuse", "expect": {$inv}}
EOF
