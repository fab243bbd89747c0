#!/usr/bin/env bash
# jwt: tokens minted by two independent implementations (Debian's PyJWT and
# jwcrypto) verify for every algorithm (RS/PS/ES 256-512, EdDSA, HS
# 256-512), through a JWKS file, PEM public keys and an HMAC secret file;
# each key answers only the algorithms its type allows; an allow-list
# narrows them; short HMAC secrets and small RSA keys are refused at load.
. "$TOP/tests/lib.sh"
J=$TOP/tests/plugins/jwt
$PY "$J/mint.py" keys "$T/k"
mkconf "$T/c"
cp "$T/k/jwks.json" "$T/c/keys.jwks"
cp "$T/k/"*.pub.pem "$T/c/"
install -m 600 "$T/k/hs.key" "$T/c/hs.key"
ALL="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512"
cat >"$T/c/conf.d/api.conf" <<CONF
[app]
realm = api

[bearer]
plugin = jwt
control = required
jwks_file = keys.jwks
algorithms = $ALL
CONF
now=$(date +%s)
exp=$((now + 600))
{
    for lib in pyjwt jwcrypto; do
        for a in $ALL; do
            echo "{\"name\": \"$lib-$a\", \"lib\": \"$lib\", \"alg\": \"$a\", \"claims\": {\"sub\": \"user-$a\", \"exp\": $exp, \"iat\": $now, \"scope\": \"read write\"}}"
        done
    done
} | $PY "$J/mint.py" batch "$T/k" >"$T/tokens"
check_eq "26 tokens minted" 26 "$(wc -l <"$T/tokens")"

{
    for lib in pyjwt jwcrypto; do
        for a in $ALL; do
            echo "{\"name\": \"$lib $a verifies (JWKS)\", \"token\": \"$lib-$a\", \"expect\": {\"result\": \"success\", \"identity\": \"user-$a\", \"status\": 200, \"scopes\": [\"read\", \"write\"]}}"
        done
    done
} | $PY "$J/table.py" "$BAST" api "$T/c" "$T/tokens"

# without HS* in the list the oct key is not loaded; the allow-list wins
sed -i 's/^algorithms = .*/algorithms = RS256 ES256 EdDSA/' "$T/c/conf.d/api.conf"
{
    for a in RS256 ES256 EdDSA; do
        echo "{\"name\": \"allowed $a verifies\", \"token\": \"pyjwt-$a\", \"expect\": {\"result\": \"success\"}}"
    done
    for a in RS384 PS256 ES384 ES512 HS256 HS512; do
        echo "{\"name\": \"$a outside the allow-list is denied\", \"token\": \"pyjwt-$a\", \"expect\": {\"result\": \"deny\", \"error\": \"invalid_token\", \"challenge\": \"error=\\\"invalid_token\\\"\"}}"
    done
} | $PY "$J/table.py" "$BAST" api "$T/c" "$T/tokens"

# PEM public keys, one instance per key type, and the HMAC secret file
pem_app() { # app pemfile algorithms
    cat >"$T/c/conf.d/$1.conf" <<CONF
[app]
realm = $1

[bearer]
plugin = jwt
control = required
public_key = $2
algorithms = $3
CONF
}
pem_app rsa rsa.pub.pem "RS256 RS384 RS512 PS256 PS384 PS512 ES256 HS256"
pem_app ec384 ec384.pub.pem "ES256 ES384 ES512 RS256"
pem_app ed ed.pub.pem "EdDSA ES256"
cat >"$T/c/conf.d/hs.conf" <<CONF
[app]
realm = hs

