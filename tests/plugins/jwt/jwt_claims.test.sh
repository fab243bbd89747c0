#!/usr/bin/env bash
# jwt: where tokens are found (Authorization, header, cookie, query) and the
# absent / malformed results; scopes (scope, scp) and required_scopes ->
# forbidden with insufficient_scope; copied claims; typ; required claims;
# identity_claim; RFC 8705 certificate binding; the jti denylist (reloaded
# when it changes); jti one-time use; the verified-token cache still
# checking exp.
. "$TOP/tests/lib.sh"
J=$TOP/tests/plugins/jwt
DRIVER=$B/tests/plugins/jwt/jwt_driver
$PY "$J/mint.py" keys "$T/k"
mkconf "$T/c"
cp "$T/k/jwks.json" "$T/c/keys.jwks"
app() { # name, extra option lines
    printf '[app]\nrealm = %s\n\n[bearer]\nplugin = jwt\ncontrol = required\njwks_file = keys.jwks\n%s\n' \
        "$1" "$2" >"$T/c/conf.d/$1.conf"
}
app api $'token_header = X-Access-Token\ntoken_cookie = at\nallow_query_token = yes\nrequired_scopes = read\ncopy_claims = email tenant'
app plain ''
app typ 'typ = at+jwt'
app req 'required_claims = jti client_id'
app mail 'identity_claim = email'
app bound 'require_cnf = yes'
printf '# revoked tokens\nrevoked-1\n\n' >"$T/c/deny.txt"
app deny 'jti_denylist = deny.txt'
app once 'jti_once = yes'
app cache 'cache_size = 64'

now=$(date +%s)
base="\"sub\": \"alice\", \"exp\": $((now + 600)), \"iat\": $now"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=client-a \
    -keyout "$T/a.key" -out "$T/a.crt" -days 2 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=client-b \
    -keyout "$T/b.key" -out "$T/b.crt" -days 2 2>/dev/null
thumb=$($PY "$J/mint.py" thumb "$T/a.crt")
$PY "$J/mint.py" batch "$T/k" >"$T/tokens" <<EOF
{"name": "rw", "lib": "pyjwt", "alg": "ES256", "claims": {$base, "scope": "read write", "email": "a@example.org", "tenant": {"id": 7}}}
{"name": "scp", "lib": "jwcrypto", "alg": "RS256", "claims": {$base, "scp": ["read", "admin"]}}
{"name": "write", "lib": "pyjwt", "alg": "ES256", "claims": {$base, "scope": "write"}}
{"name": "noscope", "lib": "pyjwt", "alg": "ES256", "claims": {$base}}
{"name": "badscope", "lib": "pyjwt", "alg": "ES256", "claims": {$base, "scope": 5}}
{"name": "at", "lib": "pyjwt", "alg": "EdDSA", "header": {"typ": "at+jwt"}, "claims": {$base}}
{"name": "appat", "lib": "pyjwt", "alg": "EdDSA", "header": {"typ": "application/at+JWT"}, "claims": {$base}}
{"name": "jwt", "lib": "pyjwt", "alg": "EdDSA", "header": {"typ": "JWT"}, "claims": {$base}}
{"name": "full", "lib": "pyjwt", "alg": "RS256", "claims": {$base, "jti": "j-1", "client_id": "c", "email": "alice@example.org"}}
{"name": "bound", "lib": "pyjwt", "alg": "ES256", "claims": {$base, "cnf": {"x5t#S256": "$thumb"}}}
{"name": "revoked", "lib": "pyjwt", "alg": "ES256", "claims": {$base, "jti": "revoked-1"}}
{"name": "j2", "lib": "pyjwt", "alg": "ES256", "claims": {$base, "jti": "j-2"}}
{"name": "j3", "lib": "pyjwt", "alg": "ES256", "claims": {$base, "jti": "j-3"}}
EOF

