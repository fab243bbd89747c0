#!/usr/bin/env bash
# The hmac plugin's SQLite key store (store_file + master_key_file): keys
# managed with `bast hmac` verify; no secret is readable in the database;
# rotation and revocation; a wrong master key, a tampered or swapped row,
# loose file modes and incomplete options are load errors.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/hmac/hmaclib.sh"
cd "$T" || exit 1
umask 022

NOW=1800000000
hconf c st "store_file = keys.db" "master_key_file = master.key"
openssl rand -hex 32 >c/master.key; chmod 600 c/master.key
adm() { "$BAST" hmac "$@" --app st --module sig --confdir c; }
try() { # try KEYID SECRET
    printf '%s\n' "$2" >sec; chmod 600 sec
    signh h --key-id "$1" --secret-file sec --method PUT --path /doc --body data --now "$NOW"
    out=$("$BAST" verify --app st --confdir c "${H[@]}" --method PUT --path /doc --body data --now "$NOW")
}
loaderr() { # loaderr WHAT GREP
    errout=$("$BAST" check --confdir c 2>&1); local r=$?
    if [ "$r" = 2 ] && printf '%s' "$errout" | grep -q -- "$2"; then ok "$1"; else not_ok "$1 (rc $r: $errout)"; fi
}

check "an empty store loads (and is created)" "$BAST" check --confdir c
check_eq "the database is created 0600" 600 "$(stat -c %a c/keys.db)"
adm add k1 alice >a.out; A=$(sed -n 's/^secret: //p' a.out)
adm add k2 bob >b.out; Bs=$(sed -n 's/^secret: //p' b.out)
check "add printed secrets" test "${#A}" = 43 -a "${#Bs}" = 43
try k1 "$A"; expect "store: k1 verifies" allow 200 null alice
try k2 "$Bs"; expect "store: k2 verifies" allow 200 null bob
try k2 "$A"; expect "store: k1's secret on k2" deny 401 invalid_signature null
check "no secret in clear in the database" sh -c "! grep -q -e '$A' -e '$Bs' c/keys.db"
check_eq "list" "k1 alice 1|k2 bob 1" "$(adm list | paste -sd'|')"

adm rotate k1 >r.out; A2=$(sed -n 's/^secret: //p' r.out)
try k1 "$A2"; expect "store rotate: new secret" allow 200 null alice
try k1 "$A"; expect "store rotate: previous secret still" allow 200 null alice
adm rotate k1 >r2.out; A3=$(sed -n 's/^secret: //p' r2.out)
try k1 "$A"; expect "store rotate (keep 2): oldest dropped" deny 401 invalid_signature null
try k1 "$A3"; expect "store rotate (keep 2): newest" allow 200 null alice
adm revoke k1 --old >/dev/null
try k1 "$A2"; expect "store revoke --old: previous gone" deny 401 invalid_signature null
adm revoke k2 >/dev/null
try k2 "$Bs"; expect "store revoke: key gone" deny 401 unknown_key null
check_eq "list after revoke" "k1 alice 1" "$(adm list)"
adm add k1 carol >/dev/null 2>&1; check_eq "store add: existing id refused" 1 "$?"

# tampering and keys
adm add k3 dave >/dev/null
cp c/keys.db good.db
sqlite3 c/keys.db "UPDATE hmac_keys SET owner = 'mallory' WHERE key_id = 'k3'"
loaderr "owner changed in the database: refused (bound to the secret)" "does not decrypt"
cp good.db c/keys.db
sqlite3 c/keys.db "UPDATE hmac_keys SET sealed = (SELECT sealed FROM hmac_keys WHERE key_id = 'k1') WHERE key_id = 'k3'"
loaderr "sealed secret moved to another key: refused" "does not decrypt"
cp good.db c/keys.db
sqlite3 c/keys.db "UPDATE hmac_keys SET sealed = zeroblob(59) WHERE key_id = 'k3'"
loaderr "sealed secret overwritten: refused" "does not decrypt"
cp good.db c/keys.db; chmod 600 c/keys.db
cp c/master.key good.key
openssl rand -hex 32 >c/master.key
loaderr "wrong master key: refused" "does not decrypt"
printf 'not hex\n' >c/master.key
loaderr "master key not 64 hex chars" "64 hex"
cp good.key c/master.key; chmod 644 c/master.key
loaderr "master key readable by others" "master.key"
chmod 600 c/master.key; chmod 644 c/keys.db
loaderr "database readable by others" "keys.db"
chmod 600 c/keys.db
check "restored store loads" "$BAST" check --confdir c
hconf c st "store_file = keys.db"
loaderr "store_file without master_key_file" "master_key_file"
hconf c st "store_file = keys.db" "master_key_file = master.key" "secrets_file = x"
loaderr "both secrets_file and store_file" "store_file"
hconf c st "secrets_file = x" "master_key_file = master.key"
loaderr "master_key_file without store_file" "master_key_file"
