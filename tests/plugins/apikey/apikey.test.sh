#!/usr/bin/env bash
# apikey plugin through the real loader and `bast verify`: every result
# (success, absent, malformed, deny with each error, forbidden), the attack
# cases (wrong prefix, bad checksum, unknown key of the right form, a key of
# another app's store, duplicate and over-long headers, query keys), expiry
# and rotation grace with --now, and the option errors.
. "$TOP/tests/lib.sh"
cd "$T"
D=$T/c
mkconf "$D"
cat >"$D/conf.d/pay.conf" <<'EOF'
[app]
realm = payments

[keys]
plugin = apikey
control = required
store = sqlite:pay.db
EOF
cat >"$D/conf.d/shop.conf" <<'EOF'
[app]
realm = shop

[keys]
plugin = apikey
control = required
store = sqlite:shop.db
EOF
cat >"$D/conf.d/scoped.conf" <<'EOF'
[app]
[keys]
plugin = apikey
control = required
store = sqlite:pay.db
required_scopes = charges:write
EOF
cat >"$D/conf.d/query.conf" <<'EOF'
[app]
[keys]
plugin = apikey
control = required
store = sqlite:pay.db
allow_query_key = yes
query_param = key
EOF
cat >"$D/conf.d/lean.conf" <<'EOF'
[app]
[keys]
plugin = apikey
control = required
store = sqlite:pay.db
attributes = none
EOF
cat >"$D/conf.d/named.conf" <<'EOF'
[app]
[keys]
plugin = apikey
control = required
store = sqlite:pay.db
attributes = key_name key_id
EOF
cat >"$D/conf.d/custom.conf" <<'EOF'
[app]
[keys]
plugin = apikey
control = required
store = sqlite:custom.db
prefix = acme_live_
headers = X-Acme-Key, Authorization: Token
EOF

adm() { "$BAST" apikey "$@" --confdir "$D" 2>"$T/adm.err"; }
# jf JSON FIELD: a top-level field of a JSON object
jf() { json_get "$1" "$2"; }
# the error and status of the last verify
res() { echo "$(jf "$out" decision) $(jf "$out" status) $(jf "$out" error)"; }

J=$(adm issue --app pay --module keys --user alice --name ci \
    --scopes "charges:read charges:write" --json)
