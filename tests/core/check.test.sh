#!/usr/bin/env bash
# `bast check`: prints each stack as it will run and lints it; exit 0 with
# warnings, 2 on errors.  One case per warning kind.
. "$TOP/tests/lib.sh"
mkconf "$T/c"
C=$T/c/conf.d
warns() { "$BAST" check --confdir "$T/c" --app "$1" 2>&1 >/dev/null; }

printf '[app]\nrealm = x\n' > "$C/empty.conf"
w=$(warns empty)
[[ $w == *"empty: the stack has no modules"* ]] && ok "empty stack warned" || not_ok "empty stack: $w"
verify empty "$T/c" >/dev/null
check_eq "an empty stack denies" deny "$(json_get "$out" decision)"

printf '[a]\nplugin = fixed\ncontrol = [success=bad default=ignore]\nresult = success\n' > "$C/never.conf"
w=$(warns never)
[[ $w == *"can never allow"* ]] && ok "stack that can never allow warned" || not_ok "never allow: $w"

printf '[gate]\nplugin = deny\ncontrol = [default=die success=done]\n\n[late]\nplugin = permit\ncontrol = required\n' > "$C/unreach.conf"
w=$(warns unreach)
[[ $w == *"[late] and what follows can never run"* ]] && ok "module that can never run warned" || not_ok "never run: $w"

printf '[s]\nplugin = permit\ncontrol = sufficient\n\n[o]\nplugin = permit\ncontrol = optional\n' > "$C/suff.conf"
w=$(warns suff)
[[ $w == *"after [s] (success=done) only modules that ignore failures follow"* ]] && ok "sufficient with nothing that matters after warned" || not_ok "sufficient: $w"

printf '[r]\nplugin = permit\ncontrol = required\n' > "$C/fine.conf"
w=$(warns fine); rc=$?
check_eq "a sound stack gives no warning" "" "$w"
out=$("$BAST" check --confdir "$T/c" --app fine)
[[ $out == *"1. r"*"permit"*"required"*"conf.d/fine.conf:1"* ]] && ok "check prints the stack with file:line" || not_ok "listing: $out"

if [ -f "$BAST_PLUGIN_DIR/basic.so" ]; then
    htpasswd -nbB -C 4 c1 secret > "$T/c/clients"
    chmod 600 "$T/c/clients"
    printf '[client]\nplugin = basic\ncontrol = required\nusers_file = clients\n' > "$C/tok.conf"
    w=$(warns tok)
    [[ $w == *"basic without a \`paths\` restriction"* ]] && ok "basic without paths warned" || not_ok "basic: $w"
else
    skip "basic plugin not built"
fi

printf '[a]\nplugin = permit\ncontrol = requird\n' > "$C/bad.conf"
msg=$("$BAST" check --confdir "$T/c" 2>&1 >/dev/null); rc=$?
check_eq "a broken app fails the whole check (exit 2)" 2 "$rc"
[[ $msg == *"conf.d/bad.conf:3: control: unknown control 'requird'"* ]] && ok "error names file:line and key" || not_ok "message: $msg"