[bearer]
plugin = jwt
control = required
hmac_secret_file = hs.key
algorithms = HS256 HS384 HS512
CONF
{
    for a in RS256 RS512 PS256 PS512; do
        echo "{\"name\": \"PEM RSA key: $a verifies\", \"token\": \"jwcrypto-$a\", \"expect\": {\"result\": \"success\", \"identity\": \"user-$a\"}}"
    done
    echo "{\"name\": \"PEM RSA key: ES256 token (curve confusion) denied\", \"token\": \"pyjwt-ES256\", \"expect\": {\"result\": \"deny\"}}"
    echo "{\"name\": \"PEM RSA key: HS256 token denied\", \"token\": \"pyjwt-HS256\", \"expect\": {\"result\": \"deny\"}}"
} | $PY "$J/table.py" "$BAST" rsa "$T/c" "$T/tokens"
{
    echo "{\"name\": \"PEM P-384 key: ES384 verifies\", \"token\": \"pyjwt-ES384\", \"expect\": {\"result\": \"success\"}}"
    echo "{\"name\": \"PEM P-384 key: ES256 token denied (curve bound)\", \"token\": \"pyjwt-ES256\", \"expect\": {\"result\": \"deny\"}}"
    echo "{\"name\": \"PEM P-384 key: ES512 token denied (curve bound)\", \"token\": \"pyjwt-ES512\", \"expect\": {\"result\": \"deny\"}}"
} | $PY "$J/table.py" "$BAST" ec384 "$T/c" "$T/tokens"
{
    echo "{\"name\": \"PEM Ed25519 key: EdDSA verifies\", \"token\": \"jwcrypto-EdDSA\", \"expect\": {\"result\": \"success\"}}"
    echo "{\"name\": \"PEM Ed25519 key: ES256 token denied\", \"token\": \"pyjwt-ES256\", \"expect\": {\"result\": \"deny\"}}"
} | $PY "$J/table.py" "$BAST" ed "$T/c" "$T/tokens"
{
    for a in HS256 HS384 HS512; do
        echo "{\"name\": \"secret file: $a verifies\", \"token\": \"pyjwt-$a\", \"expect\": {\"result\": \"success\", \"identity\": \"user-$a\"}}"
    done
    echo "{\"name\": \"secret file: RS256 token denied\", \"token\": \"pyjwt-RS256\", \"expect\": {\"result\": \"deny\"}}"
} | $PY "$J/table.py" "$BAST" hs "$T/c" "$T/tokens"

# load-time refusals
load_err() { # what pattern: bast check must fail and name the problem
    local what=$1 pat=$2 msg
    msg=$("$BAST" check --confdir "$T/c" 2>&1); local rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$msg" | grep -q -- "$pat"; then ok "$what"; else not_ok "$what (rc $rc: $msg)"; fi
    rm -f "$T/c/conf.d/bad.conf"
}
bad_app() { printf '[app]\nrealm = bad\n\n[bearer]\nplugin = jwt\ncontrol = required\n%s\n' "$1" >"$T/c/conf.d/bad.conf"; }
printf 'short-secret-of-31-bytes-exact!' >"$T/c/short.key"; chmod 600 "$T/c/short.key"
bad_app $'hmac_secret_file = short.key\nalgorithms = HS256'
load_err "HMAC secret shorter than the hash is refused" "shorter than HS256"
head -c 40 /dev/urandom | base64 | head -c 48 >"$T/c/mid.key"; chmod 600 "$T/c/mid.key"
bad_app $'hmac_secret_file = mid.key\nalgorithms = HS256 HS512'
load_err "48-byte secret refused for HS512" "shorter than HS512"
install -m 644 "$T/k/hs.key" "$T/c/open.key"
bad_app $'hmac_secret_file = open.key\nalgorithms = HS256'
load_err "world-readable secret file refused" "hmac_secret_file"
bad_app 'public_key = rsa.pub.pem'
load_err "public_key without algorithms refused" "algorithms"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null | openssl pkey -pubout >"$T/c/small.pem" 2>/dev/null
bad_app $'public_key = small.pem\nalgorithms = RS256'
load_err "RSA key under 2048 bits refused" "2048"
bad_app $'public_key = rsa.pub.pem\nalgorithms = RS256 none'
load_err "alg none cannot be allowed" "unknown algorithm 'none'"
bad_app $'public_key = rsa.pub.pem\nalgorithms = RS256\nbogus = 1'
load_err "unknown option refused" "bogus"
bad_app 'algorithms = RS256'
load_err "an instance without keys is refused" "no keys"
echo '{"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}' >"$T/c/broken.jwks"
bad_app 'jwks_file = broken.jwks'
load_err "a broken JWK is refused" "wrong length"
