#!/usr/bin/env bash
# The hmac plugin's webhook profiles with signatures computed here in
# Python from the senders' published schemes: `stripe` (Stripe-Signature
# t=,v1= over "t.body") and `standard-webhooks` (webhook-id/-timestamp/
# -signature v1,<base64> over "id.ts.body", whsec_ keys).  Valid, rotation
# (either secret line), several v1 during rotation, wrong signature, stale
# and future timestamps, tampered body, absent, malformed and repeated
# headers, replay in one context, no body, `bast sign` for both, and load
# errors.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/hmac/hmaclib.sh"
cd "$T" || exit 1
umask 022

NOW=1800000000
mkconf c
printf 'whsec_stripe_new_000000000000\nwhsec_stripe_old_111111111111\n' >c/stripe.secret
KEY_B64=$(printf '0123456789abcdef01234567' | base64)
OLD_B64=$(printf 'older-key-0123456789abcd' | base64)
printf 'whsec_%s\nwhsec_%s\n' "$KEY_B64" "$OLD_B64" >c/swh.secret
chmod 600 c/stripe.secret c/swh.secret
hconf c st "profile = stripe" "secret = stripe.secret" "webhook_name = stripe-events"
hconf c sw "profile = standard-webhooks" "secret = swh.secret" "webhook_name = acme-hooks" "window = 5m"

stripe_sig() { # stripe_sig SECRET TS BODY
    $PY -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), (sys.argv[2]+"."+sys.argv[3]).encode(), hashlib.sha256).hexdigest())' "$@"
}
swh_sig() { # swh_sig B64KEY ID TS BODY
    $PY -c 'import hmac,hashlib,sys,base64; k=base64.b64decode(sys.argv[1]); print(base64.b64encode(hmac.new(k, ("%s.%s.%s"%(sys.argv[2],sys.argv[3],sys.argv[4])).encode(), hashlib.sha256).digest()).decode())' "$@"
}
BODY='{"id":"evt_1","type":"charge.succeeded"}'
vst() { out=$("$BAST" verify --app st --confdir c --method POST --path /hooks/stripe --now "$NOW" "$@"); }
vsw() { out=$("$BAST" verify --app sw --confdir c --method POST --path /hooks/acme --now "$NOW" "$@"); }

# ---- stripe
GOOD=$(stripe_sig whsec_stripe_new_000000000000 "$NOW" "$BODY")
OLD=$(stripe_sig whsec_stripe_old_111111111111 "$NOW" "$BODY")
WRONG=$(stripe_sig whsec_somebody_else_22222222 "$NOW" "$BODY")
vst -H "Stripe-Signature: t=$NOW,v1=$GOOD" --body "$BODY"
expect "stripe: valid" allow 200 null stripe-events
check_eq "stripe: timestamp attribute" "$NOW" "$(field 'r["attributes"]["webhook_timestamp"]')"
vst -H "Stripe-Signature: t=$NOW,v1=$OLD" --body "$BODY"
expect "stripe: second secret line (rotation)" allow 200 null stripe-events
vst -H "Stripe-Signature: t=$NOW,v1=$WRONG,v1=$GOOD,v0=abc" --body "$BODY"
expect "stripe: several v1, one matches" allow 200 null stripe-events
vst -H "Stripe-Signature: t=$NOW,v1=$WRONG" --body "$BODY"
expect "stripe: wrong secret" deny 401 invalid_signature null
vst -H "Stripe-Signature: t=$NOW,v1=$GOOD" --body "${BODY/succeeded/failed}"
expect "stripe: tampered body" deny 401 invalid_signature null
T2=$((NOW - 301)); S2=$(stripe_sig whsec_stripe_new_000000000000 "$T2" "$BODY")
vst -H "Stripe-Signature: t=$T2,v1=$S2" --body "$BODY"
expect "stripe: 301 s old" deny 401 stale_timestamp null
T3=$((NOW + 301)); S3=$(stripe_sig whsec_stripe_new_000000000000 "$T3" "$BODY")
vst -H "Stripe-Signature: t=$T3,v1=$S3" --body "$BODY"
expect "stripe: 301 s ahead" deny 401 stale_timestamp null
vst -H "Stripe-Signature: t=$((NOW + 1)),v1=$GOOD" --body "$BODY"
expect "stripe: timestamp changed" deny 401 invalid_signature null
vst --body "$BODY"
check_eq "stripe: no header is absent" absent "$(field 'r["trace"][0]["result"]')"
for h in "t=$NOW" "v1=$GOOD" "t=abc,v1=$GOOD" "garbage" "t=$NOW,t=$NOW,v1=$GOOD" "t=$NOW,v1=zz" "t=$NOW,v0=$GOOD"; do
    vst -H "Stripe-Signature: $h" --body "$BODY"
    expect "stripe: malformed '${h:0:24}'" deny 400 invalid_request null
