#!/usr/bin/env bash
# jwt benchmark: keys and tokens for every algorithm minted with PyJWT
# (tests/plugins/jwt/mint.py), a config using them, then bench_jwt prints
# verifies/s through bast_verify() and the ratio to raw OpenSSL, 1 and 2
# threads, and against libjwt when available.  Timing never fails the run.
set -eu
cd "$(dirname "$0")/../../.."
B=${B:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
export BAST_PLUGIN_DIR=${BAST_PLUGIN_DIR:-$B/plugins}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
PY=/usr/bin/python3
$PY tests/plugins/jwt/mint.py keys "$d/k"
mkdir -p "$d/c/conf.d"
chmod 755 "$d/c" "$d/c/conf.d"
cp "$d/k/jwks.json" "$d/c/keys.jwks"
ALL="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512"
cat >"$d/c/conf.d/bench.conf" <<CONF
[app]
realm = bench

[bearer]
plugin = jwt
control = required
jwks_file = keys.jwks
algorithms = $ALL
CONF
exp=$(($(date +%s) + 86400))
for a in $ALL; do
    echo "{\"name\": \"$a\", \"lib\": \"pyjwt\", \"alg\": \"$a\", \"claims\": {\"sub\": \"bench\", \"exp\": $exp, \"scope\": \"read write\"}}"
done | $PY tests/plugins/jwt/mint.py batch "$d/k" >"$d/tokens"
"$B/bench/bench_jwt" "$d/c" "$d/k" "$d/tokens" "${JWT_BENCH_SECONDS:-0.2}"
