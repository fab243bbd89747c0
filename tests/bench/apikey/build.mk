# apikey benchmark: bast_verify() with 100,000 keys against a raw SHA-256
# of the same key.  Guarded against a second include.
ifndef APIKEY_BENCH_MK
APIKEY_BENCH_MK := 1
APIKEY_BENCH_SRC := tests/bench/apikey/bench_apikey.c plugins/apikey/key.c \
    plugins/apikey/store.c
$(B)/bench/apikey: $(APIKEY_BENCH_SRC:%.c=$(B)/obj/%.o) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) -lsqlite3 -lcrypto -lz -lpthread
BENCH_DEPS += $(B)/bench/apikey
endif
