#!/usr/bin/env bash
# apikey benchmark: full bast_verify() calls per second with 100,000 keys,
# as a ratio to a raw SHA-256 of the same key measured in the same run,
# and the resident memory of the index.  Timing never fails the run.
set -eu
cd "$(dirname "$0")/../../.."
B=${B:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
exec "$B/bench/apikey" "${APIKEY_BENCH_KEYS:-100000}" "$B/plugins"
