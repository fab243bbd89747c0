#!/usr/bin/env bash
# mtls and basic under concurrent bast_verify() calls: the benchmark
# program (tests/bench/mtls) run briefly with 4 threads while the basic
# users_file keeps changing (reloads and cache flushes mid-run).  Every
# request must be allowed; the sanitizer build checks memory on the way.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/mtls/pki.sh"
cd "$T" || exit 1
if [ ! -x "$B/bench/mtls" ]; then
    skip "tests/bench/mtls not built"
    exit 0
fi
newca root "Root"
newca inter "Inter" root
leaf inter client "/CN=threads" "$CLIENT_EXT"
cat client.pem inter/ca.pem >chain.pem
line="c:$(htpasswd -nbB x pw | head -1 | cut -d: -f2-)"
printf '%s\n' "$line" >users
chmod 600 users
mkconf conf
printf '[app]\n[m]\nplugin = mtls\ncontrol = required\nca_file = %s\n' "$T/root/ca.pem" >conf/conf.d/mtls.conf
printf '[app]\n[b]\nplugin = basic\ncontrol = required\nusers_file = %s\ncache_size = 4\n' "$T/users" >conf/conf.d/basic.conf
printf '[app]\n[b]\nplugin = basic\ncontrol = required\nusers_file = %s\ncache_ttl = 0\n' "$T/users" >conf/conf.d/basic_nocache.conf
# rewrite the file (new inode) every 0.3 s while the benchmark runs
( for i in $(seq 40); do printf '# %s\n%s\n' "$i" "$line" >users.new; chmod 600 users.new; mv users.new users; sleep 0.3; done ) &
toucher=$!
at_exit "kill $toucher"
BENCH_SECONDS=0.4 BENCH_THREADS=4 "$B/bench/mtls" "$T/conf" "$BAST_PLUGIN_DIR" chain.pem root/ca.pem c pw >bench.out 2>&1
check_eq "4 threads of mtls and basic with reloads: every request allowed (exit 0)" 0 $?
check "the concurrent phase ran" grep -q "4 threads" bench.out
kill $toucher 2>/dev/null
