#!/usr/bin/env bash
# The hmac plugin's `bast` profile through the real loader, `bast sign` and
# `bast verify`: valid requests (and an independent Python signer written
# from the documented scheme), rotation (the older secret still verifies),
# wrong secret, unknown key, tampered method/path/query/body/body-hash,
# stale and future timestamps, missing headers (absent), missing or garbled
# or repeated headers (malformed), replay through one context with the
# memory store, a body the server does not see (denied, or trusted and
# handed upstream), SHA-512, and option errors at load.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/hmac/hmaclib.sh"
cd "$T" || exit 1
umask 022

NOW=1800000000
S1=new-secret-aaaaaaaaaaaaaaaa
S0=old-secret-bbbbbbbbbbbbbbbb
printf '%s\n' "$S1" >s1; printf '%s\n' "$S0" >s0
printf 'wrong-secret-cccccccccccccc\n' >bad
chmod 600 s1 s0 bad
mkconf c
printf '# test keys\nk1 alice %s %s\n\nk2  bob\tbob-secret-dddddddddddddd\n' "$S1" "$S0" >c/secrets
chmod 600 c/secrets
hconf c pay "secrets_file = secrets"
hconf c trust "secrets_file = secrets" "trust_declared_body_hash = yes"
hconf c w60 "secrets_file = secrets" "window = 1m"
hconf c big "secrets_file = secrets" "digest = sha512"

sign() { signh h --key-id k1 --secret-file s1 --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}' --now "$NOW" "$@"; }
v() { verify "$1" c "${H[@]}" "${@:2}" --now "$NOW" >/dev/null; }
REQ=(--method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}')

sign
v pay "${REQ[@]}"
expect "valid request" allow 200 null alice
check_eq "exit 0 on allow" 0 "$rc"
check_eq "key_id attribute" k1 "$(field 'r["attributes"]["key_id"]')"
check_eq "scheme hmac" hmac "$(field 'r["scheme"]')"
check_eq "five headers printed" 5 "$(wc -l <h)"

signh h --key-id k1 --secret-file s0 --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}' --now "$NOW"
v pay "${REQ[@]}"
expect "older secret of a rotated key" allow 200 null alice

signh h --key-id k2 --secret-file s1 --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}' --now "$NOW"
v pay "${REQ[@]}"
expect "another key's secret" deny 401 invalid_signature null

signh h --key-id k1 --secret-file bad --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}' --now "$NOW"
v pay "${REQ[@]}"
expect "wrong secret" deny 401 invalid_signature null
check_eq "exit 1 on deny" 1 "$rc"

signh h --key-id nobody --secret-file s1 --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}' --now "$NOW"
v pay "${REQ[@]}"
expect "unknown key id" deny 401 unknown_key null

sign
v pay --method PUT --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}'
expect "tampered method" deny 401 invalid_signature null
v pay --method POST --path /v1/refunds --query 'a=1&b=%20x' --body '{"amount":5}'
expect "tampered path" deny 401 invalid_signature null
v pay --method POST --path /v1/charges --query 'a=2&b=%20x' --body '{"amount":5}'
expect "tampered query" deny 401 invalid_signature null
v pay --method POST --path /v1/charges --body '{"amount":5}'
expect "query dropped" deny 401 invalid_signature null
v pay --method POST --path /v1/charges --query 'b=%20x&a=1' --body '{"amount":5}'
expect "query reordered" deny 401 invalid_signature null
v pay --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":500}'
expect "tampered body" deny 401 body_hash_mismatch null
H2=(); for a in "${H[@]}"; do case $a in X-Body-Hash:*) a="X-Body-Hash: $(printf '{"amount":500}' | sha256sum | cut -d' ' -f1)";; esac; H2+=("$a"); done
out=$("$BAST" verify --app pay --confdir c "${H2[@]}" --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":500}' --now "$NOW")
expect "tampered body with a matching X-Body-Hash" deny 401 invalid_signature null

# time window, both directions
sign
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}" --now $((NOW + 300)))
expect "300 s old: inside the window" allow 200 null alice
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}" --now $((NOW + 301)))
expect "301 s old: stale" deny 401 stale_timestamp null
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}" --now $((NOW - 301)))
expect "301 s in the future: stale" deny 401 stale_timestamp null
out=$("$BAST" verify --app w60 --confdir c "${H[@]}" "${REQ[@]}" --now $((NOW + 61)))
expect "window = 1m: 61 s old is stale" deny 401 stale_timestamp null
out=$("$BAST" verify --app w60 --confdir c "${H[@]}" "${REQ[@]}" --now $((NOW - 59)))
expect "window = 1m: 59 s ahead passes" allow 200 null alice

