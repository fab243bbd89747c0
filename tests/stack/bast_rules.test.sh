#!/usr/bin/env bash
# Stacking rules bast adds to libpam's (DESIGN.md "Stacking rules"): the
# `binding` flag, the `absent` result, the identity rule and
# bind_identity, what a stack where nothing decided reports, the paths/
# methods filters (the instance answers ignore without running), the
# empty stack, unknown apps and the conf.d/other.conf fallback.
. "$TOP/tests/lib.sh"
. "$TOP/tests/stack/stacklib.sh"

# binding = [success=done ignore=ignore default=bad]
app b1; mod m0 binding success; mod m1 required deny
app b2; mod m0 required deny; mod m1 binding success; mod m2 required success
app b3; mod m0 binding deny; mod m1 required success
app b4; mod m0 binding ignore; mod m1 required success
app b5; mod m0 optional deny; mod m1 binding success; mod m2 required deny
expect "binding success ends the stack" b1 allow 200 null m0
expect "binding success after a failure does not stop" b2 deny 401 access_denied "m0 m1 m2"
expect "binding failure is recorded and the stack goes on" b3 deny 401 access_denied "m0 m1"
expect "binding ignore is ignored" b4 allow 200 null "m0 m1"
expect "binding after an ignored optional failure still ends it" b5 allow 200 null "m0 m1"

# absent is a failure: required absent fails (and does not pass by ignore)
app a1; mod m0 required absent 'challenge=Test realm="stack"'; mod m1 optional success
app a2; mod m0 sufficient absent; mod m1 required success
app a3; mod m0 required absent; mod m1 required deny
expect "required absent fails" a1 deny 401 missing_credentials "m0 m1"
nch=$(summary "$("$BAST" verify --app a1 --confdir "$CONF" 2>/dev/null)" | cut -d'|' -f8)
check "required absent: 401 carries a challenge" test "${nch:-0}" -ge 1
expect "sufficient absent is ignored" a2 allow 200 null "m0 m1"
expect "absent then deny: the first failure decides" a3 deny 401 missing_credentials "m0 m1"

# identity: the first success sets the principal; another one is forbidden
app i1; mod m0 required success identity=alice; mod m1 required success identity=bob
app i2; mod m0 required success identity=alice
mod m1 required success identity=bob bind_identity=no
app i3; mod m0 required success identity=alice; mod m1 optional success identity=bob
app i4; mod m0 required success identity=alice; mod m1 sufficient success identity=bob
mod m2 required success
app i5; mod m0 required success identity=alice; mod m1 required success identity=alice
app i6; mod m0 optional success identity=alice; mod m1 required success identity=bob
expect "identity mismatch under required" i1 deny 403 identity_mismatch "m0 m1"
check_eq "identity mismatch: the module is the second one" m1 "$(echo "$S" | cut -d'|' -f5)"
check_eq "identity mismatch: trace says forbidden" "success forbidden" "$(echo "$S" | cut -d'|' -f7)"
expect "bind_identity = no accepts another principal" i2 allow 200 null "m0 m1"
check_eq "bind_identity = no: the first principal stays" alice "$(echo "$S" | cut -d'|' -f4)"
expect "identity mismatch under optional is ignored" i3 allow 200 null "m0 m1"
check_eq "optional mismatch: identity alice" alice "$(echo "$S" | cut -d'|' -f4)"
expect "identity mismatch under sufficient is ignored, stack goes on" i4 allow 200 null "m0 m1 m2"
check_eq "sufficient mismatch: identity alice" alice "$(echo "$S" | cut -d'|' -f4)"
expect "the same principal twice is fine" i5 allow 200 null "m0 m1"
check_eq "same principal: identity alice" alice "$(echo "$S" | cut -d'|' -f4)"
expect "an optional success also sets the principal" i6 deny 403 identity_mismatch "m0 m1"