tbl() { $PY "$J/table.py" "$BAST" "$1" "$T/c" "$T/tokens"; }
inv='"result": "deny", "error": "invalid_token"'
tbl api <<'EOF'
{"name": "no token: absent with a bare Bearer challenge", "headers": [], "expect": {"result": "absent", "status": 401, "challenge": "Bearer realm=\"api\""}}
{"name": "Basic credentials: absent for jwt", "headers": [["Authorization", "Basic YTpi"]], "expect": {"result": "absent"}}
{"name": "Bearer + token: success, scopes and copied claims", "token": "rw", "expect": {"result": "success", "identity": "alice", "scopes": ["read", "write"], "attributes": {"email": "a@example.org", "tenant": {"id": 7}}}}
{"name": "scheme is case-insensitive", "token": "rw", "headers": [["Authorization", "bEaReR @TOKEN@"]], "expect": {"result": "success"}}
{"name": "Bearer without a token: malformed", "headers": [["Authorization", "Bearer"]], "expect": {"result": "malformed", "status": 400, "error": "invalid_request"}}
{"name": "Bearer with two words: malformed", "headers": [["Authorization", "Bearer abc def"]], "expect": {"result": "malformed", "status": 400}}
{"name": "two Authorization Bearer headers: malformed", "token": "rw", "headers": [["Authorization", "Bearer @TOKEN@"], ["Authorization", "Bearer @TOKEN@"]], "expect": {"result": "malformed", "status": 400}}
{"name": "token in the configured header", "token": "rw", "headers": [["X-Access-Token", "@TOKEN@"]], "expect": {"result": "success", "identity": "alice"}}
{"name": "token in the configured cookie", "token": "rw", "headers": [["Cookie", "theme=dark; at=@TOKEN@; x=1"]], "expect": {"result": "success", "identity": "alice"}}
{"name": "token in access_token (enabled)", "token": "rw", "headers": [], "query": "a=1&access_token=@TOKEN@", "expect": {"result": "success", "identity": "alice"}}
{"name": "header and cookie: two tokens, malformed", "token": "rw", "headers": [["Authorization", "Bearer @TOKEN@"], ["Cookie", "at=@TOKEN@"]], "expect": {"result": "malformed"}}
{"name": "header and query: two tokens, malformed", "token": "rw", "headers": [["Authorization", "Bearer @TOKEN@"]], "query": "access_token=@TOKEN@", "expect": {"result": "malformed"}}
{"name": "scp array: read present", "token": "scp", "expect": {"result": "success", "scopes": ["read", "admin"]}}
{"name": "missing scope: forbidden with insufficient_scope", "token": "write", "expect": {"result": "forbidden", "status": 403, "error": "insufficient_scope"}}
{"name": "no scope claim at all: forbidden", "token": "noscope", "expect": {"result": "forbidden", "error": "insufficient_scope"}}
{"name": "scope that is not a string: invalid", "token": "badscope", "expect": {"result": "deny", "error": "invalid_token"}}
EOF
tbl plain <<'EOF'
{"name": "access_token ignored unless enabled: absent", "token": "rw", "headers": [], "query": "access_token=@TOKEN@", "expect": {"result": "absent"}}
{"name": "cookie ignored unless configured: absent", "token": "rw", "headers": [["Cookie", "at=@TOKEN@"]], "expect": {"result": "absent"}}
{"name": "no required_scopes: any scope passes", "token": "write", "expect": {"result": "success", "scopes": ["write"]}}
{"name": "unbound token without require_cnf", "token": "rw", "expect": {"result": "success"}}
{"name": "bound token without its certificate is denied anyway", "token": "bound", "expect": {"result": "deny", "error": "invalid_token"}}
EOF
tbl typ <<EOF
{"name": "typ at+jwt", "token": "at", "expect": {"result": "success"}}
{"name": "typ application/at+JWT", "token": "appat", "expect": {"result": "success"}}
{"name": "typ JWT where at+jwt is required", "token": "jwt", "expect": {$inv}}
{"name": "no typ where at+jwt is required", "token": "noscope", "expect": {$inv}}
EOF
tbl req <<EOF
{"name": "required claims present", "token": "full", "expect": {"result": "success"}}
{"name": "required claims missing", "token": "rw", "expect": {$inv}}
EOF
tbl mail <<EOF
{"name": "identity_claim = email", "token": "full", "expect": {"result": "success", "identity": "alice@example.org"}}
{"name": "identity_claim missing in the token", "token": "noscope", "expect": {$inv}}
EOF
tbl bound <<EOF
{"name": "cnf: bound token with its certificate", "token": "bound", "cert": "$T/a.crt", "expect": {"result": "success", "identity": "alice"}}
{"name": "cnf: bound token with another certificate", "token": "bound", "cert": "$T/b.crt", "expect": {$inv}}
{"name": "cnf: bound token without a certificate", "token": "bound", "expect": {$inv}}
{"name": "cnf: unbound token where binding is required", "token": "rw", "cert": "$T/a.crt", "expect": {$inv}}
EOF
tbl deny <<EOF
{"name": "jti on the denylist: revoked", "token": "revoked", "expect": {"result": "deny", "error": "revoked", "challenge": "error=\"invalid_token\""}}
{"name": "jti not on the denylist", "token": "j2", "expect": {"result": "success"}}
{"name": "no jti: the denylist does not apply", "token": "rw", "expect": {"result": "success"}}
EOF
tbl once <<EOF
{"name": "jti_once: first use", "token": "j2", "expect": {"result": "success"}}
{"name": "jti_once: second use is a replay", "token": "j2", "expect": {"result": "deny", "error": "replay"}}
{"name": "jti_once: another jti", "token": "j3", "expect": {"result": "success"}}
{"name": "jti_once: a token without jti", "token": "rw", "expect": {$inv}}
EOF

# a long-lived context: the denylist is re-read when the file changes, and
# the token cache never skips exp
req() { $PY -c 'import json,sys; print(json.dumps({"headers": [["Authorization", "Bearer " + sys.argv[1]]]}))' "$1"; }
tok() { awk -v n="$1" '$1 == n {print $2}' "$T/tokens"; }
results() { $PY -c 'import json,sys
for l in sys.stdin: r=json.loads(l); print(r["trace"][-1]["result"], r["error"] or "null")'; }
coproc DRV { "$DRIVER" "$T/c" deny 2>"$T/driver.err"; }
drv=$DRV_PID
req "$(tok j2)" >&"${DRV[1]}"; read -r r1 <&"${DRV[0]}"
echo j-2 >>"$T/c/deny.txt"
sleep 1.2
req "$(tok j2)" >&"${DRV[1]}"; read -r r2 <&"${DRV[0]}"
exec {DRV[1]}>&-; wait "$drv"
check_eq "denylist: j-2 allowed before it is listed" "success null" "$(printf '%s\n' "$r1" | results)"
check_eq "denylist: j-2 revoked after the file changed (same context)" "deny revoked" "$(printf '%s\n' "$r2" | results)"
{
    echo "@$now $(req "$(tok rw)")"
    echo "@$now $(req "$(tok rw)")"
    echo "@$((now + 700)) $(req "$(tok rw)")"
} | "$DRIVER" "$T/c" cache >"$T/cache.out" 2>&1
check_eq "cache: first, cached, and expired despite the cache" \
    "success null|success null|deny token_expired" "$(results <"$T/cache.out" | paste -sd'|')"
