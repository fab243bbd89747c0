# Helpers for tests/stack/*.test.sh (sourced after tests/lib.sh): write
# stacks of `fixed` modules into $CONF and assert what `bast verify` says.
#   app NAME [realm]             start conf.d/NAME.conf (later lines go there)
#   mod NAME CONTROL RESULT [k=v ...]   a `fixed` instance
#   sec NAME k=v ...             any section (include=, substack=, plugin=...)
#   expect LABEL APP DECISION STATUS ERROR "MODULES" [verify args...]
#       MODULES is the trace, space-separated, `-` for none; ERROR `null`
#       sets $out (the JSON) and $S (summary) for further checks
#   expect_load_error LABEL APP PATTERN   exit 2 and stderr matching PATTERN
CONF=$T/conf
mkconf "$CONF"
CUR=

app() {
    CUR=$CONF/conf.d/$1.conf
    printf '[app]\nrealm = %s\n' "${2:-stack}" >"$CUR"
}

sec() {
    local name=$1 kv; shift
    printf '\n[%s]\n' "$name" >>"$CUR"
    for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$CUR"; done
}

mod() {
    local name=$1 control=$2 result=$3; shift 3
    sec "$name" plugin=fixed "control=$control" "result=$result" "$@"
}

# Prints "decision|status|error|identity|module|trace modules|trace results|challenges"
summary() {
    $PY -c 'import json,sys
try:
    r=json.loads(sys.argv[1])
except Exception:
    print("unparsable|||||||"); sys.exit(0)
def s(v): return "null" if v is None else str(v)
t=r.get("trace") or []
print("|".join([s(r.get("decision")), s(r.get("status")), s(r.get("error")),
  s(r.get("identity")), s(r.get("module")),
  " ".join(x.get("module","?") for x in t) or "-",
  " ".join(x.get("result","?") for x in t) or "-",
  str(len(r.get("challenges") or []))]))' "$1"
}

# expect LABEL APP DECISION STATUS ERROR MODULES [verify args...]
expect() {
    local label=$1 app=$2 dec=$3 status=$4 err=$5 mods=$6 rc want_rc
    shift 6
    out=$("$BAST" verify --app "$app" --confdir "$CONF" "$@" 2>"$T/stack.err"); rc=$?
    S=$(summary "$out")
    IFS='|' read -r s_dec s_status s_err s_id s_mod s_trace s_results s_nch <<<"$S"
    want_rc=1; [ "$dec" = allow ] && want_rc=0
    if [ "$rc" = "$want_rc" ] && [ "$s_dec" = "$dec" ] && [ "$s_status" = "$status" ] &&
        [ "$s_err" = "$err" ] && [ "$s_trace" = "$mods" ]; then
        ok "$label: $dec $status $err [$mods]"
    else
        not_ok "$label: want $dec $status $err [$mods] exit $want_rc; got $s_dec $s_status $s_err [$s_trace] exit $rc $(head -c 300 "$T/stack.err")"
    fi
}

# expect_load_error LABEL APP PATTERN: `bast verify` exits 2 and names it
expect_load_error() {
    local label=$1 app=$2 pat=$3 out rc
    out=$("$BAST" verify --app "$app" --confdir "$CONF" 2>"$T/stack.err"); rc=$?
    if [ "$rc" = 2 ] && grep -Eq -- "$pat" "$T/stack.err"; then
        ok "$label: load error ($(head -c 150 "$T/stack.err" | tr '\n' ' '))"
    else
        not_ok "$label: want exit 2 and /$pat/; got exit $rc: $(head -c 300 "$T/stack.err") $out"
    fi
}

# fresh: empty the config dir between cases that must not see each other
fresh() {
    rm -rf "$CONF"
    mkconf "$CONF"
}
