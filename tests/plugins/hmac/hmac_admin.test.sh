#!/usr/bin/env bash
# `bast hmac add|list|rotate|revoke` on the secrets file of a `bast`
# instance: a new secret is printed once and verifies; rotation keeps the
# previous secret working, --keep drops the oldest; revoke --old keeps only
# the newest; revoke removes the key; the file stays mode 0600 and is
# replaced atomically; usage errors exit 2, failures 1.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/hmac/hmaclib.sh"
cd "$T" || exit 1
umask 022

NOW=1800000000
hconf c pay "secrets_file = keys"
printf 'k1 alice existing-secret-0000000000\n' >c/keys; chmod 600 c/keys
hconf c hook "profile = stripe" "secret = hook.secret" "webhook_name = s"
printf 'whsec_hook_secret_0000000000\n' >c/hook.secret; chmod 600 c/hook.secret
adm() { "$BAST" hmac "$@" --app pay --module sig --confdir c; }
secret_of() { sed -n 's/^secret: //p' "$1"; }
try() { # try SECRET: verify a request signed with it by k9
    printf '%s\n' "$1" >sec; chmod 600 sec
    signh h --key-id k9 --secret-file sec --method POST --path /x --body b --now "$NOW"
    out=$("$BAST" verify --app pay --confdir c "${H[@]}" --method POST --path /x --body b --now "$NOW")
}

adm add k9 carol >add.out; r=$?
check_eq "add: exit 0" 0 "$r"
A=$(secret_of add.out)
check "add: prints a 43-char secret once" test "${#A}" = 43
check_eq "add: file mode kept 600" 600 "$(stat -c %a c/keys)"
check "add: the existing key is kept" grep -q '^k1 alice existing-secret-0000000000$' c/keys
try "$A"; expect "add: the new secret verifies" allow 200 null carol
adm add k9 dave >/dev/null 2>&1; check_eq "add: existing key id refused (exit 1)" 1 "$?"
adm list >list.out
check "list: key, owner and number of secrets" grep -q '^k9 carol 1$' list.out
check "list: never prints a secret" sh -c "! grep -q -- '$A' list.out"
json=$(adm list --json)
check_eq "list --json" '2 carol' "$($PY -c 'import json,sys; l=json.loads(sys.argv[1]); print(len(l), [k["owner"] for k in l if k["key_id"]=="k9"][0])' "$json")"

adm rotate k9 >rot.out; B2=$(secret_of rot.out)
check "rotate: prints a different secret" test -n "$B2" -a "$B2" != "$A"
try "$B2"; expect "rotate: the new secret verifies" allow 200 null carol
try "$A"; expect "rotate: the previous secret still verifies" allow 200 null carol
adm rotate k9 --keep 2 >rot2.out; C=$(secret_of rot2.out)
try "$C"; expect "rotate --keep 2: newest verifies" allow 200 null carol
try "$B2"; expect "rotate --keep 2: previous verifies" allow 200 null carol
try "$A"; expect "rotate --keep 2: oldest dropped" deny 401 invalid_signature null
adm revoke k9 --old >/dev/null
try "$B2"; expect "revoke --old: previous secret gone" deny 401 invalid_signature null
try "$C"; expect "revoke --old: newest kept" allow 200 null carol
adm revoke k9 >/dev/null; check_eq "revoke: exit 0" 0 "$?"
try "$C"; expect "revoke: key gone" deny 401 unknown_key null
check "revoke: other keys kept" grep -q '^k1 alice ' c/keys
check_eq "no temporary files left" 0 "$(ls c | grep -c 'keys\.')"

adm revoke nosuch >/dev/null 2>&1; check_eq "revoke unknown key: exit 1" 1 "$?"
adm bogus >/dev/null 2>&1; check_eq "unknown subcommand: exit 2" 2 "$?"
adm add onlyone >/dev/null 2>&1; check_eq "add without owner: exit 2" 2 "$?"
adm add 'bad id' x >/dev/null 2>&1; check_eq "add with a space in the id: exit 2" 2 "$?"
adm rotate k1 --keep 0 >/dev/null 2>&1; check_eq "rotate --keep 0: exit 2" 2 "$?"
"$BAST" hmac list --app hook --module sig --confdir c >/dev/null 2>&1
check_eq "webhook instance has no secrets to manage: exit 1" 1 "$?"
