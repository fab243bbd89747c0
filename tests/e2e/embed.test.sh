#!/usr/bin/env bash
# examples/embed: the embedding host verifies from 4 threads, reloads on
# SIGHUP (new identity seen by every thread), keeps the old configuration
# on a bad reload, and denies with the stack's status and error; with the
# apikey plugin (when built) a real key is checked.
. "$TOP/tests/lib.sh"
cd "$T" || exit 1
umask 022
EMBED=$B/examples/embed/embed

mkconf c
conf() { printf '[app]\nrealm = shop\n\n[m]\nplugin = fixed\ncontrol = required\nresult = %s\n%s\n' "$1" "${2:-}" >c/conf.d/shop.conf; }
conf success "identity = alice"
"$EMBED" c shop 3 4 >out 2>err &
pid=$!
for i in $(seq 50); do grep -q ready out && break; sleep 0.05; done
sleep 0.3
conf success "identity = bob"
kill -HUP $pid
for i in $(seq 50); do grep -q '^reloaded' out && break; sleep 0.05; done
printf '[app]\n[m]\nplugin = fixed\ncontrol = bogus\n' >c/conf.d/shop.conf
kill -HUP $pid
wait $pid; rc=$?
check_eq "embed exits 0" 0 "$rc"
check "reload on SIGHUP" grep -q '^reloaded$' out
check "a bad configuration is reported, not applied" grep -q '^reload failed: .*shop.conf' out
check_eq "four threads reported" 4 "$(grep -c '^thread ' out)"
check_eq "every thread ends on the reloaded identity" 4 "$(grep -c '^thread .* deny 0 last bob$' out)"
check "threads verified many requests" bash -c "awk '/^thread/ {s += \$4} END {exit !(s > 100)}' out"

conf deny "error = invalid_token"
"$EMBED" c shop 1 2 >out 2>err
check_eq "denials carry status and error" 2 "$(grep -c '^thread .* allow 0 deny [1-9][0-9]* last deny:401:invalid_token$' out)"

"$EMBED" nonexistent shop 1 >out 2>err; rc=$?
check_eq "unopenable configuration: exit 1" 1 "$rc"

if [ -f "$BAST_PLUGIN_DIR/apikey.so" ]; then
    mkconf k
    chmod 700 k
    printf '[app]\nrealm = shop\n\n[keys]\nplugin = apikey\ncontrol = required\nstore = sqlite:keys.db\n' >k/conf.d/shop.conf
    key=$("$BAST" apikey --app shop --module keys --confdir k issue --user carol --name embed --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"])')
    EMBED_TOKEN=$key "$EMBED" k shop 1 2 >out 2>err
    check_eq "apikey: every thread allowed as the key's owner" 2 "$(grep -c '^thread .* deny 0 last carol$' out)"
    EMBED_TOKEN=$(tamper "$key") "$EMBED" k shop 1 2 >out 2>err
    check_eq "apikey: a wrong key is denied" 2 "$(grep -c '^thread .* allow 0 .* last deny:401:' out)"
else
    skip "apikey plugin not built"
fi