# no decision: the first failure a flag ignored, else missing_credentials
app n1; mod m0 sufficient deny
app n2; mod m0 optional ignore; mod m1 sufficient ignore
app n3; mod m0 optional malformed; mod m1 sufficient deny
app n4; mod m0 sufficient forbidden; mod m1 optional ignore
app n5; mod m0 '[success=ok ignore=ok default=bad]' ignore
expect "invalid credential under sufficient reads its own error" n1 deny 401 access_denied m0
check_eq "no decision: the module named is the one that failed" m0 "$(echo "$S" | cut -d'|' -f5)"
expect "only ignores: missing_credentials" n2 deny 401 missing_credentials "m0 m1"
expect "no decision: the first ignored failure wins" n3 deny 400 invalid_request "m0 m1"
expect "no decision with forbidden: 403" n4 deny 403 forbidden "m0 m1"
expect "final status ignore (ignore=ok) denies" n5 deny 401 missing_credentials m0
app n6; mod m0 sufficient deny error=invalid_token; mod m1 optional absent error=other
expect "an invalid token under sufficient reads 401 invalid_token" n6 deny 401 invalid_token "m0 m1"

# challenges: every absent/deny/forbidden/malformed module's challenge is
# collected; a successful or unavailable module's is dropped
app c1; mod m0 sufficient absent 'challenge=Bearer realm="a"'
mod m1 sufficient deny 'challenge=Basic realm="a"'
mod m2 optional unavailable 'challenge=Dropped realm="a"'
mod m3 required absent 'challenge=HMAC realm="a"'
expect "challenges: deny 401 from the required absent" c1 deny 401 missing_credentials "m0 m1 m2 m3"
check_eq "challenges: absent and deny ones collected, in order, not unavailable's" \
    '["Bearer realm=\"a\"", "Basic realm=\"a\"", "HMAC realm=\"a\""]' "$(json_get "$out" challenges)"
app c2; mod m0 required success 'challenge=Bearer realm="a"'
expect "challenges: none on allow from a successful module" c2 allow 200 null m0
check_eq "challenges: empty list" '[]' "$(json_get "$out" challenges)"

# filters: a request that does not match gets ignore, the plugin not run
app f1; mod m0 required deny 'paths=/admin/* /oauth/token'; mod m1 required success
app f2; mod m0 required deny methods=POST; mod m1 required success
app f3; mod m0 required success methods=POST
app f4; mod m0 sufficient success 'paths=/public/*' methods=GET; mod m1 required deny
expect "paths: not matched, not run" f1 allow 200 null m1 --path /public/x
expect "paths: glob matched, runs" f1 deny 401 access_denied "m0 m1" --path /admin/users
expect "paths: exact path matched, runs" f1 deny 401 access_denied "m0 m1" --path /oauth/token
expect "methods: GET skips a POST-only module" f2 allow 200 null m1 --method GET --path /
expect "methods: POST runs it" f2 deny 401 access_denied "m0 m1" --method POST --path /
expect "a stack whose only module is filtered out denies" f3 deny 401 missing_credentials - --method GET --path /
expect "paths: percent-encoded path cannot dodge the filter" f1 deny 401 access_denied "m0 m1" --path /%61dmin/users
expect "paths: dot segments cannot dodge the filter" f1 deny 401 access_denied "m0 m1" --path /public/../admin/x
expect "paths: doubled slashes cannot dodge the filter" f1 deny 401 access_denied "m0 m1" --path //admin//x
expect "paths and methods both must match" f4 deny 401 access_denied "m1" --method POST --path /public/a
expect "paths and methods matched: sufficient ends it" f4 allow 200 null m0 --method GET --path /public/a

# empty stack, unknown app, other.conf
app empty
expect "empty stack denies" empty deny 401 missing_credentials -
out=$("$BAST" verify --app nosuchapp --confdir "$CONF" 2>/dev/null); rc=$?
S=$(summary "$out")
check_eq "unknown app: denied (exit 1)" 1 "$rc"
check_eq "unknown app: deny 401 unknown_app" "deny|401|unknown_app" "$(echo "$S" | cut -d'|' -f1-3)"
app other; mod fallback required success identity=guest
expect "other.conf serves unknown apps" nosuchapp allow 200 null fallback
check_eq "other.conf: identity from its stack" guest "$(echo "$S" | cut -d'|' -f4)"
expect "a known app does not use other.conf" i5 allow 200 null "m0 m1"
