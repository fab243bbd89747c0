#!/usr/bin/env bash
# SIGHUP under load: wrk (keep-alive) and a loop of curl (a new connection
# per request) hit bastd while the test swaps in configurations, valid and
# invalid alternately, and sends SIGHUP.  Each valid configuration is a
# stack of three modules that all name the same identity vN, so a request
# answered by a mix of two configurations would read 403
# identity_mismatch.  Asserts: no failed or non-200 request, every
# identity is one of the versions written, every valid reload applied and
# every invalid one refused; then SIGTERM under load exits 0.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/e2elib.sh"
cd "$T" || exit 1
umask 022
command -v wrk >/dev/null || { skip "wrk not installed"; exit 0; }

mkconf c
version() { # version N [bad]
    local f=c/conf.d/.hot.tmp m
    { printf '[app]\nrealm = hot\n'
      for m in a b c; do
          printf '\n[%s]\nplugin = fixed\ncontrol = required\nresult = success\nidentity = v%s\n' "$m" "$1"
          [ "${2:-}" = bad ] && [ $m = b ] && printf 'control = bogus\n'
      done; } >"$f"
    mv "$f" c/conf.d/hot.conf
}
version 0
P=$(free_port)
U=http://127.0.0.1:$P
start_bastd "$T/bastd.log" --confdir c --listen "127.0.0.1:$P"
check "bastd up" wait_http "$U/healthz"

cat >count.lua <<'EOF'
-- counts answers that are not 200 with an identity v<digits>
local threads = {}
function setup(t) table.insert(threads, t) end
function init(args) bad = 0; seen = 0 end
function response(status, headers, body)
    seen = seen + 1
    local id = headers["X-Bast-Identity"] or headers["x-bast-identity"] or ""
    if status ~= 200 or not string.match(id, "^v%d+$") then bad = bad + 1 end
end
function done(summary, latency, requests)
    local b, s = 0, 0
    for _, t in ipairs(threads) do b = b + t:get("bad"); s = s + t:get("seen") end
    io.write(string.format("BAD %d SEEN %d\n", b, s))
end
EOF
wrk -t2 -c16 -d60s -s count.lua "$U/verify/hot" >wrk.out 2>&1 &
WRK=$!
( n=0 bad=0
  while [ ! -e stop ]; do
      r=$(curl -s -o /dev/null -w '%{http_code} ' -D - "$U/verify/hot" | tr -d '\r' | awk '/^X-Bast-Identity:/ {print $2}')
      n=$((n + 1))
      case $r in v[0-9]*) ;; *) bad=$((bad + 1)); echo "bad answer: $r" ;; esac
  done
  echo "CURL $n BAD $bad" ) >curl.out &
CURL=$!
sleep 0.3
reloads() { curl -s "$U/metrics" | awk '/^bastd_reloads_total/ {n += $2} END {print n + 0}'; }
good=0 badcfg=0
for i in $(seq 1 30); do
    if [ $((i % 2)) = 0 ]; then version "$i" bad; badcfg=$((badcfg + 1)); else version "$i"; good=$((good + 1)); fi
    kill -HUP "$BASTD_PID"
    # signals of one kind coalesce: wait for this reload before the next
    for j in $(seq 100); do [ "$(reloads)" -ge "$i" ] && break; sleep 0.02; done
    sleep 0.05
done
sleep 0.3
kill -INT "$WRK"   # wrk prints its summary (and runs done()) on SIGINT
touch stop
wait "$WRK"
wait "$CURL"
read -r _ wbad _ wseen < <(grep '^BAD' wrk.out)
check "wrk ran" test "${wseen:-0}" -gt 1000
check_eq "wrk: no failed or wrong answer during 30 reloads" 0 "${wbad:-missing}"
check "wrk: no socket errors" bash -c "! grep -q 'Socket errors' wrk.out"
check "wrk: no non-2xx answers" bash -c "! grep -q 'Non-2xx' wrk.out"
read -r _ cn _ cbad < <(grep '^CURL' curl.out)
check "curl loop ran" test "${cn:-0}" -gt 20
check_eq "curl (new connection per request): no failure" 0 "${cbad:-missing}"
curl -s "$U/metrics" >m
check "every valid reload applied" grep -q "^bastd_reloads_total{result=\"ok\"} $good\$" m
check "every invalid reload refused" grep -q "^bastd_reloads_total{result=\"failed\"} $badcfg\$" m
check_eq "the last valid version serves" v29 "$(curl -s -D - -o /dev/null "$U/verify/hot" | tr -d '\r' | awk '/^X-Bast-Identity:/ {print $2}')"
check "the refused configurations were logged" grep -q 'hot.conf:[0-9]*.*control' bastd.log
check "no request was served by a half-loaded stack" bash -c "! grep -q 'identity_mismatch' m"

wrk -t2 -c8 -d3s "$U/verify/hot" >/dev/null 2>&1 &
WRK=$!
sleep 1
kill -TERM "$BASTD_PID"
t0=$SECONDS
wait "$BASTD_PID"; rc=$?
check_eq "SIGTERM under load: exit 0" 0 "$rc"
check "SIGTERM under load: drained quickly" test $((SECONDS - t0)) -le 5
wait "$WRK"
