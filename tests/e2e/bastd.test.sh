#!/usr/bin/env bash
# bastd on its own, driven by curl: the allow answer (X-Bast-* headers),
# each denial status with its WWW-Authenticate challenges and JSON body,
# the three proxy dialects (nginx auth_request, Traefik ForwardAuth, Envoy
# ext_authz) rebuilt into the request the stack sees (checked with the
# test-only echo plugin), X-Bast-* from the client dropped, proxy headers
# ignored from an untrusted peer (127.0.0.2), bad proxy headers refused,
# body limit, unknown apps and paths, /healthz, /metrics, a unix socket
# with its mode and owner, systemd socket activation, IPv6, limits (header
# size, connections, idle timeout), command-line errors, SIGHUP with a good and a bad
# configuration, SIGTERM, and the core's audit lines (one per decision).
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/e2elib.sh"
cd "$T" || exit 1
umask 022

plugdir "$T/plugins"
export BAST_PLUGIN_DIR=$T/plugins
mkconf c
app() { # app NAME RESULT [extra option lines...]
    local n=$1 r=$2; shift 2
    { printf '[app]\nrealm = shop\n\n[m]\nplugin = fixed\ncontrol = required\nresult = %s\n' "$r"
      printf '%s\n' "$@"; } >"c/conf.d/$n.conf"
}
app ok success "identity = alice"
app absent absent "error = missing_credentials" 'challenge = Bearer realm="shop"' \
    '' '[m2]' 'plugin = fixed' 'control = required' 'result = absent' 'challenge = ApiKey realm="shop"'
app deny deny "error = invalid_token" 'challenge = Bearer realm="shop", error="invalid_token"'
app forbidden forbidden "error = insufficient_scope"
app malformed malformed "error = invalid_request"
app unavailable unavailable "error = store_unavailable"
printf '[app]\nrealm = shop\n\n[e]\nplugin = echo\ncontrol = required\n' >c/conf.d/echo.conf

P=$(free_port)
U=http://127.0.0.1:$P
start_bastd "$T/bastd.log" --confdir c --listen "127.0.0.1:$P" --max-body 64 --threads 2
check "bastd starts and /healthz answers" wait_http "$U/healthz"
check_eq "/healthz body" ok "$(curl -s "$U/healthz")"

# ---- results -----------------------------------------------------------
code() { curl -s -o "$T/body" -D "$T/h" -w '%{http_code}' "$@"; }
check_eq "allow: 200" 200 "$(code "$U/verify/ok")"
check_eq "allow: X-Bast-Identity" alice "$(hdr h X-Bast-Identity)"
check_eq "allow: X-Bast-Scheme" fixed "$(hdr h X-Bast-Scheme)"
check_eq "allow: X-Bast-Attributes is a JSON object" '{}' "$(hdr h X-Bast-Attributes)"
check_eq "allow: empty body" 0 "$(stat -c %s body)"

check_eq "absent: 401" 401 "$(code "$U/verify/absent")"
check_eq "absent: one WWW-Authenticate per challenge" 2 "$(grep -ci '^WWW-Authenticate:' h)"
check_eq "absent: first challenge" 'Bearer realm="shop"' "$(hdr h WWW-Authenticate)"
check "absent: second challenge" grep -qi '^WWW-Authenticate: ApiKey realm="shop"' h
check_eq "absent: error in body" missing_credentials "$(json_get "$(cat body)" error)"
check "absent: no identity header" bash -c "! grep -qi '^X-Bast-Identity' h"
check_eq "absent: JSON content type" application/json "$(hdr h Content-Type)"

check_eq "deny: 401" 401 "$(code "$U/verify/deny")"
check_eq "deny: error" invalid_token "$(json_get "$(cat body)" error)"
check_eq "deny: challenge" 'Bearer realm="shop", error="invalid_token"' "$(hdr h WWW-Authenticate)"
check_eq "forbidden: 403" 403 "$(code "$U/verify/forbidden")"
check_eq "forbidden: error" insufficient_scope "$(json_get "$(cat body)" error)"
check_eq "malformed: 400" 400 "$(code "$U/verify/malformed")"
check_eq "malformed: error" invalid_request "$(json_get "$(cat body)" error)"
check_eq "unavailable: 503" 503 "$(code "$U/verify/unavailable")"
check_eq "unavailable: error" store_unavailable "$(json_get "$(cat body)" error)"
check_eq "unknown app: denied 401" 401 "$(code "$U/verify/nosuchapp")"
check_eq "bad app name: 404" 404 "$(code "$U/verify/..%2fetc")"
check_eq "unknown path: 404" 404 "$(code "$U/nope")"
check_eq "POST /metrics: 405" 405 "$(code -X POST "$U/metrics")"

