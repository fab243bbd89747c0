# apikey: SQLite store, OpenSSL SHA-256 and CSPRNG, zlib CRC32, jansson for
# admin output and audit fields, a refresh thread per instance.  Its tests
# and benchmark hook in through tests/plugins/apikey/build.mk and
# tests/bench/apikey/build.mk.
LIBS_apikey := -lsqlite3 -lcrypto -lz -ljansson -lpthread
