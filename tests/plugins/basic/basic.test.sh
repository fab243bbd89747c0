#!/usr/bin/env bash
# The basic plugin through the real loader and `bast verify --request`:
# entries made by Debian's htpasswd -B and mkpasswd (yescrypt, sha-512);
# ids and secrets with ':' '%' '+' and UTF-8 encoded per RFC 6749 2.3.1;
# wrong secret, unknown id (and its timing), bad base64, no colon, broken
# and repeated headers, no TLS; refused hash kinds at load; the success
# cache; and the `bast basic add|remove|list` management commands.
. "$TOP/tests/lib.sh"
cd "$T" || exit 1

bcrypt() { htpasswd -nbB x "$1" | head -1 | cut -d: -f2-; }
yescrypt() { mkpasswd -m yescrypt "$1"; }
sha512() { mkpasswd -m sha-512 "$1"; }

ID3='app:1%+é' SECRET3='p:a%s+s wörd'
{
    echo "# clients of the token endpoint"
    echo "client-b:$(bcrypt 's3cret-b')"
    echo
    echo "client-y:$(yescrypt 's3cret-y')"
    echo "client-6:$(sha512 's3cret-6')"
    echo "$ID3:$(yescrypt "$SECRET3")"
    echo "müller:$(sha512 'grüße')"
} >users
chmod 640 users
mkconf conf
conf() { # conf APP OPTION-LINES...
    local app=$1; shift
    { printf '[app]\nrealm = tokens\n\n[clients]\nplugin = basic\ncontrol = required\nusers_file = %s\n' "$T/users"
      printf '%s\n' "$@"; } >"conf/conf.d/$app.conf"
}
conf tok

# req FILE [--no-tls] [--raw] ID SECRET | req FILE [--no-tls] --header VALUE...
# writes a request; ID and SECRET are form-encoded (quote_plus) then base64.
req() {
    $PY - "$@" <<'PY'
import base64, json, sys, urllib.parse
a = sys.argv[1:]; out = a.pop(0); tls = True; raw = False; hdrs = []
if a and a[0] == "--no-tls": tls = False; a.pop(0)
if a and a[0] == "--raw": raw = True; a.pop(0)
if a and a[0] == "--header":
    hdrs = [["Authorization", v] for v in a[1:]]
else:
    i, s = a
    enc = (lambda x: x) if raw else urllib.parse.quote_plus
    cred = (enc(i) + ":" + enc(s)).encode()
    hdrs = [["Authorization", "Basic " + base64.b64encode(cred).decode()]]
json.dump({"method": "POST", "path": "/oauth/token", "headers": hdrs,
           "tls": tls, "remote_addr": "127.0.0.1"}, open(out, "w"))
PY
}
field() { $PY -c 'import json,sys; r=json.loads(sys.argv[1].splitlines()[int(sys.argv[3]) if len(sys.argv)>3 else 0]); v=eval(sys.argv[2]); print("null" if v is None else v)' "$@" 2>/dev/null; }
# expect NAME APP DECISION STATUS ERROR IDENTITY (on request file r.json)
expect() {
    local name=$1 app=$2 dec=$3 st=$4 err=$5 id=$6
    verify "$app" conf --request r.json >/dev/null
    local got
    got="$(field "$out" 'r["decision"]') $(field "$out" 'r["status"]') $(field "$out" 'r["error"]') $(field "$out" 'r["identity"]')"
    check_eq "$name" "$dec $st $err $id" "$got"
}

req r.json client-b s3cret-b
expect "bcrypt entry from htpasswd -B: allowed" tok allow 200 null client-b
check_eq "scheme is basic" basic "$(field "$out" 'r["scheme"]')"
req r.json client-y s3cret-y
expect "yescrypt entry from mkpasswd: allowed" tok allow 200 null client-y
req r.json client-6 s3cret-6
expect "sha-512 entry from mkpasswd: allowed" tok allow 200 null client-6
req r.json "$ID3" "$SECRET3"
expect "id and secret with : % + UTF-8, form-encoded: allowed" tok allow 200 null "$ID3"
req r.json --raw 'müller' 'grüße'
expect "UTF-8 id and secret sent raw: allowed" tok allow 200 null 'müller'
req r.json --raw "$ID3" "$SECRET3"
expect "the same id sent without form-encoding: deny" tok deny 401 invalid_client null
req r.json client-b wrong
expect "wrong secret: deny invalid_client" tok deny 401 invalid_client null
check_eq "wrong secret: a Basic challenge with the realm and charset" \
    'Basic realm="tokens", charset="UTF-8"' "$(field "$out" 'r["challenges"][0]')"
