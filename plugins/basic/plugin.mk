LIBS_basic := -lcrypt -lcrypto -ljansson
