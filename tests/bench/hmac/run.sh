#!/usr/bin/env bash
# hmac benchmark: verifies per second of the `bast` profile through
# bast_verify() with the memory replay store and with a redis-server
# started here on a free loopback port, as ratios to raw SHA-256 +
# HMAC-SHA256 measured in the same run.  Timing never fails the run.
set -eu
cd "$(dirname "$0")/../../.."
B=${B:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
port=0
if command -v redis-server >/dev/null; then
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    dir=$(mktemp -d)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    trap 'redis-cli -p '"$port"' shutdown nosave >/dev/null 2>&1; rm -rf '"$dir" EXIT
    for i in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
"$B/bench/hmac" "$B/plugins" "$port" "${HMAC_BENCH_N:-50000}"
