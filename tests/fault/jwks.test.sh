#!/usr/bin/env bash
# Fault injection on the jwt plugin's jwks_uri: the key server slow
# (past jwks_timeout), hanging, answering 500, or serving garbage.  Until
# one fetch has worked every token is refused with 503 store_unavailable
# and the failed fetch is logged; once keys were fetched (under bastd),
# the server going bad keeps the old keys: known tokens still pass, a
# token with an unknown kid is refused, and the failure is logged.
. "$TOP/tests/lib.sh"
. "$TOP/tests/fault/faultlib.sh"
cd "$T" || exit 1
have_plugin jwt || { skip "jwt plugin not built"; exit 0; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
$PY - <<'PY'
import json, time, jwt
from jwcrypto import jwk
k = jwk.JWK.from_pem(open("rsa.pem", "rb").read())
pub = json.loads(k.export_public()); pub["kid"] = "k1"; pub["alg"] = "RS256"
json.dump({"keys": [pub]}, open("jwks.json", "w"))
key = open("rsa.pem").read(); now = int(time.time())
c = {"sub": "alice", "iat": now, "exp": now + 600}
open("tok.k1", "w").write(jwt.encode(c, key, "RS256", headers={"kid": "k1"}))
open("tok.k2", "w").write(jwt.encode(c, key, "RS256", headers={"kid": "k2"}))
PY
mkconf conf
printf '[bast]\naudit = off\n' >conf/bast.conf
JP=$(free_port)
printf '[app]\n\n[tok]\nplugin = jwt\ncontrol = required\njwks_uri = http://127.0.0.1:%s/jwks\njwks_timeout = 1\njwks_min_interval = 1\n' \
    "$JP" >conf/conf.d/api.conf

srv=
serve() { # serve MODE: (re)start the key server on $JP
    [ -n "$srv" ] && { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; }
    $PY "$TOP/tests/fault/netfault.py" http "$JP" "$1" "$T/jwks.json" >/dev/null 2>&1 &
    srv=$!
    local i; for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$JP) 2>/dev/null && return 0; sleep 0.1; done
    not_ok "key server ($1) did not start"
}
at_exit 'kill $srv'
# expect WHAT MODE "decision status error identity" MAXMS
expect() {
    serve "$2"
    local t0=$(date +%s%N)
    verify api conf -H "Authorization: Bearer $(cat tok.k1)" >/dev/null
    local ms=$((($(date +%s%N) - t0) / 1000000)) err; err=$(cat "$T/.verify.err")
    check_eq "$1" "$3" "$(summary "$out")"
    if [ "$ms" -le "$4" ]; then ok "$1: answered in ${ms} ms (<= $4)"
    else not_ok "$1: answered in ${ms} ms (> $4)"; fi
    if [ "$2" != ok ]; then
        case $err in *jwks_uri*) ok "$1: the failed fetch is logged" ;;
        *) not_ok "$1: the failed fetch is logged (stderr: $err)" ;; esac
    fi
}
expect "key server answers: allow" ok "allow 200 null alice" 3000
expect "key server slow (10 s, timeout 1 s): deny 503" slow "deny 503 store_unavailable null" 3000
expect "key server hangs: deny 503" hang "deny 503 store_unavailable null" 3000
expect "key server answers 500: deny 503" 500 "deny 503 store_unavailable null" 3000
expect "key server serves garbage: deny 503" garbage "deny 503 store_unavailable null" 3000
kill "$srv"; wait "$srv" 2>/dev/null; srv=
verify api conf -H "Authorization: Bearer $(cat tok.k1)" >/dev/null
check_eq "key server down: deny 503" "deny 503 store_unavailable null" "$(summary "$out")"

# bastd: keys fetched once, then the server goes bad
if [ ! -x "$B/bin/bastd" ]; then skip "bastd not built"; exit 0; fi
serve ok
P=$(free_port)
"$B/bin/bastd" --confdir conf --listen "127.0.0.1:$P" --threads 2 2>"$T/bastd.log" &
bpid=$!
at_exit "kill $bpid"
for i in $(seq 50); do curl -s "http://127.0.0.1:$P/healthz" >/dev/null && break; sleep 0.1; done
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$1")" "http://127.0.0.1:$P/verify/api"; }
check_eq "bastd: keys fetched, token allowed" 200 "$(code tok.k1)"
serve 500
sleep 1.2
check_eq "bastd: server now answers 500, known kid still allowed (old keys kept)" 200 "$(code tok.k1)"
check_eq "bastd: unknown kid while the server fails: 401" 401 "$(code tok.k2)"
sleep 0.5
check "bastd: the failed refetch is logged" grep -q "jwks_uri:.*keeping the previous keys" "$T/bastd.log"
serve garbage
sleep 1.2
check_eq "bastd: garbage from the server, known kid still allowed" 200 "$(code tok.k1)"
check "bastd: still alive" kill -0 "$bpid"
