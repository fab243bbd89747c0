#!/usr/bin/env bash
# Fault injection through plugins that misbehave: a verify() answering
# the invalid zero result, one past the last result, 99 or -1 (each must
# deny with 503, keep no identity, leave a log line, and let a later
# `sufficient` success not turn it into an allow); an open() that fails
# with or without a message (the config refuses to load, naming
# file:line, under `bast verify`, `bast check` and an optional entry
# alike) and one that crashes (the process dies, nothing is allowed).
. "$TOP/tests/lib.sh"
. "$TOP/tests/fault/faultlib.sh"
cd "$T" || exit 1
if [ ! -f "$B/tests/fault/plugins/badresult.so" ]; then
    skip "fault plugins not built (make check builds them)"; exit 0
fi
fault_plugins
mkconf conf
printf '[bast]\naudit = off\n' >conf/bast.conf

bad_stack() { # bad_stack VALUE CONTROL
    printf '[app]\n\n[bad]\nplugin = badresult\ncontrol = %s\nvalue = %s\n\n[ok]\nplugin = fixed\ncontrol = sufficient\nresult = success\nidentity = alice\n' \
        "$2" "$1" >conf/conf.d/r.conf
}
for v in 0 8 99 -1; do
    bad_stack "$v" required
    verify r conf >/dev/null; err=$(cat "$T/.verify.err")
    check_eq "result $v under required: deny 503 with no identity" \
        "deny 503 null" "$(summary "$out" | cut -d' ' -f1,2,4)"
    check_eq "result $v: exit 1" 1 "$rc"
    check_eq "result $v: traced as unavailable (the core's reading of a bad answer)" \
        unavailable "$(field "$out" 'r["trace"][0]["result"]')"
    case $err in
    *"returned $v"*) ok "result $v: a log line names the value" ;;
    *) not_ok "result $v: a log line names the value (stderr: $err)" ;;
    esac
done
bad_stack 42 optional
verify r conf >/dev/null
check_eq "out-of-range under optional is still a failure: deny" deny "$(field "$out" 'r["decision"]')"
bad_stack 42 '[success=ok default=ignore]'
verify r conf >/dev/null
check_eq "even a bracket that ignores every known result: deny" deny "$(field "$out" 'r["decision"]')"
bad_stack 1 required
verify r conf >/dev/null
check_eq "control case: the same plugin answering success allows" \
    "allow 200 null mallory" "$(summary "$out")"

# open() failures
printf '[app]\n\n[first]\nplugin = fixed\ncontrol = optional\nresult = success\n\n[broken]\nplugin = badopen\ncontrol = optional\nmode = fail\n' >conf/conf.d/o.conf
verify o conf >/dev/null; err=$(cat "$T/.verify.err")
check_eq "open fails: bast verify exits 2" 2 "$rc"
check_eq "open fails: nothing on stdout" "" "$out"
case $err in *o.conf:*mode*injected*) ok "open fails: the message names file:line and the key" ;;
*) not_ok "open fails: message names file:line and key (got: $err)" ;; esac
"$BAST" check --confdir conf >/dev/null 2>"$T/check.err"; rc=$?
check_eq "open fails: bast check exits 2" 2 "$rc"
sed -i 's/mode = fail/mode = silent/' conf/conf.d/o.conf
verify o conf >/dev/null; err=$(cat "$T/.verify.err")
check_eq "open fails without a message: exit 2" 2 "$rc"
case $err in *o.conf*) ok "open fails without a message: the core still names the file" ;;
*) not_ok "silent open failure names the file (got: $err)" ;; esac
sed -i 's/plugin = badopen/plugin = -badopen/' conf/conf.d/o.conf
verify o conf >/dev/null
check_eq "a failing open is an error even for an optional -name entry" 2 "$rc"
sed -i 's/mode = silent/mode = ok/' conf/conf.d/o.conf
verify o conf >/dev/null
check_eq "control case: the same stack with a working open allows" "allow opened" \
    "$(field "$out" 'r["decision"]') $(field "$out" 'r["identity"]')"
# another app's broken open must not be half-applied either
printf '[app]\n\n[p]\nplugin = permit\ncontrol = required\nidentity = bob\n' >conf/conf.d/good.conf
sed -i 's/mode = ok/mode = fail/' conf/conf.d/o.conf
"$BAST" check --confdir conf >/dev/null 2>&1; rc=$?
check_eq "one app's failing open refuses the whole config in bast check" 2 "$rc"
verify good conf >/dev/null
check_eq "bast verify --app loads only that app: the good one still answers" \
    "allow bob" "$(field "$out" 'r["decision"]') $(field "$out" 'r["identity"]')"

sed -i 's/mode = fail/mode = abort/' conf/conf.d/o.conf
verify o conf >/dev/null
check "open crashes: the process dies by a signal or an error exit" test "$rc" -ne 0
check_eq "open crashes: nothing is printed, nothing allowed" "" "$out"
