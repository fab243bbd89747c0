#!/usr/bin/env bash
# Valgrind over the compiled unit and plugin tests ($B/tests/**/test_*)
# and a set of `bast verify` / `bast check` calls, one per built scheme
# (fixed/permit/deny, jwt, hmac, apikey, basic, mtls), each under
# `valgrind --leak-check=full --error-exitcode=1`.  Leaks that count are
# definite and indirect ones (still-reachable globals of OpenSSL, libcurl
# and libpam are not leaks).  Prints ok/not ok per program; a valgrind
# error, a leak or a wrong decision is a failure.  VG_SKIP="name ..." adds
# tests to leave out.  Needs B (the plain build) and TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
BAST=$B/bin/bast
export BAST_PLUGIN_DIR=$B/plugins TOP B BAST
PY=/usr/bin/python3
W=$(mktemp -d /tmp/bast-vg.XXXXXX)
trap 'rm -rf "$W"' EXIT
VG=(valgrind -q --leak-check=full --error-exitcode=1
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --suppressions="$TOP/tests/valgrind/bast.supp")
# test_stack_diff replays thousands of stacks through real libpam: minutes
# under valgrind, and its code paths are the engine's, covered by
# test_engine; the sanitizer suite runs it in full.  The test_threads
# programs assert that changes show up within wall-clock intervals, which
# valgrind's serialised threads stretch past; ASan/UBSan run them.
SKIP=" test_stack_diff test_threads ${VG_SKIP:-} "
# tamper STR: STR with its last character changed, never STR itself
tamper() { local s=$1; case ${s: -1} in A) printf '%sB' "${s%?}" ;; *) printf '%sA' "${s%?}" ;; esac; }
cd "$W" || exit 2

vg() { # vg NAME EXPECT-RC CMD...: run under valgrind, log in $W/NAME.log
    local name=$1 want=$2 t0=$SECONDS; shift 2
    "${VG[@]}" --log-file="$W/$name.vg" "$@" >"$W/$name.out" 2>"$W/$name.err"
    local rc=$? errs
    errs=$(grep -cE '^==[0-9]+== +(Invalid|Conditional|Syscall param|Mismatched|[0-9,]+ .*(definitely|indirectly) lost)' "$W/$name.vg")
    if [ "$errs" -eq 0 ] && [ "$rc" -eq "$want" ]; then
        echo "ok - valgrind: $name ($((SECONDS - t0)) s)"
    else
        echo "not ok - valgrind: $name (exit $rc, want $want; $errs valgrind reports)"
        sed 's/^/#   /' "$W/$name.vg" | head -40
        grep -E '^not ok' "$W/$name.out" | head -5 | sed 's/^/#   /'
    fi
}

