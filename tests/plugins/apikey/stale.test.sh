#!/usr/bin/env bash
# apikey fails closed when its store cannot be read: a running bastd whose
# index refresh fails (here: another process drops the change counter)
# answers 503 once the index is older than 5 x refresh (at
# least 10 s), since revocations might be missing; it recovers by itself
# once the store is readable again.
. "$TOP/tests/lib.sh"
cd "$T"
if ! command -v sqlite3 >/dev/null; then skip "sqlite3 command missing"; exit 0; fi
BASTD=$B/bin/bastd
if [ ! -x "$BASTD" ]; then skip "bastd not built"; exit 0; fi
D=$T/c
mkconf "$D"
cat >"$D/conf.d/pay.conf" <<'EOF2'
[app]
[keys]
plugin = apikey
control = required
store = sqlite:pay.db
refresh = 1
EOF2
J=$("$BAST" apikey issue --app pay --module keys --confdir "$D" --user alice --name x --json 2>/dev/null)
K=$(json_get "$J" key)

P=$(free_port)
"$BASTD" --confdir "$D" --listen "127.0.0.1:$P" 2>>"$T/bastd.log" &
BPID=$!
at_exit "kill $BPID"
for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$P/healthz" && break; sleep 0.05; done
ask() {
    curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $K" \
        -H "X-Original-URI: /" "http://127.0.0.1:$P/verify/pay"
}
check_eq "store readable: 200" 200 "$(ask)"

# break the store under the running daemon: its change counter is gone
sqlite3 "$D/pay.db" 'DROP TABLE meta'
sleep 2
check_eq "shortly after the store breaks: still 200 (index fresh enough)" 200 "$(ask)"
seen=
for i in $(seq 40); do
    [ "$(ask)" = 503 ] && { seen=1; break; }
    sleep 0.5
done
check_eq "store unreadable past the bound: 503" 1 "${seen:-0}"
check "logged" grep -q "refusing keys" "$T/bastd.log"
sqlite3 "$D/pay.db" "CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
    INSERT INTO meta VALUES ('generation', 1000);"
back=
for i in $(seq 60); do
    [ "$(ask)" = 200 ] && { back=1; break; }
    sleep 0.2
done
check_eq "store readable again: 200 without a restart" 1 "${back:-0}"

# a file moved over the store in use (a backup "restored" with mv) is not
# read half-way: the daemon keeps its index, says so, and fails closed past
# the bound until a reload
sqlite3 "$D/pay.db" ".backup '$T/copy.db'"
chmod 600 "$T/copy.db"
mv "$T/copy.db" "$D/pay.db"
seen=
for i in $(seq 40); do
    [ "$(ask)" = 503 ] && { seen=1; break; }
    sleep 0.5
done
check_eq "store file replaced while open: 503 past the bound" 1 "${seen:-0}"
check "logged with the way out" grep -q "replaced or removed while open" "$T/bastd.log"
kill -HUP $BPID
back=
for i in $(seq 60); do
    [ "$(ask)" = 200 ] && { back=1; break; }
    sleep 0.2
done
check_eq "a reload opens the new file: 200" 1 "${back:-0}"
