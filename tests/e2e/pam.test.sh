#!/usr/bin/env bash
# pam_bast.so through the real libpam: a driver using pam_start_confdir()
# with a conversation function, and pamtester with a service file of its
# own in /etc/pam.d (created and removed here).  fixed-plugin stacks:
# identity equal to the user, mismatch, map file (and an unsafe one),
# allow_any, deny, unavailable, bad arguments, empty password.  apikey
# (when built): right key, wrong key, revoked key, another user's key,
# header=X-Api-Key, account re-verification (revoked between auth and
# account), account scope, account=stored, account without auth; jwt
# (when built): the user's token, another subject's, an expired one, and
# one that expires between auth and account.  The
# key never appears in what the module logs.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/e2elib.sh"
cd "$T" || exit 1
umask 022
DRV=$E2E/pam_driver
MOD=$B/lib/pam_bast.so
export PAM_DRIVER_LOG=$T/syslog

mkdir -p pamd
mkconf c
fixed() { printf '[app]\nrealm = mail\n\n[m]\nplugin = fixed\ncontrol = required\nresult = %s\n%s\n' "$2" "${3:-}" >"c/conf.d/$1.conf"; }
fixed fx success "identity = alice"
fixed fxdeny deny "error = invalid_token"
fixed fxdown unavailable "error = store_unavailable"
svc() { # svc NAME LINES... (module lines; MOD expanded)
    local n=$1; shift
    printf '%s\n' "$@" >"pamd/$n"
}
drive() { out=$("$DRV" "$T/pamd" "$@" 2>&1); rc=$?; }

svc fx "auth required $MOD app=fx confdir=$T/c"
drive fx alice whatever
check_eq "identity == PAM_USER: success" "auth: Success" "$out"
check_eq "exit 0" 0 "$rc"
drive fx bob whatever
check_eq "identity != PAM_USER: failure" "auth: Authentication failure" "$out"
check "mismatch logged with both names" grep -q "user=bob: identity 'alice' does not match" syslog
drive fx alice ""
check_eq "empty password: failure" "auth: Authentication failure" "$out"

printf '# identity  users\nalice bob  carol\n' >map
chmod 644 map
svc fxmap "auth required $MOD app=fx confdir=$T/c map=$T/map"
drive fxmap carol x
check_eq "map: alice may log in as carol" "auth: Success" "$out"
drive fxmap dave x
check_eq "map: but not as dave" "auth: Authentication failure" "$out"
chmod 666 map
drive fxmap carol x
check_eq "map: world-writable map refused (fail closed)" "auth: Authentication service cannot retrieve authentication info" "$out"
chmod 644 map

svc fxrel "auth required $MOD app=fx confdir=$T/c map=map"
drive fxrel carol x
check_eq "map: a relative path is a configuration error" "auth: Error in service module" "$out"
svc fxany "auth required $MOD app=fx confdir=$T/c allow_any"
drive fxany dave x
check_eq "allow_any: any verified identity" "auth: Success" "$out"
svc fxdeny "auth required $MOD app=fxdeny confdir=$T/c allow_any"
drive fxdeny alice x
check_eq "stack denies: failure" "auth: Authentication failure" "$out"
svc fxdown "auth required $MOD app=fxdown confdir=$T/c"
drive fxdown alice x
check_eq "stack unavailable (503): authinfo unavailable" "auth: Authentication service cannot retrieve authentication info" "$out"
svc badarg "auth required $MOD app=fx confdir=$T/c bogus=1"
drive badarg alice x
check_eq "unknown module argument: service error" "auth: Error in service module" "$out"
svc noapp "auth required $MOD confdir=$T/c"
drive noapp alice x
check_eq "no app=: service error" "auth: Error in service module" "$out"
svc badconf "auth required $MOD app=fx confdir=$T/nonexistent"
drive badconf alice x
check_eq "unloadable configuration: authinfo unavailable" "auth: Authentication service cannot retrieve authentication info" "$out"
svc acctonly "account required $MOD app=fx confdir=$T/c"
drive acctonly alice x acctonly
check_eq "account without bast auth: denied" "acct: Permission denied" "$out"
svc acctok "account required /lib/x86_64-linux-gnu/security/pam_permit.so" "account required $MOD app=fx confdir=$T/c missing_ok"
if [ -f /lib/x86_64-linux-gnu/security/pam_permit.so ]; then
    drive acctok alice x acctonly
    check_eq "account without bast auth, missing_ok: ignored" "acct: Success" "$out"
fi

