# apikey unit test: the format, store, index and batch code linked directly
# (no libbast), so it runs even without the core.  Included from
# plugins/apikey/plugin.mk; guarded in case a wildcard includes it too.
ifndef APIKEY_TEST_MK
APIKEY_TEST_MK := 1
APIKEY_UNIT_SRC := tests/plugins/apikey/test_store.c plugins/apikey/key.c \
    plugins/apikey/store.c plugins/apikey/index.c plugins/apikey/usage.c
$(B)/tests/apikey/test_store: $(APIKEY_UNIT_SRC:%.c=$(B)/obj/%.o)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lsqlite3 -lcrypto -lz -lpthread
CHECK_DEPS += $(B)/tests/apikey/test_store
endif
