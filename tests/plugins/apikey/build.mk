# apikey compiled tests: test_store links the format, store, index and
# batch code directly (no libbast); test_threads runs verifies in threads.
# Guarded against a second include.
ifndef APIKEY_TEST_MK
APIKEY_TEST_MK := 1
APIKEY_UNIT_SRC := tests/plugins/apikey/test_store.c plugins/apikey/key.c \
    plugins/apikey/store.c plugins/apikey/index.c plugins/apikey/usage.c
$(B)/tests/apikey/test_store: $(APIKEY_UNIT_SRC:%.c=$(B)/obj/%.o)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lsqlite3 -lcrypto -lz -lpthread
CHECK_DEPS += $(B)/tests/apikey/test_store

# concurrent verifies while the index is swapped: needs libbast
APIKEY_THREADS_SRC := tests/plugins/apikey/test_threads.c \
    plugins/apikey/key.c plugins/apikey/store.c
$(B)/tests/apikey/test_threads: $(APIKEY_THREADS_SRC:%.c=$(B)/obj/%.o) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B)/lib \
	    -Wl,-rpath,'$$ORIGIN/../../lib' -lbast -lsqlite3 -lcrypto -lz -lpthread
CHECK_DEPS += $(B)/tests/apikey/test_threads
endif