# no signature at all: absent, with a challenge
out=$("$BAST" verify --app pay --confdir c "${REQ[@]}" --now "$NOW")
check_eq "no headers: module result absent" absent "$(field 'r["trace"][0]["result"]')"
check_eq "no headers: denied 401" "deny 401" "$(field 'r["decision"]') $(field 'r["status"]')"
check_eq "challenge names the realm" 'HMAC realm="pay"' "$(field 'r["challenges"][0]')"

# headers missing, garbled or repeated: malformed
without() { local drop=$1 a; H2=(); for a in "${H[@]}"; do case $a in "$drop":*) H2=("${H2[@]:0:${#H2[@]}-1}");; *) H2+=("$a");; esac; done; }
sign
for hdr in X-Api-Key X-Timestamp X-Nonce X-Body-Hash; do
    without "$hdr"
    out=$("$BAST" verify --app pay --confdir c "${H2[@]}" "${REQ[@]}" --now "$NOW")
    expect "missing $hdr: malformed" deny 400 invalid_request null
done
replace() { local name=$1 val=$2 a; H2=(); for a in "${H[@]}"; do case $a in "$name":*) a="$name: $val";; esac; H2+=("$a"); done; }
garbled() {
    replace "$1" "$2"
    out=$("$BAST" verify --app pay --confdir c "${H2[@]}" "${REQ[@]}" --now "$NOW")
    expect "$3" deny 400 invalid_request null
}
garbled X-Timestamp yesterday "X-Timestamp not ISO 8601 basic"
garbled X-Timestamp 20270230T080000Z "X-Timestamp on 30 February"
garbled X-Timestamp 2027-01-15T08:00:00Z "X-Timestamp in extended format"
garbled X-Signature nothex "X-Signature not hex"
garbled X-Signature "$(printf 'ab%.0s' $(seq 31))" "X-Signature too short"
garbled X-Body-Hash zz "X-Body-Hash not hex"
garbled X-Nonce short "X-Nonce too short"
garbled X-Api-Key "two words" "X-Api-Key with a space"
out=$("$BAST" verify --app pay --confdir c "${H[@]}" -H 'X-Nonce: another-nonce-1234' "${REQ[@]}" --now "$NOW")
expect "repeated X-Nonce" deny 400 invalid_request null
out=$("$BAST" verify --app pay --confdir c "${H[@]}" -H 'X-Signature: 00' "${REQ[@]}" --now "$NOW")
expect "repeated X-Signature" deny 400 invalid_request null

