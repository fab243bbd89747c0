#!/usr/bin/env bash
# jwt: the RFC 7515 Appendix A.1-A.3 examples verify end to end through
# `bast verify` (at --now before their exp) and fail once one byte changes;
# A.4 (ES512) and RFC 8037 A.4 (Ed25519) sign text, not claims: their
# signatures are checked by test_jwt_jose, here they must be denied as
# tokens.  After exp the examples read token_expired.
. "$TOP/tests/lib.sh"
J=$TOP/tests/plugins/jwt
mkconf "$T/c"
cp "$J/rfc7515.jwks" "$T/c/keys.jwks"
cat >"$T/c/conf.d/api.conf" <<'CONF'
[app]
realm = rfc

[bearer]
plugin = jwt
control = required
jwks_file = keys.jwks
algorithms = HS256 RS256 ES256 ES512 EdDSA
identity_claim = iss
CONF
grep -v '^#' "$J/rfc_tokens.txt" | awk '{print $1, $3}' >"$T/tokens"
# one byte changed in each part of each example
$PY - "$T/tokens" >"$T/tokens2" <<'PY'
import sys
for line in open(sys.argv[1]):
    name, tok = line.split()
    h, p, s = tok.split(".")
    flip = lambda x, i: x[:i] + ("B" if x[i] == "A" else "A") + x[i + 1:]
    print(name + "-hdr", ".".join([flip(h, 5), p, s]))
    print(name + "-pay", ".".join([h, flip(p, len(p) // 2), s]))
    print(name + "-sig", ".".join([h, p, flip(s, 10)]))
PY
cat "$T/tokens2" >>"$T/tokens"
cases() {
    local n
    for n in A.1-HS256 A.2-RS256 A.3-ES256; do
        echo "{\"name\": \"$n verifies\", \"token\": \"$n\", \"expect\": {\"result\": \"success\", \"identity\": \"joe\", \"status\": 200}}"
        for part in hdr pay sig; do
            echo "{\"name\": \"$n with one byte changed ($part)\", \"token\": \"$n-$part\", \"expect\": {\"result\": \"deny\", \"status\": 401, \"challenge\": \"error=\\\"invalid_token\\\"\"}}"
        done
    done
    for n in A.4-ES512 RFC8037-A.4-EdDSA; do
        echo "{\"name\": \"$n (text payload) is no JWT\", \"token\": \"$n\", \"expect\": {\"result\": \"deny\", \"error\": \"invalid_token\"}}"
        echo "{\"name\": \"$n with one byte changed\", \"token\": \"$n-sig\", \"expect\": {\"result\": \"deny\", \"error\": \"invalid_token\"}}"
    done
}
cases | $PY "$J/table.py" "$BAST" api "$T/c" "$T/tokens" --now 1300819000
# after exp (1300819380) plus the 60 s leeway
cases | grep -F 'verifies"' | sed 's/"result": "success", "identity": "joe", "status": 200/"result": "deny", "error": "token_expired"/; s/verifies"/expired after exp"/' |
    $PY "$J/table.py" "$BAST" api "$T/c" "$T/tokens" --now 1300819441
# still inside the leeway
cases | grep -F 'verifies"' | sed 's/verifies"/verifies inside the leeway"/' |
    $PY "$J/table.py" "$BAST" api "$T/c" "$T/tokens" --now 1300819430
