#!/usr/bin/env bash
# mutants.sh - evidence that test_stack_diff can fail: rebuild the core
# with one classic libpam-reimplementation mistake at a time
# (shared/PAM-STACKING.md section 11) and check the differential test
# catches each.  Run by hand after `make check` (it needs the test's
# objects and the plugins in $B): B=/tmp/b-x bash tests/stack/mutants.sh
# Copies core/ into a temp dir; never touches the tree.  Exit 0 when
# every mutant is caught and the unmutated copy passes.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
N=${STACK_DIFF_N:-5000}
W=$(mktemp -d /tmp/bast-mutants.XXXXXX)
trap 'rm -rf "$W"' EXIT
CFL="-std=c11 -D_GNU_SOURCE -O1 -fPIC -fvisibility=hidden -I$TOP/include -I$W/core"
CFL="$CFL -DBAST_DEFAULT_PLUGIN_DIR=\"/nonexistent\" -DBAST_DEFAULT_CONFDIR=\"/nonexistent\""
LIBS="-lpam -lssl -lcrypto -linih -ljansson -lhiredis -lpthread -ldl"
missed=0

# mutant NAME FILE SED [expect]: expect is "caught" (default) or "pass"
mutant() {
    local name=$1 file=$2 expr=$3 want=${4:-caught} out got c
    rm -rf "$W/core" "$W"/*.o "$W/libm.a"
    cp -r "$TOP/core" "$W/core"
    sed -i "$expr" "$W/core/$file"
    if [ "$want" = caught ] && cmp -s "$W/core/$file" "$TOP/core/$file"; then
        echo "not ok - $name: the mutation no longer applies (update mutants.sh)"
        missed=$((missed + 1)); return
    fi
    for c in "$W"/core/*.c; do
        gcc $CFL -c -o "$W/$(basename "$c" .c).o" "$c" || { echo "not ok - $name: build"; missed=$((missed + 1)); return; }
    done
    ar rcs "$W/libm.a" "$W"/*.o
    # next to pam_fixed_test.so, where the test looks for it
    gcc -Wl,--export-dynamic -o "$B/tests/stack/mutant_diff" \
        "$B/obj/tests/stack/test_stack_diff.o" "$B/obj/tests/stack/stackgen.o" "$W/libm.a" $LIBS
    out=$(STACK_DIFF_SEED=${STACK_DIFF_SEED:-7} STACK_DIFF_N=$N BAST_PLUGIN_DIR=$B/plugins \
        "$B/tests/stack/mutant_diff" 2>&1)
    rm -f "$B/tests/stack/mutant_diff"
    if grep -q '^not ok' <<<"$out"; then got=caught; else got=pass; fi
    if [ "$got" = "$want" ]; then
        echo "ok - $name: $got $(grep -m1 '^# shrunk' <<<"$out" | cut -c1-150)"
    else
        echo "not ok - $name: $got, expected $want"; missed=$((missed + 1))
    fi
}

mutant unmutated engine.c 's/^//' pass
mutant no-sanity-check engine.c 's/if (status == BAST_RES_SUCCESS && impression != POSITIVE)/if (0)/'
mutant unlisted-default-ignore control.c '/if (parse_bracket(p, end, actions, err, errlen) != 0)/,/actions\[0\]/ s/actions\[r\] = BAST_ACT_BAD;/actions[r] = BAST_ACT_IGNORE;/'
mutant dash-skips-missing verify.c 's/rv = BAST_RES_UNAVAILABLE; \/\* `-name`/rv = BAST_RES_IGNORE; \/* `-name`/'
mutant done-only-on-success engine.c 's/if (impression == POSITIVE && action == BAST_ACT_DONE)/if (impression == POSITIVE \&\& status == BAST_RES_SUCCESS \&\& action == BAST_ACT_DONE)/'
mutant leave-whole-stack engine.c 's/while (i + 1 < n && h\[i + 1\].level >= level)$/while (i + 1 < n \&\& h[i + 1].level >= 0)/'
mutant ignore-kept-under-bad engine.c '/if (rv == BAST_RES_IGNORE) {/,/} else {/ s/status = 0;/status = rv;/'
mutant ok-never-overwrites engine.c 's/(impression == POSITIVE && status == BAST_RES_SUCCESS)/0/'
mutant bad-jump-keeps-failure engine.c 's/if (left) {/if (left \&\& impression != NEGATIVE) {/'
mutant reset-to-initial engine.c 's/impression = saved\[level\].impression;/impression = saved[0].impression;/; s/status = saved\[level\].status;/status = saved[0].status;/'
mutant last-failure-wins engine.c 's/            if (impression != NEGATIVE) {/            if (1) {/'
mutant jump-counts-lines engine.c 's/} while (i + 1 < n && h\[i + 1\].level > level);/} while (0);/'
mutant include-as-substack config.c 's/int sub = e->kind == ENT_SUBSTACK;/int sub = 1;/'
mutant filtered-module-runs verify.c 's/!bast__filter_match(in, call->req)/0/'
mutant binding-ignores-failure control.c 's/{"binding", BAST_ACT_DONE, BAST_ACT_IGNORE, BAST_ACT_BAD}/{"binding", BAST_ACT_DONE, BAST_ACT_IGNORE, BAST_ACT_IGNORE}/'
mutant requisite-as-required control.c 's/{"requisite", BAST_ACT_OK, BAST_ACT_IGNORE, BAST_ACT_DIE}/{"requisite", BAST_ACT_OK, BAST_ACT_IGNORE, BAST_ACT_BAD}/'
mutant flags-case-sensitive control.c 's/strncasecmp(flags\[i\].name, text, len)/strncmp(flags[i].name, text, len)/'
echo "$missed mutants missed"
[ "$missed" -eq 0 ]
