#!/usr/bin/env bash
# Fault injection on the shared replay store behind the hmac plugin
# (bast.conf `replay = redis://...`): Redis up (allow, then the replay is
# caught), stopped, slow (a delaying loopback proxy past the 300 ms
# command timeout), answering every command with an error, and refusing
# writes (maxmemory 1 with noeviction).  Each failure must deny with 503
# store_unavailable within the timeout and write an audit line; then
# Redis comes back and requests are allowed again without a restart.
. "$TOP/tests/lib.sh"
. "$TOP/tests/fault/faultlib.sh"
cd "$T" || exit 1
have_plugin hmac || { skip "hmac plugin not built"; exit 0; }
command -v redis-server >/dev/null || { skip "redis-server not installed"; exit 0; }

SECRET=fault-secret-0123456789abcdef
printf 'key1 alice %s\n' "$SECRET" >secrets
printf '%s' "$SECRET" >secret.one
chmod 600 secrets secret.one
mkconf conf
printf '[app]\n\n[sig]\nplugin = hmac\ncontrol = required\nprofile = bast\nsecrets_file = %s\n' \
    "$T/secrets" >conf/conf.d/api.conf
use_redis() { # use_redis PORT
    printf '[bast]\naudit = %s\nreplay = redis://127.0.0.1:%s/0?timeout_ms=300\n' \
        "$T/audit.jsonl" "$1" >conf/bast.conf
}
n=0
# signed VAR: a fresh signed request (new nonce each time) as verify args
signed() {
    n=$((n + 1))
    mapfile -t hdrs < <("$BAST" sign --key-id key1 --secret-file secret.one \
        --method POST --path /v1/pay --query "n=$n" --body "b$n")
    args=(--method POST --path /v1/pay --query "n=$n" --body "b$n")
    local h; for h in "${hdrs[@]}"; do args+=(-H "$h"); done
}
# expect WHAT "decision status error identity" [max-ms]
expect() {
    local t0 t1
    t0=$(date +%s%N)
    verify api conf "${args[@]}" >/dev/null
    t1=$(date +%s%N)
    check_eq "$1" "$2" "$(summary "$out")"
    if [ -n "${3:-}" ]; then
        local ms=$(((t1 - t0) / 1000000))
        if [ "$ms" -le "$3" ]; then ok "$1: answered in ${ms} ms (<= $3)"
        else not_ok "$1: answered in ${ms} ms (> $3)"; fi
    fi
}
audit_has() { # audit_has WHAT ERROR: the last audit line carries ERROR
    local last; last=$(tail -1 "$T/audit.jsonl" 2>/dev/null)
    case $last in *"\"$2\""*) ok "$1: audit line with $2" ;;
    *) not_ok "$1: audit line with $2 (last: ${last:-none})" ;; esac
}

RP=$(free_port)
start_redis "$RP" || { not_ok "redis starts"; exit 1; }
use_redis "$RP"
signed
expect "redis up: signed request allowed" "allow 200 null alice"
expect "redis up: the same request again is a replay" "deny 401 replay null"
audit_has "replay" replay

redis-cli -p "$RP" shutdown nosave >/dev/null 2>&1
sleep 0.3
signed
expect "redis stopped: deny 503" "deny 503 store_unavailable null" 2000
audit_has "redis stopped" store_unavailable

start_redis "$RP" || not_ok "redis restarts"
signed
expect "redis back: allowed again" "allow 200 null alice"

# slow: a proxy that holds every reply 1.5 s, past the 300 ms timeout
PP=$(free_port)
$PY "$TOP/tests/fault/netfault.py" delay "$PP" "$RP" 1.5 >/dev/null 2>&1 &
at_exit "kill $!"
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PP) 2>/dev/null && break; sleep 0.1; done
use_redis "$PP"
signed
expect "redis slow (1.5 s per reply, 300 ms timeout): deny 503" \
    "deny 503 store_unavailable null" 1500
audit_has "redis slow" store_unavailable

# errors: a fake server answering -ERR to everything (SELECT, SET)
EP=$(free_port)
$PY "$TOP/tests/fault/netfault.py" rediserr "$EP" >/dev/null 2>&1 &
at_exit "kill $!"
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$EP) 2>/dev/null && break; sleep 0.1; done
use_redis "$EP"
signed
expect "redis answering -ERR: deny 503" "deny 503 store_unavailable null" 2000
audit_has "redis -ERR" store_unavailable

# a real Redis refusing writes: maxmemory 1, noeviction -> OOM on SET
use_redis "$RP"
redis-cli -p "$RP" config set maxmemory-policy noeviction >/dev/null
redis-cli -p "$RP" set filler "$(head -c 10000 /dev/zero | tr '\0' x)" >/dev/null
redis-cli -p "$RP" config set maxmemory 1 >/dev/null
signed
expect "redis out of memory (noeviction): deny 503" "deny 503 store_unavailable null" 2000
redis-cli -p "$RP" config set maxmemory 0 >/dev/null
signed
expect "redis writable again: allowed" "allow 200 null alice"

# nothing was ever allowed twice or while the store was down
allows=$(grep -c '"decision":"allow"' "$T/audit.jsonl")
check_eq "the audit trail shows exactly the 3 allowed requests" 3 "$allows"
