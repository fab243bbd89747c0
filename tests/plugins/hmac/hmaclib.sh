# Helpers for the hmac tests (sourced after tests/lib.sh).
#   hconf DIR APP OPTION-LINES...   write DIR/conf.d/APP.conf with one hmac
#                                   instance `sig` (control required)
#   signh FILE SIGN-ARGS...         `bast sign` into FILE; sets the array H
#                                   to -H arguments for `bast verify`
#   expect WHAT DECISION STATUS ERROR IDENTITY   assert on $out
#   field PYEXPR                    evaluate on the parsed result r
#   reqjson FILE METHOD PATH QUERY BODY [HEADER-FILE...]   one request as
#                                   JSON (for streams through one context)
hconf() {
    local dir=$1 app=$2; shift 2
    mkconf "$dir"
    { printf '[app]\nrealm = %s\n\n[sig]\nplugin = hmac\ncontrol = required\n' "$app"
      printf '%s\n' "$@"; } >"$dir/conf.d/$app.conf"
}
signh() {
    local f=$1; shift
    "$BAST" sign "$@" >"$f" 2>"$f.err" || { not_ok "bast sign $*: $(cat "$f.err")"; }
    H=()
    local l
    while IFS= read -r l; do H+=(-H "$l"); done <"$f"
}
field() {
    $PY -c 'import json,sys
r=json.loads(sys.argv[1]); v=eval(sys.argv[2])
print("null" if v is None else (v if isinstance(v,str) else json.dumps(v)))' "$out" "$1" 2>/dev/null
}
expect() {
    local what=$1 dec=$2 st=$3 err=$4 id=$5 got
    got="$(field 'r["decision"]') $(field 'r["status"]') $(field 'r["error"]') $(field 'r["identity"]')"
    check_eq "$what" "$dec $st $err $id" "$got"
}
reqjson() {
    local method=$2 path=$3 query=$4 body=$5 f=$1; shift 5
    $PY - "$method" "$path" "$query" "$body" "$@" >"$f" <<'PYEOF'
import json, sys
method, path, query, body = sys.argv[1:5]
headers = []
for hf in sys.argv[5:]:
    for line in open(hf):
        line = line.rstrip("\n")
        if line:
            n, v = line.split(": ", 1)
            headers.append([n, v])
print(json.dumps({"method": method, "path": path, "query": query,
                  "headers": headers, "body": body}))
PYEOF
}
