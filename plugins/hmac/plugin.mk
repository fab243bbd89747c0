# hmac plugin: OpenSSL for HMAC and digests, SQLite for the sealed store.  Its test and benchmark
# fragments are included from here because the top Makefile only picks up
# tests/*/build.mk (one level); they guard against a second inclusion.
LIBS_hmac := -lcrypto -lsqlite3
-include tests/plugins/hmac/build.mk tests/bench/hmac/build.mk
