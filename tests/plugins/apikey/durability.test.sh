#!/usr/bin/env bash
# apikey store durability: two concurrent loops of `bast apikey issue` and
# `revoke` are killed with SIGKILL mid-burst, several times.  Afterwards the
# SQLite file passes integrity_check, and every issue and revoke that a
# command acknowledged (exit 0, id printed) is in the store.
. "$TOP/tests/lib.sh"
cd "$T"
if ! command -v sqlite3 >/dev/null; then skip "sqlite3 command missing"; exit 0; fi
D=$T/c
mkconf "$D"
cat >"$D/conf.d/pay.conf" <<'EOF'
[app]
[keys]
plugin = apikey
control = required
store = sqlite:pay.db
EOF
DB=$D/pay.db

cat >"$T/loop.sh" <<'EOF'
# loop.sh TAG: issue keys, revoke every other one; log what was acknowledged
tag=$1 prev=
while :; do
    j=$("$BAST" apikey issue --app pay --module keys --confdir "$D" \
        --user "u$tag" --name burst --json 2>/dev/null) || continue
    id=$(printf '%s' "$j" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
    echo "issue $id" >>"$T/acked.$tag"
    if [ -n "$prev" ]; then
        "$BAST" apikey revoke --app pay --module keys --confdir "$D" "$prev" \
            >/dev/null 2>&1 && echo "revoke $prev" >>"$T/acked.$tag"
        prev=
    else
        prev=$id
    fi
done
EOF
export D T BAST

for burst in 1 2 3 4 5; do
    setsid bash "$T/loop.sh" a &
    pa=$!
    setsid bash "$T/loop.sh" b &
    pb=$!
    sleep "0.$((RANDOM % 6 + 5))"
    kill -9 -- -"$pa" -"$pb" 2>/dev/null
    wait "$pa" "$pb" 2>/dev/null
done

cat "$T"/acked.* >"$T/acked" 2>/dev/null
ni=$(grep -c '^issue ' "$T/acked")
nr=$(grep -c '^revoke ' "$T/acked")
check "the bursts acknowledged work ($ni issues, $nr revokes)" test "$ni" -gt 10 -a "$nr" -gt 3

check_eq "integrity_check after SIGKILLs" ok "$(sqlite3 "$DB" 'PRAGMA integrity_check')"
sqlite3 "$DB" 'SELECT id FROM keys' | sort >"$T/present"
sqlite3 "$DB" 'SELECT id FROM keys WHERE revoked_at IS NOT NULL' | sort >"$T/revoked"
missing=$(grep '^issue ' "$T/acked" | cut -d' ' -f2 | sort | comm -23 - "$T/present" | wc -l)
check_eq "every acknowledged issue is in the store" 0 "$missing"
missing=$(grep '^revoke ' "$T/acked" | cut -d' ' -f2 | sort | comm -23 - "$T/revoked" | wc -l)
check_eq "every acknowledged revoke is in the store" 0 "$missing"
check_eq "ids are unique" "$(sort -u "$T/present" | wc -l)" "$(wc -l <"$T/present")"
check_eq "hashes are unique" 1 "$(sqlite3 "$DB" 'SELECT count(*) = count(DISTINCT hash) FROM keys')"
gen=$(sqlite3 "$DB" "SELECT v FROM meta WHERE k = 'generation'")
writes=$(($(wc -l <"$T/present") + $(wc -l <"$T/revoked")))
check "generation counts at least every committed write ($gen >= $writes)" test "$gen" -ge "$writes"

# the store still works for the admin commands and for verify
J=$("$BAST" apikey issue --app pay --module keys --confdir "$D" --user z --name after --json 2>/dev/null)
check_eq "issue after the crashes" 0 $?
K=$(json_get "$J" key)
verify pay "$D" -H "X-Api-Key: $K" >/dev/null
check_eq "and the new key verifies" allow "$(json_get "$out" decision)"
last=$(grep '^revoke ' "$T/acked" | tail -1 | cut -d' ' -f2)
if [ -n "$last" ]; then
    S=$("$BAST" apikey show --app pay --module keys --confdir "$D" "$last" --json)
    check_eq "an acknowledged revoke shows as revoked" revoked "$(json_get "$S" status)"
fi