main() {
# ---- compiled tests (in the background: two streams for two cores) -------
compiled() {
    local t n
    while IFS= read -r t; do
        n=${t##*/}
        if [[ $SKIP == *" $n "* ]]; then echo "skip - valgrind: $n (left out: see run.sh)"; continue; fi
        TESTDIR=$W CMOCKA_MESSAGE_OUTPUT=TAP vg "$n" 0 "$t"
    done < <(find "$B/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort)
}
compiled >"$W/compiled.tap" 2>&1 &
cpid=$!

# ---- bast verify, one per scheme ------------------------------------------
C=$W/conf
mkdir -p "$C/conf.d"
chmod 755 "$C" "$C/conf.d"
printf '[bast]\naudit = off\n' >"$C/bast.conf"
D=$TOP/tests/fuzz/data NOW=1800000000
have() { [ -f "$B/plugins/$1.so" ]; }
# verify_ok NAME APP WANT-DECISION [args...]
verify_ok() {
    local name=$1 app=$2 want=$3 rc=0; shift 3
    [ "$want" = deny ] && rc=1
    vg "$name" "$rc" "$BAST" verify --app "$app" --confdir "$C" "$@"
    local got
    got=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["decision"])' "$W/$name.out" 2>/dev/null)
    if [ "$got" != "$want" ]; then
        echo "not ok - bast verify $name: decision '$got', want $want"
    fi
}

printf '[app]\n\n[a]\nplugin = fixed\ncontrol = [success=ok absent=ignore default=bad]\nresult = absent\n\n[b]\nplugin = permit\ncontrol = sufficient\nidentity = alice\n\n[c]\nplugin = deny\ncontrol = required\n' \
    >"$C/conf.d/stack.conf"
verify_ok stack stack allow
printf '[app]\n\n[s]\nsubstack = stack\n\n[d]\nplugin = deny\ncontrol = required\n' >"$C/conf.d/sub.conf"
verify_ok substack sub deny
if have jwt; then
    cp "$D/jwt.jwks" "$C/jwt.jwks"
    printf '[app]\n\n[t]\nplugin = jwt\ncontrol = required\njwks_file = jwt.jwks\naudience = api\n' >"$C/conf.d/jwt.conf"
    tok=$(head -1 "$D/jwt.tokens")
    verify_ok jwt jwt allow --now "$NOW" -H "Authorization: Bearer $tok"
    verify_ok jwt-bad jwt deny --now "$NOW" -H "Authorization: Bearer ${tok%?????}AAAAA"
fi
if have hmac; then
    printf 'key1 alice fuzz-secret-key-0123456789\n' >"$C/hmac.secrets"
    printf 'fuzz-secret-key-0123456789' >"$W/one.secret"
    chmod 600 "$C/hmac.secrets" "$W/one.secret"
    printf '[app]\n\n[h]\nplugin = hmac\ncontrol = required\nprofile = bast\nsecrets_file = hmac.secrets\n' >"$C/conf.d/hmac.conf"
    hs=()
    while IFS= read -r h; do hs+=(-H "$h"); done < <("$BAST" sign --key-id key1 \
        --secret-file "$W/one.secret" --method POST --path /x --body hi --now "$NOW")
    verify_ok hmac hmac allow --now "$NOW" --method POST --path /x --body hi "${hs[@]}"
    verify_ok hmac-bad hmac deny --now "$NOW" --method POST --path /x --body ho "${hs[@]}"
fi
if have apikey; then
    printf '[app]\n\n[k]\nplugin = apikey\ncontrol = required\nstore = sqlite:keys.db\n' >"$C/conf.d/apikey.conf"
    vg apikey-issue 0 "$BAST" apikey --app apikey --module k --confdir "$C" issue \
        --user alice --name vg --json
    key=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["key"])' "$W/apikey-issue.out" 2>/dev/null)
    verify_ok apikey apikey allow -H "X-Api-Key: $key"
    verify_ok apikey-bad apikey deny -H "X-Api-Key: $(tamper "$key")"
fi
if have basic; then
    cp "$D/basic.users" "$C/basic.users"
    chmod 600 "$C/basic.users"
    printf '[app]\n\n[b]\nplugin = basic\ncontrol = required\nusers_file = basic.users\n' >"$C/conf.d/basic.conf"
    printf '{"headers": [["Authorization", "Basic %s"]], "tls": true}' \
        "$(printf client-a:s3cret | base64)" >"$W/basic.json"
    verify_ok basic basic allow --request "$W/basic.json"
    printf '{"headers": [["Authorization", "Basic %s"]], "tls": true}' \
        "$(printf client-a:wrong | base64)" >"$W/basic-bad.json"
    verify_ok basic-bad basic deny --request "$W/basic-bad.json"
fi
if have mtls; then
    cp "$D/mtls-ca.pem" "$C/ca.pem"
    tail -c +2 "$TOP/tests/fuzz/corpus/mtls/leaf" | sed -n '/BEGIN/,/END/p' >"$W/leaf.pem"
    printf '[app]\n\n[m]\nplugin = mtls\ncontrol = required\nca_file = ca.pem\n' >"$C/conf.d/mtls.conf"
    verify_ok mtls mtls allow --now "$NOW" --cert "$W/leaf.pem"
    verify_ok mtls-none mtls deny --now "$NOW"
fi
vg check 0 "$BAST" check --confdir "$C"

wait "$cpid"
cat "$W/compiled.tap"
}

main 2>&1 | tee "$W/all.tap"
n=$(grep -c '^not ok' "$W/all.tap")
echo "# valgrind: $n failure(s)"
[ "$n" -eq 0 ]
