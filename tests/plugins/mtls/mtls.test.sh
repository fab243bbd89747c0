#!/usr/bin/env bash
# The mtls plugin through the real loader and `bast verify --cert`: a PKI
# made here with the openssl command (root, intermediate, other CA, CRLs),
# one case per result and per attack: valid (CN, DNS, URI, email, DN,
# fingerprint), expired, not yet valid, --now, other CA, missing or too
# long intermediate chain, wrong or missing clientAuth EKU, revoked (leaf
# and chain CRL checks), self-signed, pins, allow-list, trusted proxies,
# garbage and oversized input, attributes, and option errors at load.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/mtls/pki.sh"
cd "$T" || exit 1

newca root "Test Root"
newca inter "Test Inter" root
newca other "Other Root"
SAN_A='subjectAltName = DNS:a.example.com, URI:spiffe://example.org/ns/a, email:a@example.com'
leaf root a "/O=Example Corp/CN=svc-a" "$CLIENT_EXT
$SAN_A"
leaf root b "/CN=svc-b" "$CLIENT_EXT
subjectAltName = DNS:b.example.com, DNS:b.other.org"
leaf inter ia "/CN=inter-a" "$CLIENT_EXT"
leaf root expired "/CN=expired" "$CLIENT_EXT" 20200101000000Z 20210101000000Z
leaf root future "/CN=future" "$CLIENT_EXT" 20350101000000Z 20351231000000Z
leaf other stranger "/CN=stranger" "$CLIENT_EXT"
leaf root server "/CN=server" "basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid"
leaf root noeku "/CN=noeku" "basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid"
leaf root revoked "/CN=revoked" "$CLIENT_EXT"
leaf inter irev "/CN=inter-revoked" "$CLIENT_EXT"
selfsigned self "/CN=self" "$CLIENT_EXT"
cat ia.pem inter/ca.pem >ia-chain.pem
cat irev.pem inter/ca.pem >irev-chain.pem
revoke root revoked.pem
gencrl root root.crl
revoke inter irev.pem
gencrl inter inter.crl
cat root.crl inter.crl >all.crl
# a second intermediate, revoked by the root: its own leaf is not revoked
newca inter2 "Test Inter 2" root
leaf inter2 i2 "/CN=inter2-a" "$CLIENT_EXT"
cat i2.pem inter2/ca.pem >i2-chain.pem
revoke root inter2/ca.pem
gencrl root root2.crl
gencrl inter2 inter2.crl
cat root2.crl inter2.crl inter.crl >chain.crl
check "the openssl command made every certificate" test -s i2-chain.pem -a -s self.pem -a -s chain.crl

mkconf conf
conf() { # conf APP OPTION-LINES...
    local app=$1; shift
    { printf '[app]\nrealm = certs\n\n[certs]\nplugin = mtls\ncontrol = required\nca_file = %s\n' "$T/root/ca.pem"
      printf '%s\n' "$@"; } >"conf/conf.d/$app.conf"
}
# field JSON PYEXPR: evaluate on the parsed result r
field() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print("null" if v is None else v)' "$1" "$2" 2>/dev/null; }
# expect NAME APP CERT DECISION STATUS ERROR IDENTITY [verify args...]
expect() {
    local name=$1 app=$2 cert=$3 dec=$4 st=$5 err=$6 id=$7; shift 7
    local args=()
    [ -n "$cert" ] && args=(--cert "$cert")
    verify "$app" conf "${args[@]}" "$@" >/dev/null
    local got
    got="$(field "$out" 'r["decision"]') $(field "$out" 'r["status"]') $(field "$out" 'r["error"]') $(field "$out" 'r["identity"]')"
    check_eq "$name" "$dec $st $err $id" "$got"
}
result0() { field "$out" 'r["trace"][0]["result"]'; }

