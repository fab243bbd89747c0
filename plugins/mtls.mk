LIBS_mtls := -lcrypto
