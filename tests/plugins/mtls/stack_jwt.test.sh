#!/usr/bin/env bash
# A stack `sufficient mtls` + `required jwt` with require_cnf: internal
# services (CN svc-*) get in by certificate alone; partners' certificates
# are valid but not on mtls's allow-list (forbidden, ignored under
# sufficient), so they need a token bound to their certificate
# (cnf.x5t#S256, RFC 8705) — and a token bound to one certificate is
# refused with another.  Tokens are minted here with PyJWT (RS256).
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/mtls/pki.sh"
cd "$T" || exit 1

if [ ! -f "$BAST_PLUGIN_DIR/jwt.so" ]; then
    skip "jwt plugin not built"
    exit 0
fi

newca root "Test Root"
leaf root svc "/CN=svc-billing" "$CLIENT_EXT"
leaf root pa "/CN=partner-a" "$CLIENT_EXT"
leaf root pb "/CN=partner-b" "$CLIENT_EXT"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt.key 2>/dev/null
openssl pkey -in jwt.key -pubout -out jwt.pub 2>/dev/null
check "keys and certificates made" test -s jwt.pub -a -s pb.pem

mkconf conf
cat >conf/conf.d/api.conf <<EOF
[app]
realm = api

[service-certs]
plugin  = mtls
control = sufficient
ca_file = $T/root/ca.pem
allow   = svc-*

[partner-token]
plugin      = jwt
control     = required
algorithms  = RS256
public_key  = $T/jwt.pub
require_cnf = yes
bind_identity = no
EOF

x5t() { openssl x509 -in "$1" -outform der | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='; }
# mint SUB [X5T]: an RS256 token valid for 5 minutes, bound when X5T given
mint() {
    $PY - "$@" <<'PY'
import jwt, sys, time
sub = sys.argv[1]; now = int(time.time())
claims = {"sub": sub, "iat": now, "exp": now + 300}
if len(sys.argv) > 2:
    claims["cnf"] = {"x5t#S256": sys.argv[2]}
print(jwt.encode(claims, open("jwt.key").read(), algorithm="RS256"))
PY
}
field() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print("null" if v is None else v)' "$1" "$2" 2>/dev/null; }
expect() { # NAME DECISION STATUS ERROR IDENTITY verify-args...
    local name=$1 dec=$2 st=$3 err=$4 id=$5; shift 5
    verify api conf "$@" >/dev/null
    check_eq "$name" "$dec $st $err $id" \
        "$(field "$out" 'r["decision"]') $(field "$out" 'r["status"]') $(field "$out" 'r["error"]') $(field "$out" 'r["identity"]')"
}

tok_a=$(mint partner-a "$(x5t pa.pem)")
tok_plain=$(mint partner-a)
check "token minted with cnf.x5t#S256" test -n "$tok_a"

expect "service certificate alone: allowed by mtls" allow 200 null svc-billing --cert svc.pem
check_eq "service certificate: the stack ended at mtls" "mtls" "$(field "$out" 'r["scheme"]')"
expect "partner certificate alone: not enough" deny 401 missing_credentials null --cert pa.pem
expect "bound token with its own certificate: allowed" allow 200 null partner-a \
    --cert pa.pem -H "Authorization: Bearer $tok_a"
check_eq "bound token: scheme jwt" jwt "$(field "$out" 'r["scheme"]')"
check_eq "bound token: mtls was forbidden (not on the allow-list)" forbidden "$(field "$out" 'r["trace"][0]["result"]')"
expect "bound token with another partner's certificate: refused" deny 401 invalid_token null \
    --cert pb.pem -H "Authorization: Bearer $tok_a"
check "another certificate: the reason names the binding" grep -q "another certificate" <<<"$out"
expect "bound token without any certificate: refused" deny 401 invalid_token null \
    -H "Authorization: Bearer $tok_a"
expect "unbound token under require_cnf: refused" deny 401 invalid_token null \
    --cert pa.pem -H "Authorization: Bearer $tok_plain"
# the thumbprint mtls reports is the value the token carries
verify api conf --cert svc.pem >/dev/null
check_eq "mtls's x5t#S256 attribute is the token's cnf value" "$(x5t svc.pem)" \
    "$(field "$out" 'r["attributes"]["x5t#S256"]')"
