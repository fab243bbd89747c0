#!/usr/bin/env bash
# The hmac plugin's aws-sigv4 profile: AWS's published test-suite vectors
# and requests signed by python3-botocore (header and presigned, S3 and
# generic), each with its tampered variants; see sigv4_check.py.
. "$TOP/tests/lib.sh"
. "$TOP/tests/plugins/hmac/hmaclib.sh"
cd "$T" || exit 1
umask 022
mkconf c
printf 'AKIDEXAMPLE aws-example wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n' >c/suite.keys
printf 'AKIDBOTOCORE0001 boto-user botocore-secret/KEY+0123456789abcdefABCDEF\n' >c/boto.keys
chmod 600 c/*.keys
hconf c suite "profile = aws-sigv4" "secrets_file = suite.keys" "region = us-east-1" "service = service"
hconf c eu "profile = aws-sigv4" "secrets_file = suite.keys" "region = eu-west-1"
hconf c boto "profile = aws-sigv4" "secrets_file = boto.keys"
hconf c trust "profile = aws-sigv4" "secrets_file = boto.keys" "trust_declared_body_hash = yes"
$PY "$TOP/tests/plugins/hmac/sigv4_check.py" c
