#!/usr/bin/env bash
# make demo: copy conf.d/ into $B/demo, make the keys the example apps
# refer to (an issuer key pair, a partner CA and client certificate, an
# HMAC secret, an OAuth client, an API key), then verify real requests
# with the built `bast` and print what each decision was and why.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
BAST=$B/bin/bast
export BAST_PLUGIN_DIR=$B/plugins
D=$B/demo
rm -rf "$D"; mkdir -p "$D/conf.d" "$D/keys"; chmod 700 "$D/keys"
cp conf.d/*.conf "$D/conf.d/"; chmod 755 "$D" "$D/conf.d"; chmod 644 "$D"/conf.d/*
K=$D/keys
umask 077
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)

echo "== keys (in $K)"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/issuer.pem" 2>/dev/null
openssl pkey -in "$K/issuer.pem" -pubout -out "$K/issuer-public.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=Partners CA" -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$K/ca.key" -out "$K/partners-ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=partner-a" \
    -keyout "$K/partner-a.key" -out "$K/partner-a.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > "$K/ext"
openssl x509 -req -in "$K/partner-a.csr" -CA "$K/partners-ca.pem" -CAkey "$K/ca.key" \
    -CAcreateserial -days 7 -extfile "$K/ext" -out "$K/partner-a.pem" 2>/dev/null
secret=$(openssl rand -hex 32)
echo "partner-b billing-service $secret" > "$K/hmac.secrets"
printf '%s' "$secret" > "$K/partner-b.secret"
: > "$K/clients.htpasswd"; chmod 644 "$K/clients.htpasswd"
echo "s3cr3t-client-password" | "$BAST" basic add client-1 --app oauth-token \
    --module client-secret --confdir "$D" >/dev/null
key=$("$BAST" apikey issue --app developer --module api-key --confdir "$D" \
    --user dev@example.com --name "demo laptop" --scopes "reports:read" --json |
    sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
echo "issuer RSA key, partner CA + client cert, HMAC secret, OAuth client, API key ${key:0:12}…"

jwt() { # sub scope exp
    local h p
    h=$(printf '{"alg":"RS256","typ":"at+jwt"}' | b64url)
    p=$(printf '{"iss":"https://id.example.com","aud":"https://api.example.com","sub":"%s","scope":"%s","iat":%d,"exp":%d}' \
        "$1" "$2" "$now" "$3" | b64url)
    printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" |
        openssl dgst -sha256 -sign "$K/issuer.pem" -binary | b64url)"
}
show() { # title app [verify args...]
    local title=$1 app=$2; shift 2
    local out rc=0
    out=$("$BAST" verify --app "$app" --confdir "$D" "$@") || rc=$?
    printf '%s\n' "$out" | python3 -c '
import json, sys
title = sys.argv[1]
for line in sys.stdin:
    r = json.loads(line)
    why = r["identity"] and "as %s via %s [%s]" % (r["identity"], r["scheme"], r["module"]) \
          or "%s%s" % (r["error"], (": " + r["error_description"]) if r["error_description"] else "")
    print("  %-44s %-5s %d  %s" % (title, r["decision"], r["status"], why))
    title = "  (same request again)"
' "$title"
}

echo "== users: JWT bearer tokens (RS256, issuer, audience, scope)"
show "valid token with profile:read" users -H "Authorization: Bearer $(jwt alice profile:read $((now + 600)))"
show "valid token, missing scope" users -H "Authorization: Bearer $(jwt alice email $((now + 600)))"
show "expired token" users -H "Authorization: Bearer $(jwt alice profile:read $((now - 600)))"
tok=$(jwt alice profile:read $((now + 600)))
flip() { local s=$1 c=${1: -1}; [ "$c" = "$2" ] && printf '%s%s' "${s%?}" "$3" || printf '%s%s' "${s%?}" "$2"; }
show "tampered signature" users -H "Authorization: Bearer $(flip "$tok" A Q)"
show "no token" users

echo "== developer: API keys (only a hash stored)"
show "issued key" developer -H "X-Api-Key: $key"
show "key with a typo (checksum)" developer -H "X-Api-Key: $(flip "$key" x y)"
id=$("$BAST" apikey list --app developer --module api-key --confdir "$D" --json |
    sed -n 's/.*"id": *"\{0,1\}\([^",]*\)"\{0,1\},.*/\1/p' | head -1)
"$BAST" apikey revoke "$id" --app developer --module api-key --confdir "$D" >/dev/null
show "the same key after bast apikey revoke" developer -H "X-Api-Key: $key"

echo "== payments: partner certificate (sufficient) or HMAC-signed request (required)"
show "partner certificate" payments --cert "$K/partner-a.pem"
sign() { "$BAST" sign --profile bast --key-id partner-b --secret-file "$K/partner-b.secret" \
    --method POST --path /v1/charges --body '{"amount":100}'; }
hdrs=$(sign)
req=$(python3 -c '
import json, sys
h = [l.split(": ", 1) for l in sys.argv[1].splitlines() if ": " in l]
r = {"method": "POST", "path": "/v1/charges", "headers": h, "body": "{\"amount\":100}"}
print(json.dumps(r)); print(json.dumps(r))' "$hdrs")
show "signed request, then replayed" payments --request - <<<"$req"
req=$(python3 -c '
import json, sys
h = [l.split(": ", 1) for l in sys.argv[1].splitlines() if ": " in l]
print(json.dumps({"method": "POST", "path": "/v1/charges", "headers": h, "body": "{\"amount\":999}"}))' "$(sign)")
show "signed request, body changed" payments --request - <<<"$req"
show "nothing at all" payments

echo "== oauth-token: Basic, confined to POST /oauth/token"
basic=$(printf 'client-1:s3cr3t-client-password' | openssl base64 -A)
show "client secret at the token endpoint" oauth-token --tls --method POST --path /oauth/token -H "Authorization: Basic $basic"
show "wrong secret" oauth-token --tls --method POST --path /oauth/token -H "Authorization: Basic $(printf 'client-1:nope' | openssl base64 -A)"
show "Basic anywhere else: module ignores it" oauth-token --tls --method GET --path /v1/me -H "Authorization: Basic $basic"

echo "== reports: requisite deny on /admin/*, then include common-auth"
show "API key on /v1/summary (key revoked above)" reports --path /v1/summary -H "X-Api-Key: $key"
show "valid token on /v1/summary" reports --path /v1/summary -H "Authorization: Bearer $tok"
show "valid token on /%61dmin/./users" reports --path "/%61dmin/./users" -H "Authorization: Bearer $tok"

echo
echo "== one full result (bast verify --app users ...):"
"$BAST" verify --app users --confdir "$D" -H "Authorization: Bearer $tok" | python3 -m json.tool
echo
echo "The stacks as bast runs them: $BAST check --confdir $D"