req r.json nobody s3cret-b
expect "unknown id: deny invalid_client" tok deny 401 invalid_client null
req r.json client-b "s3cret-b "
expect "secret with a trailing space: deny" tok deny 401 invalid_client null
req r.json --header 'Basic !!!notbase64'
expect "bad base64: deny invalid_client" tok deny 401 invalid_client null
req r.json --header "Basic $(printf 'client-b:s3cret-b' | base64 | tr -d '=')"
expect "base64 without its padding: deny" tok deny 401 invalid_client null
req r.json --header "Basic $(printf 'client-b' | base64)"
expect "no colon: deny invalid_client" tok deny 401 invalid_client null
req r.json --header "Basic $(printf 'client-b:s3cret-b%%zz' | base64)"
expect "bad %-escape: deny invalid_client" tok deny 401 invalid_client null
req r.json --header "Basic $(printf 'client-b:s3cret-b%%00' | base64)"
expect "NUL via %00: deny invalid_client" tok deny 401 invalid_client null
req r.json --header "Basic $(printf 'client-b:s3cret\tb' | base64)"
expect "control character: deny invalid_client" tok deny 401 invalid_client null
req r.json --header "bAsIc $(printf 'client-b:s3cret-b' | base64)"
expect "scheme name is case-insensitive" tok allow 200 null client-b
req r.json --header "Basic"
expect "Basic without a token: malformed" tok deny 400 invalid_request null
req r.json --header "Basic abc def"
expect "Basic with two tokens: malformed" tok deny 400 invalid_request null
req r.json --header "Basic $(printf 'client-b:s3cret-b' | base64)" "Basic $(printf 'client-b:s3cret-b' | base64)"
expect "two Authorization headers: malformed" tok deny 400 invalid_request null
check_eq "two headers: the trace says malformed" malformed "$(field "$out" 'r["trace"][0]["result"]')"
req r.json --header "Bearer abc"
expect "another scheme: absent" tok deny 401 missing_credentials null
check_eq "another scheme: the trace says absent" absent "$(field "$out" 'r["trace"][0]["result"]')"
check_eq "absent: Basic challenge" 'Basic realm="tokens", charset="UTF-8"' "$(field "$out" 'r["challenges"][0]')"
req r.json --header "Basic$(printf 'client-b:s3cret-b' | base64)"
expect "Basicxxx is not Basic: absent" tok deny 401 missing_credentials null
req r.json --no-tls client-b s3cret-b
expect "request without TLS: deny tls_required" tok deny 401 tls_required null
conf notls "require_tls = no"
expect "require_tls = no: allowed without TLS" notls allow 200 null client-b
$PY -c 'import json; json.dump({"method":"POST","path":"/oauth/token","tls":True},open("r.json","w"))'
expect "no Authorization: absent" tok deny 401 missing_credentials null

# Unknown ids spend what known ids spend (the dummy hash has the first
# entry's kind and cost); compared loosely through the trace's "us".
us_of() { req r.json "$1" "$2"; verify tok conf --request r.json >/dev/null; field "$out" 'r["trace"][0]["us"]'; }
known=0 unknown=0
for i in 1 2 3; do
    known=$((known + $(us_of client-b nope)))
    unknown=$((unknown + $(us_of nobody-$i nope)))
done
if [ "$unknown" -ge $((known / 3)) ]; then ok "unknown id costs a hash too ($unknown vs $known us)"
else not_ok "unknown id answered too fast ($unknown vs $known us)"; fi