done
vst -H "Stripe-Signature: t=$NOW,v1=$GOOD" -H "Stripe-Signature: t=$NOW,v1=$GOOD" --body "$BODY"
expect "stripe: header twice" deny 400 invalid_request null
vst -H "Stripe-Signature: t=$NOW,v1=$GOOD"
expect "stripe: no body to check" deny 401 body_unavailable null
printf '{"method":"POST","path":"/hooks/stripe","headers":[["Stripe-Signature","t=%s,v1=%s"]],"body":%s}\n' "$NOW" "$GOOD" "$($PY -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$BODY")" >r.json
cat r.json r.json | "$BAST" verify --app st --confdir c --request - --now "$NOW" >s.out
out=$(sed -n 1p s.out); expect "stripe stream: first delivery" allow 200 null stripe-events
out=$(sed -n 2p s.out); expect "stripe stream: same delivery again" deny 401 replay null
printf 'whsec_stripe_new_000000000000' >stripe.key; chmod 600 stripe.key
signh h --profile stripe --secret-file stripe.key --body "$BODY" --now "$NOW"
check "bast sign --profile stripe prints Stripe-Signature" grep -q "^Stripe-Signature: t=$NOW,v1=$GOOD\$" h
vst "${H[@]}" --body "$BODY"
expect "stripe: bast sign output verifies" allow 200 null stripe-events

