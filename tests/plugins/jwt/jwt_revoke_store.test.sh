#!/usr/bin/env bash
# jwt: revocation through the context's replay store.  `bast jwt revoke`
# in one process writes the jti into a real Redis; a running context in
# another process (bastd-like: one `bast verify` reading several requests)
# and fresh processes refuse that token; other tokens pass; Redis down is
# 503 store_unavailable (fail closed).
. "$TOP/tests/lib.sh"
command -v redis-server >/dev/null || { skip "redis-server not installed"; exit 0; }
port=$(free_port)
start_redis "$port" || { not_ok "redis started"; exit 1; }
mkconf "$T/c"
printf '[bast]\nreplay = redis://127.0.0.1:%s/0\n' "$port" > "$T/c/bast.conf"
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$T/c/hs.secret"
chmod 600 "$T/c/hs.secret"
cat > "$T/c/conf.d/api.conf" <<'CONF'
[bearer]
plugin           = jwt
control          = required
algorithms       = HS256
hmac_secret_file = hs.secret
revocation_store = yes
CONF
mint() { $PY -c 'import jwt,sys,time
s=open(sys.argv[1]).read().encode()
print(jwt.encode({"sub":"alice","jti":sys.argv[2],"exp":int(time.time())+600},s,algorithm="HS256"))' "$T/c/hs.secret" "$1"; }
t1=$(mint jti-1); t2=$(mint jti-2)
verify api "$T/c" -H "Authorization: Bearer $t1" >/dev/null
check_eq "a token with a jti is allowed before revocation" allow "$(json_get "$out" decision)"
"$BAST" jwt revoke jti-1 --ttl 10m --app api --module bearer --confdir "$T/c" >/dev/null
check_eq "bast jwt revoke into the store exits 0" 0 $?
check_eq "the store holds the revocation with its ttl" 1 \
    "$(redis-cli -p "$port" --scan --pattern '*revoked*jti-1' | wc -l)"
verify api "$T/c" -H "Authorization: Bearer $t1" >/dev/null
check_eq "the revoked token is denied in another process" "deny revoked" \
    "$(json_get "$out" decision) $(json_get "$out" error)"
verify api "$T/c" -H "Authorization: Bearer $t2" >/dev/null
check_eq "another jti still passes" allow "$(json_get "$out" decision)"
verify api "$T/c" -H "Authorization: Bearer $t2" >/dev/null
check_eq "peeking does not spend the jti (still allowed)" allow "$(json_get "$out" decision)"
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
sleep 0.3
verify api "$T/c" -H "Authorization: Bearer $t2" >/dev/null
check_eq "redis down: 503 store_unavailable" "503 store_unavailable" \
    "$(json_get "$out" status) $(json_get "$out" error)"
grep -q "replay store unavailable" "$T/.verify.err" && ok "the store failure is logged" || not_ok "no log line: $(cat "$T/.verify.err")"
"$BAST" jwt revoke jti-2 --app api --module bearer --confdir "$T/c" >/dev/null 2>&1
check_eq "revoke with redis down fails (exit 1)" 1 $?
