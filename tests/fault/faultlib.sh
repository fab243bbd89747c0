# Helpers for tests/fault/*.test.sh (sourced after tests/lib.sh).
# fault_plugins: a plugin dir in $T/plugins holding the built plugins and
# the fault-injection ones (symlinks), exported as BAST_PLUGIN_DIR.
fault_plugins() {
    mkdir -p "$T/plugins"
    local f
    for f in "$B"/plugins/*.so "$B"/tests/fault/plugins/*.so; do
        [ -f "$f" ] && ln -sf "$f" "$T/plugins/${f##*/}"
    done
    export BAST_PLUGIN_DIR="$T/plugins"
}
# have_plugin NAME: is NAME.so built?
have_plugin() { [ -f "$B/plugins/$1.so" ]; }
# field JSON EXPR: a Python expression over the result r
field() {
    $PY -c 'import json,sys
r=json.loads(sys.argv[1].splitlines()[0]); v=eval(sys.argv[2])
print("null" if v is None else v)' "$1" "$2" 2>/dev/null
}
# summary JSON: "decision status error identity"
summary() {
    $PY -c 'import json,sys
try: r=json.loads(sys.argv[1].splitlines()[0])
except Exception: print("unparsable"); sys.exit()
print(*["null" if r.get(k) is None else r.get(k) for k in ("decision", "status", "error", "identity")])' "$1"
}
# crashed RC: exit codes >= 128 are deaths by signal (ASan exits 1)
not_crashed() { [ "$1" -lt 128 ]; }
