# hmac benchmark: bast_verify() of the `bast` profile (memory and Redis
# replay stores) against raw SHA-256 + HMAC-SHA256.  Included from
# plugins/hmac/plugin.mk; guarded against a second inclusion.
ifndef HMAC_BENCH_MK
HMAC_BENCH_MK := 1
$(B)/bench/hmac: $(B)/obj/tests/bench/hmac/bench_hmac.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) -lcrypto -lpthread
BENCH_DEPS += $(B)/bench/hmac
endif
