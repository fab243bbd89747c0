# Helpers for the bastd / pam_bast / nginx end-to-end tests (sourced after
# tests/lib.sh).
#   BASTD                         the built daemon
#   have_plugin NAME              the plugin .so was built
#   plugdir DIR                   DIR gets copies of the built plugins and
#                                 the test-only echo.so (for BAST_PLUGIN_DIR)
#   start_bastd LOG ARGS...       start bastd in the background, wait until
#                                 /healthz answers (or the socket exists),
#                                 stopped at exit; sets BASTD_PID
#   wait_http URL                 wait until URL answers
#   hdr FILE NAME                 the value of response header NAME in a
#                                 `curl -D FILE` dump (first one)
#   attr JSON KEY                 a field of an X-Bast-Attributes value
#   san_preload                   LD_PRELOAD value for programs that are not
#                                 ours loading our sanitizer-built .so
BASTD=$B/bin/bastd
E2E=$B/tests/e2e

have_plugin() { [ -f "$BAST_PLUGIN_DIR/$1.so" ]; }

plugdir() {
    mkdir -p "$1"
    cp "$BAST_PLUGIN_DIR"/*.so "$E2E/echo.so" "$1/"
    chmod 755 "$1" "$1"/*.so
}

wait_http() {
    local i
    for i in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.05
    done
    return 1
}

start_bastd() {
    local log=$1; shift
    "$BASTD" "$@" 2>>"$log" &
    BASTD_PID=$!
    at_exit "kill $BASTD_PID; wait $BASTD_PID"
    local a i
    for a in "$@"; do
        case $a in
        unix:*)
            for i in $(seq 100); do [ -S "${a#unix:}" ] && return 0; sleep 0.05; done
            return 1 ;;
        esac
    done
    for a in "$@"; do
        case $a in
        127.*:* | \[*) wait_http "http://$a/healthz"; return ;;
        esac
    done
}

hdr() {
    tr -d '\r' <"$1" | awk -v n="$2" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(n) ":") == 1 {sub(/^[^:]*:[ \t]*/, ""); print; exit}'
}

attr() {
    $PY -c 'import json,sys
v=json.loads(sys.argv[1]).get(sys.argv[2])
print("null" if v is None else (json.dumps(v) if not isinstance(v,str) else v))' "$1" "$2"
}

san_preload() {
    local l p=""
    for l in asan ubsan; do
        case ${SAN:-} in *address*) [ $l = asan ] && p="$p:$(${CC:-cc} -print-file-name=libasan.so)" ;; esac
        case ${SAN:-} in *undefined*) [ $l = ubsan ] && p="$p:$(${CC:-cc} -print-file-name=libubsan.so)" ;; esac
    done
    echo "${p#:}"
}
