#!/usr/bin/env bash
# apikey in a long-running bastd: keys issued and revoked by other processes
# become visible within `refresh` without a restart; last_used_at / last_ip
# are written in batches while the daemon runs and at a clean stop; the
# first use of a key from a new address emits one `apikey.new_ip` audit
# event (and only one, across processes).
. "$TOP/tests/lib.sh"
cd "$T"
BASTD=$B/bin/bastd
if [ ! -x "$BASTD" ]; then skip "bastd not built"; exit 0; fi
D=$T/c
mkconf "$D"
printf '[bast]\naudit = %s/audit.jsonl\n' "$T" >"$D/bast.conf"
cat >"$D/conf.d/pay.conf" <<'EOF'
[app]
realm = payments

[keys]
plugin = apikey
control = required
store = sqlite:pay.db
refresh = 1
last_used_flush = 1
EOF
adm() { "$BAST" apikey "$@" --app pay --module keys --confdir "$D" 2>>"$T/adm.err"; }
jf() { json_get "$1" "$2"; }

J1=$(adm issue --user alice --name one --json)
K1=$(jf "$J1" key)
ID1=$(jf "$J1" id)

P=$(free_port)
"$BASTD" --confdir "$D" --listen "127.0.0.1:$P" 2>>"$T/bastd.log" &
BPID=$!
at_exit "kill $BPID"
for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$P/healthz" && break; sleep 0.05; done

# ask KEY [IP]: prints the HTTP status and the identity header
ask() {
    local ip=${2:-127.0.0.1}
    curl -s -o /dev/null -D "$T/h" -H "Authorization: Bearer $1" \
        -H "X-Real-IP: $ip" -H "X-Original-URI: /v1/charges" \
        -H "X-Original-Method: GET" "http://127.0.0.1:$P/verify/pay" \
        -w '%{http_code}'
    printf ' %s\n' "$(tr -d '\r' <"$T/h" | awk -F': ' 'tolower($1)=="x-bast-identity"{print $2}')"
}
# wait_for WANT KEY: poll until `ask KEY` prints WANT; prints the seconds
wait_for() {
    local want=$1 key=$2 t0 i
    t0=$(date +%s.%N)
    for i in $(seq 80); do
        [ "$(ask "$key")" = "$want" ] && break
        sleep 0.1
    done
    $PY -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$t0" "$(date +%s.%N)"
}

check_eq "running daemon: key allowed" "200 alice" "$(ask "$K1")"

adm revoke "$ID1" >/dev/null
el=$(wait_for "401 " "$K1")
check_eq "revoked in another process: denied by the running daemon" "401 " "$(ask "$K1")"
check "within the refresh interval (1 s, took ${el}s)" $PY -c "import sys; sys.exit(float(sys.argv[1]) > 3.0)" "$el"

J2=$(adm issue --user bob --name two --json)
K2=$(jf "$J2" key)
ID2=$(jf "$J2" id)
el=$(wait_for "200 bob" "$K2")
check_eq "issued in another process: allowed without a restart" "200 bob" "$(ask "$K2")"
check "within the refresh interval (took ${el}s)" $PY -c "import sys; sys.exit(float(sys.argv[1]) > 3.0)" "$el"

# rotation in another process: the replacement works at once, the old key
# ends with its grace (0 here)
J4=$(adm issue --user carol --name rot --json)
K4=$(jf "$J4" key)
wait_for "200 carol" "$K4" >/dev/null
R=$(adm rotate "$(jf "$J4" id)" --grace 0 --json)
K5=$(jf "$R" key)
wait_for "200 carol" "$K5" >/dev/null
check_eq "rotated in another process: the replacement is allowed" "200 carol" "$(ask "$K5")"
wait_for "401 " "$K4" >/dev/null
check_eq "and the old key, grace 0, is denied" "401 " "$(ask "$K4")"

# last-used, while the daemon runs (batched, flushed every second)
ask "$K2" 203.0.113.9 >/dev/null
ask "$K2" 203.0.113.9 >/dev/null
sleep 2.5
S=$(adm show "$ID2" --json)
check_eq "last_ip written while running" 203.0.113.9 "$(jf "$S" last_ip)"
lu=$(jf "$S" last_used_at)
check "last_used_at written while running ($lu)" test "$lu" != null
n=$(grep -c '"apikey.new_ip"' "$T/audit.jsonl" 2>/dev/null)
ev=$(grep '"apikey.new_ip"' "$T/audit.jsonl" | grep 203.0.113.9)
check_eq "one new_ip event for two uses from one address" 1 "$(grep -c . <<<"$ev")"
check_eq "event names the key" "$ID2" "$(jf "$ev" key_id)"
check_eq "event names the user" bob "$(jf "$ev" user)"
check_eq "event names the address" 203.0.113.9 "$(jf "$ev" address)"
check_eq "event names the module" keys "$(jf "$ev" module)"

# a one-shot process using the same key from the same address: no new event
"$BAST" verify --app pay --confdir "$D" -H "X-Api-Key: $K2" --remote-addr 203.0.113.9 >/dev/null
check_eq "another process, same address: no second event" "$n" \
    "$(grep -c '"apikey.new_ip"' "$T/audit.jsonl")"

# a use right before a clean stop is not lost
ask "$K2" 198.51.100.7 >/dev/null
kill -TERM $BPID
wait $BPID
check_eq "bastd stops cleanly" 0 $?
S=$(adm show "$ID2" --json)
check_eq "use just before SIGTERM: last_ip flushed at stop" 198.51.100.7 "$(jf "$S" last_ip)"
check "and its new_ip event emitted" grep -q 198.51.100.7 "$T/audit.jsonl"