# ---- the request the stack sees -------------------------------------------
A() { hdr h X-Bast-Attributes; }
code "$U/verify/echo" -H 'X-Original-Method: POST' -H 'X-Original-URI: /v1/charges?expand=a%20b&x' \
    -H 'X-Real-IP: 203.0.113.7' -H 'X-Forwarded-Proto: https' -H 'Authorization: Bearer tok' \
    -H 'X-Bast-Identity: mallory' -H 'X-Custom: one' -H 'X-Custom: two' >/dev/null
a=$(A)
check_eq "nginx: method from X-Original-Method" POST "$(attr "$a" method)"
check_eq "nginx: path from X-Original-URI (still encoded)" /v1/charges "$(attr "$a" path)"
check_eq "nginx: query split at ?" 'expand=a%20b&x' "$(attr "$a" query)"
check_eq "nginx: client address from X-Real-IP" 203.0.113.7 "$(attr "$a" remote_addr)"
check_eq "nginx: tls from X-Forwarded-Proto" 1 "$(attr "$a" tls)"
hs=$(attr "$a" headers)
check "nginx: Authorization passed through" grep -q '"Authorization: Bearer tok"' <<<"$hs"
check "nginx: repeated headers kept in order" grep -q '"X-Custom: one", "X-Custom: two"' <<<"$hs"
check "nginx: client's X-Bast-Identity not passed" bash -c "! grep -qi 'X-Bast' <<<'$hs'"
check "nginx: proxy headers not passed as request headers" bash -c "! grep -qiE 'X-Original|X-Real-IP|X-Forwarded' <<<'$hs'"
check_eq "nginx: no body (auth_request sends none)" 0 "$(attr "$a" body_present)"

