#!/usr/bin/env bash
# jwt: the management commands `bast jwt keys|revoke|revoked|inspect`:
# keys lists kid, source and the algorithms each key is bound to; revoke
# appends to the jti_denylist and the next verify reads `revoked`; inspect
# tells a valid signature from a tampered one; usage errors exit 2.
. "$TOP/tests/lib.sh"
J=$TOP/tests/plugins/jwt
$PY "$J/mint.py" keys "$T/k"
mkconf "$T/c"
cp "$T/k/jwks.json" "$T/c/keys.jwks"
: >"$T/c/deny.txt"
cat >"$T/c/conf.d/api.conf" <<'CONF'
[app]
realm = api

[bearer]
plugin = jwt
control = required
jwks_file = keys.jwks
algorithms = RS256 PS256 ES384 EdDSA
jti_denylist = deny.txt

[nolist]
plugin = jwt
control = optional
jwks_file = keys.jwks
CONF
adm() { "$BAST" jwt "$@" --app api --module bearer --confdir "$T/c"; }
now=$(date +%s)
$PY "$J/mint.py" batch "$T/k" >"$T/tokens" <<EOF
{"name": "t", "lib": "pyjwt", "alg": "ES384", "claims": {"sub": "alice", "jti": "jti-42", "exp": $((now + 600))}}
{"name": "bad", "kind": "tamper", "of": "t"}
EOF
tok() { awk -v n="$1" '$1 == n {print $2}' "$T/tokens"; }

out=$(adm keys --json); rc=$?
check_eq "keys exits 0" 0 "$rc"
check_eq "keys: rsa bound to the allowed RSA algorithms only" '["RS256", "PS256"]' \
    "$($PY -c 'import json,sys; print(json.dumps([k["algorithms"] for k in json.loads(sys.argv[1]) if k["kid"]=="rsa"][0]))' "$out")"
check_eq "keys: ec256 is not listed (ES256 not allowed)" 0 \
    "$($PY -c 'import json,sys; print(len([k for k in json.loads(sys.argv[1]) if k["kid"]=="ec256"]))' "$out")"
out=$(verify api "$T/c" -H "Authorization: Bearer $(tok t)")
check_eq "before revoke: allowed" "allow" "$(json_get "$out" decision)"
check_eq "revoke prints what it did" "revoked jti-42" "$(adm revoke jti-42)"
check_eq "revoked lists it" "jti-42" "$(adm revoked)"
out=$(verify api "$T/c" -H "Authorization: Bearer $(tok t)")
check_eq "after revoke: revoked" "revoked" "$(json_get "$out" error)"
adm revoke 'two words' >/dev/null 2>&1
check_eq "revoke refuses a jti with a space (usage, 2)" 2 "$?"
"$BAST" jwt revoke x --app api --module nolist --confdir "$T/c" >/dev/null 2>&1
check_eq "revoke without a jti_denylist fails (1)" 1 "$?"
out=$(adm inspect "$(tok t)" --json); rc=$?
check_eq "inspect: valid signature, exit 0" "valid 0" "$(json_get "$out" signature) $rc"
check_eq "inspect: shows the claims" "alice" "$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["claims"]["sub"])' "$out")"
out=$(adm inspect "$(tok bad)" --json); rc=$?
check_eq "inspect: tampered token, invalid, exit 1" "invalid 1" "$(json_get "$out" signature) $rc"
adm frobnicate >/dev/null 2>&1
check_eq "unknown subcommand: usage, 2" 2 "$?"
