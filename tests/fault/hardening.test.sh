#!/usr/bin/env bash
# Proof of the build hardening on every ELF file the build ships (libbast,
# bast, bastd, each plugin, pam_bast.so when built): full RELRO (a
# GNU_RELRO segment and BIND_NOW), a non-executable stack, the stack
# protector in use, and _FORTIFY_SOURCE's checked functions (plain builds
# only: sanitizer builds leave FORTIFY out).  Exports are checked by
# tests/core/exports.test.sh.  Kept with the fault tests as part of the
# "hardening and proof" issue.
. "$TOP/tests/lib.sh"
command -v readelf >/dev/null || { skip "readelf missing"; exit 0; }
files=("$B/lib/libbast.so" "$B/bin/bast")
[ -f "$B/bin/bastd" ] && files+=("$B/bin/bastd")
for f in "$B"/plugins/*.so "$B"/lib/pam_bast.so "$B"/pam/pam_bast.so; do
    [ -f "$f" ] && files+=("$f")
done
for f in "${files[@]}"; do
    f=$(readlink -f "$f"); n=${f#"$B"/}
    check "$n: GNU_RELRO segment" sh -c "readelf -lW '$f' | grep -q GNU_RELRO"
    check "$n: BIND_NOW (full RELRO)" sh -c "readelf -dW '$f' | grep -qE 'BIND_NOW|FLAGS_1.*NOW'"
    check "$n: non-executable stack" sh -c "readelf -lW '$f' | grep GNU_STACK | grep -qv RWE"
done
# the stack protector and FORTIFY show as imported glibc symbols
for f in "$B/lib/libbast.so" "$B/bin/bastd" "$B/plugins/hmac.so" "$B/plugins/jwt.so"; do
    [ -f "$f" ] || continue
    n=${f#"$B"/}
    check "$n: stack protector (__stack_chk_fail)" sh -c "nm -D '$f' | grep -q __stack_chk_fail"
    if [ -n "${SAN:-}" ]; then
        skip "$n: FORTIFY is off in sanitizer builds"
    else
        check "$n: _FORTIFY_SOURCE checked calls (__*_chk)" sh -c "nm -D '$f' | grep -qE '__[a-z_]+_chk@'"
    fi
done
