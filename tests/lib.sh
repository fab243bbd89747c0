# Shared helpers for tests/**/*.test.sh (sourced).  Each test prints
# "ok - what" or "not ok - what"; tests/run counts them.  The runner sets
# TOP, B, BAST, BAST_PLUGIN_DIR and runs the script in a fresh $TESTDIR.
set -u
PY=/usr/bin/python3
T=${TESTDIR:-$(mktemp -d)}
_cleanup=()
at_exit() { _cleanup+=("$*"); }
_run_cleanup() { local c; for c in "${_cleanup[@]:-}"; do [ -n "$c" ] && eval "$c" >/dev/null 2>&1; done; }
trap _run_cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
skip() { echo "skip - $*"; }
# check "what" cmd...: passes when cmd exits 0
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else not_ok "$what"; fi; }
# check_eq "what" expected actual
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
# json_get JSON-TEXT key: prints a top-level field (strings bare, null as null)
json_get() {
    $PY -c 'import json,sys
v=json.loads(sys.argv[1]).get(sys.argv[2])
print("null" if v is None else (json.dumps(v) if not isinstance(v,str) else v))' "$1" "$2"
}
# a free TCP port on 127.0.0.1
free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# make a config dir: mkconf DIR; then write DIR/conf.d/<app>.conf yourself
mkconf() { mkdir -p "$1/conf.d"; chmod 755 "$1" "$1/conf.d"; }
# verify APP CONFDIR [bast verify args...]: prints result JSON, sets $rc
verify() {
    local app=$1 dir=$2; shift 2
    out=$("$BAST" verify --app "$app" --confdir "$dir" "$@" 2>"$T/.verify.err"); rc=$?
    printf '%s\n' "$out"
}
# start_redis PORT: a redis-server on loopback, stopped at exit
start_redis() {
    local port=$1
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$T/redis-$port.pid" --logfile "$T/redis-$port.log" >/dev/null
    at_exit "kill \$(cat $T/redis-$port.pid 2>/dev/null)"
    local i; for i in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
# tamper STR: STR with its last character changed - never STR itself
# (replacing it with a fixed letter is a no-op when it already was one)
tamper() { local s=$1; case ${s: -1} in A) printf '%sB' "${s%?}" ;; *) printf '%sA' "${s%?}" ;; esac; }
