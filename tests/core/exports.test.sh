#!/usr/bin/env bash
# Every plugin exports exactly one symbol (its descriptor), and libbast
# exports only the public API (bast_* without the internal bast__ prefix).
. "$TOP/tests/lib.sh"
for so in "$B"/plugins/*.so; do
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBRVW]/ {print $3}' | grep -v '^_' | sort)
    check_eq "$(basename "$so") exports only bast_plugin_entry" "bast_plugin_entry" "$syms"
done
bad=$(nm -D --defined-only "$B/lib/libbast.so" | awk '$2 ~ /[TDBRVW]/ {print $3}' | grep -v '^_' | grep -v '^bast_' || true)
check_eq "libbast exports only bast_* symbols" "" "$bad"
internal=$(nm -D --defined-only "$B/lib/libbast.so" | awk '{print $3}' | grep '^bast__' || true)
check_eq "libbast hides core-internal bast__* symbols" "" "$internal"
