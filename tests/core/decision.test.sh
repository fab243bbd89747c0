#!/usr/bin/env bash
# How a walk becomes the result: the no-decision rule (a bad credential
# under `sufficient` is named; an absent one is not), challenges only
# from absent/deny modules, attributes and identity only on allow.
. "$TOP/tests/lib.sh"
mkconf "$T/c"
C=$T/c/conf.d
cat > "$C/nodec.conf" <<'CONF'
[app]
realm = r

[a]
plugin = fixed
control = sufficient
result = absent
challenge = Bearer realm="r"

[b]
plugin = fixed
control = sufficient
result = deny
error = invalid_token
challenge = Bearer realm="r", error="invalid_token"

[c]
plugin = fixed
control = sufficient
result = forbidden
challenge = Bearer realm="r", error="insufficient_scope"

[d]
plugin = fixed
control = sufficient
result = unavailable
challenge = Never shown
CONF
verify nodec "$T/c" >/dev/null
check_eq "no decision: the bad credential is named, not the absent one" invalid_token "$(json_get "$out" error)"
check_eq "... status 401" 401 "$(json_get "$out" status)"
check_eq "challenges of absent, deny and forbidden modules, not unavailable" \
    '["Bearer realm=\"r\"", "Bearer realm=\"r\", error=\"invalid_token\"", "Bearer realm=\"r\", error=\"insufficient_scope\""]' "$(json_get "$out" challenges)"

cat > "$C/absent.conf" <<'CONF'
[a]
plugin = fixed
control = sufficient
result = absent
CONF
verify absent "$T/c" >/dev/null
check_eq "only absent modules: 401 missing_credentials" "401 missing_credentials" \
    "$(json_get "$out" status) $(json_get "$out" error)"

cat > "$C/mismatch.conf" <<'CONF'
[first]
plugin = fixed
control = required
result = success
identity = alice

[second]
plugin = fixed
control = required
result = success
identity = bob
CONF
verify mismatch "$T/c" >/dev/null
check_eq "a second principal is forbidden: identity_mismatch 403" "403 identity_mismatch" \
    "$(json_get "$out" status) $(json_get "$out" error)"
check_eq "identity is not reported on deny" null "$(json_get "$out" identity)"
sed -i 's/^identity = bob/identity = bob\nbind_identity = no/' "$C/mismatch.conf"
verify mismatch "$T/c" >/dev/null
check_eq "bind_identity = no: allowed as the first principal" "allow alice" \
    "$(json_get "$out" decision) $(json_get "$out" identity)"

cat > "$C/filter.conf" <<'CONF'
[only-post]
plugin = fixed
control = required
result = deny
methods = post
paths = /admin/* /oauth/token
CONF
verify filter "$T/c" --method POST --path /oauth/token >/dev/null
check_eq "filter matches: the module runs" deny "$(json_get "$out" decision)"
check_eq "... and is in the trace" 1 "$($PY -c 'import json,sys; print(len(json.loads(sys.argv[1])["trace"]))' "$out")"
verify filter "$T/c" --method GET --path /oauth/token >/dev/null
check_eq "other method: not run, stack undecided" "0 missing_credentials" \
    "$($PY -c 'import json,sys; print(len(json.loads(sys.argv[1])["trace"]))' "$out") $(json_get "$out" error)"
verify filter "$T/c" --method POST --path '/x/../%61dmin//users' >/dev/null
check_eq "normalised path /x/../%61dmin//users matches /admin/*" deny "$(json_get "$out" decision)"

# exit codes and several requests through one context
printf '{"path":"/a"}\n{"path":"/b"}\n' > "$T/two.jsonl"
cat > "$C/ok.conf" <<'CONF'
[p]
plugin = permit
control = required
CONF
n=$("$BAST" verify --app ok --confdir "$T/c" --request "$T/two.jsonl" | wc -l); rc=$?
check_eq "JSON lines: one result line per request" 2 "$n"
"$BAST" verify --app ok --confdir "$T/c" --request - <<<'[{"path":"/a"},{"path":"/b"},{"path":"/c"}]' > "$T/o"
check_eq "JSON array: one result line per request" 3 "$(wc -l < "$T/o")"
"$BAST" verify --app ok --confdir "$T/c" --request - <<<'{"path":' >/dev/null 2>&1
check_eq "unparsable request: exit 2" 2 $?
"$BAST" verify --app ok --confdir "$T/c" --bogus >/dev/null 2>&1
check_eq "unknown flag: exit 2" 2 $?
"$BAST" verify --app ok --confdir "$T/c" >/dev/null
check_eq "allow: exit 0" 0 $?
"$BAST" verify --app nodec --confdir "$T/c" >/dev/null
check_eq "deny: exit 1" 1 $?

# audit: one JSON line per decision to the configured sink
printf '[bast]\naudit = %s\n' "$T/audit.jsonl" > "$T/c/bast.conf"
"$BAST" verify --app ok --confdir "$T/c" --request "$T/two.jsonl" >/dev/null
check_eq "audit: one line per decision" 2 "$(wc -l < "$T/audit.jsonl")"
check_eq "audit: the line names app, decision and status" "decision ok allow 200" \
    "$($PY -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r["event"], r["app"], r["decision"], r["status"])' "$T/audit.jsonl")"
check_eq "audit file is created private (0600)" 600 "$(stat -c %a "$T/audit.jsonl")"
printf '[bast]\naudit = somewhere\n' > "$T/c/bast.conf"
msg=$("$BAST" check --confdir "$T/c" 2>&1); rc=$?
check_eq "audit: a relative path is a config error" 2 "$rc"
printf '[bast]\nbogus = 1\n' > "$T/c/bast.conf"
msg=$("$BAST" check --confdir "$T/c" 2>&1); rc=$?
[[ $rc == 2 && $msg == *"bast.conf:2: bogus: unknown key"* ]] && ok "bast.conf: unknown key named with line" || not_ok "bast.conf unknown key: $rc $msg"
rm -f "$T/c/bast.conf"

# a Redis password in bast.conf makes it a secret file
printf '[bast]\nreplay = redis://:pw@127.0.0.1:1/0\n' > "$T/c/bast.conf"
chmod 644 "$T/c/bast.conf"
msg=$("$BAST" check --confdir "$T/c" 2>&1); rc=$?
[[ $rc == 2 && $msg == *"readable by others"* ]] && ok "bast.conf with a replay password must not be readable by others" || not_ok "secret bast.conf: $rc $msg"
rm -f "$T/c/bast.conf"
