# tests/bench/mtls: bast_verify() with the mtls plugin against a raw
# X509_verify_cert() of the same chain, and the basic plugin with and
# without its success cache.  Included from plugins/mtls/plugin.mk
# (tests/*/build.mk does not reach this folder); guarded.
ifndef MTLS_BENCH_MK
MTLS_BENCH_MK := 1
$(B)/bench/mtls: $(B)/obj/tests/bench/mtls/bench_mtls.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) -lcrypto -lpthread
BENCH_DEPS += $(B)/bench/mtls
# also run by tests/plugins/mtls/threads.test.sh
CHECK_DEPS += $(B)/bench/mtls
endif
