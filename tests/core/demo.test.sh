#!/usr/bin/env bash
# `make demo` is the first command a new user types: run its script and
# check that every example decision comes out as the demo says.
. "$TOP/tests/lib.sh"
for p in jwt apikey hmac mtls basic; do
    [ -f "$BAST_PLUGIN_DIR/$p.so" ] || { skip "demo needs the $p plugin"; exit 0; }
done
out=$(cd "$TOP" && B="$B" bash mk/demo.sh 2>&1); rc=$?
check_eq "mk/demo.sh exits 0" 0 "$rc"
expect() { # title decision status
    local line
    line=$(grep -F -- "  $1" <<<"$out" | head -1)
    if [[ $line =~ [[:space:]]$2[[:space:]]+$3[[:space:]] ]]; then ok "demo: $1 -> $2 $3"; else not_ok "demo: $1: got '$line'"; fi
}
expect "valid token with profile:read" allow 200
expect "valid token, missing scope" deny 403
expect "expired token" deny 401
expect "tampered signature" deny 401
expect "issued key" allow 200
expect "key with a typo" deny 401
expect "the same key after bast apikey revoke" deny 401
expect "partner certificate" allow 200
expect "signed request, then replayed" allow 200
expect "(same request again)" deny 401
expect "signed request, body changed" deny 401
expect "client secret at the token endpoint" allow 200
expect "wrong secret" deny 401
expect "Basic anywhere else" deny 401
expect "valid token on /v1/summary" allow 200
expect "valid token on /%61dmin" deny 401