conf cn
expect "valid leaf: identity is the CN" cn a.pem allow 200 null svc-a
check_eq "valid leaf: scheme is mtls" mtls "$(field "$out" 'r["scheme"]')"
fp=$(openssl x509 -in a.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
check_eq "attribute cert_sha256 is the SHA-256 fingerprint" "$fp" "$(field "$out" 'r["attributes"]["cert_sha256"]')"
x5t=$(openssl x509 -in a.pem -outform der | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
check_eq "attribute x5t#S256 is base64url of the same hash" "$x5t" "$(field "$out" 'r["attributes"]["x5t#S256"]')"
check_eq "attribute subject (RFC 2253)" "CN=svc-a,O=Example Corp" "$(field "$out" 'r["attributes"]["subject"]')"
check_eq "attribute issuer" "CN=Test Root" "$(field "$out" 'r["attributes"]["issuer"]')"
serial=$(openssl x509 -in a.pem -noout -serial | sed 's/.*=//')
check_eq "attribute serial" "$serial" "$(field "$out" 'r["attributes"]["serial"]')"
na=$(date -d "$(openssl x509 -in a.pem -noout -enddate | sed 's/.*=//')" +%s)
check_eq "attribute not_after (epoch)" "$na" "$(field "$out" 'r["attributes"]["not_after"]')"

expect "no certificate: absent" cn "" deny 401 missing_credentials null
check_eq "no certificate: the trace says absent" absent "$(result0)"
: >empty.pem
expect "empty certificate text: absent" cn empty.pem deny 401 missing_credentials null
expect "expired leaf: deny" cn expired.pem deny 401 certificate_expired null
check "expired leaf: OpenSSL's reason in error_description" grep -q "certificate has expired" <<<"$out"
expect "not yet valid leaf: deny" cn future.pem deny 401 certificate_not_yet_valid null
now=$(date +%s)
expect "--now before a leaf's start: not yet valid" cn a.pem deny 401 certificate_not_yet_valid null --now $((now - 86400 * 3))
expect "--now after a leaf's end: expired" cn a.pem deny 401 certificate_expired null --now $((now + 86400 * 400))
expect "leaf of another CA: deny" cn stranger.pem deny 401 invalid_certificate null
check "other CA: reason names the missing issuer" grep -q "unable to get local issuer certificate" <<<"$out"
expect "self-signed leaf: deny" cn self.pem deny 401 invalid_certificate null
check "self-signed: reason says so" grep -q "self-signed certificate" <<<"$out"
expect "intermediate chain (leaf first): allowed" cn ia-chain.pem allow 200 null inter-a
expect "intermediate missing from the chain: deny" cn ia.pem deny 401 invalid_certificate null
cat stranger.pem other/ca.pem >own-root.pem
expect "chain that brings its own root: deny" cn own-root.pem deny 401 invalid_certificate null
check "own root: reason names the self-signed root" grep -q "self-signed certificate in certificate chain" <<<"$out"
# a client certificate used as a CA to sign another one
printf '[ x ]\n%s\n' "$CLIENT_EXT" >evil.ext
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout evil.key \
    -out evil.csr -subj "/CN=svc-a" 2>/dev/null
openssl x509 -req -in evil.csr -CA a.pem -CAkey a.key -set_serial 7 -days 30 \
    -extfile evil.ext -extensions x -out evil.pem 2>/dev/null
cat evil.pem a.pem >evil-chain.pem
expect "leaf signed by a client certificate: deny" cn evil-chain.pem deny 401 invalid_certificate null
check "client certificate as CA: reason says invalid CA" grep -q "invalid CA certificate" <<<"$out"
cat ia.pem stranger.pem inter/ca.pem >mixed.pem
expect "unrelated certificate in the chain is harmless" cn mixed.pem allow 200 null inter-a
conf depth0 "max_depth = 0"
expect "chain longer than max_depth: deny" depth0 ia-chain.pem deny 401 invalid_certificate null
check "max_depth: reason says chain too long" grep -q "chain too long" <<<"$out"
expect "max_depth 0 still takes a leaf issued by the root" depth0 a.pem allow 200 null svc-a
expect "serverAuth-only leaf: deny (no clientAuth)" cn server.pem deny 401 invalid_certificate null
check "serverAuth-only: reason is the purpose" grep -q "unsuitable certificate purpose" <<<"$out"
expect "leaf without any EKU: deny by default" cn noeku.pem deny 401 invalid_certificate null
conf noeku "require_eku = no"
expect "leaf without any EKU: allowed with require_eku = no" noeku noeku.pem allow 200 null noeku
expect "serverAuth-only stays refused with require_eku = no" noeku server.pem deny 401 invalid_certificate null

conf crl "crl_file = $T/all.crl"
expect "CRL: revoked leaf: deny" crl revoked.pem deny 401 certificate_revoked null
check "CRL: reason says revoked" grep -q "certificate revoked" <<<"$out"
expect "CRL: good leaf still allowed" crl a.pem allow 200 null svc-a
expect "CRL: revoked leaf under an intermediate: deny" crl irev-chain.pem deny 401 certificate_revoked null
conf crlleaf "crl_file = $T/chain.crl" "crl_check = leaf"
expect "crl_check = leaf: revoked intermediate not looked at" crlleaf i2-chain.pem allow 200 null inter2-a
conf crlchain "crl_file = $T/chain.crl" "crl_check = chain"
expect "crl_check = chain: revoked intermediate: deny" crlchain i2-chain.pem deny 401 certificate_revoked null
conf crlroot "crl_file = $T/inter.crl"
expect "CRL missing for the issuer: deny (fail closed)" crlroot a.pem deny 401 invalid_certificate null
check "missing CRL: reason says so" grep -q "unable to get certificate CRL" <<<"$out"
expect "CRL past its nextUpdate (--now): deny" crl a.pem deny 401 invalid_certificate null --now $((now + 86400 * 60))

conf dns "identity = san_dns"
expect "identity = san_dns" dns a.pem allow 200 null a.example.com
conf uri "identity = san_uri" "allow = spiffe://example.org/ns/*"
expect "identity = san_uri (SPIFFE) on the allow-list" uri a.pem allow 200 null spiffe://example.org/ns/a
expect "identity = san_uri: no URI SAN: deny" uri b.pem deny 401 invalid_certificate null
conf email "identity = san_email"
expect "identity = san_email" email a.pem allow 200 null a@example.com
conf dn "identity = dn"
expect "identity = dn" dn a.pem allow 200 null "CN=svc-a,O=Example Corp"
leaf root utf "/O=Bücher GmbH/CN=Jürgen" "$CLIENT_EXT"
expect "UTF-8 CN kept as UTF-8" cn utf.pem allow 200 null "Jürgen"
expect "UTF-8 DN kept as UTF-8" dn utf.pem allow 200 null "CN=Jürgen,O=Bücher GmbH"
conf fp "identity = fingerprint"
expect "identity = fingerprint" fp a.pem allow 200 null "$fp"
conf allow "allow = svc-a other-*"
expect "allow-list: listed CN allowed" allow a.pem allow 200 null svc-a
expect "allow-list: valid but unlisted CN: forbidden" allow b.pem deny 403 not_allowed null
check_eq "allow-list: the trace says forbidden" forbidden "$(result0)"
conf dnsallow "identity = san_dns" "allow = *.other.org"
expect "allow-list picks the SAN that matches" dnsallow b.pem allow 200 null b.other.org
expect "allow-list: no SAN matches: forbidden" dnsallow a.pem deny 403 not_allowed null

spki=$(openssl x509 -in b.pem -noout -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
conf pinc "pins = cert:$fp"
expect "pin of the certificate (hex): allowed" pinc a.pem allow 200 null svc-a
expect "another valid certificate: pin_mismatch" pinc b.pem deny 401 pin_mismatch null
conf pins "pins = cert:0000000000000000000000000000000000000000000000000000000000000000 spki:$spki"
expect "pin of the public key (base64): allowed" pins b.pem allow 200 null svc-b
expect "pins do not replace chain checks" pins stranger.pem deny 401 invalid_certificate null

conf proxy "trusted_proxies = 127.0.0.0/8 ::1"
expect "trusted proxy: certificate used" proxy a.pem allow 200 null svc-a --remote-addr 127.0.0.1
expect "trusted proxy (IPv6): certificate used" proxy a.pem allow 200 null svc-a --remote-addr ::1
expect "untrusted address: certificate ignored" proxy a.pem deny 401 untrusted_proxy null --remote-addr 192.0.2.7
check_eq "untrusted address: the trace says absent" absent "$(result0)"
expect "no remote address: certificate ignored" proxy a.pem deny 401 untrusted_proxy null

printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' >garbage.pem
expect "garbage PEM: deny" cn garbage.pem deny 401 invalid_certificate null
head -c 300 a.pem >trunc.pem
expect "truncated PEM: deny" cn trunc.pem deny 401 invalid_certificate null
{ cat a.pem; echo trailing junk; } >junk.pem
expect "PEM with trailing junk: deny" cn junk.pem deny 401 invalid_certificate null
for i in $(seq 11); do cat a.pem; done >eleven.pem
expect "more than 10 certificates: deny" cn eleven.pem deny 401 invalid_certificate null
{ cat a.pem; head -c 70000 /dev/zero | tr '\0' 'A'; } >big.pem
expect "chain over 64 KiB: deny" cn big.pem deny 401 invalid_certificate null

# configuration errors name file:line and the key
bad() { # bad NAME EXPECTED-TEXT LINES...
    local name=$1 want=$2; shift 2
    conf bad "$@"
    "$BAST" check --app bad --confdir conf >"$T/chk.out" 2>&1; local r=$?
    if [ $r -eq 2 ] && grep -q -- "$want" "$T/chk.out"; then ok "load error: $name"
    else not_ok "load error: $name (rc $r: $(head -c 300 "$T/chk.out"))"; fi
}
bad "unknown key" "bad.conf:.*colour" "colour = blue"
bad "bad identity" "identity" "identity = serial"
bad "bad pin" "pins" "pins = cert:abcd"
bad "bad CIDR" "trusted_proxies" "trusted_proxies = 10.0.0.0/33"
bad "bad crl_check" "crl_check" "crl_file = $T/all.crl" "crl_check = some"
bad "unreadable CRL" "crl_file" "crl_file = $T/nope.crl"
printf '[app]\n[certs]\nplugin = mtls\ncontrol = required\n' >conf/conf.d/bad.conf
"$BAST" check --app bad --confdir conf >"$T/chk.out" 2>&1
check_eq "load error: no ca_file nor ca_dir (exit 2)" 2 $?
check "load error: no ca_file nor ca_dir says so" grep -q "ca_file or ca_dir is required" "$T/chk.out"
printf '[app]\n[certs]\nplugin = mtls\ncontrol = required\nca_file = %s\n' "$T/nope.pem" >conf/conf.d/bad.conf
"$BAST" check --app bad --confdir conf >"$T/chk.out" 2>&1
check "load error: missing ca_file names the key" grep -q "ca_file" "$T/chk.out"
printf '[app]\n[certs]\nplugin = mtls\ncontrol = required\nca_dir = %s\n' "$T/nodir" >conf/conf.d/bad.conf
"$BAST" check --app bad --confdir conf >"$T/chk.out" 2>&1
check "load error: missing ca_dir names the key" grep -q "ca_dir" "$T/chk.out"
rm -f conf/conf.d/bad.conf

# ca_dir: a hashed directory works like ca_file
mkdir -p cadir && cp root/ca.pem cadir/ && openssl rehash cadir 2>/dev/null
printf '[app]\n[certs]\nplugin = mtls\ncontrol = required\nca_dir = %s\n' "$T/cadir" >conf/conf.d/cadir.conf
expect "ca_dir: valid leaf allowed" cadir a.pem allow 200 null svc-a
expect "ca_dir: other CA denied" cadir stranger.pem deny 401 invalid_certificate null

# Through bastd as nginx auth_request calls it: the chain arrives
# URL-escaped in X-Client-Cert ($ssl_client_escaped_cert).
BASTD=$B/bin/bastd
if [ ! -x "$BASTD" ]; then
    skip "bastd not built: X-Client-Cert test"
    exit 0
fi
port=$(free_port)
"$BASTD" --confdir conf --listen "127.0.0.1:$port" 2>bastd.err &
at_exit "kill $!"
for i in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
esc() { $PY -c 'import sys,urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read(), safe=""))' "$1"; }
hdrs() { curl -s -o /dev/null -D - -H "X-Original-URI: /v1/x" -H "X-Original-Method: GET" \
    -H "X-Client-Cert: $(esc "$1")" "http://127.0.0.1:$port/verify/cn" | tr -d '\r'; }
h=$(hdrs ia-chain.pem)
check "bastd: escaped chain in X-Client-Cert: 200" grep -q '^HTTP/1.1 200' <<<"$h"
check "bastd: X-Bast-Identity is the CN" grep -q '^X-Bast-Identity: inter-a$' <<<"$h"
check "bastd: expired certificate: 401" grep -q '^HTTP/1.1 401' <<<"$(hdrs expired.pem)"
