# the jwt plugin: JWKS over HTTP(S) with libcurl, JSON with jansson.
# -z nodelete: libcurl (initialised implicitly, never globally cleaned up)
# and its TLS-using dependencies must not be unmapped when a context is
# closed and the plugin dlclosed; LeakSanitizer crashes on the stale
# thread-local storage they leave behind, and a reload maps it again anyway.
LIBS_jwt := -lcurl -ljansson -lcrypto -lpthread -lm -Wl,-z,nodelete
# its tests and benchmark live under tests/; tests/*/build.mk does not
# reach them, so they are included from here (each guards a second include)
-include tests/plugins/jwt/build.mk tests/bench/jwt/build.mk
