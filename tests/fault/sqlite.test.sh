#!/usr/bin/env bash
# Fault injection on the apikey plugin's SQLite store: locked by another
# writer (reads go on in WAL mode, the key is still checked; the lost
# last-used update is logged), corrupted header or pages, unreadable to
# the service user (each refuses to load: exit 2 with a message naming
# the file:line and the store, never an allow), and, under bastd, a store
# corrupted while running (the loaded index keeps answering; a SIGHUP with
# the broken store is refused, logged, and the old config stays).
. "$TOP/tests/lib.sh"
. "$TOP/tests/fault/faultlib.sh"
cd "$T" || exit 1
have_plugin apikey || { skip "apikey plugin not built"; exit 0; }

mkconf conf
printf '[bast]\naudit = off\n' >conf/bast.conf
printf '[app]\n\n[key]\nplugin = apikey\ncontrol = required\nstore = sqlite:keys.db\nrefresh = 1\n' \
    >conf/conf.d/api.conf
KEY=$("$BAST" apikey --app api --module key --confdir conf issue --user alice \
    --name fault --json 2>/dev/null | json_get "$(cat)" key)
check "a key was issued" test -n "$KEY"
cp conf/keys.db "$T/keys.good"
restore() { cp "$T/keys.good" conf/keys.db; chmod 600 conf/keys.db; rm -f conf/keys.db-wal conf/keys.db-shm; }
try() { verify api conf -H "X-Api-Key: $KEY" >/dev/null; err=$(cat "$T/.verify.err"); }

try
check_eq "healthy store: allow alice" "allow 200 null alice" "$(summary "$out")"

# locked: another process holds an exclusive write transaction for 6.5 s,
# past the store's 5 s busy timeout
$PY - "$T/conf/keys.db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
c.execute("UPDATE meta SET v = v WHERE k = 'generation'")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(6.5)
PY
locker=$!
for i in $(seq 50); do [ -f conf/keys.db.locked ] && break; sleep 0.1; done
try
check_eq "store locked by a writer: the key is still checked (WAL readers go on)" \
    "allow 200 null alice" "$(summary "$out")"
case $err in *"last-used update lost"*locked*) ok "store locked: the lost last-used update is logged" ;;
*) not_ok "store locked: lost update logged (stderr: $err)" ;; esac
wait "$locker"
rm -f conf/keys.db.locked

corrupt_case() { # corrupt_case WHAT (store already damaged)
    try
    check_eq "$1: refused (exit 2)" 2 "$rc"
    check_eq "$1: nothing allowed, nothing printed" "" "$out"
    case $err in *api.conf:*store*) ok "$1: the message names the config line and the store" ;;
    *) not_ok "$1: message names config line and store (got: $err)" ;; esac
}
restore
printf 'this is not SQLite' | dd of=conf/keys.db bs=1 seek=0 conv=notrunc 2>/dev/null
corrupt_case "corrupted header"
restore
dd if=/dev/urandom of=conf/keys.db bs=1024 seek=4 count=16 conv=notrunc 2>/dev/null
corrupt_case "corrupted pages"
restore
: >conf/keys.db.tmp && mv conf/keys.db.tmp conf/keys.db && chmod 600 conf/keys.db
try
check "empty store file: never an allow" test "$(field "$out" 'r["decision"]')" != allow
restore
if command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
    chmod 755 "$T" conf conf/conf.d; chmod 644 conf/keys.db conf/conf.d/api.conf conf/bast.conf
    out=$(runuser -u nobody -- "$BAST" verify --app api --confdir conf -H "X-Api-Key: $KEY" 2>"$T/ro.err"); rc=$?
    check_eq "store not writable by the service user: refused (exit 2)" 2 "$rc"
    case $(cat "$T/ro.err") in *store*denied* | *store*readonly*) ok "read-only store: the message says why" ;;
    *) not_ok "read-only store message (got: $(cat "$T/ro.err"))" ;; esac
else
    skip "runuser or nobody missing: read-only case"
fi
restore

# under bastd: corrupt the store while it runs
if [ ! -x "$B/bin/bastd" ]; then skip "bastd not built"; exit 0; fi
P=$(free_port)
"$B/bin/bastd" --confdir conf --listen "127.0.0.1:$P" --threads 2 2>"$T/bastd.log" &
bpid=$!
at_exit "kill $bpid"
for i in $(seq 50); do curl -s "http://127.0.0.1:$P/healthz" >/dev/null && break; sleep 0.1; done
code() { curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $1" "http://127.0.0.1:$P/verify/api"; }
check_eq "bastd: healthy store answers 200" 200 "$(code "$KEY")"
printf 'this is not SQLite' | dd of=conf/keys.db bs=1 seek=0 conv=notrunc 2>/dev/null
sleep 2.5
check_eq "bastd: store corrupted while running: the loaded index still answers 200" 200 "$(code "$KEY")"
check_eq "bastd: an unknown key is still refused (401)" 401 "$(code "bast_${KEY#bast_}x")"
kill -HUP "$bpid"; sleep 1
check "bastd: SIGHUP with the broken store: reload refused and logged" grep -q "not loaded" "$T/bastd.log"
check_eq "bastd: the old configuration keeps answering" 200 "$(code "$KEY")"
check "bastd: still alive" kill -0 "$bpid"