check_eq "issue exits 0" 0 $?
K=$(jf "$J" key)
ID=$(jf "$J" id)
case $K in bast_*) ok "issued key has the bast_ prefix" ;; *) not_ok "key prefix: $K" ;; esac
check_eq "issued key has the fixed length" 55 ${#K}
check "raw key warning goes to stderr" grep -q "not shown again" "$T/adm.err"

verify pay "$D" -H "Authorization: Bearer $K" >/dev/null
check_eq "Bearer key: allow 200" "allow 200 null" "$(res)"
check_eq "identity is the key's owner" alice "$(jf "$out" identity)"
check_eq "scheme" apikey "$(jf "$out" scheme)"
attrs=$(jf "$out" attributes)
check_eq "attribute key_id" "$ID" "$(jf "$attrs" key_id)"
check_eq "attribute scopes" '["charges:read", "charges:write"]' "$(jf "$attrs" scopes)"
check_eq "allow exits 0" 0 "$rc"

verify pay "$D" -H "X-Api-Key: $K" >/dev/null
check_eq "X-Api-Key: allow" "allow 200 null" "$(res)"
verify lean "$D" -H "X-Api-Key: $K" >/dev/null
check_eq "attributes = none: allow without attributes" "allow alice {}" \
    "$(jf "$out" decision) $(jf "$out" identity) $(jf "$out" attributes)"
verify named "$D" -H "X-Api-Key: $K" >/dev/null
check_eq "attributes = key_name key_id" "{\"key_id\": \"$ID\", \"key_name\": \"ci\"}" \
    "$(jf "$out" attributes)"
verify pay "$D" -H "authorization: bearer   $K  " >/dev/null
check_eq "scheme and header name are case-insensitive, spaces trimmed" "allow 200 null" "$(res)"

verify pay "$D" >/dev/null
check_eq "no key: absent -> 401 missing_credentials" "deny 401 missing_credentials" "$(res)"
check_eq "absent carries the challenge" '["Bearer realm=\"payments\""]' "$(jf "$out" challenges)"
check_eq "deny exits 1" 1 "$rc"
verify pay "$D" -H "Authorization: Basic YWxpY2U6cHc=" >/dev/null
check_eq "another scheme in Authorization is not ours: absent" \
    "deny 401 missing_credentials" "$(res)"

# -- format attacks: refused before any lookup
verify pay "$D" -H "X-Api-Key: acme_${K#bast_}" >/dev/null
check_eq "wrong prefix: invalid_token" "deny 401 invalid_token" "$(res)"
bad=${K:0:20}$([ "${K:20:1}" = z ] && echo y || echo z)${K:21}
verify pay "$D" -H "X-Api-Key: $bad" >/dev/null
check_eq "one changed character: invalid_token" "deny 401 invalid_token" "$(res)"
check_eq "and says checksum" "API key checksum mismatch" "$(jf "$out" error_description)"
verify pay "$D" -H "X-Api-Key: ${K}1" >/dev/null
check_eq "one character too many: invalid_token" "deny 401 invalid_token" "$(res)"
verify pay "$D" -H "X-Api-Key: ${K:0:30}0${K:31}" >/dev/null
check_eq "character outside base58: invalid_token" "deny 401 invalid_token" "$(res)"
check_eq "invalid_token challenge" '["Bearer realm=\"payments\", error=\"invalid_token\""]' \
    "$(jf "$out" challenges)"

# a well-formed key that no store holds: same format, checksum recomputed
FORGED=$($PY - "$K" <<'EOF'
import sys, zlib, secrets
A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58(n, w):
    s = ""
    for _ in range(w):
        n, r = divmod(n, 58); s = A[r] + s
    return s
body = b58(int.from_bytes(secrets.token_bytes(32), "big"), 44)
t = "bast_" + body
print(t + b58(zlib.crc32(t.encode()), 6))
EOF
)
verify pay "$D" -H "X-Api-Key: $FORGED" >/dev/null
check_eq "right format, unknown key: unknown_key" "deny 401 unknown_key" "$(res)"
# the same key with only its last body digit changed (checksum fixed up)
NEAR=$($PY - "$K" <<'EOF'
import sys, zlib
A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
k = sys.argv[1]; body = k[5:49]
body = body[:-1] + ("2" if body[-1] != "2" else "3")
def b58(n, w):
    s = ""
    for _ in range(w):
        n, r = divmod(n, 58); s = A[r] + s
    return s
t = "bast_" + body
print(t + b58(zlib.crc32(t.encode()), 6))
EOF
)
verify pay "$D" -H "X-Api-Key: $NEAR" >/dev/null
check_eq "a near miss of a real key: unknown_key" "deny 401 unknown_key" "$(res)"

# another app's store does not know this app's keys
verify shop "$D" -H "X-Api-Key: $K" >/dev/null
check_eq "key of another app's store: unknown_key" "deny 401 unknown_key" "$(res)"

# -- framing
verify pay "$D" -H "X-Api-Key: $K" -H "X-Api-Key: $K" >/dev/null
check_eq "two X-Api-Key headers: malformed 400" "deny 400 invalid_request" "$(res)"
verify pay "$D" -H "Authorization: Bearer $K" -H "X-Api-Key: $K" >/dev/null
check_eq "Bearer and X-Api-Key together: malformed" "deny 400 invalid_request" "$(res)"
verify pay "$D" -H "Authorization: Bearer $K" -H "Authorization: Bearer $FORGED" >/dev/null
check_eq "two Bearer headers: malformed" "deny 400 invalid_request" "$(res)"
verify pay "$D" -H "Authorization: Bearer" >/dev/null
check_eq "empty Bearer: malformed" "deny 400 invalid_request" "$(res)"
long=$(head -c 12000 /dev/zero | tr '\0' 'A')
verify pay "$D" -H "X-Api-Key: bast_$long" >/dev/null
check_eq "over-long key header: invalid_token" "deny 401 invalid_token" "$(res)"
huge=$(head -c 20000 /dev/zero | tr '\0' 'A')
verify pay "$D" -H "X-Api-Key: bast_$huge" >/dev/null
check_eq "20 KB header: refused by the core's 16 KiB limit (exit 2)" 2 "$rc"
check "with a message" grep -q "16 KiB" "$T/.verify.err"

# -- query parameter: only when enabled
verify pay "$D" --query "api_key=$K" >/dev/null
check_eq "query key ignored unless enabled" "deny 401 missing_credentials" "$(res)"
verify query "$D" --query "a=1&key=$K&b=2" >/dev/null
check_eq "query key when enabled: allow" "allow 200 null" "$(res)"
verify query "$D" --query "key=$K" -H "X-Api-Key: $K" >/dev/null
check_eq "query key and header: malformed" "deny 400 invalid_request" "$(res)"
verify query "$D" --query "key=$K&key=$K" >/dev/null
check_eq "query key twice: malformed" "deny 400 invalid_request" "$(res)"
verify query "$D" --query "key=${K:0:10}%7A${K:11}" >/dev/null
case ${K:10:1} in
z) check_eq "percent-decoded query key: allow" "allow 200 null" "$(res)" ;;
*) check_eq "percent-decoded query key is checked: invalid_token" "deny 401 invalid_token" "$(res)" ;;
esac

