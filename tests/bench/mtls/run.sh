#!/usr/bin/env bash
# mtls and basic benchmark: makes a PKI (root, intermediate, client leaf)
# with the openssl command and a users file with htpasswd -B, then runs
# $B/bench/mtls, which prints verifications per second and ratios against
# baselines measured in the same run.  Timing never fails the run.
set -eu
cd "$(dirname "$0")/../../.."
TOP=$(pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
W=$(mktemp -d /tmp/bast-bench-mtls.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
. "$TOP/tests/plugins/mtls/pki.sh"
newca root "Bench Root"
newca inter "Bench Inter" root
leaf inter client "/CN=bench-client" "$CLIENT_EXT"
cat client.pem inter/ca.pem >chain.pem
printf 'bench-client:%s\n' "$(htpasswd -nbB x bench-secret | head -1 | cut -d: -f2-)" >users
chmod 600 users
mkdir -p conf/conf.d
printf '[app]\n[m]\nplugin = mtls\ncontrol = required\nca_file = %s\n' "$W/root/ca.pem" >conf/conf.d/mtls.conf
printf '[app]\n[b]\nplugin = basic\ncontrol = required\nusers_file = %s\n' "$W/users" >conf/conf.d/basic.conf
printf '[app]\n[b]\nplugin = basic\ncontrol = required\nusers_file = %s\ncache_ttl = 0\n' "$W/users" >conf/conf.d/basic_nocache.conf
"$B/bench/mtls" "$W/conf" "$B/plugins" chain.pem root/ca.pem bench-client bench-secret