# ---- JWT as the password ------------------------------------------------------
if have_plugin jwt && $PY -c 'import jwt' 2>/dev/null; then
    mkconf j
    chmod 700 j
    head -c 48 /dev/urandom | base64 | tr -d '\n=+/' >j/jwt.secret
    chmod 600 j/jwt.secret
    printf '[app]\nrealm = vpn\n\n[bearer]\nplugin = jwt\ncontrol = required\nalgorithms = HS256\nhmac_secret_file = jwt.secret\nleeway = 0\n' >j/conf.d/vpn.conf
    chmod 600 j/conf.d/vpn.conf
    mint() { $PY -c 'import jwt,sys,time
n=int(time.time())
print(jwt.encode({"sub":sys.argv[2],"iat":n,"exp":n+int(sys.argv[3]),"scope":"vpn:connect"}, open(sys.argv[1]).read().strip(), "HS256"))' j/jwt.secret "$@"; }
    svc vpn "auth required $MOD app=vpn confdir=$T/j" "account required $MOD app=vpn confdir=$T/j scope=vpn:connect"
    drive vpn alice "$(mint alice 300)" acct
    check_eq "jwt: token for the user, auth and account (scope claim)" "auth: Success
acct: Success" "$out"
    drive vpn bob "$(mint alice 300)"
    check_eq "jwt: token for another subject" "auth: Authentication failure" "$out"
    drive vpn alice "$(mint alice -10)"
    check_eq "jwt: expired token" "auth: Authentication failure" "$out"
    PAM_DRIVER_BETWEEN="sleep 2.5" drive vpn alice "$(mint alice 2)" acct
    check_eq "jwt: expired between auth and account: account expired" "auth: Success
acct: User account has expired" "$out"
else
    skip "jwt plugin or python3-jwt missing: JWT password tests"
fi

if ! have_plugin apikey; then
    skip "apikey plugin not built: key tests"
    exit 0
fi
mkconf k
chmod 700 k
printf '[app]\nrealm = mail\n\n[keys]\nplugin = apikey\ncontrol = required\nstore = sqlite:keys.db\nrefresh = 1\n' >k/conf.d/mail.conf
issue() { "$BAST" apikey --app mail --module keys --confdir "$T/k" issue --json "$@" 2>/dev/null; }
keyof() { $PY -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
j=$(issue --user alice --name laptop --scopes "mail:read")
KEY=$(keyof key <<<"$j"); KID=$(keyof id <<<"$j")
j=$(issue --user carol --name other)
CKEY=$(keyof key <<<"$j")
j=$(issue --user alice --name old)
RKEY=$(keyof key <<<"$j"); RID=$(keyof id <<<"$j")
"$BAST" apikey --app mail --module keys --confdir "$T/k" revoke "$RID" >/dev/null 2>&1
check "keys issued" test -n "$KEY" -a -n "$CKEY" -a -n "$RKEY"

svc mail "auth required $MOD app=mail confdir=$T/k" "account required $MOD app=mail confdir=$T/k scope=mail:read"
: >syslog
drive mail alice "$KEY" acct
check_eq "apikey: right key, auth and account" "auth: Success
acct: Success" "$out"
drive mail alice "$(tamper "$KEY")"
check_eq "apikey: wrong key" "auth: Authentication failure" "$out"
drive mail alice "$RKEY"
check_eq "apikey: revoked key" "auth: Authentication failure" "$out"
check "revocation logged" grep -q 'user=alice: denied 401 revoked' syslog
drive mail alice "$CKEY"
check_eq "apikey: carol's key for alice (identity mismatch)" "auth: Authentication failure" "$out"
drive mail carol "$CKEY"
check_eq "apikey: carol's key for carol, but account lacks the scope" "auth: Success" "$(head -1 <<<"$out")"
drive mail carol "$CKEY" acct
check_eq "apikey: account scope missing: permission denied" "acct: Permission denied" "$(tail -1 <<<"$out")"
check "no key in the log" bash -c "! grep -qF -e '${KEY:5:20}' -e '${CKEY:5:20}' -e '${RKEY:5:20}' syslog"
check "the log names app and user" grep -q 'app=mail user=alice' syslog

svc hdr "auth required $MOD app=mail confdir=$T/k header=X-Api-Key"
drive hdr alice "$KEY"
check_eq "header=X-Api-Key: the raw key in that header" "auth: Success" "$out"

svc reauth "auth required $MOD app=mail confdir=$T/k" "account required $MOD app=mail confdir=$T/k"
svc stored "auth required $MOD app=mail confdir=$T/k" "account required $MOD app=mail confdir=$T/k account=stored"
j=$(issue --user alice --name revoke-me)
K2=$(keyof key <<<"$j"); K2ID=$(keyof id <<<"$j")
j=$(issue --user alice --name revoke-me-too)
K3=$(keyof key <<<"$j"); K3ID=$(keyof id <<<"$j")
rev() { echo "'$BAST' apikey --app mail --module keys --confdir '$T/k' revoke $1 >/dev/null 2>&1; sleep 2.2"; }
PAM_DRIVER_BETWEEN=$(rev "$K2ID") drive reauth alice "$K2" acct
check_eq "account re-verifies: key revoked after auth is refused" "auth: Success
acct: Permission denied" "$out"
PAM_DRIVER_BETWEEN=$(rev "$K3ID") drive stored alice "$K3" acct
check_eq "account=stored: only what auth kept is checked" "auth: Success
acct: Success" "$out"

# ---- pamtester (uses /etc/pam.d) --------------------------------------------
if ! command -v pamtester >/dev/null; then
    skip "pamtester not installed"
    exit 0
fi
if [ ! -w /etc/pam.d ]; then
    skip "pamtester: /etc/pam.d not writable (not root)"
    exit 0
fi
S=bast-e2e-$$
printf 'auth required %s app=mail confdir=%s\naccount required %s app=mail confdir=%s\n' "$MOD" "$T/k" "$MOD" "$T/k" >/etc/pam.d/$S
at_exit "rm -f /etc/pam.d/$S"
pt() {
    local pre
    pre=$(san_preload)
    out=$(printf '%s\n' "$2" | LD_PRELOAD=$pre ASAN_OPTIONS=detect_leaks=0 pamtester "$S" "$1" authenticate acct_mgmt 2>&1); rc=$?
}
pt alice "$KEY"
check_eq "pamtester: right key" 0 "$rc"
check "pamtester: reports success" grep -q 'successfully authenticated' <<<"$out"
pt alice "$(tamper "$KEY")"
check_eq "pamtester: wrong key fails" 1 "$rc"
check "pamtester: Authentication failure" grep -q 'Authentication failure' <<<"$out"
pt alice "$RKEY"
check_eq "pamtester: revoked key fails" 1 "$rc"
pt alice "$CKEY"
check_eq "pamtester: another user's key fails" 1 "$rc"
pt carol "$CKEY"
check_eq "pamtester: the key's own user" 0 "$rc"