# -- scopes
verify scoped "$D" -H "X-Api-Key: $K" >/dev/null
check_eq "key with the required scope: allow" "allow 200 null" "$(res)"
J2=$(adm issue --app pay --module keys --user bob --name ro --scopes "charges:read" --json)
K2=$(jf "$J2" key)
ID2=$(jf "$J2" id)
verify scoped "$D" -H "X-Api-Key: $K2" >/dev/null
check_eq "missing scope: forbidden 403 insufficient_scope" "deny 403 insufficient_scope" "$(res)"
verify pay "$D" -H "X-Api-Key: $K2" >/dev/null
check_eq "the same key where no scope is required: allow" "allow 200 null" "$(res)"
check_eq "several keys per user: second key's owner" bob "$(jf "$out" identity)"

# -- revocation (one-shot processes: the index is loaded at open)
out=$(adm revoke --app pay --module keys "$ID2"); r=$?
check_eq "revoke exits 0" 0 $r
verify pay "$D" -H "X-Api-Key: $K2" >/dev/null
check_eq "revoked key: revoked" "deny 401 revoked" "$(res)"
adm revoke --app pay --module keys "$ID2" >/dev/null
check_eq "revoking again is not an error" 0 $?
adm revoke --app pay --module keys key_doesnotexist >/dev/null
check_eq "revoking an unknown id exits 1" 1 $?
check "with a message" grep -q "no such key" "$T/adm.err"

# -- expiry (evaluated at --now)
J3=$(adm issue --app pay --module keys --user carol --name short --expires 1h --json)
K3=$(jf "$J3" key)
now=$(date +%s)
verify pay "$D" -H "X-Api-Key: $K3" --now $((now + 1800)) >/dev/null
check_eq "before expiry: allow" "allow 200 null" "$(res)"
verify pay "$D" -H "X-Api-Key: $K3" --now $((now + 7200)) >/dev/null
check_eq "after expiry: token_expired" "deny 401 token_expired" "$(res)"

# -- rotation with a grace period
J4=$(adm issue --app pay --module keys --user dave --name svc --scopes "x" --json)
K4=$(jf "$J4" key)
ID4=$(jf "$J4" id)
R=$(adm rotate --app pay --module keys "$ID4" --grace 2h --json)
check_eq "rotate exits 0" 0 $?
K5=$(jf "$R" key)
check_eq "rotation result names the old key" "$ID4" "$(jf "$R" replaces)"
verify pay "$D" -H "X-Api-Key: $K5" >/dev/null
check_eq "replacement key: allow as the same owner" "allow 200 null dave" "$(res) $(jf "$out" identity)"
verify pay "$D" -H "X-Api-Key: $K4" --now $((now + 3600)) >/dev/null
check_eq "old key inside the grace period: allow" "allow 200 null" "$(res)"
verify pay "$D" -H "X-Api-Key: $K4" --now $((now + 3 * 3600)) >/dev/null
check_eq "old key after the grace period: token_expired" "deny 401 token_expired" "$(res)"
verify pay "$D" -H "X-Api-Key: $K5" --now $((now + 3 * 3600)) >/dev/null
check_eq "replacement key after the grace period: allow" "allow 200 null" "$(res)"
adm rotate --app pay --module keys "$ID4" >/dev/null
check_eq "rotating a key twice exits 1" 1 $?
adm rotate --app pay --module keys "$ID2" >/dev/null
check_eq "rotating a revoked key exits 1" 1 $?

# -- list and show never print hashes or keys
L=$(adm list --app pay --module keys)
check_eq "list exits 0" 0 $?
check "list names every key" bash -c "[ \$(grep -c '^key_' <<<'$L') -eq 5 ]"
LJ=$(adm list --app pay --module keys --json)
all="$L $LJ $(adm show --app pay --module keys "$ID") $(adm show --app pay --module keys "$ID" --json)"
if grep -qE '[0-9a-f]{64}' <<<"$all" || grep -qF "$K" <<<"$all" || grep -qF "${K:5:44}" <<<"$all"; then
    not_ok "list/show print no hash and no key"
else
    ok "list/show print no hash and no key"