CERT=$(printf -- '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n')
ESC=$($PY -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$CERT")
code "$U/verify/echo" -H "X-Original-URI: /" -H "X-Client-Cert: $ESC" >/dev/null
a=$(A)
check_eq "nginx: X-Client-Cert URL-unescaped into the peer certificate" "$CERT" "$(attr "$a" peer_cert)"
check_eq "nginx: a client certificate implies TLS" 1 "$(attr "$a" tls)"

code "$U/verify/echo" -H 'X-Forwarded-Method: DELETE' -H 'X-Forwarded-Uri: /items/7?force=1' \
    -H 'X-Forwarded-For: 198.51.100.9, 127.0.0.1' -H 'X-Forwarded-Host: api.example' \
    -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Tls-Client-Cert: MIIBfake' >/dev/null
a=$(A)
check_eq "traefik: method" DELETE "$(attr "$a" method)"
check_eq "traefik: path" /items/7 "$(attr "$a" path)"
check_eq "traefik: query" force=1 "$(attr "$a" query)"
check_eq "traefik: client is the rightmost untrusted X-Forwarded-For entry" 198.51.100.9 "$(attr "$a" remote_addr)"
check "traefik: Host from X-Forwarded-Host" grep -q '"Host: api.example"' <<<"$(attr "$a" headers)"
check_eq "traefik: certificate body rebuilt as PEM" "$CERT" "$(attr "$a" peer_cert)"

code "$U/verify/echo" -H 'X-Forwarded-Uri: /' -H "X-Forwarded-Tls-Client-Cert: $(printf ',%.0s' $(seq 300))" >/dev/null
check_eq "traefik: a certificate header of only commas gives no certificate" null "$(attr "$(A)" peer_cert)"
LONG=$(head -c 150 /dev/zero | tr '\0' A)
code "$U/verify/echo" -H 'X-Forwarded-Uri: /' -H "X-Forwarded-Tls-Client-Cert: $LONG,,MIIBsecond" >/dev/null
a=$(attr "$(A)" peer_cert)
check_eq "traefik: two certificates rebuilt as two PEM blocks" 2 "$(grep -c BEGIN <<<"$a")"
check_eq "traefik: bodies wrapped at 64 columns" "64 64 22" "$(sed -n 2,4p <<<"$a" | awk '{printf "%s%d", (NR > 1 ? " " : ""), length($0)}')"

code -X PUT "$U/verify/echo/v2/orders/9?dry=1" -H 'X-Forwarded-For: 192.0.2.1' -H 'Content-Type: text/plain' --data-binary 'hello' >/dev/null
a=$(A)
check_eq "envoy: the check request's method" PUT "$(attr "$a" method)"
check_eq "envoy: path after /verify/<app>" /v2/orders/9 "$(attr "$a" path)"
check_eq "envoy: query" dry=1 "$(attr "$a" query)"
check_eq "envoy: client from X-Forwarded-For" 192.0.2.1 "$(attr "$a" remote_addr)"
check_eq "envoy: body passed on (with_request_body)" hello "$(attr "$a" body)"
check_eq "envoy: no TLS claimed" 0 "$(attr "$a" tls)"
check_eq "body over --max-body: 413" 413 "$(code "$U/verify/echo" --data-binary "$(head -c 100 /dev/zero | tr '\0' x)")"

# ---- untrusted peers ------------------------------------------------------
code --interface 127.0.0.2 "$U/verify/echo" -H 'X-Original-Method: POST' -H 'X-Original-URI: /admin' \
    -H 'X-Real-IP: 10.9.9.9' -H 'X-Forwarded-For: 10.8.8.8' -H "X-Client-Cert: $ESC" \
    -H 'X-Forwarded-Proto: https' >/dev/null
a=$(A)
check_eq "untrusted: X-Original-URI ignored" / "$(attr "$a" path)"
check_eq "untrusted: X-Original-Method ignored" GET "$(attr "$a" method)"
check_eq "untrusted: X-Real-IP/X-Forwarded-For ignored (TCP peer used)" 127.0.0.2 "$(attr "$a" remote_addr)"
check_eq "untrusted: spoofed X-Client-Cert ignored" null "$(attr "$a" peer_cert)"
check_eq "untrusted: X-Forwarded-Proto ignored" 0 "$(attr "$a" tls)"

check_eq "bad X-Real-IP from a proxy: 400" 400 "$(code "$U/verify/echo" -H 'X-Original-URI: /' -H 'X-Real-IP: not-an-ip')"
check_eq "bad X-Real-IP: error" invalid_request "$(json_get "$(cat body)" error)"
check_eq "repeated X-Original-URI: 400" 400 "$(code "$U/verify/echo" -H 'X-Original-URI: /a' -H 'X-Original-URI: /b')"
check_eq "garbage in X-Forwarded-For: 400" 400 "$(code "$U/verify/echo" -H 'X-Forwarded-For: 1.2.3.4, <script>')"
check_eq "relative X-Original-URI: 400" 400 "$(code "$U/verify/echo" -H 'X-Original-URI: admin')"

# ---- metrics ------------------------------------------------------------------
curl -s "$U/metrics" >m
check "metrics: requests by app/decision/status" grep -q '^bastd_requests_total{app="ok",decision="allow",status="200"} 1$' m
check "metrics: 503 counted" grep -q '^bastd_requests_total{app="unavailable",decision="deny",status="503"} 1$' m
check "metrics: unknown apps folded into _unknown" grep -q '^bastd_requests_total{app="_unknown",decision="deny",status="401"} 1$' m
check "metrics: denials by error (store errors visible)" grep -q '^bastd_denials_total{app="unavailable",error="store_unavailable"} 1$' m
check "metrics: store/cache errors by module" grep -q '^bastd_dependency_errors_total{app="unavailable",module="m"} 1$' m
check "metrics: module results" grep -q '^bastd_module_results_total{app="absent",module="m2",result="absent"} 1$' m
check "metrics: latency histogram" grep -q '^bastd_request_duration_seconds_bucket{le="+Inf"} [1-9]' m
check "metrics: reloads" grep -q '^bastd_reloads_total{result="ok"} 0$' m
check "metrics: generation 1" grep -q '^bastd_config_generation 1$' m

# ---- reload --------------------------------------------------------------
app ok success "identity = bob"
kill -HUP "$BASTD_PID"
for i in $(seq 50); do curl -s "$U/metrics" | grep -q '^bastd_config_generation 2$' && break; sleep 0.1; done
code "$U/verify/ok" >/dev/null
check_eq "SIGHUP: new configuration serves" bob "$(hdr h X-Bast-Identity)"
printf '[app]\n[m]\nplugin = fixed\ncontrol = bogus\nresult = success\n' >c/conf.d/ok.conf
kill -HUP "$BASTD_PID"
for i in $(seq 50); do curl -s "$U/metrics" | grep -q '^bastd_reloads_total{result="failed"} 1$' && break; sleep 0.1; done
code "$U/verify/ok" >/dev/null
check_eq "SIGHUP with a bad configuration: the old one keeps serving" bob "$(hdr h X-Bast-Identity)"
check "bad configuration logged with file and line" grep -q 'ok.conf:[0-9]*' bastd.log
check "still generation 2" bash -c "curl -s '$U/metrics' | grep -q '^bastd_config_generation 2$'"

kill -TERM "$BASTD_PID"
wait "$BASTD_PID"; rc=$?
check_eq "SIGTERM: exit 0" 0 "$rc"
check "SIGTERM: logged stop" grep -q 'stopped' bastd.log

# ---- listening -----------------------------------------------------------
app ok success "identity = alice"
S=$T/bastd.sock
start_bastd "$T/unix.log" --confdir c --listen "unix:$S" --socket-mode 0600
check_eq "unix socket: mode 0600" 600 "$(stat -c %a "$S")"
check_eq "unix socket: verify" 200 "$(curl -s -o /dev/null -D h -w '%{http_code}' --unix-socket "$S" http://x/verify/ok)"
code --unix-socket "$S" http://x/verify/echo -H 'X-Original-URI: /p' -H 'X-Real-IP: 192.0.2.5' >/dev/null
check_eq "unix socket peers are trusted (the word unix)" 192.0.2.5 "$(attr "$(A)" remote_addr)"
kill -TERM "$BASTD_PID"; wait "$BASTD_PID"
check "unix socket removed at exit" test ! -e "$S"

# socket activation: a listening socket on fd 3, LISTEN_PID = our pid
PS=$(free_port)
$PY - "$PS" "$BASTD" --confdir c --listen systemd 2>"$T/sd.log" <<'PY' &
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())   # exec keeps the pid
os.execv(sys.argv[2], [sys.argv[2]] + sys.argv[3:])
PY
SD=$!
at_exit "kill $SD"
check "--listen systemd: serves on the inherited socket" wait_http "http://127.0.0.1:$PS/healthz"
check_eq "--listen systemd: verify" 200 "$(code "http://127.0.0.1:$PS/verify/ok")"
kill -TERM "$SD"; wait "$SD"; rc=$?
check_eq "--listen systemd: SIGTERM exit 0" 0 "$rc"
"$BASTD" --confdir c --listen systemd 2>"$T/sd2.log"; rc=$?
check_eq "--listen systemd without LISTEN_FDS: exit 1" 1 "$rc"
check "... with a message" grep -q 'LISTEN_FDS' "$T/sd2.log"

