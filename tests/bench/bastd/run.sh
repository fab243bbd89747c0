#!/usr/bin/env bash
# bastd load benchmark: wrk against bastd on loopback for a fixed-plugin
# app and, when built, API-key and JWT (HS256) apps.  Reports requests per
# second, p50/p99 latency, and the ratio to the same verification called
# in-process (bastd_inproc, same threads, same run); then the daemon's RSS
# before and after ~1 million requests (fewer when the machine is slow, so
# the whole run stays under two minutes).  wrk shares the cores with bastd,
# so the ratio includes the client's cost.  Timing never fails the run.
set -u
cd "$(dirname "$0")/../../.."
TOP=$(pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PY=/usr/bin/python3
BAST=$B/bin/bast
export BAST_PLUGIN_DIR=${BAST_PLUGIN_DIR:-$B/plugins}
command -v wrk >/dev/null || { echo "bastd bench: wrk not installed; skipped"; exit 0; }
[ -x "$B/bin/bastd" ] && [ -x "$B/bench/bastd_inproc" ] ||
    { echo "bastd bench: build $B/bin/bastd and $B/bench/bastd_inproc first"; exit 1; }
T=$(mktemp -d /tmp/bastd-bench.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
NPROC=$(nproc)
SECS=${BASTD_BENCH_SECONDS:-5}
TARGET=${BASTD_BENCH_REQUESTS:-1000000}

umask 077
mkdir -p "$T/c/conf.d"
chmod 755 "$T/c" "$T/c/conf.d"
printf '[app]\nrealm = bench\n\n[m]\nplugin = fixed\ncontrol = required\nresult = success\nidentity = bench\n' >"$T/c/conf.d/fixed.conf"
APPS=("fixed|")
if [ -f "$BAST_PLUGIN_DIR/apikey.so" ]; then
    printf '[app]\nrealm = bench\n\n[keys]\nplugin = apikey\ncontrol = required\nstore = sqlite:keys.db\n' >"$T/c/conf.d/apikey.conf"
    KEY=$("$BAST" apikey --app apikey --module keys --confdir "$T/c" issue --user bench --name bench --json 2>/dev/null |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["key"])')
    [ -n "$KEY" ] && APPS+=("apikey|Authorization: Bearer $KEY")
fi
if [ -f "$BAST_PLUGIN_DIR/jwt.so" ] && $PY -c 'import jwt' 2>/dev/null; then
    head -c 48 /dev/urandom | base64 | tr -d '\n=+/' >"$T/c/jwt.secret"
    printf '[app]\nrealm = bench\n\n[bearer]\nplugin = jwt\ncontrol = required\nalgorithms = HS256\nhmac_secret_file = jwt.secret\n' >"$T/c/conf.d/jwt.conf"
    TOK=$($PY -c 'import jwt,sys,time
n=int(time.time()); print(jwt.encode({"sub":"bench","iat":n,"exp":n+3600}, open(sys.argv[1]).read(), "HS256"))' "$T/c/jwt.secret")
    APPS+=("jwt|Authorization: Bearer $TOK")
fi

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/bin/bastd" --confdir "$T/c" --listen "127.0.0.1:$PORT" --threads "$NPROC" 2>"$T/bastd.log" &
PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.05; done

us() { # wrk latency text (123.45us, 1.2ms, 2s) -> microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /m$/) print n * 60e6; else print n * 1e6 }'
}
wrkrun() { # wrkrun SECONDS APP HEADER -> "rps p50us p99us requests non2xx"
    local out args=(-t2 -c32 "-d${1}s" --latency)
    [ -n "$3" ] && args+=(-H "$3")
    out=$(wrk "${args[@]}" "http://127.0.0.1:$PORT/verify/$2" 2>&1)
    local rps p50 p99 n bad
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99=$(us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "${rps:-0} ${p50:-0} ${p99:-0} ${n:-0} ${bad:-0}"
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }

wrkrun 1 fixed "" >/dev/null # warm-up
echo "bastd benchmark: $NPROC cores, bastd --threads $NPROC, wrk -t2 -c32, ${SECS}s per run"
printf '%-8s %12s %10s %10s %14s %8s %9s\n' app bastd_rps p50_us p99_us inproc_rps ratio non2xx
for entry in "${APPS[@]}"; do
    app=${entry%%|*} header=${entry#*|}
    read -r rps p50 p99 _ bad < <(wrkrun "$SECS" "$app" "$header")
    if [ -n "$header" ]; then
        inproc=$("$B/bench/bastd_inproc" "$T/c" "$app" 3 "$NPROC" "$header" | awk '{print $2}')
    else
        inproc=$("$B/bench/bastd_inproc" "$T/c" "$app" 3 "$NPROC" | awk '{print $2}')
    fi
    ratio=$(awk -v a="$rps" -v b="$inproc" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
    printf '%-8s %12.0f %10.0f %10.0f %14.0f %8s %9s\n' "$app" "$rps" "$p50" "$p99" "$inproc" "$ratio" "$bad"
done

# RSS over ~1M requests on the last (most realistic) app, after a warm-up.
last=${APPS[${#APPS[@]}-1]}
app=${last%%|*} header=${last#*|}
wrkrun 2 "$app" "$header" >/dev/null
before=$(rss)
read -r rps _ _ _ _ < <(wrkrun 2 "$app" "$header")
secs=$(awk -v r="$rps" -v t="$TARGET" 'BEGIN { s = int(t / (r > 0 ? r : 1)) + 1; print (s > 40 ? 40 : s) }')
read -r rps _ _ n bad < <(wrkrun "$secs" "$app" "$header")
after=$(rss)
echo "rss ($app): ${before} KiB before, ${after} KiB after $n requests (${secs}s, non-2xx $bad); growth $((after - before)) KiB"
kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
