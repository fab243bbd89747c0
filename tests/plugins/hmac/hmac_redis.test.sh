#!/usr/bin/env bash
# The replay store on a real redis-server (started here on a free loopback
# port) behind the hmac `bast` profile: one process, then a second process
# sees the first one's nonce; four processes racing with one request (one
# passes); the key lands in the configured database with a TTL of twice
# the window; Redis stopped mid-test gives 503 store_unavailable (fail
# closed), restarted it recovers; a Redis that never ran is 503 too.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/hmac/hmaclib.sh"
cd "$T" || exit 1
umask 022

if ! command -v redis-server >/dev/null; then skip "redis-server not installed"; exit 0; fi
PORT=$(free_port)
check "redis-server started on 127.0.0.1:$PORT" start_redis "$PORT"

NOW=$(date +%s)
S=redis-test-secret-0123456789
printf '%s\n' "$S" >sec; chmod 600 sec
hconf c pay "secrets_file = secrets" "window = 120"
printf 'k1 alice %s\n' "$S" >c/secrets; chmod 600 c/secrets
printf '[bast]\nreplay = redis://127.0.0.1:%s/5?timeout_ms=300\n' "$PORT" >c/bast.conf

REQ=(--method POST --path /v1/pay --body 'amount=5' --now "$NOW")
sgn() { signh "$1" --key-id k1 --secret-file sec --method POST --path /v1/pay --body 'amount=5' --now "$NOW"; }

sgn h1
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}")
expect "process 1: first use" allow 200 null alice
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}")
expect "process 2 sees process 1's nonce" deny 401 replay null

keys=$(redis-cli -p "$PORT" -n 5 --scan --pattern 'bast:replay:*')
check_eq "one key in database 5" 1 "$(printf '%s\n' "$keys" | grep -c .)"
check_eq "nothing in database 0" 0 "$(redis-cli -p "$PORT" -n 0 dbsize)"
ttl=$(redis-cli -p "$PORT" -n 5 ttl "$(printf '%s\n' "$keys" | head -1)")
if [ "$ttl" -gt 200 ] && [ "$ttl" -le 240 ]; then ok "nonce kept for twice the window ($ttl s)"; else not_ok "nonce TTL $ttl, expected ~240"; fi

# four processes at once with the same signed request: exactly one wins
sgn h2
for i in 1 2 3 4; do
    "$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}" >race.$i &
done
wait
wins=$(cat race.* | grep -c '"decision":"allow"'); reps=$(cat race.* | grep -c '"error":"replay"')
check_eq "4 racing processes: one allow, three replays" "1 3" "$wins $reps"

# one process, a stream: the replay is caught through Redis too
sgn h3
reqjson r3.json POST /v1/pay '' 'amount=5' h3
cat r3.json r3.json >stream.json
"$BAST" verify --app pay --confdir c --request stream.json --now "$NOW" >stream.out
out=$(sed -n 1p stream.out); expect "stream: first" allow 200 null alice
out=$(sed -n 2p stream.out); expect "stream: second is a replay" deny 401 replay null

# Redis goes away: fail closed
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
for i in $(seq 30); do redis-cli -p "$PORT" ping >/dev/null 2>&1 || break; sleep 0.1; done
sgn h4
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}")
expect "Redis stopped: 503" deny 503 store_unavailable null
check_eq "Redis stopped: module result unavailable" unavailable "$(field 'r["trace"][0]["result"]')"
# a long-lived context (bastd, as behind nginx auth_request: no body, the
# declared hash trusted) keeps working once Redis is back
{ printf '[app]\nrealm = pt\n\n[sig]\nplugin = hmac\ncontrol = required\n'
  printf 'secrets_file = secrets\nwindow = 120\ntrust_declared_body_hash = yes\n'; } >c/conf.d/pt.conf
DP=$(free_port)
"$B/bin/bastd" --confdir c --listen "127.0.0.1:$DP" >bastd.log 2>&1 &
BPID=$!
at_exit "kill $BPID"
for i in $(seq 50); do curl -s "http://127.0.0.1:$DP/healthz" >/dev/null && break; sleep 0.1; done
ask() { # ask HEADER-FILE: status code from bastd for the signed request
    local a=() l
    while IFS= read -r l; do a+=(-H "$l"); done <"$1"
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$DP/verify/pt" \
        -H 'X-Original-Method: POST' -H 'X-Original-URI: /v1/pay' "${a[@]}"
}
sgnd() { "$BAST" sign --key-id k1 --secret-file sec --method POST --path /v1/pay --body 'amount=5' >"$1"; }
sgnd d1
check_eq "bastd while Redis is down: 503" 503 "$(ask d1)"
check "redis-server restarted" start_redis "$PORT"
check_eq "bastd after the restart: recovers" 200 "$(ask d1)"
check_eq "bastd after the restart: replay seen" 401 "$(ask d1)"
sgnd d2
check_eq "bastd: a new request passes" 200 "$(ask d2)"
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}")
expect "request refused while Redis was down passes after the restart" allow 200 null alice
out=$("$BAST" verify --app pay --confdir c "${H[@]}" "${REQ[@]}")
expect "and is a replay after that" deny 401 replay null

# a Redis that never ran
mkconf d; cp c/conf.d/pay.conf d/conf.d/; cp c/secrets d/; chmod 600 d/secrets
printf '[bast]\nreplay = redis://127.0.0.1:%s/0\n' "$(free_port)" >d/bast.conf
out=$("$BAST" verify --app pay --confdir d "${H[@]}" "${REQ[@]}")
expect "no Redis at all: 503" deny 503 store_unavailable null
printf '[bast]\nreplay = redis://127.0.0.1:notaport/0\n' >d/bast.conf
errout=$("$BAST" check --confdir d 2>&1); r=$?
if [ "$r" = 2 ] && printf '%s' "$errout" | grep -q 'replay'; then ok "bad replay spec is a load error"; else not_ok "bad replay spec (rc $r: $errout)"; fi

# stop what we started before the runner removes the directory
kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
for i in $(seq 30); do [ -e "$T/redis-$PORT.pid" ] || break; sleep 0.1; done