if grep -q "^0\{31\}1 " /proc/net/if_inet6 2>/dev/null; then
    P6=$(free_port)
    start_bastd "$T/v6.log" --confdir c --listen "[::1]:$P6"
    check_eq "IPv6 listen: verify" 200 "$(code "http://[::1]:$P6/verify/ok")"
    code "http://[::1]:$P6/verify/echo" -H 'X-Original-URI: /' -H 'X-Real-IP: 2001:db8::1' >/dev/null
    check_eq "IPv6: ::1 trusted by default, v6 X-Real-IP kept" 2001:db8::1 "$(attr "$(A)" remote_addr)"
    kill -TERM "$BASTD_PID"; wait "$BASTD_PID"
else
    skip "IPv6 listen: no IPv6 on this host"
fi

# ---- CIDR prefixes ---------------------------------------------------------
PC=$(free_port)
start_bastd "$T/cidr.log" --confdir c --listen "127.0.0.1:$PC" --trusted-proxies "10.0.0.0/8, 127.0.0.0/30"
code --interface 127.0.0.2 "http://127.0.0.1:$PC/verify/echo" -H 'X-Original-URI: /' -H 'X-Real-IP: 192.0.2.77' >/dev/null
check_eq "127.0.0.0/30 trusts 127.0.0.2" 192.0.2.77 "$(attr "$(A)" remote_addr)"
code --interface 127.0.0.5 "http://127.0.0.1:$PC/verify/echo" -H 'X-Original-URI: /' -H 'X-Real-IP: 192.0.2.77' >/dev/null
check_eq "... but not 127.0.0.5" 127.0.0.5 "$(attr "$(A)" remote_addr)"
code "http://127.0.0.1:$PC/verify/echo" -H 'X-Forwarded-For: 198.51.100.1, 10.1.2.3' >/dev/null
check_eq "X-Forwarded-For skips trusted hops from the right" 198.51.100.1 "$(attr "$(A)" remote_addr)"
kill -TERM "$BASTD_PID"; wait "$BASTD_PID"

