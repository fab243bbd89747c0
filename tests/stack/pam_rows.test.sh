#!/usr/bin/env bash
# The verified libpam example stacks E01-E46 of shared/PAM-STACKING.md
# section 10, translated to bast (auth_err -> deny, cred_insufficient ->
# absent, user_unknown -> forbidden; new_authtok_reqd, which bast lacks,
# -> a malformed result routed to ok/done), run through `bast verify`:
# decision, HTTP status, error and the modules run.  Rows that are a
# must-fail line in libpam (E17, E18, E34, E35, E41) are load errors in
# bast.  Not here: E32/E33 (a plugin without its symbol, an out-of-range
# return: covered by config_errors.test.sh and impossible through
# `fixed`), E43/E44 (bast has no PAM_INCOMPLETE).
. "$TOP/tests/lib.sh"
. "$TOP/tests/stack/stacklib.sh"

# The errors `fixed` reports per result (the core's defaults).
E_ABSENT=missing_credentials
E_DENY=access_denied
E_FORBIDDEN=forbidden
E_MALFORMED=invalid_request
E_UNAVAIL=temporarily_unavailable
NODEC=missing_credentials # a stack where nothing decided

app e01
app e02; mod m0 required ignore; mod m1 optional ignore
app e03; mod m0 optional deny
app e04; mod m0 optional success
app e05; mod m0 required deny; mod m1 required forbidden; mod m2 requisite absent
app e06; mod m0 required deny; mod m1 sufficient success; mod m2 required success
app e07; mod m0 required success; mod m1 sufficient success; mod m2 required deny
app e08; mod m0 required deny; mod m1 requisite forbidden; mod m2 required success
app e09; mod m0 optional deny; mod m1 sufficient success; mod m2 required deny
app e10; mod m0 sufficient deny
app e11; mod m0 required success; mod m1 '[success=ok malformed=ok default=bad]' malformed
mod m2 required success
app e12; mod m0 '[default=ok]' malformed; mod m1 required deny
app e13; mod m0 required success; mod m1 '[success=done malformed=done default=ignore]' malformed
mod m2 required deny
app e14; mod m0 '[success=ok ignore=ok default=bad]' ignore
app e15; mod m0 '[default=ok]' deny; mod m1 sufficient success; mod m2 required success
app e16; mod m0 required success; mod m1 '[success=bad default=ok]' success
app e19; mod m0 required success; mod m1 '[success=ok]' ignore
app e20; mod m0 '[success=1 default=ignore]' success; mod m1 requisite deny
mod m2 required success
app e21; mod m0 '[success=1 default=ignore]' forbidden; mod m1 requisite deny
mod m2 required success
app e22; mod m0 required deny; mod m1 '[success=3 default=ignore]' success
mod m2 required success
app e23s; mod m1 required deny; mod m2 required deny
app e23; mod m0 '[success=1 default=ignore]' success; sec s substack=e23s
mod m3 required success
app e24i; mod m1 required deny; mod m2 required forbidden
app e24; mod m0 '[success=1 default=ignore]' success; sec i include=e24i
mod m3 required success
app e25s; mod m0 requisite deny; mod m1 required success
app e25; sec s substack=e25s; mod m2 required success
app e26s; mod m0 sufficient success; mod m1 required deny
app e26; sec s substack=e26s; mod m2 required forbidden
app e27i; mod m0 sufficient success; mod m1 required deny
app e27; sec i include=e27i; mod m2 required forbidden
app e28s; mod m1 required deny; mod m2 '[default=reset]' success; mod m3 required success
app e28; mod m0 required success; sec s substack=e28s
app e29; mod m0 required deny; mod m1 '[default=reset]' success; mod m2 required success
app e30; sec m0 plugin=-nosuchplugin control=required; mod m1 required success
app e31; sec m0 plugin=-nosuchplugin control=optional; mod m1 required success
app e36; mod m0 requisite ignore; mod m1 required success
app e37; mod m0 '[success=done default=die]' ignore; mod m1 required success
app e38s; mod m1 sufficient success
app e38; mod m0 required deny; sec s substack=e38s; mod m2 required success
app e39s; mod m0 '[success=2 default=ignore]' success; mod m1 required success
app e39; sec s substack=e39s; mod m2 required success
app e40; mod m0 Required success; mod m1 SUFFICIENT success
app e42; mod m0 success=done success; mod m1 required deny
app empty
app e45; sec s substack=empty; sec i include=empty; mod m0 optional success
app e46s; mod m0 required success
app e46; sec s substack=e46s; mod m1 requisite absent 'challenge=Test realm="stack"'
mod m2 required deny