# replay through one context (memory store)
sign
reqjson r1.json POST /v1/charges 'a=1&b=%20x' '{"amount":5}' h
signh h2 --key-id k1 --secret-file s1 --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}' --now "$NOW"
reqjson r2.json POST /v1/charges 'a=1&b=%20x' '{"amount":5}' h2
cat r1.json r1.json r2.json >stream.json
"$BAST" verify --app pay --confdir c --request stream.json --now "$NOW" >stream.out
out=$(sed -n 1p stream.out); expect "stream: first request" allow 200 null alice
out=$(sed -n 2p stream.out); expect "stream: same request again is a replay" deny 401 replay null
out=$(sed -n 3p stream.out); expect "stream: a new nonce passes" allow 200 null alice
# a forged request must not burn the nonce of the real one
replace X-Signature "$(printf '0%.0s' $(seq 64))"
printf '' >hf; for ((i = 1; i < ${#H2[@]}; i += 2)); do printf '%s\n' "${H2[i]}" >>hf; done
reqjson forged.json POST /v1/charges 'a=1&b=%20x' '{"amount":5}' hf
signh h3 --key-id k1 --secret-file s1 --method POST --path /v1/charges --query 'a=1&b=%20x' --body '{"amount":5}' --now "$NOW"
n3=$(sed -n 's/^X-Nonce: //p' h3)
sed -i "s/^X-Nonce: .*/X-Nonce: $n3/" hf
reqjson forged.json POST /v1/charges 'a=1&b=%20x' '{"amount":5}' hf
reqjson r3.json POST /v1/charges 'a=1&b=%20x' '{"amount":5}' h3
cat forged.json r3.json >stream2.json
"$BAST" verify --app pay --confdir c --request stream2.json --now "$NOW" >stream2.out
out=$(sed -n 1p stream2.out); expect "forged signature with a real nonce" deny 401 invalid_signature null
out=$(sed -n 2p stream2.out); expect "the real request with that nonce still passes" allow 200 null alice

# a body the server does not see (nginx auth_request)
sign
out=$("$BAST" verify --app pay --confdir c "${H[@]}" --method POST --path /v1/charges --query 'a=1&b=%20x' --now "$NOW")
expect "no body, hash not trusted" deny 401 body_unavailable null
out=$("$BAST" verify --app trust --confdir c "${H[@]}" --method POST --path /v1/charges --query 'a=1&b=%20x' --now "$NOW")
expect "no body, declared hash trusted" allow 200 null alice
check_eq "declared hash handed upstream" "$(printf '{"amount":5}' | sha256sum | cut -d' ' -f1)" "$(field 'r["attributes"]["declared_body_hash"]')"
out=$("$BAST" verify --app trust --confdir c "${H[@]}" --method POST --path /v1/charges --query 'a=1&b=%20x' --body 'other' --now "$NOW")
expect "trusted instance still checks a body it has" deny 401 body_hash_mismatch null

signh h --key-id k1 --secret-file s1 --method GET --path /v1/items --now "$NOW"
out=$("$BAST" verify --app pay --confdir c "${H[@]}" --method GET --path /v1/items --now "$NOW")
expect "GET without a body: the empty hash needs no trust" allow 200 null alice
signh h --key-id k1 --secret-file s1 --method GET --path /v1/items --body 'x' --now "$NOW"
out=$("$BAST" verify --app pay --confdir c "${H[@]}" --method GET --path /v1/items --now "$NOW")
expect "GET declaring a body the server does not see" deny 401 body_unavailable null

# an independent signer written from docs/hmac.md, with SHA-512
pysign() { # pysign DIGEST SECRET METHOD PATH QUERY BODY TS NONCE
    $PY - "$@" <<'PYEOF'
import hashlib, hmac, sys
dg, secret, method, path, query, body, ts, nonce = sys.argv[1:9]
bh = hashlib.new(dg, body.encode()).hexdigest()
pq = path + ("?" + query if query else "")
msg = "\n".join([method, pq, ts, nonce, bh])
sig = hmac.new(secret.encode(), msg.encode(), dg).hexdigest()
print("X-Api-Key: k1\nX-Timestamp: %s\nX-Nonce: %s\nX-Body-Hash: %s\nX-Signature: %s" % (ts, nonce, bh, sig))
PYEOF
}
TS=$(date -u -d "@$NOW" +%Y%m%dT%H%M%SZ)
pysign sha256 "$S1" GET /v1/items 'x=1' '' "$TS" py-nonce-000001 >hp
H=(); while IFS= read -r l; do H+=(-H "$l"); done <hp
out=$("$BAST" verify --app pay --confdir c "${H[@]}" --method GET --path /v1/items --query x=1 --body '' --now "$NOW")
expect "independent Python signer (SHA-256)" allow 200 null alice
pysign sha512 "$S1" POST /v1/items '' 'big body' "$TS" py-nonce-000002 >hp
H=(); while IFS= read -r l; do H+=(-H "$l"); done <hp
out=$("$BAST" verify --app big --confdir c "${H[@]}" --method POST --path /v1/items --body 'big body' --now "$NOW")
expect "digest = sha512" allow 200 null alice
out=$("$BAST" verify --app pay --confdir c "${H[@]}" --method POST --path /v1/items --body 'big body' --now "$NOW")
expect "SHA-512 signature on a SHA-256 instance" deny 400 invalid_request null

# the openssl-command client of docs/hmac.md
BODY='{"amount":5}'; nonce=$(openssl rand -hex 16)
bh=$(printf %s "$BODY" | openssl dgst -sha256 -r | cut -d' ' -f1)
sig=$(printf '%s\n%s\n%s\n%s\n%s' POST '/v1/charges?expand=customer' "$TS" "$nonce" "$bh" |
      openssl dgst -sha256 -hmac "$S1" -r | cut -d' ' -f1)
out=$("$BAST" verify --app pay --confdir c -H "X-Api-Key: k1" -H "X-Timestamp: $TS" -H "X-Nonce: $nonce" \
      -H "X-Body-Hash: $bh" -H "X-Signature: $sig" --method POST --path /v1/charges --query expand=customer \
      --body "$BODY" --now "$NOW")
expect "openssl command signer from the docs" allow 200 null alice

# load-time errors
bad_conf() { # bad_conf WHAT GREP OPTION-LINES...
    local what=$1 pat=$2; shift 2
    mkconf "bc"; rm -f bc/conf.d/*.conf
    hconf bc x "$@"
    errout=$("$BAST" check --confdir bc 2>&1); local r=$?
    if [ "$r" = 2 ] && printf '%s' "$errout" | grep -q -- "$pat"; then ok "$what"; else not_ok "$what (rc $r: $errout)"; fi
}
cp c/secrets bc_secrets 2>/dev/null; mkdir -p bc; cp c/secrets bc/secrets; chmod 600 bc/secrets
bad_conf "unknown option" "colour" "secrets_file = secrets" "colour = red"
bad_conf "bad digest" "md5" "secrets_file = secrets" "digest = md5"
bad_conf "bad profile" "profile" "secrets_file = secrets" "profile = aws"
bad_conf "no secrets_file" "secrets_file" "window = 30"
bad_conf "window 0" "window" "secrets_file = secrets" "window = 0"
bad_conf "webhook option on the bast profile" "webhook_name" "secrets_file = secrets" "webhook_name = x"
chmod 644 bc/secrets
bad_conf "secrets file readable by others" "secrets" "secrets_file = secrets"
chmod 600 bc/secrets
printf 'k1 alice short\n' >bc/secrets
bad_conf "secret under 16 chars" "secrets:1" "secrets_file = secrets"
printf 'k1 alice aaaaaaaaaaaaaaaaaaaa\nk1 bob bbbbbbbbbbbbbbbbbbbbbbbb\n' >bc/secrets
bad_conf "key id twice" "twice" "secrets_file = secrets"
printf 'k1 alice\n' >bc/secrets
bad_conf "key without a secret" "no secret" "secrets_file = secrets"

# bast sign: usage and failures
"$BAST" sign --help >help.out 2>&1; check_eq "bast sign --help: exit 0" 0 "$?"
check "bast sign --help names the options" grep -q -- --secret-file help.out
"$BAST" sign --key-id k1 --secret-file s1 >/dev/null 2>&1; check_eq "bast sign without --path: exit 2" 2 "$?"
"$BAST" sign --key-id k1 --secret-file nowhere --path /x >/dev/null 2>&1; check_eq "bast sign with a missing secret file: exit 1" 1 "$?"
"$BAST" sign --key-id k1 --secret-file s1 --path /x --body a --body-file s1 >/dev/null 2>&1; check_eq "bast sign with --body and --body-file: exit 2" 2 "$?"
"$BAST" sign --profile nope --key-id k1 --secret-file s1 --path /x >/dev/null 2>&1; check_eq "bast sign with an unknown profile: exit 1" 1 "$?"
"$BAST" sign --key-id k1 --secret-file s1 --path x >/dev/null 2>&1; check_eq "bast sign with a relative path: exit 1" 1 "$?"
"$BAST" sign --key-id k1 --secret-file s1 --path /x --now soon >/dev/null 2>&1; check_eq "bast sign --now not a number: exit 2" 2 "$?"
printf 'payload from a file' >body.bin
signh h --key-id k1 --secret-file s1 --method PUT --path /f --body-file body.bin --now "$NOW"
out=$("$BAST" verify --app pay --confdir c "${H[@]}" --method PUT --path /f --body 'payload from a file' --now "$NOW")
expect "bast sign --body-file" allow 200 null alice
