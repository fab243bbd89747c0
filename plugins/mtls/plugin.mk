LIBS_mtls := -lcrypto
-include tests/bench/mtls/build.mk