# ---- limits: header size, connections, idle timeout, socket owner ----------
PL=$(free_port)
start_bastd "$T/limits.log" --confdir c --listen "127.0.0.1:$PL" --threads 1 --max-connections 1 --timeout 1
UL=http://127.0.0.1:$PL
big() { head -c "$1" /dev/zero | tr '\0' a; }
check_eq "headers over --max-header: 431 from libmicrohttpd" 431 "$(code "$UL/verify/echo" -H "X-Big: $(big 60000)")"
check_eq "headers over the core's 16 KiB: 400" 400 "$(code "$UL/verify/echo" -H "X-Big: $(big 20000)")"
check_eq "headers over 16 KiB: says why" "request headers too large" "$(json_get "$(cat body)" error_description)"
$PY - "$PL" >idle.out 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t = time.time()
s.settimeout(10)
try:
    closed = s.recv(1) == b""
except OSError:
    closed = True
print("closed" if closed else "open", round(time.time() - t))
PY
IDLE=$!
sleep 0.3
# at the limit libmicrohttpd stops accepting: the second client waits
check_eq "--max-connections 1: a second connection is not served" 000 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.4 "$UL/healthz")"
wait "$IDLE"
read -r st secs <idle.out
check_eq "--timeout 1: an idle connection is closed" closed "$st"
check "--timeout 1: after about a second" test "${secs:-99}" -le 3
check_eq "after the idle one is gone, connections are accepted" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$UL/healthz")"
kill -TERM "$BASTD_PID"; wait "$BASTD_PID"
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    start_bastd "$T/owner.log" --confdir c --listen "unix:$T/own.sock" --socket-owner nobody --socket-mode 0640
    check_eq "--socket-owner: the socket belongs to nobody" nobody "$(stat -c %U "$T/own.sock")"
    check_eq "--socket-mode 0640" 640 "$(stat -c %a "$T/own.sock")"
    kill -TERM "$BASTD_PID"; wait "$BASTD_PID"
else
    skip "--socket-owner: needs root and a nobody user"
fi
"$BASTD" --confdir c --listen "unix:$T/x.sock" --socket-owner no-such-user-xyz 2>/dev/null; rc=$?
check_eq "--socket-owner with an unknown user: exit 1" 1 "$rc"
check "... and no socket left behind" test ! -e "$T/x.sock"

# ---- audit: one line per decision, written by the core (not by bastd) ----
mkconf au
printf '[bast]\naudit = %s\n' "$T/audit.jsonl" >au/bast.conf
cp c/conf.d/ok.conf c/conf.d/deny.conf au/conf.d/
PA=$(free_port)
start_bastd "$T/audit.log" --confdir au --listen "127.0.0.1:$PA"
curl -s -o /dev/null "http://127.0.0.1:$PA/verify/ok"
curl -s -o /dev/null "http://127.0.0.1:$PA/verify/deny"
curl -s -o /dev/null "http://127.0.0.1:$PA/verify/ok"
kill -TERM "$BASTD_PID"; wait "$BASTD_PID"
check_eq "audit: exactly one line per decision" 3 "$(wc -l <"$T/audit.jsonl" 2>/dev/null || echo 0)"
check "audit: the denial is there" grep -q 'invalid_token' "$T/audit.jsonl"
check "audit: bastd's own log has no per-request lines" bash -c "! grep -q 'invalid_token' '$T/audit.log'"

"$BASTD" --confdir c --listen "127.0.0.1:$P" --threads 0 2>/dev/null; rc=$?
check_eq "bad --threads: exit 2" 2 "$rc"
"$BASTD" --confdir c --listen "127.0.0.1:$P" --trusted-proxies 10.0.0.0/99 2>/dev/null; rc=$?
check_eq "bad --trusted-proxies: exit 2" 2 "$rc"
"$BASTD" --confdir c --listen "nonsense" 2>/dev/null; rc=$?
check_eq "bad --listen: exit 1" 1 "$rc"
mkconf bad
printf '[app]\n[m]\nplugin = nosuchplugin\ncontrol = required\n' >bad/conf.d/x.conf
"$BASTD" --confdir bad --listen "127.0.0.1:$P" 2>/dev/null; rc=$?
check_eq "bad configuration at start: exit 1" 1 "$rc"
check "--help" bash -c "'$BASTD' --help | grep -q -- --trusted-proxies"
