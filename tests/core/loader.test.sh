#!/usr/bin/env bash
# The plugin loader's refusals, each a config error (exit 2) whose message
# names file:line and says why: wrong ABI, unknown capability, no
# descriptor symbol, an unresolved symbol (RTLD_NOW), a world- or group-
# writable .so, a missing plugin, a bad plugin name; and `-name` for a
# missing plugin loads and answers `unavailable`.
. "$TOP/tests/lib.sh"
P=$T/plugins
mkdir -p "$P"
cp "$B"/tests/core/plugins/*.so "$B"/plugins/fixed.so "$P"/
chmod 755 "$P"/*.so
mkconf "$T/c"

conf() { printf '%s\n' "$@" > "$T/c/conf.d/app.conf"; }
refused() { # what, expected message part
    local msg
    msg=$("$BAST" check --confdir "$T/c" --quiet 2>&1 >/dev/null); local rc=$?
    if [ $rc -eq 2 ] && [[ $msg == *"$2"* ]] && [[ $msg == *"conf.d/app.conf:"* ]]; then
        ok "$1"
    else
        not_ok "$1 (rc=$rc msg=$msg)"
    fi
}
export BAST_PLUGIN_DIR=$P

conf "[m]" "plugin = badabi" "control = required"
refused "wrong ABI refused, naming both" "ABI mismatch: core expects 1"
conf "[m]" "plugin = badcaps" "control = required"
refused "unknown capability bits refused" "unknown capability bits 0x80"
conf "[m]" "plugin = nosym" "control = required"
refused "a .so without the descriptor refused" "exports no bast_plugin_entry"
conf "[m]" "plugin = undef" "control = required"
refused "an unresolved symbol fails at load (RTLD_NOW)" "bast_symbol_that_does_not_exist"
conf "[m]" "plugin = nothere" "control = required"
refused "a missing plugin is a load error" "nothere.so"
conf "[m]" "plugin = ../fixed" "control = required"
refused "a plugin name with a path is refused" "invalid plugin name"
chmod 777 "$P/fixed.so"
conf "[m]" "plugin = fixed" "control = required" "result = success"
refused "a world-writable .so is refused" "writable by group or others"
chmod 775 "$P/fixed.so"
refused "a group-writable .so is refused" "writable by group or others"
chmod 755 "$P/fixed.so"

conf "[gone]" "plugin = -nothere" "control = optional" "" \
     "[m]" "plugin = fixed" "control = required" "result = success"
verify app "$T/c" >/dev/null
check_eq "-name: missing optional plugin loads and the stack allows" 0 "$rc"
check_eq "-name: the missing entry is in the trace as unavailable" \
    '"unavailable"' "$($PY -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["trace"][0]["result"]))' "$out")"
conf "[gone]" "plugin = -nothere" "control = required" "" \
     "[m]" "plugin = fixed" "control = required" "result = success"
verify app "$T/c" >/dev/null
check_eq "-name under required fails the stack with 503" 503 "$(json_get "$out" status)"
check_eq "-name under required: exit 1" 1 "$rc"

# a config file anyone may write is refused; the whole load fails
conf "[m]" "plugin = fixed" "control = required" "result = success"
chmod 666 "$T/c/conf.d/app.conf"
msg=$("$BAST" check --confdir "$T/c" 2>&1 >/dev/null); rc=$?
check_eq "a world-writable conf file is refused" 2 "$rc"
[[ $msg == *"writable by group or others"* ]] && ok "... with the reason" || not_ok "... reason: $msg"
chmod 644 "$T/c/conf.d/app.conf"

# secret-file check (through a plugin is the realistic path; here the
# core's check through bast_secret_file_check is exercised by plugins'
# own tests) - a plugin that fails in open names file:line
conf "[m]" "plugin = fixed" "control = required" "result = sucess"
refused "a plugin's open error names file:line and key" "conf.d/app.conf:4: result: unknown result 'sucess'"