# The cache: a repeated success skips the hash.  Requests in one run mix
# good and wrong secrets; the wrong ones (always hashed) are the yardstick
# measured in the same run, and minimums keep scheduling noise out.
req r1.json client-b s3cret-b
$PY -c 'import json; r=json.load(open("r1.json")); g=json.dumps(r); r["headers"][0][1]="Basic Y2xpZW50LWI6d3Jvbmc="; w=json.dumps(r); print("\n".join([w, g, g, g, w, g, g, w]))' >seq.jsonl
min_us() { local m="" i v; for i in "$@"; do v=$(field "$out" 'r["trace"][0]["us"]' "$i"); if [ -z "$m" ] || [ "$v" -lt "$m" ]; then m=$v; fi; done; echo "$m"; }
verify tok conf --request seq.jsonl >/dev/null
check_eq "cache: decisions" "deny allow allow allow deny allow allow deny" "$(for i in 0 1 2 3 4 5 6 7; do field "$out" 'r["decision"]' $i; done | xargs)"
ref=$(min_us 0 4 7) hit=$(min_us 2 3 5 6)
if [ "$hit" -lt $((ref / 4)) ]; then ok "cache: a repeated success skips the hash ($hit vs $ref us)"
else not_ok "cache: repeated success not faster ($hit vs $ref us)"; fi
conf nocache "cache_ttl = 0"
verify nocache conf --request seq.jsonl >/dev/null
ref=$(min_us 0 4 7) hit=$(min_us 1 2 3 5 6)
if [ "$hit" -ge $((ref / 4)) ]; then ok "cache_ttl = 0: every request hashes ($hit vs $ref us)"
else not_ok "cache_ttl = 0: a request skipped the hash ($hit vs $ref us)"; fi

# Refused hash kinds name file:line and why; so does a writable file.
bad() { # bad NAME GREP LINE
    printf 'ok-client:%s\n%s\n' "$(bcrypt x)" "$3" >badusers
    chmod 600 badusers
    printf '[app]\n[c]\nplugin = basic\ncontrol = required\nusers_file = %s\n' "$T/badusers" >conf/conf.d/bad.conf
    "$BAST" check --app bad --confdir conf >chk.out 2>&1; local r=$?
    if [ $r -eq 2 ] && grep -q "badusers:2: .*$2" chk.out; then ok "refused at load: $1"
    else not_ok "refused at load: $1 (rc $r: $(head -c 300 chk.out))"; fi
}
bad "{SHA} from htpasswd -s" "unsalted SHA-1" "$(htpasswd -nbs c x)"
bad "\$apr1\$ from htpasswd -m" "MD5" "$(htpasswd -nbm c x)"
bad "DES crypt from htpasswd -d" "DES" "$(htpasswd -nbd c x 2>/dev/null)"
bad "plain text from htpasswd -p" "plain" "$(htpasswd -nbp c x 2>/dev/null)"
bad "MD5-crypt from mkpasswd -m md5crypt" "MD5-crypt" "c:$(mkpasswd -m md5crypt x)"
bad "SHA-256-crypt" "not accepted" "c:$(mkpasswd -m sha-256 x)"
bad "old bcrypt \$2a\$" "known flaws" "c:$(mkpasswd -m bcrypt-a x)"
bad "a line without a colon" "no ':'" "just-a-name"
bad "a repeated id" "repeated" "ok-client:$(bcrypt y)"
printf 'c:%s\n' "$(bcrypt x)" >badusers
chmod 620 badusers
"$BAST" check --app bad --confdir conf >chk.out 2>&1
check_eq "group-writable users_file: load error" 2 $?
check "group-writable: the message says so" grep -q "writable" chk.out
rm -f conf/conf.d/bad.conf
printf '[app]\n[c]\nplugin = basic\ncontrol = required\n' >conf/conf.d/bad.conf
"$BAST" check --app bad --confdir conf >chk.out 2>&1
check_eq "users_file missing from the config: load error" 2 $?
rm -f conf/conf.d/bad.conf

