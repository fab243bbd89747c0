#!/usr/bin/env bash
# Stack dispatch benchmark: bast_verify() vs libpam pam_authenticate() on
# stacks of 1, 8 and 32 always-succeeding modules, same run; prints ns/call,
# ns/module and ratios.  Needs `make bench` (or the bench_stack target)
# built into $B.  BENCH_SECONDS sets the time per case (default 0.5).
set -eu
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
echo "== stack: bast stack engine vs libpam dispatch"
BAST_PLUGIN_DIR=$B/plugins "$B/bench/bench_stack" \
    "$B/tests/stack/pam_fixed_test.so" "${BENCH_SECONDS:-0.5}"