# ---- standard webhooks
ID=msg_2KWPBgLlAfxdpx2AI54pPJ85f4W
GOOD=$(swh_sig "$KEY_B64" "$ID" "$NOW" "$BODY")
OLD=$(swh_sig "$OLD_B64" "$ID" "$NOW" "$BODY")
WRONG=$(swh_sig "$(printf 'some-other-key-012345678' | base64)" "$ID" "$NOW" "$BODY")
swh() { vsw -H "webhook-id: $1" -H "webhook-timestamp: $2" -H "webhook-signature: $3" --body "${4-$BODY}"; }
swh "$ID" "$NOW" "v1,$GOOD"
expect "standard-webhooks: valid" allow 200 null acme-hooks
check_eq "standard-webhooks: webhook_id attribute" "$ID" "$(field 'r["attributes"]["webhook_id"]')"
swh "${ID}b" "$NOW" "v1,$OLD"
expect "standard-webhooks: id changed" deny 401 invalid_signature null
swh "$ID" "$NOW" "v1,$OLD"
expect "standard-webhooks: second key (rotation)" allow 200 null acme-hooks
swh "$ID" "$NOW" "v1a,AAAA v1,$WRONG v1,$GOOD"
expect "standard-webhooks: several signatures, one v1 matches" allow 200 null acme-hooks
swh "$ID" "$NOW" "v1,$WRONG"
expect "standard-webhooks: wrong key" deny 401 invalid_signature null
swh "$ID" "$NOW" "v1a,AAAA"
expect "standard-webhooks: only an asymmetric signature" deny 401 invalid_signature null
swh "$ID" "$NOW" "v1,$GOOD" "${BODY}x"
expect "standard-webhooks: tampered body" deny 401 invalid_signature null
T2=$((NOW - 301)); swh "$ID" "$T2" "v1,$(swh_sig "$KEY_B64" "$ID" "$T2" "$BODY")"
expect "standard-webhooks: 301 s old" deny 401 stale_timestamp null
T3=$((NOW + 301)); swh "$ID" "$T3" "v1,$(swh_sig "$KEY_B64" "$ID" "$T3" "$BODY")"
expect "standard-webhooks: 301 s ahead" deny 401 stale_timestamp null
vsw --body "$BODY"
check_eq "standard-webhooks: no header is absent" absent "$(field 'r["trace"][0]["result"]')"
vsw -H "webhook-timestamp: $NOW" -H "webhook-signature: v1,$GOOD" --body "$BODY"
expect "standard-webhooks: no webhook-id" deny 400 invalid_request null
swh "$ID" "soon" "v1,$GOOD"
expect "standard-webhooks: bad timestamp" deny 400 invalid_request null
swh "$ID" "$NOW" "v1,not*base64"
expect "standard-webhooks: bad base64" deny 400 invalid_request null
swh "$ID" "$NOW" "$GOOD"
expect "standard-webhooks: no version prefix" deny 400 invalid_request null
vsw -H "webhook-id: $ID" -H "webhook-id: x" -H "webhook-timestamp: $NOW" -H "webhook-signature: v1,$GOOD" --body "$BODY"
expect "standard-webhooks: webhook-id twice" deny 400 invalid_request null
$PY - "$ID" "$NOW" "$GOOD" "$BODY" >r2.json <<'PYEOF'
import json, sys
i, t, s, b = sys.argv[1:]
r = {"method": "POST", "path": "/hooks/acme", "body": b,
     "headers": [["webhook-id", i], ["webhook-timestamp", t], ["webhook-signature", "v1," + s]]}
print(json.dumps(r)); print(json.dumps(r))
PYEOF
"$BAST" verify --app sw --confdir c --request r2.json --now "$NOW" >s2.out
out=$(sed -n 1p s2.out); expect "standard-webhooks stream: first" allow 200 null acme-hooks
out=$(sed -n 2p s2.out); expect "standard-webhooks stream: same webhook-id again" deny 401 replay null
printf 'whsec_%s\n' "$KEY_B64" >swh.key; chmod 600 swh.key
signh h --profile standard-webhooks --key-id msg_from_cli --secret-file swh.key --body "$BODY" --now "$NOW"
vsw "${H[@]}" --body "$BODY"
expect "standard-webhooks: bast sign output verifies" allow 200 null acme-hooks

# ---- load errors
lerr() { # lerr WHAT GREP CONF-LINES...
    local what=$1 pat=$2 r; shift 2
    rm -rf e; hconf e x "$@"; cp c/*.secret e/ 2>/dev/null
    errout=$("$BAST" check --confdir e 2>&1); r=$?
    if [ "$r" = 2 ] && printf '%s' "$errout" | grep -q -- "$pat"; then ok "$what"; else not_ok "$what (rc $r: $errout)"; fi
}
lerr "webhook profile without webhook_name" webhook_name "profile = stripe" "secret = stripe.secret"
lerr "webhook profile without secret" secret "profile = stripe" "webhook_name = s"
lerr "secrets_file on a webhook profile" secrets_file "profile = stripe" "secret = stripe.secret" "webhook_name = s" "secrets_file = x"
rm -rf e; hconf e x "profile = standard-webhooks" "secret = bad.secret" "webhook_name = s"
printf 'no-prefix-secret-000000000\n' >e/bad.secret; chmod 600 e/bad.secret
errout=$("$BAST" check --confdir e 2>&1); r=$?
if [ "$r" = 2 ] && printf '%s' "$errout" | grep -q whsec_; then ok "standard-webhooks refuses a secret without whsec_"; else not_ok "whsec_ check (rc $r: $errout)"; fi
