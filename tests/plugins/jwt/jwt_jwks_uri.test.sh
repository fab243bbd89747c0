#!/usr/bin/env bash
# jwt: jwks_uri against a local HTTP server started here.  One long-lived
# context (jwt_driver): a new kid is picked up after a rotation without a
# restart; the unknown-kid refetch is rate-limited (jwks_min_interval); when
# the server goes away the old keys keep working and nothing crashes; a
# jwks_uri never fetched answers unavailable (503); Cache-Control max-age
# drives the background refresh; every fetch is an audit event.
. "$TOP/tests/lib.sh"
J=$TOP/tests/plugins/jwt
DRIVER=$B/tests/plugins/jwt/jwt_driver
$PY "$J/mint.py" keys "$T/k1" old-
$PY "$J/mint.py" keys "$T/k2" new-
mkdir -p "$T/www/a" "$T/www/b"
cp "$T/k1/jwks.json" "$T/www/a/jwks.json"
cp "$T/k1/jwks.json" "$T/www/b/jwks.json"
port=$(free_port)
start_server() { # cache-control
    $PY "$J/jwks_server.py" "$port" "$T/www" "$T/www.log" "$1" &
    srv=$!
    at_exit "kill $srv"
    local i; for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.1; done
}
start_server "max-age=3600"
fetches() { grep -c "^/$1/jwks.json" "$T/www.log"; }
: >"$T/www.log"

mkconf "$T/c"
printf '[bast]\naudit = %s\n' "$T/audit.jsonl" >"$T/c/bast.conf"
cat >"$T/c/conf.d/api.conf" <<CONF
[app]
realm = api

[bearer]
plugin = jwt
control = required
jwks_uri = http://127.0.0.1:$port/a/jwks.json
jwks_min_interval = 4
jwks_refresh = 1h
CONF
cat >"$T/c/conf.d/fast.conf" <<CONF
[app]
realm = fast

[bearer]
plugin = jwt
control = required
jwks_uri = http://127.0.0.1:$port/b/jwks.json
jwks_min_interval = 1
jwks_refresh = 1h
CONF
dead=$(free_port)
cat >"$T/c/conf.d/dead.conf" <<CONF
[app]
realm = dead

[bearer]
plugin = jwt
control = required
jwks_uri = http://127.0.0.1:$dead/jwks.json
jwks_timeout = 2
CONF

now=$(date +%s)
c="\"sub\": \"alice\", \"exp\": $((now + 600))"
{
    echo "{\"name\": \"old\", \"lib\": \"pyjwt\", \"alg\": \"RS256\", \"kid_prefix\": \"old-\", \"claims\": {$c}}"
} | $PY "$J/mint.py" batch "$T/k1" >"$T/tokens"
{
    echo "{\"name\": \"new\", \"lib\": \"pyjwt\", \"alg\": \"ES256\", \"kid_prefix\": \"new-\", \"claims\": {$c}}"
    echo "{\"name\": \"stranger\", \"lib\": \"pyjwt\", \"alg\": \"ES256\", \"kid\": \"stranger\", \"claims\": {$c}}"
} | $PY "$J/mint.py" batch "$T/k2" >>"$T/tokens"
tok() { awk -v n="$1" '$1 == n {print $2}' "$T/tokens"; }
req() { $PY -c 'import json,sys; print(json.dumps({"headers": [["Authorization", "Bearer " + sys.argv[1]]]}))' "$(tok "$1")"; }
res() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["trace"][-1]["result"], r["error"] or "null", r["status"])' "$1"; }

coproc DRV { "$DRIVER" "$T/c" api 2>"$T/driver.err"; }
drv=$DRV_PID
at_exit "kill $drv"
ask() { req "$1" >&"${DRV[1]}"; local line; read -r -t 20 line <&"${DRV[0]}"; res "$line"; }
started=$(date +%s.%N)

check_eq "old key verifies after the first fetch" "success null 200" "$(ask old)"
check_eq "one fetch at load" 1 "$(fetches a)"
cp "$T/k2/jwks.json" "$T/www/a/jwks.json"   # rotation: the old keys are gone
check_eq "new kid within jwks_min_interval: unknown_key" "deny unknown_key 401" "$(ask new)"
for i in 1 2 3 4 5; do ask stranger >/dev/null; done
check_eq "refetch rate limit held (still one fetch)" 1 "$(fetches a)"
# wait until jwks_min_interval (4 s) has passed since the load
sleep "$($PY -c "import time; print(max(0, 4.3 - (time.time() - $started)))")"
check_eq "after the interval the new kid is picked up (no restart)" "success null 200" "$(ask new)"
check_eq "that took exactly one more fetch" 2 "$(fetches a)"
check_eq "the removed old kid is now unknown" "deny unknown_key 401" "$(ask old)"
check_eq "no fetch for it inside the interval" 2 "$(fetches a)"

kill "$srv"; wait "$srv" 2>/dev/null
sleep 4.3
check_eq "server gone: unknown kid still denied" "deny unknown_key 401" "$(ask stranger)"
check_eq "server gone: the kept keys still verify" "success null 200" "$(ask new)"
exec {DRV[1]}>&-
wait "$drv"; drc=$?
check_eq "the context closed cleanly (driver exit 0)" 0 "$drc"

fetch_events() { # uri-part ok: audit lines jwt.jwks_fetch for that uri and outcome
    $PY -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    e=json.loads(l)
    if e.get("event")=="jwt.jwks_fetch" and sys.argv[2] in e.get("uri","") and str(e.get("ok")).lower()==sys.argv[3]: n+=1
print(n)' "$T/audit.jsonl" "$1" "$2"
}
check_eq "audit: two successful fetches of /a" 2 "$(fetch_events /a/ true)"
check "audit: the failed fetch is recorded" test "$(fetch_events /a/ false)" -ge 1
out=$(verify dead "$T/c" -H "Authorization: Bearer $(tok new)")
check_eq "jwks_uri never fetched: unavailable, 503" "unavailable store_unavailable 503" "$(res "$out")"

# background refresh driven by Cache-Control (max-age=1, interval 1 s)
start_server "max-age=1"
coproc FAST { "$DRIVER" "$T/c" fast 2>"$T/fast.err"; }
fast=$FAST_PID
at_exit "kill $fast"
sleep 3.6
n=$(fetches b)
check "Cache-Control max-age=1 refreshes in the background ($n fetches in 3.6 s)" test "$n" -ge 3 -a "$n" -le 8
exec {FAST[1]}>&-
wait "$fast"
