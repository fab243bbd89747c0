#!/usr/bin/env bash
# The valgrind pass of the suite: tests/valgrind/run.sh (compiled tests and
# one `bast verify` per scheme under valgrind --leak-check=full).  Skipped
# in sanitizer builds (ASan and valgrind do not mix) and when valgrind is
# missing; bounded to 170 s.
. "$TOP/tests/lib.sh"
if [ -n "${SAN:-}" ]; then skip "valgrind under a sanitizer build ($SAN)"; exit 0; fi
command -v valgrind >/dev/null || { skip "valgrind not installed"; exit 0; }
timeout 170 bash "$TOP/tests/valgrind/run.sh"
rc=$?
[ "$rc" -eq 124 ] && not_ok "valgrind pass took over 170 s"
exit 0