# Management: bast basic add|remove|list edit the file atomically.
conf adm
adm() { "$BAST" basic "$@" --app adm --module clients --confdir conf; }
printf 'n3w-secret\n' | adm add new-client >add.out 2>&1
check_eq "add: exit 0" 0 $?
check "add: the new entry is bcrypt, cost 10" grep -q '^new-client:\$2b\$10\$' users
check "add: comments kept" grep -q '^# clients of the token endpoint' users
check_eq "add: the file stays mode 640" 640 "$(stat -c %a users)"
req r.json new-client n3w-secret
expect "added client: allowed" adm allow 200 null new-client
printf 'other\n' | adm add new-client >/dev/null 2>&1
check_eq "add of an existing id: refused" 1 $?
printf 'r0tated\n' | adm add new-client --replace --hash yescrypt >/dev/null 2>&1
check_eq "add --replace --hash yescrypt: exit 0" 0 $?
check "replaced entry is yescrypt" grep -q '^new-client:\$y\$' users
req r.json new-client r0tated
expect "replaced secret: allowed" adm allow 200 null new-client
req r.json new-client n3w-secret
expect "old secret after replace: deny" adm deny 401 invalid_client null
printf 'x\n' | adm add "$ID3" --replace --hash sha512crypt >/dev/null 2>&1
check "add --hash sha512crypt on an id with ':'" grep -q "^$ID3:\\\$6\\\$" users
printf 'x\n' | adm add cheap --cost 4 >/dev/null 2>&1
check "add --cost 4: bcrypt cost 4" grep -q '^cheap:\$2b\$04\$' users
printf 'x\n' | adm add dear --cost 99 >/dev/null 2>&1
check_eq "add --cost out of range: refused" 1 $?
adm list >list.out
check "list: one id per line with its hash kind" grep -qP '^client-b\tbcrypt$' list.out
check "list: the added id" grep -qP '^new-client\tyescrypt$' list.out
adm list --json >list.json
check_eq "list --json" "yescrypt" "$($PY -c 'import json; print([e["hash"] for e in json.load(open("list.json")) if e["id"]=="new-client"][0])')"
adm remove new-client >/dev/null
check_eq "remove: exit 0" 0 $?
check "remove: the line is gone" bash -c "! grep -q '^new-client:' users"
expect "removed client: deny" adm deny 401 invalid_client null
adm remove new-client >/dev/null 2>&1
check_eq "remove of a missing id: exit 1" 1 $?
adm add >/dev/null 2>&1
check_eq "add without an id: usage (exit 2)" 2 $?
printf '' | adm add empty-secret >/dev/null 2>&1
check_eq "add with an empty secret: refused" 1 $?
check "no temporary files left behind" bash -c "! ls users.* 2>/dev/null | grep -q ."

# A running bastd picks up file changes within a second and drops cached
# successes: the old secret of a replaced client stops working at once.
BASTD=$B/bin/bastd
if [ ! -x "$BASTD" ]; then
    skip "bastd not built: reload test"
    exit 0
fi
port=$(free_port)
"$BASTD" --confdir conf --listen "127.0.0.1:$port" 2>bastd.err &
bastd_pid=$!
at_exit "kill $bastd_pid"
for i in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
code() { # code ID SECRET: HTTP status of bastd's answer
    local c
    c=$($PY -c 'import base64,sys,urllib.parse as u; print(base64.b64encode((u.quote_plus(sys.argv[1])+":"+u.quote_plus(sys.argv[2])).encode()).decode())' "$1" "$2")
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $c" \
        -H "X-Forwarded-Proto: https" "http://127.0.0.1:$port/verify/tok"
}
check_eq "bastd: client-b allowed (and cached)" 200 "$(code client-b s3cret-b)"
check_eq "bastd: cached success answers again" 200 "$(code client-b s3cret-b)"
printf 'r0tated-b\n' | "$BAST" basic add client-b --replace --app tok --module clients --confdir conf >/dev/null
sleep 1.2
check_eq "bastd: after the file changed, the cached old secret is refused" 401 "$(code client-b s3cret-b)"
check_eq "bastd: the new secret is allowed" 200 "$(code client-b r0tated-b)"
cp users users.good
printf 'evil:%s\n' "$(htpasswd -nbm x y | cut -d: -f2-)" >>users
sleep 1.2
check_eq "bastd: a file that no longer loads keeps the old entries" 200 "$(code client-b r0tated-b)"
check "bastd: the failed reload is logged with file:line" grep -qE "users:[0-9]+: .apr1. is Apache" bastd.err
check_eq "bastd: nothing from the refused file is used" 401 "$(code evil y)"
cp users.good users