expect E01 e01 deny 401 $NODEC -
expect E02 e02 deny 401 $NODEC "m0 m1"
expect E03 e03 deny 401 $E_DENY m0
expect E04 e04 allow 200 null m0
expect E05 e05 deny 401 $E_DENY "m0 m1 m2"
expect E06 e06 deny 401 $E_DENY "m0 m1 m2"
expect E07 e07 allow 200 null "m0 m1"
expect E08 e08 deny 401 $E_DENY "m0 m1"
expect E09 e09 allow 200 null "m0 m1"
expect E10 e10 deny 401 $E_DENY m0
expect E11 e11 deny 400 $E_MALFORMED "m0 m1 m2"
expect E12 e12 deny 401 $E_DENY "m0 m1"
expect E13 e13 deny 400 $E_MALFORMED "m0 m1"
expect E14 e14 deny 401 $NODEC m0
expect E15 e15 deny 401 $E_DENY "m0 m1"
expect E16 e16 deny 401 $NODEC "m0 m1"
expect E19 e19 deny 401 $NODEC "m0 m1"
expect E20 e20 allow 200 null "m0 m2"
expect E21 e21 deny 401 $E_DENY "m0 m1"
expect E22 e22 deny 401 $E_DENY "m0 m1" # bad jump: perm denied; the first failure is reported
expect E23 e23 allow 200 null "m0 m3"
expect E24 e24 deny 403 $E_FORBIDDEN "m0 m2 m3"
expect E25 e25 deny 401 $E_DENY "m0 m2"
expect E26 e26 deny 403 $E_FORBIDDEN "m0 m2"
expect E27 e27 allow 200 null m0
expect E28 e28 allow 200 null "m0 m1 m2 m3"
expect E29 e29 allow 200 null "m0 m1 m2"
expect E30 e30 deny 503 $E_UNAVAIL "m0 m1"
check_eq "E30: the missing plugin is in the trace as unavailable" \
    "unavailable success" "$(summary "$("$BAST" verify --app e30 --confdir "$CONF" 2>/dev/null)" | cut -d'|' -f7)"
expect E31 e31 allow 200 null "m0 m1"
expect E36 e36 allow 200 null "m0 m1"
expect E37 e37 deny 401 $NODEC m0
expect E38 e38 deny 401 $E_DENY "m0 m1 m2"
expect E39 e39 deny 401 $NODEC "m0 m2"
expect E40 e40 allow 200 null "m0 m1"
expect E42 e42 allow 200 null m0
expect E45 e45 allow 200 null m0
expect E46 e46 deny 401 $E_ABSENT "m0 m1"
nch=$(summary "$("$BAST" verify --app e46 --confdir "$CONF" 2>/dev/null)" | cut -d'|' -f8)
check "E46: an absent result carries a challenge" test "${nch:-0}" -ge 1

# The libpam must-fail rows are load errors in bast, naming file:line.
one_bad() { # one_bad LABEL PATTERN: load conf.d/bad.conf alone
    local label=$1 pat=$2
    expect_load_error "$label" bad "$pat"
    fresh
}
fresh
app bad; mod m0 requird success
one_bad "E17 misspelt flag" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 required success; mod m1 '[success=0 default=ignore]' success
one_bad "E18 jump of 0" 'bad\.conf:[0-9]+.*control'
app bad; mod m0 required success; mod m1 '[SUCCESS=ok]' success
one_bad "E41 bracket words are case-sensitive" 'bad\.conf:[0-9]+.*control'
app bad; sec s substack=nosuchfile; mod m0 required success
one_bad "E34 missing substack file" 'bad\.conf:[0-9]+.*nosuchfile'
app bad; sec i include=nosuchfile; mod m0 sufficient success
one_bad "E35 missing include file" 'bad\.conf:[0-9]+.*nosuchfile'
