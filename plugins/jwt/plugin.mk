# the jwt plugin: JWKS over HTTP(S) with libcurl, JSON with jansson
LIBS_jwt := -lcurl -ljansson -lcrypto -lpthread -lm
# its tests and benchmark live under tests/; tests/*/build.mk does not
# reach them, so they are included from here (each guards a second include)
-include tests/plugins/jwt/build.mk tests/bench/jwt/build.mk