fi
check_eq "list --user filters" 1 "$($PY -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$(adm list --app pay --module keys --user bob --json)")"
S=$(adm show --app pay --module keys "$ID2" --json)
check_eq "show: status of a revoked key" revoked "$(jf "$S" status)"
S=$(adm show --app pay --module keys "$ID4" --json)
check_eq "show: a rotated key links to its replacement" "$(jf "$R" id)" "$(jf "$S" replaced_by)"
adm show --app pay --module keys key_nope >/dev/null
check_eq "show of an unknown id exits 1" 1 $?

# -- admin usage errors exit 2 with a message
adm issue --app pay --module keys --name x >/dev/null
check_eq "issue without --user exits 2" 2 $?
adm issue --app pay --module keys --user u --name x --expires soon >/dev/null
check_eq "bad --expires exits 2" 2 $?
adm frobnicate --app pay --module keys >/dev/null
check_eq "unknown subcommand exits 2" 2 $?
check "and says so" grep -q "unknown command" "$T/adm.err"
adm issue --app pay --module keys --user u --name x --scopes 'a"b' >/dev/null
check_eq "bad scope characters exit 2" 2 $?
adm issue --app pay --module keys --user "$(printf 'bad\xff')" --name x >/dev/null
check_eq "a user name that is not UTF-8 exits 2" 2 $?
adm issue --app pay --module keys --user "$(printf 'a\tb')" --name x >/dev/null
check_eq "a user name with control characters exits 2" 2 $?

# -- custom prefix and headers
JC=$(adm issue --app custom --module keys --user erin --name c --json)
KC=$(jf "$JC" key)
case $KC in acme_live_*) ok "custom prefix" ;; *) not_ok "custom prefix: $KC" ;; esac
verify custom "$D" -H "Authorization: Token $KC" >/dev/null
check_eq "custom scheme in Authorization: allow" "allow 200 null" "$(res)"
verify custom "$D" -H "X-Acme-Key: $KC" >/dev/null
check_eq "custom header: allow" "allow 200 null" "$(res)"
verify custom "$D" -H "X-Api-Key: $KC" >/dev/null
check_eq "a header not configured is not read" "deny 401 missing_credentials" "$(res)"
verify custom "$D" -H "X-Acme-Key: $K" >/dev/null
check_eq "a bast_ key where acme_live_ is expected: invalid_token" "deny 401 invalid_token" "$(res)"

# -- option errors refuse the config, naming file:line and key
bad_conf() {
    local name=$1 body=$2 want=$3
    mkconf "$T/bad"
    rm -f "$T/bad/conf.d/"*
    printf '[app]\n[k]\nplugin = apikey\ncontrol = required\n%b\n' "$body" >"$T/bad/conf.d/b.conf"
    local o
    o=$("$BAST" verify --app b --confdir "$T/bad" 2>&1)
    local r=$?
    if [ $r -eq 2 ] && grep -q -- "$want" <<<"$o"; then ok "$name"; else not_ok "$name (rc=$r: $o)"; fi
}
bad_conf "missing store" "" "store"
bad_conf "store without sqlite:" "store = /tmp/x.db" "store"
bad_conf "bad prefix" "store = sqlite:x.db\nprefix = a b" "prefix"
bad_conf "unknown option" "store = sqlite:x.db\ncolour = blue" "colour"
bad_conf "bad refresh" "store = sqlite:x.db\nrefresh = 0" "refresh"
bad_conf "bad headers" "store = sqlite:x.db\nheaders = X Y: Z: W" "headers"
bad_conf "unknown attribute" "store = sqlite:x.db\nattributes = key_id secret" "unknown attribute"
bad_conf "none with others" "store = sqlite:x.db\nattributes = none scopes" "attributes"
bad_conf "a header listed twice" "store = sqlite:x.db\nheaders = X-Key, x-key" "listed twice"
bad_conf "a header both raw and with a scheme" "store = sqlite:x.db\nheaders = Authorization, Authorization: Bearer" "listed twice"
bad_conf "unreachable store" "store = sqlite:/nonexistent/dir/k.db" "cannot open"
mkconf "$T/ww"
printf '[app]\n[k]\nplugin = apikey\ncontrol = required\nstore = sqlite:k.db\n' >"$T/ww/conf.d/w.conf"
: >"$T/ww/k.db"
chmod 666 "$T/ww/k.db"
o=$("$BAST" verify --app w --confdir "$T/ww" 2>&1)
r=$?
if [ $r -eq 2 ] && grep -q "world-writable" <<<"$o"; then ok "a world-writable store is refused"; else not_ok "world-writable store (rc=$r: $o)"; fi
