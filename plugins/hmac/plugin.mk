# hmac plugin: OpenSSL for HMAC and digests.  Its test and benchmark
# fragments are included from here because the top Makefile only picks up
# tests/*/build.mk (one level); they guard against a second inclusion.
LIBS_hmac := -lcrypto
-include tests/plugins/hmac/build.mk tests/bench/hmac/build.mk
