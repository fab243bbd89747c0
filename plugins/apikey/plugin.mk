# apikey: SQLite store, OpenSSL SHA-256 and CSPRNG, zlib CRC32, jansson for
# admin output and audit fields, a refresh thread per instance.
LIBS_apikey := -lsqlite3 -lcrypto -lz -ljansson -lpthread
# The test and benchmark fragments sit two folders deep, where the
# top-level wildcard does not look; each guards against a second include.
-include tests/plugins/apikey/build.mk tests/bench/apikey/build.mk
